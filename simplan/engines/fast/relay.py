"""Relays: a touch left waiting `relay.idle_days` passes to the least-loaded other rep of
its replication, one lead after another (each move changes the loads the next one sees),
compiled with numba because it is a loop over leads."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def relay_owners(
    owner: np.ndarray,
    team_size: int,
    open_leads: np.ndarray,
    capacity: np.ndarray,
    pipeline: np.ndarray,
    expected_pipeline: np.ndarray,
    value: np.ndarray,
    expected: np.ndarray,
) -> np.ndarray:
    """New owners of the stale leads (current `owner`, in the order they are relayed).

    Each goes to the rep of its owner's replication (reps r n .. r n + n - 1 of the tiled
    team) with the least open leads per unit of capacity, not its owner unless alone; ties
    go to the lower rep, as in the reference. Moves each lead's `value` and `expected`
    value and its count in `pipeline`, `expected_pipeline` and `open_leads` (in place).
    """
    new_owner = np.empty(len(owner), dtype=np.int64)
    for k in range(len(owner)):
        old = owner[k]
        first = old - old % team_size
        best, best_load = old, np.inf
        for rep in range(first, first + team_size):
            if rep == old and team_size > 1:
                continue
            load = open_leads[rep] / capacity[rep]
            if load < best_load:
                best, best_load = rep, load
        new_owner[k] = best
        pipeline[old] -= value[k]
        pipeline[best] += value[k]
        expected_pipeline[old] -= expected[k]
        expected_pipeline[best] += expected[k]
        open_leads[old] -= 1.0
        open_leads[best] += 1.0
    return new_owner

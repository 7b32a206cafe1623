"""Relays: a touch left waiting `relay.idle_days` passes to the least-loaded other rep of
its replication, one lead after another (each move changes the loads the next one sees),
compiled with numba because it is a loop over leads."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.table import EXPECTED, OWNER, RANK, RELAYS, REQUESTED, VALUE


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


@numba.njit(cache=True)
def relay_stale(stale, day, team_size, floats, ints, counts, open_leads, capacity, pipeline,
                expected_pipeline):  # fmt: skip
    """Relay the `stale` leads on `day`, in order of owner, request time and rank (an
    insertion sort: they come by owner and request time already), each to its new owner
    (`relay_owners`), its relays counted and its touch requested anew (the lead table's
    blocks, in place). Returns the leads in that order with their request times and owners,
    to join the queues."""
    order = stale.copy()
    for a in range(1, len(order)):
        lead = order[a]
        o, at, rank = ints[lead, OWNER], floats[lead, REQUESTED], ints[lead, RANK]
        b = a
        while b > 0:
            prev = order[b - 1]
            po, pat = ints[prev, OWNER], floats[prev, REQUESTED]
            if po < o or (po == o and (pat < at or (pat == at and ints[prev, RANK] < rank))):
                break
            order[b] = prev
            b -= 1
        order[b] = lead
    n = len(order)
    owner, value, expected = np.empty(n, dtype=np.int64), np.empty(n), np.empty(n)
    for k in range(n):
        i = order[k]
        owner[k], value[k], expected[k] = ints[i, OWNER], floats[i, VALUE], floats[i, EXPECTED]
    owner = relay_owners(
        owner, team_size, open_leads, capacity, pipeline, expected_pipeline, value, expected
    )
    requested = np.empty(n)
    for k in range(n):
        i = order[k]
        ints[i, OWNER] = owner[k]
        counts[i, RELAYS] += 1
        floats[i, REQUESTED] = requested[k] = day
    return order, requested, owner

"""Serving the day's queues: each rep works its waiting touches first-in first-out, one
after another, as a single server in working hours (the fast engine's form of the
reference's touch resource), compiled with numba because it is a loop over touches."""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def serve_queues(
    requested: np.ndarray,
    owner: np.ndarray,
    lead: np.ndarray,
    free: np.ndarray,
    duration: np.ndarray,
    until: float,
    close: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The waiting touches (requested at, owner, lead id) each rep serves before `until`.

    A rep takes its touches in order of request (then lead id), each starting when both
    the rep is free and the touch is requested, taking `duration[rep]` days; it starts
    only those that start before `until` and end by `close` (the end of working hours).
    Updates `free` (when each rep is next free) in place; returns the served touches'
    positions in the input, rep by rep in the order served, and when each ends.
    """
    reps = len(free)
    first = np.zeros(reps + 1, dtype=np.int64)
    for i in range(len(owner)):
        if requested[i] < until and free[owner[i]] < until:
            first[owner[i] + 1] += 1
    for r in range(reps):
        first[r + 1] += first[r]
    queue = np.empty(first[reps], dtype=np.int64)
    filled = first[:reps].copy()
    for i in range(len(owner)):
        if requested[i] < until and free[owner[i]] < until:
            queue[filled[owner[i]]] = i
            filled[owner[i]] += 1
    served = np.empty(len(queue), dtype=np.int64)
    ends = np.empty(len(queue))
    k = 0
    for r in range(reps):
        lo, hi = first[r], first[r + 1]
        for a in range(lo + 1, hi):  # insertion sort by (requested, lead): nearly sorted
            i = queue[a]
            b = a - 1
            while b >= lo and (
                requested[queue[b]] > requested[i]
                or (requested[queue[b]] == requested[i] and lead[queue[b]] > lead[i])
            ):
                queue[b + 1] = queue[b]
                b -= 1
            queue[b + 1] = i
        end = free[r]
        for a in range(lo, hi):
            i = queue[a]
            start = max(requested[i], end)
            if start >= until or start + duration[r] > close:
                break  # starts only grow along the queue: no later touch fits either
            end = start + duration[r]
            served[k] = i
            ends[k] = end
            k += 1
        free[r] = end
    return served[:k], ends[:k]

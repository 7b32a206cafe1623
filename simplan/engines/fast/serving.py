"""Serving the day's queues: each rep works its waiting touches first-in first-out, one
after another, as a single server in working hours (the fast engine's form of the
reference's touch resource), compiled with numba because it is a loop over touches.

The waiting touches are kept as one list sorted by (owner, requested, lead id): each rep's
queue is a contiguous run in service order, so a pass reads the list once, in order, and
new requests are merged in rather than the list sorted again.
"""

from __future__ import annotations

import numba
import numpy as np


class Queues:
    """Every rep's waiting touches: lead ids with their request times and owners, sorted by
    (owner, requested, lead); the touches joined since the last pass wait beside them, sorted
    alike, and are merged in by that pass."""

    def __init__(self) -> None:
        empty = np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64)
        self.lead, self.requested, self.owner = empty
        self.new = empty

    def join(self, lead: np.ndarray, requested: np.ndarray, owner: np.ndarray) -> None:
        """Add touches (a lead not already waiting) to their owners' queues."""
        self._merge()
        order = np.lexsort((lead, requested, owner))
        self.new = lead[order], requested[order], owner[order]

    def _merge(self) -> None:
        if len(self.new[0]):
            self.lead, self.requested, self.owner = merge_queues(
                self.lead, self.requested, self.owner, *self.new
            )
            self.new = self.new[0][:0], self.new[1][:0], self.new[2][:0]

    def take(self, mask: np.ndarray) -> np.ndarray:
        """Remove the touches where `mask` (over `lead`, once merged) holds; returns their leads."""
        taken = self.lead[mask]
        keep = ~mask
        self.lead, self.requested, self.owner = (
            self.lead[keep],
            self.requested[keep],
            self.owner[keep],
        )
        return taken

    def waiting(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every waiting touch (lead, requested, owner), merged, in service order."""
        self._merge()
        return self.lead, self.requested, self.owner

    def serve(
        self,
        free: np.ndarray,
        duration: np.ndarray,
        until: float,
        close: float,
        mode: np.ndarray,
        finished: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`serve_queues` on the list and the touches just joined, in one pass that merges
        them and keeps the touches not served."""
        served, ends, self.lead, self.requested, self.owner = serve_queues(
            self.lead, self.requested, self.owner, *self.new,
            free, duration, until, close, mode, finished,
        )  # fmt: skip
        self.new = self.new[0][:0], self.new[1][:0], self.new[2][:0]
        return served, ends


@numba.njit(cache=True)
def _old_next(
    i: int,
    lead: np.ndarray,
    requested: np.ndarray,
    owner: np.ndarray,
    j: int,
    new_lead: np.ndarray,
    new_requested: np.ndarray,
    new_owner: np.ndarray,
) -> bool:
    """Whether a merge of two lists sorted by (owner, requested, lead), at position i of
    the first and j of the second, takes the first's next."""
    if j >= len(new_lead):
        return True
    if i >= len(lead):
        return False
    if owner[i] != new_owner[j]:
        return owner[i] < new_owner[j]
    if requested[i] != new_requested[j]:
        return requested[i] < new_requested[j]
    return lead[i] < new_lead[j]


@numba.njit(cache=True)
def merge_queues(
    lead: np.ndarray,
    requested: np.ndarray,
    owner: np.ndarray,
    new_lead: np.ndarray,
    new_requested: np.ndarray,
    new_owner: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two lists sorted by (owner, requested, lead) merged into one."""
    n, m = len(lead), len(new_lead)
    out_lead = np.empty(n + m, dtype=np.int64)
    out_requested = np.empty(n + m)
    out_owner = np.empty(n + m, dtype=np.int64)
    i = j = 0
    for k in range(n + m):
        if _old_next(i, lead, requested, owner, j, new_lead, new_requested, new_owner):
            out_lead[k], out_requested[k], out_owner[k] = lead[i], requested[i], owner[i]
            i += 1
        else:
            out_lead[k], out_requested[k] = new_lead[j], new_requested[j]
            out_owner[k] = new_owner[j]
            j += 1
    return out_lead, out_requested, out_owner


@numba.njit(cache=True)
def serve_queues(
    lead: np.ndarray,
    requested: np.ndarray,
    owner: np.ndarray,
    new_lead: np.ndarray,
    new_requested: np.ndarray,
    new_owner: np.ndarray,
    free: np.ndarray,
    duration: np.ndarray,
    until: float,
    close: float,
    mode: np.ndarray,
    finished: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The waiting touches (two lists, each sorted by owner, requested, lead) each rep
    serves before `until`.

    A rep takes its touches in order of request (then lead id), each starting when both
    the rep is free and the touch is requested, taking `duration[rep]` days; it starts
    only those that start before `until` and end by `close` (the end of working hours).
    Updates `free` (when each rep is next free) and the served leads' `mode` (a column
    of the leads, set to `finished`) in place; returns the served leads, rep by rep in the
    order served, when each ends, and the touches not served (one list, still sorted).
    """
    n, m = len(lead), len(new_lead)
    served = np.empty(n + m, dtype=np.int64)
    ends = np.empty(n + m)
    out_lead = np.empty(n + m, dtype=np.int64)
    out_requested = np.empty(n + m)
    out_owner = np.empty(n + m, dtype=np.int64)
    i = j = s = kept = 0
    rep, end, blocked = -1, 0.0, False
    while i < n or j < m:
        if _old_next(i, lead, requested, owner, j, new_lead, new_requested, new_owner):
            who, at, o = lead[i], requested[i], owner[i]
            i += 1
        else:
            who, at, o = new_lead[j], new_requested[j], new_owner[j]
            j += 1
        if o != rep:  # the next rep's queue
            if rep >= 0:
                free[rep] = end
            rep, end, blocked = o, free[o], False
        if not blocked:
            start = max(at, end)
            # Starts only grow along the queue: once one does not fit, no later touch does.
            blocked = start >= until or start + duration[o] > close
            if not blocked:
                end = start + duration[o]
                served[s], ends[s] = who, end
                mode[who] = finished
                s += 1
                continue
        out_lead[kept], out_requested[kept], out_owner[kept] = who, at, o
        kept += 1
    if rep >= 0:
        free[rep] = end
    return served[:s], ends[:s], out_lead[:kept], out_requested[:kept], out_owner[:kept]

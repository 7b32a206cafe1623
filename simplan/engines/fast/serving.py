"""Serving the day's queues: each rep works its waiting touches first-in first-out, one
after another, as a single server in working hours (the fast engine's form of the
reference's touch resource), compiled with numba because it is a loop over touches.

The waiting touches are kept in two lists sorted by (owner, requested, lead id), each rep's
queue a contiguous run of each (its segment) with a head: the touches before a head are
served. A rep serves a prefix of its queue in service order, which is a prefix of its
segment in either list, so a pass moves heads and reads only what it serves, not the whole
backlog. New requests are merged into the short list (`recent`), which is folded into the
long one (`main`) once it grows past a share of it.
"""

from __future__ import annotations

import numba
import numpy as np

FOLD_SHARE = 0.25
"""`recent` is folded into `main` once it holds more than this share of `main`'s touches
(plus FOLD_MIN): merging a pass's requests costs `recent`'s length, folding `main`'s."""
FOLD_MIN = 1024


class _Sorted:
    """Touches sorted by (owner, requested, lead); rep r's segment is offsets[r]:offsets[r + 1],
    its waiting touches head[r]:offsets[r + 1]."""

    def __init__(
        self, lead: np.ndarray, requested: np.ndarray, owner: np.ndarray, reps: int
    ) -> None:
        self.lead, self.requested, self.owner = lead, requested, owner
        self.offsets = np.searchsorted(owner, np.arange(reps + 1)).astype(np.int64)
        self.head = self.offsets[:-1].copy()

    @classmethod
    def empty(cls, reps: int) -> _Sorted:
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64), reps)

    def merged(self, other: _Sorted) -> _Sorted:
        """The waiting touches of both lists as one list (all of it waiting)."""
        lead, requested, owner = merge_waiting(
            self.lead, self.requested, self.owner, self.offsets, self.head,
            other.lead, other.requested, other.owner, other.offsets, other.head,
        )  # fmt: skip
        return _Sorted(lead, requested, owner, len(self.head))


class Queues:
    """Every rep's waiting touches (lead ids with their request times and owners) in service
    order: by owner, then request time, then lead id."""

    def __init__(self) -> None:
        self.reps = 0
        self.main, self.recent = _Sorted.empty(0), _Sorted.empty(0)

    def _grow(self, reps: int) -> None:
        """Room for reps up to `reps - 1` (the queues learn the reps from their touches)."""
        if reps > self.reps:
            main = self._all()
            self.main = _Sorted(main.lead, main.requested, main.owner, reps)
            self.recent = _Sorted.empty(reps)
            self.reps = reps

    def _all(self) -> _Sorted:
        """Both lists' waiting touches in one (`main`; `recent` empty)."""
        if self.recent.lead.size or (self.main.head != self.main.offsets[:-1]).any():
            self.main = self.main.merged(self.recent)
            self.recent = _Sorted.empty(self.reps)
        return self.main

    def join(self, lead: np.ndarray, requested: np.ndarray, owner: np.ndarray) -> None:
        """Add touches (a lead not already waiting) to their owners' queues."""
        if not len(lead):
            return
        self._grow(int(owner.max()) + 1)
        order = np.lexsort((lead, requested, owner))
        new = _Sorted(lead[order], requested[order], owner[order], self.reps)
        self.recent = self.recent.merged(new)
        if len(self.recent.lead) > FOLD_SHARE * len(self.main.lead) + FOLD_MIN:
            self.main = self.main.merged(self.recent)
            self.recent = _Sorted.empty(self.reps)

    def take(self, mask: np.ndarray) -> np.ndarray:
        """Remove the touches where `mask` (over `waiting()`'s lead) holds; returns their leads."""
        main = self._all()
        taken = main.lead[mask]
        keep = ~mask
        self.main = _Sorted(main.lead[keep], main.requested[keep], main.owner[keep], self.reps)
        return taken

    def waiting(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every waiting touch (lead, requested, owner), in service order."""
        main = self._all()
        return main.lead, main.requested, main.owner

    def serve(
        self,
        free: np.ndarray,
        duration: np.ndarray,
        until: float,
        close: float,
        mode: np.ndarray,
        finished: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`serve_queues` on both lists: moves their heads past the touches served."""
        m, r = self.main, self.recent
        return serve_queues(
            m.lead, m.requested, m.offsets, m.head, r.lead, r.requested, r.offsets, r.head,
            free, duration, until, close, mode, finished,
        )  # fmt: skip


@numba.njit(cache=True)
def _first_next(
    i: int, lead: np.ndarray, requested: np.ndarray, j: int, lead2: np.ndarray,
    requested2: np.ndarray,
) -> bool:  # fmt: skip
    """Whether a merge of one rep's two segments sorted by (requested, lead), at position i
    of the first (not at its end) and j of the second (not at its end), takes the first's."""
    if requested[i] != requested2[j]:
        return requested[i] < requested2[j]
    return lead[i] < lead2[j]


@numba.njit(cache=True)
def _waiting(offsets: np.ndarray, head: np.ndarray, offsets2: np.ndarray, head2: np.ndarray) -> int:
    """How many touches of two lists wait (each rep's from its head to its segment's end)."""
    total = 0
    for r in range(len(head)):
        total += offsets[r + 1] - head[r] + offsets2[r + 1] - head2[r]
    return total


@numba.njit(cache=True)
def merge_waiting(
    lead: np.ndarray,
    requested: np.ndarray,
    owner: np.ndarray,
    offsets: np.ndarray,
    head: np.ndarray,
    lead2: np.ndarray,
    requested2: np.ndarray,
    owner2: np.ndarray,
    offsets2: np.ndarray,
    head2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The waiting touches (from each rep's head to its segment's end) of two lists sorted
    by (owner, requested, lead), merged into one sorted list."""
    reps = len(head)
    total = _waiting(offsets, head, offsets2, head2)
    out_lead = np.empty(total, dtype=np.int64)
    out_requested = np.empty(total)
    out_owner = np.empty(total, dtype=np.int64)
    k = 0
    for r in range(reps):
        i, stop, j, stop2 = head[r], offsets[r + 1], head2[r], offsets2[r + 1]
        while i < stop or j < stop2:
            if j >= stop2 or (i < stop and _first_next(i, lead, requested, j, lead2, requested2)):
                out_lead[k], out_requested[k], out_owner[k] = lead[i], requested[i], owner[i]
                i += 1
            else:
                out_lead[k], out_requested[k], out_owner[k] = lead2[j], requested2[j], owner2[j]
                j += 1
            k += 1
    return out_lead, out_requested, out_owner


@numba.njit(cache=True)
def serve_queues(
    lead: np.ndarray,
    requested: np.ndarray,
    offsets: np.ndarray,
    head: np.ndarray,
    lead2: np.ndarray,
    requested2: np.ndarray,
    offsets2: np.ndarray,
    head2: np.ndarray,
    free: np.ndarray,
    duration: np.ndarray,
    until: float,
    close: float,
    mode: np.ndarray,
    finished: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The waiting touches (two lists, each sorted by owner, requested, lead, rep r's from
    `head[r]` to `offsets[r + 1]`) each rep serves before `until`.

    A rep takes its touches in order of request (then lead id), each starting when both
    the rep is free and the touch is requested, taking `duration[rep]` days; it starts
    only those that start before `until` and end by `close` (the end of working hours).
    Updates `free` (when each rep is next free), the heads (past the touches served) and the
    served leads' `mode` (a column of the leads, set to `finished`) in place; returns the
    served leads, rep by rep in the order served, and when each ends.
    """
    reps = len(head)
    most = _waiting(offsets, head, offsets2, head2)
    served = np.empty(most, dtype=np.int64)
    ends = np.empty(most)
    s = 0
    for r in range(reps):
        i, stop, j, stop2 = head[r], offsets[r + 1], head2[r], offsets2[r + 1]
        if i == stop and j == stop2:
            continue
        end, step = free[r], duration[r]
        while i < stop or j < stop2:
            first = j >= stop2 or (
                i < stop and _first_next(i, lead, requested, j, lead2, requested2)
            )
            who, at = (lead[i], requested[i]) if first else (lead2[j], requested2[j])
            start = max(at, end)
            # Starts only grow along the queue: once one does not fit, no later touch does.
            if start >= until or start + step > close:
                break
            end = start + step
            served[s], ends[s] = who, end
            mode[who] = finished
            s += 1
            if first:
                i += 1
            else:
                j += 1
        free[r] = end
        head[r], head2[r] = i, j
    return served[:s], ends[:s]

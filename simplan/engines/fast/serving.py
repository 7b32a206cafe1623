"""Serving the day's queues: each rep works its waiting touches first-in first-out, one
after another, as a single server in working hours (the fast engine's form of the
reference's touch resource), compiled with numba because it is a loop over touches.

Each rep's queue is a row of a (reps, room) table, its touches kept in service order
(requested, then lead id) from the row's `start` for `count` places: a new request is
inserted in place (usually at the end: requests come in time order), a pass serves a prefix
of each row and moves its start. So a pass reads only the touches it serves and inserts,
never the whole backlog; a row that runs out of room shifts back to its first place, and
the table doubles its room when a row is full.
"""

from __future__ import annotations

import numba
import numpy as np

ROOM = 16
"""Places a rep's row starts with (doubled for every rep when one rep needs more)."""


class Queues:
    """Every rep's waiting touches (lead ids with their request times) in service order: by
    request time, then lead id. The rows grow to the reps their touches name. Touches
    requested since the last pass wait in `pending` (`fill` of them) until they join."""

    def __init__(self, room: int = 1024) -> None:
        """Room for `room` pending requests from the start (see `Waits`)."""
        self.lead = np.zeros((0, ROOM), dtype=np.int64)
        self.requested = np.zeros((0, ROOM))
        self.start = np.zeros(0, dtype=np.int64)
        self.count = np.zeros(0, dtype=np.int64)
        self.pending, self.fill = np.zeros(room, dtype=np.int64), np.zeros(1, dtype=np.int64)

    def room(self, k: int) -> None:
        """Room for `k` pending requests in all (a lead is requested at most once at a time)."""
        if k > len(self.pending):
            grown = np.zeros(max(2 * len(self.pending), k), dtype=np.int64)
            grown[: self.fill[0]] = self.pending[: self.fill[0]]
            self.pending = grown

    def _resize(self, reps: int, room: int) -> None:
        """Rows for `reps` reps with `room` places each, the waiting touches kept in place."""
        old_reps, old_room = self.lead.shape
        lead, requested = np.zeros((reps, room), dtype=np.int64), np.zeros((reps, room))
        lead[:old_reps, :old_room], requested[:old_reps, :old_room] = self.lead, self.requested
        self.lead, self.requested = lead, requested
        self.start = np.concatenate([self.start, np.zeros(reps - old_reps, dtype=np.int64)])
        self.count = np.concatenate([self.count, np.zeros(reps - old_reps, dtype=np.int64)])

    def join(self, lead: np.ndarray, requested: np.ndarray, owner: np.ndarray) -> None:
        """Add touches (a lead not already waiting) to their owners' queues."""
        if not len(lead):
            return
        reps = max(int(owner.max()) + 1, len(self.start))
        if reps > len(self.start):
            self._resize(reps, self.lead.shape[1])
        done = 0
        while done < len(lead):
            done = enqueue(
                lead, requested, owner, done, self.lead, self.requested, self.start, self.count
            )
            if done < len(lead):  # a full row: double every row's room
                self._resize(reps, 2 * self.lead.shape[1])

    def waiting(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every waiting touch (lead, requested, owner), in service order rep by rep."""
        return flat_queues(self.lead, self.requested, self.start, self.count)

    def take_stale(self, day: float, idle_days: float) -> np.ndarray:
        """Remove the touches waiting `idle_days` or more on `day` (day - requested); returns
        their leads in `waiting()`'s order."""
        return take_stale(self.lead, self.requested, self.start, self.count, day, idle_days)

    def serve(
        self,
        free: np.ndarray,
        duration: np.ndarray,
        until: float,
        close: float,
        mode: np.ndarray,
        finished: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """`serve_queues` on the rows: moves their starts past the touches served."""
        return serve_queues(
            self.lead, self.requested, self.start, self.count,
            free, duration, until, close, mode, finished,
        )  # fmt: skip


@numba.njit(cache=True)
def enqueue(
    lead: np.ndarray,
    requested: np.ndarray,
    owner: np.ndarray,
    first: int,
    rows: np.ndarray,
    rows_requested: np.ndarray,
    start: np.ndarray,
    count: np.ndarray,
) -> int:
    """Insert touches `first`, `first + 1`, ... into their owners' rows in service order
    (requested, then lead); stops at a touch whose row is full and returns its index (the
    number of touches, once all are in)."""
    room = rows.shape[1]
    for k in range(first, len(lead)):
        r = owner[k]
        if count[r] == room:
            return k
        if start[r] + count[r] == room:  # no place after the row's last: shift it back
            for a in range(count[r]):
                rows[r, a] = rows[r, start[r] + a]
                rows_requested[r, a] = rows_requested[r, start[r] + a]
            start[r] = 0
        at, who = requested[k], lead[k]
        place = start[r] + count[r]
        while place > start[r] and (
            rows_requested[r, place - 1] > at
            or (rows_requested[r, place - 1] == at and rows[r, place - 1] > who)
        ):
            rows[r, place] = rows[r, place - 1]
            rows_requested[r, place] = rows_requested[r, place - 1]
            place -= 1
        rows[r, place], rows_requested[r, place] = who, at
        count[r] += 1
    return len(lead)


@numba.njit(cache=True)
def join_pending(
    pending: np.ndarray,
    fill: np.ndarray,
    requested: np.ndarray,
    owner: np.ndarray,
    rows: np.ndarray,
    rows_requested: np.ndarray,
    start: np.ndarray,
    count: np.ndarray,
) -> bool:
    """`enqueue` the `fill[0]` pending touches (leads; `requested` and `owner` are the leads'
    columns). Returns False, those not joined left pending, when a row is full or an owner
    has no row yet (`Queues.join` then makes room)."""
    n = fill[0]
    lead = pending[:n].copy()
    for k in range(n):
        if owner[lead[k]] >= len(start):
            return False
    done = enqueue(lead, requested[lead], owner[lead], 0, rows, rows_requested, start, count)
    fill[0] = n - done
    pending[: n - done] = lead[done:]
    return done == n


@numba.njit(cache=True)
def flat_queues(
    rows: np.ndarray, rows_requested: np.ndarray, start: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows' waiting touches as one list (lead, requested, owner), rep by rep in order."""
    lead = np.empty(count.sum(), dtype=np.int64)
    requested, owner = np.empty(len(lead)), np.empty(len(lead), dtype=np.int64)
    k = 0
    for r in range(len(start)):
        for place in range(start[r], start[r] + count[r]):
            lead[k], requested[k], owner[k] = rows[r, place], rows_requested[r, place], r
            k += 1
    return lead, requested, owner


@numba.njit(cache=True)
def take_stale(
    rows: np.ndarray,
    rows_requested: np.ndarray,
    start: np.ndarray,
    count: np.ndarray,
    day: float,
    idle_days: float,
) -> np.ndarray:
    """Remove the waiting touches with day - requested >= idle_days, the others kept in
    order; returns the leads removed, rep by rep in service order (`flat_queues`' order)."""
    taken = np.empty(count.sum(), dtype=np.int64)
    t = 0
    for r in range(len(start)):
        kept = start[r]
        for place in range(start[r], start[r] + count[r]):
            if day - rows_requested[r, place] >= idle_days:
                taken[t] = rows[r, place]
                t += 1
            else:
                rows[r, kept], rows_requested[r, kept] = rows[r, place], rows_requested[r, place]
                kept += 1
        count[r] = kept - start[r]
    return taken[:t]


@numba.njit(cache=True)
def serve_queues(
    rows: np.ndarray,
    rows_requested: np.ndarray,
    start: np.ndarray,
    count: np.ndarray,
    free: np.ndarray,
    duration: np.ndarray,
    until: float,
    close: float,
    mode: np.ndarray,
    finished: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The waiting touches (rep r's in row r from `start[r]` for `count[r]` places, in order
    of request, then lead id) each rep serves before `until`.

    A rep takes its touches in order, each starting when both the rep is free and the touch
    is requested, taking `duration[rep]` days; it starts only those that start before
    `until` and end by `close` (the end of working hours). Updates `free` (when each rep is
    next free), the rows' starts and counts (past the touches served) and the served leads'
    `mode` (a column of the leads, set to `finished`) in place; returns the served leads,
    rep by rep in the order served, and when each ends.
    """
    served = np.empty(count.sum(), dtype=np.int64)
    ends = np.empty(len(served))
    s = 0
    for r in range(len(start)):
        if count[r] == 0:
            continue
        end, step = free[r], duration[r]
        place, stop = start[r], start[r] + count[r]
        while place < stop:
            begin = max(rows_requested[r, place], end)
            # Starts only grow along the queue: once one does not fit, no later touch does.
            if begin >= until or begin + step > close:
                break
            end = begin + step
            who = rows[r, place]
            served[s], ends[s] = who, end
            mode[who] = finished
            s += 1
            place += 1
        free[r] = end
        count[r] -= place - start[r]
        start[r] = place if count[r] else 0
    return served[:s], ends[:s]

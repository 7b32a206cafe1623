"""A day's passes compiled: the working hours' slices, each with its passes (the customers'
answers, then the queues served) and the day's last answers, as one call, so a day far
from a period's end leaves compiled code once. Python is handed back only a pass's part it
must do (the owners' timing decisions, new split credits, room for the queues), with where
the day stands, and calls again from there."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.answers import answer_pass
from simplan.engines.fast.touches import serve_pass

SLICES = 4
"""Working hours are served in this many slices, so a follow-up requested early in the day
can take a rep's idle time later that day."""
PASSES = 6
"""Passes over a slice's queues: a touch's follow-up due in the slice is served in the next."""

FINISHED, PUSHES_LEFT, SERVED_LEFT = range(3)
"""What `day_passes` hands back: the day done; an answer pass's signatures its owners may
hold (`_timing`, then `after_pushes`; then the serving pass of the same place); a serving
pass's rest (its status: JOIN_LEFT, then the same pass again; else the timing decisions
or closes, then the next place)."""


@numba.njit(cache=True)
def next_place(s: int, p: int, done: int) -> tuple[int, int]:
    """The (slice, pass) after pass p of slice s served `done` touches: a slice ends after
    PASSES passes or a pass that served none; slice SLICES + 1 is the day's last answers."""
    if done == 0 or p + 1 == PASSES:
        return s + 1, 0
    return s, p + 1


@numba.njit(cache=True)
def day_passes(
    s: int,
    p: int,
    serving: bool,
    start: float,
    length: float,
    tomorrow: float,
    close: float,
    free: np.ndarray,
    duration: np.ndarray,
    queues: tuple,
    today: tuple,
    effort: np.ndarray,
    leads: tuple,
    books: tuple,
    lists: tuple,
    credits: tuple,
    rules,
    may_pull: bool,
    may_push: bool,
):
    """The day's passes from pass p of slice s (its serving pass alone with `serving`):
    slice s's passes answer the customers whose wait ends before `start + length s /
    SLICES` and serve the touches requested by then (`serve_pass`, ending by `close`), the
    day's last answers are those before `tomorrow`. Returns what is left to Python
    (FINISHED, PUSHES_LEFT, SERVED_LEFT), the place (s, p), and the pass's results: for an
    answer pass its deals (leads, when), for a serving pass what `serve_pass` returns."""
    none, nothing = np.zeros(0, dtype=np.int64), np.zeros(0)
    while True:
        until = tomorrow if s > SLICES else start + length * s / SLICES
        if not serving:
            ids, t = answer_pass(until, effort, leads, books, lists, rules, may_push)
            if len(ids):
                return PUSHES_LEFT, s, p, 0, 0, ids, t, nothing, none, nothing
            if s > SLICES:
                return FINISHED, s, p, 0, 0, none, nothing, nothing, none, nothing
        serving = False
        done, status, asked, at, signs_at, signing, signed_at = serve_pass(
            queues, free, duration, until, close, today, leads, books, lists, credits, rules,
            may_pull,
        )  # fmt: skip
        if status:
            return SERVED_LEFT, s, p, done, status, asked, at, signs_at, signing, signed_at
        s, p = next_place(s, p, done)

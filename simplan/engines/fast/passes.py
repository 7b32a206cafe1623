"""A day's passes compiled: the working hours' slices, each with its passes (the customers'
answers, then the queues served) and the day's last answers, as one call, so a day leaves
compiled code once, the owners' deal-timing decisions near a period's end included (the
reps' rule, `Standing`'s `timing_moves`, compiled). Python is handed back only what a pass
cannot do (new split credits, room for the queues), with where the day stands, and calls
again from there."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.answers import after_pushes, answer_pass
from simplan.engines.fast.table import OWNER, U_TIMING, VALUE
from simplan.engines.fast.touches import CLOSES_LEFT, TIMING_ASKED, after_pulls, serve_pass
from simplan.engines.standing import timing_moves

SLICES = 4
"""Working hours are served in this many slices, so a follow-up requested early in the day
can take a rep's idle time later that day."""
PASSES = 6
"""Passes over a slice's queues: a touch's follow-up due in the slice is served in the next."""

FINISHED, SERVED_LEFT = range(2)
"""What `day_passes` hands back: the day done; a serving pass's rest (its status: JOIN_LEFT,
then the same pass again; else CLOSES_LEFT, its signatures' closes, then the next place)."""


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
    timing: tuple,
):
    """The day's passes from pass p of slice s (its serving pass alone with `serving`):
    slice s's passes answer the customers whose wait ends before `start + length s /
    SLICES` and serve the touches requested by then (`serve_pass`, ending by `close`), the
    day's last answers are those before `tomorrow`; the deals whose owners may time them
    (with `may_push`, `may_pull`) are decided by `timing_moves` on `timing`
    (`Standing.timing_state`). Returns what is left to Python (FINISHED, SERVED_LEFT), the
    place (s, p), and the serving pass's count, status and signatures (leads, when)."""
    none, nothing = np.zeros(0, dtype=np.int64), np.zeros(0)
    floats, ints = leads[0], leads[1]
    while True:
        until = tomorrow if s > SLICES else start + length * s / SLICES
        if not serving:
            ids, t = answer_pass(until, effort, leads, books, lists, rules, may_push)
            if len(ids):  # signatures their owners may hold for next period
                held = owners_decide(False, ids, t, nothing, floats, ints, timing)
                after_pushes(ids, t, held, leads, lists, rules)
            if s > SLICES:
                return FINISHED, s, p, 0, 0, none, nothing
        serving = False
        done, status, asked, at, signs_at, signing, signed_at = serve_pass(
            queues, free, duration, until, close, today, leads, books, lists, credits, rules,
            may_pull,
        )  # fmt: skip
        if status & TIMING_ASKED:  # winners their owners may have sign before the period end
            pulled = owners_decide(True, asked, at, signs_at, floats, ints, timing)
            closed = after_pulls(
                asked, at, pulled, signing, signed_at, leads, books, lists, credits, rules
            )
            status = 0 if closed else CLOSES_LEFT
        if status:
            return SERVED_LEFT, s, p, done, status, signing, signed_at
        s, p = next_place(s, p, done)


@numba.njit(cache=True)
def owners_decide(pull, ids, t, signs_at, floats, ints, timing):  # fmt: skip
    """`timing_moves` for leads `ids` decided at `t` (due to sign at `signs_at` with `pull`):
    their owners, values, days and own uniforms read from the lead table."""
    n = len(ids)
    reps, amounts = np.empty(n, dtype=np.int64), np.empty(n)
    days, u = np.empty(n, dtype=np.int64), np.empty(n)
    for k in range(n):
        i = ids[k]
        reps[k], amounts[k], u[k] = ints[i, OWNER], floats[i, VALUE], floats[i, U_TIMING]
        days[k] = int(t[k])
    return timing_moves(pull, reps, amounts, days, signs_at, u, timing)

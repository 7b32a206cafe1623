"""An answer pass compiled: every customer whose wait ends answers, lead by lead in order
of arrival: lost, the next touch asked for, or the negotiation's end (the close decided by
the owner's effort, a loss saved by the close-out offer). Only the owners' decisions to
hold a deal for next period (`Standing`, near a period's end) wait for Python, between
`answer_pass` and `after_pushes`."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.book import close, request, take_due, wait
from simplan.engines.fast.table import (
    ALERT,
    ALERTS,
    ANSWERED,
    CONTACTED,
    DONE,
    FATE,
    FOLLOW_UP,
    LEVER_COST,
    MODE,
    NEGOTIATED,
    NEGOTIATION,
    OWNER,
    P_WON,
    PROPOSAL,
    RANK,
    SIGN,
    SIGNS,
    THEN,
    TIER,
    TIMING,
    U_WIN,
)
from simplan.model.production import closing_chance
from simplan.model.records import LOST, PUSHED

ANSWER_GROUPS = (CONTACTED, ANSWERED, SIGNS, ALERT, NEGOTIATED)
"""After the lost (group 0), the groups of `answers_by_outcome`, 1 to 5: what a wait that
ends leads to (a proposal, a negotiation, a signature, a follow-up, the negotiation's end)."""
NEXT_TOUCH = (PROPOSAL, NEGOTIATION, SIGN, FOLLOW_UP)
"""The touch groups 1 to 4 ask for."""


@numba.njit(cache=True)
def answer_pass(
    until: float, effort: np.ndarray, leads: tuple, books: tuple, lists: tuple, rules,
    may_push: bool,
):  # fmt: skip
    """Every customer waiting today whose wait ends before `until` answers (`effort` is the
    reps' effort by day). With `may_push`, the deals whose negotiation ended and that sign
    are left to their owners (Python); returns those (leads, when), none without it."""
    floats, ints, codes, counts = leads[0], leads[1], leads[2], leads[3]
    ids, due, kept = take_due(lists[0], lists[1], lists[2][0], until)
    lists[2][0] = kept
    ids, due, bounds = answers_by_outcome(
        ids, due, ints[:, RANK], codes[:, THEN], codes[:, FATE], codes[:, MODE], DONE
    )
    for a in range(bounds[1]):
        close(ids[a], due[a], LOST, leads, books)
    for g in range(1, 5):
        kind = NEXT_TOUCH[g - 1]
        for a in range(bounds[g], bounds[g + 1]):
            if kind == FOLLOW_UP:
                counts[ids[a], ALERTS] += 1
            request(ids[a], kind, due[a], floats, codes, lists)
    signing = np.empty(bounds[6] - bounds[5], dtype=np.int64)
    n = 0
    for a in range(bounds[5], bounds[6]):
        if negotiated(ids[a], due[a], effort, leads, books, rules):
            signing[n] = a
            n += 1
    if may_push:
        return ids[signing[:n]], due[signing[:n]]
    for a in signing[:n]:
        request(ids[a], SIGN, due[a], floats, codes, lists)
    return ids[:0], due[:0]


@numba.njit(cache=True, inline="always")
def negotiated(i: int, t: float, effort: np.ndarray, leads: tuple, books: tuple, rules) -> bool:
    """The negotiation ends at `t`: the owner's effort that day decides the close
    (`closing_chance`), a loss may be saved by the close-out offer (at its cost). Returns
    whether the deal signs (a lost one is closed)."""
    floats, ints, codes = leads[0], leads[1], leads[2]
    day = min(int(t), rules.days - 1)
    p = floats[i, P_WON]
    closing = closing_chance(
        p, effort[day, ints[i, OWNER]], rules.closing_elasticity, rules.lost_negotiation
    )
    if floats[i, U_WIN] < closing:
        return True
    if rules.offer and rules.offer_tier[codes[i, TIER]] and rules.close_out[day]:
        # The offer lifts p; the band just above p (late losses) turns into wins.
        lifted = min(p * (1 + rules.offer_uplift), p + (1 - p) * rules.lost_negotiation)
        if floats[i, U_WIN] < lifted:
            floats[i, LEVER_COST] += rules.offer_cost
            return True
    close(i, t, LOST, leads, books)
    return False


@numba.njit(cache=True)
def after_pushes(
    ids: np.ndarray, t: np.ndarray, pushed: np.ndarray, leads: tuple, lists: tuple, rules
) -> None:
    """The deals `answer_pass` left to their owners, once decided: a held deal signs when its
    period ends, the others are signed with one more touch."""
    floats, codes = leads[0], leads[2]
    for k in range(len(ids)):
        if pushed[k]:
            codes[ids[k], TIMING] = PUSHED
            wait(ids[k], rules.end_day[int(t[k])], SIGNS, codes, lists)
        else:
            request(ids[k], SIGN, t[k], floats, codes, lists)


@numba.njit(cache=True)
def answers_by_outcome(
    ids: np.ndarray,
    due: np.ndarray,
    rank: np.ndarray,
    then: np.ndarray,
    fate: np.ndarray,
    mode: np.ndarray,
    done: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The customers answering (`ids`, when each wait ends `due`; `rank`, `then`, `fate`
    and `mode` are the leads' columns) in order of arrival, grouped: lost (a customer lost
    after contact or proposal), then each of ANSWER_GROUPS, each group in order of arrival.

    Marks them `done` in `mode`; returns the leads, their times, and where each group
    starts (its 7 bounds: group g is bounds[g]:bounds[g + 1]).
    """
    order = np.argsort(rank[ids])
    k = len(ids)
    code = np.empty(k, dtype=np.int64)
    bounds = np.zeros(7, dtype=np.int64)
    for a in range(k):
        lead = ids[order[a]]
        mode[lead] = done
        t, f = then[lead], fate[lead]
        if (t == CONTACTED and f == 0) or (t == ANSWERED and f == 1):
            g = 0
        else:
            g = 1
            while ANSWER_GROUPS[g - 1] != t:
                g += 1
        code[a] = g
        bounds[g + 1] += 1
    for g in range(6):
        bounds[g + 1] += bounds[g]
    place = bounds[:6].copy()
    out_ids = np.empty(k, dtype=np.int64)
    out_due = np.empty(k)
    for a in range(k):
        g = code[a]
        out_ids[place[g]], out_due[place[g]] = ids[order[a]], due[order[a]]
        place[g] += 1
    return out_ids, out_due, bounds

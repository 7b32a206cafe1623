"""An answer pass compiled: every customer whose wait ends answers, lead by lead in order
of arrival: lost, the next touch asked for, or the negotiation's end (the close decided by
the owner's effort, a loss saved by the close-out offer). The owners' decisions to hold a
deal for next period (near a period's end, `Standing`'s compiled `timing_moves`) come
between `answer_pass` and `after_pushes` (`passes.day_passes`)."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.book import close_all, moves, request_all, take_due, wait_all
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
    are left to their owners (`timing_moves`); returns those (leads, when), none without it."""
    floats, ints, codes, counts = leads[0], leads[1], leads[2], leads[3]
    days, elasticity, negotiation = rules.days, rules.closing_elasticity, rules.lost_negotiation
    offer, uplift, cost = rules.offer, rules.offer_uplift, rules.offer_cost
    offer_tier, close_out = rules.offer_tier, rules.close_out
    ids, due, kept = take_due(lists[0], lists[1], lists[2][0], until)
    lists[2][0] = kept
    ids, due, bounds = answers_by_outcome(
        ids, due, ints[:, RANK], codes[:, THEN], codes[:, FATE], codes[:, MODE], DONE
    )
    n = len(ids)
    lost, lost_at = np.empty(n, dtype=np.int64), np.empty(n)
    asks, ask_kind, ask_at = moves(n)[3:]
    n_lost = n_asks = 0
    for a in range(bounds[1]):
        lost[n_lost], lost_at[n_lost] = ids[a], due[a]
        n_lost += 1
    for g in range(1, 5):
        kind = NEXT_TOUCH[g - 1]
        for a in range(bounds[g], bounds[g + 1]):
            if kind == FOLLOW_UP:
                counts[ids[a], ALERTS] += 1
            asks[n_asks], ask_kind[n_asks], ask_at[n_asks] = ids[a], kind, due[a]
            n_asks += 1
    signing, n_signing = np.empty(bounds[6] - bounds[5], dtype=np.int64), 0
    for a in range(bounds[5], bounds[6]):  # the negotiations end
        i, t = ids[a], due[a]
        day = min(int(t), days - 1)
        tier = codes[i, TIER]
        end = negotiation_end(
            floats[i, P_WON], floats[i, U_WIN], effort[day, ints[i, OWNER]], elasticity,
            negotiation, offer and offer_tier[tier] and close_out[day], uplift,
        )  # fmt: skip
        if end == LOSES:
            lost[n_lost], lost_at[n_lost] = i, t
            n_lost += 1
            continue
        if end == SAVED:
            floats[i, LEVER_COST] += cost
        signing[n_signing] = a
        n_signing += 1
    close_all(lost, lost_at, n_lost, LOST, leads, books)
    signing = signing[:n_signing]
    if not may_push:
        for a in signing:
            asks[n_asks], ask_kind[n_asks], ask_at[n_asks] = ids[a], SIGN, due[a]
            n_asks += 1
    request_all(asks, ask_kind, ask_at, n_asks, floats, codes, lists)
    if may_push:
        return ids[signing], due[signing]
    return ids[:0], due[:0]


SIGNS_NOW, SAVED, LOSES = range(3)
"""How a negotiation ends (`negotiation_end`)."""


@numba.njit(cache=True)
def negotiation_end(
    p: float,
    u: float,
    effort: float,
    elasticity: float,
    negotiation_share: float,
    offer: bool,
    offer_uplift: float,
) -> int:
    """A deal with win chance `p` and the customer's uniform `u` at the end of its
    negotiation: the owner's `effort` that day decides the close (`closing_chance`); a loss
    may be saved by the close-out offer where it applies (`offer`: it lifts p, and the band
    just above p, the late losses, turns into wins). SIGNS_NOW, SAVED or LOSES."""
    if u < closing_chance(p, effort, elasticity, negotiation_share):
        return SIGNS_NOW
    if offer and u < min(p * (1 + offer_uplift), p + (1 - p) * negotiation_share):
        return SAVED
    return LOSES


@numba.njit(cache=True)
def after_pushes(
    ids: np.ndarray, t: np.ndarray, pushed: np.ndarray, leads: tuple, lists: tuple, rules
) -> None:
    """The deals `answer_pass` left to their owners, once decided: a held deal signs when its
    period ends, the others are signed with one more touch."""
    floats, codes, end_day, n = leads[0], leads[2], rules.end_day, len(ids)
    waits, wait_until, wait_then, asks, ask_kind, ask_at = moves(n)
    n_waits = n_asks = 0
    for k in range(n):
        if pushed[k]:
            codes[ids[k], TIMING] = PUSHED
            waits[n_waits], wait_until[n_waits], wait_then[n_waits] = (
                ids[k],
                end_day[int(t[k])],
                SIGNS,
            )
            n_waits += 1
        else:
            asks[n_asks], ask_kind[n_asks], ask_at[n_asks] = ids[k], SIGN, t[k]
            n_asks += 1
    wait_all(waits, wait_until, wait_then, n_waits, codes, lists)
    request_all(asks, ask_kind, ask_at, n_asks, floats, codes, lists)


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
    and `mode` are the leads' columns) grouped: lost (a customer lost after contact or
    proposal), then each of ANSWER_GROUPS. The lost and the negotiations' ends (the last
    group) in order of arrival, as their closes move the owners' pipelines, summed in that
    order; the others as given (each becomes a request, and a queue orders its own).

    Marks them `done` in `mode`; returns the leads, their times, and where each group
    starts (its 7 bounds: group g is bounds[g]:bounds[g + 1]).
    """
    k = len(ids)
    code = np.empty(k, dtype=np.int64)
    bounds = np.zeros(7, dtype=np.int64)
    for a in range(k):
        lead = ids[a]
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
        out_ids[place[g]], out_due[place[g]] = ids[a], due[a]
        place[g] += 1
    for g in (0, 5):
        first, last = bounds[g], bounds[g + 1]
        order = np.argsort(rank[out_ids[first:last]]) + first
        out_ids[first:last], out_due[first:last] = out_ids[order], out_due[order]
    return out_ids, out_due, bounds

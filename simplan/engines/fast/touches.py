"""A serving pass compiled: each rep works its waiting touches, then each touch's stage rule
(first response, proposal, follow-up, negotiation, signature) runs lead by lead, with no
Python between touches. Only the owners' deal-timing decisions (`Standing`, near a
period's end) wait for Python, between `serve_pass` and `after_pulls`."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.book import close_won, request, wait
from simplan.engines.fast.serving import serve_queues
from simplan.engines.fast.table import (
    ALERT,
    ANSWER,
    ANSWERED,
    CONTACT,
    CONTACTED,
    CYCLE,
    DONE,
    EXPECTED,
    FATE,
    FOLLOW_UP,
    KIND,
    MODE,
    NEGOTIATED,
    NEGOTIATION,
    OWNER,
    P_WON,
    PROPOSAL,
    RESPONSE_H,
    SIGN,
    SIGNS,
    STAGE,
    TIER,
    TIME,
    TIMING,
    U_WIN,
    VALUE,
    P,
)
from simplan.model.leads import lost_at, response_factor
from simplan.model.records import PULLED

TIMING_ASKED, CLOSES_LEFT = 1, 2
"""What `serve_pass` leaves to Python (bits of its status): the owners' timing decisions
(then `after_pulls`), the won deals' closes (then `Bookkeeping._close_won`)."""


@numba.njit(cache=True)
def serve_pass(
    queues: tuple,
    free: np.ndarray,
    duration: np.ndarray,
    until: float,
    close: float,
    today: tuple,
    leads: tuple,
    books: tuple,
    lists: tuple,
    credits: tuple,
    rules,
    may_pull: bool,
):
    """One pass of the day's queues (`serve_queues`: each rep's touches requested before
    `until`, first-in first-out, ending by `close`), then every touch's rule, kind by kind
    in the order served (first responses, proposals, follow-ups, negotiations, signatures).

    `today` is (win skill, cycle multiplier, touches done today) per rep. A winner at
    contact, proposal or negotiation may be pulled by its owner: with `may_pull` its fate is
    left to Python. Returns how many touches were done, the status (TIMING_ASKED,
    CLOSES_LEFT bits), the winners to decide on (leads, when, when each would sign) and the
    signatures (leads, when).
    """
    floats, ints, codes = leads[0], leads[1], leads[2]
    win_skill, cycle_mult, touches = today
    done, t = serve_queues(
        queues[0], queues[1], queues[2], queues[3], free, duration, until, close,
        codes[:, MODE], DONE,
    )  # fmt: skip
    ids, at, bounds = touches_by_kind(done, t, codes[:, KIND], ints[:, OWNER], touches)
    asked = np.empty(len(done), dtype=np.int64)
    signs_at = np.empty(len(done))
    n_asked = 0
    for a in range(bounds[CONTACT], bounds[NEGOTIATION + 1]):
        i, now, kind = ids[a], at[a], codes[ids[a], KIND]
        if kind == CONTACT:
            contacted(i, now, floats, ints, codes, books, win_skill, cycle_mult, rules)
        elif kind == PROPOSAL:
            codes[i, STAGE] = 1
        elif kind == NEGOTIATION:
            codes[i, STAGE] = 2
        if codes[i, FATE] == 3 and kind != FOLLOW_UP:
            asked[n_asked], signs_at[n_asked] = a, signs_if_kept(i, now, floats, leads[4], kind)
            n_asked += 1
        else:
            carry_on(i, now, kind, floats, codes, leads[4], lists, rules)
    signing = ids[bounds[SIGN] : bounds[SIGN + 1]]
    for i in signing:
        codes[i, STAGE] = 3
    status = 0
    if n_asked and may_pull:
        status |= TIMING_ASKED
    else:
        for k in range(n_asked):
            a = asked[k]
            carry_on(ids[a], at[a], codes[ids[a], KIND], floats, codes, leads[4], lists, rules)
        n_asked = 0
    signed_at = at[bounds[SIGN] : bounds[SIGN + 1]]
    if status or not close_won(signing, signed_at, leads, books, credits, rules):
        status |= CLOSES_LEFT
    chosen = asked[:n_asked]
    return len(done), status, ids[chosen], at[chosen], signs_at[:n_asked], signing, signed_at


@numba.njit(cache=True)
def touches_by_kind(
    done: np.ndarray, t: np.ndarray, kind: np.ndarray, owner: np.ndarray, touches: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pass's finished touches (`done`, ending at `t`) grouped by their `kind` (a column
    of the leads, 0 to SIGN), each kind in the order served, and counted in their owners'
    `touches` (in place). Returns the leads, their ends, and where each kind starts (kind
    k is bounds[k]:bounds[k + 1])."""
    bounds = np.zeros(SIGN + 2, dtype=np.int64)
    for a in range(len(done)):
        bounds[kind[done[a]] + 1] += 1
        touches[owner[done[a]]] += 1
    for k in range(SIGN + 1):
        bounds[k + 1] += bounds[k]
    place = bounds[:-1].copy()
    out_ids, out_t = np.empty(len(done), dtype=np.int64), np.empty(len(done))
    for a in range(len(done)):
        k = kind[done[a]]
        out_ids[place[k]], out_t[place[k]] = done[a], t[a]
        place[k] += 1
    return out_ids, out_t, bounds


@numba.njit(cache=True, inline="always")
def contacted(
    i: int,
    t: float,
    floats: np.ndarray,
    ints: np.ndarray,
    codes: np.ndarray,
    books: tuple,
    win_skill: np.ndarray,
    cycle_mult: np.ndarray,
    rules,
) -> None:
    """First response at `t`: the win chance decays with the hours it took (the tier's
    `response_factor`), the owner's skill applies; the customer's fate (won, or the stage
    `lost_at`) and the lead's expected value in its owner's pipeline."""
    o, tier = ints[i, OWNER], codes[i, TIER]
    hours = floats[i, RESPONSE_H] = (t - floats[i, TIME]) * 24
    codes[i, STAGE] = 0
    decay = response_factor(
        rules.decay_shape[tier], rules.decay_after_hours[tier], rules.decay_loss[tier], hours
    )
    p = min(1.0, floats[i, P] * decay * win_skill[o])
    u = floats[i, U_WIN]
    codes[i, FATE] = 3 if u < p else lost_at(u, p, rules.lost_negotiation, rules.lost_proposal)
    floats[i, P_WON] = p
    expected = p * floats[i, VALUE]
    books[1][o] += expected - floats[i, EXPECTED]
    floats[i, EXPECTED] = expected
    floats[i, CYCLE] = cycle_mult[o]


@numba.njit(cache=True, inline="always")
def signs_if_kept(i: int, t: float, floats: np.ndarray, delay: np.ndarray, kind: int) -> float:
    """When a winner touched at `t` (a first response, proposal or negotiation) would sign
    if its owner leaves it be: the customer's delays still to come."""
    if kind == CONTACT:
        rest = delay[i, 0] + delay[i, 1] + delay[i, 2]
    elif kind == PROPOSAL:
        rest = delay[i, 1] + delay[i, 2]
    else:
        rest = delay[i, 2]
    return t + rest * floats[i, CYCLE]


@numba.njit(cache=True, inline="always")
def carry_on(
    i: int,
    t: float,
    kind: int,
    floats: np.ndarray,
    codes: np.ndarray,
    delay: np.ndarray,
    lists: tuple,
    rules,
) -> None:
    """After a touch of `kind` at `t` (not pulled): the customer's next wait. After contact,
    the delay to the proposal; after a proposal or its follow-up, the answer (an alert each
    silent `proposal_timeout_days`); after negotiation, the delay to its end."""
    cycle = floats[i, CYCLE]
    if kind == CONTACT:
        wait(i, t + delay[i, 0] * cycle, CONTACTED, codes, lists)
        return
    if kind == NEGOTIATION:
        wait(i, t + delay[i, 2] * cycle, NEGOTIATED, codes, lists)
        return
    if kind == PROPOSAL:
        floats[i, ANSWER] = t + delay[i, 1] * cycle
    answer, timeout = floats[i, ANSWER], rules.proposal_timeout
    if answer - t > timeout:
        wait(i, t + timeout, ALERT, codes, lists)
    else:
        wait(i, answer if answer > t else t, ANSWERED, codes, lists)


@numba.njit(cache=True)
def after_pulls(
    ids: np.ndarray,
    t: np.ndarray,
    pulled: np.ndarray,
    floats: np.ndarray,
    codes: np.ndarray,
    delay: np.ndarray,
    lists: tuple,
    rules,
) -> None:
    """The winners `serve_pass` asked about, once their owners decided: a pulled deal signs
    at a discount two days before its period's end (or at once when that has passed), the
    others carry on."""
    for k in range(len(ids)):
        i, now = ids[k], t[k]
        if not pulled[k]:
            carry_on(i, now, codes[i, KIND], floats, codes, delay, lists, rules)
            continue
        codes[i, TIMING] = PULLED
        floats[i, VALUE] *= 1 - rules.pull_discount
        end = rules.end_day[int(now)] - 2.0
        if end > now:
            wait(i, end, SIGNS, codes, lists)
        else:
            request(i, SIGN, now, floats, codes, lists)

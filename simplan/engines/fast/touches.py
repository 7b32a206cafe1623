"""A serving pass compiled: each rep works its waiting touches, then each touch's stage rule
(first response, proposal, follow-up, negotiation, signature) runs lead by lead, with no
Python between touches. The owners' deal-timing decisions (near a period's end,
`Standing`'s compiled `timing_moves`) come between `serve_pass` and `after_pulls`
(`passes.day_passes`)."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.book import close_won, moves, request_all, wait_all
from simplan.engines.fast.serving import join_pending, serve_queues
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
    REQUESTED,
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

TIMING_ASKED, CLOSES_LEFT, JOIN_LEFT = 1, 2, 4
"""What `serve_pass` leaves undone (bits of its status): the owners' timing decisions
(`day_passes` then has them decided and calls `after_pulls`, which closes the signatures);
to Python: the won deals' closes (when a split's shares are new or the rows need room:
`Bookkeeping._close_won`), the requests' joining their queues when those need more room
(then `Queues.join`, and the pass again)."""


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
    """One pass of the day's queues (the touches requested since the last joined first, then
    `serve_queues`: each rep's touches requested before `until`, first-in first-out, ending
    by `close`), then every touch's rule, kind by kind in the order served (first responses,
    proposals, follow-ups, negotiations, signatures).

    `today` is (win skill, cycle multiplier, touches done today) per rep. A winner at
    contact, proposal or negotiation may be pulled by its owner: with `may_pull` its fate is
    left to its owner's decision (`day_passes`). Returns how many touches were done, the status (TIMING_ASKED,
    CLOSES_LEFT, JOIN_LEFT bits; with JOIN_LEFT nothing was served), the winners to decide
    on (leads, when, when each would sign) and the signatures (leads, when).
    """
    floats, ints, codes, delay = leads[0], leads[1], leads[2], leads[4]
    win_skill, cycle_mult, touches = today
    expected_pipeline = books[1]
    shape, after, loss = rules.decay_shape, rules.decay_after_hours, rules.decay_loss
    negotiation, proposal = rules.lost_negotiation, rules.lost_proposal
    timeout = rules.proposal_timeout
    if not join_pending(
        lists[6], lists[7], floats[:, REQUESTED], ints[:, OWNER],
        queues[0], queues[1], queues[2], queues[3],
    ):  # fmt: skip
        none = np.zeros(0, dtype=np.int64)
        return 0, JOIN_LEFT, none, np.zeros(0), np.zeros(0), none, np.zeros(0)
    done, t = serve_queues(
        queues[0], queues[1], queues[2], queues[3], free, duration, until, close,
        codes[:, MODE], DONE,
    )  # fmt: skip
    ids, at, bounds = touches_by_kind(done, t, codes[:, KIND], ints[:, OWNER], touches)
    n = len(done)
    asked, signs_at = np.empty(n, dtype=np.int64), np.empty(n)
    waits, wait_until, wait_then = moves(n)[:3]
    n_asked = n_waits = 0
    for a in range(bounds[CONTACT], bounds[NEGOTIATION + 1]):
        i, now = ids[a], at[a]
        kind = codes[i, KIND]
        if kind == CONTACT:  # the first response: the win chance decays with its hours
            o, tier = ints[i, OWNER], codes[i, TIER]
            hours = floats[i, RESPONSE_H] = (now - floats[i, TIME]) * 24
            codes[i, STAGE] = 0
            decay = response_factor(shape[tier], after[tier], loss[tier], hours)
            p = min(1.0, floats[i, P] * decay * win_skill[o])
            u = floats[i, U_WIN]
            codes[i, FATE] = 3 if u < p else lost_at(u, p, negotiation, proposal)
            floats[i, P_WON] = p
            expected = p * floats[i, VALUE]
            expected_pipeline[o] += expected - floats[i, EXPECTED]
            floats[i, EXPECTED] = expected
            floats[i, CYCLE] = cycle_mult[o]
        elif kind == PROPOSAL:
            codes[i, STAGE] = 1
        elif kind == NEGOTIATION:
            codes[i, STAGE] = 2
        cycle = floats[i, CYCLE]
        if codes[i, FATE] == 3 and kind != FOLLOW_UP and may_pull:
            rest = signs_if_kept(kind, delay[i, 0], delay[i, 1], delay[i, 2])
            asked[n_asked], signs_at[n_asked] = a, now + rest * cycle
            n_asked += 1
            continue
        wait_until[n_waits], wait_then[n_waits], floats[i, ANSWER] = next_wait(
            kind, now, delay[i, 0], delay[i, 1], delay[i, 2], cycle, floats[i, ANSWER], timeout
        )
        waits[n_waits] = i
        n_waits += 1
    wait_all(waits, wait_until, wait_then, n_waits, codes, lists)
    signing, signed_at = ids[bounds[SIGN] : bounds[SIGN + 1]], at[bounds[SIGN] : bounds[SIGN + 1]]
    for i in signing:
        codes[i, STAGE] = 3
    status = TIMING_ASKED if n_asked else 0
    if status or not close_won(signing, signed_at, leads, books, credits, rules):
        status |= CLOSES_LEFT
    chosen = asked[:n_asked]
    return n, status, ids[chosen], at[chosen], signs_at[:n_asked], signing, signed_at


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


@numba.njit(cache=True)
def signs_if_kept(kind: int, contact: float, proposal: float, negotiation: float) -> float:
    """The customer's delays still to come (days, before the cycle multiplier) after a
    winner's touch of `kind` (first response, proposal or negotiation): when it would sign if
    its owner leaves it be."""
    if kind == CONTACT:
        return contact + proposal + negotiation
    if kind == PROPOSAL:
        return proposal + negotiation
    return negotiation


@numba.njit(cache=True)
def next_wait(
    kind: int,
    t: float,
    contact: float,
    proposal: float,
    negotiation: float,
    cycle: float,
    answer: float,
    timeout: float,
) -> tuple[float, int, float]:
    """After a touch of `kind` at `t` (not pulled), the customer's next wait: after contact
    the delay to the proposal; after a proposal or its follow-up the answer (due at `answer`,
    set by a proposal), with an alert each silent `timeout` days; after negotiation the delay
    to its end. The customer's delays in days, times the owner's `cycle` multiplier.
    Returns when the wait ends, what then happens, and the answer's time."""
    if kind == CONTACT:
        return t + contact * cycle, CONTACTED, answer
    if kind == NEGOTIATION:
        return t + negotiation * cycle, NEGOTIATED, answer
    if kind == PROPOSAL:
        answer = t + proposal * cycle
    if answer - t > timeout:
        return t + timeout, ALERT, answer
    return (answer if answer > t else t), ANSWERED, answer


@numba.njit(cache=True)
def after_pulls(
    ids: np.ndarray,
    t: np.ndarray,
    pulled: np.ndarray,
    signing: np.ndarray,
    signed_at: np.ndarray,
    leads: tuple,
    books: tuple,
    lists: tuple,
    credits: tuple,
    rules,
) -> bool:
    """The winners `serve_pass` asked about, once their owners decided: a pulled deal signs
    at a discount two days before its period's end (or at once when that has passed), the
    others carry on; then the pass's signatures (`signing` at `signed_at`) close. Returns
    whether they closed (`close_won`: else Python works out their splits first)."""
    floats, codes, delay = leads[0], leads[2], leads[4]
    n = len(ids)
    end_day, discount, timeout = rules.end_day, rules.pull_discount, rules.proposal_timeout
    waits, wait_until, wait_then, asks, ask_kind, ask_at = moves(n)
    n_waits = n_asks = 0
    for k in range(n):
        i, now = ids[k], t[k]
        if not pulled[k]:
            wait_until[n_waits], wait_then[n_waits], floats[i, ANSWER] = next_wait(
                codes[i, KIND], now, delay[i, 0], delay[i, 1], delay[i, 2], floats[i, CYCLE],
                floats[i, ANSWER], timeout,
            )  # fmt: skip
            waits[n_waits] = i
            n_waits += 1
            continue
        codes[i, TIMING] = PULLED
        floats[i, VALUE] *= 1 - discount
        end = end_day[int(now)] - 2.0
        if end > now:
            waits[n_waits], wait_until[n_waits], wait_then[n_waits] = i, end, SIGNS
            n_waits += 1
        else:
            asks[n_asks], ask_kind[n_asks], ask_at[n_asks] = i, SIGN, now
            n_asks += 1
    wait_all(waits, wait_until, wait_then, n_waits, codes, lists)
    request_all(asks, ask_kind, ask_at, n_asks, floats, codes, lists)
    return close_won(signing, signed_at, leads, books, credits, rules)

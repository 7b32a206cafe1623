"""The funnel a day at a time: the reps' touches (each stage's rule once its touch is done)
and the customer's side (each answer once its wait ends), for all leads of a batch at once."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.table import (
    ALERT,
    ANSWERED,
    CONTACT,
    CONTACTED,
    DONE,
    FOLLOW_UP,
    NEGOTIATED,
    NEGOTIATION,
    PROPOSAL,
    SIGN,
    SIGNS,
)
from simplan.model.calendar import PHASES
from simplan.model.leads import loss_stages
from simplan.model.production import closing_chance
from simplan.model.records import LOST, PULLED, PUSHED, WON

CLOSE_OUT = PHASES.index("close_out")


class Funnel:
    """The touch and answer rules of `FastEngine` (its leads, team, standing and clocks)."""

    # -- touches -------------------------------------------------------------------------------

    def _serve(self, day: int, until: float, free: np.ndarray, duration: np.ndarray) -> int:
        """Each rep works the touches requested before `until` first-in first-out, one after
        another, starting them before `until` while they still end inside working hours;
        returns how many were done."""
        L, cal = self.leads, self.cal
        close = day + cal.workday_start + cal.workday_length + 1e-9
        done, t = self._touches().serve(free, duration, until, close, L.mode, DONE)
        if not len(done):
            return 0
        done, t, bounds = touches_by_kind(done, t, L.kind, L.owner, self.touches[day])
        for kind, act in (
            (CONTACT, self._contacted),
            (PROPOSAL, self._proposed),
            (FOLLOW_UP, self._await_answer),
            (NEGOTIATION, self._negotiating),
            (SIGN, self._signed),
        ):
            if bounds[kind + 1] > bounds[kind]:
                act(done[bounds[kind] : bounds[kind + 1]], t[bounds[kind] : bounds[kind + 1]])
        return len(done)

    def _contacted(self, ids: np.ndarray, t: np.ndarray) -> None:
        """First response: the win chance decays with the hours it took; the customer's fate."""
        L = self.leads
        owner = L.owner[ids]
        hours = (t - L.time[ids]) * 24
        L.response_h[ids] = hours
        L.stage[ids] = 0
        decay, tiers = np.ones(len(ids)), L.tier[ids]
        for k, tier in enumerate(self.scenario.leads.tiers):
            mask = tiers == k
            decay[mask] = tier.response_decay.factors(hours[mask])
        p = np.minimum(1.0, L.p[ids] * decay * self.win_skill[owner])
        u = L.u_win[ids]
        L.fate[ids] = np.where(u < p, 3, loss_stages(u, p, self.scenario.funnel.loss_stage_shares))
        L.p_won[ids] = p
        self._expect(ids, p * L.value[ids])
        L.cycle[ids] = cycle = self.cycle_mult[owner]
        delay = L.delay[ids]
        rest = self._pull(ids, t, t + delay.sum(axis=1) * cycle)
        self._wait(ids[rest], t[rest] + delay[rest, 0] * cycle[rest], CONTACTED)

    def _proposed(self, ids: np.ndarray, t: np.ndarray) -> None:
        L = self.leads
        L.stage[ids] = 1
        delay, cycle = L.delay[ids], L.cycle[ids]
        rest = self._pull(ids, t, t + (delay[:, 1] + delay[:, 2]) * cycle)
        ids, t = ids[rest], t[rest]
        L.answer[ids] = t + L.delay[ids, 1] * L.cycle[ids]
        self._await_answer(ids, t)

    def _await_answer(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Wait for the customer's answer to a proposal; each silent `proposal_timeout_days`
        raise an alert that needs a follow-up touch."""
        L = self.leads
        timeout = self.scenario.funnel.proposal_timeout_days
        late = L.answer[ids] - t > timeout
        self._wait(ids[late], t[late] + timeout, ALERT)
        self._wait(ids[~late], np.maximum(L.answer[ids[~late]], t[~late]), ANSWERED)

    def _negotiating(self, ids: np.ndarray, t: np.ndarray) -> None:
        L = self.leads
        L.stage[ids] = 2
        rest = self._pull(ids, t, t + L.delay[ids, 2] * L.cycle[ids])
        ids, t = ids[rest], t[rest]
        self._wait(ids, t + L.delay[ids, 2] * L.cycle[ids], NEGOTIATED)

    def _signed(self, ids: np.ndarray, t: np.ndarray) -> None:
        self.leads.stage[ids] = 3
        self._close(ids, t, WON)

    # -- the customer's side -------------------------------------------------------------------

    def _wake(self, until: float) -> None:
        """Every customer whose wait ends before `until` answers: lost, or the next touch."""
        L = self.leads
        ids, due = self.due_today.before(until)
        if not len(ids):
            return
        # In their order of arrival, as the reference, grouped by what each answer means.
        ids, due, edges = answers_by_outcome(ids, due, L.rank, L.then, L.fate, L.mode, DONE)
        bounds = edges.tolist()
        group = {g: slice(bounds[g], bounds[g + 1]) for g in range(len(bounds) - 1)}
        if bounds[1]:
            self._close(ids[group[0]], due[group[0]], LOST)
        for g, kind in ((1, PROPOSAL), (2, NEGOTIATION), (3, SIGN), (4, FOLLOW_UP)):
            if bounds[g + 1] > bounds[g]:
                if kind == FOLLOW_UP:
                    L.alerts[ids[group[g]]] += 1
                self._request(ids[group[g]], kind, due[group[g]])
        if bounds[6] > bounds[5]:
            self._negotiated(ids[group[5]], due[group[5]])

    def _negotiated(self, ids: np.ndarray, t: np.ndarray) -> None:
        """The negotiation ends: the owner's effort that day decides the close (`closing_chance`),
        a loss may be saved by the close-out offer, a winner may be held for next period; the
        rest are signed with one more touch."""
        L = self.leads
        day = np.minimum(t.astype(np.int64), self.cal.days - 1)
        closing = closing_chance(
            L.p_won[ids], self.effort[day, L.owner[ids]],
            self.scenario.production.closing_elasticity,
            self.scenario.funnel.loss_stage_shares.negotiation,
        )  # fmt: skip
        losing = L.u_win[ids] >= closing
        saved = losing & self._offer_wins(ids, t)
        L.lever_cost[ids[saved]] += self.offer.cost_per_deal
        lost = losing & ~saved
        self._close(ids[lost], t[lost], LOST)
        ids, t = ids[~lost], t[~lost]
        pushed = self._timing(ids, t, None)
        L.timing[ids[pushed]] = PUSHED
        ends = self.cal.plan_period.end_day[t[pushed].astype(np.int64)].astype(float)
        self._wait(ids[pushed], ends, SIGNS)
        self._request(ids[~pushed], SIGN, t[~pushed])

    def _offer_wins(self, ids: np.ndarray, t: np.ndarray) -> np.ndarray:
        """In close-out, the offer lifts p; the band just above p (late losses) turns into wins."""
        L = self.leads
        if not self.offer.enabled:
            return np.zeros(len(ids), dtype=bool)
        day = np.minimum(t.astype(np.int64), self.cal.days - 1)
        p = L.p_won[ids]
        negotiation = self.scenario.funnel.loss_stage_shares.negotiation
        lifted = np.minimum(p * (1 + self.offer.win_uplift), p + (1 - p) * negotiation)
        return (
            self.offer_tier[L.tier[ids]]
            & (self.cal.phase[day] == CLOSE_OUT)
            & (L.u_win[ids] < lifted)
        )

    # -- deal timing (the reps' own rules in Standing, for the deals at once) -----------------

    def _timing(self, ids: np.ndarray, t: np.ndarray, signs_at: np.ndarray | None) -> np.ndarray:
        """Which deals the owner pulls forward (`signs_at` given) or pushes (None)."""
        L, day = self.leads, t.astype(np.int64)
        can = self.standing.movable(day, signs_at)
        moved = np.zeros(len(ids), dtype=bool)
        if can.any():  # only deals near their period's end are asked
            i, d = ids[can], day[can]
            if signs_at is None:
                moved[can] = self.standing.push_many(L.owner[i], L.value[i], d, L.u_timing[i])
            else:
                args = L.owner[i], L.value[i], d, signs_at[can], L.u_timing[i]
                moved[can] = self.standing.pull_many(*args)
        return moved

    def _pull(self, ids: np.ndarray, t: np.ndarray, signs_at: np.ndarray) -> np.ndarray:
        """Winners whose owner has them sign early at a discount; returns the others' mask."""
        L = self.leads
        winners = L.fate[ids] == 3
        pulled = np.zeros(len(ids), dtype=bool)
        pulled[winners] = self._timing(ids[winners], t[winners], signs_at[winners])
        if pulled.any():
            i, now = ids[pulled], t[pulled]
            L.timing[i] = PULLED
            L.value[i] *= 1 - self.scenario.behaviour.timing.pull_discount
            end = self.cal.plan_period.end_day[now.astype(np.int64)] - 2.0
            later = end > now
            self._wait(i[later], end[later], SIGNS)
            self._request(i[~later], SIGN, now[~later])
        return ~pulled


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


ANSWER_GROUPS = (CONTACTED, ANSWERED, SIGNS, ALERT, NEGOTIATED)
"""After the lost (group 0), the groups of `answers_by_outcome`, 1 to 5: what a wait that
ends leads to (a proposal, a negotiation, a signature, a follow-up, the negotiation's end)."""


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

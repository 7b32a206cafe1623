"""The funnel a day at a time: the reps' touches (each stage's rule once its touch is done)
and the customer's side (each answer once its wait ends), for all leads of a batch at once.

Each pass is one compiled call (`touches.serve_pass`, `answers.answer_pass`) over the lead
table; on a day near a period's end the owners' deal-timing decisions (`Standing`) are
asked in Python between that call and the one that carries the deals on."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from simplan.engines.fast.answers import after_pushes, answer_pass
from simplan.engines.fast.touches import (
    CLOSES_LEFT,
    JOIN_LEFT,
    TIMING_ASKED,
    after_pulls,
    serve_pass,
)
from simplan.model.calendar import PHASES

CLOSE_OUT = PHASES.index("close_out")


class Rules(NamedTuple):
    """A scenario's funnel parameters as the compiled passes read them."""

    decay_shape: np.ndarray  # per tier: the response decay's code (DECAY_SHAPES)
    decay_after_hours: np.ndarray
    decay_loss: np.ndarray
    lost_negotiation: float  # the loss stage shares
    lost_proposal: float
    proposal_timeout: float  # days
    closing_elasticity: float
    offer: bool  # the close-out offer: on, its lift, cost, tiers, and the close-out days
    offer_uplift: float
    offer_cost: float
    offer_tier: np.ndarray
    close_out: np.ndarray
    end_day: np.ndarray  # per day, the day after its plan period ends
    days: int
    pull_discount: float
    referral: int  # the referral source's code (-1 without one) and its reward per deal
    referral_reward: float
    team_size: int


class Funnel:
    """The touch and answer passes of `FastEngine` (its leads, team, standing and clocks)."""

    @functools.cached_property
    def rules(self) -> Rules:
        """The scenario's funnel parameters for the compiled passes."""
        scenario, cal = self.scenario, self.cal
        decays = [t.response_decay for t in scenario.leads.tiers]
        shares, offer = scenario.funnel.loss_stage_shares, self.offer
        names = self.source_names
        return Rules(
            decay_shape=np.array([d.code for d in decays], dtype=np.int64),
            decay_after_hours=np.array([d.after_hours for d in decays]),
            decay_loss=np.array([d.loss for d in decays]),
            lost_negotiation=shares.negotiation,
            lost_proposal=shares.proposal,
            proposal_timeout=scenario.funnel.proposal_timeout_days,
            closing_elasticity=scenario.production.closing_elasticity,
            offer=offer.enabled,
            offer_uplift=offer.win_uplift,
            offer_cost=offer.cost_per_deal,
            offer_tier=self.offer_tier,
            close_out=cal.phase == CLOSE_OUT,
            end_day=cal.plan_period.end_day.astype(float),
            days=cal.days,
            pull_discount=scenario.behaviour.timing.pull_discount,
            referral=names.index("referral") if "referral" in names else -1,
            referral_reward=scenario.calendar.levers.referral_contest.reward_per_referral,
            team_size=self.n,
        )

    def _serve(self, day: int, until: float, free: np.ndarray, duration: np.ndarray) -> int:
        """Each rep works the touches requested before `until` first-in first-out, one after
        another, starting them before `until` while they still end inside working hours;
        each touch's rule follows. Returns how many were done."""
        cal, q = self.cal, self.queues
        close = day + cal.workday_start + cal.workday_length + 1e-9
        today = self.win_skill, self.cycle_mult, self.touches[day]
        lists, leads = self._lists(), self._leads()
        while True:
            passed = serve_pass(
                (q.lead, q.requested, q.start, q.count), free, duration, until, close, today,
                leads, self._books(), lists, self.credits.tables(), self.rules, self.may_pull,
            )  # fmt: skip
            if not passed[1] & JOIN_LEFT:
                break
            self._touches()  # rows with room for the requests, then the pass again
        done, status, asked, at, signs_at, signing, signed_at = passed
        closed = not status & CLOSES_LEFT
        if status & TIMING_ASKED:
            pulled = self._timing(asked, at, signs_at)
            closed = after_pulls(
                asked, at, pulled, signing, signed_at, leads, self._books(), lists,
                self.credits.tables(), self.rules,
            )  # fmt: skip
        if not closed:
            self._close_won(signing, signed_at)
        return done

    def _wake(self, until: float) -> None:
        """Every customer whose wait ends before `until` answers: lost, or the next touch."""
        lists, leads = self._lists(), self._leads()
        ids, t = answer_pass(
            until, self.effort, leads, self._books(), lists, self.rules, self.may_push
        )
        if len(ids):
            pushed = self._timing(ids, t, None)
            after_pushes(ids, t, pushed, leads, lists, self.rules)

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

"""The funnel a day at a time: the reps' touches (each stage's rule once its touch is done)
and the customer's side (each answer once its wait ends), for all leads of a batch at once.

A day's passes are one compiled call (`passes.day_passes`: `touches.serve_pass`,
`answers.answer_pass`, and the owners' deal-timing decisions near a period's end,
`Standing`'s compiled rule) over the lead table; Python only learns new split credits and
makes room for the queues between calls."""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from simplan.engines.fast.passes import FINISHED, SLICES, day_passes, next_place
from simplan.engines.fast.touches import JOIN_LEFT
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

    def _passes(self, day: int, free: np.ndarray, duration: np.ndarray) -> None:
        """The day's slices and passes (`day_passes`, compiled): each rep works the touches
        requested by a slice's end first-in first-out, one after another, starting them while
        they still end inside working hours, each touch's rule following; every customer
        whose wait ends answers (lost, or the next touch). Python does only what a pass
        hands back, then the day goes on from there."""
        cal, q = self.cal, self.queues
        start = day + cal.workday_start
        close = start + cal.workday_length + 1e-9
        today = self.win_skill, self.cycle_mult, self.touches[day]
        timing = self.standing.timing_state()
        s, p, serving = (1 if cal.is_working[day] else SLICES + 1), 0, False
        while True:
            left, s, p, done, status, signing, signed_at = day_passes(
                s, p, serving, start, cal.workday_length, day + 1.0, close, free, duration,
                (q.lead, q.requested, q.start, q.count), today, self.effort, self._leads(),
                self._books(), self._lists(), self.credits.tables(), self.rules, self.may_pull,
                self.may_push, timing,
            )  # fmt: skip
            if left == FINISHED:
                return
            serving = bool(status & JOIN_LEFT)
            if serving:  # rows with room for the requests, then the pass again
                self._touches()
                continue
            self._close_won(signing, signed_at)  # new splits or room, then the next place
            s, p = next_place(s, p, done)

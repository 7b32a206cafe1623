"""Leads: tiers (A/B/C by default), customer-layer sources, the funnel, and response decay.

A lead passes contact -> proposal -> negotiation -> won/lost. Each stage needs a touch from
the owning rep; between stages the customer takes a delay drawn from the tier's
distributions. The chance to win falls with the hours the first response took.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np
from pydantic import Field, model_validator

from simplan.model.calendar import PHASES, Calendar, ReferralContestParams
from simplan.model.distributions import Distribution, Exponential, Gamma, LogNormal
from simplan.model.params import Params

STAGES = ("contact", "proposal", "negotiation", "won")
"""Furthest stage a lead reached; index 3 means won."""


DECAY_SHAPES = ("none", "step", "exponential")
"""Response-decay shapes by code (`ResponseDecay.code`, what the compiled rule takes)."""


@numba.njit(cache=True)
def response_factor(shape: int, after_hours: float, loss: float, hours: float) -> float:
    """The multiplier on a lead's win probability for a first response after `hours`, under
    the decay of shape code `shape` (DECAY_SHAPES); the one definition both engines call."""
    if shape == 0:
        return 1.0
    if shape == 1:
        return 1 - loss if hours > after_hours else 1.0
    return (1 - loss) ** (hours / after_hours)


@numba.vectorize(["float64(int64, float64, float64, float64)"], cache=True)
def response_factors(shape: int, after_hours: float, loss: float, hours: float) -> float:
    """`response_factor` over arrays of first-response times."""
    return response_factor(shape, after_hours, loss, hours)


class ResponseDecay(Params):
    """How the win probability falls with first-response time.

    `exponential`: multiplied by (1 - loss) ** (hours / after_hours);
    `step`: multiplied by (1 - loss) once the response took longer than `after_hours`;
    `none`: response time does not matter.
    """

    shape: Literal["exponential", "step", "none"] = "exponential"
    after_hours: float = Field(default=24.0, gt=0)
    loss: float = Field(default=0.6, ge=0, lt=1)

    @property
    def code(self) -> int:
        """The shape's code for the compiled rule (its place in DECAY_SHAPES)."""
        return DECAY_SHAPES.index(self.shape)

    def factor(self, hours: float) -> float:
        """Multiplier on the win probability for a first response after `hours` (plain floats:
        the event engine asks once per lead)."""
        return response_factor(self.code, self.after_hours, self.loss, hours)

    def factors(self, hours: np.ndarray) -> np.ndarray:
        """`factor` for an array of first-response times."""
        return response_factors(self.code, self.after_hours, self.loss, hours)


class StageDelays(Params):
    """Customer-side delays in days after each stage's touch, before the next stage."""

    contact: Distribution = Exponential(mean=3)
    proposal: Distribution = Gamma(mean=7, cv=0.6)
    negotiation: Distribution = Gamma(mean=10, cv=0.6)


class TierParams(Params):
    """One lead tier: how often leads arrive, how likely and how big a win, how slow."""

    name: str = Field(min_length=1)
    arrivals_per_day: float = Field(ge=0)
    win_probability: float = Field(ge=0, le=1)
    deal_size: Distribution
    stage_delays_days: StageDelays = StageDelays()
    response_decay: ResponseDecay = ResponseDecay(shape="none")
    self_sourced_share: float | None = Field(default=None, ge=0, lt=1)


class SourceParams(Params):
    """A customer layer (core / growth / potential / dormant) feeding leads of a tier."""

    name: str = Field(min_length=1)
    tier: str
    arrivals_per_day: float = Field(ge=0)
    win_probability: float | None = Field(default=None, ge=0, le=1)
    dormant: bool = False


class DormantParams(Params):
    """Lost customers with no interaction for `after_days` may come back as dormant leads."""

    after_days: int = Field(default=180, ge=1)
    reentry_probability: float = Field(default=0.0, ge=0, le=1)
    source: str = "dormant"


class LossStageShares(Params):
    """Where lost leads drop out: shares by the last stage they reached (sum to 1)."""

    contact: float = Field(default=0.5, ge=0, le=1)
    proposal: float = Field(default=0.3, ge=0, le=1)
    negotiation: float = Field(default=0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> LossStageShares:
        total = self.contact + self.proposal + self.negotiation
        if abs(total - 1) > 1e-9:
            raise ValueError(f"loss stage shares must sum to 1, got {total:g}")
        return self


class FunnelParams(Params):
    """Stage rules: the proposal time-out alert and where lost leads drop out."""

    proposal_timeout_days: float = Field(default=3.0, gt=0)
    loss_stage_shares: LossStageShares = LossStageShares()


def default_tiers() -> list[TierParams]:
    """Playbook defaults: A by phone within 24 h, B nurtured weekly, cold C under 5 %."""
    return [
        TierParams(
            name="A",
            arrivals_per_day=2.0,
            win_probability=0.40,
            deal_size=LogNormal(mean=60000, cv=0.8),
            response_decay=ResponseDecay(shape="exponential", after_hours=24, loss=0.6),
        ),
        TierParams(
            name="B",
            arrivals_per_day=6.0,
            win_probability=0.18,
            deal_size=LogNormal(mean=25000, cv=0.8),
            response_decay=ResponseDecay(shape="exponential", after_hours=72, loss=0.3),
        ),
        TierParams(
            name="C",
            arrivals_per_day=12.0,
            win_probability=0.04,
            deal_size=LogNormal(mean=10000, cv=0.9),
        ),
    ]


class LeadsParams(Params):
    """Lead tiers, extra customer-layer sources and dormant re-entry."""

    tiers: list[TierParams] = Field(default_factory=default_tiers, min_length=1)
    sources: list[SourceParams] = []
    dormant: DormantParams = DormantParams()

    @model_validator(mode="after")
    def _names_resolve(self) -> LeadsParams:
        names = [t.name for t in self.tiers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"tier names must be unique; repeated: {', '.join(dupes)}")
        for i, src in enumerate(self.sources):
            if src.tier not in names:
                raise ValueError(
                    f"sources[{i}].tier '{src.tier}' is not a tier; tiers are {', '.join(names)}"
                )
        return self

    def tier_index(self, name: str) -> int:
        return [t.name for t in self.tiers].index(name)


@dataclass(frozen=True)
class LeadStream:
    """One arrival stream: a tier fed by a source, with a rate on each day of the run."""

    name: str
    tier: int
    source: str
    rate_per_day: np.ndarray
    win_probability: float


@dataclass(frozen=True)
class Leads:
    """Pre-drawn leads of one replication, sorted by arrival time (days from the start)."""

    time: np.ndarray
    tier: np.ndarray
    source: np.ndarray  # index into source_names
    source_names: tuple[str, ...]
    win_probability: np.ndarray  # before response decay, skill and ramp
    base_size: np.ndarray  # deal size before the owner's skill
    u_win: np.ndarray  # the customer's own uniform: won iff below the effective probability
    u_route: np.ndarray  # the lead's own uniform for routing draws (mentor pool)
    u_timing: np.ndarray  # the lead's own uniform for its owner's timing decisions
    delay: np.ndarray  # (n, 3) customer delays in days after contact, proposal, negotiation

    def __len__(self) -> int:
        return len(self.time)


def draw_leads(
    streams: list[LeadStream],
    tiers: list[TierParams],
    rng_for: Callable[[str, str], np.random.Generator],
) -> Leads:
    """Draw every stream's arrivals and each lead's customer: one generator per purpose and stream.

    `rng_for(purpose, stream_name)` gives the generator, so a tier's customers are the same
    in two scenarios that share a seed (common random numbers).
    """
    times = arrival_times(streams, rng_for)
    time = np.concatenate(times)
    order = np.argsort(time, kind="stable")
    place = np.empty_like(order)  # where each stream's leads go among all, by arrival time
    place[order] = np.arange(len(order))
    columns = customer_columns(len(time))
    draw_customers(streams, tiers, rng_for, [len(t) for t in times], place, columns)
    return Leads(time=time[order], source_names=source_names(streams), **columns)


def source_names(streams: list[LeadStream]) -> tuple[str, ...]:
    """The streams' sources, each once in order of first use (`Leads.source` indexes them)."""
    return tuple(dict.fromkeys(s.source for s in streams))


def arrival_times(
    streams: list[LeadStream], rng_for: Callable[[str, str], np.random.Generator]
) -> list[np.ndarray]:
    """Each stream's arrival times (days from the start; a day's in no order), from its own
    `arrivals` generator."""
    times = []
    for s in streams:
        arrivals = rng_for("arrivals", s.name)
        counts = arrivals.poisson(s.rate_per_day)
        n = int(counts.sum())
        times.append(np.repeat(np.arange(len(counts)), counts) + arrivals.random(n))
    return times


def customer_columns(size: int) -> dict[str, np.ndarray]:
    """Empty columns for `size` leads' customers (the fields of `Leads` but its times)."""
    return {
        "tier": np.empty(size, dtype=np.int64), "source": np.empty(size, dtype=np.int64),
        "win_probability": np.empty(size), "base_size": np.empty(size), "u_win": np.empty(size),
        "u_route": np.empty(size), "u_timing": np.empty(size), "delay": np.empty((size, 3)),
    }  # fmt: skip


def draw_customers(
    streams: list[LeadStream],
    tiers: list[TierParams],
    rng_for: Callable[[str, str], np.random.Generator],
    sizes: list[int],
    place: np.ndarray,
    columns: dict[str, np.ndarray],
) -> None:
    """The customers of each stream's `sizes[k]` arrivals, from its own `outcomes`
    generator, written into `columns` (`customer_columns`) at `place` (the streams'
    arrivals in turn), in place."""
    names, first = source_names(streams), 0
    for s, n in zip(streams, sizes, strict=True):
        at, first = place[first : first + n], first + n
        outcomes = rng_for("outcomes", s.name)
        tier = tiers[s.tier]
        delays = tier.stage_delays_days
        columns["tier"][at], columns["source"][at] = s.tier, names.index(s.source)
        columns["win_probability"][at] = s.win_probability
        # The customer's draws, in this order from the stream's generator.
        columns["base_size"][at] = tier.deal_size.sample(outcomes, n)
        columns["u_win"][at] = outcomes.random(n)
        columns["u_route"][at] = outcomes.random(n)
        for d, delay in enumerate((delays.contact, delays.proposal, delays.negotiation)):
            columns["delay"][at, d] = delay.sample(outcomes, n)
        columns["u_timing"][at] = outcomes.random(n)


@numba.njit(cache=True)
def lost_at(u: float, p: float, negotiation: float, proposal: float) -> int:
    """The last stage a lost lead reaches (2 negotiation, 1 proposal, 0 contact), from its
    uniform `u` (>= p) and the loss shares at negotiation and proposal.

    The band just above `p` is lost at negotiation, so an uplift of p turns late losses
    into wins first; then proposal, then contact. The one definition both engines call.
    """
    v = (u - p) / (1 - p) if p < 1 else 0.0
    return 2 if v < negotiation else 1 if v < negotiation + proposal else 0


@numba.vectorize(["int64(float64, float64, float64, float64)"], cache=True)
def _lost_at_each(u: float, p: float, negotiation: float, proposal: float) -> int:
    """`lost_at` over arrays."""
    return lost_at(u, p, negotiation, proposal)


def loss_stage(u: float, p: float, shares: LossStageShares) -> int:
    """`lost_at` under the scenario's loss shares, for one lead (the event engine's form)."""
    return lost_at(u, p, shares.negotiation, shares.proposal)


def loss_stages(u: np.ndarray, p: np.ndarray, shares: LossStageShares) -> np.ndarray:
    """`loss_stage` for arrays of uniforms and probabilities."""
    return _lost_at_each(u, p, shares.negotiation, shares.proposal)


def tier_arrivals(params: LeadsParams, calendar: Calendar) -> np.ndarray:
    """Each tier's team arrival rate on each day at effort 1, shape (days, tiers)."""
    rates = np.array([t.arrivals_per_day for t in params.tiers])
    return np.outer(calendar.arrival_multiplier, rates)


def lead_streams(
    params: LeadsParams, calendar: Calendar, referral: ReferralContestParams, routed: np.ndarray
) -> list[LeadStream]:
    """Every routed arrival stream of a run: tiers (source `new`, the `routed` share of each
    tier's arrivals; reps source the rest), customer layers, referrals."""
    arrivals = tier_arrivals(params, calendar)
    streams = [
        LeadStream(t.name, i, "new", routed[i] * arrivals[:, i], t.win_probability)
        for i, t in enumerate(params.tiers)
    ]
    for src in params.sources:
        tier = params.tier_index(src.tier)
        p = (
            src.win_probability
            if src.win_probability is not None
            else params.tiers[tier].win_probability
        )
        rate = src.arrivals_per_day * calendar.arrival_multiplier
        streams.append(LeadStream(f"{src.name}:{src.tier}", tier, src.name, rate, p))
    if referral.enabled:
        tier = params.tier_index(referral.tier)
        close_out = (calendar.phase == PHASES.index("close_out")) & calendar.is_working
        rate = referral.extra_leads_per_day * close_out.astype(float)
        streams.append(
            LeadStream("referral", tier, "referral", rate, params.tiers[tier].win_probability)
        )
    return streams

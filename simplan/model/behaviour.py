"""How hard each rep works each day: effort, a multiplier on touches per day and on the
self-sourced volume of the production function (`simplan.model.production`).

The engine asks `daily_effort` once a day for all reps; nothing else decides effort.

Three models:
- `constant`: effort x the phase (and leaderboard) multipliers.
- `optimising` (reps who plan ahead): each rep follows the effort policy of its own
  finite-horizon dynamic program over the plan period (`simplan.model.effort_policy`): state
  attainment so far and time left, reward the plan's period-end pay minus a convex effort
  cost, transition the rep's own bookings at that effort. `plan_ahead_outlook` builds what
  each rep knows from the scenario (its deal rate, deal sizes, sales cycle and target).
- `plan_responsive` (myopic): each rep projects where the period will end (bookings so far + expected
  open pipeline + run rate, uncertain by `projection_cv` of target at the period start,
  shrinking with the square root of the share of the period left), takes the expected
  marginal pay of one more unit of bookings under the plan at that projection (lump-sum
  jumps included, integrated exactly over the pay table), blends it with next period's as
  the period runs out (effort today books about `booking_lag_days` later), and chooses the
  effort that maximises pay minus a convex cost:  r k e - c e^2 (1 + fatigue_weight F) / 2,
  i.e. e* = r k / (c (1 + fatigue_weight F)), within bounds. The cost c is set so that a rep
  facing `reference_rate` works at effort 1 when fresh. Fatigue F is a moving average of
  recent overwork (effort - 1), so it builds above effort 1 and recovers below it. With a ratcheting target, each unit booked now raises next
  period's target by `ratchet.share`, which reps who expect it count as a cost.

The behaviours this reproduces are the field findings: deal timing around period ends and
thresholds (Oyer 1998; Larkin 2014, discounts to close by quarter end), effort responding to
quotas, overachievement rates and caps (Chung, Steenburgh and Sudhir 2014), and holding back
under ratcheting targets (Misra and Nair 2011). The default numbers (reference_rate 0.08,
projection_cv 0.35, booking_lag_days 20, fatigue_rate 0.05, timing propensity 0) are
planning assumptions, not estimates from those papers: calibrate them to your own history.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numba
import numpy as np
from pydantic import Field, model_validator

from simplan.model.effort_policy import (
    GRID_STEP,
    EffortPolicy,
    PeriodProgram,
    RepOutlook,
    grid_cells,
    normalised_cost,
    size_pmf_on_grid,
)
from simplan.model.numerics import ndtr_many, numpy_sum
from simplan.model.params import Params
from simplan.model.plan import Plan


class RatchetParams(Params):
    """Next period's target = max(target, share x this period's bookings), if enabled."""

    enabled: bool = False
    share: float = Field(default=1.0, gt=0, le=2)
    expected: bool = True


class TimingParams(Params):
    """Deal-timing games near a period end (within `window_days` of it): hold a ready deal for
    the next period, or have a winning deal at any stage that would sign after the period end
    sign before it at a discount, when the plan makes that pay more than `hurdle`; each with
    probability `propensity`."""

    propensity: float = Field(default=0.0, ge=0, le=1)
    window_days: float = Field(default=10.0, ge=0)
    pull_discount: float = Field(default=0.05, ge=0, lt=1)
    hurdle: float = Field(default=0.1, ge=0)


class BehaviourParams(Params):
    """How effort is chosen: constant, optimising over the plan period, or myopically
    responsive to the plan. `cost_curvature` (gamma: effort cost ~ e^gamma) sets how far
    effort moves with pay (elasticity about 1 / (gamma - 1)); `decision_days` is the step of
    the optimising reps' plan; `next_period_discount` what a unit booked next period is worth
    now, per unit of its value then (reps discount the next period: 0.9 a quarter).
    `pipeline_sight` is how much of its open pipeline an optimising rep counts when it plans
    (1: all of it, as a forecast would; 0: none, so it reckons on what is booked plus what it
    will source, as if a deal booked when sourced, like the sales that book at once in the
    structural literature's programs: such a rep feels behind mid-period and pushes nearer a
    line). Effort 1 is what the history shows: with `plan_in_force` (the
    plan paid when the history was recorded, as `simplan calibrate` writes it), each rep's mean
    effort under that plan; without it, the effort of a rep paid `reference_rate` on every
    extra unit of bookings."""

    model: Literal["constant", "plan_responsive", "optimising"] = "constant"
    effort: float = Field(default=1.0, gt=0)
    min_effort: float = Field(default=0.25, gt=0)
    max_effort: float = Field(default=2.0, gt=0)
    reference_rate: float = Field(default=0.08, gt=0)
    projection_cv: float = Field(default=0.35, gt=0)
    booking_lag_days: float = Field(default=20.0, ge=0)
    fatigue_rate: float = Field(default=0.05, ge=0)
    fatigue_weight: float = Field(default=1.0, ge=0)
    cost_curvature: float = Field(default=2.0, gt=1, le=6)
    decision_days: float = Field(default=7.0, gt=0, le=31)
    effort_levels: int = Field(default=21, ge=3, le=201)
    next_period_discount: float = Field(default=0.9, gt=0, le=1)
    pipeline_sight: float = Field(default=1.0, ge=0, le=1)
    plan_in_force: Plan | None = None
    ratchet: RatchetParams = RatchetParams()
    timing: TimingParams = TimingParams()

    @model_validator(mode="after")
    def _bounds(self) -> BehaviourParams:
        if not self.min_effort <= self.effort <= self.max_effort:
            raise ValueError(
                f"effort {self.effort} must lie within [min_effort {self.min_effort}, "
                f"max_effort {self.max_effort}]"
            )
        return self


@dataclass(frozen=True)
class DayContext:
    """What every rep faces on a day: the phase's effort multiplier and lever lifts."""

    day: int
    effort_multiplier: float


@dataclass(frozen=True)
class PayTable:
    """Each rep's period pay on an attainment grid, and the marginal rate in each grid cell,
    held once per distinct target (`rows`: each rep's; a batch repeats the team's targets)."""

    grid: np.ndarray  # attainment at cell edges, shape (g + 1,)
    distinct_pay: np.ndarray  # (targets, g + 1)
    distinct_rate: np.ndarray  # (targets, g): pay per unit of bookings inside each cell
    rows: np.ndarray  # (reps,): each rep's row of the distinct tables

    @classmethod
    def build(
        cls, payout_curve, target: np.ndarray, top: float = 4.0, step: float = 0.01
    ) -> PayTable:
        """Tabulate `payout_curve(attainment, target)` for every rep's target (once per
        distinct target)."""
        grid = np.arange(0.0, top + step / 2, step)
        distinct, rows = np.unique(target, return_inverse=True)
        pay = payout_curve(np.broadcast_to(grid, (len(distinct), len(grid))), distinct[:, None])
        rate = np.diff(pay, axis=1) / (step * distinct[:, None])
        return cls(grid=grid, distinct_pay=pay, distinct_rate=rate, rows=rows.ravel())

    @cached_property
    def pay(self) -> np.ndarray:
        """Each rep's pay at the grid's edges, (reps, g + 1)."""
        return self.distinct_pay[self.rows]

    @cached_property
    def rate(self) -> np.ndarray:
        """Each rep's marginal rate in each grid cell, (reps, g)."""
        return self.distinct_rate[self.rows]

    @cached_property
    def steps(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid edges where the marginal rate changes, and each distinct target's fall in
        rate there (`rows` gives a rep's).

        The rate is constant between a plan's lines, so only a few edges matter; changes
        under 1e-9 of the largest rate are rounding in the tabulated pay and are left out.
        The falls are C-ordered whatever the edges, so the compiled rules see one layout:
        processes compiling two signatures at once can overwrite each other's numba cache.
        """
        rate = self.distinct_rate
        fall = rate[:, :-1] - rate[:, 1:]
        scale = float(np.abs(rate).max(initial=0.0))
        edges = np.flatnonzero(np.abs(fall).max(axis=0, initial=0.0) > 1e-9 * scale)
        return self.grid[1:-1][edges], np.ascontiguousarray(fall[:, edges])  # one signature

    @cached_property
    def last(self) -> np.ndarray:
        """Each distinct target's marginal rate in the last cell (and above the grid)."""
        return np.ascontiguousarray(self.distinct_rate[:, -1])

    def expected_rate(
        self, mean: np.ndarray, sd: np.ndarray, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """E[marginal rate] with attainment ~ Normal(mean, sd) per rep (or per entry of
        `rows`, reps of the table, repeats allowed), exact over grid cells (the first cell's
        rate below the grid, the last cell's above it): `expected_rates` for each entry.
        """
        edges, fall = self.steps
        rows = self.rows if rows is None else self.rows[rows]
        return expected_rates(edges, fall, self.last, rows, mean, sd)


@numba.njit(cache=True, error_model="numpy")
def expected_rates(
    edges: np.ndarray,
    fall: np.ndarray,
    last: np.ndarray,
    rows: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
) -> np.ndarray:
    """E[marginal rate] of pay-table rows `rows` (of a table's `PayTable.steps` and `last`) with
    attainment ~ Normal(mean, sd), entry by entry, summed by parts: the last cell's rate plus,
    at each edge where the rate changes, P(attainment below the edge) x the fall in rate
    there, added in numpy's order (the values `PayTable.expected_rate` gave in numpy)."""
    n, k = len(mean), len(edges)
    below = np.empty(n * k)
    for i in range(n):
        spread = 1e-9 if sd[i] < 1e-9 else sd[i]
        for j in range(k):
            below[i * k + j] = (edges[j] - mean[i]) / spread
    ndtr_many(below, n * k)
    out = np.empty(n)
    for i in range(n):
        row, first = rows[i], i * k
        if k < 8:  # numpy adds fewer than 8 terms one by one
            total = -0.0
            for j in range(k):
                total += below[first + j] * fall[row, j]
            out[i] = last[row] + (0.0 + total)
        else:
            for j in range(k):
                below[first + j] *= fall[row, j]
            out[i] = last[row] + numpy_sum(below, first, k)
    return out


@dataclass(frozen=True)
class Outlook:
    """Each rep's position in the current period (arrays over reps, money in currency)."""

    booked: np.ndarray
    expected_pipeline: np.ndarray
    run_rate_per_day: np.ndarray
    target: np.ndarray
    days_left: float
    period_days: float
    fatigue: np.ndarray


def optimal_effort(
    rate: np.ndarray,
    productivity: np.ndarray,
    cost: np.ndarray,
    fatigue: np.ndarray,
    params: BehaviourParams,
) -> np.ndarray:
    """argmax_e r k e - c e^2 (1 + w F) / 2  =  r k / (c (1 + w F)), within the effort bounds."""
    effort = rate * productivity / (cost * (1 + params.fatigue_weight * fatigue))
    return np.clip(effort, params.min_effort, params.max_effort)


def marginal_pay_rate(table: PayTable, outlook: Outlook, params: BehaviourParams) -> np.ndarray:
    """Expected pay per extra unit of bookings that effort today brings, per rep (one
    compiled pass over the reps, `_marginal_pay_rates`)."""
    o = outlook
    left_share = o.days_left / max(o.period_days, 1e-9)
    ratchet = params.ratchet.share if params.ratchet.enabled and params.ratchet.expected else 0.0
    lands_now = (
        1.0 if params.booking_lag_days == 0 else min(1.0, o.days_left / params.booking_lag_days)
    )
    edges, fall = table.steps
    return _marginal_pay_rates(
        edges, fall, table.last, table.rows, o.booked, o.expected_pipeline, o.run_rate_per_day,
        o.target, o.days_left, o.period_days, params.projection_cv * np.sqrt(left_share),
        params.projection_cv, ratchet, lands_now,
    )  # fmt: skip


@numba.njit(cache=True, error_model="numpy")
def _marginal_pay_rates(
    edges: np.ndarray,
    fall: np.ndarray,
    last: np.ndarray,
    rows: np.ndarray,
    booked: np.ndarray,
    pipeline: np.ndarray,
    run_rate: np.ndarray,
    target: np.ndarray,
    days_left: float,
    period_days: float,
    sd_now: float,
    cv: float,
    ratchet: float,
    lands_now: float,
) -> np.ndarray:
    """Each rep projects where the period ends (bookings + expected pipeline + run rate, with
    uncertainty `sd_now` of target) and next period (run rate, `cv`), takes the expected
    marginal rate at both, counts a ratcheting target's cost (`ratchet`, the share of
    bookings above target added to next period's, 0 if not expected) and blends the two by
    the share of today's effort that lands this period; never below 0. `rows`: each rep's
    row of the pay table."""
    n = len(booked)
    mean, sd = np.empty(2 * n), np.empty(2 * n)
    for i in range(n):
        mean[i] = (booked[i] + pipeline[i] + run_rate[i] * days_left) / target[i]
        mean[n + i] = run_rate[i] * period_days / target[i]
        sd[i], sd[n + i] = sd_now, cv
    rates = expected_rates(edges, fall, last, np.concatenate((rows, rows)), mean, sd)
    if ratchet > 0:  # booking x now lifts next period's target by share * x above target
        above = (mean[:n] - 1) / (1e-9 if sd_now < 1e-9 else sd_now)
        ndtr_many(above, n)
        rates[:n] = rates[:n] - ratchet * above * rates[n:]
    out = np.empty(n)
    for i in range(n):
        rate = lands_now * rates[i] + (1 - lands_now) * rates[n + i]
        out[i] = 0.0 if rate < 0.0 else rate
    return out


def next_fatigue(fatigue: np.ndarray, effort: np.ndarray, params: BehaviourParams) -> np.ndarray:
    """Fatigue follows recent overwork: a moving average of (effort - 1), never below 0.

    It builds while effort is above 1 and recovers below; `fatigue_rate` is the share of the
    gap closed each day (0.05: a time constant of about 20 days).
    """
    return np.maximum(fatigue + params.fatigue_rate * ((effort - 1.0) - fatigue), 0.0)


def daily_effort(
    params: BehaviourParams,
    context: DayContext,
    n_reps: int,
    table: PayTable | None = None,
    outlook: Outlook | None = None,
) -> np.ndarray:
    """Each rep's effort for the day, from the chosen behaviour model."""
    if params.model == "constant" or table is None or outlook is None:
        effort = params.effort * context.effort_multiplier
        return np.full(n_reps, float(np.clip(effort, params.min_effort, params.max_effort)))
    rate = marginal_pay_rate(table, outlook, params)
    ones = np.ones(n_reps)
    # Cost c = reference_rate x k: a fresh rep facing reference_rate works at effort 1.
    effort = optimal_effort(rate, ones, params.reference_rate * ones, outlook.fatigue, params)
    return np.clip(effort * context.effort_multiplier, params.min_effort, params.max_effort)


CYCLE_SAMPLES = 512
"""Deal sizes and sales cycles drawn per tier to tabulate what a rep expects (fixed seed)."""


@dataclass(frozen=True)
class TeamFlow:
    """What each rep can expect from its deal flow at effort 1 (arrays over reps x tiers)."""

    deals_per_day: np.ndarray  # (reps, tiers): won deals a day
    size_values: np.ndarray  # (reps, tiers, samples): deal sizes in currency
    cycle_days: np.ndarray  # (reps, tiers, samples): days from lead to signature


def team_flow(
    arrivals_per_day: np.ndarray,
    weights: np.ndarray,
    win_probability: np.ndarray,
    win_skill: np.ndarray,
    size_multiplier: np.ndarray,
    cycle_multiplier: np.ndarray,
    tiers: list,
    seed: int,
) -> TeamFlow:
    """Each rep's expected won deals by tier, with its deal sizes and cycles.

    `arrivals_per_day` (tiers,) is the team's mean daily rate, `weights` each rep's share of
    the flow; sizes and cycles come from the tiers' distributions, drawn once from `seed`.
    """
    rng = np.random.default_rng(seed)
    sizes = np.stack([t.deal_size.sample(rng, CYCLE_SAMPLES) for t in tiers])
    cycles = np.stack(
        [
            t.stage_delays_days.contact.sample(rng, CYCLE_SAMPLES)
            + t.stage_delays_days.proposal.sample(rng, CYCLE_SAMPLES)
            + t.stage_delays_days.negotiation.sample(rng, CYCLE_SAMPLES)
            for t in tiers
        ]
    )
    p = np.minimum(win_probability[None, :] * win_skill[:, None], 1.0)
    return TeamFlow(
        deals_per_day=np.outer(weights, arrivals_per_day) * p,
        size_values=size_multiplier[:, None, None] * sizes[None, :, :],
        cycle_days=cycle_multiplier[:, None, None] * cycles[None, :, :],
    )


def plan_ahead_outlook(
    flow: TeamFlow,
    table: PayTable,
    target: np.ndarray,
    period_days: float,
    tier_shares: np.ndarray,
    elasticity: float,
    params: BehaviourParams,
    closing: float = 0.0,
) -> RepOutlook:
    """What each optimising rep knows about its own period: deal rate, sizes, cycle, next rate."""
    per_rep = flow.deals_per_day.sum(axis=1)
    mix = flow.deals_per_day / np.maximum(per_rep, 1e-300)[:, None]
    samples = flow.size_values.shape[2]
    weights = np.repeat(mix, samples, axis=1) / samples
    values = flow.size_values.reshape(len(target), -1)
    steps = max(1, int(np.ceil(period_days / params.decision_days)))
    middle = (np.arange(steps) + 0.5) * params.decision_days
    left = np.maximum(period_days - middle, 0.0)
    closes = flow.cycle_days[:, :, :, None] <= left[None, None, None, :]
    landing = (mix[:, :, None] * closes.mean(axis=2)).sum(axis=1)
    started = flow.cycle_days[:, :, :, None] <= middle[None, None, None, :]
    from_before = 1.0 - (mix[:, :, None] * started.mean(axis=2)).sum(axis=1)
    mean_size = (weights * values).sum(axis=1)
    second = (weights * values**2).sum(axis=1)
    expected = per_rep * mean_size * period_days / target
    spread = np.sqrt(per_rep * second * period_days) / target
    ratchet = params.ratchet.share if params.ratchet.enabled and params.ratchet.expected else 0.0
    return RepOutlook(
        target=target,
        deals_per_day=per_rep,
        size_pmf=size_pmf_on_grid(values, weights, target),
        self_sourced_share=(mix * tier_shares[None, :]).sum(axis=1),
        elasticity=elasticity,
        landing=landing,
        sight=params.pipeline_sight,
        from_before=from_before,
        next_rate=table.expected_rate(expected, spread),
        ratchet_share=ratchet,
        closing=closing,
    )


def effort_cost(
    outlook: RepOutlook,
    period_days: float,
    params: BehaviourParams,
    reference: PayTable | None = None,
    program: PeriodProgram | None = None,
) -> tuple[np.ndarray, EffortPolicy | None]:
    """Each rep's effort cost c (currency per day at effort 1), which says what effort 1 means,
    and the reps' policy under the plan in force at that cost (None without `reference`).

    With `reference` (the pay of the plan in force when the history was recorded; `outlook`
    then built under it), c makes each rep book on average the flow of effort 1 under that
    plan, as in its history (`effort_policy.normalised_cost`).
    Without it, c = reference_rate x (the bookings a day one more unit of effort wins at
    effort 1, by sourcing and closing): a rep paid `reference_rate` on every extra unit of
    bookings works at effort 1. `program` is the outlook's `plan_program` when the caller
    keeps it for the plans it then solves.
    """
    o = outlook
    mean_size = (o.size_pmf * np.arange(o.size_pmf.shape[1])).sum(axis=1) * GRID_STEP * o.target
    # the bookings a day that one more unit of effort wins at effort 1: sourcing and closing
    marginal = (o.self_sourced_share * o.elasticity + o.closing) * o.deals_per_day * mean_size
    cost = params.reference_rate * np.maximum(marginal, 1e-12)
    if reference is None:
        return cost, None
    program = program or plan_program(o, period_days, params)
    return normalised_cost(
        program, reference.pay[:, : grid_cells()], cost, params.next_period_discount
    )


def plan_ahead_policy(
    table: PayTable, outlook: RepOutlook, period_days: float, params: BehaviourParams,
    cost: np.ndarray, program: PeriodProgram | None = None,
) -> EffortPolicy:  # fmt: skip
    """Solve each rep's dynamic program for the period under the plan tabulated in `table`
    (`outlook` built under it; `program`, when given, is the same reps' `plan_program`)."""
    program = program or plan_program(outlook, period_days, params)
    pay = table.pay[:, : grid_cells()]
    return program.stationary(pay, cost, params.next_period_discount, outlook.next_rate)


def plan_program(outlook: RepOutlook, period_days: float, params: BehaviourParams) -> PeriodProgram:
    """The reps' dynamic program for the period: its bookings kernels depend on the reps and
    the period, not on the plan, so one program serves every plan solved on them."""
    efforts = np.linspace(params.min_effort, params.max_effort, params.effort_levels)
    return PeriodProgram(outlook, period_days, params.decision_days, efforts, params.cost_curvature)

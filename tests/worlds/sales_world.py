"""A ground-truth sales world for testing simplan's plan predictions; shares no code with it.

Mechanism (parameters in `reps`, `effort`, `plans`):
- 30 reps of different ability (`reps.draw_reps`): inbound leads routed to them, a
  self-sourced flow that grows with effort (elasticity 0.85), a win rate lifted a little
  by effort (follow-up quality, at most +/-15 %), lognormal deal sizes with means from
  3.5k to 14k, gamma sales cycles of 3-5 weeks, and a quarterly quota of their own (their
  expected bookings at habitual effort times a lognormal spread, growing 2 % a quarter).
- Every quarter each rep solves its own dynamic program against the plan in force
  (`effort.solve_policy`): quarter-end payout minus a quadratic effort cost, with the
  value of bookings that land next quarter. Weekly, it reads its attainment and takes the
  policy's effort; opportunities then arrive, close after their cycle, and are won or
  lost (`pipeline.run_quarter`). Open pipeline carries from quarter to quarter.
- History: a steady pipeline at 2024-10-01, a warm-up quarter (2024Q4) and four history
  quarters (2025Q1-Q4) under one plan. Truth (`true_outcome`): the next quarter (2026Q1)
  from the history's last pipeline under any plan, by Monte Carlo of the world itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tests.worlds import calendar
from tests.worlds.effort import Policy, continuation_value, solve_policy
from tests.worlds.pipeline import Pipeline, run_quarter, steady_pipeline
from tests.worlds.plans import WorldPlan, get_plan
from tests.worlds.reps import Reps, draw_reps

QUOTA_GROWTH = 0.02
"""Quotas grow 2 % a quarter (plus a small per-rep wobble)."""


@dataclass
class Team:
    """The reps, their quotas (rep, period, target for every quarter) and, per plan, the
    value they put on next quarter's bookings (solved once, then reused)."""

    reps: Reps
    quotas: pd.DataFrame
    continuation: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def quota(self, period: str) -> np.ndarray:
        """Each rep's target for `period`, in rep order."""
        rows = self.quotas[self.quotas["period"] == period].sort_values("rep")
        return rows["target"].to_numpy(float)

    def policy(self, plan: WorldPlan, period: str) -> Policy:
        """Every rep's effort policy for `period` under `plan` (its own quota and weeks)."""
        if plan.name not in self.continuation:
            steps = calendar.quarter_steps(calendar.HISTORY[1])
            self.continuation[plan.name] = continuation_value(self.reps, plan, steps)
        steps = calendar.quarter_steps(period)
        return solve_policy(
            self.reps, plan, self.quota(period), steps, self.continuation[plan.name]
        )


@dataclass(frozen=True)
class World:
    """A team, its history under `plan`, and the pipeline the history ends with.

    `deals`: every opportunity closed from the warm-up on (rep index, created and close day,
    amount, won) plus those still open at the end (`won` missing). `weekly`: per rep, quarter
    and step, the attainment seen and the effort chosen. `quarters`: per quarter and rep,
    target, bookings, attainment and payout.
    """

    team: Team
    plan: WorldPlan
    seed: int
    deals: pd.DataFrame
    weekly: pd.DataFrame
    quarters: pd.DataFrame
    pipeline: Pipeline

    @property
    def reps(self) -> Reps:
        return self.team.reps

    def quota(self, period: str) -> np.ndarray:
        """Each rep's target for `period`, in rep order."""
        return self.team.quota(period)

    def policy(self, plan: str | WorldPlan, period: str) -> Policy:
        """Every rep's effort policy for `period` under `plan`."""
        return self.team.policy(get_plan(plan), period)


def draw_quotas(reps: Reps, rng: np.random.Generator) -> pd.DataFrame:
    """rep, period, target for every quarter of the calendar (rounded to hundreds)."""
    rows = []
    for index, period in enumerate(calendar.QUARTERS):
        growth = (1 + QUOTA_GROWTH) ** (index - 1)
        wobble = np.exp(0.05 * rng.standard_normal(reps.size))
        target = np.round(reps.base_quota * growth * wobble, -2)
        rows.append(pd.DataFrame({"rep": np.arange(reps.size), "period": period, "target": target}))
    return pd.concat(rows, ignore_index=True)


def make_world(plan: str | WorldPlan = "current", seed: int = 0) -> World:
    """A team drawn from `seed` and its history (warm-up + 2025Q1-Q4) under `plan`."""
    plan = get_plan(plan)
    team_seed, history_seed = np.random.SeedSequence(seed).spawn(2)
    team_rng, rng = np.random.default_rng(team_seed), np.random.default_rng(history_seed)
    reps = draw_reps(team_rng)
    team = Team(reps, draw_quotas(reps, team_rng))
    pipeline = steady_pipeline(reps, rng)
    deals, weekly, quarters = [], [], []
    for period in (calendar.WARM_UP, *calendar.HISTORY):
        first_day, _ = calendar.quarter_days(period)
        steps, quota = calendar.quarter_steps(period), team.quota(period)
        policy = team.policy(plan, period)
        quarter = run_quarter(reps, policy, quota, first_day, steps, pipeline, 1, rng, record=True)
        pipeline = quarter.pipeline
        deals.append(_deal_frame(quarter.closed, quarter.won))
        weekly.append(_weekly_frame(period, quarter.attainment[0], quarter.effort[0], steps))
        quarters.append(
            pd.DataFrame(
                {
                    "period": period,
                    "rep": np.arange(reps.size),
                    "target": quota,
                    "bookings": quarter.bookings[0],
                    "attainment": quarter.bookings[0] / quota,
                    "payout": plan.payout(quarter.bookings[0], quota),
                }
            )
        )
    deals.append(_deal_frame(pipeline, None))
    return World(
        team=team,
        plan=plan,
        seed=seed,
        deals=pd.concat(deals, ignore_index=True),
        weekly=pd.concat(weekly, ignore_index=True),
        quarters=pd.concat(quarters, ignore_index=True),
        pipeline=pipeline,
    )


def _deal_frame(deals: Pipeline, won: np.ndarray | None) -> pd.DataFrame:
    """One world's deals as a table; `won` is missing (NA) for deals still open."""
    return pd.DataFrame(
        {
            "rep": deals.rep,
            "created": deals.created,
            "closes": deals.closes,
            "amount": deals.amount,
            "won": pd.array(won if won is not None else [pd.NA] * len(deals), dtype="boolean"),
        }
    )


def _weekly_frame(
    period: str, attainment: np.ndarray, effort: np.ndarray, steps: np.ndarray
) -> pd.DataFrame:
    """rep x step of one quarter: attainment seen, effort chosen, days left in the quarter
    when the effort was chosen (the step's own days included)."""
    reps, count = attainment.shape
    days_left = np.sum(steps) - np.cumsum(steps) + steps
    return pd.DataFrame(
        {
            "period": period,
            "rep": np.repeat(np.arange(reps), count),
            "step": np.tile(np.arange(count), reps),
            "days_left": np.tile(days_left, reps),
            "attainment": attainment.ravel(),
            "effort": effort.ravel(),
        }
    )


@dataclass(frozen=True)
class Truth:
    """The next quarter under one plan: `summary` (metric x mean, se), `runs` (one row per
    simulated world) and `reps` (per rep: quota and means over worlds)."""

    plan: str
    summary: pd.DataFrame
    runs: pd.DataFrame
    reps: pd.DataFrame


def true_outcome(world: World, plan: str | WorldPlan, n_worlds: int = 400, seed: int = 0) -> Truth:
    """Team bookings, payout, share of reps at target and mean effort in 2026Q1 under `plan`,
    continuing from the history's open pipeline: means and standard errors over `n_worlds`."""
    plan = get_plan(plan)
    quota = world.quota(calendar.NEXT)
    first_day, _ = calendar.quarter_days(calendar.NEXT)
    quarter = run_quarter(
        world.reps,
        world.policy(plan, calendar.NEXT),
        quota,
        first_day,
        calendar.quarter_steps(calendar.NEXT),
        world.pipeline.replicate(n_worlds),
        n_worlds,
        np.random.default_rng(seed),
    )
    payout = plan.payout(quarter.bookings, quota)
    at_target = quarter.bookings >= quota
    runs = pd.DataFrame(
        {
            "world": np.arange(n_worlds),
            "bookings": quarter.bookings.sum(axis=1),
            "payout": payout.sum(axis=1),
            "share_at_target": at_target.mean(axis=1),
            "mean_effort": quarter.effort.mean(axis=(1, 2)),
        }
    )
    metrics = runs.drop(columns="world")
    summary = pd.DataFrame({"mean": metrics.mean(), "se": metrics.std(ddof=1) / np.sqrt(n_worlds)})
    reps = pd.DataFrame(
        {
            "rep_id": world.reps.rep_id,
            "target": quota,
            "bookings": quarter.bookings.mean(axis=0),
            "payout": payout.mean(axis=0),
            "at_target": at_target.mean(axis=0),
            "effort": quarter.effort.mean(axis=(0, 2)),
        }
    )
    return Truth(plan=plan.name, summary=summary, runs=runs, reps=reps)

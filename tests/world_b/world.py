"""World B's history under one plan and its truth under any plan (Monte Carlo of itself)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tests.world_b import calendar
from tests.world_b.deals import Deals
from tests.world_b.market import run_quarter
from tests.world_b.plans import PLANS, Plan
from tests.world_b.team import Reps, draw_reps

QUOTA_GROWTH = 0.015
"""Quotas grow 1.5 % a quarter, times a per-rep wobble."""


@dataclass(frozen=True)
class World:
    """A team, its quotas (rep, period, target), its history under `plan` and the pipeline
    the history ends with.

    `deals`: every deal decided from the first warm-up quarter on (rep, grade, source,
    created, closed_on, list_amount, amount, won) and those still open (closed_on -1, won
    missing). `quarters`: per quarter and rep, target, bookings, payout, mean effort.
    """

    reps: Reps
    quotas: pd.DataFrame
    plan: Plan
    deals: pd.DataFrame
    quarters: pd.DataFrame
    pipeline: Deals

    def quota(self, period: str) -> np.ndarray:
        """Each rep's target for `period`, in rep order."""
        rows = self.quotas[self.quotas["period"] == period].sort_values("rep")
        return rows["target"].to_numpy(float)


def draw_quotas(reps: Reps, rng: np.random.Generator) -> pd.DataFrame:
    """rep, period, target for every quarter of the calendar (rounded to hundreds)."""
    rows = []
    for index, period in enumerate(calendar.QUARTERS):
        growth = (1 + QUOTA_GROWTH) ** (index - len(calendar.WARM_UP))
        wobble = np.exp(0.04 * rng.standard_normal(reps.size))
        rows.append(
            pd.DataFrame(
                {
                    "rep": np.arange(reps.size),
                    "period": period,
                    "target": np.round(reps.base_quota * growth * wobble, -2),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def make_world(plan: str = "current", seed: int = 0) -> World:
    """A team drawn from `seed` and its history (two warm-up and four history quarters)
    under the plan named `plan`, starting from an empty pipeline."""
    team_seed, history_seed = np.random.SeedSequence([seed, 20260105]).spawn(2)
    team_rng, rng = np.random.default_rng(team_seed), np.random.default_rng(history_seed)
    reps = draw_reps(team_rng)
    quotas = draw_quotas(reps, team_rng)
    world = World(reps, quotas, PLANS[plan], pd.DataFrame(), pd.DataFrame(), Deals.empty())
    pipeline, deals, quarters = Deals.empty(), [], []
    for period in (*calendar.WARM_UP, *calendar.HISTORY):
        quota = world.quota(period)
        quarter = run_quarter(reps, world.plan, quota, calendar.first_day(period), pipeline, 1,
                              rng, record=True)  # fmt: skip
        pipeline = quarter.pipeline
        deals.append(_deal_rows(quarter.decided, quarter.closed_on, quarter.won, quarter.amount))
        bookings = quarter.bookings[0]
        quarters.append(pd.DataFrame({"period": period, "rep": np.arange(reps.size),
                                      "target": quota, "bookings": bookings,
                                      "payout": world.plan.pay(bookings, quota),
                                      "effort": quarter.effort[0].mean(axis=1)}))  # fmt: skip
    deals.append(_deal_rows(pipeline, None, None, None))
    return World(reps, quotas, world.plan, pd.concat(deals, ignore_index=True),
                 pd.concat(quarters, ignore_index=True), pipeline)  # fmt: skip


def _deal_rows(deals: Deals, closed_on, won, amount) -> pd.DataFrame:
    """Decided deals (or, with `won` None, open ones) as a table."""
    open_ = won is None
    return pd.DataFrame({
        "rep": deals.rep, "grade": deals.grade, "source": deals.source,
        "created": deals.created, "closed_on": np.full(len(deals), -1) if open_ else closed_on,
        "list_amount": deals.list_amount, "amount": deals.list_amount if open_ else amount,
        "won": pd.array([pd.NA] * len(deals) if open_ else won, dtype="boolean"),
    })  # fmt: skip


@dataclass(frozen=True)
class Truth:
    """The next quarter under one plan: `summary` (metric x mean, se) over the worlds,
    and `runs` (one row per world)."""

    plan: str
    summary: pd.DataFrame
    runs: pd.DataFrame


def true_outcome(world: World, plan: str, worlds: int = 300, seed: int = 1) -> Truth:
    """Team bookings, payout, share of reps at target and mean effort in the next quarter
    under the plan named `plan`, from the history's open pipeline, over `worlds` worlds."""
    chosen = PLANS[plan]
    quota = world.quota(calendar.NEXT)
    quarter = run_quarter(world.reps, chosen, quota, calendar.first_day(calendar.NEXT),
                          world.pipeline.copies(worlds), worlds,
                          np.random.default_rng(seed))  # fmt: skip
    runs = pd.DataFrame({
        "bookings": quarter.bookings.sum(axis=1),
        "payout": chosen.pay(quarter.bookings, quota).sum(axis=1),
        "share_at_target": (quarter.bookings >= quota).mean(axis=1),
        "mean_effort": quarter.effort.mean(axis=(1, 2)),
    })  # fmt: skip
    summary = pd.DataFrame({"mean": runs.mean(), "se": runs.std(ddof=1) / np.sqrt(worlds)})
    return Truth(plan=plan, summary=summary, runs=runs)

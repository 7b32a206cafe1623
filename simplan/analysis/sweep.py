"""Sweeps: one scenario under many settings (target levels, gate and tier lines, rates).

Every point runs on the same seed, so points differ by their setting, not by luck. A point
is an override of the scenario (as in a proposal file); plan components are addressed by
`name` (or by `type` when there is one of that type), e.g. ("gate", "threshold").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from simplan.analysis.kpis import replication_kpis
from simplan.errors import SimplanError
from simplan.execution import shared_executor
from simplan.model.keypaths import set_path
from simplan.runner import simulate
from simplan.scenario import Scenario, deep_merge

Setting = tuple[str, str]  # (component name or type, field), e.g. ("gate", "threshold")


def sweep(
    scenario: Scenario,
    points: Sequence[dict[str, Any]],
    labels: Sequence[str],
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """KPIs per replication for each point (a scenario override); columns: point, replication, ...

    `progress(done, total)` counts replications over all points; `scheduler` ("local" or a
    Dask scheduler's address) runs every point on one cluster.
    """
    if not points:
        raise SimplanError("the sweep is empty: give at least one value to try")
    base = scenario.model_dump(by_alias=True, exclude_none=True)
    budget = scenario.plan.budget.total if scenario.plan and scenario.plan.budget else None
    variants = []
    for label, override in zip(labels, points, strict=True):
        try:
            variants.append(Scenario.model_validate(deep_merge(base, override)))
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            raise SimplanError(f"sweep point {label}: {first['msg']} (at {first['loc']})") from None
    frames = []
    with shared_executor(scheduler, workers or scenario.simulation.workers) as executor:
        for i, (label, variant) in enumerate(zip(labels, variants, strict=True)):
            results = simulate(
                variant,
                replications=replications,
                seed=seed,
                workers=workers,
                executor=executor,
                progress=_overall(progress, i, len(points)),
            )
            frames.append(replication_kpis(results, budget).assign(point=label))
    kpis = pd.concat(frames, ignore_index=True)
    return kpis[["point", *[c for c in kpis.columns if c != "point"]]]


def _overall(
    progress: Callable[[int, int], None] | None, point: int, points: int
) -> Callable[[int, int], None] | None:
    """Turn one point's (done, total) replications into the whole sweep's."""
    if progress is None:
        return None
    return lambda done, total: progress(point * total + done, points * total)


def summarise_points(kpis: pd.DataFrame) -> pd.DataFrame:
    """One row per point: mean bookings, payout P50/P90, cost of sales, share at target."""
    grouped = kpis.groupby("point", sort=False)
    return pd.DataFrame(
        {
            "bookings": grouped["bookings"].mean(),
            "payout_p50": grouped["payout"].median(),
            "payout_p90": grouped["payout"].quantile(0.9),
            "cost_of_sales": grouped["payout"].sum(min_count=1) / grouped["bookings"].sum(),
            "share_at_target": grouped["share_at_target"].mean(),
        }
    ).reset_index()


def target_sweep(
    scenario: Scenario,
    levels: Sequence[float],
    band: tuple[float, float] = (0.5, 0.8),
    **run: Any,
) -> pd.DataFrame:
    """Raise every quota by each level (0.1 = +10 %); flag levels whose share at target leaves `band`."""
    if scenario.team.quota is None:
        raise SimplanError(
            "a target sweep needs team.quota in the scenario (e.g. per_period: 200000)"
        )
    if not 0 <= band[0] < band[1] <= 1:
        raise SimplanError(f"band {band}: give two shares 0 <= low < high <= 1, e.g. 0.5 0.8")
    base = scenario.team.quota.per_period
    points = [{"team": {"quota": {"per_period": base * (1 + level)}}} for level in levels]
    labels = [f"{level:+.0%}" for level in levels]
    table = summarise_points(sweep(scenario, points, labels, **run))
    table.insert(1, "level", list(levels))
    table.insert(2, "target_per_period", [base * (1 + level) for level in levels])
    share = table["share_at_target"]
    table["outside_band"] = (share < band[0]) | (share > band[1])
    return table


def threshold_sweep(
    scenario: Scenario, grid: dict[Setting, Sequence[float]], **run: Any
) -> pd.DataFrame:
    """Every combination of plan settings, e.g. {("gate", "threshold"): [0.6, 0.7, 0.8]}."""
    if scenario.plan is None:
        raise SimplanError("a threshold sweep needs a plan in the scenario")
    for setting, values in grid.items():
        if not values:
            raise SimplanError(
                f"the range for {setting[0]}.{setting[1]} is empty; give at least one value"
            )
    settings = list(grid)
    combos = list(itertools.product(*grid.values()))
    points = [plan_override(scenario, dict(zip(settings, combo, strict=True))) for combo in combos]
    labels = [
        ", ".join(f"{c}.{f}={v:g}" for (c, f), v in zip(settings, combo, strict=True))
        for combo in combos
    ]
    table = summarise_points(sweep(scenario, points, labels, **run))
    for k, (component, field) in enumerate(settings):
        table.insert(1 + k, f"{component}.{field}", [combo[k] for combo in combos])
    table["pareto"] = pareto_front(table["bookings"].to_numpy(), table["cost_of_sales"].to_numpy())
    return table


def plan_override(scenario: Scenario, values: dict[Setting, float]) -> dict[str, Any]:
    """The scenario override that sets each (component, field) in the plan's components."""
    plan = scenario.plan.model_dump(by_alias=True, exclude_none=True)
    components = plan["components"]
    for (target, field), value in values.items():
        matches = [c for c in components if c.get("name") == target] or [
            c for c in components if c["type"] == target
        ]
        if len(matches) != 1:
            names = ", ".join(c.get("name") or c["type"] for c in components)
            raise SimplanError(
                f"the plan has {len(matches)} components called '{target}'; name one of: {names}"
            )
        try:
            set_path(matches[0], field, value)
        except SimplanError as err:
            raise SimplanError(f"plan component '{target}': {err}") from None
    return {"plan": plan}


def pareto_front(bookings: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """True where no other point books at least as much for no more cost (and is better in one)."""
    n = len(bookings)
    front = np.ones(n, dtype=bool)
    for i in range(n):
        better = (
            (bookings >= bookings[i])
            & (cost <= cost[i])
            & ((bookings > bookings[i]) | (cost < cost[i]))
        )
        front[i] = not better.any()
    return front

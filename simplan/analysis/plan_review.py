"""The scenarios a plan review compares, made from one base scenario without hand-written files.

`simplan compare team.yaml --plan current.yaml --plan proposal.yaml --targets q.csv --window
2026Q1`: the base scenario under each plan (named after the plan), over the chosen window, each
rep's quota set from the targets file. Every scenario is built and validated here, before any
simulation, so a bad plan, target or window is reported at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from simplan.errors import SimplanError
from simplan.history import read_targets
from simplan.model.calendar import reporting_periods
from simplan.model.periods import Periods, clock_periods
from simplan.model.plan import Plan
from simplan.scenario import Scenario, load_config, load_scenario, validate


def review_scenarios(
    base: Scenario | str | Path,
    proposals: Sequence[Scenario | str | Path] = (),
    plans: Sequence[str | Path] = (),
    targets: str | Path | None = None,
    reframe: Callable[[Scenario], Scenario] | None = None,
) -> list[Scenario]:
    """The baseline first, then each scenario to compare with it.

    Each plan file makes `base` with that plan; given plans, the first plan's scenario is the
    baseline (a calibrated base carries the plan in force, which the first `--plan` usually
    restates). Without plans `base` itself is the baseline. Proposal files follow. `reframe`
    puts every scenario on the chosen periods and window (e.g. `lambda s:
    s.with_window("2026Q1")`); then with `targets` (rep_id, period, target) each rep of the
    roster gets its target for the window as its quota.
    """
    base = base if isinstance(base, Scenario) else load_scenario(base)
    scenarios = [] if plans else [base]
    scenarios += [with_plan(base, path) for path in plans]
    scenarios += [p if isinstance(p, Scenario) else load_scenario(p) for p in proposals]
    if len(scenarios) < 2:
        raise SimplanError(
            "compare needs a baseline and at least one proposal: give proposal files, or "
            "--plan FILE for each plan (twice when the base scenario has no plan)"
        )
    if reframe is not None:
        scenarios = [reframe(s) for s in scenarios]
    if targets is not None:
        scenarios = [with_targets(s, targets) for s in scenarios]
    return scenarios


def with_plan(base: Scenario, path: str | Path) -> Scenario:
    """`base` under the plan in `path`, named after the plan (or the file when it has no name)."""
    plan = load_config(path, Plan)
    name = plan.name if "name" in plan.model_fields_set else Path(path).stem
    data = {**base.model_dump(by_alias=True), "name": name, "plan": plan}
    return validate(Scenario, data, f"{path} (as the plan of '{base.name}')")


def with_targets(scenario: Scenario, path: str | Path) -> Scenario:
    """`scenario` with each roster rep's quota set to their target for the simulated window.

    Targets may be written on the plan's clock or in the scenario's own period labels (then
    spread by days onto the plan's clock). The window's plan periods must give every rep one
    target (the quota is per plan period); reps missing from the file, or in it but not on the
    roster, are errors.
    """
    roster = scenario.team.roster
    if roster is None:
        raise SimplanError(
            f"--targets {path}: '{scenario.name}' generates its team, so there are no reps to "
            "give targets to; use a scenario with a roster (team.roster: reps.csv, as "
            "`simplan calibrate --roster` writes)"
        )
    clock = scenario.plan.clock if scenario.plan is not None else scenario.calendar.period
    business = reporting_periods(scenario.calendar)
    periods = _window_periods(scenario, clock_periods(clock, business))
    table = read_targets(path, clock, business)
    inside = table[table["period"].astype(str).isin(periods)]
    shown = ", ".join(str(p) for p in periods)
    if inside.empty:
        have = ", ".join(sorted({str(p) for p in table["period"]}))
        raise SimplanError(
            f"{path}: no targets for the window's {clock} {shown}; the file has {have}"
        )
    ids = [r.rep_id for r in roster]
    quota = _one_target_per_rep(inside, ids, len(periods), f"{path}", shown)
    rows = [{**r.model_dump(by_alias=True), "quota": quota[r.rep_id]} for r in roster]
    team = {**scenario.team.model_dump(by_alias=True), "roster": rows}
    data = {**scenario.model_dump(by_alias=True), "team": team}
    return validate(Scenario, data, f"{path} (as the targets of '{scenario.name}')")


def _window_periods(scenario: Scenario, clock: Periods) -> list[str]:
    """The labels of the plan periods the simulated window (calendar.start, days) touches."""
    start = pd.Timestamp(scenario.calendar.start)
    last = start + pd.Timedelta(days=scenario.calendar.days - 1)
    first, final = clock.index([start, last])
    return list(clock.labels[first : final + 1])


def _one_target_per_rep(
    inside: pd.DataFrame, ids: list[str], periods: int, source: str, shown: str
) -> dict[str, float]:
    """Each roster rep's target in the window; errors name unknown, missing and varying reps."""
    problems: list[str] = []
    unknown = sorted(set(inside["rep_id"]) - set(ids))
    if unknown:
        problems.append(f"rep_id {_few(unknown)} not on the roster; fix the id or drop the row")
    counts = inside.groupby("rep_id")["period"].nunique()
    missing = [r for r in ids if counts.get(r, 0) < periods]
    if missing:
        problems.append(f"no target in every period of {shown} for rep_id {_few(missing)}")
    spread = inside.groupby("rep_id")["target"].agg(["min", "max"])
    varying = sorted(spread.index[spread["min"] != spread["max"]])
    if varying:
        problems.append(
            f"rep_id {_few(varying)} has different targets across {shown}; the quota is one "
            "target per plan period, so give one target or simulate one period (--window)"
        )
    if problems:
        raise SimplanError(f"{source}: " + "; ".join(problems))
    return inside.groupby("rep_id")["target"].first().to_dict()


def _few(values: Sequence[Any], shown: int = 5) -> str:
    more = f" and {len(values) - shown} more" if len(values) > shown else ""
    return ", ".join(f"'{v}'" for v in values[:shown]) + more

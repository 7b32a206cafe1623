"""`simulate`: a scenario in, Results out; replications on an executor, with progress."""

from __future__ import annotations

import functools
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from simplan.engines.events import run_replication
from simplan.errors import SimplanError
from simplan.execution import Executor, choose_executor
from simplan.model.calendar import Calendar, build_calendar
from simplan.model.randomness import replication_seeds, team_seed
from simplan.model.team import Team, build_team
from simplan.model.uncertainty import drawn_scenarios
from simplan.results import Results, attach_payouts, combine, replication_tables
from simplan.scenario import Scenario, load_scenario

DEPENDENCIES = ("numpy", "scipy", "simpy", "pandas", "pyarrow", "pydantic")


def simulate(
    scenario: Scenario | str | Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Results:
    """Run a scenario's replications and return their tables.

    Arguments override the scenario's `simulation` settings. Replication i always uses the
    i-th stream of the root seed (and, when the scenario carries `uncertainty`, parameter draw
    i mod the number of draws), so the tables do not depend on the number of workers.
    `progress(done, total)` is called as replications finish. `scheduler` runs them on
    Dask: "local" starts a local cluster of `workers` processes, an address
    (tcp://HOST:PORT) uses a running one; `executor` passes any executor directly.
    """
    if executor is not None and scheduler is not None:
        raise SimplanError("give simulate an executor or a scheduler, not both")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.with_simulation(replications=replications, seed=seed, workers=workers)
    sim = scenario.simulation
    started = time.perf_counter()
    job = functools.partial(_replicate, _worlds(scenario, sim.seed))
    runner = executor or choose_executor(sim.workers, scheduler)
    parts: list[dict[str, pd.DataFrame]] = []
    work = {"engine": 0.0, "tables": 0.0, "payout": 0.0}
    seeds = replication_seeds(sim.seed, sim.replications)
    simulated = time.perf_counter()
    for tables, seconds in runner.map(job, list(enumerate(seeds))):
        parts.append(tables)
        for step, spent in seconds.items():
            work[step] += spent
        if progress:
            progress(len(parts), sim.replications)
    engine_seconds = time.perf_counter() - simulated
    manifest = {
        "scenario_name": scenario.name,
        "scenario_digest": scenario.digest(),
        "scenario": scenario.resolved(),
        "seed": sim.seed,
        "replications": sim.replications,
        "workers": sim.workers,
        "versions": _versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    results = combine(parts, manifest)
    results.manifest["timings_seconds"] = {
        "setup": round(simulated - started, 4),
        "replications_with_tables": round(engine_seconds, 4),
        "combine": round(time.perf_counter() - simulated - engine_seconds, 4),
    }
    # CPU seconds summed over workers: where the time goes, whatever the parallelism.
    results.manifest["work_seconds"] = {step: round(spent, 4) for step, spent in work.items()}
    return results


World = tuple[Scenario, Team, Calendar]


def _worlds(scenario: Scenario, seed: int) -> list[World]:
    """The scenario, team and calendar under each parameter draw (one world without draws),
    built once per run; a draw's team or calendar is rebuilt only if the draw changes it."""
    team = build_team(scenario.team, np.random.default_rng(team_seed(seed)))
    calendar = build_calendar(scenario.calendar, _plan_clock(scenario))
    return [
        (
            drawn,
            team
            if drawn.team is scenario.team
            else build_team(drawn.team, np.random.default_rng(team_seed(seed))),
            calendar
            if drawn.calendar is scenario.calendar
            else build_calendar(drawn.calendar, _plan_clock(drawn)),
        )
        for drawn in drawn_scenarios(scenario)
    ]


def _replicate(
    worlds: list[World], item: tuple[int, np.random.SeedSequence]
) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """Simulate replication i (under parameter draw i mod len(worlds)) and build its tables in
    the worker that ran it; time each step."""
    replication, seq = item
    scenario, team, calendar = worlds[replication % len(worlds)]
    start = time.perf_counter()
    records = run_replication(scenario, team, calendar, seq)
    simulated = time.perf_counter()
    tier_names = [t.name for t in scenario.leads.tiers]
    tables = replication_tables(records, replication, team, calendar, tier_names)
    tabled = time.perf_counter()
    if scenario.plan is not None:
        attach_payouts(tables, replication, team, calendar, scenario.plan)
    paid = time.perf_counter()
    return tables, {
        "engine": simulated - start,
        "tables": tabled - simulated,
        "payout": paid - tabled,
    }


def _plan_clock(scenario: Scenario) -> str | None:
    """The plan's clock (month, quarter), or None to run on the reporting periods."""
    return scenario.plan.clock if scenario.plan is not None else None


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("simplan", *DEPENDENCIES):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions

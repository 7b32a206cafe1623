"""`simulate`: a scenario in, Results out; replications on an executor, with progress."""

from __future__ import annotations

import functools
import platform
import time
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from simplan.engines import events, fast
from simplan.errors import SimplanError
from simplan.execution import Executor, choose_executor, worker_count
from simplan.model.calendar import Calendar, build_calendar
from simplan.model.randomness import replication_seeds, team_seed
from simplan.model.team import Team, build_team
from simplan.model.uncertainty import drawn_scenarios
from simplan.results import (
    Batch,
    Results,
    RunWriter,
    attach_payouts,
    batch_tables,
    combine,
    pay_runs,
    runs_table,
    statement_totals,
)
from simplan.scenario import Scenario, load_scenario

DEPENDENCIES = ("numpy", "scipy", "simpy", "pandas", "pyarrow", "pydantic")
BATCH = {"events": 1, "fast": 64}
"""Replications simulated together in one task, by engine: the fast engine pays its per-day
numpy work once per batch; the event engine runs them one by one."""
BATCH_REPS = 2400
"""A fast batch holds at most this many reps (replications x team size; at least one
replication), which bounds memory: with two workers a gate80_cap150 run (50 reps) peaked
at 1.4 GB (this process and its workers) in batches of 32 and 1.8 GB in batches of 64, so
48 keeps a 10,000-replication run, whose kept rows add about 0.2 GB, within 2 GB."""
BIG_TABLES = ("deals", "credits", "daily")
SAMPLE_REPLICATIONS = 20
"""With `keep`, the big tables not named in it are kept for this many replications only."""
KEEP_ALL_UP_TO = 200
"""`simplan run` without --keep keeps every table of up to this many replications; a longer
run streams (`default_keep`)."""


def simulate(
    scenario: Scenario | str | Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    engine: str | None = None,
    keep: Collection[str] | None = None,
    batch: int | None = None,
    out: str | Path | None = None,
    force: bool = False,
) -> Results:
    """Run a scenario's replications and return their tables.

    Arguments override the scenario's `simulation` settings. Replication i always uses the
    i-th stream of the root seed (and, when the scenario carries `uncertainty`, parameter draw
    i mod the number of draws), so the tables do not depend on the number of workers.
    `progress(done, total)` is called as replications finish. `scheduler` runs them on
    Dask: "local" starts a local cluster of `workers` processes, an address
    (tcp://HOST:PORT) uses a running one; `executor` passes any executor directly.
    `engine` is "events" (the reference) or "fast" (a day at a time, for volume).
    `keep` bounds memory: each replication reduces where it ran to its runs and reps rows and
    its statement totals per period and component, keeping the big tables (deals, credits,
    daily) named in `keep` for every replication and the others, with the statements line
    by line, for the first SAMPLE_REPLICATIONS; None keeps everything (see `default_keep`).
    `batch` caps the replications simulated together in one task (default: BATCH of the
    engine, fewer when that leaves a worker idle); it never changes the tables.
    `out` saves the run as it goes (`RunWriter`: a part per batch, refusing a non-empty
    directory unless `force`), so a run stopped early keeps every finished batch.
    """
    unknown = sorted(set(keep or ()) - set(BIG_TABLES))
    if unknown:
        raise SimplanError(
            f"keep: {', '.join(unknown)} is not a big table; choose from {', '.join(BIG_TABLES)}"
        )
    if executor is not None and scheduler is not None:
        raise SimplanError("give simulate an executor or a scheduler, not both")
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = scenario.with_simulation(
        replications=replications, seed=seed, workers=workers, engine=engine
    )
    sim = scenario.simulation
    started = time.perf_counter()
    kept = None if keep is None else frozenset(keep)
    worlds = _worlds(scenario, sim.seed)
    job = functools.partial(_replicate, worlds, kept)
    runner = executor or choose_executor(sim.workers, scheduler)
    parts: list[dict[str, pd.DataFrame]] = []
    work = {"engine": 0.0, "tables": 0.0, "payout": 0.0}
    seeds = replication_seeds(sim.seed, sim.replications)
    size = _batch_size(batch, sim.engine, sim.replications, sim.workers, worlds[0][1].size)
    tasks = [[(i, seeds[i]) for i in task] for task in batches(sim.replications, len(worlds), size)]
    manifest = {
        "scenario_name": scenario.name,
        "scenario_digest": scenario.digest(),
        "scenario": scenario.resolved(),
        "seed": sim.seed,
        "replications": sim.replications,
        "workers": sim.workers,
        "engine": sim.engine,
        "batch": size,
        "kept": "all" if kept is None else {"tables": sorted(kept), "sample": SAMPLE_REPLICATIONS},
        "versions": _versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    writer = None if out is None else RunWriter(out, force)
    simulated = time.perf_counter()
    done = 0
    for tables, seconds in runner.map(job, tasks):
        parts.append(tables)
        done += len(tables["runs"])
        for step, spent in seconds.items():
            work[step] += spent
        if writer is not None:
            writer.append(tables, {**manifest, "replications_done": done, "complete": False})
        if progress:
            progress(done, sim.replications)
    engine_seconds = time.perf_counter() - simulated
    results = combine(parts, manifest)
    results.manifest["timings_seconds"] = {
        "setup": round(simulated - started, 4),
        "replications_with_tables": round(engine_seconds, 4),
        "combine": round(time.perf_counter() - simulated - engine_seconds, 4),
    }
    # CPU seconds summed over workers: where the time goes, whatever the parallelism.
    results.manifest["work_seconds"] = {step: round(spent, 4) for step, spent in work.items()}
    if writer is not None:
        results.manifest["replications_done"] = done
        writer.finish(results)
    return results


def replication_runs(
    scenario: Scenario,
    *,
    replications: int,
    seed: int,
    engine: str | None = None,
    batch: int | None = None,
) -> pd.DataFrame:
    """Only each replication's `runs` row (bookings, payout, share at target, ...), simulated
    in this process: what a design candidate is judged by, thousands of times a run. The
    same rows as `simulate(..., workers=1).runs`, without the work nobody reads: lean deals
    and reps, no daily or statements table, no reps' payouts, nothing combined, no manifest."""
    scenario = scenario.with_simulation(
        replications=replications, seed=seed, workers=1, engine=engine
    )
    sim = scenario.simulation
    worlds = _worlds(scenario, sim.seed)
    seeds = replication_seeds(sim.seed, sim.replications)
    size = _batch_size(batch, sim.engine, sim.replications, 1, worlds[0][1].size)
    runs = pd.concat(
        [
            _replicate(worlds, frozenset(), [(i, seeds[i]) for i in task], runs_only=True)[0][
                "runs"
            ]
            for task in batches(sim.replications, len(worlds), size)
        ],
        ignore_index=True,
    )
    return runs.sort_values("replication", kind="stable", ignore_index=True)


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


def default_keep(replications: int) -> tuple[str, ...] | None:
    """What a command keeps when not told: everything (None) up to KEEP_ALL_UP_TO
    replications, beyond that a stream (the big tables for the sample only)."""
    return None if replications <= KEEP_ALL_UP_TO else ()


def batches(replications: int, draws: int, size: int) -> list[list[int]]:
    """Replication numbers in tasks of at most `size`, each under one parameter draw
    (replication i uses draw i mod `draws`), ordered by their first replication."""
    tasks = []
    for draw in range(draws):
        mine = list(range(draw, replications, draws))
        tasks += [mine[k : k + size] for k in range(0, len(mine), size)]
    return sorted(tasks)


def _batch_size(
    batch: int | None, engine: str, replications: int, workers: int | None, team_size: int
) -> int:
    """Replications per task: `batch`, or the engine's BATCH cut to BATCH_REPS reps and so
    that every worker gets work."""
    if batch is not None:
        if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
            raise SimplanError(f"batch = {batch!r}: give 1 or more replications per task")
        return batch
    share = -(-replications // worker_count(workers))
    return max(1, min(BATCH[engine], BATCH_REPS // max(team_size, 1), share))


def _replicate(
    worlds: list[World],
    keep: frozenset[str] | None,
    task: list[tuple[int, np.random.SeedSequence]],
    runs_only: bool = False,
) -> tuple[dict[str, pd.DataFrame], dict[str, float]]:
    """Simulate a task's replications (all under one parameter draw, i mod len(worlds)) and
    build their tables in the worker that ran them, stacked; time each step. `runs_only`
    builds lean tables and returns the runs table alone, paid without statements
    (`replication_runs`)."""
    first = task[0][0]
    scenario, team, calendar = worlds[first % len(worlds)]
    start = time.perf_counter()
    seqs = [seq for _, seq in task]
    if scenario.simulation.engine == "fast":
        records = fast.run_batch(scenario, team, calendar, seqs)
    else:
        records = [events.run_replication(scenario, team, calendar, seq) for seq in seqs]
    simulated = time.perf_counter()
    tier_names = [t.name for t in scenario.leads.tiers]
    batch = Batch(records, [replication for replication, _ in task], team, calendar, tier_names)
    plan = scenario.plan
    if runs_only:
        runs = runs_table(batch)
        tabled = time.perf_counter()
        if plan is not None:
            pay_runs(runs, batch, plan)
        paid = time.perf_counter()
        return {"runs": runs}, _steps(start, simulated, tabled, paid)
    # A streamed batch builds the big tables not in `keep` for the sample's replications only.
    sampled = int(np.searchsorted(batch.replications, SAMPLE_REPLICATIONS))
    rows_of = None if keep is None else dict.fromkeys(set(BIG_TABLES) - keep, sampled)
    tables = batch_tables(batch, rows_of)
    tabled = time.perf_counter()
    if plan is not None:
        attach_payouts(tables, batch, plan)
    if keep is not None:
        _stream(tables)
    return tables, _steps(start, simulated, tabled, time.perf_counter())


def _steps(start: float, simulated: float, tabled: float, paid: float) -> dict[str, float]:
    """Seconds of a task's steps: the engine, the tables, the payouts (with `keep`'s totals)."""
    return {"engine": simulated - start, "tables": tabled - simulated, "payout": paid - tabled}


def _stream(tables: dict[str, pd.DataFrame]) -> None:
    """A streamed batch's statements: past the first SAMPLE_REPLICATIONS, their totals per
    period and component (the table is in replication order)."""
    table = tables["statements"]
    replication = table["replication"].to_numpy()
    cut = int(np.searchsorted(replication, SAMPLE_REPLICATIONS)) if len(table) else 0
    if cut < len(table):
        totals = statement_totals(table.iloc[cut:])
        tables["statements"] = (
            pd.concat([table.iloc[:cut], totals], ignore_index=True) if cut else totals
        )


def _plan_clock(scenario: Scenario) -> str | None:
    """The plan's clock (month, quarter), or None to run on the reporting periods (no plan,
    or a plan with `clock: period`, which pays per the scenario's calendar.periods)."""
    clock = scenario.plan.clock if scenario.plan is not None else None
    return None if clock == "period" else clock


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("simplan", *DEPENDENCIES):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions

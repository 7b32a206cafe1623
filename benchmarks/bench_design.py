"""Designing a plan on the baseline quarter (50 reps who plan ahead), on all cores.

1. `optimise`: 3 plan settings (commission rate, gate, cap) for profit under a budget at 90 %,
   SIMPLAN_BENCH_CANDIDATES (200) candidates x SIMPLAN_BENCH_REPLICATIONS (200) replications,
   then 3 finalists and the starting plan on fresh seeds. Target: 5 min on 2 cores for 200 x 200.
2. `sensitivity`: Morris screening of 8 parameters (arrivals and win rates of the three tiers,
   the effort cost's curvature, the self-sourced share), SIMPLAN_BENCH_TRAJECTORIES (10)
   trajectories x SIMPLAN_BENCH_POINT_REPLICATIONS (20) replications. Target: 3 min.

Prints wall and CPU seconds (this process and its workers: on a shared machine the CPU
seconds say what the work costs, the wall what it took), replications per wall and per CPU
second, and, when the counts are reduced, the full size at the measured rate. A candidate
costs its effort policies (a dynamic program per plan period, whatever its replications) plus
its replications, so a reduced run should keep the replications and cut the candidates: the
projection is then linear in the candidates (the re-run is timed apart) and in Morris'
points; scaled up from fewer replications it is an upper bound.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from pathlib import Path

import psutil

from simplan import load_scenario
from simplan.analysis.design_goal import Goal, Lever
from simplan.analysis.optimise import optimise
from simplan.analysis.plan_review import with_plan
from simplan.analysis.sensitivity import Factor, scenario_model, scenario_values, sensitivity

ROOT = Path(__file__).parent.parent
LEVERS = [
    Lever("tiered_commission", "tiers[0].rate", 0.06, 0.14),
    Lever("gate", "threshold", 0.5, 0.9),
    Lever("attainment_cap", "max_attainment", 1.2, 3.0),
]
FACTORS = [
    *(
        Factor(f"leads.tiers[{i}].arrivals_per_day", 0.8 * a, 1.2 * a)
        for i, a in enumerate((5, 29, 30))
    ),
    *(
        Factor(f"leads.tiers[{i}].win_probability", 0.8 * w, 1.2 * w)
        for i, w in enumerate((0.45, 0.22, 0.04))
    ),
    Factor("behaviour.cost_curvature", 1.5, 3.0),
    Factor("production.self_sourced_share", 0.15, 0.35),
]
FINALISTS = 3


def team():
    """The baseline quarter under the gate-and-cap plan, with reps who plan ahead."""
    base = with_plan(
        load_scenario(ROOT / "scenarios" / "baseline_quarter.yaml"),
        ROOT / "scenarios" / "plans" / "gate80_cap150.yaml",
    )
    return base.model_copy(
        update={"behaviour": base.behaviour.model_copy(update={"model": "optimising"})}
    )


def cpu_seconds() -> float:
    """CPU seconds of this process, of its finished workers and of those still running (a
    design run's pool lives until the run ends, so the search's share is read mid-run)."""
    own, workers = (
        resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    running = 0.0
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a worker that exited meanwhile
            times = child.cpu_times()
            running += times.user + times.system
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime + running


def bench_optimise() -> None:
    candidates = int(os.environ.get("SIMPLAN_BENCH_CANDIDATES", "200"))
    replications = int(os.environ.get("SIMPLAN_BENCH_REPLICATIONS", "200"))
    goal = Goal("profit", margin=0.3, budget=1_500_000, confidence=0.9)
    searched: list[float] = []  # wall and CPU seconds when the last candidate is in

    def progress(done: int, total: int, step: str) -> None:
        if step == "candidates" and done == total:  # the search is over, the re-run next
            searched.extend([time.perf_counter(), cpu_seconds()])

    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), cpu_seconds()
    design = optimise(
        team(), LEVERS, goal, candidates=candidates, replications=replications,
        finalists=FINALISTS, progress=progress,
    )  # fmt: skip
    wall, cpu, started = time.perf_counter() - start, cpu_seconds() - cpu, cpu
    search, search_cpu = searched[0] - start, searched[1] - started
    rerun = wall - search
    runs = (candidates + FINALISTS + 1) * replications
    print(f"== optimise: 3 settings, {candidates} candidates x {replications} replications, "
          f"{os.cpu_count()} cores (load {load:.1f} at the start)")  # fmt: skip
    print(f"   wall        {wall:8.1f} s   (search {search:.1f} s, re-run {rerun:.1f} s)")
    print(f"   CPU         {cpu:8.1f} s   over all processes (search {search_cpu:.1f} s, "
          f"{search_cpu / candidates:.2f} s a candidate; re-run {cpu - search_cpu:.1f} s)")  # fmt: skip
    print(f"   rate        {runs / wall:8.2f} replications/s wall, {runs / cpu:.2f} per CPU second")
    if (candidates, replications) != (200, 200):
        scale = 200 / replications  # an upper bound when < 1: policies do not grow with it
        full = (search / candidates * 200 + rerun) * scale
        idle = (search_cpu / candidates * 200 + cpu - search_cpu) * scale / (os.cpu_count() or 1)
        print(f"   200 x 200   {full / 60:8.1f} min at this rate, {idle / 60:.1f} min on idle "
              "cores at these CPU seconds a candidate and re-run (target 5 min)")  # fmt: skip
    best = design.finalists.iloc[0]
    print(
        f"   chosen      {design.best_name}: "
        + ", ".join(f"{lever.name}={best[lever.name]:.3g}" for lever in LEVERS)
    )
    print(f"   profit vs start on fresh seeds {best['difference']:,.0f} [{best['diff_ci_low']:,.0f}, {best['diff_ci_high']:,.0f}]; "
          f"payout P90 {best['payout_at_confidence']:,.0f} (budget {goal.budget:,.0f}); " + "; ".join(design.notes))  # fmt: skip


def bench_morris() -> None:
    trajectories = int(os.environ.get("SIMPLAN_BENCH_TRAJECTORIES", "10"))
    replications = int(os.environ.get("SIMPLAN_BENCH_POINT_REPLICATIONS", "20"))
    scenario = team()
    model = scenario_model([scenario], "bookings", replications=replications, seed=2025)
    centre = scenario_values(scenario, [f.path for f in FACTORS])
    load = os.getloadavg()[0]
    start, cpu = time.perf_counter(), cpu_seconds()
    found = sensitivity(model, FACTORS, centre, method="morris", samples=trajectories, seed=0)
    wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    runs = found.evaluations * replications
    points = 10 * (len(FACTORS) + 1) + 2 * len(FACTORS) + 1
    print(f"== Morris: 8 parameters, {trajectories} trajectories x {replications} replications "
          f"({found.evaluations} points, load {load:.1f} at the start)")  # fmt: skip
    print(f"   wall        {wall:8.1f} s   CPU {cpu:.1f} s over all processes")
    print(f"   rate        {runs / wall:8.2f} replications/s wall, {runs / cpu:.2f} per CPU second")
    if (trajectories, replications) != (10, 20):
        full = wall / found.evaluations * points * 20 / replications
        idle = cpu / found.evaluations * points * 20 / replications / (os.cpu_count() or 1)
        print(f"   10 x 20     {full / 60:8.1f} min at this rate, {idle / 60:.1f} min on idle "
              f"cores at these CPU seconds ({points} points; target 3 min)")  # fmt: skip
    print(found.indices.to_string(index=False, float_format=lambda v: f"{v:,.3g}"))


if __name__ == "__main__":
    bench_optimise()
    bench_morris()

"""The engines' own cost, measured side by side in one run (the machine may be shared).

1. One replication of proposals/gate80_cap150 (plan-responsive reps): the event engine, the
   fast engine (a batch as `simulate` gives it, replications advanced together, per replication), and a
   bare-SimPy twin doing the event engine's work without its model (benchmarks/twin.py:
   it replays the engine's run, the same events and touches at the same instants, and the
   counts of both are printed beside the times). Interleaved, so the
   machine's load hits all three alike. Ratios: fast / events (target >= 100 x), events /
   twin (target <= 2 x).
2. A 200-rep quarter (baseline_quarter with 4x the team and the leads) through `simulate`
   on the fast engine, 2 workers, streamed (big tables for a sample): SIMPLAN_BENCH_BIG
   replications (default 128) timed, 10,000 extrapolated from the wall time and from the
   CPU seconds of the process and its workers (half of them: 2 cores to itself, what a
   quiet machine would take); peak memory of the run and the memory its tables keep per
   replication, extrapolated to 10,000.
3. The same for `simplan budget`'s run of proposals/gate80_cap150 (baseline_quarter with
   its plan: the baseline itself has none to size).
4. `simplan run scenarios/proposals/gate80_cap150.yaml --engine fast --replications N`
   (SIMPLAN_BENCH_RUN, default 1,000; 2 workers) as a command: wall time and the peak memory
   of the command and its workers, 10,000 extrapolated.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import psutil
from twin import differences, engine_counts, replay, script_of, summary

from simplan import load_scenario, runner, simulate
from simplan.engines import events, fast
from simplan.model.calendar import build_calendar
from simplan.model.randomness import replication_seeds, team_seed
from simplan.model.team import build_team
from simplan.runner import SAMPLE_REPLICATIONS
from simplan.scenario import Scenario

HERE = Path(__file__).parent
PROPOSAL = HERE.parent / "scenarios" / "proposals" / "gate80_cap150.yaml"
BASELINE = HERE.parent / "scenarios" / "baseline_quarter.yaml"


def _setup(scenario: Scenario):
    team = build_team(scenario.team, np.random.default_rng(team_seed(scenario.simulation.seed)))
    return scenario, team, build_calendar(scenario.calendar)


def scaled(scenario: Scenario, factor: int) -> Scenario:
    """The scenario with `factor` times the team and every tier's and source's arrivals."""
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    data["team"]["size"] *= factor
    for tier in data["leads"]["tiers"]:
        tier["arrivals_per_day"] *= factor
    for source in data["leads"]["sources"]:
        source["arrivals_per_day"] *= factor
    data["name"] = f"{scenario.name}_x{factor}"
    return Scenario.model_validate(data)


def simulate_batch(team_size: int) -> int:
    """The batch `simulate` gives the fast engine for a team of this size (a long run)."""
    return max(1, min(runner.BATCH["fast"], runner.BATCH_REPS // team_size))


def sampled_peak_mb(run):
    """Run `run()` while sampling the resident memory of this process plus its workers every
    0.1 s; returns its result and the peak of that sum in MB."""
    me = psutil.Process()
    peak, stop = [0], threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                total = sum(p.memory_info().rss for p in [me, *me.children(recursive=True)])
            except psutil.Error:  # a worker ended between listing and reading
                continue
            peak[0] = max(peak[0], total)
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = run()
    finally:
        stop.set()
        sampler.join()
    return result, peak[0] / 2**20


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its children that have ended."""
    me, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


def streamed(scenario: Scenario, replications: int) -> tuple[float, float, float, float]:
    """Wall seconds, CPU seconds (this process and its workers), peak memory (MB, the
    process and its workers together) and the MB its tables keep per replication, for a
    streamed fast run on 2 workers."""
    start, cpu = time.perf_counter(), cpu_seconds()
    results, peak = sampled_peak_mb(
        lambda: simulate(scenario, replications=replications, workers=2, engine="fast", keep=())
    )
    seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    streamed_part = [t[t["replication"] >= SAMPLE_REPLICATIONS] for t in results.tables().values()]
    kept = sum(int(t.memory_usage(deep=True).sum()) for t in streamed_part) / 2**20
    return seconds, cpu, peak, kept / max(replications - SAMPLE_REPLICATIONS, 1)


def command_run(replications: int) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (the command and its workers) and peak memory (MB, the
    command and its workers, sampled every 0.1 s) of `simplan run` on the demo proposal
    with the fast engine and 2 workers."""
    simplan = str(Path(sys.executable).with_name("simplan"))  # the command beside this Python
    command = [simplan, "run", str(PROPOSAL), "--engine", "fast",
               "--replications", str(replications), "--workers", "2", "--quiet"]  # fmt: skip
    start, cpu = time.perf_counter(), cpu_seconds()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    tree, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            total = sum(p.memory_info().rss for p in [tree, *tree.children(recursive=True)])
        except psutil.Error:  # a worker ended between listing and reading
            continue
        peak = max(peak, total)
        time.sleep(0.1)
    if child.returncode:
        raise SystemExit(f"simplan run failed with exit code {child.returncode}")
    return time.perf_counter() - start, cpu_seconds() - cpu, peak / 2**20


def main() -> None:
    repeat = int(os.environ.get("SIMPLAN_BENCH_REPEAT", "3"))
    scenario, team, calendar = _setup(load_scenario(PROPOSAL))
    size = simulate_batch(team.size)
    seqs = replication_seeds(scenario.simulation.seed, repeat * size)
    fast.run_batch(scenario, team, calendar, seqs[:2])  # warm imports and policy caches
    events.run_replication(scenario, team, calendar, seqs[0])
    scripts = [script_of(scenario, team, calendar, seqs[k * size]) for k in range(repeat)]
    timings: dict[str, list[float]] = {"events": [], "fast": [], "twin": []}
    cpu_timings: dict[str, list[float]] = {"events": [], "fast": []}
    for k in range(repeat):
        batch = seqs[k * size : (k + 1) * size]
        for name, fn, args in (
            ("events", events.run_replication, batch[0]),
            ("fast", fast.run_batch, batch),
            ("twin", lambda *_, script=scripts[k][0]: replay(script), None),
        ):
            start, cpu = time.perf_counter(), time.process_time()
            fn(scenario, team, calendar, args)
            per = 1 if name != "fast" else size
            timings[name].append((time.perf_counter() - start) / per)
            if name in cpu_timings:
                cpu_timings[name].append((time.process_time() - cpu) / per)
    ev, fa, tw = (statistics.median(timings[k]) for k in ("events", "fast", "twin"))
    print(f"== one replication of {scenario.name}, one core (median of {repeat}, interleaved)")
    print(f"   event engine        {ev:8.3f} s")
    print(f"   fast engine         {fa:8.3f} s   (batches of {size}, per replication)")
    print(f"   same-work SimPy twin{tw:8.3f} s   (benchmarks/twin.py: replays the engine's run)")
    script, records = scripts[-1]
    counts = replay(script)
    wrong = differences(engine_counts(records), counts)
    print(f"   same work, both     {summary(counts)}" + (f"   NOT SAME: {wrong}" if wrong else ""))
    print(f"   fast speed-up       {ev / fa:8.1f} x   target >= 100 x")
    cpu = {name: statistics.median(times) for name, times in cpu_timings.items()}
    print(f"   in CPU seconds      {cpu['events']:8.3f} s / {cpu['fast']:.4f} s = "
          f"{cpu['events'] / cpu['fast']:.1f} x   target >= 100 x")  # fmt: skip
    print(f"   events / twin       {ev / tw:8.2f} x   target <= 2 x")

    big_n = int(os.environ.get("SIMPLAN_BENCH_BIG", "128"))
    big = scaled(load_scenario(BASELINE), 4)
    for title, run in (
        (f"{big.name} ({big.team.size} reps), simplan run --engine fast", big),
        (f"{scenario.name}, simplan budget (fast engine)", scenario),
    ):
        seconds, cpu, peak, per = streamed(run, big_n)
        print(f"== {title}: {big_n} replications, 2 workers, streamed")
        print(f"   wall time           {seconds:8.1f} s   ({seconds / big_n * 1000:.0f} ms each)")
        print(f"   10,000 extrapolated {seconds / big_n * 10_000:8.0f} s   target <= 60 s")
        print(f"   CPU time            {cpu:8.1f} s   ({cpu / big_n * 1000:.0f} ms each; 10,000 on "
              f"2 idle cores {cpu / big_n * 10_000 / 2:.0f} s, target <= 60 s)")  # fmt: skip
        print(f"   peak memory         {peak:8.0f} MB (this process and its workers, sampled; "
              "target <= 2048 MB)")  # fmt: skip
        print(f"   kept per replication{per * 1000:8.1f} kB: 10,000 keep {per * 10_000:.0f} MB")

    runs = int(os.environ.get("SIMPLAN_BENCH_RUN", "1000"))
    seconds, cpu, peak = command_run(runs)
    print(f"== simplan run {PROPOSAL.name} --engine fast --replications {runs}, 2 workers")
    print(f"   wall time           {seconds:8.1f} s   ({seconds / runs * 1000:.0f} ms each)")
    print(f"   10,000 extrapolated {seconds / runs * 10_000:8.0f} s   target about 60 s")
    print(f"   CPU time            {cpu:8.1f} s   ({cpu / runs * 1000:.0f} ms each; 10,000 on "
          f"2 idle cores {cpu / runs * 10_000 / 2:.0f} s, target about 60 s)")  # fmt: skip
    print(f"   peak memory         {peak:8.0f} MB (the command and its workers, sampled; "
          "target <= 2048 MB)")  # fmt: skip


if __name__ == "__main__":
    main()

"""`make bench`: the figures the issues ask for, printed in one run.

1. One replication of baseline_quarter on one core, against a bare SimPy twin that runs the
   same number of processes and events with no model logic (the kernel's floor).
2. Replications per second on one worker and on two.
3. The payout engine (benchmarks/bench_payouts.py), when present.
"""

from __future__ import annotations

import runpy
import statistics
import time
from pathlib import Path

import numpy as np
import simpy

from simplan import load_scenario, simulate
from simplan.engines.events import run_replication
from simplan.model.calendar import build_calendar
from simplan.model.randomness import replication_seeds, team_seed
from simplan.model.team import build_team

HERE = Path(__file__).parent
SCENARIO = HERE.parent / "scenarios" / "baseline_quarter.yaml"


def best_of(fn, repeat: int = 7) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def simpy_twin(processes: int, events: int, seed: int = 0) -> int:
    """Bare SimPy: `processes` processes sharing the timeouts so the kernel schedules `events`."""
    env = simpy.Environment()
    # Each process costs two events of its own (start and end); the rest are timeouts.
    timeouts = max(events - 2 * processes, 0)
    per_process = np.full(processes, timeouts // processes)
    per_process[: timeouts % processes] += 1
    delays = np.random.default_rng(seed).exponential(0.5, timeouts).tolist()

    def proc(k: int, offset: int):
        for j in range(k):
            yield env.timeout(delays[offset + j])

    offset = 0
    for k in per_process.tolist():
        env.process(proc(k, offset))
        offset += k
    env.run()
    return next(env._eid)  # events scheduled, for the record


def main() -> None:
    scenario = load_scenario(SCENARIO)
    team = build_team(scenario.team, np.random.default_rng(team_seed(scenario.simulation.seed)))
    calendar = build_calendar(scenario.calendar)
    seq = replication_seeds(scenario.simulation.seed, 1)[0]

    engine_s, rec = best_of(lambda: run_replication(scenario, team, calendar, seq))
    twin_s, twin_events = best_of(lambda: simpy_twin(rec.processes, rec.events))
    print("== one replication of baseline_quarter, one core (median of 7)")
    print(
        f"   simplan engine      {engine_s:7.3f} s   ({rec.processes:,} processes, {rec.events:,} events)   target <= 0.5 s"
    )
    print(
        f"   bare SimPy twin     {twin_s:7.3f} s   ({rec.processes:,} processes, {twin_events:,} events)"
    )
    print(f"   ratio engine/twin   {engine_s / twin_s:7.2f} x   target <= 1.5 x")

    n = 32
    simulate(scenario, replications=2, workers=2)  # warm the page cache and imports
    one_s, _ = best_of(lambda: simulate(scenario, replications=n, workers=1), repeat=3)
    two_s, _ = best_of(lambda: simulate(scenario, replications=n, workers=2), repeat=3)
    print(f"== {n} replications, tables included (median of 3)")
    print(f"   1 worker            {n / one_s:7.1f} replications/s")
    print(f"   2 workers           {n / two_s:7.1f} replications/s")
    print(f"   speed-up            {one_s / two_s:7.2f} x   target >= 1.8 x")

    payouts = HERE / "bench_payouts.py"
    if payouts.is_file():
        print("== payout engine")
        runpy.run_path(str(payouts), run_name="__main__")


if __name__ == "__main__":
    main()

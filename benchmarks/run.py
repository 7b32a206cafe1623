"""`make bench`: the figures the issues ask for, printed in one run.

1. The engines side by side (benchmarks/bench_engine.py): event engine, fast engine and a
   bare-SimPy twin doing the event engine's work (same leads, queues and touch budgets).
2. Replications per second on one worker and on two.
3. The payout engine (benchmarks/bench_payouts.py), when present.
"""

from __future__ import annotations

import runpy
import statistics
import time
from pathlib import Path

from simplan import load_scenario, simulate

HERE = Path(__file__).parent
SCENARIO = HERE.parent / "scenarios" / "baseline_quarter.yaml"


def best_of(fn, repeat: int = 7) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    runpy.run_path(str(HERE / "bench_engine.py"), run_name="__main__")
    scenario = load_scenario(SCENARIO)

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

"""A 5-point threshold sweep x 200 replications of the baseline quarter, on all cores.

Prints the wall time and where the work went: the engine, building tables, the payout
engine (CPU seconds summed over workers), and the analysis (KPIs and the sweep table).
`SIMPLAN_BENCH_REPLICATIONS` changes the replication count.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pandas as pd

from simplan import load_scenario, simulate
from simplan.analysis.kpis import replication_kpis
from simplan.analysis.sweep import pareto_front, plan_override, summarise_points
from simplan.scenario import Scenario, deep_merge

SCENARIO = Path(__file__).parent.parent / "scenarios" / "proposals" / "gate80_cap150.yaml"
GATES = (0.6, 0.675, 0.75, 0.825, 0.9)


def main() -> None:
    replications = int(os.environ.get("SIMPLAN_BENCH_REPLICATIONS", "200"))
    base = load_scenario(SCENARIO)
    work = {"engine": 0.0, "tables": 0.0, "payout": 0.0, "analysis": 0.0}
    frames = []
    start = time.perf_counter()
    for gate in GATES:
        override = plan_override(base, {("gate", "threshold"): gate})
        variant = Scenario.model_validate(
            deep_merge(base.model_dump(by_alias=True, exclude_none=True), override)
        )
        results = simulate(variant, replications=replications)
        for step, spent in results.manifest["work_seconds"].items():
            work[step] += spent
        t = time.perf_counter()
        frames.append(replication_kpis(results).assign(point=f"gate {gate:g}"))
        work["analysis"] += time.perf_counter() - t
    t = time.perf_counter()
    table = summarise_points(pd.concat(frames, ignore_index=True))
    table["pareto"] = pareto_front(table["bookings"].to_numpy(), table["cost_of_sales"].to_numpy())
    work["analysis"] += time.perf_counter() - t
    wall = time.perf_counter() - start
    total = sum(work.values())
    print(
        f"== threshold sweep: {len(GATES)} gate levels x {replications} replications of {base.name}, {os.cpu_count()} cores"
    )
    print(
        f"   wall time           {wall:8.1f} s   ({len(GATES) * replications / wall:.1f} replications/s)"
    )
    for step, spent in work.items():
        print(f"   {step:<19} {spent:8.1f} CPU s   {spent / total:6.1%}")
    print(
        table.to_string(
            index=False, float_format=lambda v: f"{v:,.3f}" if abs(v) < 10 else f"{v:,.0f}"
        )
    )


if __name__ == "__main__":
    main()

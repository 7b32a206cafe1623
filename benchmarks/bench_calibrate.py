"""Calibration speed on the example CRM (8,800 opportunities): import + validation, then
calibration without behaviour fitting (target: at most 30 s together), then a backtest.

Reads `../shared/data/maven_crm` beside the repository (or `SIMPLAN_BENCH_CRM=DIR`).
`SIMPLAN_BENCH_REPLICATIONS` sets the backtest's replications (default 100; 0 skips it).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

TARGET_SECONDS = 30.0


def main() -> None:
    started = time.perf_counter()
    from simplan.analysis.backtest import backtest
    from simplan.analysis.calibrate import Calibrator
    from simplan.history import read_opportunities

    imported = time.perf_counter()
    default = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "maven_crm"
    folder = Path(os.environ.get("SIMPLAN_BENCH_CRM", default))
    history = read_opportunities(
        folder / "sales_pipeline.csv",
        preset="maven_crm",
        roster=folder / "sales_teams.csv",
        products=folder / "products.csv",
    )
    validated = time.perf_counter()
    fitted = Calibrator().fit(history)
    calibrated = time.perf_counter()
    total = calibrated - started
    rows = [
        ("import simplan", imported - started),
        (f"read + validate {len(history.deals):,} opportunities", validated - imported),
        ("calibrate (no behaviour fitting)", calibrated - validated),
        ("import + validation + calibration", total),
    ]
    replications = int(os.environ.get("SIMPLAN_BENCH_REPLICATIONS", "100"))
    if replications:
        result = backtest(history, "2017-09-30", replications=replications, parameter_draws=10)
        rows.append(
            (f"backtest Q4 2017 ({replications} replications)", time.perf_counter() - calibrated)
        )
        cover = result.coverage.set_index("group").loc["all"]
    width = max(len(name) for name, _ in rows)
    print(f"calibration on {folder / 'sales_pipeline.csv'}")
    for name, seconds in rows:
        print(f"  {name:<{width}}  {seconds:7.2f} s")
    print(f"  target import + validation + calibration <= {TARGET_SECONDS:.0f} s: "
          f"{'met' if total <= TARGET_SECONDS else 'MISSED'} ({total / TARGET_SECONDS:.0%} of it)")  # fmt: skip
    print(f"  {len(fitted.scenario_.team.roster)} reps, {len(fitted.scenario_.leads.tiers)} tiers")
    if replications:
        print(
            f"  backtest coverage: 50 % intervals {cover['coverage50']:.0%}, 90 % intervals "
            f"{cover['coverage90']:.0%} of {int(cover['values'])} values"
        )


if __name__ == "__main__":
    main()

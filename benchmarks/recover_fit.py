"""Does the behaviour fit recover its own parameters? The recovery of `tests/recovery.py`:
histories simulated by simplan at known values on the test world's calibrated team, each
fitted as calibrate fits a history, against one grid simulated at calibrate's seed.

    python benchmarks/recover_fit.py [--truths all|quick] [--histories 4] [--replications 4]
                                     [--workers 2] [--json FILE]

Prints, per truth, the points' mean and the ranges' coverage per parameter, then per parameter
the coverage of all 90 % ranges, the bias and the mean width of the range as a share of the
prior's (1 = the history says nothing). CPU seconds are this process and its workers'.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test world (tests/worlds)

from tests.recovery import calibrated_team, children_cpu, recover, simulate, summary  # noqa: E402

TRUTHS = {
    "all": (
        (0.2, 0.05, 1.8, 1.0),
        (0.2, 0.3, 2.5, 0.0),
        (0.45, 0.15, 2.0, 1.0),
        (0.45, 0.15, 2.6, 0.0),
        (0.65, 0.05, 2.4, 1.0),
        (0.65, 0.3, 1.7, 0.0),
    ),
    "quick": ((0.25, 0.1, 1.8, 1.0), (0.6, 0.3, 2.5, 0.0)),
}
"""Truths spanning the grid (0.1..0.7, 0..0.4, 1.6..2.8, sight 0 or 1), on the fine grid's values."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", choices=sorted(TRUTHS), default="all")
    parser.add_argument("--histories", type=int, default=4, help="histories per truth")
    parser.add_argument("--replications", type=int, default=4, help="per grid point")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the per-history table here")
    args = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time() + children_cpu()
    with tempfile.TemporaryDirectory() as directory:
        team = calibrated_team(Path(directory), args.workers)
    calibrate_cpu = time.process_time() + children_cpu() - cpu
    simulated = simulate(team, TRUTHS[args.truths], args.histories, args.replications,
                         args.workers)  # fmt: skip
    fitting = time.process_time()
    table = recover(simulated, team.window)
    fitting = time.process_time() - fitting
    by_truth, overall = summary(table)
    pd.set_option("display.width", 160)
    print(f"recovery: {len(TRUTHS[args.truths])} truths x {args.histories} histories, grid 36 x "
          f"{args.replications} replications, {len(team.window.base['team']['roster'])} reps")  # fmt: skip
    print(by_truth.round(3).to_string())
    print(overall.round(3).to_string())
    print(f"CPU: calibrate {calibrate_cpu:.0f} s, simulate {simulated.cpu_seconds:.0f} s, "
          f"fits {fitting:.1f} s; wall {time.perf_counter() - started:.0f} s")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(table.to_dict(orient="records"), indent=1) + "\n")


if __name__ == "__main__":
    main()

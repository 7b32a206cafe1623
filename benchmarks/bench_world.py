"""Issue 10's speed figures on the ground-truth world (30 reps, four quarters of history):
calibrate with the behaviour fit (target <= 5 min on 2 cores), and compare two plans x 100
replications of the next quarter (target <= 2 min), through the `simplan` command as a
planner runs them. Prints predicted against the world's truth, and writes them to
`tests/data/world_predictions.json` (the README quotes that file).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.world_check import FIGURES, predict  # noqa: E402

TARGETS = {"calibrate": 300.0, "compare": 120.0}


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        prediction = predict(Path(folder), "current", replications=100)
    print("ground-truth world: calibrate on 2025 under `current`, predict 2026Q1")
    for step, target in TARGETS.items():
        seconds, cpu = prediction.seconds[step], prediction.seconds[f"{step}_cpu"]
        verdict = "met" if seconds <= target else "MISSED"
        print(
            f"  {step:<10} {seconds:7.1f} s wall ({cpu:.1f} CPU s over its processes)   "
            f"target <= {target:.0f} s on 2 cores: {verdict}"
        )
    table = prediction.table()
    print(table.to_string(index=False, float_format=lambda v: f"{v:,.3f}"))
    prediction.save()
    print(f"  written to {FIGURES.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

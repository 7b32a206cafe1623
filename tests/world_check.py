"""A planner's three commands on a ground-truth world's export, beside the world's own truth.

    calibrate deals.csv --roster reps.csv --targets quotas.csv --calendar periods.csv --plan P
    compare team.yaml --plan current.yaml --plan proposal.yaml --targets next_quotas.csv
            --calendar periods.csv --window 2026Q1
    report cmp

run as a user runs them (the installed `simplan` command), on the world written by
`tests.worlds.write_world`. Used by `tests/test_world_predictions.py` and
`benchmarks/bench_world.py`.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from tests.worlds import SIMPLAN_MAP, true_outcome, write_world

PLANS = ("current", "proposal")
METRICS = ("bookings", "payout", "share_at_target")
SIMPLAN = Path(sys.executable).with_name("simplan")
FIGURES = Path(__file__).parent / "data" / "world_predictions.json"
"""The README's world figures: written by `save` (benchmarks/bench_world.py runs it)."""


@dataclass
class Prediction:
    """What the commands printed and wrote, the world's truth, and how long each took."""

    summary: pd.DataFrame  # compare's summary: scenario, metric, mean, pi_low, pi_high, ...
    differences: pd.DataFrame  # proposal - current: metric, difference, pi_low, pi_high, ...
    notes: str  # the calibration report's notes
    truth: dict[str, pd.DataFrame]  # plan -> metric x (mean, se)
    printed: dict[str, str] = field(default_factory=dict)  # command -> its stdout
    seconds: dict[str, float] = field(default_factory=dict)  # wall, and `<command>_cpu`

    def table(self) -> pd.DataFrame:
        """Predicted (with the 90 % predictive interval) against the truth, per plan and metric."""
        summary = self.summary.set_index(["scenario", "metric"])
        rows = []
        for plan in PLANS:
            for metric in METRICS:
                row = summary.loc[(plan, metric)]
                rows.append((plan, metric, row["mean"], row["pi_low"], row["pi_high"],
                             self.truth[plan].loc[metric, "mean"]))  # fmt: skip
        for metric in METRICS:
            row = self.differences.set_index("metric").loc[metric]
            true = self.true_effect(metric)
            rows.append(("effect", metric, row["difference"], row["pi_low"], row["pi_high"], true))
        columns = ["plan", "metric", "predicted", "pi_low", "pi_high", "truth"]
        return pd.DataFrame(rows, columns=columns)

    def save(self, path: Path = FIGURES) -> None:
        """Write the predicted-vs-truth table, the calibration's behaviour notes and the
        timings as JSON (what the README quotes)."""
        behaviour = [line for line in self.notes.splitlines() if "behaviour" in line]
        record = {"seconds": self.seconds, "behaviour": behaviour,
                  "table": self.table().to_dict(orient="records")}  # fmt: skip
        path.write_text(json.dumps(record, indent=2) + "\n")

    def true_effect(self, metric: str) -> float:
        """The world's proposal - current for `metric`."""
        return float(
            self.truth["proposal"].loc[metric, "mean"] - self.truth["current"].loc[metric, "mean"]
        )


def simplan(*args: object) -> str:
    """Run the installed `simplan` command; its stdout, or a failure showing its stderr."""
    done = subprocess.run(
        [str(SIMPLAN), *map(str, args)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"simplan {' '.join(map(str, args))} exited {done.returncode}:\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")  # fmt: skip
    return done.stdout


def predict(
    directory: Path,
    history_plan: str = "current",
    seed: int = 0,
    replications: int = 100,
    workers: int = 2,
    behaviour_replications: int = 4,  # calibrate's own default
    truth_worlds: int = 400,
) -> Prediction:
    """Write the world (history under `history_plan`), run the three commands, get the truth."""
    world = write_world(directory, history_plan, seed=seed)
    seconds, printed = run_commands(directory, history_plan, replications, workers,
                                    behaviour_replications)  # fmt: skip
    return read(directory, world, seconds, printed, truth_worlds)


def run_commands(
    directory: Path, history_plan: str, replications: int, workers: int,
    behaviour_replications: int,
) -> tuple[dict[str, float], dict[str, str]]:  # fmt: skip
    """calibrate, compare and report on the world files in `directory`: timings and output."""
    mapping = [arg for pair in SIMPLAN_MAP for arg in ("--map", pair)]
    seconds, printed = {}, {}
    started, cpu = time.perf_counter(), _children_cpu()
    printed["calibrate"] = simplan(
        "calibrate", directory / "deals.csv", *mapping, "--roster", directory / "reps.csv",
        "--targets", directory / "quotas.csv", "--calendar", directory / "periods.csv",
        "--plan", directory / f"{history_plan}.yaml", "--periods", 4,
        "--behaviour-replications", behaviour_replications, "--workers", workers,
        "--out", directory / "team.yaml", "--report", directory / "calibration",
    )  # fmt: skip
    seconds["calibrate"] = time.perf_counter() - started
    seconds["calibrate_cpu"] = _children_cpu() - cpu
    started, cpu = time.perf_counter(), _children_cpu()
    printed["compare"] = compare(directory, directory / "team.yaml", "cmp", replications, workers)
    seconds["compare"] = time.perf_counter() - started
    seconds["compare_cpu"] = _children_cpu() - cpu
    printed["report"] = simplan("report", directory / "cmp", "--out", directory / "report.html")
    return seconds, printed


def compare(directory: Path, team: Path, out: str, replications: int, workers: int) -> str:
    """`simplan compare` of the world's two plans on the calibrated `team` for 2026Q1 (the
    fast engine, seed 3), written to `directory / out`; what it printed."""
    return simplan(
        "compare", team, "--plan", directory / "current.yaml",
        "--plan", directory / "proposal.yaml", "--targets", directory / "next_quotas.csv",
        "--calendar", directory / "periods.csv", "--window", "2026Q1",
        "--replications", replications, "--seed", 3, "--workers", workers, "--engine", "fast",
        "--out", directory / out, "--quiet",
    )  # fmt: skip


def _children_cpu() -> float:
    """CPU seconds (user + system) of every finished child process and its workers: on a
    shared machine the work a command did, whatever the load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def read(
    directory: Path, world, seconds: dict, printed: dict, truth_worlds: int = 400
) -> Prediction:
    """What the commands wrote in `directory`, beside the world's truth."""
    truth = {
        plan: true_outcome(world, plan, n_worlds=truth_worlds, seed=1).summary for plan in PLANS
    }
    return Prediction(
        summary=pd.read_parquet(directory / "cmp" / "summary.parquet"),
        differences=pd.read_parquet(directory / "cmp" / "differences.parquet"),
        notes=(directory / "calibration" / "notes.md").read_text(),
        truth=truth,
        printed=printed,
        seconds=seconds,
    )

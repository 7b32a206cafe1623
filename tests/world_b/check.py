"""simplan's three commands on world B's export, as a planner runs them, beside the truth.

    simplan calibrate deals.csv --preset salesforce --map "tier=Lead Grade" --as-of ...
        --roster users.csv --targets quotas.csv --calendar periods.csv --plan PLAN_IN_FORCE
    simplan compare team.yaml --plan current.yaml --plan proposal.yaml
        --targets next_quotas.csv --calendar periods.csv --window FY2026-Q1
    simplan report cmp

The installed `simplan` command runs beside this interpreter. From the shell:

    python -m tests.world_b.check DIR [--history current|linear] [--replications 30]

prints the predicted-vs-truth table and the commands' CPU seconds and writes them to
DIR/check.json. Used by `tests/test_world_b.py`.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tests.world_b.calendar import NEXT
from tests.world_b.export import READ_ARGS, write_world
from tests.world_b.world import true_outcome

COMPARED = ("current", "proposal")
METRICS = ("bookings", "payout", "share_at_target")
COMMAND = Path(sys.executable).with_name("simplan")


@dataclass
class Check:
    """compare's summary and differences, calibrate's notes, the truth per plan (metric x
    mean, se), each command's stdout and its wall and CPU seconds."""

    summary: pd.DataFrame
    differences: pd.DataFrame
    notes: str
    truth: dict[str, pd.DataFrame]
    printed: dict[str, str]
    seconds: dict[str, float]

    def true_effect(self, metric: str) -> float:
        """The world's proposal - current for `metric`."""
        return float(self.truth["proposal"].at[metric, "mean"]
                     - self.truth["current"].at[metric, "mean"])  # fmt: skip

    def table(self) -> pd.DataFrame:
        """One row per plan (and `effect`) and metric: simplan's mean with its 90 %
        predictive interval, the world's mean and its standard error."""
        levels = self.summary.set_index(["scenario", "metric"])
        effects = self.differences.set_index("metric")
        rows = []
        for metric in METRICS:
            for plan in COMPARED:
                got = levels.loc[(plan, metric)]
                rows.append({"plan": plan, "metric": metric, "predicted": got["mean"],
                             "pi_low": got["pi_low"], "pi_high": got["pi_high"],
                             "truth": self.truth[plan].at[metric, "mean"],
                             "truth_se": self.truth[plan].at[metric, "se"]})  # fmt: skip
            got = effects.loc[metric]
            se = (self.truth["current"].at[metric, "se"] ** 2
                  + self.truth["proposal"].at[metric, "se"] ** 2) ** 0.5  # fmt: skip
            rows.append({"plan": "effect", "metric": metric, "predicted": got["difference"],
                         "pi_low": got["pi_low"], "pi_high": got["pi_high"],
                         "truth": self.true_effect(metric), "truth_se": se})  # fmt: skip
        return pd.DataFrame(rows)


def simplan(*args: object) -> tuple[str, float, float]:
    """Run the installed `simplan`: its stdout, wall and CPU seconds (it and its workers);
    a failure shows the command and its stderr."""
    wall, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run([str(COMMAND), *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"simplan {' '.join(map(str, args))} exited {done.returncode}:\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")  # fmt: skip
    return done.stdout, time.perf_counter() - wall, _children_cpu() - cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_check(directory: str | Path, history: str = "current", seed: int = 0,
              replications: int = 30, workers: int = 2, truth_worlds: int = 400) -> Check:  # fmt: skip
    """Write world B (history under the plan `history`) into `directory`, calibrate,
    compare and report there, and compute the truth of both plans."""
    directory = Path(directory)
    world = write_world(directory, history, seed)
    steps = {
        "calibrate": ("calibrate", directory / "deals.csv", *READ_ARGS,
                      "--roster", directory / "users.csv", "--targets", directory / "quotas.csv",
                      "--calendar", directory / "periods.csv",
                      "--plan", directory / f"{history}.yaml", "--periods", 4,
                      "--workers", workers, "--out", directory / "team.yaml",
                      "--report", directory / "calibration"),
        "compare": ("compare", directory / "team.yaml", "--plan", directory / "current.yaml",
                    "--plan", directory / "proposal.yaml",
                    "--targets", directory / "next_quotas.csv",
                    "--calendar", directory / "periods.csv", "--window", NEXT,
                    "--replications", replications, "--seed", 3, "--workers", workers,
                    "--engine", "fast", "--out", directory / "cmp", "--force", "--quiet"),
        "report": ("report", directory / "cmp", "--out", directory / "report.html"),
    }  # fmt: skip
    printed, seconds = {}, {}
    for name, args in steps.items():
        printed[name], seconds[name], seconds[f"{name}_cpu"] = simplan(*args)
    truth = {plan: true_outcome(world, plan, worlds=truth_worlds).summary for plan in COMPARED}
    return Check(
        summary=pd.read_parquet(directory / "cmp" / "summary.parquet"),
        differences=pd.read_parquet(directory / "cmp" / "differences.parquet"),
        notes=(directory / "calibration" / "notes.md").read_text(),
        truth=truth,
        printed=printed,
        seconds=seconds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--history", default="current", choices=("current", "linear"))
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args()
    check = run_check(options.directory, options.history, options.seed, options.replications)
    table = check.table()
    behaviour = [line for line in check.notes.splitlines() if "behaviour" in line]
    with pd.option_context("display.width", 160, "display.float_format", "{:,.3f}".format):
        print(table.to_string(index=False))
    print("\n".join(behaviour))
    print({name: round(value, 1) for name, value in check.seconds.items()})
    record = {"history": options.history, "seconds": check.seconds, "behaviour": behaviour,
              "table": table.to_dict(orient="records")}  # fmt: skip
    (options.directory / "check.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Does the behaviour fit recover its own parameters? Histories simulated by simplan at known
(self-sourced share, closing elasticity, cost curvature), each fitted as a history would be.

The team is the one `simplan calibrate` fits to the test world's export (tests/worlds, the
history under its current plan, 4 quarters), not the world itself: every history here is one
replication of simplan's own model, so the fit's 90 % ranges should hold the truth about 90 %
of the time and its points should scatter around it. The grid is simulated once (what the fit
simulates for any history: calibrate's own seed); each truth's histories come from other seeds.

    python benchmarks/recover_fit.py [--truths all|quick] [--histories 4] [--replications 4]
                                     [--workers 2] [--json FILE]

Prints, per truth, the points' mean and the ranges' coverage per parameter, then per parameter
the coverage of all 90 % ranges, the bias and the mean width of the range as a share of the
prior's (1 = the history says nothing). CPU seconds are this process and its workers'.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test world (tests/worlds)

TRUTHS = {
    "all": (
        (0.2, 0.05, 1.8),
        (0.2, 0.3, 2.5),
        (0.45, 0.15, 2.0),
        (0.45, 0.15, 2.6),
        (0.65, 0.05, 2.4),
        (0.65, 0.3, 1.7),
    ),
    "quick": ((0.25, 0.1, 1.8), (0.6, 0.3, 2.5)),
}
"""Truths spanning the grid (0.1..0.7, 0..0.4, 1.6..2.8), on the fine grid's values."""
HISTORY_SEED = 1000
"""Histories use seeds from here (the grid uses calibrate's seed 0)."""


@dataclass(frozen=True)
class Team:
    """The calibrated team and what the fit measures on (`behaviour_fit.FitWindow`)."""

    window: object
    won: pd.DataFrame


def calibrated_team(directory: Path, workers: int) -> Team:
    """The test world's export calibrated without the behaviour fit: the team every history
    is simulated for."""
    from simplan.analysis.behaviour_fit import fit_window
    from simplan.analysis.calibrate import Calibrator
    from simplan.history import read_opportunities
    from simplan.model.plan import Plan
    from simplan.scenario import load_periods
    from tests.worlds import SIMPLAN_MAP, write_world

    write_world(directory, "current", seed=0)
    business = load_periods(str(directory / "periods.csv"))
    mapping = dict(pair.split("=", 1) for pair in SIMPLAN_MAP)
    history = read_opportunities(
        directory / "deals.csv", mapping=mapping, roster=directory / "reps.csv",
        targets=directory / "quotas.csv", clock="quarter", calendar=business,
    )  # fmt: skip
    plan = Plan.model_validate(yaml.safe_load((directory / "current.yaml").read_text()))
    fitted = Calibrator(
        periods=4, calendar=business, fit_behaviour=False, fit_check_replications=0,
        parameter_draws=0, workers=workers,
    ).fit(history, plan=plan)  # fmt: skip
    window = fit_window(fitted.scenario_data_, history.targets, fitted.window_, plan)
    return Team(window, fitted.deals_[fitted.deals_["outcome"] == "won"])


@dataclass(frozen=True)
class Simulated:
    """The grid's moments (one frame per point, a row per replication) and each truth's
    histories' moments, as the fit sees them."""

    ranges: dict
    points: list[dict]
    grid: list[pd.DataFrame]
    truths: list[dict]
    histories: list[pd.DataFrame]
    cpu_seconds: float


def simulate(team: Team, truths, histories: int, replications: int, workers: int) -> Simulated:
    """Simulate the default grid (calibrate's seed) and `histories` histories per truth."""
    from simplan.analysis import behaviour_fit as bf

    ranges = dict(zip(bf.PARAMETERS, (bf.PRIOR_SHARES, bf.PRIOR_CLOSING, bf.PRIOR_CURVATURES),
                      strict=True))  # fmt: skip
    points = bf.grid_points(ranges)
    cpu = time.process_time() + _children_cpu()
    grid = bf.simulate_points(team.window, points, replications, seed=0, workers=workers)
    truth_points = [dict(zip(bf.PARAMETERS, truth, strict=True)) for truth in truths]
    simulated = [
        bf.simulate_points(team.window, [point], histories, seed=HISTORY_SEED + k, workers=1)[0]
        for k, point in enumerate(truth_points)
    ]
    cpu = time.process_time() + _children_cpu() - cpu
    return Simulated(ranges, points, grid, truth_points, simulated, cpu)


def recover(simulated: Simulated, window) -> pd.DataFrame:
    """One row per history and parameter: truth, point, 90 % range, covered, width (a share
    of the prior's range)."""
    from simplan.analysis import behaviour_fit as bf

    rows = []
    for k, (point, frame) in enumerate(zip(simulated.truths, simulated.histories, strict=True)):
        for h, (_, history) in enumerate(frame.iterrows()):
            fit = bf.fit_moments(history.to_dict(), simulated.points, simulated.grid,
                                 simulated.ranges, window)  # fmt: skip
            best = bf.posterior_mean(fit.surface)
            for name, value in point.items():
                low, high = bf.posterior_range(fit.surface, name)
                prior = simulated.ranges[name]
                rows.append({"truth": k, "history": h, "parameter": name, "true": value,
                             "point": float(best[name]), "low": low, "high": high,
                             "covered": bool(low - 1e-9 <= value <= high + 1e-9),
                             "width": (high - low) / (max(prior) - min(prior))})  # fmt: skip
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per truth and parameter, and per parameter over every history."""
    table = table.assign(error=table["point"] - table["true"])
    by_truth = table.groupby(["truth", "parameter"], sort=False).agg(
        true=("true", "first"), point=("point", "mean"), low=("low", "mean"),
        high=("high", "mean"), covered=("covered", "mean"),
    )  # fmt: skip
    overall = table.groupby("parameter", sort=False).agg(
        coverage=("covered", "mean"), bias=("error", "mean"),
        rmse=("error", lambda e: float(np.sqrt(np.mean(e**2)))), width=("width", "mean"),
        ranges=("covered", "size"),
    )  # fmt: skip
    return by_truth, overall


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--truths", choices=sorted(TRUTHS), default="all")
    parser.add_argument("--histories", type=int, default=4, help="histories per truth")
    parser.add_argument("--replications", type=int, default=4, help="per grid point")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the per-history table here")
    args = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time() + _children_cpu()
    with tempfile.TemporaryDirectory() as directory:
        team = calibrated_team(Path(directory), args.workers)
    calibrate_cpu = time.process_time() + _children_cpu() - cpu
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

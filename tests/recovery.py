"""Does the behaviour fit recover its own parameters? Histories simulated by simplan at known
(self-sourced share, closing elasticity, cost curvature), each fitted as a history would be.

The team is the one `simplan calibrate` fits to the test world's export (tests/worlds, the
history under its current plan, 4 quarters), not the world itself: every history here is one
replication of simplan's own model, so the fit's 90 % ranges should hold the truth about 90 %
of the time and its points should scatter around it. The grid is simulated once (what the fit
simulates for any history: calibrate's own seed); each truth's histories come from other seeds.
Used by `benchmarks/recover_fit.py` and `tests/test_behaviour_fit.py`.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from simplan.analysis import behaviour_fit as bf
from simplan.analysis.behaviour_fit import FitWindow, fit_window
from simplan.analysis.calibrate import Calibrator
from simplan.history import read_opportunities
from simplan.model.plan import Plan
from simplan.scenario import load_periods
from tests.worlds import SIMPLAN_MAP, write_world

DEFAULT = dict(zip(bf.PARAMETERS, (bf.PRIOR_SHARES, bf.PRIOR_CLOSING, bf.PRIOR_CURVATURES,
                                   bf.PRIOR_SIGHTS), strict=True))  # fmt: skip
"""calibrate's grid: parameter -> its values."""
HISTORY_SEED = 1000
"""Histories use seeds from here (the grid uses calibrate's seed 0)."""


@dataclass(frozen=True)
class Team:
    """The calibrated team: what the fit measures on (`behaviour_fit.FitWindow`)."""

    window: FitWindow


def calibrated_team(directory: Path, workers: int) -> Team:
    """The test world's export calibrated without the behaviour fit: the team every history
    is simulated for."""
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
    return Team(window)


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


def simulate(
    team: Team, truths, histories: int, replications: int, workers: int, ranges: dict = DEFAULT
) -> Simulated:
    """Simulate the grid over `ranges` (calibrate's seed) and `histories` histories per truth."""
    points = bf.grid_points(ranges)
    cpu = time.process_time() + children_cpu()
    grid = bf.simulate_points(team.window, points, replications, seed=0, workers=workers)
    truth_points = [dict(zip(bf.PARAMETERS, truth, strict=True)) for truth in truths]
    simulated = [
        bf.simulate_points(team.window, [point], histories, seed=HISTORY_SEED + k, workers=1)[0]
        for k, point in enumerate(truth_points)
    ]
    cpu = time.process_time() + children_cpu() - cpu
    return Simulated(ranges, points, grid, truth_points, simulated, cpu)


def recover(simulated: Simulated, window: FitWindow) -> pd.DataFrame:
    """One row per history and parameter: truth, point, 90 % range, covered, width (a share
    of the prior's range)."""
    rows = []
    for k, (point, frame) in enumerate(zip(simulated.truths, simulated.histories, strict=True)):
        for h, (_, history) in enumerate(frame.iterrows()):
            fit = bf.fit_moments(history.to_dict(), simulated.points, simulated.grid,
                                 simulated.ranges, window)  # fmt: skip
            best = bf.posterior_mean(fit.surface)
            for name, value in point.items():
                prior = simulated.ranges[name]
                if len(set(prior)) < 2:  # held at one value: not fitted
                    continue
                low, high = bf.posterior_range(fit.surface, name)
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


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime

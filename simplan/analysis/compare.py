"""Compare plans on the same world: common random numbers, predictive and confidence intervals.

Every scenario runs with the same root seed, so replication i of each sees the same customer
arrivals and outcomes (and the same parameter draw, when the scenario carries `uncertainty`);
a difference between plans is then the plan's doing (and the behaviour it causes), not luck.

Two intervals answer two questions. The predictive interval (`pi_low`, `pi_high`: by default
the 5th and 95th percentiles across replications) is where the period will land, parameter
uncertainty included when there are draws; it does not shrink with more replications. The
confidence interval of the mean (`ci_low`, `ci_high`, a t interval) is how precisely the
replications pin down the average; it does. Differences are paired by replication, and the
table shows how much narrower pairing makes the interval than comparing independent runs.
"""

from __future__ import annotations

import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from simplan.analysis.kpis import KPI_COLUMNS, replication_kpis
from simplan.errors import SimplanError
from simplan.execution import Executor, shared_executor
from simplan.results import Results, save_atomically
from simplan.runner import simulate
from simplan.scenario import Scenario, load_scenario

SAME_WORLD = ("calendar", "team", "leads", "funnel", "uncertainty")
"""What must match for two scenarios to be compared: the same team facing the same market,
under the same parameter draws (replication i uses draw i in every scenario)."""


@dataclass
class Comparison:
    """Per-scenario KPIs with intervals, and paired differences against the baseline."""

    scenarios: list[str]
    kpis: pd.DataFrame  # scenario, replication, KPI columns
    summary: pd.DataFrame  # scenario, metric, mean, ci_low, ci_high, pi_low, pi_high
    differences: (
        pd.DataFrame
    )  # scenario, metric, difference, ci_low, ci_high, pi_low, pi_high, half-widths
    confidence: float
    predictive: float = 0.9
    parameter_draws: int = 0  # parameter draws shared by every scenario (0: none)
    uncertainty_source: str = ""
    results: dict[str, Results] = field(default_factory=dict, repr=False)

    def predictive_label(self) -> str:
        """What pi_low / pi_high mean, in words."""
        replications = self.kpis["replication"].nunique()
        spread = f"the spread of {replications} replications"
        if self.parameter_draws:
            spread += f" over {self.parameter_draws} parameter draws"
            spread += f"; {self.uncertainty_source}" if self.uncertainty_source else ""
        else:
            spread += "; no parameter uncertainty: the scenario has no `uncertainty:` draws"
        return (
            f"{percent(self.predictive)} predictive interval: where the period will land ({spread})"
        )

    def confidence_label(self) -> str:
        """What ci_low / ci_high mean, in words."""
        return (
            f"{percent(self.confidence)} confidence interval of the mean: how precisely the "
            "replications pin down the average (it narrows with more replications)"
        )

    def save(self, directory: str | Path, force: bool = False) -> Path:
        """Write the comparison tables and each scenario's run, atomically."""

        def write(tmp: Path) -> None:
            self.kpis.to_parquet(tmp / "kpis.parquet", index=False)
            self.summary.to_parquet(tmp / "summary.parquet", index=False)
            self.differences.to_parquet(tmp / "differences.parquet", index=False)
            meta = {
                "scenarios": self.scenarios,
                "confidence": self.confidence,
                "predictive": self.predictive,
                "parameter_draws": self.parameter_draws,
                "uncertainty_source": self.uncertainty_source,
                "intervals": {
                    "pi_low, pi_high": self.predictive_label(),
                    "ci_low, ci_high": self.confidence_label(),
                },
            }
            (tmp / "comparison.json").write_text(json.dumps(meta, indent=2))
            for name, results in self.results.items():
                results.write(_mkdir(tmp / "runs" / name))

        return save_atomically(directory, force, write)


def narrowing_text(value: float) -> str:
    """How much narrower pairing makes an interval, as a table shows it: "3.1x"; "-" when
    neither interval has any width (the runs are the same), "all" when only the paired one
    has none (every replication's difference is the same)."""
    if np.isnan(value):
        return "-"
    return "all" if np.isinf(value) else f"{value:.1f}x"


def percent(level: float) -> str:
    """0.9 -> '90 %', 0.975 -> '97.5 %'."""
    return f"{level * 100:.4g} %"


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def compare(
    baseline: Scenario | str | Path,
    *proposals: Scenario | str | Path,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    confidence: float = 0.95,
    predictive: float = 0.9,
    progress: Any = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
) -> Comparison:
    """Run the baseline and each proposal on the same seed and compare them pairwise.

    `confidence` is the level of the interval of the mean, `predictive` that of the interval
    where the period will land. `scheduler` ("local" or a Dask scheduler's address) runs every
    scenario on one cluster; `executor` runs them on one already running (a design run's pool).
    """
    for option, level, example in (
        ("confidence", confidence, 0.95),
        ("predictive", predictive, 0.9),
    ):
        if not 0 < level < 1:
            raise SimplanError(
                f"{option} = {level}: must lie strictly between 0 and 1, e.g. {example}"
            )
    if not proposals:
        raise SimplanError("compare needs a baseline and at least one proposal")
    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in (baseline, *proposals)]
    names = _unique_names(loaded)
    _check_same_world(loaded, names)
    base_sim = loaded[0].simulation
    replications = replications or base_sim.replications
    seed = base_sim.seed if seed is None else seed
    if replications < 2:
        raise SimplanError(
            "compare needs at least 2 replications for an interval; use --replications 2 or more"
        )
    results = {}
    # One executor for every scenario, so each worker normalises the reps' effort costs once.
    runs_on = (
        nullcontext(executor)
        if executor is not None
        else shared_executor(scheduler, workers or base_sim.workers)
    )
    with runs_on as shared:
        for name, scenario in zip(names, loaded, strict=True):
            results[name] = simulate(
                scenario,
                replications=replications,
                seed=seed,
                workers=workers,
                executor=shared,
                progress=progress,
            )
    kpis = pd.concat(
        [
            replication_kpis(results[name], _budget(scenario)).assign(scenario=name)
            for name, scenario in zip(names, loaded, strict=True)
        ],
        ignore_index=True,
    )[["scenario", "replication", *KPI_COLUMNS]]
    uncertainty = loaded[0].uncertainty
    return Comparison(
        scenarios=names,
        kpis=kpis,
        summary=summarise(kpis, confidence, predictive),
        differences=paired_differences(kpis, names, confidence, predictive),
        confidence=confidence,
        predictive=predictive,
        parameter_draws=len(uncertainty.draws) if uncertainty else 0,
        uncertainty_source=uncertainty.source if uncertainty else "",
        results=results,
    )


def _budget(scenario: Scenario) -> float | None:
    plan = scenario.plan
    return plan.budget.total if plan is not None and plan.budget is not None else None


def _unique_names(scenarios: list[Scenario]) -> list[str]:
    names = [s.name for s in scenarios]
    return [n if names.count(n) == 1 else f"{n}_{i}" for i, n in enumerate(names)]


def _check_same_world(scenarios: list[Scenario], names: list[str]) -> None:
    base = scenarios[0].resolved()
    for name, scenario in zip(names[1:], scenarios[1:], strict=True):
        other = scenario.resolved()
        for key in SAME_WORLD:
            if base[key] != other[key]:
                where = _first_difference(base[key], other[key], key)
                raise SimplanError(
                    f"'{name}' cannot be compared with '{names[0]}': {where} differs. "
                    f"Plans are compared on the same {', '.join(SAME_WORLD)}; make the proposal "
                    "extend the baseline and change only the plan, routing, levers or behaviour"
                )


def _first_difference(a: Any, b: Any, path: str) -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    return path


def mean_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    """Mean and half-width of the t interval of the mean (NaN values dropped)."""
    values = values[~np.isnan(values)]
    if len(values) < 2:
        return (float(values.mean()) if len(values) else np.nan), np.nan
    t = stats.t.ppf(0.5 + confidence / 2, len(values) - 1)
    return float(values.mean()), float(t * values.std(ddof=1) / np.sqrt(len(values)))


def predictive_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    """The central `level` range of the values: their (1 - level) / 2 and (1 + level) / 2
    quantiles, interpolated linearly between order statistics (NaN values dropped)."""
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan, np.nan
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def summarise(kpis: pd.DataFrame, confidence: float, predictive: float) -> pd.DataFrame:
    """Per scenario and KPI: the mean, its confidence interval and the predictive interval."""
    rows = []
    for name, group in kpis.groupby("scenario", sort=False):
        for metric in KPI_COLUMNS:
            values = group[metric].to_numpy(dtype=float)
            mean, half = mean_interval(values, confidence)
            rows.append(
                (
                    name,
                    metric,
                    mean,
                    mean - half,
                    mean + half,
                    *predictive_interval(values, predictive),
                )
            )
    columns = ["scenario", "metric", "mean", "ci_low", "ci_high", "pi_low", "pi_high"]
    return pd.DataFrame(rows, columns=columns)


def paired_differences(
    kpis: pd.DataFrame, names: list[str], confidence: float, predictive: float
) -> pd.DataFrame:
    """Proposal minus baseline per metric, paired by replication: the mean difference, its
    confidence interval (and the half-width as if the runs were independent), and the
    predictive interval of the difference in one period."""
    base = kpis[kpis["scenario"] == names[0]].set_index("replication")
    rows = []
    for name in names[1:]:
        other = kpis[kpis["scenario"] == name].set_index("replication")
        for metric in KPI_COLUMNS:
            a, b = other[metric].to_numpy(dtype=float), base[metric].to_numpy(dtype=float)
            if np.isnan(a).all() or np.isnan(b).all():
                continue
            diff, paired = mean_interval(a - b, confidence)
            independent = _independent_half_width(a, b, confidence)
            narrowing = (
                independent / paired if paired > 0 else np.inf if independent > 0 else np.nan
            )
            low, high = predictive_interval(a - b, predictive)
            interval = (diff - paired, diff + paired, low, high)
            rows.append((name, metric, diff, *interval, paired, independent, narrowing))
    columns = [
        "scenario",
        "metric",
        "difference",
        "ci_low",
        "ci_high",
        "pi_low",
        "pi_high",
        "paired_half_width",
        "independent_half_width",
        "narrowing",
    ]
    return pd.DataFrame(rows, columns=columns)


def _independent_half_width(a: np.ndarray, b: np.ndarray, confidence: float) -> float:
    """Welch half-width: what the interval would be from two independent sets of runs."""
    va, vb = np.nanvar(a, ddof=1) / len(a), np.nanvar(b, ddof=1) / len(b)
    se2 = va + vb
    if se2 == 0:
        return 0.0
    df = se2**2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if va and vb else len(a) - 1
    return float(stats.t.ppf(0.5 + confidence / 2, df) * np.sqrt(se2))

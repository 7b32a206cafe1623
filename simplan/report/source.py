"""What a report is made from: one run or a comparison of several, saved (`simplan run
--out`, `simplan compare --out`) and read back, or still in memory (a notebook's `Results`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from simplan.analysis.compare import Comparison
from simplan.errors import SimplanError
from simplan.model.plan import Plan
from simplan.results import Results, load_results


@dataclass(frozen=True)
class Source:
    """The runs of a saved directory by scenario name (the baseline first), and the
    comparison tables when the directory holds a comparison."""

    path: Path | None  # None: made from tables in memory
    runs: dict[str, Results]
    comparison: Comparison | None = None

    @property
    def names(self) -> list[str]:
        return list(self.runs)

    @property
    def title(self) -> str:
        if self.comparison is None:
            return self.names[0]
        return f"{self.names[0]} against {', '.join(self.names[1:])}"

    def plans(self) -> dict[str, Plan]:
        """Each run's plan, as resolved in its manifest (runs without a plan left out)."""
        plans = {}
        for name, results in self.runs.items():
            plan = run_plan(results)
            if plan is not None:
                plans[name] = plan
        return plans


def run_name(results: Results) -> str:
    manifest = results.manifest
    return str(manifest.get("scenario_name") or manifest.get("scenario", {}).get("name", "run"))


def run_plan(results: Results) -> Plan | None:
    """The plan the run was paid under, from the resolved scenario in its manifest."""
    plan = results.manifest.get("scenario", {}).get("plan")
    return Plan.model_validate(plan) if plan else None


def as_source(what: Source | Results | Comparison | str | Path) -> Source:
    """A report source from a saved directory, a run's `Results` or a `Comparison`."""
    if isinstance(what, Source):
        return what
    if isinstance(what, Results):
        return Source(path=None, runs={run_name(what): what})
    if isinstance(what, Comparison):
        runs = {name: what.results[name] for name in what.scenarios}
        return Source(path=None, runs=runs, comparison=what)
    return load_source(what)


def load_source(directory: str | Path) -> Source:
    """Read a run directory or a comparison directory, whichever `directory` is."""
    path = Path(directory)
    if not path.is_dir():
        raise SimplanError(
            f"{path}: no such directory; point at a directory written by "
            "`simplan run --out` or `simplan compare --out`"
        )
    if (path / "comparison.json").is_file():
        return _load_comparison(path)
    if (path / "manifest.json").is_file():
        results = load_results(path)
        return Source(path=path, runs={run_name(results): results})
    raise SimplanError(
        f"{path}: neither a run (manifest.json) nor a comparison (comparison.json); point at "
        "a directory written by `simplan run --out` or `simplan compare --out`"
    )


def _load_comparison(path: Path) -> Source:
    meta = json.loads((path / "comparison.json").read_text())
    names = list(meta["scenarios"])
    missing = [
        n for n in ("kpis", "summary", "differences") if not (path / f"{n}.parquet").is_file()
    ]
    if missing:
        raise SimplanError(
            f"{path}: comparison without {', '.join(f'{n}.parquet' for n in missing)}; "
            "write it again with `simplan compare --out`"
        )
    runs = {name: load_results(path / "runs" / name) for name in names}
    comparison = Comparison(
        scenarios=names,
        kpis=pd.read_parquet(path / "kpis.parquet"),
        summary=pd.read_parquet(path / "summary.parquet"),
        differences=pd.read_parquet(path / "differences.parquet"),
        confidence=float(meta["confidence"]),
        predictive=float(meta.get("predictive", 0.9)),
        parameter_draws=int(meta.get("parameter_draws", 0)),
        uncertainty_source=str(meta.get("uncertainty_source", "")),
        results=runs,
    )
    return Source(path=path, runs=runs, comparison=comparison)

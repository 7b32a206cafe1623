"""The figures the README quotes, measured on the code's own output.

`python -m tests.readme_figures` simulates each shipped scenario the README quotes as
`simplan run SCENARIO` does (the file's replications and seed) and writes
tests/data/readme_figures.json: per scenario its digest, seed, every replication's `runs` row
and the measured values. tests/test_readme.py checks every marked README block against that
file and re-simulates replication 0 of each scenario to check the file is still what the
code produces, so neither the README nor the file can drift from the code unnoticed.
Re-run this script whenever that test says the file is stale (about 3 minutes on 2 cores).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import simplan
from simplan.results import Results

ROOT = Path(__file__).parent.parent
FIGURES = Path(__file__).parent / "data" / "readme_figures.json"
SCENARIOS = {
    "baseline": "scenarios/baseline_quarter.yaml",
    "demo": "scenarios/proposals/gate80_cap150.yaml",
    "retail": "scenarios/retail_month.yaml",
}
"""The scenarios the README quotes, by the name its markers use."""
REACHED_PROPOSAL = ("proposal", "negotiation", "won")
"""Final stages of a lead that was sent a proposal."""


def measure(results: Results) -> dict[str, float]:
    """The values the README quotes from one run: its summary plus what the README explains."""
    values = {metric: float(v) for metric, v in results.summary()["value"].items()}
    deals, reps = results.deals, results.reps
    n = results.runs["replication"].nunique()
    proposals = int(deals["stage"].isin(REACHED_PROPOSAL).sum())
    values["proposals per replication"] = proposals / n
    values["alerts per proposal"] = float(deals["alerts"].sum()) / max(proposals, 1)
    hours = deals.groupby(["tier", "source"], observed=True)["first_response_hours"].median()
    for (tier, source), median in hours.items():
        values[f"median first response hours {tier} {source}"] = float(median)
    inbound = deals[(deals["source"] == "new") & deals["tier"].isin(["A", "B"])]
    values["median first response hours A+B new"] = float(inbound["first_response_hours"].median())
    values["longest first response days"] = float(deals["first_response_hours"].max()) / 24
    attainment = reps["attainment"].dropna()
    values["share of rep-periods at target"] = float((attainment >= 1).mean())
    for q in (0.1, 0.5, 0.9):
        values[f"attainment P{q * 100:.0f}"] = float(attainment.quantile(q))
    values["top tenth share of bookings"] = top_tenth_share(reps)
    return values


def top_tenth_share(reps: pd.DataFrame) -> float:
    """The share of team bookings booked by the top tenth of reps, averaged over
    replications and periods."""
    shares = []
    for _, group in reps.groupby(["replication", "period"]):
        bookings = np.sort(group["bookings"].to_numpy(float))[::-1]
        top = max(1, round(len(bookings) / 10))
        shares.append(bookings[:top].sum() / max(bookings.sum(), 1e-9))
    return float(np.mean(shares))


def runs_rows(results: Results) -> list[dict[str, float]]:
    """The runs table as plain JSON records (one per replication)."""
    return json.loads(results.runs.to_json(orient="records"))


def main() -> None:
    """Simulate every quoted scenario and write the figures file."""
    figures = {"written_by": "python -m tests.readme_figures", "scenarios": {}}
    for name, path in SCENARIOS.items():
        scenario = simplan.load_scenario(ROOT / path)
        results = simplan.simulate(scenario)
        figures["scenarios"][name] = {
            "path": path,
            "digest": scenario.digest(),
            "seed": scenario.simulation.seed,
            "replications": scenario.simulation.replications,
            "values": measure(results),
            "runs": runs_rows(results),
        }
        print(f"{name}: {path}, {scenario.simulation.replications} replications", file=sys.stderr)
    temporary = FIGURES.with_suffix(".tmp")
    temporary.write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n")
    temporary.replace(FIGURES)
    print(f"written {FIGURES.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()

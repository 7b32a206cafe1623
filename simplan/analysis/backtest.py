"""Backtest: calibrate on the history up to a date, simulate the months after it, and set
what the simulation predicted beside what happened: total bookings, deals won, win rate,
bookings per month (per fiscal month on a business calendar that has them) and per rep,
with 50 % and 90 % prediction intervals and their coverage
(the share of actual values inside them; near 50 % and 90 % when the model is honest).

Prediction intervals are predictive: the calibrated scenario carries draws of its fitted
numbers in `uncertainty` (the same draws `compare` runs), replication i runs under draw
i mod their number, and a draw holds both the fit's sampling error and the forecast
period's own effect on the lead rate and win share (months move beyond count noise), so a
short or restless history gives wider intervals.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simplan.analysis.calibrate import Calibrator
from simplan.analysis.fit_check import row_periods
from simplan.errors import SimplanError
from simplan.history import History
from simplan.model.periods import Periods
from simplan.runner import simulate

QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}


def horizon_end(start: pd.Timestamp, horizon: str, periods: Periods | None = None) -> pd.Timestamp:
    """The last day of a horizon like '1q', '2m', '90d' or '1y' starting on `start`. With the
    business's `periods` (a fiscal calendar), quarters and years are its fiscal ones and
    months its periods when they are month-long (4-4-5 and the like): the horizon is the
    `count` fiscal quarters (years, periods) from `start`, the rest of a quarter `start`
    falls inside added before them."""
    match = re.fullmatch(r"\s*(\d+)\s*([qmdy])\s*", str(horizon).lower())
    if not match or int(match.group(1)) < 1:
        raise SimplanError(
            f"--horizon {horizon!r}: write a count and a unit: 1q (quarter), 3m (months), "
            "90d (days) or 1y (year)"
        )
    count, unit = int(match.group(1)), match.group(2)
    if unit == "d":
        return start + pd.Timedelta(days=count - 1)
    monthly = periods is not None and row_periods(periods) is periods
    if periods is not None and (unit != "m" or monthly):
        first = int(periods.index([start])[0])
        if first < 0:
            raise SimplanError(f"--horizon {horizon!r}: {start:%Y-%m-%d} is in no period of "
                               f"{periods.describe()}")  # fmt: skip
        span = {"q": "quarter", "y": "year"}.get(unit)
        every = np.arange(len(periods))
        code = periods.group(every, span) if span else every
        opening = int(np.flatnonzero(code == code[first])[0])  # the span holding `start`
        partial = periods.first_day(opening) != start.date()
        last = np.flatnonzero(code < code[first] + count + int(partial))[-1]
        return pd.Timestamp(periods.last_day(int(last)))
    months = {"q": 3, "m": 1, "y": 12}[unit] * count
    return start + pd.DateOffset(months=months) - pd.Timedelta(days=1)


@dataclass
class BacktestResult:
    """Actual against predicted per metric, coverage per group, and what was assumed."""

    metrics: pd.DataFrame  # group, key, actual, p05..p95, in50, in90
    coverage: pd.DataFrame  # group, values, coverage50, coverage90
    window: tuple[pd.Timestamp, pd.Timestamp]
    calibrator: Calibrator
    notes: list[str] = field(default_factory=list)
    simulated: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    pipeline: pd.DataFrame = field(default_factory=pd.DataFrame)
    """The pipeline open at the cut by age: actual against the simulated one (`pipeline_at_cut`)."""

    def write(self, directory: Path) -> None:
        """metrics.csv, coverage.csv, simulated.csv, pipeline.csv and notes.md into an existing
        directory."""
        self.metrics.to_csv(directory / "metrics.csv", index=False)
        self.coverage.to_csv(directory / "coverage.csv", index=False)
        self.simulated.to_csv(directory / "simulated.csv", index=False)
        self.pipeline.to_csv(directory / "pipeline.csv", index=False)
        lines = [f"# Backtest {self.window[0]:%Y-%m-%d} .. {self.window[1]:%Y-%m-%d}", ""]
        lines += [f"- {n}" for n in self.notes]
        (directory / "notes.md").write_text("\n".join(lines) + "\n")


def backtest(
    history: History,
    train_until: str | pd.Timestamp,
    horizon: str = "1q",
    replications: int = 100,
    parameter_draws: int = 20,
    seed: int = 0,
    workers: int | None = None,
    calibrator: Calibrator | None = None,
    progress=None,
) -> BacktestResult:
    """Fit on deals known by the end of `train_until` (with `parameter_draws` draws of the
    fitted numbers in the scenario's `uncertainty`; 0 = plug-in), simulate the horizon after
    it under them, and compare with what the history shows happened."""
    if replications < 2 or parameter_draws < 0 or parameter_draws > replications:
        raise SimplanError(
            f"replications = {replications} (--replications), parameter_draws = "
            f"{parameter_draws} (--draws): need replications >= 2 and 0 <= parameter_draws <= "
            f"replications, e.g. --draws {min(max(replications, 0), 20)}"
        )
    cut = pd.Timestamp(train_until).normalize()
    start = cut + pd.Timedelta(days=1)
    fitter = calibrator or Calibrator()
    end = horizon_end(start, horizon, fitter.calendar)
    notes = []
    if history.as_of < end:
        if history.as_of < start + pd.Timedelta(days=27):
            raise SimplanError(
                f"{history.source}: the history ends {history.as_of:%Y-%m-%d}, less than 4 "
                f"weeks after --train-until {cut:%Y-%m-%d}: nothing to compare with; choose "
                "an earlier --train-until"
            )
        notes.append(
            f"horizon cut to the history's end {history.as_of:%Y-%m-%d} (was {end:%Y-%m-%d})"
        )
        end = history.as_of
    days = int((end - start).days) + 1
    fitter.start, fitter.days = start, days
    fitter.fit_check_replications = 0  # the backtest itself checks the fit
    fitter.parameter_draws = parameter_draws
    trained = history.until(cut)
    fitter.fit(trained)
    scenario = fitter.scenario_
    draws = len(scenario.uncertainty.draws) if scenario.uncertainty else 0
    notes += [
        f"trained on deals known by {cut:%Y-%m-%d}; predicted {start:%Y-%m-%d} .. {end:%Y-%m-%d}",
        f"{replications} replications over {draws} parameter draws of the calibrated scenario"
        if draws
        else f"{replications} replications of the plug-in scenario (no parameter draws)",
    ]
    results = simulate(scenario, replications=replications, seed=seed, workers=workers,
                       progress=progress)  # fmt: skip
    periods = row_periods(fitter.calendar)
    bucket = "period" if periods is fitter.calendar else "month"
    simulated = _per_replication(results, start, periods, bucket)
    actual = _actual(history, start, end, periods)
    reps = [r.rep_id for r in scenario.team.roster] if scenario.team.roster else []
    metrics = _compare(actual, simulated, reps, start, end, periods, bucket)
    missing = sorted(set(actual["rep"]) - set(reps))
    if missing:
        notes.append(
            f"{len(missing)} rep(s) booked in the horizon but are not in the fitted team "
            f"({', '.join(missing[:5])}): predicted 0"
        )
    coverage = (
        metrics.groupby("group", sort=False)
        .agg(values=("key", "size"), coverage50=("in50", "mean"), coverage90=("in90", "mean"))
        .reset_index()
    )
    overall = pd.DataFrame(
        [{"group": "all", "values": len(metrics), "coverage50": metrics["in50"].mean(),
          "coverage90": metrics["in90"].mean()}]
    )  # fmt: skip
    coverage = pd.concat([coverage, overall], ignore_index=True)
    pipeline = pipeline_at_cut(history, results.deals, cut, end)
    worst = pipeline.iloc[int((pipeline["won_simulated"] - pipeline["won_actual"]).abs().argmax())]
    notes.append(
        f"pipeline open at the cut: {pipeline['open_actual'].sum():,.0f} actual deals, "
        f"{pipeline['open_simulated'].sum():,.0f} simulated (the warm-up's); of them "
        f"{pipeline['won_actual'].sum():,.0f} won in the horizon, "
        f"{pipeline['won_simulated'].sum():,.0f} simulated; the widest gap at age "
        f"{worst['age_days']} days ({worst['won_actual']:,.0f} won, "
        f"{worst['won_simulated']:,.0f} simulated): pipeline.csv"
    )
    notes += fitter.report_.notes
    return BacktestResult(metrics, coverage, (start, end), fitter, notes, simulated, pipeline)


AGE_BANDS = (0, 15, 31, 61, 91, 181, 100_000)
"""Age bands (days open at the cut, lower bounds) of the pipeline table."""


def pipeline_at_cut(
    history: History, simulated: pd.DataFrame, cut: pd.Timestamp, end: pd.Timestamp
) -> pd.DataFrame:
    """The deals open at the end of `cut` by age band: how many, and how many of them closed
    and won by `end`, actual (the history) beside the simulated mean per replication (leads
    the warm-up opened before day 0 and still open then). Where the two part is what the
    forecast's first weeks get wrong about the pipeline it inherits."""
    deals = history.deals
    known = deals["created_date"].notna() & (deals["created_date"] <= cut)
    still = known & ~(deals["close_date"] <= cut)
    actual = deals[still]
    shut = actual["close_date"] <= end + pd.Timedelta(hours=23, minutes=59)
    real = pd.DataFrame(
        {
            "age": (cut - actual["created_date"]).dt.days.to_numpy(),
            "closed": shut.to_numpy(float),
            "won": (shut & (actual["outcome"] == "won")).to_numpy(float),
        }
    )
    days = (end - cut).days
    sim = simulated[(simulated["created_day"] < 0) & ~(simulated["close_day"] < 0)]
    shut = sim["close_day"] < days
    runs = max(simulated["replication"].nunique(), 1)
    model = pd.DataFrame(
        {
            "age": -np.floor(sim["created_day"].to_numpy(float)) - 1,  # day -1 is the cut
            "closed": shut.to_numpy(float),
            "won": (shut & (sim["outcome"] == "won")).to_numpy(float),
        }
    )
    labels = [f"{lo}-{hi - 1}" if hi < AGE_BANDS[-1] else f"{lo}+"
              for lo, hi in itertools.pairwise(AGE_BANDS)]  # fmt: skip

    def banded(frame: pd.DataFrame, per: float) -> pd.DataFrame:
        band = pd.cut(frame["age"], AGE_BANDS, right=False, labels=labels)
        grouped = frame.groupby(band, observed=False)
        return pd.DataFrame(
            {"open": grouped.size(), "closed": grouped["closed"].sum(), "won": grouped["won"].sum()}
        ).div(per)

    table = banded(real, 1).add_suffix("_actual").join(banded(model, runs).add_suffix("_simulated"))
    return table.rename_axis("age_days").reset_index().astype({"age_days": str})


def _per_replication(results, start: pd.Timestamp, periods: Periods, bucket: str) -> pd.DataFrame:
    """Long table: replication, metric, key, value; bookings per period of `periods` (calendar
    months, or the business's own) under the group name `bucket`."""
    deals, credits = results.deals, results.credits
    records = []
    for rep_no, group in deals.groupby("replication"):
        closed = group[group["close_day"].notna() & (group["close_day"] >= 0)]
        won = (closed["outcome"] == "won").sum()
        lost = (closed["outcome"] == "lost").sum()
        records += [
            (rep_no, "total", "deals won", float(won)),
            (rep_no, "total", "win rate", won / max(won + lost, 1)),
        ]
    month = periods.label_of(start + pd.to_timedelta(np.floor(credits["close_day"]), unit="D"))
    credits = credits.assign(month=month)
    for rep_no, group in credits.groupby("replication"):
        records.append((rep_no, "total", "bookings", float(group["amount"].sum())))
        for key, value in group.groupby("month")["amount"].sum().items():
            records.append((rep_no, bucket, key, float(value)))
        for key, value in group.groupby("rep_id")["amount"].sum().items():
            records.append((rep_no, "rep", key, float(value)))
    return pd.DataFrame(records, columns=["replication", "group", "key", "value"])


def _actual(
    history: History, start: pd.Timestamp, end: pd.Timestamp, periods: Periods | None = None
) -> pd.DataFrame:
    """What happened: deals closed in the window (every deal: the anomaly rule is a fitting
    choice, not a change to the facts)."""
    deals = history.deals
    inside = deals["close_date"].between(start, end + pd.Timedelta(hours=23, minutes=59))
    closed = deals[inside & deals["outcome"].isin(["won", "lost"])]
    won = closed[closed["outcome"] == "won"]
    return pd.DataFrame(
        {
            "rep": won["rep_id"].astype(str),
            "month": row_periods(periods).label_of(won["close_date"]),
            "amount": won["amount"],
        }
    ).assign(closed=len(closed), won=len(won))


def _compare(actual, simulated, reps, start, end, periods: Periods, bucket: str) -> pd.DataFrame:
    months = dict.fromkeys(periods.label_of(pd.date_range(start, end)))
    won_n = int(actual["won"].iloc[0]) if len(actual) else 0
    closed_n = int(actual["closed"].iloc[0]) if len(actual) else 0
    truth = {
        ("total", "bookings"): float(actual["amount"].sum()),
        ("total", "deals won"): float(won_n),
        ("total", "win rate"): won_n / max(closed_n, 1),
    }
    by_month = actual.groupby("month")["amount"].sum()
    for month in months:
        truth[(bucket, month)] = float(by_month.get(month, 0.0))
    by_rep = actual.groupby("rep")["amount"].sum()
    for rep in sorted(set(reps) | set(by_rep.index)):
        truth[("rep", rep)] = float(by_rep.get(rep, 0.0))
    wide = simulated.pivot_table(
        index="replication", columns=["group", "key"], values="value", aggfunc="sum"
    )
    rows = []
    for (group, key), value in truth.items():
        sample = (
            wide[(group, key)].fillna(0.0)
            if (group, key) in wide
            else pd.Series(np.zeros(len(wide)))
        )
        q = {name: float(np.quantile(sample, level)) for name, level in QUANTILES.items()}
        rows.append(
            {"group": group, "key": key, "actual": value, **q,
             "in50": q["p25"] <= value <= q["p75"], "in90": q["p05"] <= value <= q["p95"]}
        )  # fmt: skip
    return pd.DataFrame(rows)

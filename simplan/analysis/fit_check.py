"""The fit check run after every calibration: the calibrated scenario simulated over the
history's own baseline window, set beside what the history shows there (opportunities and
bookings per month, or per period of the business's calendar when it has one; win rate by
tier, won-cycle median and P90, deal-size median and P90, per-rep attainment P10/P50/P90,
share at target), each with the simulated 90 % interval and a mark where the history falls
outside it. A miss is said loudly, with its likely cause.

Few replications keep calibration fast, so the interval is a normal prediction interval from
their mean and spread (mean +- t(0.95, n-1) x sd x sqrt(1 + 1/n)), not raw sample quantiles
(the range of 5 draws covers only about two thirds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from simplan.analysis.calibrated_scenario import history_calendar, history_roster
from simplan.model.calendar import reporting_periods
from simplan.model.periods import Periods, parse_periods
from simplan.runner import simulate
from simplan.scenario import Scenario, validate

CAUSES = {
    "opportunities": "arrival rate or seasonality (months without leads, a closed-only export)",
    "bookings": "win rates, deal sizes or a trend inside the baseline window (try --periods)",
    "win rate": "the tier's win probability (outcome labels, owners only on won deals)",
    "won cycle": "cycle times (lost deals without dates, created dates that are import dates)",
    "deal size": "deal sizes (outliers, imputed amounts, per-rep size multipliers)",
    "attainment": "per-rep lead shares, sizes or quotas (--targets), a rep renamed mid-year "
    "(--rename)",
    "share at target": "per-rep heterogeneity or quotas (--targets)",
}
"""Per metric, what usually makes the simulation miss the history there."""
MONTH_LONG_DAYS = 40
"""Periods shorter than this (a median of 28-35 days) are months of the business's own."""


@dataclass
class FitCheck:
    """History against the simulated 90 % interval, per metric and key."""

    table: pd.DataFrame  # metric, key, history, simulated_mean, low, high, inside
    window: tuple[pd.Timestamp, pd.Timestamp]
    replications: int

    @property
    def misses(self) -> pd.DataFrame:
        return self.table[~self.table["inside"]]

    @property
    def allowed(self) -> int:
        """Misses that chance alone explains at 99 % (each value misses 10 % of the time)."""
        return int(stats.binom.ppf(0.99, len(self.table), 0.1))

    @property
    def passed(self) -> bool:
        return len(self.misses) <= self.allowed

    def warning(self) -> str | None:
        """The loud sentence about what missed and why it may have, None when nothing did."""
        misses = self.misses
        if misses.empty:
            return None
        listed = "; ".join(
            f"{row.metric} {row.key}: history {shown(row.metric, row.history)} outside "
            f"{shown(row.metric, row.low)} .. {shown(row.metric, row.high)}"
            for row in misses.itertuples()
        )
        causes = "; ".join(f"{m}: {CAUSES[m]}" for m in dict.fromkeys(misses["metric"]))
        verdict = (
            "within what chance explains"
            if self.passed
            else f"MORE than chance explains ({self.allowed} allowed)"
        )
        return (
            f"FIT CHECK: {len(misses)} of {len(self.table)} history values fall outside the "
            f"simulated 90 % interval ({verdict}): {listed}. Likely causes: {causes}"
        )


def run_fit_check(
    data: dict,
    deals: pd.DataFrame,
    window: tuple[pd.Timestamp, pd.Timestamp],
    closed_only: bool,
    stale_shares: dict[str, float],
    replications: int = 5,
    seed: int = 0,
    workers: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
) -> FitCheck:
    """Simulate the calibrated scenario (plain `data`) over `window` and compare with the
    prepared `deals` there. With `closed_only`, simulated deals still open at the window's end
    are dropped, as the export dropped them. The simulation leaves out stale leads (open
    for ever: `stale_shares` per tier), so its opportunities count 1 / (1 - stale) each."""
    start, end = window
    days = int((end - start).days) + 1
    calendar = history_calendar(data["calendar"], start, days)
    team = {**data["team"], "roster": history_roster(data, start)}
    scenario = validate(
        Scenario, {**data, "calendar": calendar, "team": team}, "fit-check scenario"
    )
    results = simulate(
        scenario, replications=replications, seed=seed + 104729, workers=workers, progress=progress
    )
    simulated = _simulated(results, scenario, start, closed_only, stale_shares)
    actual = _observed(_history_frame(deals, start, end), scenario, start, end)
    rows = []
    for (metric, key), value in actual.items():
        sample = np.array([run.get((metric, key), 0.0) for run in simulated], float)
        sample = sample[np.isfinite(sample)]
        if not np.isfinite(value) or len(sample) < 2:
            continue
        n, mean, sd = len(sample), float(sample.mean()), float(sample.std(ddof=1))
        half = stats.t.ppf(0.95, n - 1) * sd * np.sqrt(1 + 1 / n)
        low, high = max(mean - half, 0.0), mean + half  # every value here is >= 0
        if metric in ("win rate", "share at target"):
            high = min(high, 1.0)
        rows.append((metric, key, value, mean, low, high, bool(low <= value <= high)))
    table = pd.DataFrame(
        rows, columns=["metric", "key", "history", "simulated_mean", "low", "high", "inside"]
    )
    return FitCheck(table, window, replications)


def _history_frame(deals: pd.DataFrame, start, end) -> pd.DataFrame:
    """The history in the simulation's terms: created_day, close_day (NaN while open), days
    from the window's start, and rep_id, tier, outcome, amount."""
    frame = deals[["rep_id", "tier", "outcome", "amount", "created_date", "close_date"]].copy()
    frame["created_day"] = (frame["created_date"] - start).dt.days
    frame["close_day"] = (frame["close_date"] - start).dt.days
    return frame[(frame["created_day"] <= (end - start).days)]


def _simulated(results, scenario: Scenario, start, closed_only: bool, stale: dict) -> list[dict]:
    """Per replication, the fit-check values of the simulated window."""
    runs = []
    deals = results.deals
    for _, group in deals.groupby("replication"):
        frame = group[["rep_id", "tier", "outcome", "amount", "created_day", "close_day"]].copy()
        frame = frame.astype({"tier": str, "outcome": str, "rep_id": str})
        if closed_only:
            frame = frame[frame["close_day"].notna()]
        frame["outcome"] = frame["outcome"].where(frame["close_day"].notna(), "open")
        end = start + pd.Timedelta(days=scenario.calendar.days - 1)
        weight = {tier: 1 / (1 - share) for tier, share in stale.items()}
        runs.append(_observed(frame, scenario, start, end, weight))
    return runs


def _observed(frame: pd.DataFrame, scenario: Scenario, start, end, weight=None) -> dict:
    """(metric, key) -> value for a history or one simulated replication in the same terms;
    `weight` (per tier) is what each opportunity counts (default 1)."""
    last = (end - start).days
    values: dict[tuple[str, str], float] = {}
    periods = _periods(scenario)
    keys = [label for label in periods.label_of(pd.date_range(start, end)) if label is not None]
    keys = list(dict.fromkeys(keys))
    created = frame[(frame["created_day"] >= 0) & (frame["created_day"] <= last)]
    month = periods.label_of(start + pd.to_timedelta(created["created_day"], unit="D"))
    counts = created["tier"].map(weight).astype(float) if weight else pd.Series(1.0, created.index)
    opened = counts.groupby(month).sum()
    for key in keys:
        values[("opportunities", key)] = float(opened.get(key, 0.0))
    won = frame[(frame["outcome"] == "won") & frame["close_day"].between(0, last)]
    won = won[won["amount"].notna()]
    close_month = periods.label_of(start + pd.to_timedelta(won["close_day"], unit="D"))
    by_month = won.groupby(close_month)["amount"].sum()
    for key in keys:
        values[("bookings", key)] = float(by_month.get(key, 0.0))
    closed = created[created["outcome"].isin(["won", "lost"]) & (created["close_day"] <= last)]
    for tier, group in closed.groupby("tier"):
        values[("win rate", f"tier {tier}")] = float((group["outcome"] == "won").mean())
    cycles = (won["close_day"] - won["created_day"])[won["created_day"] >= 0]
    if len(cycles):
        values[("won cycle", "median days")] = float(np.median(cycles))
        values[("won cycle", "P90 days")] = float(np.quantile(cycles, 0.9))
    if len(won):
        values[("deal size", "median")] = float(won["amount"].median())
        values[("deal size", "P90")] = float(won["amount"].quantile(0.9))
    values.update(_attainment(won, scenario, start, end))
    return values


def _periods(scenario: Scenario) -> Periods:
    """What the opportunities and bookings rows are per (`row_periods` of the scenario's
    `calendar.periods`)."""
    business = reporting_periods(scenario.calendar) if scenario.calendar.periods else None
    return row_periods(business)


def row_periods(business: Periods | None) -> Periods:
    """The periods a table of opportunities or bookings over time is per: the business's own
    when they are month-long (4-4-5 fiscal months, a monthly table), else calendar months
    (13-week quarters would leave one row a quarter, no finer than the totals)."""
    if business is not None and float(np.median(business.length_days)) < MONTH_LONG_DAYS:
        return business
    return parse_periods("month")


def _attainment(won: pd.DataFrame, scenario: Scenario, start, end) -> dict:
    """Per-rep attainment P10 / P50 / P90 and the share at target over the full plan periods
    of the window (the plan's clock, else the scenario's reporting periods, fiscal ones
    included; each rep's quota from the roster, else the team's)."""
    team = scenario.team
    default = team.quota.per_period if team.quota is not None else None
    quota = {r.rep_id: r.quota or default for r in team.roster or []}
    quota = {rep: q for rep, q in quota.items() if q}
    if not quota:
        return {}
    business = reporting_periods(scenario.calendar)
    on = scenario.plan.clock_periods(business) if scenario.plan is not None else business
    first, last = on.index([start, end])
    periods = [
        i
        for i in range(max(first, 0), last + 1)
        if pd.Timestamp(on.first_day(i)) >= start and pd.Timestamp(on.last_day(i)) <= end
    ]
    if first < 0 or last < 0 or not periods:
        return {}
    period = on.index(start + pd.to_timedelta(won["close_day"], unit="D"))
    booked = won.groupby([won["rep_id"].to_numpy(), period])["amount"].sum()
    attainment = np.array(
        [booked.get((rep, p), 0.0) / q for rep, q in quota.items() for p in periods], float
    )
    return {
        ("attainment", "P10"): float(np.quantile(attainment, 0.1)),
        ("attainment", "P50"): float(np.quantile(attainment, 0.5)),
        ("attainment", "P90"): float(np.quantile(attainment, 0.9)),
        ("share at target", "reps x periods"): float((attainment >= 1).mean()),
    }


def shown(metric: str, value: float) -> str:
    """A fit-check value as a reader expects it (shares in %, cycles in days, money)."""
    if metric in ("win rate", "share at target", "attainment"):
        return f"{value:.0%}"
    if metric == "won cycle":
        return f"{value:.0f} d"
    return f"{value:,.0f}"

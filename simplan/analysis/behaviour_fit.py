"""Behaviour under the plan in force, by simulated method of moments: simulate the baseline
window under the plan for each point of a grid of behaviour parameters and keep the point
whose simulated moments are nearest the history's.

Moments: the share of bookings closed in the last 7 days of each plan period (timing games
near period ends), the share of rep-periods at target, and the 25th, 50th and 75th
percentiles of attainment. Distance: the sum of squared differences, each over the spread of
that moment across replications (with a floor), so noisy moments weigh less.

`near_best` marks grid points within 2 of the best distance: a rough confidence set, wide when
the history's moments barely move with the parameters (a short history, few reps).

Grid: `timing.propensity` (how often a rep pushes or pulls a deal across a period end when the
plan pays for it) x `reference_rate` (the marginal pay rate at which a fresh rep works at
effort 1). Only what the history can show is fitted; the other behaviour parameters keep
their defaults.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from simplan.model.calendar import PERIOD_FREQ
from simplan.runner import simulate
from simplan.scenario import Scenario, validate

PROPENSITY = (0.0, 0.25, 0.5, 0.75, 1.0)
REFERENCE_RATE = (0.04, 0.08, 0.16)
MOMENTS = ("last_week_share", "share_at_target", "attainment_p25", "attainment_p50",
           "attainment_p75")  # fmt: skip
FLOOR = {"last_week_share": 0.01, "share_at_target": 0.02}


def period_moments(bookings: pd.DataFrame, targets: pd.Series, period_end: pd.Series) -> dict:
    """Moments of one world: `bookings` has rep_id, period, date, amount; `targets` is the
    target per (rep_id, period); `period_end` the last day of each period."""
    last_week = bookings["date"] > bookings["period"].map(period_end) - pd.Timedelta(days=7)
    total = bookings["amount"].sum()
    per_rep = bookings.groupby(["rep_id", "period"])["amount"].sum()
    per_rep = per_rep.reindex(targets.index, fill_value=0.0)
    attainment = (per_rep / targets).to_numpy()
    return {
        "last_week_share": float(bookings.loc[last_week, "amount"].sum() / total) if total else 0.0,
        "share_at_target": float((attainment >= 1).mean()),
        "attainment_p25": float(np.quantile(attainment, 0.25)),
        "attainment_p50": float(np.quantile(attainment, 0.5)),
        "attainment_p75": float(np.quantile(attainment, 0.75)),
    }


def fit_behaviour(
    data: dict,
    won: pd.DataFrame,
    window: tuple[pd.Timestamp, pd.Timestamp],
    replications: int = 4,
    seed: int = 0,
    workers: int | None = None,
    propensity: tuple[float, ...] = PROPENSITY,
    reference_rate: tuple[float, ...] = REFERENCE_RATE,
) -> tuple[dict, pd.DataFrame, dict]:
    """The behaviour block that best matches the history, the grid with its moments and
    distances, and the history's moments. `data` is the calibrated scenario (with a plan);
    `won` the won deals (rep_id, close_date, amount); `window` the baseline window."""
    clock = data["calendar"]["period"]
    freq = PERIOD_FREQ[clock]
    first = window[0].to_period(freq)
    if first.start_time < window[0]:
        first += 1
    last = window[1].to_period(freq)
    if last.end_time.normalize() > window[1]:
        last -= 1
    if last < first:
        raise ValueError("no full plan period in the baseline window")
    periods = pd.period_range(first, last, freq=freq)
    start, end = periods[0].start_time, periods[-1].end_time.normalize()
    reps = [r["rep_id"] for r in data["team"]["roster"]]
    quota = data["team"]["quota"]["per_period"]
    targets = pd.Series(
        quota,
        index=pd.MultiIndex.from_product([reps, periods.astype(str)], names=["rep_id", "period"]),
    )
    period_end = pd.Series({str(p): p.end_time.normalize() for p in periods})
    inside = won[won["close_date"].between(start, end) & won["rep_id"].isin(reps)]
    actual = period_moments(
        pd.DataFrame({"rep_id": inside["rep_id"], "date": inside["close_date"].dt.normalize(),
                      "period": inside["close_date"].dt.to_period(freq).astype(str),
                      "amount": inside["amount"]}),
        targets, period_end,
    )  # fmt: skip
    base = {**data, "calendar": {**data["calendar"], "start": start.date().isoformat(),
                                 "days": int((end - start).days) + 1}}  # fmt: skip
    rows = []
    for share, rate in itertools.product(propensity, reference_rate):
        behaviour = {"model": "plan_responsive", "reference_rate": rate,
                     "timing": {"propensity": share}}  # fmt: skip
        scenario = validate(Scenario, {**base, "behaviour": behaviour}, "behaviour grid point")
        results = simulate(scenario, replications=replications, seed=seed, workers=workers)
        per_run = []
        credits = results.credits
        date = start + pd.to_timedelta(np.floor(credits["close_day"]), unit="D")
        frame = pd.DataFrame({"replication": credits["replication"], "rep_id": credits["rep_id"],
                              "date": date, "period": date.dt.to_period(freq).astype(str),
                              "amount": credits["amount"]})  # fmt: skip
        for _, group in frame.groupby("replication"):
            per_run.append(period_moments(group, targets, period_end))
        table = pd.DataFrame(per_run)
        row = {"propensity": share, "reference_rate": rate}
        distance = 0.0
        for moment in MOMENTS:
            mean, spread = table[moment].mean(), table[moment].std(ddof=1)
            spread = max(spread if np.isfinite(spread) else 0.0, FLOOR.get(moment, 0.05))
            row[moment] = mean
            distance += ((mean - actual[moment]) / spread) ** 2
        row["distance"] = distance
        rows.append(row)
    grid = pd.DataFrame(rows).sort_values("distance").reset_index(drop=True)
    # Points within 2 of the best are not told apart by these moments (a rough set).
    grid["near_best"] = grid["distance"] <= grid["distance"].iloc[0] + 2.0
    best = grid.iloc[0]
    behaviour = {"model": "plan_responsive", "reference_rate": float(best["reference_rate"]),
                 "timing": {"propensity": float(best["propensity"])}}  # fmt: skip
    return behaviour, grid, actual

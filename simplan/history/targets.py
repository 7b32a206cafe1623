"""Targets: each rep's target per plan period, from a targets file or one flat quota.

A targets file may be on another clock than the plan's: monthly targets sum into a
quarterly plan's quarters, quarterly ones spread over a monthly plan's months by days, and
targets per fiscal period (labels of `calendar`, e.g. FY2025-Q1) spread the same way.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from simplan.errors import SimplanError
from simplan.history.checks import Checker
from simplan.history.columns import TARGET_COLUMNS, resolve_columns
from simplan.history.files import fail, read_table
from simplan.model.periods import Periods, parse_periods, regroup
from simplan.model.plan.inputs import FREQ, targets_from_quota


def read_targets(
    path: str | Path, clock: str = "month", calendar: Periods | None = None
) -> pd.DataFrame:
    """A targets file (rep_id, period, target) as targets per period of the plan `clock`.

    Periods are written like 2017-03 or 2017Q1, or as labels of `calendar` (the business's
    periods); targets on another clock than the plan's are summed or spread by days.
    """
    freq = FREQ[clock]
    source = read_table(path)
    check = Checker(source, resolve_columns(source, {}, TARGET_COLUMNS, ()))
    rows = source.rows
    rep_id = check.text("rep_id")
    target = check.numbers("target")
    text = check.text("period")
    written_on = _clock_written(text, clock, calendar)
    if written_on is not None:
        return _regrouped(check, rep_id, target, text, written_on, clock)
    periods = {}
    for value in text.dropna().unique():
        try:
            periods[value] = pd.Period(value, freq=freq)
        except (ValueError, TypeError):
            periods[value] = None
    period = text.map(periods, na_action="ignore")
    if period.isna().any():
        check.problems.append(
            f"{check.name('period')} is not a {clock} on {rows(period.isna())}; write periods "
            f"like {'2017-03' if freq == 'M' else '2017Q1'}"
        )
    for canonical, values in (("rep_id", rep_id), ("target", target)):
        bad = values.isna() if canonical == "rep_id" else values.isna() | (values <= 0)
        if bad.any():
            check.problems.append(
                f"{check.name(canonical)} is empty{' or not > 0' * (canonical == 'target')} on "
                f"{rows(bad)}; every rep needs a positive target per period"
            )
    repeated = (rep_id + "\x1f" + text.fillna("")).duplicated(keep=False) & rep_id.notna()
    if repeated.any():
        check.problems.append(
            f"the same rep and period appear more than once on {rows(repeated)}; keep one row each"
        )
    if check.problems:
        fail(source, check.problems)
    return pd.DataFrame(
        {
            "rep_id": rep_id.to_numpy(dtype=object),
            "period": pd.PeriodIndex(list(period), freq=freq),
            "target": target.to_numpy(),
        }
    )


def _clock_written(text: pd.Series, clock: str, calendar: Periods | None) -> Periods | None:
    """The periods the file's labels are written in, when not the plan's clock (else None)."""
    labels = text.dropna().unique()
    other = "month" if clock == "quarter" else "quarter"
    for periods in (calendar, parse_periods(other)):
        if periods is not None and periods.spec != clock and len(labels):
            known = {label.casefold() for label in periods.labels}
            if all(str(label).casefold() in known for label in labels):
                return periods
    return None


def _regrouped(
    check: Checker,
    rep_id: pd.Series,
    target: pd.Series,
    text: pd.Series,
    written_on: Periods,
    clock: str,
) -> pd.DataFrame:
    """Targets per period of `written_on` as targets per plan period, by days."""
    bad = rep_id.isna() | target.isna() | (target <= 0) | text.isna()
    if bad.any():
        check.problems.append(
            f"rep_id, period or target is empty, or a target not > 0, on "
            f"{check.source.rows(bad)}; every rep needs a positive target per period"
        )
    repeated = (rep_id + "\x1f" + text.fillna("")).duplicated(keep=False) & rep_id.notna()
    if repeated.any():
        check.problems.append(
            f"the same rep and period appear more than once on {check.source.rows(repeated)}; "
            "keep one row each"
        )
    if check.problems:
        fail(check.source, check.problems)
    out = regroup(
        rep_id.to_numpy(dtype=object),
        text.to_numpy(dtype=object),
        target.to_numpy(dtype=float),
        written_on,
        parse_periods(clock),
    )
    return pd.DataFrame(
        {
            "rep_id": out["key"].to_numpy(dtype=object),
            "period": pd.PeriodIndex(out["period"], freq=FREQ[clock]),
            "target": out["amount"].to_numpy(),
        }
    )


def quota_targets(ledger: pd.DataFrame, clock: str, quota: float) -> pd.DataFrame:
    """Every rep in `ledger` gets `quota` (currency per plan period) in every plan period
    from the first close date to the last, months or quarters without deals included."""
    if not (math.isfinite(quota) and quota > 0):
        raise SimplanError(f"quota = {quota:g}; a quota is each rep's target per {clock}, > 0")
    freq = FREQ[clock]
    first, last = ledger["close_date"].min(), ledger["close_date"].max()
    periods = pd.period_range(first.to_period(freq), last.to_period(freq), freq=freq)
    return targets_from_quota(sorted(ledger["rep_id"].unique()), periods, quota)

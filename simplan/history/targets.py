"""Targets: each rep's target per plan period, from a targets file or one flat quota."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from simplan.errors import SimplanError
from simplan.history.checks import Checker
from simplan.history.columns import TARGET_COLUMNS, resolve_columns
from simplan.history.files import fail, read_table
from simplan.model.plan.inputs import FREQ, targets_from_quota


def read_targets(path: str | Path, clock: str = "month") -> pd.DataFrame:
    """A targets file (rep_id, period such as 2017-03 or 2017Q1, target) on the plan `clock`."""
    freq = FREQ[clock]
    source = read_table(path)
    check = Checker(source, resolve_columns(source, {}, TARGET_COLUMNS, ()))
    rows = source.rows
    rep_id = check.text("rep_id")
    target = check.numbers("target")
    text = check.text("period")
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


def quota_targets(ledger: pd.DataFrame, clock: str, quota: float) -> pd.DataFrame:
    """Every rep in `ledger` gets `quota` (currency per plan period) in every plan period
    from the first close date to the last, months or quarters without deals included."""
    if not (math.isfinite(quota) and quota > 0):
        raise SimplanError(f"quota = {quota:g}; a quota is each rep's target per {clock}, > 0")
    freq = FREQ[clock]
    first, last = ledger["close_date"].min(), ledger["close_date"].max()
    periods = pd.period_range(first.to_period(freq), last.to_period(freq), freq=freq)
    return targets_from_quota(sorted(ledger["rep_id"].unique()), periods, quota)

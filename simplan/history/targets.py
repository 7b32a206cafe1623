"""Targets: each rep's target per plan period, from a targets file or one flat quota.

A targets file may be on another clock than the plan's: monthly targets sum into a
quarterly plan's quarters, quarterly ones spread over a monthly plan's months by days, and
targets per fiscal period (labels of `calendar`, e.g. FY2025-Q1) spread the same way. A plan
with `clock: period` is on `calendar` itself: its targets are keyed by its labels.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from simplan.errors import SimplanError
from simplan.history.checks import Checker
from simplan.history.columns import TARGET_COLUMNS, resolve_columns
from simplan.history.files import fail, read_table
from simplan.model.calendar import PERIOD_FREQ
from simplan.model.periods import Periods, clock_periods, parse_periods, regroup
from simplan.model.plan.inputs import targets_from_quota

EXAMPLE = {"month": "2017-03", "quarter": "2017Q1"}


def read_targets(
    path: str | Path, clock: str = "month", calendar: Periods | None = None
) -> pd.DataFrame:
    """A targets file (rep_id, period, target) as targets per period of the plan `clock`.

    Periods are written like 2017-03 or 2017Q1, or as labels of `calendar` (the business's
    periods); targets on another clock than the plan's are summed or spread by days. The
    period column holds the plan clock's labels (2017-03, 2017Q1, FY2025-Q1) on every clock.
    """
    on = clock_periods(clock, calendar)
    source = read_table(path)
    check = Checker(source, resolve_columns(source, {}, TARGET_COLUMNS, ()))
    rows = source.rows
    rep_id = check.text("rep_id")
    target = check.numbers("target")
    text = check.text("period")
    written_on = _clock_written(text, on, calendar)
    if written_on is not None:
        return _regrouped(check, rep_id, target, text, written_on, on)
    labels = {value: _label(value, on, clock) for value in text.dropna().unique()}
    period = text.map(labels, na_action="ignore")
    if period.isna().any():
        example = EXAMPLE.get(clock, on.labels[len(on) // 2])
        check.problems.append(
            f"{check.name('period')} is not a {clock} on {rows(period.isna())}; write periods "
            f"like {example}"
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
    return _table(rep_id.to_numpy(dtype=object), period.to_numpy(), target.to_numpy())


def _label(value: str, on: Periods, clock: str) -> str | None:
    """`value` as a label of the clock's periods (None if it is not one); on a month or
    quarter clock anything pandas reads as such a period (2017-3, Mar 2017) counts too."""
    where = int(on.positions([value])[0])
    if where >= 0:
        return on.labels[where]
    if clock not in PERIOD_FREQ:
        return None
    try:
        return str(pd.Period(value, freq=PERIOD_FREQ[clock]))
    except (ValueError, TypeError):
        return None


def _table(rep_id: np.ndarray, labels: np.ndarray, target: np.ndarray) -> pd.DataFrame:
    """Targets with the period column as the plan clock's labels (2017-03, 2017Q1, FY2025-P03)."""
    period = np.asarray([str(label) for label in labels], dtype=object)
    return pd.DataFrame({"rep_id": rep_id, "period": period, "target": target})


def _clock_written(text: pd.Series, on: Periods, calendar: Periods | None) -> Periods | None:
    """The periods the file's labels are written in, when not the plan's clock (else None)."""
    labels = text.dropna().unique()
    if not len(labels) or (on.positions(labels) >= 0).all():
        return None
    others = [p for p in (calendar, parse_periods("month"), parse_periods("quarter")) if p]
    for periods in others:
        if periods.spec != on.spec and (periods.positions(labels) >= 0).all():
            return periods
    return None


def _regrouped(
    check: Checker,
    rep_id: pd.Series,
    target: pd.Series,
    text: pd.Series,
    written_on: Periods,
    on: Periods,
) -> pd.DataFrame:
    """Targets per period of `written_on` as targets per plan period (`on`), by days."""
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
        on,
    )
    return _table(
        out["key"].to_numpy(dtype=object), out["period"].to_numpy(), out["amount"].to_numpy()
    )


def quota_targets(
    ledger: pd.DataFrame, clock: str, quota: float, calendar: Periods | None = None
) -> pd.DataFrame:
    """Every rep in `ledger` gets `quota` (currency per plan period) in every plan period
    from the first close date to the last, periods without deals included."""
    if not (math.isfinite(quota) and quota > 0):
        raise SimplanError(f"quota = {quota:g}; a quota is each rep's target per {clock}, > 0")
    on = clock_periods(clock, calendar)
    dates = ledger["close_date"]
    first, last = on.index([dates.min(), dates.max()])
    if first < 0 or last < 0:
        raise SimplanError(
            f"the deals close from {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}, beyond "
            f"{on.describe()}; add periods for those days"
        )
    return targets_from_quota(sorted(ledger["rep_id"].unique()), on.labels[first : last + 1], quota)

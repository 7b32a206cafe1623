"""Early-warning flags on the statement (not money): pace warning, circuit breaker, improvement plan.

All three are computed from the ledger after the fact, per rep and period, on working days
(Monday-Friday; a weekend close counts on the next working day). *Pace* on working day j
(1-based) of a period with n working days is target x j / n; a rep's position is their
counted bookings closed up to and including that day. "Below" a line means not reaching it
(``thresholds.reaches``): a rep exactly on pace is not below it.

- ``days_below_pace``: working days, after the first ``grace_days``, ending below
  ``pace_warning`` x pace; ``pace_warning`` is true when there was at least one, and
  ``first_below_pace`` is the first such day.
- ``circuit_breaker``: true when, after ``grace_days``, the rep ends ``breaker.days``
  working days in a row below ``breaker.below`` x pace; ``breaker_date`` is the day it
  trips and ``breaker_target`` the target cut by ``breaker.target_cut`` (reported only:
  payouts keep the original target).
- ``improvement_plan``: true in a period when attainment was below ``improvement.below``
  in it and in the ``improvement.periods - 1`` periods immediately before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import Field

from simplan.model.params import Params
from simplan.model.plan.base import Attainment, Share
from simplan.model.plan.book import EPOCH
from simplan.model.plan.sheet import Sheet
from simplan.model.plan.thresholds import reaches


class CircuitBreaker(Params):
    """Attainment below ``below`` x pace for ``days`` working days in a row cuts the target."""

    below: Share = 0.3
    days: int = Field(default=3, ge=1)
    target_cut: Share = 0.1


class ImprovementPlan(Params):
    """``periods`` consecutive periods below ``below`` attainment start an improvement plan."""

    below: Attainment = 1.0
    periods: int = Field(default=2, ge=1)


class Flags(Params):
    """Which warnings to compute; leave one out (null) to skip it."""

    pace_warning: Share | None = 0.8
    grace_days: int = Field(default=5, ge=0)
    """Working days at the start of each period when pace is not judged."""
    breaker: CircuitBreaker | None = Field(default_factory=CircuitBreaker)
    improvement: ImprovementPlan | None = Field(default_factory=ImprovementPlan)


def _position(sheet: Sheet) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(cumulative bookings per cell x working day, pace share per period x day, days per period)."""
    book = sheet.book
    first = (book.period_first_day + EPOCH).astype("datetime64[D]")
    end = (book.period_first_day + book.period_days + EPOCH).astype("datetime64[D]")
    n_days = np.busday_count(first, end)
    width = int(n_days.max())
    period = sheet.counted("period")
    opening = np.busday_count(EPOCH, first)  # working day number of each period's first day
    workday = np.minimum(sheet.counted("workday") - opening[period], n_days[period] - 1)
    daily = np.bincount(
        sheet.counted("cell") * width + workday,
        weights=sheet.counted("amount"),
        minlength=book.n_cells * width,
    ).reshape(book.n_cells, width)
    step = np.arange(1, width + 1)
    pace_share = np.minimum(step[None, :] / n_days[:, None], 1.0)
    return np.cumsum(daily, axis=1), pace_share, n_days


def compute_flags(sheet: Sheet, flags: Flags) -> pd.DataFrame:
    """One row per rep x period with the flags described in the module docstring."""
    book = sheet.book
    cumulative, pace_share, n_days = _position(sheet)
    width = cumulative.shape[1]
    target = book.target[:, None]
    pace = target * pace_share[book.cell_period]
    in_period = np.arange(width)[None, :] < n_days[book.cell_period][:, None]
    judged = in_period & (np.arange(width)[None, :] >= flags.grace_days)
    first = (book.period_first_day + EPOCH).astype("datetime64[D]")

    def day_to_date(day: np.ndarray) -> np.ndarray:
        out = np.full(book.n_cells, np.datetime64("NaT"), dtype="datetime64[D]")
        hit = day >= 0
        out[hit] = np.busday_offset(first[book.cell_period[hit]], day[hit], roll="forward")
        return out

    table = {
        "rep_id": book.rep_ids[book.cell_rep],
        "period": book.labels[book.cell_period],
        "attainment": sheet.attainment,
    }
    if flags.pace_warning is not None:
        below = judged & ~reaches(cumulative, flags.pace_warning * pace)
        count = below.sum(axis=1)
        table["days_below_pace"] = count
        table["pace_warning"] = count > 0
        table["first_below_pace"] = day_to_date(np.where(count > 0, below.argmax(axis=1), -1))
    if flags.breaker is not None:
        rule = flags.breaker
        below = judged & ~reaches(cumulative, rule.below * pace)
        run = np.zeros(book.n_cells, dtype=np.int64)
        tripped = np.full(book.n_cells, -1)
        for day in range(width):  # a loop over working days, vectorised over cells
            run = np.where(below[:, day], run + 1, 0)
            tripped = np.where((tripped < 0) & (run >= rule.days), day, tripped)
        table["circuit_breaker"] = tripped >= 0
        table["breaker_date"] = day_to_date(tripped)
        table["breaker_target"] = book.target * np.where(tripped >= 0, 1 - rule.target_cut, 1.0)
    if flags.improvement is not None:
        rule = flags.improvement
        low = ~reaches(sheet.attainment, rule.below).reshape(book.n_reps, book.n_periods)
        streak = np.zeros(book.n_reps, dtype=np.int64)
        prev = book.previous_period()
        runs = np.zeros_like(low, dtype=np.int64)
        for p in range(book.n_periods):  # a loop over periods, vectorised over reps
            streak = np.where(low[:, p], (runs[:, prev[p]] if prev[p] >= 0 else 0) + 1, 0)
            runs[:, p] = streak
        table["improvement_plan"] = (runs >= rule.periods).ravel()
    return pd.DataFrame(table)

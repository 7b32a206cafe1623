"""World B's calendar: 13-week fiscal quarters from a Monday, cut into weeks of five
working days (deals are created and closed on weekdays only).

Days are counted from `ORIGIN` (a Monday). Two warm-up quarters (FY2024-Q3, Q4) fill the
pipeline, four history quarters (FY2025-Q1..Q4) are exported, FY2026-Q1 is predicted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ORIGIN = pd.Timestamp("2024-07-08")
WEEKS_PER_QUARTER = 13
QUARTER_DAYS = 7 * WEEKS_PER_QUARTER
WARM_UP = ("FY2024-Q3", "FY2024-Q4")
HISTORY = ("FY2025-Q1", "FY2025-Q2", "FY2025-Q3", "FY2025-Q4")
NEXT = "FY2026-Q1"
QUARTERS = (*WARM_UP, *HISTORY, NEXT)


def first_day(quarter: str) -> int:
    """The quarter's first day (a Monday), counted from ORIGIN."""
    return QUARTERS.index(quarter) * QUARTER_DAYS


def weekday(rng: np.random.Generator, week_start: int, count: int) -> np.ndarray:
    """`count` days drawn uniformly among the five working days of the week from `week_start`."""
    return week_start + rng.integers(0, 5, count)


def to_dates(days: np.ndarray) -> pd.DatetimeIndex:
    """Day numbers (from ORIGIN) as dates."""
    return ORIGIN + pd.to_timedelta(np.asarray(days, int), unit="D")


def periods_table() -> pd.DataFrame:
    """period, start, end (inclusive) of the history quarters and the next one."""
    labels = (*HISTORY, NEXT)
    starts = to_dates(np.array([first_day(label) for label in labels]))
    ends = starts + pd.Timedelta(days=QUARTER_DAYS - 1)
    return pd.DataFrame(
        {"period": labels, "start": starts.strftime("%Y-%m-%d"), "end": ends.strftime("%Y-%m-%d")}
    )

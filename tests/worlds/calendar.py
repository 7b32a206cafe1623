"""The world's calendar: calendar quarters from a warm-up (2024Q4) through the history
(2025Q1-Q4) to the quarter predicted (2026Q1), each cut into weekly decision steps.

Days are counted from `ORIGIN`. A quarter of 90-92 days has 13 steps of 7 days, the last
one taking the rest (6 to 8 days).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ORIGIN = pd.Timestamp("2024-10-01")
WARM_UP = "2024Q4"
HISTORY = ("2025Q1", "2025Q2", "2025Q3", "2025Q4")
NEXT = "2026Q1"
QUARTERS = (WARM_UP, *HISTORY, NEXT)


def quarter_days(period: str) -> tuple[int, int]:
    """(first day, days) of the quarter `period`, days counted from ORIGIN."""
    quarter = pd.Period(period, freq="Q")
    first = (quarter.start_time - ORIGIN).days
    return first, (quarter.end_time.normalize() - quarter.start_time).days + 1


def quarter_steps(period: str) -> np.ndarray:
    """The lengths in days of the quarter's weekly decision steps."""
    _, days = quarter_days(period)
    steps = round(days / 7)
    lengths = np.full(steps, 7.0)
    lengths[-1] = days - 7 * (steps - 1)
    return lengths


def to_date(days: np.ndarray) -> pd.DatetimeIndex:
    """Day numbers (from ORIGIN) as dates."""
    return ORIGIN + pd.to_timedelta(np.asarray(days, int), unit="D")


def periods_table() -> pd.DataFrame:
    """period, start, end (inclusive) of the history quarters and the next one."""
    rows = []
    for period in (*HISTORY, NEXT):
        quarter = pd.Period(period, freq="Q")
        rows.append(
            {
                "period": period,
                "start": quarter.start_time.date().isoformat(),
                "end": quarter.end_time.date().isoformat(),
            }
        )
    return pd.DataFrame(rows)

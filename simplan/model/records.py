"""What one replication of an engine hands back: flat arrays and their codes.

It lives in the model layer so both engines and `simplan.results` import it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OPEN, LOST, WON = 0, 1, 2
OUTCOMES = ("open", "lost", "won")
ON_TIME, PUSHED, PULLED = 0, 1, 2
TIMINGS = ("on_time", "pushed", "pulled")


@dataclass
class Records:
    """Flat arrays of one replication; see `simplan.results` for the tables built from them."""

    deals: dict[str, np.ndarray]
    credits: dict[str, np.ndarray]
    daily: dict[str, np.ndarray]
    totals: dict[str, float]
    targets: np.ndarray  # full-period target per period and rep (ratcheted if enabled)
    source_names: list[str]
    events: int
    processes: int


def credit_columns(rows: list[tuple[int, int, float, float, float]]) -> dict[str, np.ndarray]:
    """The `credits` records from (lead_id, rep, share, amount, close_day) rows."""
    credits = np.array(rows, dtype=float).reshape(-1, 5)
    return {
        "lead_id": credits[:, 0].astype(np.int64),
        "rep": credits[:, 1].astype(np.int64),
        "share": credits[:, 2],
        "amount": credits[:, 3],
        "close_day": credits[:, 4],
    }

"""A history with known parameters: simulate a scenario once and export its deals as the
CRM table a company would export, to test that calibration recovers what went in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from simplan.runner import simulate
from simplan.scenario import Scenario

CRM_COLUMNS = ["deal_id", "rep_id", "created_date", "close_date", "amount", "outcome", "tier"]


def simulated_history(scenario: Scenario, seed: int = 0) -> pd.DataFrame:
    """One replication of `scenario` as a CRM export (see `crm_export`).

    Leads carried in from a warm-up (opened before the start) are left out, as an export
    starting at the calendar's start would."""
    deals = simulate(scenario, replications=1, seed=seed, workers=1).deals
    frame = crm_export(deals[deals["created_day"] >= 0], pd.Timestamp(scenario.calendar.start))
    return frame.sort_values(["created_date", "deal_id"]).reset_index(drop=True)


def crm_export(deals: pd.DataFrame, start: pd.Timestamp) -> pd.DataFrame:
    """A `deals` table as a CRM export: deal_id, rep_id, created_date, close_date (empty
    while open), amount (won value, else 0), outcome, tier; ISO dates from `start` (day 0)."""
    created = start + pd.to_timedelta(np.floor(deals["created_day"]), unit="D")
    closed = start + pd.to_timedelta(np.floor(deals["close_day"]), unit="D")
    return pd.DataFrame(
        {
            "deal_id": "L" + deals["lead_id"].astype(str),
            "rep_id": deals["rep_id"].astype(str),
            "created_date": created.dt.strftime("%Y-%m-%d"),
            "close_date": closed.dt.strftime("%Y-%m-%d").where(deals["close_day"].notna(), ""),
            "amount": deals["amount"].round(2).where(deals["outcome"] == "won", 0.0),
            "outcome": deals["outcome"].astype(str),
            "tier": deals["tier"].astype(str),
        }
    )


def write_history(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a history table as CSV (what `read_opportunities` reads back)."""
    path = Path(path)
    frame.to_csv(path, index=False)
    return path

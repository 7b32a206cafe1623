"""The calibrated calendar on the history window: a periods table that starts with the
history cannot cover the warm-up before it, so those runs keep the plan's clock."""

from __future__ import annotations

import pandas as pd

from simplan.analysis.calibrated_scenario import history_calendar

TABLE = [
    {"period": "2025Q1", "start": "2025-01-01", "end": "2025-03-31"},
    {"period": "2025Q2", "start": "2025-04-01", "end": "2025-06-30"},
]


def test_a_table_starting_with_the_history_is_left_out_of_its_runs():
    calendar = {"start": "2026-01-01", "days": 90, "warmup_days": 110, "periods": TABLE}
    moved = history_calendar(calendar, pd.Timestamp("2025-01-01"), 181)
    assert moved == {"start": "2025-01-01", "days": 181, "warmup_days": 110}


def test_a_table_covering_the_warm_up_and_a_rule_are_kept():
    covering = [{"period": "2024Q4", "start": "2024-10-01", "end": "2024-12-31"}, *TABLE]
    for periods in (covering, "4-4-5:2024-01-01"):
        calendar = {"start": "2026-01-01", "days": 90, "warmup_days": 60, "periods": periods}
        moved = history_calendar(calendar, pd.Timestamp("2025-01-01"), 181)
        assert moved["periods"] == periods
        assert moved["start"] == "2025-01-01"

"""The calibrated calendar and roster on the history window: a periods table that starts with
the history cannot cover the warm-up before it, so those runs keep the plan's clock; each rep's
tenure is the one it had on the window's first day."""

from __future__ import annotations

import pandas as pd

from simplan.analysis.calibrated_scenario import history_calendar, history_roster

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


def test_runs_over_the_history_see_each_rep_as_tenured_then():
    """A veteran at the forecast start (2026-01-01) was 365 days younger on 2025-01-01; a rep
    hired during 2025 was not there yet and starts the history new (0 days), so the fit check
    and the behaviour fit ramp them as the history did."""
    data = {"calendar": {"start": "2026-01-01"},
            "team": {"roster": [{"rep_id": "a", "tenure_days": 900, "skill": 1.1},
                                {"rep_id": "b", "tenure_days": 120}]}}  # fmt: skip
    roster = history_roster(data, pd.Timestamp("2025-01-01"))
    assert roster == [{"rep_id": "a", "tenure_days": 535, "skill": 1.1},
                      {"rep_id": "b", "tenure_days": 0}]  # fmt: skip
    assert data["team"]["roster"][0]["tenure_days"] == 900  # the scenario is left as it was

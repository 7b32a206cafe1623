"""Target setting: the three-way model and a decomposition that sums back exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simplan import SimplanError
from simplan.analysis.targets import decompose, split_exactly, three_way_target

HISTORY = pd.Series([9.0e6, 10.0e6, 11.0e6, 12.0e6], index=["2025Q1", "2025Q2", "2025Q3", "2025Q4"])


def test_baseline_is_the_last_three_cycles_and_growth_applies():
    p = three_way_target(HISTORY, market_growth=0.2, new_hire_share=0.2)
    assert p.baseline == pytest.approx(11.0e6)
    assert p.cycles_used == ["2025Q2", "2025Q3", "2025Q4"]
    assert p.target == pytest.approx(11.0e6 * 1.2)
    assert p.buffer == 0


def test_many_new_hires_leave_a_buffer_in_the_increase():
    p = three_way_target(HISTORY, market_growth=0.2, new_hire_share=0.45, buffer_share=0.5)
    assert p.buffer == 0.5
    assert p.target == pytest.approx(11.0e6 * 1.1)
    assert "buffer" in p.explain()["step"].str.cat()


def test_anomalous_cycles_are_removed_and_named():
    spiky = pd.Series([10e6, 31e6, 11e6], index=["Q2", "Q3", "Q4"])
    p = three_way_target(spiky, market_growth=0.0, new_hire_share=0.1)
    assert p.cycles_removed == ["Q3"]
    assert p.baseline == pytest.approx(10.5e6)


def test_no_history_is_an_error():
    with pytest.raises(SimplanError, match="no past cycles"):
        three_way_target(pd.Series(dtype=float), 0.1, 0.1)


@settings(max_examples=300, deadline=None)
@given(total=st.integers(0, 10**9), weights=st.lists(st.floats(0.01, 100), min_size=1, max_size=30))
def test_split_exactly_sums_back_and_is_within_one_unit_of_proportional(total, weights):
    parts = split_exactly(total, np.array(weights))
    assert parts.sum() == total
    ideal = total * np.array(weights) / sum(weights)
    assert (np.abs(parts - ideal) < 1 + 1e-6).all()


def test_decomposition_sums_back_at_every_level():
    reps = pd.DataFrame(
        {
            "rep_id": [f"R{i}" for i in range(7)],
            "squad": ["a", "a", "a", "b", "b", "b", "b"],
            "capacity": [10, 12, 8, 10, 10, 9, 11],
            "skill": [1.0, 1.2, 0.8, 1.0, 1.1, 0.9, 1.0],
            "ramp": [1, 1, 0.5, 1, 1, 1, 0.6],
        }
    )
    table = decompose(12_345_678, reps, year=2026, quarter_weights=(0.9, 1.0, 1.0, 1.2))
    assert table["target"].sum() == 12_345_678
    by_month = table.groupby("month")["target"].sum()
    assert (by_month == table.groupby("month")["month_target"].first()).all()
    by_squad = table.groupby(["month", "squad"])["target"].sum()
    assert (by_squad == table.groupby(["month", "squad"])["squad_target"].first()).all()
    quarters = table.groupby("quarter")["quarter_target"].first()
    assert quarters.sum() == 12_345_678
    assert quarters["2026Q4"] > quarters["2026Q1"]
    jan = table[table["month"] == "2026-01"].set_index("rep_id")["target"]
    assert jan["R1"] > jan["R2"], "more capacity x skill x ramp, more target"


def test_target_plan_from_a_history_ledger_decomposes_the_scenario_team():
    from simplan import load_scenario
    from simplan.analysis.targets import target_plan

    from .conftest import DATA

    ledger = pd.DataFrame(
        {
            "close_date": pd.to_datetime(
                ["2025-01-15", "2025-04-10", "2025-07-01", "2025-10-03", "2025-11-20"]
            ),
            "amount": [1_000_000.0, 1_100_000.0, 1_200_000.0, 600_000.0, 700_000.0],
        }
    )
    scenario = load_scenario(DATA / "small.yaml")
    proposal, table = target_plan(scenario, growth=0.1, year=2026, history=ledger)
    assert proposal.cycles_used == ["2025Q2", "2025Q3", "2025Q4"]
    assert proposal.baseline == pytest.approx(1_200_000.0)
    assert proposal.buffer == 0  # 20 % new hires, under the 40 % line
    assert table["target"].sum() == round(4 * 1_200_000 * 1.1)
    assert table["rep_id"].nunique() == scenario.team.size

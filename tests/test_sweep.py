"""Sweeps of target levels and plan lines; the Pareto front."""

from __future__ import annotations

import numpy as np
import pytest

from simplan import SimplanError
from simplan.analysis.sweep import pareto_front, target_sweep, threshold_sweep

from .test_behaviour import scenario

GATED = {
    "clock": "month",
    "components": [
        {
            "type": "tiered_commission",
            "mode": "marginal",
            "tiers": [{"threshold": 0.0, "rate": 0.08}, {"threshold": 1.2, "rate": 0.15}],
        },
        {"type": "gate", "threshold": 0.8},
    ],
}


def test_raising_the_target_lowers_the_share_at_target():
    table = target_sweep(scenario(), [0.0, 0.15, 0.3], band=(0.25, 0.5), replications=4, workers=1)
    share = table["share_at_target"].to_numpy()
    assert (np.diff(share) < 0).all(), share
    assert table["target_per_period"].tolist() == pytest.approx([60000, 69000, 78000])
    assert table["outside_band"].tolist() == [not 0.25 <= s <= 0.5 for s in share]


def test_threshold_sweep_sets_each_line_and_marks_the_pareto_front():
    grid = {
        ("gate", "threshold"): [0.6, 0.9],
        ("tiered_commission", "tiers[1].threshold"): [1.1, 1.5],
    }
    table = threshold_sweep(scenario(plan=GATED), grid, replications=2, workers=1)
    assert len(table) == 4
    assert table[["gate.threshold", "tiered_commission.tiers[1].threshold"]].values.tolist() == [
        [0.6, 1.1],
        [0.6, 1.5],
        [0.9, 1.1],
        [0.9, 1.5],
    ]
    # the front is the rows no other row beats on bookings without costing more (or vice versa)
    for i, row in table.iterrows():
        others = table.drop(index=i)
        beaten = (
            (others["bookings"] >= row["bookings"])
            & (others["cost_of_sales"] <= row["cost_of_sales"])
            & (
                (others["bookings"] > row["bookings"])
                | (others["cost_of_sales"] < row["cost_of_sales"])
            )
        ).any()
        assert row["pareto"] == (not beaten), row
    assert table.loc[table["bookings"].idxmax(), "pareto"]
    # a higher challenge line pays less at the same gate
    by = table.set_index(["gate.threshold", "tiered_commission.tiers[1].threshold"])
    assert by.loc[(0.6, 1.5), "payout_p50"] < by.loc[(0.6, 1.1), "payout_p50"]


def test_pareto_front_by_hand():
    bookings = np.array([10.0, 12.0, 12.0, 8.0, 15.0])
    cost = np.array([0.05, 0.06, 0.07, 0.04, 0.09])
    assert pareto_front(bookings, cost).tolist() == [True, True, False, True, True]


@pytest.mark.parametrize(
    ("grid", "fragment"),
    [
        ({("gate", "threshold"): []}, "empty"),
        ({("bonus", "threshold"): [1.0]}, "0 components called 'bonus'"),
        ({("gate", "level"): [1.0]}, "plan component 'gate': 'level' does not exist"),
    ],
)
def test_bad_sweeps_are_refused(grid, fragment):
    with pytest.raises(SimplanError, match=fragment):
        threshold_sweep(scenario(plan=GATED), grid, replications=2, workers=1)


def test_a_target_sweep_needs_a_quota_and_a_sensible_band():
    with pytest.raises(SimplanError, match="band"):
        target_sweep(scenario(), [0.1], band=(0.8, 0.5))

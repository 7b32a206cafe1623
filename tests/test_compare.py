"""Comparing plans: common random numbers, paired intervals, and what cannot be compared."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simplan import SimplanError
from simplan.analysis.compare import compare

from .test_behaviour import scenario

PLUS_HALF_POINT = {"clock": "month", "components": [{"type": "base_commission", "rate": 0.105}]}


@pytest.fixture(scope="module")
def near_identical():
    """10 % vs 10.5 % commission, reps responding: a small real difference."""
    return compare(
        scenario(name="base"),
        scenario(name="plus_half", plan=PLUS_HALF_POINT),
        replications=12,
        workers=1,
    )


def test_the_same_plan_twice_differs_by_exactly_nothing():
    c = compare(scenario(name="a"), scenario(name="b"), replications=3, workers=1)
    diffs = c.differences.set_index("metric")
    assert diffs.loc["bookings", "difference"] == 0
    assert diffs.loc["payout", "paired_half_width"] == 0
    pd.testing.assert_frame_equal(c.results["a"].deals, c.results["b"].deals)


def test_paired_intervals_are_much_narrower_than_independent_ones(near_identical):
    diffs = near_identical.differences.set_index("metric")
    for metric in ("bookings", "payout"):
        assert (
            diffs.loc[metric, "paired_half_width"] * 2 < diffs.loc[metric, "independent_half_width"]
        ), metric
    # With pairing, half a point of commission shows as more payout beyond doubt.
    assert diffs.loc["payout", "ci_low"] > 0


def test_differences_are_the_mean_paired_gap(near_identical):
    k = near_identical.kpis
    gap = (
        k[k.scenario == "plus_half"].set_index("replication")["payout"]
        - k[k.scenario == "base"].set_index("replication")["payout"]
    )
    diffs = near_identical.differences.set_index("metric")
    assert diffs.loc["payout", "difference"] == pytest.approx(gap.mean())
    summary = near_identical.summary.set_index(["scenario", "metric"])
    low, mean, high = summary.loc[("base", "bookings"), ["ci_low", "mean", "ci_high"]]
    assert low < mean < high


def test_kpis_per_replication(near_identical):
    k = near_identical.kpis
    assert sorted(k["scenario"].unique()) == ["base", "plus_half"]
    assert (k.groupby("scenario").size() == 12).all()
    assert np.allclose(k["cost_of_sales"], k["payout"] / k["bookings"])
    assert (k["payout_top_decile_share"].between(0.1, 1)).all()


def test_over_budget_is_the_share_of_replications_paying_more_than_the_budget():
    plan = {
        "clock": "month",
        "components": [{"type": "base_commission", "rate": 0.1}],
        "budget": {"total": 1.0},
    }
    c = compare(scenario(name="base"), scenario(name="tight", plan=plan), replications=2, workers=1)
    summary = c.summary.set_index(["scenario", "metric"])["mean"]
    assert summary[("tight", "over_budget")] == 1.0
    assert np.isnan(summary[("base", "over_budget")])


def test_scenarios_of_different_worlds_cannot_be_compared():
    with pytest.raises(SimplanError, match=r"team\.size differs"):
        compare(scenario(name="a"), scenario(name="b", team={"size": 21}), replications=2)


@pytest.mark.parametrize("confidence", [0, 1, 1.5])
def test_confidence_must_lie_between_0_and_1(confidence):
    with pytest.raises(SimplanError, match="between 0 and 1"):
        compare(scenario(), scenario(name="b"), confidence=confidence)


def test_saving_a_comparison(near_identical, tmp_path):
    path = near_identical.save(tmp_path / "cmp")
    assert sorted(p.name for p in (path / "runs").iterdir()) == ["base", "plus_half"]
    pd.testing.assert_frame_equal(
        pd.read_parquet(path / "differences.parquet"), near_identical.differences
    )

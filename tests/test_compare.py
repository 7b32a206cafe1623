"""Comparing plans: common random numbers, paired intervals, and what cannot be compared."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simplan import SimplanError
from simplan.analysis.compare import (
    compare,
    mean_interval,
    paired_differences,
    predictive_interval,
    summarise,
)
from simplan.analysis.kpis import KPI_COLUMNS

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
    base = k[k.scenario == "base"]["bookings"]
    half = stats.t.ppf(0.975, len(base) - 1) * base.std(ddof=1) / np.sqrt(len(base))
    assert (low, mean, high) == pytest.approx((base.mean() - half, base.mean(), base.mean() + half))


def test_predictive_interval_is_the_5th_to_95th_percentile_by_hand():
    # 21 values 0..20: quantile q sits at position 20 q, so 5 % -> 1.0 and 95 % -> 19.0.
    assert predictive_interval(np.arange(21.0), 0.9) == pytest.approx((1.0, 19.0))
    # 11 values 0, 10, ..., 100: 5 % at position 0.5 -> 5.0, 95 % at 9.5 -> 95.0.
    assert predictive_interval(np.arange(11.0) * 10, 0.9) == pytest.approx((5.0, 95.0))
    # The 50 % interval of 1..5 is its quartiles; NaN (a KPI without a plan) is dropped.
    assert predictive_interval(np.array([5, 1, np.nan, 4, 2, 3.0]), 0.5) == pytest.approx(
        (2.0, 4.0)
    )


def test_mean_interval_is_the_t_interval_by_hand():
    # 2, 4, 6, 8: mean 5, sd sqrt(20 / 3), t(0.975, 3) = 3.182446305284263.
    mean, half = mean_interval(np.array([2.0, 4, 6, 8]), 0.95)
    assert mean == 5.0
    assert half == pytest.approx(3.182446305284263 * np.sqrt(20 / 3) / 2, rel=1e-12)


def synthetic_kpis(base: np.ndarray, other: np.ndarray) -> pd.DataFrame:
    """A two-scenario KPI table with the given bookings (other KPIs empty)."""
    n = len(base)
    frame = pd.DataFrame(
        {
            "scenario": ["base"] * n + ["other"] * n,
            "replication": list(range(n)) * 2,
            "bookings": np.concatenate([base, other]),
        }
    )
    for column in KPI_COLUMNS[1:]:
        frame[column] = np.nan
    return frame


def test_summary_and_differences_carry_both_intervals_by_hand():
    base = np.arange(21.0)
    other = base + np.where(np.arange(21) % 2 == 0, 10.0, 20.0)  # gaps 10, 20, 10, ...: 11 tens
    kpis = synthetic_kpis(base, other)
    summary = summarise(kpis, 0.95, 0.9).set_index(["scenario", "metric"])
    row = summary.loc[("base", "bookings")]
    assert (row["pi_low"], row["mean"], row["pi_high"]) == pytest.approx((1.0, 10.0, 19.0))
    half = stats.t.ppf(0.975, 20) * base.std(ddof=1) / np.sqrt(21)
    assert row["ci_high"] - row["mean"] == pytest.approx(half)
    diff = paired_differences(kpis, ["base", "other"], 0.95, 0.9).set_index("metric")
    gaps = other - base
    assert diff.loc["bookings", "difference"] == pytest.approx(gaps.mean())
    # Sorted gaps: ten 20s above eleven 10s; 5 % at position 1 -> 10, 95 % at 19 -> 20.
    assert (diff.loc["bookings", "pi_low"], diff.loc["bookings", "pi_high"]) == pytest.approx(
        (10.0, 20.0)
    )
    assert list(diff.index) == ["bookings"]  # KPIs empty in both scenarios are left out


@pytest.mark.parametrize("n", [30, 200])
def test_intervals_cover_at_their_level_on_a_known_distribution(n):
    """Bookings ~ Uniform(50, 150) over n replications, 4000 times. The interval from the 5 %
    to the 95 % quantile (linear between order statistics at positions 1 + 0.05 (n - 1) and
    1 + 0.95 (n - 1)) holds a fresh period with probability 0.9 (n - 1) / (n + 1) exactly for
    uniform values: 0.842 for 30 replications, 0.891 for 200, so a planner wanting 90 % should
    run enough replications. The 95 % t interval holds the true mean 100 about 95 % of the time."""
    rng = np.random.default_rng(2026 + n)
    trials = 4000
    samples = rng.uniform(50, 150, size=(trials, n))
    fresh = rng.uniform(50, 150, size=trials)
    pi_hits = ci_hits = 0
    for sample, new in zip(samples, fresh, strict=True):
        low, high = predictive_interval(sample, 0.9)
        pi_hits += low <= new <= high
        mean, half = mean_interval(sample, 0.95)
        ci_hits += abs(mean - 100) <= half
    expected = 0.9 * (n - 1) / (n + 1)
    assert pi_hits / trials == pytest.approx(
        expected, abs=3 * np.sqrt(expected * (1 - expected) / trials)
    )
    assert ci_hits / trials == pytest.approx(0.95, abs=3 * np.sqrt(0.95 * 0.05 / trials))


def test_an_elasticity_the_data_cannot_pin_down_widens_the_interval_on_the_plan_effect():
    """Draws of the sourcing elasticity, 0 (effort creates nothing) and 2: 15 % commission
    instead of 10 % then books about nothing more or a great deal more, and the predictive
    interval of the effect spans both instead of one confident number."""
    uncertainty = {
        "source": "sourcing elasticity from the prior",
        "draws": [{"production.sourcing_elasticity": 0.0}, {"production.sourcing_elasticity": 2.0}],
    }
    richer = {"clock": "month", "components": [{"type": "base_commission", "rate": 0.15}]}
    small = {"team": {"size": 10}, "calendar": {"days": 60}, "uncertainty": uncertainty}
    c = compare(
        scenario(name="base", **small),
        scenario(name="richer", plan=richer, **small),
        replications=6,
        workers=1,
    )
    k = c.kpis.pivot(index="replication", columns="scenario", values="bookings")
    effect = (k["richer"] - k["base"]).to_numpy()
    inert, elastic = effect[0::2], effect[1::2]  # replication i runs under draw i mod 2
    assert elastic.min() > 3 * np.abs(inert).max()
    bookings = c.differences.set_index("metric").loc["bookings"]
    assert bookings["pi_low"] <= inert.max()
    assert bookings["pi_high"] >= elastic.min()
    assert "2 parameter draws; sourcing elasticity from the prior" in c.predictive_label()


def test_kpis_per_replication(near_identical):
    k = near_identical.kpis
    assert sorted(k["scenario"].unique()) == ["base", "plus_half"]
    assert (k.groupby("scenario").size() == 12).all()
    # a plain commission and no salary: the cost of sales is the rate
    rate = k["scenario"].map({"base": 0.10, "plus_half": 0.105})
    np.testing.assert_allclose(k["cost_of_sales"], rate, rtol=1e-9)
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

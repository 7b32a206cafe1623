"""simplan against world B (`tests/world_b`): a second ground-truth world, written apart
from simplan and from world A, whose reps respond to a plan through win rate, deal size,
speed and a small self-sourced flow, and choose effort by a myopic-but-forward rule.

The asserts are issue 10's item 6. Tolerances: the world's means over 400 worlds carry a
standard error of about 0.4 % (bookings) and 0.6 points (share at target); simplan's means
over 30 replications about 1.5 %. The issue's bands (5 %, 5 points, 30 % of the effect)
are several of these wide, so a failure is the model's, not the sampling's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.world_b import calendar
from tests.world_b.check import run_check, simplan
from tests.world_b.export import READ_ARGS, write_world
from tests.world_b.plans import PLANS

pytestmark = pytest.mark.world


@pytest.fixture(scope="module")
def nonlinear(tmp_path_factory):
    return run_check(tmp_path_factory.mktemp("world_b_current"), "current")


@pytest.fixture(scope="module")
def linear(tmp_path_factory):
    return run_check(tmp_path_factory.mktemp("world_b_linear"), "linear")


def test_the_plan_files_pay_what_the_world_pays(tmp_path):
    """`simplan payout` on the history's export pays each rep and quarter what world B's own
    payout rule pays, under each plan (the plan files mean what the world means)."""
    world = write_world(tmp_path, "current")
    plans = [arg for plan in PLANS for arg in ("--plan", tmp_path / f"{plan}.yaml")]
    simplan("payout", "--deals", tmp_path / "deals.csv", *READ_ARGS[:4], "--targets",
            tmp_path / "quotas.csv", "--calendar", tmp_path / "periods.csv", *plans,
            "--out", tmp_path / "payout")  # fmt: skip
    quarters = world.quarters[world.quarters["period"].isin(calendar.HISTORY)].copy()
    quarters["rep_id"] = world.reps.name[quarters["rep"].to_numpy()]
    for name, plan in PLANS.items():
        paid = pd.read_parquet(tmp_path / "payout" / name / "totals.parquet")
        merged = quarters.merge(paid, on=["rep_id", "period"], suffixes=("", "_simplan"))
        assert len(merged) == len(quarters) == 4 * world.reps.size
        np.testing.assert_allclose(merged["bookings_simplan"], merged["bookings"], atol=0.01)
        own = plan.pay(merged["bookings"].to_numpy(), merged["target"].to_numpy())
        np.testing.assert_allclose(merged["payout_simplan"], own, atol=0.01)


def test_the_proposal_moves_the_world_clearly(nonlinear):
    """The world's true effect is far from zero (at least 4 % of bookings, 5 standard errors)."""
    effect = nonlinear.true_effect("bookings")
    se = nonlinear.table().set_index(["plan", "metric"]).at[("effect", "bookings"), "truth_se"]
    print("true bookings effect", effect, "se", se)
    assert abs(effect) >= 0.04 * nonlinear.truth["current"].at["bookings", "mean"]
    assert abs(effect) >= 5 * se


def test_levels_of_each_plan_match_the_world(nonlinear):
    table = nonlinear.table()
    print(table.to_string(), nonlinear.seconds)
    for row in table[table["plan"] != "effect"].itertuples():
        if row.metric == "share_at_target":
            assert abs(row.predicted - row.truth) <= 0.05, row
        else:
            assert abs(row.predicted / row.truth - 1) <= 0.05, row
        assert row.pi_low <= row.truth <= row.pi_high, row


def test_the_plan_effect_has_the_right_sign_and_size(nonlinear):
    table = nonlinear.table().set_index(["plan", "metric"])
    for metric in ("bookings", "payout"):
        row = table.loc[("effect", metric)]
        print(metric, "predicted", row["predicted"], "true", row["truth"])
        assert np.sign(row["predicted"]) == np.sign(row["truth"]), metric
        assert abs(row["predicted"] / row["truth"] - 1) <= 0.30, metric
        assert row["pi_low"] <= row["truth"] <= row["pi_high"], metric


def test_the_commands_print_the_predictive_intervals(nonlinear):
    assert "predictive interval" in nonlinear.printed["compare"]
    assert "behaviour fitted" in nonlinear.notes
    assert "NOT IDENTIFIED" not in nonlinear.notes


def test_a_linear_history_gives_a_wide_interval_that_holds_the_truth(linear, nonlinear):
    """Under 5 % of everything the history shows no response to a line: calibrate says so,
    and each effect's 90 % predictive interval holds the world's effect and is at least as
    wide as the one a nonlinear history gives."""
    assert "NOT IDENTIFIED" in linear.notes
    wide, identified = (
        check.table().set_index(["plan", "metric"]) for check in (linear, nonlinear)
    )
    for metric in ("bookings", "payout"):
        row = wide.loc[("effect", metric)]
        print(f"{metric} effect {row['predicted']:,.0f} ({row['pi_low']:,.0f} .. "
              f"{row['pi_high']:,.0f}), world {row['truth']:,.0f}")  # fmt: skip
        assert row["pi_low"] <= row["truth"] <= row["pi_high"], metric
        narrow = identified.loc[("effect", metric)]
        assert row["pi_high"] - row["pi_low"] >= narrow["pi_high"] - narrow["pi_low"], metric

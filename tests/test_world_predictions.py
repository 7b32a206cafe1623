"""simplan against a world whose truth is known and whose code shares nothing with it.

The world (`tests/worlds`) has 30 reps who each solve their own dynamic program against a
quarterly plan; effort creates self-sourced opportunities and lifts win rates; deals close
weeks later. simplan is calibrated on four quarters of its CRM export (closed deals, roster,
each rep's quotas) under a nonlinear plan, then predicts the next quarter under the plan in
force and under a proposal. The world's own Monte Carlo gives the truth.

Tolerances: the world's means carry a standard error of about 0.2 % (400 worlds); simplan's
means over its 100 replications about 0.6 % for bookings and about 9,000 (7 % of the world's)
for the bookings effect, whose replications spread far (about 87,000: which deals land inside
the quarter differs between the plans' runs); at 40 replications that error was 14,000 and
one run's first 40 said -101,000 where its next 60 said -42,000. The issue's bands (±5 % on
levels, ±5 points on the share at target, ±30 % on the effect) are several of these wide, so
a failure is the model's, not the sampling's.

Under a linear plan in force (`linear`) the history cannot identify the response: the prior's
draws must reach both ends of its ranges and move the replications, and the effects'
intervals hold the world's. Under this world the bookings effect's interval is wide with or
without identification: which deals land inside the quarter differs between the plans' runs
(about 130k a replication) and outweighs what the behaviour draws change, so its width is not
compared with the identified one's; the change in leads, which effort moves directly, shows the
prior instead.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simplan.analysis.behaviour_fit import (
    PRIOR_CLOSING,
    PRIOR_CURVATURES,
    PRIOR_SHARES,
    PRIOR_SIGHTS,
    PRIOR_SOURCE,
)
from tests.world_check import predict

pytestmark = pytest.mark.world


@pytest.fixture(scope="module")
def nonlinear(tmp_path_factory):
    return predict(tmp_path_factory.mktemp("world_current"), "current")


@pytest.fixture(scope="module")
def linear_directory(tmp_path_factory):
    return tmp_path_factory.mktemp("world_linear")


@pytest.fixture(scope="module")
def linear(linear_directory):
    return predict(linear_directory, "linear")


def test_levels_of_each_plan_match_the_world(nonlinear):
    result = nonlinear.table()
    print(result.to_string(), nonlinear.seconds)
    for row in result[result["plan"] != "effect"].itertuples():
        if row.metric == "share_at_target":
            assert abs(row.predicted - row.truth) <= 0.05, row
        else:
            assert abs(row.predicted / row.truth - 1) <= 0.05, row
        assert row.pi_low <= row.truth <= row.pi_high, row


def test_the_plan_effect_has_the_right_sign_and_size(nonlinear):
    differences = nonlinear.differences.set_index("metric")
    for metric in ("bookings", "payout"):
        true_effect = nonlinear.true_effect(metric)
        predicted = differences.loc[metric, "difference"]
        print(metric, "predicted", predicted, "true", true_effect)
        assert np.sign(predicted) == np.sign(true_effect)
        assert abs(predicted / true_effect - 1) <= 0.30
        assert (
            differences.loc[metric, "pi_low"] <= true_effect <= differences.loc[metric, "pi_high"]
        )


def test_the_commands_print_the_predictive_intervals(nonlinear):
    assert "predictive interval" in nonlinear.printed["compare"]
    assert "NOT IDENTIFIED" not in nonlinear.notes
    assert "behaviour fitted" in nonlinear.notes


def test_a_linear_history_gives_a_wide_interval_that_holds_the_truth(linear, linear_directory):
    """Under a linear plan in force (6 % of everything) the history shows no response to a
    line: calibrate says so and names the prior, draws the prior's whole range into the
    scenario's `uncertainty:`, and each plan effect's 90 % predictive interval holds the
    world's effect; the bookings effect's claims no sign."""
    assert "NOT IDENTIFIED" in linear.notes
    assert PRIOR_SOURCE in linear.notes
    differences = linear.differences.set_index("metric")
    for metric in ("bookings", "payout"):
        row = differences.loc[metric]
        print(f"{metric} effect {row['difference']:,.0f} ({row['pi_low']:,.0f} .. "
              f"{row['pi_high']:,.0f}), world {linear.true_effect(metric):,.0f}")  # fmt: skip
        assert row["pi_low"] <= linear.true_effect(metric) <= row["pi_high"]
    assert differences.loc["bookings", "pi_low"] < 0 < differences.loc["bookings", "pi_high"]
    team = yaml.safe_load((linear_directory / "team.yaml").read_text())
    draws = pd.DataFrame(team["uncertainty"]["draws"])
    for path, prior in (("production.self_sourced_share", PRIOR_SHARES),
                        ("production.closing_elasticity", PRIOR_CLOSING),
                        ("behaviour.cost_curvature", PRIOR_CURVATURES),
                        ("behaviour.pipeline_sight", PRIOR_SIGHTS)):  # fmt: skip
        slice_width = (max(prior) - min(prior)) / len(draws)  # one draw in each slice
        assert draws[path].min() <= min(prior) + slice_width, path
        assert draws[path].max() >= max(prior) - slice_width, path


def test_the_prior_reaches_every_replication_of_a_linear_history(linear, linear_directory):
    """The prior's draws move the effort response in the comparison's replications, not only
    in the scenario file: the proposal's change in leads (self-sourced leads follow effort)
    differs between draws far beyond the replications of one draw. Replication i runs under
    draw i mod the number of draws; with 40 replications of 20 draws the ratio of the
    between-draw variance of a draw's mean change to half the within-draw variance is F(19, 20)
    when the draws do nothing, above 4 with chance under 0.001 (measured: about 20)."""
    team = yaml.safe_load((linear_directory / "team.yaml").read_text())
    count = len(team["uncertainty"]["draws"])
    runs = {plan: pd.read_parquet(linear_directory / "cmp" / "runs" / plan / "runs.parquet")
            .set_index("replication")["leads"] for plan in ("current", "proposal")}  # fmt: skip
    change = (runs["proposal"] - runs["current"]).to_frame("leads")
    by_draw = change.groupby(change.index % count)["leads"]
    assert by_draw.size().min() >= 2, "every draw needs two replications"
    ratio = by_draw.mean().var() / (by_draw.var().mean() / 2)
    print("between / within variance of the leads change", ratio)
    assert ratio > 4

"""Pilots: power rises with size and effect, the test holds its size, and the study's estimates."""

from __future__ import annotations

import math

import pytest

from simplan import SimplanError, simulate
from simplan.analysis.pilot import pilot_power, pilot_study, required_pilot

from .test_behaviour import scenario

ASSIGNMENTS, REPLICATIONS = 30, 8


@pytest.fixture(scope="module")
def power():
    run = simulate(scenario(), replications=REPLICATIONS, workers=1)
    return pilot_power(run, shares=(0.2, 0.5), uplifts=(0.0, 0.1, 0.6), assignments=ASSIGNMENTS)


def at(table, periods, share, uplift):
    row = table[(table.periods == periods) & (table.share == share) & (table.uplift == uplift)]
    return float(row["power"].iloc[0])


def test_power_rises_with_the_effect_and_the_pilot_size(power):
    # Standard error of a power estimate from REPLICATIONS x ASSIGNMENTS pilots, at most.
    se = math.sqrt(0.25 / (REPLICATIONS * ASSIGNMENTS))
    for periods in (1, 2):
        for share in (0.2, 0.5):
            assert at(power, periods, share, 0.6) > at(power, periods, share, 0.1) + 3 * se
        assert at(power, periods, 0.5, 0.6) > at(power, periods, 0.2, 0.6) + 3 * se
    assert at(power, 2, 0.5, 0.6) > at(power, 1, 0.5, 0.6)


def test_with_no_effect_the_test_holds_its_size(power):
    """One-sided significance at alpha 0.05 two-sided: about 2.5 % of pilots by chance."""
    se = math.sqrt(0.025 * 0.975 / (REPLICATIONS * ASSIGNMENTS))
    for power_at_zero in power[power.uplift == 0.0]["power"]:
        assert power_at_zero <= 0.025 + 4 * se


def test_required_pilot_is_the_smallest_that_reaches_the_power(power):
    best = required_pilot(power, uplift=0.6, power=0.3)
    assert best is not None
    assert best["power"] >= 0.3
    smaller = power[(power.uplift == 0.6) & (power.share < best["share"])]
    assert (smaller["power"] < 0.3).all()
    assert required_pilot(power, uplift=0.1, power=0.99) is None


def test_pilot_study_estimates_the_effect_of_the_proposal():
    """The difference in differences is unbiased under random assignment: the mean estimate
    over replications and assignments matches the whole-team effect within 3 standard errors
    (assignments within a replication share its world, so the error is taken over the
    replications' mean estimates)."""
    richer = {"clock": "month", "components": [{"type": "base_commission", "rate": 0.14}]}
    study = pilot_study(
        scenario(name="base"),
        scenario(name="richer", plan=richer),
        share=0.5,
        replications=4,
        workers=1,
        assignments=20,
    )
    assert study.true_effect > 0, "a richer commission makes reps work harder"
    e = study.estimates
    assert len(e) == 4 * 20
    assert (e["ci_low"] <= e["estimate"]).all()
    assert (e["estimate"] <= e["ci_high"]).all()
    by_replication = e.groupby("replication")["estimate"].mean()
    se = by_replication.std(ddof=1) / math.sqrt(len(by_replication))
    assert abs(by_replication.mean() - study.true_effect) < 3 * se


def test_a_pilot_of_no_change_covers_zero_at_its_level():
    """The proposal is the baseline under another name: the true effect is exactly 0 and the
    95 % Welch intervals of 3 x 40 random pilots hold 0 within 3 binomial standard errors
    of 95 %; no pilot counts towards power, which needs an effect to find."""
    study = pilot_study(
        scenario(name="base"), scenario(name="same"), share=0.5, replications=3, workers=1,
        assignments=40,
    )  # fmt: skip
    assert study.true_effect == 0.0
    trials = len(study.estimates)
    assert study.coverage == pytest.approx(0.95, abs=3 * math.sqrt(0.95 * 0.05 / trials))
    assert study.power == 0.0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"shares": (1.0,)}, "strictly between 0 and 1"),
        ({"periods": (3,)}, "choose 1 to 2"),
        ({"uplifts": ()}, "at least one"),
    ],
)
def test_bad_pilot_settings(kwargs, fragment):
    run = simulate(scenario(), replications=2, workers=1)
    with pytest.raises(SimplanError, match=fragment):
        pilot_power(run, **kwargs)

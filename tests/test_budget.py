"""Budget sizing: quantiles exact where the answer is known, the reserve, the band, bad input."""

from __future__ import annotations

import pytest

from simplan import SimplanError, simulate
from simplan.analysis.budget import size_budget

from .test_behaviour import scenario

SALARY, RATE = 1000.0, 0.1
PLAN = {
    "clock": "month",
    "components": [
        {"type": "base_salary", "amount": SALARY},
        {"type": "base_commission", "rate": RATE},
    ],
}
WITH_CHAMPION = {
    **PLAN,
    "components": [*PLAN["components"], {"type": "daily_champion", "amount": 50}],
}


@pytest.fixture(scope="module")
def run():
    return simulate(scenario(plan=PLAN), replications=10, workers=1)


def test_payout_quantiles_are_exact_for_a_linear_plan(run):
    """payout = salaries + rate x bookings: each quantile maps through exactly."""
    fixed = SALARY * run.reps["rep_id"].nunique() * run.reps["period"].nunique()
    sizing = size_budget(run, confidence=0.9)
    overview = sizing.overview.set_index("metric")["value"]
    bookings = run.runs["bookings"]
    for q in (0.5, 0.9, 0.95, 0.99):
        expected = fixed + RATE * bookings.quantile(q)
        assert overview[f"payout P{round(q * 100)}"] == pytest.approx(expected, rel=1e-12)
    assert sizing.needed == pytest.approx(overview["payout P90"])


def test_probability_of_exceeding_the_budget(run):
    """A budget equal to the third-highest of 10 payouts is exceeded in exactly 2 of them."""
    payout = run.runs["payout"]
    assert payout.nunique() == 10
    budget = float(payout.sort_values().iloc[-3])
    sizing = size_budget(run, budget=budget)
    overview = sizing.overview.set_index("metric")["value"]
    assert overview["probability of exceeding the budget"] == pytest.approx(0.2)
    assert overview["budget"] == budget


def test_components_and_the_reserve():
    run = simulate(scenario(plan=WITH_CHAMPION), replications=3, workers=1)
    sizing = size_budget(run, budget=5e6, reserve_share=0.1)
    components = sizing.components.set_index("component")
    assert set(components.index) == {"base_salary", "base_commission", "daily_champion"}
    assert components["share_of_payout"].sum() == pytest.approx(1.0)
    overview = sizing.overview.set_index("metric")["value"]
    assert overview["reserve (10%)"] == pytest.approx(5e5)
    assert overview["reserve covers ad-hoc rewards (P90)"] == 1.0
    assert overview["rule of thumb pool (5% of bookings)"] == pytest.approx(
        0.05 * run.runs["bookings"].mean()
    )


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [({"confidence": 1.2}, "between 0 and 1"), ({"budget": 0}, "positive amount")],
)
def test_bad_input(run, kwargs, fragment):
    with pytest.raises(SimplanError, match=fragment):
        size_budget(run, **kwargs)


def test_a_run_without_a_plan_has_nothing_to_size(small_results):
    with pytest.raises(SimplanError, match="no plan"):
        size_budget(small_results)

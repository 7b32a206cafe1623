"""Effect sizes, not only directions: effort -> leads -> touches -> bookings at the stated
elasticity, and the myopic effort rule's answer to gates, caps, accelerators and ratchets
pinned on cases whose effort is known in closed form.

Engine runs compare two scenarios on the same seed (common random numbers) and test the
per-replication ratio against its standard error, so the tolerance follows from the number
of replications.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simplan import simulate
from simplan.model.behaviour import BehaviourParams, DayContext, Outlook, PayTable, daily_effort
from simplan.model.leads import ResponseDecay
from simplan.model.plan import Plan

from .test_behaviour import scenario

ELASTICITY = 1.5
LIFT = 1.2**ELASTICITY  # self-sourced volume at effort 1.2 against effort 1
REPLICATIONS = {"fast": 6, "events": 3}


def mean_and_se(values: pd.Series) -> tuple[float, float]:
    """Mean and standard error of per-replication values."""
    values = values.to_numpy(dtype=float)
    return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def leads_by_source(results, source: str) -> pd.Series:
    """Leads of one source created inside the window, per replication."""
    d = results.deals
    return d[(d["source"] == source) & (d["created_day"] >= 0)].groupby("replication").size()


@pytest.fixture(scope="module", params=sorted(REPLICATIONS))
def effort_pair(request):
    """The behaviour scenario at constant effort 1.0 and 1.2, elasticity 1.5, same seed."""
    engine = request.param

    def run(effort: float):
        s = scenario(
            behaviour={"model": "constant", "effort": effort},
            production={"sourcing_elasticity": ELASTICITY},
            simulation={"engine": engine},
        )
        return simulate(s, replications=REPLICATIONS[engine], workers=1)

    return run(1.0), run(1.2)


def test_self_sourced_leads_grow_as_effort_to_the_elasticity(effort_pair):
    """Self-sourced leads ~ effort ** elasticity: 1.2 ** 1.5 = 1.3145 times as many over all
    replications, within 3 standard errors; the routed leads are the very same customers.

    The counts of the two runs are coupled (the same uniform per rep, day and tier, inverted
    through both Poisson laws), so the standard error is that of the extra leads: the variance
    of N(1.2) - 1.3145 N(1) is about (1.3145 - 1) N(1) at a rep's one or so leads a day
    (within 10 % for daily rates 0.5 to 2, by simulation of the inversion)."""
    base, harder = effort_pair
    n_base = leads_by_source(base, "self_sourced").sum()
    ratio = leads_by_source(harder, "self_sourced").sum() / n_base
    se = math.sqrt((LIFT - 1) * n_base) / n_base
    assert abs(ratio - LIFT) < 3 * se, f"ratio {ratio:.4f} +- {se:.4f}, expected {LIFT:.4f}"
    assert se < 0.01, "enough leads that the ratio is pinned to about a per cent"
    pd.testing.assert_series_equal(leads_by_source(harder, "new"), leads_by_source(base, "new"))


def test_touches_follow_the_lead_volume(effort_pair):
    """Each lead takes one touch per stage it reaches, so with capacity to spare touches grow
    as the leads do: (routed + 1.3145 x self-sourced) / (routed + self-sourced)."""
    base, harder = effort_pair
    routed = leads_by_source(base, "new")
    sourced = leads_by_source(base, "self_sourced")
    expected = (routed + LIFT * sourced) / (routed + sourced)
    touches = lambda r: r.daily.groupby("replication")["touches"].sum()  # noqa: E731
    mean, se = mean_and_se(touches(harder) / touches(base) / expected)
    assert abs(mean - 1) < 3 * se, f"touch ratio / lead ratio {mean:.4f} +- {se:.4f}"
    assert (touches(harder) > 1.15 * touches(base)).all()


def test_bookings_rise_by_at_least_the_self_sourced_share_of_the_lift(effort_pair):
    """With win probabilities untouched by effort, bookings rise by at least the self-sourced
    share of bookings times (1.3145 - 1), and by at most 1.3145 (if every deal were self-sourced)."""
    base, harder = effort_pair
    won = base.deals[base.deals["outcome"] == "won"]
    by_source = won.groupby(["replication", "source"])["amount"].sum().unstack()
    share = by_source["self_sourced"] / by_source.sum(axis=1)
    bookings = lambda r: r.runs.set_index("replication")["bookings"]  # noqa: E731
    ratio = bookings(harder) / bookings(base)
    mean, se = mean_and_se(ratio)
    floor, _ = mean_and_se(1 + share * (LIFT - 1))
    assert mean > floor - 3 * se, f"bookings ratio {mean:.4f} +- {se:.4f}, floor {floor:.4f}"
    assert mean < LIFT + 3 * se


def test_no_elasticity_no_extra_self_sourced_leads():
    """Elasticity 0: effort no longer finds leads; the self-sourced counts are identical."""

    def run(effort: float):
        s = scenario(
            behaviour={"model": "constant", "effort": effort},
            production={"sourcing_elasticity": 0.0},
            simulation={"engine": "fast"},
        )
        return simulate(s, replications=2, workers=1)

    pd.testing.assert_series_equal(
        leads_by_source(run(1.2), "self_sourced"), leads_by_source(run(1.0), "self_sourced")
    )


CLOSING = 0.5
SLOWER = 1 + CLOSING * (0.8 - 1)  # a deal's win chance at its close at effort 0.8 against 1


@pytest.fixture(scope="module", params=sorted(REPLICATIONS))
def closing_pair(request):
    """The behaviour scenario at constant effort 1.0 and 0.8 with closing elasticity 0.5 and
    no sourcing elasticity (the very same leads), capacity to spare, same seed."""
    engine = request.param

    def run(effort: float):
        s = scenario(
            behaviour={"model": "constant", "effort": effort},
            production={"sourcing_elasticity": 0.0, "closing_elasticity": CLOSING},
            team={"capacity_touches_per_day": {"dist": "gamma", "mean": 60, "cv": 0.2}},
            simulation={"engine": engine},
        )
        return simulate(s, replications=REPLICATIONS[engine], workers=1)

    return run(1.0), run(0.8)


def test_closing_effort_scales_the_win_chance_at_the_close(closing_pair):
    """At effort 0.8 every deal's win chance at its close is 1 + 0.5 (0.8 - 1) = 0.9 of what it is
    at effort 1: of the same customers (same uniforms), the winners are a subset, 0.9 of them
    within 3 binomial standard errors sqrt(f (1 - f) / wins); the winners that slip away are
    lost at negotiation, the last stage; the leads are the same."""
    base, slower = closing_pair
    won = lambda r: r.deals[r.deals["outcome"] == "won"]  # noqa: E731
    n_base, n_slow = len(won(base)), len(won(slower))
    se = math.sqrt(SLOWER * (1 - SLOWER) / n_base)
    ratio = n_slow / n_base
    assert abs(ratio - SLOWER) < 3 * se, f"won ratio {ratio:.4f} +- {se:.4f}, expected {SLOWER:.4f}"
    key = ["replication", "lead_id"]
    both = won(slower).merge(won(base), on=key, how="left", indicator=True)
    # touches take a little longer at lower effort, so a few closes cross the window's edges
    assert (both["_merge"] == "both").mean() > 0.97, "the slower team's winners are the base's"
    slipped = won(base).merge(won(slower)[key], on=key, how="left", indicator=True)
    slipped = slipped.loc[slipped["_merge"] == "left_only", key]
    lost = slipped.merge(slower.deals, on=key)  # (a deal closed before the window is not listed)
    assert len(lost) > 0.9 * len(slipped)
    assert (lost["outcome"] == "lost").mean() > 0.9
    # (a few earlier: slower touches answer later, and the win chance decays with the wait)
    assert (lost.loc[lost["outcome"] == "lost", "stage"] == "negotiation").mean() > 0.95
    pd.testing.assert_series_equal(leads_by_source(slower, "new"), leads_by_source(base, "new"))


# -- the myopic effort rule on analytic cases ------------------------------------------------

TARGET = 100_000.0
SURE = BehaviourParams(
    model="plan_responsive",
    reference_rate=0.08,
    projection_cv=1e-4,  # the rep knows where the period lands
    booking_lag_days=0,  # effort today books this period
    min_effort=0.25,
    max_effort=2.0,
)


def effort_at(plan: dict, projected: list[float], params: BehaviourParams = SURE) -> np.ndarray:
    """Each rep's effort on a day when its period is projected to land at `projected` of
    target (all of it already booked, half the period left), fresh (no fatigue)."""
    n = len(projected)
    table = PayTable.build(Plan.model_validate(plan).payout_curve, np.full(n, TARGET))
    outlook = Outlook(
        booked=np.array(projected) * TARGET,
        expected_pipeline=np.zeros(n),
        run_rate_per_day=np.zeros(n),
        target=np.full(n, TARGET),
        days_left=15.0,
        period_days=30.0,
        fatigue=np.zeros(n),
    )
    return daily_effort(params, DayContext(day=0, effort_multiplier=1.0), n, table, outlook)


def commission(rate: float, *more: dict) -> dict:
    return {"clock": "month", "components": [{"type": "base_commission", "rate": rate}, *more]}


def test_linear_pay_gives_rate_over_reference_rate():
    """e* = r / reference_rate wherever the rep stands: 0.10 / 0.08 = 1.25."""
    np.testing.assert_allclose(effort_at(commission(0.10), [0.3, 1.0, 2.5]), 1.25, rtol=1e-6)


def test_a_gate_out_of_reach_gives_up_just_below_it_pushes_above_it_pays_the_rate():
    """Gate at 80 % on a 10 % commission: at 40 % the marginal pay is 0 (minimum effort); just
    below the gate crossing it pays the whole commission at once (maximum effort); above it the
    rate is 10 % again (1.25)."""
    plan = commission(0.10, {"type": "gate", "threshold": 0.8})
    effort = effort_at(plan, [0.4, 0.795, 1.2])
    assert effort == pytest.approx([0.25, 2.0, 1.25], rel=1e-6)


def test_above_a_cap_reps_coast():
    """An attainment cap at 150 %: bookings beyond it earn nothing, so effort falls to the
    minimum above it and stays at 0.10 / 0.08 below."""
    plan = commission(0.10, {"type": "attainment_cap", "max_attainment": 1.5})
    assert effort_at(plan, [1.2, 1.8]) == pytest.approx([1.25, 0.25], rel=1e-6)


def test_an_accelerator_doubles_the_rate_above_quota():
    """Marginal tiers 8 % to 100 %, 16 % above (reference rate 0.1): effort 0.8 below quota,
    1.6 above."""
    plan = {
        "clock": "month",
        "components": [
            {
                "type": "tiered_commission",
                "mode": "marginal",
                "tiers": [{"threshold": 0.0, "rate": 0.08}, {"threshold": 1.0, "rate": 0.16}],
            }
        ],
    }
    params = SURE.model_copy(update={"reference_rate": 0.1})
    assert effort_at(plan, [0.6, 1.4], params) == pytest.approx([0.8, 1.6], rel=1e-6)


def test_an_expected_ratchet_costs_its_share_of_next_periods_rate():
    """Above target, each unit booked raises next period's target by `share` units, each worth
    next period's rate: marginal pay 0.10 - 0.5 x 0.10 = 0.05, effort 0.625; below target the
    ratchet does not bite (1.25)."""
    params = SURE.model_copy(
        update={"ratchet": SURE.ratchet.model_copy(update={"enabled": True, "share": 0.5})}
    )
    assert effort_at(commission(0.10), [0.5, 1.5], params) == pytest.approx([1.25, 0.625], rel=1e-6)


# -- timing games: what a pulled deal is worth --------------------------------------------------

ACCELERATOR = {
    "clock": "month",
    "components": [
        {
            "type": "tiered_commission",
            "mode": "marginal",
            "tiers": [{"threshold": 0.0, "rate": 0.05}, {"threshold": 1.0, "rate": 0.25}],
        }
    ],
}


@pytest.mark.parametrize("engine", sorted(REPLICATIONS))
def test_a_pulled_deal_signs_at_the_stated_discount(engine):
    """Reps under an accelerator pull deals into the period at a 10 % discount. With every
    rep's deal-size multiplier 1, a routed lead is worth the same in every run on the seed,
    so each deal pulled in the timing run and won on time without timing games books
    exactly 0.9 of that amount; deals on time or pushed book it in full."""

    def run(propensity: float):
        timing = {"propensity": propensity, "hurdle": 0.0, "pull_discount": 0.1}
        s = scenario(
            plan=ACCELERATOR,
            team={"skill": 1.0},
            behaviour={"timing": timing},
            simulation={"engine": engine},
        )
        return simulate(s, replications=2, workers=1)

    plain, games = run(0.0), run(1.0)
    both = plain.deals.merge(games.deals, on=["replication", "lead_id"], suffixes=("", "_games"))
    same = both[
        (both["source"] == "new")
        & (both["created_day"] == both["created_day_games"])
        & (both["outcome"] == "won")
        & (both["outcome_games"] == "won")
    ]
    ratio = same["amount_games"] / same["amount"]
    pulled = same["timing_games"] == "pulled"
    assert pulled.sum() > 20
    np.testing.assert_allclose(ratio[pulled], 0.9, rtol=1e-9)
    np.testing.assert_allclose(ratio[~pulled], 1.0, rtol=1e-9)
    assert (same["timing_games"] == "pushed").sum() > 10


def test_response_decay_loses_its_stated_share_per_after_hours():
    """Exponential decay: (1 - loss) ** (hours / after_hours), so at 24 h a lead keeps 40 % of
    its chance, 16 % at 48 h, sqrt(0.4) at 12 h; step decay keeps 40 % past 24 h only."""
    exponential = ResponseDecay(shape="exponential", after_hours=24, loss=0.6)
    hours = np.array([0.0, 12, 24, 48])
    np.testing.assert_allclose(exponential.factors(hours), [1, math.sqrt(0.4), 0.4, 0.16])
    step = ResponseDecay(shape="step", after_hours=24, loss=0.6)
    np.testing.assert_allclose(step.factors(np.array([23.9, 24.0, 24.1])), [1, 1, 0.4])
    assert ResponseDecay(shape="none").factor(1000.0) == 1.0

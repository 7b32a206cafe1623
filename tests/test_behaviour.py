"""Reps who respond to the plan: the effort rule and the six behaviours of DOMAIN.md section 7.

Plan comparisons run both scenarios on the same seed (common random numbers) and test the
paired difference per replication against its standard error, so the tolerance follows
from the number of replications.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.special import ndtr

from simplan import load_scenario, simulate
from simplan.model.behaviour import (
    BehaviourParams,
    Outlook,
    PayTable,
    marginal_pay_rate,
    next_fatigue,
    optimal_effort,
)
from simplan.model.plan import Plan
from simplan.scenario import Scenario, deep_merge

from .conftest import DATA, ROOT

LINEAR = {"clock": "month", "components": [{"type": "base_commission", "rate": 0.10}]}


def scenario(**override) -> Scenario:
    base = load_scenario(DATA / "behaviour.yaml").model_dump(by_alias=True, exclude_none=True)
    for key in ("plan",):
        if key in override:
            base.pop(key)
    return Scenario.model_validate(deep_merge(base, override))


def paired(a: pd.Series, b: pd.Series) -> tuple[float, float]:
    """Mean and standard error of the per-replication difference a - b."""
    diff = (a - b).to_numpy()
    return float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(len(diff)))


def assert_lower(a: pd.Series, b: pd.Series, z: float = 3.0) -> None:
    """a is below b by more than z standard errors of the paired difference."""
    mean, se = paired(a, b)
    assert mean + z * se < 0, f"difference {mean:.4g} with standard error {se:.4g}"


# -- (a) the effort rule -------------------------------------------------------------------


@pytest.mark.parametrize(("r", "k", "c"), [(0.1, 1.0, 0.08), (0.05, 2.0, 0.2), (0.3, 500.0, 100.0)])
def test_optimal_effort_is_rk_over_c(r, k, c):
    params = BehaviourParams(min_effort=0.01, max_effort=10)
    effort = optimal_effort(np.array([r]), np.array([k]), np.array([c]), np.zeros(1), params)
    assert effort[0] == pytest.approx(r * k / c, rel=1e-12)
    # and it is the argmax of r k e - c e^2 / 2
    grid = np.linspace(0.01, 10, 100_001)
    assert grid[np.argmax(r * k * grid - c * grid**2 / 2)] == pytest.approx(r * k / c, rel=1e-3)


def test_linear_plan_gives_r_over_reference_rate_in_the_engine():
    """Linear pay r = 10 %, cost set by reference rate 8 %, no fatigue: e* = 1.25 every day."""
    r = simulate(scenario(behaviour={"fatigue_weight": 0.0}), replications=2)
    np.testing.assert_allclose(r.daily["effort"], 1.25, rtol=0.01)


def test_fatigue_settles_where_effort_equals_the_rate_over_its_cost():
    """With fatigue F = e - 1 at rest, e (1 + F) = r / c: e = sqrt(1.25) for r/c = 1.25."""
    r = simulate(scenario(), replications=1)
    late = r.daily[r.daily["day"] > 60]["effort"]
    np.testing.assert_allclose(late, math.sqrt(1.25), rtol=0.01)


def test_fatigue_builds_above_one_and_recovers_below():
    params = BehaviourParams(fatigue_rate=0.1)
    f = next_fatigue(np.zeros(1), np.array([1.5]), params)
    assert f[0] == pytest.approx(0.05)
    assert next_fatigue(f, np.array([0.8]), params)[0] < f[0]
    assert next_fatigue(np.zeros(1), np.array([0.5]), params)[0] == 0.0


def test_expected_rate_integrates_a_lump_sum_exactly():
    """A bonus B at 100 %: with attainment ~ N(mu, sd), the expected rate is B phi(..)/(sd T)."""
    target, bonus = 1000.0, 50.0

    def curve(attainment, t):
        return np.where(attainment >= 1.0, bonus, 0.0) + 0 * t

    table = PayTable.build(curve, np.array([target]))
    mean, sd, step = 0.9, 0.1, 0.01
    got = table.expected_rate(np.array([mean]), np.array([sd]))[0]
    # Exact for the tabulated curve: the jump sits in the grid cell [1 - step, 1).
    cell = ndtr((1.0 - mean) / sd) - ndtr((1.0 - step - mean) / sd)
    assert got == pytest.approx(cell * bonus / (step * target), rel=1e-9)
    # And the continuous answer to within what one grid step moves the density.
    density = math.exp(-0.5 * ((1.0 - mean) / sd) ** 2) / (sd * math.sqrt(2 * math.pi))
    assert got == pytest.approx(density * bonus / target, rel=step / sd)


def numpy_expected_rate(table: PayTable, mean, sd, rows=None):
    """The expected rate as numpy and scipy computed it before the rule was compiled."""
    edges, fall = table.steps
    fall, last = fall[table.rows], table.rate[:, -1]
    if rows is not None:
        fall, last = fall[rows], last[rows]
    below = ndtr((edges[None, :] - mean[:, None]) / np.maximum(sd, 1e-9)[:, None])
    return last + (below * fall).sum(axis=1)


def numpy_marginal_pay_rate(table: PayTable, o: Outlook, params: BehaviourParams):
    """`marginal_pay_rate` as numpy computed it before it was compiled."""
    left_share = o.days_left / max(o.period_days, 1e-9)
    projected = (o.booked + o.expected_pipeline + o.run_rate_per_day * o.days_left) / o.target
    sd = np.full_like(projected, params.projection_cv * np.sqrt(left_share))
    now = numpy_expected_rate(table, projected, sd)
    later_mean = o.run_rate_per_day * o.period_days / o.target
    later = numpy_expected_rate(table, later_mean, np.full_like(projected, params.projection_cv))
    if params.ratchet.enabled and params.ratchet.expected:
        above = ndtr((projected - 1) / np.maximum(sd, 1e-9))
        now = now - params.ratchet.share * above * later
    lands_now = (
        1.0 if params.booking_lag_days == 0 else min(1.0, o.days_left / params.booking_lag_days)
    )
    return np.maximum(lands_now * now + (1 - lands_now) * later, 0.0)


@pytest.mark.parametrize("plan", ["gate80_cap150.yaml", "playbook_full.yaml"])
@pytest.mark.parametrize("ratchet", [False, True])
def test_the_compiled_effort_rule_is_the_numpy_rule_bit_for_bit(plan, ratchet):
    """The marginal pay rate and the expected rate, compiled with the library numerics, give
    the bits numpy and scipy gave: a plan with a few edges and one with many (pairwise sum)."""
    rng = np.random.default_rng(3)
    n = 300
    target = rng.choice([60_000.0, 90_000.0, 120_000.0], n)
    text = (ROOT / "scenarios" / "plans" / plan).read_text()
    table = PayTable.build(Plan.model_validate(yaml.safe_load(text)).payout_curve, target)
    params = BehaviourParams(model="plan_responsive", ratchet={"enabled": ratchet, "share": 0.5})
    for days_left in (0.0, 0.4, 6.0, 25.0, 31.0):
        outlook = Outlook(
            booked=rng.uniform(0, 2, n) * target, expected_pipeline=rng.uniform(0, 0.5, n) * target,
            run_rate_per_day=rng.uniform(0, 0.08, n) * target, target=target, days_left=days_left,
            period_days=31.0, fatigue=np.zeros(n),
        )  # fmt: skip
        got = marginal_pay_rate(table, outlook, params)
        assert np.array_equal(got, numpy_marginal_pay_rate(table, outlook, params))
    rows = rng.integers(0, n, 500)
    mean, sd = rng.uniform(-1, 3, 500), rng.uniform(0, 0.5, 500)
    sd[:5] = 0.0
    assert np.array_equal(
        table.expected_rate(mean, sd, rows), numpy_expected_rate(table, mean, sd, rows)
    )
    assert len(table.steps[0]) >= 8 or plan == "gate80_cap150.yaml"


# -- (b) an accelerator bunches bookings at the period end ----------------------------------


def last_week_share(results) -> pd.Series:
    daily = results.daily
    last_week = daily["date"].dt.day > daily["date"].dt.days_in_month - 7
    booked = daily.groupby("replication")["bookings"].sum()
    return daily[last_week].groupby("replication")["bookings"].sum() / booked


def test_an_accelerator_moves_bookings_into_the_last_week():
    """A higher rate on the excess over target: reps near the line pull deals in to cross it.

    Compared with a linear plan of equal expected cost (its rate is what the accelerator
    paid per unit booked), on the same customers.
    """
    timing = {"timing": {"propensity": 0.5}}
    accelerator = {
        "clock": "month",
        "components": [
            {
                "type": "tiered_commission",
                "mode": "marginal",
                "tiers": [{"threshold": 0.0, "rate": 0.06}, {"threshold": 1.0, "rate": 0.16}],
            }
        ],
    }
    acc = simulate(scenario(plan=accelerator, behaviour=timing), replications=12)
    rate = float(acc.runs["payout"].sum() / acc.runs["bookings"].sum())
    linear = {"clock": "month", "components": [{"type": "base_commission", "rate": rate}]}
    lin = simulate(scenario(plan=linear, behaviour=timing), replications=12)
    assert (acc.deals["timing"] == "pulled").sum() > (lin.deals["timing"] == "pulled").sum()
    assert_lower(last_week_share(lin), last_week_share(acc))


# -- (c) a cap makes the best ease off and push deals ----------------------------------------


def top_reps_bookings(results, top: set[str]) -> pd.Series:
    reps = results.reps
    return reps[reps["rep_id"].isin(top)].groupby("replication")["bookings"].sum()


def test_above_a_cap_reps_ease_off_push_deals_and_top_reps_book_less():
    timing = {"timing": {"propensity": 0.8}}
    capped_plan = {
        "clock": "month",
        "components": [
            {"type": "attainment_cap", "max_attainment": 1.1},
            {"type": "base_commission", "rate": 0.10},
        ],
    }
    capped = simulate(scenario(plan=capped_plan, behaviour=timing), replications=8)
    free = simulate(scenario(behaviour=timing), replications=8)
    first = free.reps[free.reps["replication"] == 0]
    top = set(first.groupby("rep_id")["bookings"].sum().nlargest(4).index)
    assert (capped.deals["timing"] == "pushed").sum() > (free.deals["timing"] == "pushed").sum()
    over = capped.daily.merge(
        capped.reps[["replication", "rep_id", "attainment"]]
        .groupby(["replication", "rep_id"])
        .max()
        .reset_index(),
        on=["replication", "rep_id"],
    )
    assert over.loc[over["attainment"] > 1.2, "effort"].mean() < free.daily["effort"].mean()
    assert_lower(top_reps_bookings(capped, top), top_reps_bookings(free, top))


# -- (d) a gate out of reach makes reps give up ---------------------------------------------


def test_a_gate_out_of_reach_lowers_effort():
    hard = {"team": {"quota": {"per_period": 200000}}}  # most reps end far below 80 %
    gated_plan = {
        "clock": "month",
        "components": [
            {"type": "base_commission", "rate": 0.10},
            {"type": "gate", "threshold": 0.8},
        ],
    }
    gated = simulate(scenario(plan=gated_plan, **hard), replications=6)
    linear = simulate(scenario(**hard), replications=6)
    effort = lambda r: r.daily.groupby("replication")["effort"].mean()  # noqa: E731
    assert_lower(effort(gated), effort(linear))
    assert_lower(
        gated.runs.set_index("replication")["bookings"],
        linear.runs.set_index("replication")["bookings"],
    )


# -- (e) sprinting flat out the whole way leaves less for the close-out ----------------------


def test_flat_out_effort_leaves_less_in_the_close_out_than_three_phases():
    def phases(build, burst, close):
        return {
            "calendar": {
                "sprint": {
                    "every": "run",
                    "phases": {
                        "build": {"share": 0.3, "effort_multiplier": build},
                        "burst": {"share": 0.5, "effort_multiplier": burst},
                        "close_out": {"share": 0.2, "effort_multiplier": close},
                    },
                }
            },
            "behaviour": {"max_effort": 3.0, "fatigue_weight": 2.0},
        }

    flat = simulate(scenario(**phases(1.4, 1.4, 1.4)), replications=6)
    staged = simulate(scenario(**phases(1.0, 1.1, 1.4)), replications=6)

    def close_out(r):
        return r.daily[r.daily["phase"] == "close_out"].groupby("replication")["effort"].mean()

    assert_lower(close_out(flat), close_out(staged))


# -- (f) a ratcheting target makes reps hold back ------------------------------------------


def test_a_ratcheting_target_lowers_bookings_before_the_reset():
    ratchet = simulate(
        scenario(behaviour={"ratchet": {"enabled": True, "share": 1.0}}), replications=8
    )
    fixed = simulate(scenario(), replications=8)
    months = ["2025-01", "2025-02"]

    def before(r):
        return r.reps[r.reps["period"].isin(months)].groupby("replication")["bookings"].sum()

    assert_lower(before(ratchet), before(fixed))
    assert (ratchet.reps.groupby("period")["target"].mean().diff().dropna() >= 0).all()

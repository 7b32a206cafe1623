"""Reps who plan ahead: the dynamic program's effort policy on cases with a known answer.

Every case uses one rep (or a few) with a deal flow built by hand, so the policy's response
to each plan shape is checked in size, not only in direction: a linear plan against the
static first-order condition e* = (r / r_ref)^(1 / (gamma - 1)); a bonus against its
reachability; a gate out of reach; a cap; an accelerator above quota.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from simplan.model import effort_policy
from simplan.model.behaviour import BehaviourParams, PayTable, effort_cost, plan_ahead_policy
from simplan.model.effort_policy import (
    GRID_STEP,
    PeriodProgram,
    RepOutlook,
    grid_cells,
    size_pmf_on_grid,
)
from simplan.model.plan import Plan

TARGET = 100_000.0
DEAL = 5_000.0  # every deal 5 % of target
PERIOD = 91.0


def plan(*components: dict) -> Plan:
    return Plan.model_validate({"clock": "quarter", "components": list(components)})


def outlook(deals_per_day: float | np.ndarray = 0.2, landing: float = 1.0, next_rate: float = 0.0,
            share: float = 0.5, reps: int = 1) -> RepOutlook:  # fmt: skip
    """A rep with `deals_per_day` deals of exactly DEAL at effort 1, half of them self-sourced."""
    target = np.full(reps, TARGET)
    values = np.full((reps, 1), DEAL)
    steps = int(np.ceil(PERIOD / 7))
    return RepOutlook(
        target=target,
        deals_per_day=np.broadcast_to(np.asarray(deals_per_day, dtype=float), reps).copy(),
        size_pmf=size_pmf_on_grid(values, np.ones((reps, 1)), target),
        self_sourced_share=np.full(reps, share),
        elasticity=1.0,
        landing=np.full((reps, steps), landing),
        next_rate=np.full(reps, next_rate),
    )


def policy(p: Plan, o: RepOutlook, **behaviour):
    params = BehaviourParams(model="optimising", reference_rate=0.08, min_effort=0.25,
                             max_effort=3.0, effort_levels=111, **behaviour)  # fmt: skip
    table = PayTable.build(p.payout_curve, o.target)
    return plan_ahead_policy(table, o, PERIOD, params, effort_cost(o, PERIOD, params)[0])


def at(pol, attainment: float, day: float) -> float:
    return float(pol.effort_at(np.array([attainment]), day)[0])


@pytest.mark.parametrize(("rate", "curvature"), [(0.08, 2.0), (0.12, 2.0), (0.04, 2.0),
                                                 (0.16, 3.0), (0.12, 1.5)])  # fmt: skip
def test_linear_plan_meets_the_static_first_order_condition(rate, curvature):
    """Linear pay: the value is linear in attainment, so every state chooses
    e* = (r / r_ref)^(1 / (gamma - 1)), to the effort grid's spacing."""
    pol = policy(
        plan({"type": "base_commission", "rate": rate}), outlook(), cost_curvature=curvature
    )
    expected = (rate / 0.08) ** (1 / (curvature - 1))
    spacing = (3.0 - 0.25) / 110
    for attainment in (0.0, 0.5, 1.0, 2.0):
        for day in (0.0, 45.0, 85.0):
            assert at(pol, attainment, day) == pytest.approx(min(expected, 3.0), abs=spacing)


@pytest.mark.parametrize(("rate", "closing"), [(0.12, 1.0), (0.04, 1.0), (0.12, 0.5)])
def test_closing_effort_alone_moves_effort_by_its_first_order_condition(rate, closing):
    """A rep who sources nothing (share 0) but whose effort lifts the win chance of the deals
    closing now by 1 + phi (e - 1): on linear pay r the value of effort is r D m (1 + phi (e - 1))
    - c e^gamma / gamma with c set at r_ref, so e* = (r / r_ref)^(1 / (gamma - 1)) whatever phi,
    in the period's last week as in its first (closing effort books at once, whatever the
    cycle)."""
    o = dataclasses.replace(outlook(share=0.0), closing=closing)
    pol = policy(plan({"type": "base_commission", "rate": rate}), o, cost_curvature=2.0)
    expected = (rate / 0.08) ** (1 / (2.0 - 1.0))
    spacing = (3.0 - 0.25) / 110
    for attainment in (0.0, 1.0):
        for day in (0.0, 45.0, 85.0):
            assert at(pol, attainment, day) == pytest.approx(expected, abs=spacing)


@pytest.mark.parametrize(("discount", "first_guess"), [(1.0, 0.0), (1.0, 0.2), (0.5, 0.08)])
def test_effort_that_books_next_period_is_valued_at_the_repeating_plans_slope(
    discount, first_guess
):
    """Half of this period's effort lands next period. The plan repeats, so a unit booked
    early next period is worth the slope of the period's own start value (8 % under a flat
    8 %) times the discount, whatever the first guess: effort follows the blended rate
    (0.5 x 0.08 + 0.5 x discount x 0.08) / 0.08."""
    linear = plan({"type": "base_commission", "rate": 0.08})
    pol = policy(linear, outlook(landing=0.5, next_rate=first_guess),
                 next_period_discount=discount)  # fmt: skip
    spacing = (3.0 - 0.25) / 110
    assert at(pol, 0.3, 10) == pytest.approx(0.5 + 0.5 * discount, abs=spacing)


def test_the_carry_rate_is_the_start_values_slope_discounted():
    """Under a flat 8 % the start value rises 8 % of target per unit of attainment (the effort
    cost does not depend on where the period starts), so the carry rate is 0.9 x 0.08 (to the
    single precision the expectations are transformed in: a relative 1e-5)."""
    o = outlook(landing=0.5)
    params = BehaviourParams(model="optimising", effort_levels=41)
    program = PeriodProgram(o, PERIOD, 7.0, np.linspace(0.25, 3.0, 41), 2.0)
    table = PayTable.build(plan({"type": "base_commission", "rate": 0.08}).payout_curve, o.target)
    pol = program.solve(
        table.pay[:, : grid_cells()], effort_cost(o, PERIOD, params)[0], np.array([0.05])
    )
    assert program.carry_rate(pol, 0.9)[0] == pytest.approx(0.9 * 0.08, rel=1e-5)


def test_a_bonus_makes_reps_speed_up_when_it_is_within_reach():
    """A 5,000 bonus at 100 %: with three weeks left, a rep at 80 % (within reach) works harder
    than one at 20 % (out of reach) or at 120 % (already paid)."""
    bonus = plan({"type": "base_commission", "rate": 0.08},
                 {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 5000}]})  # fmt: skip
    pol = policy(bonus, outlook())
    day = PERIOD - 21
    near, far, past = at(pol, 0.8, day), at(pol, 0.2, day), at(pol, 1.2, day)
    assert near > far + 0.3
    assert near > past + 0.3
    # Past the line the bonus is banked: the rep works as under the plain 8 % (effort 1).
    assert past == pytest.approx(1.0, abs=0.03)


def test_the_bonus_pull_matches_the_chance_of_crossing():
    """In the last step, the value of effort is the bonus times the change in the chance of
    reaching 100 %: the policy's effort equals the brute-force optimum over the effort grid."""
    bonus = plan({"type": "attainment_bonus", "steps": [{"threshold": 0.975, "amount": 5000}]})
    o = outlook()
    pol = policy(bonus, o)
    last_day = 13 * 7  # the last decision step: 91 - 84 = 7 days
    start = 0.9
    efforts = np.linspace(0.25, 3.0, 111)
    lam = 0.2 * 7 * (1 + 0.5 * (efforts - 1))  # deals in the step
    need = 2  # deals to reach the line from 90 %: 95 % misses it, 100 % clears it
    reward = 5000 * poisson.sf(need - 1, lam)
    cost = 0.08 * 0.5 * 0.2 * DEAL * 7 * efforts**2 / 2
    best = efforts[np.argmax(reward - cost)]
    assert at(pol, start, last_day - 7) == pytest.approx(best, abs=1e-6)


def test_reps_give_up_below_a_gate_near_nothing():
    """A gate at 80 % pays nothing below it: a rep at 10 % with two weeks left cannot reach it
    and works at the minimum; one at 70 % works hard to clear it."""
    gated = plan({"type": "base_commission", "rate": 0.10}, {"type": "gate", "threshold": 0.8})
    pol = policy(gated, outlook())
    day = PERIOD - 14
    assert at(pol, 0.1, day) == pytest.approx(0.25)
    assert at(pol, 0.7, day) > 1.5


def test_reps_coast_above_a_cap():
    """Bookings above a 120 % cap earn nothing: a rep at 130 % works at the minimum; a rep whose
    period will end near the cap eases off already; one who will end far below it (expected
    65 %, 3.6 standard deviations below the cap) works at the commission's effort 1."""
    capped = plan({"type": "base_commission", "rate": 0.08},
                  {"type": "attainment_cap", "max_attainment": 1.2})  # fmt: skip
    busy = policy(capped, outlook(deals_per_day=0.2))  # expected end: 20 % + 91 % = 111 %
    assert at(busy, 1.3, 30) == pytest.approx(0.25)
    assert at(busy, 0.2, 0) < 0.9
    quiet = policy(capped, outlook(deals_per_day=0.1))  # expected end: 20 % + 45.5 %
    assert at(quiet, 0.2, 0) == pytest.approx(1.0, abs=0.03)


def test_an_accelerator_above_quota_makes_reps_work_harder():
    """4 % up to quota, 16 % above: a rep already above quota faces 16 % on every extra unit and
    works at 16 / 8 = 2 (gamma = 2); a rep far below with little time left faces 4 %: 0.5."""
    accelerated = plan(
        {"type": "tiered_commission", "mode": "marginal",
         "tiers": [{"threshold": 0.0, "rate": 0.04}, {"threshold": 1.0, "rate": 0.16}]}
    )  # fmt: skip
    pol = policy(accelerated, outlook())
    spacing = (3.0 - 0.25) / 110
    assert at(pol, 1.5, 60) == pytest.approx(2.0, abs=spacing)
    assert at(pol, 0.1, PERIOD - 7) == pytest.approx(0.5, abs=spacing)


def test_the_deal_size_pmf_keeps_the_mean_exact():
    values = np.array([[1234.0, 5678.9, 250.0]])
    weights = np.array([[0.2, 0.5, 0.3]])
    pmf = size_pmf_on_grid(values, weights, np.array([10_000.0]))
    mean = (pmf[0] * np.arange(pmf.shape[1])).sum() * GRID_STEP * 10_000
    assert mean == pytest.approx((values * weights).sum(), rel=1e-12)
    assert pmf.sum() == pytest.approx(1.0)


def test_forward_pass_of_a_constant_policy_gives_that_effort():
    o = outlook()
    pol = policy(plan({"type": "base_commission", "rate": 0.12}), o)
    program = PeriodProgram(o, PERIOD, 7.0, np.linspace(0.25, 3.0, 111), 2.0)
    assert program.mean_effort(pol)[0] == pytest.approx(1.5, abs=0.0126)


def _solved(
    o: RepOutlook, next_rate: float = 0.03
) -> tuple[PeriodProgram, effort_policy.EffortPolicy]:
    """A program on `o` with 31 effort levels, solved under a bonus at quota, next period's
    bookings worth `next_rate`."""
    bonus = plan({"type": "base_commission", "rate": 0.05},
                 {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 4000}]})  # fmt: skip
    pay = PayTable.build(bonus.payout_curve, o.target).pay[:, : grid_cells()]
    program = PeriodProgram(o, PERIOD, 7.0, np.linspace(0.25, 3.0, 31), 2.0)
    reps = len(o.target)
    return program, program.solve(pay, np.full(reps, 50.0), np.full(reps, next_rate))


def test_programs_on_the_same_reps_share_their_steps_transforms(monkeypatch):
    """A program rebuilt on the same reps and period (every candidate plan of a design run)
    solves from the transforms the first one kept, to the same policy; other reps get their
    own; past the budget the least recently used go, and the policy stays the same."""
    monkeypatch.setattr(effort_policy, "_KERNELS", {})
    o = outlook(deals_per_day=np.array([0.12, 0.3]), landing=0.6, reps=2)
    program, first = _solved(o)
    kept = dict(effort_policy._KERNELS)
    assert len(kept) == program.steps
    again = _solved(o)[1]
    assert effort_policy._KERNELS.keys() == kept.keys()
    assert all(effort_policy._KERNELS[key][1] is kept[key][1] for key in kept)  # not recomputed
    for field in ("effort", "choice", "value"):
        assert np.array_equal(getattr(again, field), getattr(first, field))
    _solved(dataclasses.replace(o, deals_per_day=o.deals_per_day * 1.1))
    assert len(effort_policy._KERNELS) == 2 * program.steps
    closing = _solved(dataclasses.replace(o, closing=0.5))[1]  # effort now lifts every close
    assert len(effort_policy._KERNELS) == 3 * program.steps
    assert not np.array_equal(closing.choice, first.choice)

    one_step = next(iter(kept.values()))[1].nbytes
    monkeypatch.setattr(effort_policy, "_KERNELS", {})
    monkeypatch.setattr(effort_policy, "KERNEL_CACHE_BYTES", 2 * one_step)
    tight = _solved(o)[1]
    assert [k for _, k, _ in effort_policy._KERNELS] == [1, 0]  # backward induction ends at step 0
    assert np.array_equal(tight.choice, first.choice)
    assert np.array_equal(tight.value, first.value)


def test_a_step_where_effort_lands_nothing_keeps_one_transform(monkeypatch):
    """Where nothing that effort wins closes this period, every effort level books alike, so
    the step keeps one transform for all of them; effort there only costs (nothing is worth
    anything next period here), so reps work at the lowest effort, and where effort lands the
    transform is per level."""
    monkeypatch.setattr(effort_policy, "_KERNELS", {})
    o = outlook(reps=2)
    steps = o.landing.shape[1]
    landing = np.where(np.arange(steps) < steps - 2, 1.0, 0.0)
    program, pol = _solved(dataclasses.replace(o, landing=np.tile(landing, (2, 1))), next_rate=0.0)
    shapes = [program._step(k)[1].shape[1] for k in range(steps)]
    assert shapes == [31] * (steps - 2) + [1, 1]
    assert np.all(pol.effort[:, -2:, :] == np.float32(0.25))
    assert pol.effort[:, 0, :].max() > 0.25


def test_effort_normalised_to_the_plan_in_force_books_the_history_under_it():
    """Under a bonus plan reps vary their effort with their distance to the line; normalised to
    that plan, each rep books on average the flow of effort 1 (its history's: mean volume
    multiplier 1 within the normalisation's tolerance) at a mean effort near 1, while the
    effort still rises near the line and falls away from it."""
    bonus = plan({"type": "base_commission", "rate": 0.05},
                 {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 4000}]})  # fmt: skip
    o = outlook(deals_per_day=np.array([0.12, 0.2, 0.3]), reps=3)
    table = PayTable.build(bonus.payout_curve, o.target)
    params = BehaviourParams(model="optimising", reference_rate=0.08, effort_levels=61)
    cost, _ = effort_cost(o, PERIOD, params, reference=table)
    pol = plan_ahead_policy(table, o, PERIOD, params, cost)
    efforts = np.linspace(params.min_effort, params.max_effort, params.effort_levels)
    program = PeriodProgram(o, PERIOD, 7.0, efforts, 2.0)
    assert program.mean_lift(pol) == pytest.approx(np.ones(3), abs=effort_policy.LIFT_TOLERANCE)
    assert program.mean_effort(pol) == pytest.approx(np.ones(3), abs=0.03)
    assert np.ptp(pol.effort[1, 8, :150]) > 0.3


def test_the_warm_up_runs_under_the_plan_in_force(small_scenario):
    """The plan changes on the window's first day: the warm-up (all of September here) is paid
    under `plan_in_force` whatever plan is tried, so on common random numbers every plan
    starts from the same carried-in pipeline; only the window's own effort differs."""
    from simplan import simulate

    in_force = plan({"type": "base_commission", "rate": 0.08})
    near_nothing = plan({"type": "base_commission", "rate": 0.001})

    def run(tried: Plan, warm_up_plan: Plan | None):
        behaviour = {"model": "optimising", "plan_in_force": warm_up_plan, "effort_levels": 11}
        scenario = small_scenario.model_copy(
            update={"plan": tried, "behaviour": BehaviourParams(**behaviour)}
        )
        results = simulate(scenario, replications=1, seed=5, workers=1, engine="fast")
        deals = results.deals
        carried = deals[deals["created_day"] < 0].sort_values("lead_id")
        return carried[["lead_id", "first_rep_id", "created_day"]].reset_index(drop=True), results

    same, base = run(in_force, in_force)
    kept, gated = run(near_nothing, in_force)
    pd.testing.assert_frame_equal(same, kept)
    # In the window a near-zero rate makes reps give up: effort near its floor (0.25).
    assert gated.daily["effort"].mean() < 0.5 * base.daily["effort"].mean()
    # Without a plan in force the warm-up is paid under the plan tried: another pipeline.
    changed, _ = run(near_nothing, None)
    assert not changed.equals(same)


def test_a_rep_who_does_not_count_its_pipeline_pushes_later_and_nearer_the_line():
    """A rep with no sight of its pipeline (`sight` 0) plans on what the period started with
    plus, credited when sourced, what it sources and closes this period: the same flow as a
    rep who counts its pipeline, but earlier (the period's pipeline from before thins out week
    by week). Mid-period it expects less to come: below the bonus line with half the period
    left it works harder, and its states still move by the flow it gets, so the same policy
    has the same mean lift whatever it planned on."""
    sighted = outlook(deals_per_day=0.25, landing=0.7)
    steps = sighted.landing.shape[1]
    from_before = np.linspace(0.6, 0.0, steps)[None, :]  # planned flow 1.3 .. 0.7, mean 1
    blind = dataclasses.replace(sighted, sight=0.0, from_before=from_before)
    program_s, policy_s = _solved(sighted)
    program_b, policy_b = _solved(blind)
    half = steps // 2
    below = slice(int(0.5 / GRID_STEP), int(0.95 / GRID_STEP))
    assert policy_b.effort[0, half, below].mean() > policy_s.effort[0, half, below].mean() + 0.05
    assert program_b.mean_lift(policy_s) == pytest.approx(program_s.mean_lift(policy_s))


@pytest.mark.parametrize("from_before", [0.0, 0.5, 1.0])
def test_closing_effort_lifts_only_the_closes_a_rep_counts(from_before):
    """A rep who sources nothing (share 0) and whose effort lifts the win chance of the deals
    closing now (closing 1) under a flat 12 %: with sight of its pipeline it works at
    (0.12 / 0.08) whatever the period's pipeline; with no sight it counts, of the deals closing
    now, only those sourced before the period (it credited the others when it sourced them),
    so the value of effort scales with that share and e* = 1.5 x from_before (the effort grid's
    floor 0.25 when none are)."""
    linear = plan({"type": "base_commission", "rate": 0.12})
    steps = int(np.ceil(PERIOD / 7))
    base = dataclasses.replace(outlook(share=0.0), closing=1.0,
                               from_before=np.full((1, steps), from_before))  # fmt: skip
    cost = effort_cost(base, PERIOD, BehaviourParams(reference_rate=0.08))[0]
    spacing = (3.0 - 0.25) / 110
    for sight, expected in ((1.0, 1.5), (0.0, max(1.5 * from_before, 0.25))):
        o = dataclasses.replace(base, sight=sight)
        params = BehaviourParams(model="optimising", reference_rate=0.08, min_effort=0.25,
                                 max_effort=3.0, effort_levels=111, cost_curvature=2.0)  # fmt: skip
        table = PayTable.build(linear.payout_curve, o.target)
        pol = plan_ahead_policy(table, o, PERIOD, params, cost)
        for day in (0.0, 45.0, 85.0):
            assert at(pol, 0.3, day) == pytest.approx(expected, abs=spacing), (sight, day)

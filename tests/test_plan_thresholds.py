"""Exact thresholds: a rep (or squad) exactly on a line is paid as the component's rule says.

Regression tests for the four payout bugs of issue 14, with the issue's own numbers, and
tests of the one rule in ``simplan.model.plan.thresholds``.
"""

from __future__ import annotations

import numpy as np
import pytest

from simplan.model.plan import compute_payouts
from simplan.model.plan.thresholds import RELATIVE_TOLERANCE, exceeds, reaches, steps_reached
from tests.test_plan_support import flat_targets, ledger, one_rep, pay, plan, team


def test_reaches_and_exceeds_treat_a_hair_off_the_line_as_on_it():
    line = 0.8 * 100_000  # 80000.00000000001 in floats
    hair = 50_000 + 30_000 - 1e-11
    assert reaches(hair, line)
    assert reaches(80_000.0, 80_000.0)
    assert not exceeds(80_000.0 + 1e-9, line)
    off = line * (1 + 10 * RELATIVE_TOLERANCE)
    assert exceeds(off, line)
    assert not reaches(line * (1 - 10 * RELATIVE_TOLERANCE), line)
    thresholds = np.array([0.0, 1.2, 1.5])
    values = np.array([0.0, 1.2 * (1 - RELATIVE_TOLERANCE / 2), 1.1999, 1.5, 9.0])
    assert steps_reached(values, thresholds).tolist() == [0, 1, 0, 2, 2]
    assert steps_reached(np.array([0.5]), np.array([0.8])).tolist() == [-1]


def test_bug1_cumulative_bonus_may_have_a_smaller_later_step():
    bonus = {
        "type": "attainment_bonus",
        "steps": [{"threshold": 1.0, "amount": 1000}, {"threshold": 1.2, "amount": 500}],
        "cumulative": True,
    }
    assert pay(one_rep(130_000, 100_000, bonus), "a") == 1_500
    assert pay(one_rep(110_000, 100_000, bonus), "a") == 1_000
    with pytest.raises(ValueError, match="bonus amounts must not fall: 1000 then 500"):
        plan({**bonus, "cumulative": False})


def test_bug2_counted_bookings_exactly_on_the_gate_with_returns_excluded():
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2024-01-03", "deal_amount": 50_000.0},
        {"deal_id": 2, "rep_id": "a", "date": "2024-01-04", "deal_amount": 30_000.0},
        {"deal_id": 3, "rep_id": "a", "date": "2024-01-05", "deal_amount": 2_842.73},
        {"deal_id": 4, "rep_id": "a", "date": "2024-01-06", "deal_amount": 6_485.82},
    )
    deals["returned"] = [False, False, True, True]
    gated = plan(
        {"type": "exclusion", "returned": True},
        {"type": "base_commission", "rate": 0.1},
        {"type": "gate", "threshold": 0.8},
    )
    statements = compute_payouts(deals, flat_targets(["a"], 100_000), None, gated)
    assert pay(statements, "a") == pytest.approx(8_000, abs=1e-6)
    assert statements.totals["bookings"].iloc[0] == 80_000.0  # the counted rows' own sum


def test_bug3_a_rep_above_the_attainment_cap_is_credited_exactly_the_cap():
    statements = one_rep(
        359_678.61,
        209_649.55,
        {"type": "attainment_cap", "max_attainment": 1.5},
        {
            "type": "tiered_commission",
            "mode": "retroactive",
            "tiers": [{"threshold": 0.0, "rate": 0.10}, {"threshold": 1.5, "rate": 0.15}],
        },
    )
    assert pay(statements, "a") == pytest.approx(0.15 * 1.5 * 209_649.55)  # 47,171.15


def test_bug4_a_squad_exactly_on_its_pool_threshold_is_not_paid():
    # squad target 2 x 41,694.75 = 83,389.50; 120% of it is 100,067.40, booked exactly
    roster = team(("a", "veteran", "s1", None), ("b", "veteran", "s1", None))
    pool = {"type": "team_pool", "threshold": 1.2, "excess_from": 1.0, "share_of_excess": 0.1}

    def pool_paid(extra: float) -> float:
        deals = ledger(
            {"deal_id": 1, "rep_id": "a", "date": "2024-01-03", "deal_amount": 22_014.77},
            {"deal_id": 2, "rep_id": "b", "date": "2024-01-04", "deal_amount": 78_052.63 + extra},
        )
        statements = compute_payouts(deals, flat_targets(["a", "b"], 41_694.75), roster, plan(pool))
        return pay(statements, "a") + pay(statements, "b")

    assert pool_paid(0.0) == 0.0
    assert pool_paid(0.01) == pytest.approx(0.1 * (100_067.41 - 83_389.50))

"""Exact thresholds: a rep (or squad) exactly on a line is paid as the component's rule says.

Regression tests for the four payout bugs of issue 14, with the issue's own numbers, and
tests of the one rule in ``simplan.model.plan.thresholds``.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simplan.model.plan import compute_payouts
from simplan.model.plan.thresholds import RELATIVE_TOLERANCE, exceeds, reaches, steps_reached
from tests.test_plan_support import basis, flat_targets, ledger, one_rep, pay, plan, team


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


# ---- bookings placed exactly on every threshold (hypothesis) --------------------------------
# Each case runs with the bookings on the line and one cent either side: an at-or-above rule
# pays from the line up ([no, yes, yes]); a more-than rule only above it ([no, no, yes]).
REACHES, EXCEEDS = [False, True, True], [False, False, True]
NUDGES = (-1, 0, 1)
ON_LINE = settings(max_examples=25, deadline=None, derandomize=True)
THRESHOLDS = [Fraction(1, 2), Fraction(4, 5), Fraction(1), Fraction(6, 5), Fraction(5, 4), Fraction(3, 2)]  # fmt: skip
returns = st.sampled_from(["none", "excluded", "counted"])
"""No returned deals; returned deals beside the line, excluded by an exclusion; or some of the
deals that make up the line marked returned and still counted (no exclusion)."""


@st.composite
def lines(draw) -> tuple[float, int, int]:
    """(threshold, target cents, line cents) with threshold x target exactly whole cents."""
    threshold = draw(st.sampled_from(THRESHOLDS))
    m = draw(st.integers(1000, 2 * 10**7 // threshold.denominator))
    return float(threshold), threshold.denominator * m, threshold.numerator * m


@st.composite
def parts(draw, total_cents: int, max_parts: int = 4, min_parts: int = 1) -> list[int]:
    """``total_cents`` split into min_parts..max_parts positive whole-cent amounts."""
    n = draw(st.integers(min_parts, min(max_parts, total_cents)))
    if n == 1:
        return [total_cents]
    cuts = draw(st.sets(st.integers(1, total_cents - 1), min_size=n - 1, max_size=n - 1))
    edges = [0, *sorted(cuts), total_cents]
    return [b - a for a, b in itertools.pairwise(edges)]


@st.composite
def rows(draw, rep: str, cents: int, mode: str, month: str = "2024-01") -> list[dict]:
    """Deal rows of ``rep`` whose counted bookings sum to ``cents`` (returns as ``mode``).

    The first row always counts, so nudging it moves the counted bookings.
    """
    amounts = draw(parts(cents))
    returned = [False] + [mode == "counted" and draw(st.booleans()) for _ in amounts[1:]]
    if mode == "excluded":
        extra = draw(st.lists(st.integers(1, 10**7), min_size=1, max_size=2))
        amounts, returned = amounts + extra, returned + [True] * len(extra)
    return [
        {"rep_id": rep, "date": f"{month}-{1 + i % 28:02d}", "deal_amount": c / 100, "returned": r}
        for i, (c, r) in enumerate(zip(amounts, returned, strict=True))
    ]


def nudged(deal_rows: list[dict], cents: int) -> pd.DataFrame:
    """The ledger of ``deal_rows`` with ``cents`` added to its first deal."""
    moved = [dict(r) for r in deal_rows]
    moved[0]["deal_amount"] = (round(moved[0]["deal_amount"] * 100) + cents) / 100
    return ledger(*({"deal_id": i, **r} for i, r in enumerate(moved)))


def around(deal_rows: list[dict], paid) -> list[bool]:
    """``paid(ledger)`` with the first deal a cent lower, as drawn, and a cent higher."""
    return [bool(paid(nudged(deal_rows, cents))) for cents in NUDGES]


def exclusion(mode: str) -> list[dict]:
    return [{"type": "exclusion", "returned": True}] if mode == "excluded" else []


@ON_LINE
@given(lines(), returns, st.sampled_from([None, -0.3, 0.5]), st.data())
def test_gate_opens_at_its_threshold_on_counted_bookings(line, mode, cap, data):
    threshold, target, cents = line
    deal_rows = data.draw(rows("a", cents, mode))
    capped = [] if cap is None else [{"type": "attainment_cap", "max_attainment": threshold + cap}]
    gated = plan(
        *exclusion(mode),
        *capped,
        {"type": "base_commission", "rate": 0.1},
        {"type": "gate", "threshold": threshold},
    )
    targets = flat_targets(["a"], target / 100)
    assert (
        around(deal_rows, lambda d: pay(compute_payouts(d, targets, None, gated), "a")) == REACHES
    )


@ON_LINE
@given(lines(), returns, st.booleans(), st.booleans(), st.data())
def test_tier_and_bonus_step_start_at_their_threshold_and_at_a_cap(
    line, mode, capped, cumulative, data
):
    """A rep above a cap that equals the threshold is credited the cap: the step is reached."""
    threshold, target, cents = line
    above_cap = data.draw(st.integers(0, 10**7)) if capped else 0
    deal_rows = data.draw(rows("a", cents + above_cap, mode))
    tiers = [{"threshold": 0.0, "rate": 0.1}, {"threshold": threshold, "rate": 0.15}]
    steps = [{"threshold": threshold / 2, "amount": 100}, {"threshold": threshold, "amount": 1000}]
    curve = plan(
        *exclusion(mode),
        *([{"type": "attainment_cap", "max_attainment": threshold}] if capped else []),
        {"type": "tiered_commission", "mode": "retroactive", "tiers": tiers},
        {"type": "attainment_bonus", "steps": steps, "cumulative": cumulative},
    )
    targets = flat_targets(["a"], target / 100)

    def reached(d: pd.DataFrame) -> tuple[bool, bool]:
        s = compute_payouts(d, targets, None, curve)
        credited = basis(s, "a", "tiered_commission")
        return pay(s, "a", "tiered_commission") > 0.125 * credited, pay(
            s, "a", "attainment_bonus"
        ) >= 1000

    expected = [above_cap + n >= 0 for n in NUDGES]
    on = [reached(nudged(deal_rows, n)) for n in NUDGES]
    assert [tier for tier, _ in on] == expected
    assert [step for _, step in on] == expected


@ON_LINE
@given(lines(), returns, st.data())
def test_qualifying_minimum_bookings_is_met_on_the_line(line, mode, data):
    _threshold, target, cents = line
    deal_rows = data.draw(rows("a", cents, mode))
    rule = plan(
        *exclusion(mode),
        {"type": "base_commission", "rate": 0.1},
        {"type": "qualifying", "min_bookings": cents / 100},
    )
    targets = flat_targets(["a"], target / 100)
    assert around(deal_rows, lambda d: pay(compute_payouts(d, targets, None, rule), "a")) == REACHES


@ON_LINE
@given(st.integers(1000, 10**7), st.sampled_from([0.05, 0.1, 0.25]), st.data())
def test_qualifying_return_rate_exactly_at_the_maximum_qualifies(units, max_rate, data):
    """Returned bookings exactly ``max_return_rate`` of all bookings; nudged a cent either way."""
    total = units * 100
    returned_cents = round(total * max_rate)
    kept = data.draw(rows("a", total - returned_cents, "none"))
    returned = [{**r, "returned": True} for r in data.draw(rows("a", returned_cents, "none"))]
    rule = plan(
        {"type": "base_commission", "rate": 0.1},
        {"type": "qualifying", "max_return_rate": max_rate},
    )
    targets = flat_targets(["a"], total / 100)
    paid = around([*returned, *kept], lambda d: pay(compute_payouts(d, targets, None, rule), "a"))
    assert paid == [True, True, False]  # a cent more returned is above the maximum


@st.composite
def teams(draw, mode: str) -> tuple[float, pd.DataFrame, pd.DataFrame, list[dict]]:
    """(threshold, targets, roster, deal rows): 2-3 reps whose bookings sum exactly to the
    threshold x their summed targets; reps have their own targets and one manager."""
    threshold, target, cents = draw(lines())
    rep_targets = draw(parts(target, 3, min_parts=2))
    shares = draw(parts(cents, len(rep_targets), min_parts=len(rep_targets)))
    reps = [f"r{i}" for i in range(len(rep_targets))]
    roster = team(*((r, "veteran", "s1", "m1") for r in reps))
    targets = pd.concat(
        [flat_targets([r], t / 100) for r, t in zip(reps, rep_targets, strict=True)],
        ignore_index=True,
    )
    deal_rows = [row for r, c in zip(reps, shares, strict=True) for row in draw(rows(r, c, mode))]
    return threshold, targets, roster, deal_rows


@ON_LINE
@given(returns, st.data())
def test_team_pool_needs_more_than_its_threshold(mode, data):
    threshold, targets, roster, deal_rows = data.draw(teams(mode))
    pool = plan(
        *exclusion(mode),
        {"type": "team_pool", "threshold": threshold, "excess_from": 0.5},
    )
    paid = around(deal_rows, lambda d: pay(compute_payouts(d, targets, roster, pool), "r0") > 0)
    assert paid == EXCEEDS


@ON_LINE
@given(returns, st.data())
def test_manager_bonus_paid_at_the_team_attainment(mode, data):
    threshold, targets, roster, deal_rows = data.draw(teams(mode))
    bonus = plan(
        *exclusion(mode),
        {"type": "manager_bonus", "amount": 5000, "min_team_attainment": threshold,
         "min_new_hire_growth": None},
    )  # fmt: skip
    paid = around(deal_rows, lambda d: pay(compute_payouts(d, targets, roster, bonus), "m1") > 0)
    assert paid == REACHES


JUL, AUG = "2024-07", "2024-08"  # both 31 days: weekly = monthly
GROWTH_TARGETS = flat_targets(["a"], 1e5, (JUL, AUG))


@st.composite
def growth(draw, mode: str) -> tuple[float, list[dict]]:
    """(growth, deal rows of rep a): August bookings exactly 1 + growth times July's."""
    ratio, july, august = draw(lines().filter(lambda line: line[0] >= 1))
    august_rows = draw(rows("a", august, mode, "2024-08"))  # first: the nudged row
    return ratio - 1, [*august_rows, *draw(rows("a", july, mode, "2024-07"))]


@ON_LINE
@given(returns, st.data())
def test_growth_bonus_at_exactly_the_minimum_growth(mode, data):
    minimum, deal_rows = data.draw(growth(mode))
    bonus = plan(
        *exclusion(mode),
        {"type": "growth_bonus", "amount": 300, "min_growth": minimum, "tenure": None},
    )
    paid = around(
        deal_rows, lambda d: pay(compute_payouts(d, GROWTH_TARGETS, None, bonus), "a", period=AUG)
    )
    assert paid == REACHES


@ON_LINE
@given(returns, st.data())
def test_manager_new_hire_growth_must_exceed_its_minimum(mode, data):
    minimum, deal_rows = data.draw(growth(mode))
    bonus = plan(
        *exclusion(mode),
        {"type": "manager_bonus", "amount": 5000, "min_team_attainment": 0.0,
         "min_new_hire_growth": minimum},
    )  # fmt: skip
    roster = team(("a", "new_hire", None, "m1"))
    paid = around(
        deal_rows,
        lambda d: pay(compute_payouts(d, GROWTH_TARGETS, roster, bonus), "m1", period=AUG),
    )
    assert paid == EXCEEDS


@ON_LINE
@given(lines(), returns, st.data())
def test_big_deal_must_exceed_the_minimum(line, mode, data):
    _threshold, _target, cents = line
    big = {"rep_id": "a", "date": "2024-01-02", "deal_amount": cents / 100, "returned": False}
    smaller = data.draw(rows("a", cents // 2, mode))  # deals below the minimum, some returned
    bonus = plan(
        *exclusion(mode), {"type": "big_deal_bonus", "amount": 2000, "min_deal": cents / 100}
    )
    targets = flat_targets(["a"], 1e5)
    paid = around([big, *smaller], lambda d: pay(compute_payouts(d, targets, None, bonus), "a"))
    assert paid == EXCEEDS

"""A hand-computed example for every plan component, with the playbook's numbers (DOMAIN §5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simplan.model.plan import compute_payouts
from tests.test_plan_support import (
    FEB,
    JAN,
    basis,
    flat_targets,
    ledger,
    one_rep,
    pay,
    plan,
    team,
)

TIERS = [
    {"threshold": 0.0, "rate": 0.10},
    {"threshold": 1.2, "rate": 0.125},
    {"threshold": 1.5, "rate": 0.15},
]


def test_base_salary_per_period_and_by_tenure():
    roster = team(("a", "new_hire", None, None), ("b", "veteran", None, None))
    deals = ledger({"deal_id": 1, "rep_id": "a", "date": "2024-01-03", "deal_amount": 10.0})
    salary = {"type": "base_salary", "amount": 3000, "by_tenure": {"new_hire": 2500}}
    s = compute_payouts(deals, flat_targets(["a", "b"], 1e5, (JAN, FEB)), roster, plan(salary))
    assert [pay(s, "a", period=p) for p in (JAN, FEB)] == [2500, 2500]
    assert [pay(s, "b", period=p) for p in (JAN, FEB)] == [3000, 3000]


def test_base_commission_is_rate_times_bookings():
    s = one_rep(150_000, 100_000, {"type": "base_commission", "rate": 0.02})
    assert pay(s, "a") == pytest.approx(3_000)
    assert basis(s, "a", "base_commission") == 150_000


@pytest.mark.parametrize(
    ("bookings", "marginal", "retroactive"),
    [
        (100_000, 10_000, 10_000),
        (130_000, 12_000 + 1_250, 16_250),  # 120k at 10% + 10k at 12.5% | 130k at 12.5%
        (160_000, 12_000 + 3_750 + 1_500, 24_000),  # + 30k at 12.5% + 10k at 15% | all at 15%
    ],
)
def test_tiered_commission_challenge_and_breakthrough_lines(bookings, marginal, retroactive):
    for mode, expected in (("marginal", marginal), ("retroactive", retroactive)):
        s = one_rep(bookings, 100_000, {"type": "tiered_commission", "mode": mode, "tiers": TIERS})
        assert pay(s, "a") == pytest.approx(expected), mode


@pytest.mark.parametrize(
    ("bookings", "expected"), [(90_000, 0), (110_000, 11_000), (125_000, 18_750), (150_000, 30_000)]
)
def test_three_targets_base_challenge_sprint(bookings, expected):
    tiers = [
        {"threshold": 1.0, "rate": 0.10},
        {"threshold": 1.2, "rate": 0.15},
        {"threshold": 1.5, "rate": 0.20},
    ]
    s = one_rep(
        bookings, 100_000, {"type": "tiered_commission", "mode": "retroactive", "tiers": tiers}
    )
    assert pay(s, "a") == pytest.approx(expected)


def test_base_bonus_at_100_and_higher_rate_on_excess_over_120():
    components = (
        {
            "type": "tiered_commission",
            "tiers": [{"threshold": 0, "rate": 0.1}, {"threshold": 1.2, "rate": 0.15}],
        },
        {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 1000}]},
    )
    assert pay(one_rep(130_000, 100_000, *components), "a") == pytest.approx(12_000 + 1_500 + 1_000)
    assert pay(one_rep(99_000, 100_000, *components), "a") == pytest.approx(9_900)


@pytest.mark.parametrize(("cumulative", "expected"), [(False, 2_000), (True, 3_000)])
def test_attainment_bonus_steps(cumulative, expected):
    steps = [{"threshold": 1.0, "amount": 1000}, {"threshold": 1.2, "amount": 2000}]
    bonus = {"type": "attainment_bonus", "steps": steps, "cumulative": cumulative}
    assert pay(one_rep(125_000, 100_000, bonus), "a") == expected
    assert pay(one_rep(99_999, 100_000, bonus), "a") == 0


def test_gate_forfeits_everything_variable_below_80_percent():
    components = (
        {"type": "base_salary", "amount": 3000},
        {"type": "base_commission", "rate": 0.1},
        {"type": "gate", "threshold": 0.8},
    )
    below = one_rep(79_000, 100_000, *components)
    assert pay(below, "a", "base_commission") == pytest.approx(7_900)
    assert pay(below, "a", "gate") == pytest.approx(-7_900)
    assert basis(below, "a", "gate") == pytest.approx(0.79)
    assert pay(below, "a") == pytest.approx(3_000)  # salary is not gated
    assert pay(one_rep(80_000, 100_000, *components), "a") == pytest.approx(3_000 + 8_000)


def test_gate_on_named_components_only():
    components = (
        {"type": "base_commission", "rate": 0.1},
        {
            "type": "attainment_bonus",
            "name": "monthly_bonus",
            "steps": [{"threshold": 0.5, "amount": 500}],
        },
        {"type": "gate", "threshold": 0.8, "applies_to": ["monthly_bonus"]},
    )
    s = one_rep(70_000, 100_000, *components)
    assert pay(s, "a") == pytest.approx(7_000)
    assert pay(s, "a", "gate") == -500


def test_attainment_cap_stops_crediting_at_150_percent():
    components = (
        {"type": "attainment_cap", "max_attainment": 1.5},
        {"type": "base_commission", "rate": 0.1},
    )
    s = one_rep(200_000, 100_000, *components)
    assert pay(s, "a") == pytest.approx(15_000)
    assert basis(s, "a", "attainment_cap") == pytest.approx(50_000)
    # the totals keep the real bookings and attainment
    assert s.totals.loc[0, "attainment"] == pytest.approx(2.0)


def test_payout_cap_limits_the_named_components():
    components = (
        {"type": "base_salary", "amount": 3000},
        {"type": "base_commission", "rate": 0.1},
        {"type": "payout_cap", "max_amount": 10_000},
    )
    s = one_rep(150_000, 100_000, *components)
    assert pay(s, "a", "payout_cap") == pytest.approx(-5_000)
    assert pay(s, "a") == pytest.approx(13_000)


def test_first_deal_bonus_for_new_hires_in_the_month_of_their_first_deal():
    roster = team(
        ("a", "new_hire", None, None), ("b", "veteran", None, None), ("c", "new_hire", None, None)
    )
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2024-02-05", "deal_amount": 1000.0},
        {"deal_id": 2, "rep_id": "a", "date": "2024-02-09", "deal_amount": 1000.0},
        {"deal_id": 3, "rep_id": "b", "date": "2024-01-05", "deal_amount": 1000.0},
        {
            "deal_id": 4,
            "rep_id": "b",
            "date": "2024-01-08",
            "deal_amount": 1000.0,
            "credit_share": 0.5,
        },
        {
            "deal_id": 4,
            "rep_id": "c",
            "date": "2024-01-08",
            "deal_amount": 1000.0,
            "credit_share": 0.5,
            "role": "support",
        },
    )
    s = compute_payouts(
        deals,
        flat_targets(["a", "b", "c"], 1e5, (JAN, FEB)),
        roster,
        plan({"type": "first_deal_bonus", "amount": 500}),
    )
    assert (pay(s, "a", period=JAN), pay(s, "a", period=FEB)) == (0, 500)
    assert pay(s, "b", period=JAN) == 0  # veteran
    assert pay(s, "c", period=JAN) == 0  # a support credit is not their own deal


def test_growth_bonus_weekly_average_up_20_percent():
    roster = team(("a", "new_hire", None, None), ("b", "new_hire", None, None))
    # a: Jan 31,000 over 31 days = 7,000/week; Feb (29 days in 2024) 34,800 = 8,400/week: +20%
    # b: Jan 31,000; Feb 30,000 = 7,241/week: +3.4%
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2024-01-10", "deal_amount": 31_000.0},
        {"deal_id": 2, "rep_id": "a", "date": "2024-02-10", "deal_amount": 34_800.0},
        {"deal_id": 3, "rep_id": "b", "date": "2024-01-10", "deal_amount": 31_000.0},
        {"deal_id": 4, "rep_id": "b", "date": "2024-02-10", "deal_amount": 30_000.0},
    )
    s = compute_payouts(
        deals, flat_targets(["a", "b"], 1e5, (JAN, FEB)), roster, plan({"type": "growth_bonus"})
    )
    assert pay(s, "a", period=FEB) == 300
    assert basis(s, "a", "growth_bonus", FEB) == pytest.approx(0.2)
    assert pay(s, "b", period=FEB) == 0
    assert np.isnan(basis(s, "a", "growth_bonus", JAN))  # no period before


def test_big_deal_bonus_over_500000_split_by_credit():
    roster = team(
        ("a", "veteran", None, None), ("b", "veteran", None, None), ("c", "new_hire", None, None)
    )
    deals = ledger(
        {
            "deal_id": 1,
            "rep_id": "a",
            "date": "2024-01-10",
            "deal_amount": 600_000.0,
            "credit_share": 0.6,
        },
        {
            "deal_id": 1,
            "rep_id": "b",
            "date": "2024-01-10",
            "deal_amount": 600_000.0,
            "credit_share": 0.4,
        },
        {"deal_id": 2, "rep_id": "a", "date": "2024-01-11", "deal_amount": 500_000.0},  # not over
        {"deal_id": 3, "rep_id": "c", "date": "2024-01-12", "deal_amount": 900_000.0},  # new hire
    )
    s = compute_payouts(
        deals, flat_targets(["a", "b", "c"], 1e5), roster, plan({"type": "big_deal_bonus"})
    )
    assert (pay(s, "a"), pay(s, "b"), pay(s, "c")) == pytest.approx((1_200, 800, 0))


def test_team_pool_shares_10_percent_of_the_excess_by_contribution():
    roster = team(
        ("a", "veteran", "s1", None), ("b", "veteran", "s1", None), ("c", "veteran", "s2", None)
    )
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2024-01-10", "deal_amount": 150_000.0},
        {
            "deal_id": 2,
            "rep_id": "a",
            "date": "2024-01-11",
            "deal_amount": 50_000.0,
            "credit_share": 0.6,
        },
        {
            "deal_id": 2,
            "rep_id": "b",
            "date": "2024-01-11",
            "deal_amount": 50_000.0,
            "credit_share": 0.4,
            "role": "support",
        },
        {"deal_id": 3, "rep_id": "b", "date": "2024-01-12", "deal_amount": 50_000.0},
        {"deal_id": 4, "rep_id": "c", "date": "2024-01-12", "deal_amount": 115_000.0},
    )
    # squad s1: 250,000 on a 200,000 target = 125% (> 120%): pool 10% x 50,000 = 5,000.
    # bookings shares a 0.72, b 0.28; collaboration scores 1/2 and 1/2 -> shares 0.5, 0.5.
    # contribution a = 0.7 x 0.72 + 0.3 x 0.5 = 0.654; b = 0.346. Squad s2 at 115%: no pool.
    s = compute_payouts(
        deals, flat_targets(["a", "b", "c"], 1e5), roster, plan({"type": "team_pool"})
    )
    assert pay(s, "a") == pytest.approx(3_270)
    assert pay(s, "b") == pytest.approx(1_730)
    assert basis(s, "a", "team_pool") == pytest.approx(0.654)
    assert pay(s, "c") == 0


def test_project_pool_50_30_20():
    deals = ledger(
        {
            "deal_id": 1,
            "rep_id": "a",
            "date": "2024-01-10",
            "deal_amount": 100_000.0,
            "credit_share": 0.6,
            "project": "p1",
        },
        {
            "deal_id": 1,
            "rep_id": "b",
            "date": "2024-01-10",
            "deal_amount": 100_000.0,
            "credit_share": 0.4,
            "project": "p1",
            "role": "support",
        },
        {
            "deal_id": 2,
            "rep_id": "c",
            "date": "2024-01-11",
            "deal_amount": 100_000.0,
            "project": "p1",
        },
        {
            "deal_id": 3,
            "rep_id": "c",
            "date": "2024-01-12",
            "deal_amount": 100_000.0,
            "project": "p2",
        },
        {"deal_id": 4, "rep_id": "a", "date": "2024-01-12", "deal_amount": 100_000.0},
    )
    s = compute_payouts(
        deals,
        flat_targets(["a", "b", "c"], 1e5),
        None,
        plan({"type": "project_pool", "rate": 0.05}),
    )
    # p1: pool 5% x 200,000 = 10,000: leads 5,000 by credited bookings (a 60k, c 100k),
    # supporters 3,000 (b), fund 2,000. p2: 5,000: lead 2,500; no supporter, so the fund gets
    # its 1,000 and the unclaimed 1,500.
    assert pay(s, "a") == pytest.approx(5_000 * 60 / 160)
    assert pay(s, "b") == pytest.approx(3_000)
    assert pay(s, "c") == pytest.approx(5_000 * 100 / 160 + 2_500)
    assert pay(s, "fund:p1") == pytest.approx(2_000)
    assert pay(s, "fund:p2") == pytest.approx(2_500)


def test_project_pool_shares_must_sum_to_one():
    with pytest.raises(ValueError, match="must sum to 1"):
        plan(
            {
                "type": "project_pool",
                "rate": 0.05,
                "lead_share": 0.5,
                "support_share": 0.3,
                "fund_share": 0.1,
            }
        )


def test_manager_bonus_needs_120_percent_and_new_hire_growth_over_40_percent():
    roster = team(
        ("a", "new_hire", None, "m1"), ("b", "veteran", None, "m1"),
        ("c", "new_hire", None, "m2"), ("d", "veteran", None, "m2"),
    )  # fmt: skip
    rows = [
        ("a", "2024-01-10", 50_000), ("b", "2024-01-10", 100_000),
        ("a", "2024-02-10", 75_000), ("b", "2024-02-10", 170_000),  # m1 Feb: 245k/200k, +50%
        ("c", "2024-01-10", 50_000), ("d", "2024-01-10", 100_000),
        ("c", "2024-02-10", 65_000), ("d", "2024-02-10", 200_000),  # m2 Feb: 132.5%, +30%
    ]  # fmt: skip
    deals = ledger(
        *(
            {"deal_id": i, "rep_id": r, "date": d, "deal_amount": float(x)}
            for i, (r, d, x) in enumerate(rows)
        )
    )
    s = compute_payouts(
        deals,
        flat_targets(list("abcd"), 1e5, (JAN, FEB)),
        roster,
        plan({"type": "manager_bonus", "amount": 5000}),
    )
    assert pay(s, "m1", period=FEB) == 5000
    assert basis(s, "m1", "manager_bonus", FEB) == pytest.approx(1.225)
    assert pay(s, "m1", period=JAN) == 0  # no previous period: growth undefined
    assert pay(s, "m2", period=FEB) == 0
    totals = s.totals.set_index(["rep_id", "period"])
    assert totals.loc[("m1", FEB), "payee"] == "manager"


def test_daily_champion():
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2024-01-08", "deal_amount": 10_000.0},
        {"deal_id": 2, "rep_id": "b", "date": "2024-01-08", "deal_amount": 20_000.0},
        {"deal_id": 3, "rep_id": "a", "date": "2024-01-09", "deal_amount": 5_000.0},
        {"deal_id": 4, "rep_id": "a", "date": "2024-01-09", "deal_amount": 5_000.0},
    )
    s = compute_payouts(
        deals, flat_targets(["a", "b"], 1e5), None, plan({"type": "daily_champion", "amount": 100})
    )
    assert (pay(s, "a"), pay(s, "b")) == (100, 100)


def test_three_deals_in_a_row_counts_working_days():
    dates = {
        "a": ["2024-01-08", "2024-01-09", "2024-01-10"],  # Mon Tue Wed: one streak
        "b": ["2024-01-11", "2024-01-12", "2024-01-15"],  # Thu Fri (weekend) Mon: one streak
        "c": ["2024-01-08", "2024-01-10", "2024-01-11"],  # Mon, Wed Thu: none
        "d": [f"2024-01-{d:02d}" for d in (8, 9, 10, 11, 12, 15, 16)],  # 7 in a row: two
    }
    rows = [
        {"deal_id": f"{r}{i}", "rep_id": r, "date": d, "deal_amount": 1.0}
        for r, ds in dates.items()
        for i, d in enumerate(ds)
    ]
    s = compute_payouts(
        ledger(*rows),
        flat_targets(list("abcd"), 1e5),
        None,
        plan({"type": "deal_streak", "amount": 200}),
    )
    assert [pay(s, r) for r in "abcd"] == [200, 200, 0, 400]


def test_weekly_squad_winner_pays_every_member():
    roster = team(
        ("a", "veteran", "s1", None), ("b", "veteran", "s1", None), ("c", "veteran", "s2", None)
    )
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2024-01-08", "deal_amount": 15_000.0},
        {"deal_id": 2, "rep_id": "b", "date": "2024-01-09", "deal_amount": 15_000.0},
        {"deal_id": 3, "rep_id": "c", "date": "2024-01-10", "deal_amount": 25_000.0},
        {"deal_id": 4, "rep_id": "c", "date": "2024-01-15", "deal_amount": 1_000.0},  # next week
    )
    s = compute_payouts(
        deals,
        flat_targets(["a", "b", "c"], 1e5),
        roster,
        plan({"type": "squad_winner", "amount": 50}),
    )
    assert [pay(s, r) for r in "abc"] == [50, 50, 50]
    assert basis(s, "c", "squad_winner") == 1


def test_monthly_champion_and_quarterly_top_three():
    rows = [
        ("a", "2024-01-10", 300), ("b", "2024-01-10", 200), ("c", "2024-01-10", 100),
        ("a", "2024-02-10", 100), ("b", "2024-02-10", 500), ("d", "2024-02-10", 50),
    ]  # fmt: skip
    deals = ledger(
        *(
            {"deal_id": i, "rep_id": r, "date": d, "deal_amount": float(x)}
            for i, (r, d, x) in enumerate(rows)
        )
    )
    champion = {"type": "ranking_reward", "name": "champion", "awards": [1500]}
    top3 = {
        "type": "ranking_reward",
        "name": "top3",
        "awards": [5000, 3000, 1000],
        "window": "quarter",
    }
    s = compute_payouts(
        deals, flat_targets(list("abcd"), 1e3, (JAN, FEB)), None, plan(champion, top3)
    )
    assert pay(s, "a", "champion", JAN) == 1500
    assert pay(s, "b", "champion", FEB) == 1500
    # quarter so far: b 700, a 400, c 100, d 50 -> paid in the last month present (Feb)
    assert [pay(s, r, "top3", FEB) for r in "abcd"] == [3000, 5000, 1000, 0]
    assert pay(s, "b", "top3", JAN) == 0


def test_qualifying_rules_and_return_rate():
    rows = [
        {"rep_id": "a", "customer_id": "x", "deal_amount": 60_000.0},
        {"rep_id": "a", "customer_id": "y", "deal_amount": 60_000.0},  # 120k, 2 customers
        {"rep_id": "b", "customer_id": "z", "deal_amount": 60_000.0},
        {"rep_id": "b", "customer_id": "z", "deal_amount": 60_000.0},  # one customer only
        {"rep_id": "c", "customer_id": "u", "deal_amount": 140_000.0},
        {"rep_id": "c", "customer_id": "v", "deal_amount": 10_000.0, "returned": True},  # 6.7%
        {"rep_id": "d", "customer_id": "w", "deal_amount": 50_000.0},
        {"rep_id": "d", "customer_id": "t", "deal_amount": 40_000.0},  # under 100k
    ]
    deals = ledger(
        *(
            {"deal_id": i, "date": "2024-01-10", "new_customer": True, "returned": False, **r}
            for i, r in enumerate(rows)
        )
    )
    rules = {
        "type": "qualifying",
        "min_bookings": 100_000,
        "min_new_customers": 2,
        "max_return_rate": 0.05,
    }
    s = compute_payouts(
        deals,
        flat_targets(list("abcd"), 1e5),
        None,
        plan({"type": "base_commission", "rate": 0.1}, rules),
    )
    assert [pay(s, r) for r in "abcd"] == pytest.approx([12_000, 0, 0, 0])
    assert pay(s, "c", "qualifying") == pytest.approx(-15_000)


def test_exclusion_and_clawback_of_returned_deals():
    deals = ledger(
        {
            "deal_id": 1,
            "rep_id": "a",
            "date": "2024-01-10",
            "deal_amount": 180_000.0,
            "returned": False,
        },
        {
            "deal_id": 2,
            "rep_id": "a",
            "date": "2024-01-11",
            "deal_amount": 20_000.0,
            "returned": True,
        },
    )
    targets = flat_targets(["a"], 1e5)
    claw = compute_payouts(
        deals, targets, None, plan({"type": "base_commission", "rate": 0.1}, {"type": "clawback"})
    )
    assert pay(claw, "a", "base_commission") == pytest.approx(20_000)
    assert pay(claw, "a", "clawback") == pytest.approx(-2_000)
    assert basis(claw, "a", "clawback") == pytest.approx(20_000)
    excluded = compute_payouts(
        deals,
        targets,
        None,
        plan({"type": "exclusion", "returned": True}, {"type": "base_commission", "rate": 0.1}),
    )
    assert pay(excluded, "a") == pytest.approx(18_000)
    assert excluded.totals.loc[0, "bookings"] == pytest.approx(180_000)


def test_credit_splits_are_honoured_60_40():
    deals = ledger(
        {
            "deal_id": 1,
            "rep_id": "a",
            "date": "2024-01-10",
            "deal_amount": 100_000.0,
            "credit_share": 0.6,
        },
        {
            "deal_id": 1,
            "rep_id": "b",
            "date": "2024-01-10",
            "deal_amount": 100_000.0,
            "credit_share": 0.4,
            "role": "support",
        },
    )
    s = compute_payouts(
        deals, flat_targets(["a", "b"], 1e5), None, plan({"type": "base_commission", "rate": 0.1})
    )
    assert (pay(s, "a"), pay(s, "b")) == pytest.approx((6_000, 4_000))


@pytest.mark.parametrize(
    ("policy", "paid", "overrun"), [("pay_in_full", 20_000, 2_000), ("scale_down", 18_000, 2_000)]
)
def test_budget_reserve_and_policy(policy, paid, overrun):
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2024-01-10", "deal_amount": 150_000.0},
        {"deal_id": 2, "rep_id": "b", "date": "2024-01-10", "deal_amount": 50_000.0},
    )
    budget = {"total": 20_000, "reserve_share": 0.1, "policy": policy}
    p = plan(
        {"type": "base_salary", "amount": 3000},
        {"type": "base_commission", "rate": 0.1},
        budget=budget,
    )
    s = compute_payouts(deals, flat_targets(["a", "b"], 1e5), None, p)
    row = s.budget.iloc[0]
    assert (row["reserve"], row["available"], row["incentive"]) == (2_000, 18_000, 20_000)
    assert row["overrun"] == overrun
    assert row["paid"] == pytest.approx(paid)
    variable = s.lines[s.lines["component"] != "base_salary"]["amount"].sum()
    assert variable == pytest.approx(paid)
    if policy == "scale_down":
        assert row["scale_factor"] == pytest.approx(0.9)
        assert pay(s, "a") == pytest.approx(3_000 + 15_000 * 0.9)


def test_flags_pace_circuit_breaker_and_improvement_plan():
    # January 2024 has 23 working days; target 23,000 -> pace 1,000 per working day.
    deals = ledger(
        {
            "deal_id": 1,
            "rep_id": "a",
            "date": "2024-01-02",
            "deal_amount": 23_000.0,
        },  # ahead all month
        {
            "deal_id": 2,
            "rep_id": "b",
            "date": "2024-01-31",
            "deal_amount": 10_000.0,
        },  # nothing until the end
        {"deal_id": 3, "rep_id": "b", "date": "2024-02-28", "deal_amount": 10_000.0},
    )
    p = plan({"type": "base_commission", "rate": 0.1}, flags={"grace_days": 5})
    s = compute_payouts(deals, flat_targets(["a", "b"], 23_000, (JAN, FEB)), None, p)
    f = s.flags.set_index(["rep_id", "period"])
    assert not f.loc[("a", JAN), "pace_warning"]
    assert f.loc[("b", JAN), "days_below_pace"] == 23 - 5  # every judged day
    # below 30% of pace from working day 6 (Jan 8); three in a row trip on Jan 10
    assert f.loc[("b", JAN), "breaker_date"] == pd.Timestamp("2024-01-10")
    assert f.loc[("b", JAN), "breaker_target"] == pytest.approx(23_000 * 0.9)
    assert not f.loc[("b", JAN), "improvement_plan"]
    assert f.loc[("b", FEB), "improvement_plan"]  # two months in a row below target
    assert f.loc[("a", FEB), "improvement_plan"] == False  # noqa: E712 (numpy bool)


def test_quarter_clock_puts_deals_in_quarters():
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2024-01-10", "deal_amount": 200_000.0},
        {"deal_id": 2, "rep_id": "a", "date": "2024-03-29", "deal_amount": 160_000.0},
        {"deal_id": 3, "rep_id": "a", "date": "2024-04-02", "deal_amount": 91_000.0},
    )
    q1, q2 = "2024Q1", "2024Q2"
    targets = flat_targets(["a"], 300_000, (q1, q2))
    p = plan(
        {"type": "tiered_commission", "tiers": TIERS},
        {"type": "growth_bonus", "tenure": None, "min_growth": 0.0},
        clock="quarter",
        flags={},
    )
    s = compute_payouts(deals, targets, None, p)
    # Q1: 360,000 of 300,000 = 120%: 10% of all; Q2 (91 days = 13 weeks): 7,000/week vs
    # Q1 (91 days) 360,000 / 13 = 27,692/week: growth negative, no bonus
    assert pay(s, "a", period=q1) == pytest.approx(36_000)
    assert pay(s, "a", period=q2) == pytest.approx(9_100)
    assert basis(s, "a", "growth_bonus", q2) == pytest.approx(91_000 / 360_000 - 1)
    assert list(s.flags["period"]) == [q1, q2]
    assert s.flags["improvement_plan"].tolist() == [False, False]


def test_statement_of_one_rep_lists_its_lines():
    s = one_rep(
        150_000,
        100_000,
        {"type": "base_salary", "amount": 3000},
        {"type": "base_commission", "rate": 0.02},
    )
    assert s.statement("a")["component"].tolist() == ["base_salary", "base_commission"]

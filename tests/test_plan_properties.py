"""Properties every plan must keep, checked on random ledgers and random plans (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from simplan.model.plan import Plan, compute_payouts, targets_from_quota
from simplan.model.plan.components.pay import Tier, tier_commission

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
START = pd.Timestamp("2024-01-01")
MONEY_KEYS = {"amount", "max_amount", "min_deal", "amount_per_project", "min_bookings", "total"}
money = st.one_of(st.just(0.0), st.floats(0.01, 5e5))  # currency, to the cent and up


@st.composite
def books(draw, returns: bool = False):
    """(ledger, targets, team) with 1-5 reps, 1-3 months and 0-25 deals, some split 60/40."""
    n_reps = draw(st.integers(1, 5))
    n_periods = draw(st.integers(1, 3))
    reps = [f"r{i}" for i in range(n_reps)]
    roster = pd.DataFrame(
        {
            "rep_id": reps,
            "tenure": draw(
                st.lists(
                    st.sampled_from(["new_hire", "ramping", "veteran"]),
                    min_size=n_reps,
                    max_size=n_reps,
                )
            ),
            "squad": draw(
                st.lists(st.sampled_from(["s1", "s2", None]), min_size=n_reps, max_size=n_reps)
            ),
            "mentor_id": None,
            "manager_id": draw(
                st.lists(st.sampled_from(["m1", "m2", None]), min_size=n_reps, max_size=n_reps)
            ),
        }
    )
    periods = pd.period_range("2024-01", periods=n_periods, freq="M")
    n_days = int((periods[-1].end_time - START).days) + 1
    rows = []
    for deal in range(draw(st.integers(0, 25))):
        rep = draw(st.integers(0, n_reps - 1))
        size = draw(money)
        date = START + pd.Timedelta(days=draw(st.integers(0, n_days - 1)))
        common = {
            "deal_id": deal,
            "close_date": date,
            "deal_amount": size,
            "project": draw(st.sampled_from([None, None, "p1", "p2"])),
            "customer_id": f"c{draw(st.integers(0, 6))}",
            "new_customer": draw(st.booleans()),
            "returned": draw(st.booleans()) if returns else False,
        }
        share = draw(st.sampled_from([1.0, 1.0, 0.6, 0.75]))
        rows.append({**common, "rep_id": reps[rep], "credit_share": share, "role": "lead"})
        if share < 1:
            other = reps[draw(st.integers(0, n_reps - 1))]
            role = draw(st.sampled_from(["support", "mentor"]))
            rows.append({**common, "rep_id": other, "credit_share": 1 - share, "role": role})
    columns = ["deal_id", "rep_id", "close_date", "deal_amount", "credit_share", "role", "project",
               "customer_id", "new_customer", "returned"]  # fmt: skip
    ledger = pd.DataFrame(rows, columns=columns)
    ledger["close_date"] = pd.to_datetime(ledger["close_date"])
    ledger["deal_amount"] = ledger["deal_amount"].astype(float)
    ledger["credit_share"] = ledger["credit_share"].astype(float)
    ledger["amount"] = ledger["deal_amount"] * ledger["credit_share"]
    quota = draw(st.floats(1e3, 1e6, allow_subnormal=False))
    return ledger, targets_from_quota(roster, periods, quota), roster


@st.composite
def tier_lists(draw):
    thresholds = sorted(
        draw(st.sets(st.sampled_from([0.0, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0]), min_size=1, max_size=4))
    )
    rates = sorted(
        draw(
            st.lists(
                st.floats(0, 0.3, allow_subnormal=False),
                min_size=len(thresholds),
                max_size=len(thresholds),
            )
        )
    )
    return [{"threshold": t, "rate": r} for t, r in zip(thresholds, rates, strict=True)]


@st.composite
def steps(draw):
    thresholds = sorted(
        draw(st.sets(st.sampled_from([0.5, 0.8, 1.0, 1.2, 1.5]), min_size=1, max_size=3))
    )
    amounts = sorted(draw(st.lists(money, min_size=len(thresholds), max_size=len(thresholds))))
    return [{"threshold": t, "amount": a} for t, a in zip(thresholds, amounts, strict=True)]


EARNERS = {
    "base_salary": st.builds(lambda a: {"type": "base_salary", "amount": a, "by_tenure": {"new_hire": a / 2}}, money),
    "base_commission": st.builds(lambda r: {"type": "base_commission", "rate": r}, st.floats(0, 0.2, allow_subnormal=False)),
    "tiered_commission": st.builds(
        lambda m, t: {"type": "tiered_commission", "mode": m, "tiers": t},
        st.sampled_from(["marginal", "retroactive"]),
        tier_lists(),
    ),
    "attainment_bonus": st.builds(lambda s, c: {"type": "attainment_bonus", "steps": s, "cumulative": c}, steps(), st.booleans()),
    "first_deal_bonus": st.builds(lambda a: {"type": "first_deal_bonus", "amount": a}, money),
    "growth_bonus": st.builds(lambda a: {"type": "growth_bonus", "amount": a, "tenure": None}, money),
    "big_deal_bonus": st.builds(lambda a, m: {"type": "big_deal_bonus", "amount": a, "min_deal": m, "tenure": None}, money, money),
    "manager_bonus": st.builds(lambda a: {"type": "manager_bonus", "amount": a, "min_team_attainment": 0.5, "min_new_hire_growth": None}, money),
    "team_pool": st.builds(
        lambda team, thr, w: {"type": "team_pool", "team": team, "threshold": thr, "weight": w},
        st.sampled_from(["squad", "all"]),
        st.sampled_from([0.0, 0.5, 1.2]),
        st.floats(0, 1, allow_subnormal=False),
    ),
    "project_pool": st.builds(lambda r, a: {"type": "project_pool", "rate": r, "amount_per_project": a}, st.floats(0, 0.1, allow_subnormal=False), money),
    "daily_champion": st.builds(lambda a: {"type": "daily_champion", "amount": a}, money),
    "deal_streak": st.builds(lambda a, d: {"type": "deal_streak", "amount": a, "days": d}, money, st.integers(1, 3)),
    "squad_winner": st.builds(lambda a: {"type": "squad_winner", "amount": a}, money),
    "ranking_reward": st.builds(
        lambda aw, by, w: {"type": "ranking_reward", "awards": sorted(aw, reverse=True), "rank_by": by, "window": w},
        st.lists(money, min_size=1, max_size=3),
        st.sampled_from(["bookings", "attainment"]),
        st.sampled_from(["period", "quarter"]),
    ),
}  # fmt: skip
ADJUSTERS = {
    "attainment_cap": st.builds(lambda m: {"type": "attainment_cap", "max_attainment": m}, st.sampled_from([0.9, 1.5, 2.0])),
    "gate": st.builds(lambda t: {"type": "gate", "threshold": t}, st.sampled_from([0.5, 0.8, 1.0])),
    "payout_cap": st.builds(lambda m: {"type": "payout_cap", "max_amount": m}, money),
    "qualifying": st.builds(
        lambda b, n, r: {"type": "qualifying", "min_bookings": b, "min_new_customers": n, "max_return_rate": r},
        money, st.integers(0, 2), st.sampled_from([None, 0.05]),
    ),
}  # fmt: skip
budgets = st.one_of(
    st.none(),
    st.builds(
        lambda t, p: {"total": t, "reserve_share": 0.1, "policy": p},
        st.floats(1e3, 1e7),
        st.sampled_from(["pay_in_full", "scale_down"]),
    ),
)


@st.composite
def plans(draw, exclude: tuple[str, ...] = (), clawback: bool = False, budget: bool = True):
    """A plan dict with 1-6 random earners and any of the adjusters (never clawback unless asked)."""
    names = [n for n in EARNERS if n not in exclude]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=6, unique=True))
    components = [draw(EARNERS[n]) for n in chosen]
    for name, strategy in ADJUSTERS.items():
        if name not in exclude and draw(st.booleans()):
            components.append(draw(strategy))
    if clawback:
        components.append(
            {"type": "clawback", "share": draw(st.floats(0, 1, allow_subnormal=False))}
        )
    out = {"components": components}
    if budget:
        out["budget"] = draw(budgets)
    return out


def run(book, plan_dict):
    ledger, targets, roster = book
    return compute_payouts(ledger, targets, roster, Plan.model_validate(plan_dict))


def scale(value, k: float):
    """Multiply every money figure of a plan dict by k (rates and attainments stay)."""
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            if key in MONEY_KEYS and isinstance(v, (int, float)):
                out[key] = v * k
            elif key == "awards":
                out[key] = [a * k for a in v]
            elif key == "by_tenure":
                out[key] = {t: a * k for t, a in v.items()}
            else:
                out[key] = scale(v, k)
        return out
    if isinstance(value, list):
        return [scale(v, k) for v in value]
    return value


def rep_totals(statements) -> pd.Series:
    totals = statements.totals
    return totals[totals["payee"] == "rep"].groupby("rep_id", observed=True)["payout"].sum()


@PROPERTY
@given(books(returns=True), plans())
def test_never_negative_without_clawbacks(book, plan_dict):
    statements = run(book, plan_dict)
    assert (statements.totals["payout"] >= -1e-9).all()


@PROPERTY
@given(books(returns=True), plans(clawback=True))
def test_statement_lines_sum_to_totals(book, plan_dict):
    statements = run(book, plan_dict)
    lines = statements.lines.groupby(["rep_id", "period"], observed=True)["amount"].sum()
    totals = statements.totals.set_index(["rep_id", "period"])["payout"]
    lines = lines.reindex(totals.index, fill_value=0.0)
    assert np.allclose(lines, totals, rtol=1e-12, atol=1e-9)
    assert len(lines) == len(totals)
    dense = statements.lines[
        statements.lines["rep_id"].isin(book[2]["rep_id"])
        & (statements.lines["component"] != "budget_scale_down")  # only where there is pay
    ]
    assert len(dense) % len(book[1]) == 0  # every rep x period has one line per component


@PROPERTY
@given(books(), plans(exclude=("growth_bonus",), budget=False), st.data())
def test_non_decreasing_in_own_bookings(book, plan_dict, data):
    ledger, targets, roster = book
    single = np.flatnonzero(ledger["credit_share"].to_numpy() == 1.0)
    assume(len(single) > 0)
    row = data.draw(st.sampled_from(list(single)))
    extra = data.draw(st.floats(1.0, 2e5))
    more = ledger.copy()
    more.loc[row, ["amount", "deal_amount"]] += extra
    rep = ledger.loc[row, "rep_id"]
    before = rep_totals(run(book, plan_dict))[rep]
    after = rep_totals(run((more, targets, roster), plan_dict))[rep]
    assert after >= before - 1e-9 * max(1.0, abs(before))


@PROPERTY
@given(tier_lists(), st.lists(st.floats(0, 3), min_size=1, max_size=20), st.floats(1, 1e6))
def test_retroactive_pays_at_least_marginal(raw_tiers, attainment, target):
    tiers = [Tier(**t) for t in raw_tiers]
    bookings = np.asarray(attainment) * target
    targets = np.full(len(bookings), target)
    retro = tier_commission(bookings, targets, tiers, "retroactive")
    marginal = tier_commission(bookings, targets, tiers, "marginal")
    assert (retro >= marginal - 1e-9 * np.maximum(1, marginal)).all()
    curves = [
        Plan.model_validate(
            {"components": [{"type": "tiered_commission", "mode": m, "tiers": raw_tiers}]}
        )
        for m in ("retroactive", "marginal")
    ]
    grid = np.asarray(attainment)
    assert (
        curves[0].payout_curve(grid, target) >= curves[1].payout_curve(grid, target) - 1e-6
    ).all()


@PROPERTY
@given(
    books(returns=True),
    plans(exclude=("payout_cap",), budget=False),
    money,
    st.sampled_from([0.9, 1.5]),
)
def test_caps_are_respected(book, plan_dict, max_amount, max_attainment):
    plan_dict = {
        "components": [
            {"type": "attainment_cap", "max_attainment": max_attainment},
            *(c for c in plan_dict["components"] if c["type"] != "attainment_cap"),
            {"type": "base_commission", "name": "capped_commission", "rate": 0.1},
            {"type": "payout_cap", "max_amount": max_amount},
        ]
    }
    statements = run(book, plan_dict)
    lines = statements.lines
    reps = lines["rep_id"].isin(book[2]["rep_id"])
    variable = lines[reps & (lines["component"] != "base_salary")]
    per_cell = variable.groupby(["rep_id", "period"], observed=True)["amount"].sum()
    assert (per_cell <= max_amount * (1 + 1e-12) + 1e-9).all()
    credited = lines[reps & (lines["component"] == "capped_commission")].set_index(
        ["rep_id", "period"]
    )["basis"]
    target = statements.totals.set_index(["rep_id", "period"]).loc[credited.index, "target"]
    assert (credited <= max_attainment * target * (1 + 1e-12)).all()


@PROPERTY
@given(books(), st.floats(0, 0.1, allow_subnormal=False), st.floats(0, 1, allow_subnormal=False))
def test_splits_conserve_credit_and_pools_pay_out_in_full(book, rate, weight):
    ledger, _targets, _roster = book
    plan_dict = {
        "components": [
            {"type": "project_pool", "rate": rate},
            {"type": "team_pool", "team": "all", "threshold": 0.0, "excess_from": 0.0, "share_of_excess": 0.1, "weight": weight},
        ]
    }  # fmt: skip
    statements = run(book, plan_dict)
    deals = ledger.drop_duplicates("deal_id")
    assert statements.totals["bookings"].sum() == pytest.approx(
        deals["deal_amount"].sum(), rel=1e-9, abs=1e-6
    )
    lines = statements.lines
    project = ledger[ledger["project"].notna()]
    assert lines[lines["component"] == "project_pool"]["amount"].sum() == pytest.approx(
        rate * project["amount"].sum(), rel=1e-9, abs=1e-6
    )
    # team 'all' beating a 0 threshold: 10% of every period's bookings, fully shared out
    assert lines[lines["component"] == "team_pool"]["amount"].sum() == pytest.approx(
        0.1 * ledger["amount"].sum(), rel=1e-9, abs=1e-6
    )


@PROPERTY
@given(books(returns=True), plans(clawback=True), st.sampled_from([0.25, 0.5, 2.0, 4.0, 8.0]))
def test_scaling_money_by_k_scales_payouts_by_k(book, plan_dict, k):
    ledger, targets, roster = book
    bigger = ledger.assign(amount=ledger["amount"] * k, deal_amount=ledger["deal_amount"] * k)
    base = run(book, plan_dict).totals
    scaled = run(
        (bigger, targets.assign(target=targets["target"] * k), roster), scale(plan_dict, k)
    ).totals
    assert np.allclose(scaled["payout"], k * base["payout"], rtol=1e-12, atol=1e-9)

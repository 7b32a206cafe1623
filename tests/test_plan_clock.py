"""The plan clock is a Periods table: calendar months and quarters, fiscal periods (4-4-5,
13-week) or a period table, one design; deals are paid in the period holding their close date."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simplan import simulate
from simplan.errors import SimplanError
from simplan.model.periods import parse_periods, period_table
from simplan.model.plan import Plan, compute_payouts, targets_from_quota
from simplan.scenario import deep_merge, load_scenario, read_yaml
from tests.test_plan_support import flat_targets, ledger

from .conftest import DATA

FISCAL = parse_periods("4-4-5:2025-01-06")
FY2025 = [f"FY2025-P{i:02d}" for i in range(1, 13)]
RATE = 0.1
COMMISSION = {"type": "base_commission", "rate": RATE}
PERIOD_PLAN = Plan.model_validate({"clock": "period", "components": [COMMISSION]})
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _edge_deals(draw) -> tuple[pd.DataFrame, dict[tuple[str, str], float]]:
    """Deals on the first or last day of random FY2025 4-4-5 periods, and the bookings each
    (rep, period) must get, known from how the deals were placed (not from Periods.index)."""
    rows, expected = [], {}
    for deal in range(draw(st.integers(1, 20))):
        period = draw(st.integers(0, 11))
        rep = draw(st.sampled_from(["a", "b"]))
        first, last = (
            FISCAL.window(FY2025[period])[0],
            FISCAL.last_day(FISCAL.position(FY2025[period])),
        )
        day = first if draw(st.booleans()) else last
        amount = float(draw(st.integers(1, 100_000)))
        rows.append({"deal_id": deal, "rep_id": rep, "date": str(day), "deal_amount": amount})
        key = (rep, FY2025[period])
        expected[key] = expected.get(key, 0.0) + amount
    return ledger(*rows), expected


@PROPERTY
@given(st.data())
def test_deals_on_the_first_and_last_day_of_a_445_period_are_paid_in_it(data):
    deals, expected = _edge_deals(data.draw)
    targets = flat_targets(["a", "b"], 50_000, FY2025)
    paid = compute_payouts(deals, targets, None, PERIOD_PLAN, periods=FISCAL).totals
    got = paid.set_index([paid["rep_id"].astype(str), "period"])
    for (rep, period), bookings in expected.items():
        assert got.loc[(rep, period), "bookings"] == pytest.approx(bookings)
        assert got.loc[(rep, period), "payout"] == pytest.approx(RATE * bookings)
    assert got["bookings"].sum() == pytest.approx(sum(expected.values()))
    assert set(paid["period"]) == set(FY2025)


def test_the_445_pattern_places_its_boundaries():
    # P03 is the 5-week month: 3 March to 6 April 2025; P04 starts on 7 April.
    assert FISCAL.window("FY2025-P03") == (pd.Timestamp("2025-03-03").date(), 35)
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2025-04-06", "deal_amount": 100.0},
        {"deal_id": 2, "rep_id": "a", "date": "2025-04-07", "deal_amount": 10.0},
    )
    targets = flat_targets(["a"], 1_000, ("FY2025-P03", "FY2025-P04"))
    totals = compute_payouts(deals, targets, None, PERIOD_PLAN, periods=FISCAL).totals
    assert dict(zip(totals["period"], totals["bookings"], strict=True)) == {
        "FY2025-P03": 100.0,
        "FY2025-P04": 10.0,
    }
    # On a calendar-month clock the same deals fall in April.
    monthly = Plan.model_validate({"clock": "month", "components": [COMMISSION]})
    months = compute_payouts(deals, flat_targets(["a"], 1_000, ("2025-04",)), None, monthly)
    assert months.totals["bookings"].tolist() == [110.0]


def test_calendar_quarters_are_one_periods_table_among_others():
    """A quarterly plan and the same quarters written as a period table pay the same."""
    deals = ledger(
        *(
            {"deal_id": i, "rep_id": "ab"[i % 2], "date": day, "deal_amount": 1000.0 * (i + 1)}
            for i, day in enumerate(["2025-01-01", "2025-03-31", "2025-04-01", "2025-06-30"])
        )
    )
    plan = {"components": [COMMISSION, {"type": "attainment_bonus", "steps": [
        {"threshold": 1.0, "amount": 500}]}]}  # fmt: skip
    quarterly = Plan.model_validate({**plan, "clock": "quarter"})
    on_quarters = compute_payouts(
        deals, flat_targets(["a", "b"], 3000, ("2025Q1", "2025Q2")), None, quarterly
    )
    table = period_table(
        [
            {"period": "first", "start": "2025-01-01", "end": "2025-03-31"},
            {"period": "second", "start": "2025-04-01", "end": "2025-06-30"},
        ]
    )
    by_table = Plan.model_validate({**plan, "clock": "period"})
    on_table = compute_payouts(
        deals, flat_targets(["a", "b"], 3000, ("first", "second")), None, by_table, periods=table
    )
    a, b = on_quarters.totals, on_table.totals
    assert b["period"].tolist() == a["period"].map({"2025Q1": "first", "2025Q2": "second"}).tolist()
    np.testing.assert_allclose(b["payout"], a["payout"])
    np.testing.assert_allclose(b["bookings"], a["bookings"])
    assert a["bookings"].tolist() == [1000.0, 3000.0, 2000.0, 4000.0]  # a Q1, a Q2, b Q1, b Q2
    assert (a["payout"] > 0).all()


def test_targets_keyed_by_another_clock_name_the_valid_labels():
    deals = ledger({"deal_id": 1, "rep_id": "a", "date": "2025-01-10", "deal_amount": 10.0})
    with pytest.raises(SimplanError, match=r"period '2025-01' is not a period of the plan clock"
                       r".*FY2025-P01|did you mean"):  # fmt: skip
        compute_payouts(
            deals, flat_targets(["a"], 100, ("2025-01",)), None, PERIOD_PLAN, periods=FISCAL
        )
    with pytest.raises(SimplanError, match=r"clock: period.*--calendar FILE\|RULE"):
        compute_payouts(deals, flat_targets(["a"], 100, ("FY2025-P01",)), None, PERIOD_PLAN)
    outside = ledger({"deal_id": 1, "rep_id": "a", "date": "2025-02-03", "deal_amount": 10.0})
    with pytest.raises(SimplanError, match="close_date 2025-02-03 falls in FY2025-P02, a period"):
        compute_payouts(
            outside, flat_targets(["a"], 100, ("FY2025-P01",)), None, PERIOD_PLAN, periods=FISCAL
        )


def test_a_quarterly_ranking_on_a_445_clock_ranks_over_three_fiscal_months():
    deals = ledger(
        {"deal_id": 1, "rep_id": "a", "date": "2025-01-06", "deal_amount": 900.0},  # P01
        {"deal_id": 2, "rep_id": "b", "date": "2025-04-06", "deal_amount": 500.0},  # P03
        {"deal_id": 3, "rep_id": "b", "date": "2025-03-03", "deal_amount": 500.0},  # P03
        {"deal_id": 4, "rep_id": "a", "date": "2025-04-07", "deal_amount": 10.0},  # P04: Q2
    )
    ranking = {"type": "ranking_reward", "awards": [1000], "window": "quarter"}
    plan = Plan.model_validate({"clock": "period", "components": [ranking]})
    targets = flat_targets(["a", "b"], 1000, FY2025[:4])
    lines = compute_payouts(deals, targets, None, plan, periods=FISCAL).lines
    won = lines[lines["amount"] > 0]
    # b's 1,000 in P03 beats a's 900 in P01 over FY2025-Q1, paid in the quarter's last month.
    assert set(zip(won["rep_id"].astype(str), won["period"], strict=True)) == {
        ("b", "FY2025-P03"),
        ("a", "FY2025-P04"),
    }


def test_targets_from_quota_take_pandas_periods_as_their_labels():
    table = targets_from_quota(["a"], pd.period_range("2025-01", periods=2, freq="M"), 5.0)
    assert table["period"].tolist() == ["2025-01", "2025-02"]


@pytest.fixture(scope="module")
def fiscal_run(tmp_path_factory):
    """The small team over FY2025 P01-P03 (4-4-5), quota per fiscal month, paid per it."""
    changes = {
        "calendar": {"start": "2025-01-06", "days": 91, "warmup_days": 0,
                     "periods": "4-4-5:2025-01-06"},
        "team": {"size": 6},
        "plan": {"clock": "period", "components": [
            COMMISSION, {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 500}]},
        ]},
    }  # fmt: skip
    path = tmp_path_factory.mktemp("fiscal") / "fiscal.yaml"
    path.write_text(yaml.safe_dump(deep_merge(read_yaml(DATA / "small.yaml"), changes)))
    return simulate(load_scenario(path), replications=1, workers=1)


def test_a_scenario_on_fiscal_periods_pays_per_fiscal_period(fiscal_run):
    reps, statements, deals = fiscal_run.reps, fiscal_run.statements, fiscal_run.deals
    assert sorted(reps["period"].unique()) == FY2025[:3]
    assert sorted(statements["period"].unique()) == FY2025[:3]
    # Each fiscal month's commission is the rate on the bookings the engine credited in it.
    commission = statements[statements["component"] == "base_commission"]
    paid = commission.groupby(["rep_id", "period"])["amount"].sum()
    booked = reps.set_index(["rep_id", "period"])["bookings"]
    np.testing.assert_allclose(paid.reindex(booked.index).fillna(0.0), RATE * booked)
    # The bonus is paid where, and only where, a fiscal month's target was reached.
    bonus = statements[(statements["component"] == "attainment_bonus") & (statements["amount"] > 0)]
    hit = reps[reps["attainment"] >= 1]
    assert len(hit) > 0
    assert set(zip(bonus["rep_id"], bonus["period"], strict=True)) == set(
        zip(hit["rep_id"], hit["period"], strict=True)
    )
    # The quota is per fiscal month, whatever its weeks: the 5-week P03 has P01's target.
    target = reps[reps["tenure"] == "veteran"].groupby("period")["target"].first()
    np.testing.assert_allclose(target[FY2025[:3]], 60_000)
    # Every won deal is in the reps table's period holding its close date.
    won = deals[deals["outcome"] == "won"]
    assert np.isclose(won["amount"].sum(), reps["bookings"].sum())


@pytest.mark.parametrize("engine", ["events", "fast"])
def test_a_reps_own_target_in_a_named_period_replaces_its_quota_there(tmp_path, engine):
    """A roster rep's `targets` (plan period label -> target) are its targets in those periods
    on both engines: what the reps table shows, what attainment and the bonus are read
    against, and what the reps who plan ahead plan against; its quota holds elsewhere."""
    roster = [{"rep_id": f"R{i}", "tenure_days": 800, "capacity_touches_per_day": 8,
               "quota": 60_000.0} for i in range(1, 4)]  # fmt: skip
    roster[0]["targets"] = {"2025-10": 30_000.0, "2025-11": 90_000.0}
    changes = {
        "team": {"roster": roster},
        "plan": {"clock": "period", "components": [
            COMMISSION, {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 500}]},
        ]},
        "behaviour": {"model": "optimising"},
    }  # fmt: skip
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(deep_merge(read_yaml(DATA / "small.yaml"), changes)))
    run = simulate(load_scenario(path), replications=2, workers=1, engine=engine)
    target = run.reps.groupby(["rep_id", "period"])["target"].first()  # November: 11 days
    assert target[("R1", "2025-10")] == 30_000
    assert target[("R2", "2025-10")] == target[("R3", "2025-10")] == 60_000
    assert target[("R1", "2025-11")] == pytest.approx(90_000 * 11 / 30)
    assert target[("R2", "2025-11")] == pytest.approx(60_000 * 11 / 30)
    reps = run.reps
    np.testing.assert_allclose(reps["attainment"], reps["bookings"] / reps["target"])
    bonus = run.statements[run.statements["component"] == "attainment_bonus"]
    paid = bonus.groupby(["replication", "rep_id", "period"])["amount"].sum()
    hit = reps.set_index(["replication", "rep_id", "period"])["attainment"] >= 1
    np.testing.assert_array_equal(paid.reindex(hit.index).fillna(0) > 0, hit)

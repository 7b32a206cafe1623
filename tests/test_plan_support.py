"""Builders shared by the plan tests: tiny teams, ledgers and plans written out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from simplan.model.plan import Plan, compute_payouts, targets_from_quota

JAN, FEB, MAR = "2024-01", "2024-02", "2024-03"  # labels of the monthly plan clock


def team(*rows: tuple) -> pd.DataFrame:
    """Rows of (rep_id, tenure, squad, manager_id)."""
    return pd.DataFrame(
        [
            {"rep_id": r[0], "tenure": r[1], "squad": r[2], "mentor_id": None, "manager_id": r[3]}
            for r in rows
        ]
    )


def ledger(*rows: dict) -> pd.DataFrame:
    """Deal rows: deal_id, rep_id, date, deal_amount and optional credit_share/role/...; the
    credited amount is filled in as deal_amount * credit_share."""
    frame = pd.DataFrame([{"credit_share": 1.0, **r} for r in rows])
    frame["close_date"] = pd.to_datetime(frame.pop("date"))
    frame["amount"] = frame["deal_amount"] * frame["credit_share"]
    return frame


def flat_targets(reps: list[str], quota: float, periods=(JAN,)) -> pd.DataFrame:
    return targets_from_quota(reps, list(periods), quota)


def plan(*components: dict, **extra) -> Plan:
    return Plan.model_validate({"components": list(components), **extra})


def pay(statements, rep_id: str, component: str | None = None, period=JAN) -> float:
    """One payee's total (or one component's line) in ``period``."""
    lines = statements.lines
    lines = lines[(lines["rep_id"] == rep_id) & (lines["period"] == period)]
    if component is not None:
        lines = lines[lines["component"] == component]
    return float(lines["amount"].sum())


def basis(statements, rep_id: str, component: str, period=JAN) -> float:
    lines = statements.lines
    row = lines[
        (lines["rep_id"] == rep_id)
        & (lines["period"] == period)
        & (lines["component"] == component)
    ]
    assert len(row) == 1
    return float(row["basis"].iloc[0])


def one_rep(bookings: float, target: float, *components: dict, **extra):
    """Statements for one veteran rep with one deal of ``bookings`` against ``target``."""
    deals = ledger({"deal_id": 1, "rep_id": "a", "date": "2024-01-10", "deal_amount": bookings})
    return compute_payouts(deals, flat_targets(["a"], target), None, plan(*components, **extra))


def test_builders_make_a_valid_book():
    statements = one_rep(100_000, 100_000, {"type": "base_commission", "rate": 0.1})
    assert pay(statements, "a") == pytest.approx(10_000)

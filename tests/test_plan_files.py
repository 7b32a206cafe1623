"""The shipped plan files load, validate and pay; the plan package stays pure; the curve."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simplan.model.plan import COMPONENT_TYPES, COMPONENTS, Plan, compute_payouts
from simplan.scenario import load_config
from tests.test_plan_support import FEB, JAN, MAR, flat_targets, ledger, team

PLANS = Path(__file__).parent.parent / "scenarios" / "plans"
FILES = sorted(PLANS.glob("*.yaml"))


def small_book():
    roster = team(
        ("a", "new_hire", "s1", "m1"), ("b", "veteran", "s1", "m1"),
        ("c", "veteran", "s2", "m1"), ("d", "ramping", "s2", None),
    )  # fmt: skip
    rng = np.random.default_rng(7)
    rows = []
    for i in range(60):
        rep = "abcd"[i % 4]
        day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(rng.integers(0, 90)))
        size = float(rng.lognormal(np.log(40_000), 0.8))
        extra = {"project": "launch"} if i % 7 == 0 else {}
        if i % 5 == 0:  # a 60/40 relay split with the next rep
            rows.append(
                {
                    "deal_id": i,
                    "rep_id": rep,
                    "date": day,
                    "deal_amount": size,
                    "credit_share": 0.6,
                    **extra,
                }
            )
            rows.append({"deal_id": i, "rep_id": "abcd"[(i + 1) % 4], "date": day, "deal_amount": size, "credit_share": 0.4, "role": "support", **extra})  # fmt: skip
        else:
            rows.append({"deal_id": i, "rep_id": rep, "date": day, "deal_amount": size, "returned": i % 11 == 0, **extra})  # fmt: skip
    deals = ledger(*rows)
    deals["role"] = deals["role"].fillna("lead")
    deals["returned"] = deals["returned"].astype("boolean").fillna(False).astype(bool)
    deals["customer_id"] = [f"cust{i % 23}" for i in range(len(deals))]
    deals["new_customer"] = True
    targets = flat_targets(list("abcd"), 250_000, (JAN, FEB, MAR))
    return deals, targets, roster


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_plan_file_loads_and_pays(path):
    text = path.read_text()
    assert text.startswith(f"# {path.name}:"), "each plan file starts with a comment header"
    plan = load_config(path, Plan)
    deals, targets, roster = small_book()
    statements = compute_payouts(deals, targets, roster, plan)
    totals = statements.totals
    assert (totals["payout"] >= 0).all()
    by_line = statements.lines.groupby(["rep_id", "period"], observed=True)["amount"].sum()
    merged = totals.set_index(["rep_id", "period"])["payout"]
    assert np.allclose(by_line.reindex(merged.index, fill_value=0.0), merged, rtol=1e-12, atol=1e-9)
    assert set(totals["period"]) == {JAN, FEB, MAR}


def test_expected_files_are_shipped():
    names = {p.stem for p in FILES}
    assert {
        "linear",
        "tiered_marginal",
        "tiered_retroactive",
        "three_targets",
        "gate80_cap150",
        "playbook_full",
    } <= names


def test_playbook_full_uses_every_component():
    plan = load_config(PLANS / "playbook_full.yaml", Plan)
    assert {c.type for c in plan.components} == COMPONENT_TYPES
    assert plan.budget is not None
    assert plan.flags is not None


def test_every_component_has_a_docstring():
    for tag, cls in COMPONENTS.items():
        assert len(cls.__doc__ or "") > 40, tag


PURE = """
import importlib.util, sys, types
# Load simplan.model.plan without running simplan/__init__.py (the public API imports the
# engines): the test is about what the plan package itself pulls in.
root = types.ModuleType("simplan")
root.__path__ = list(importlib.util.find_spec("simplan").submodule_search_locations)
sys.modules["simplan"] = root
import simplan.model.plan
assert "simpy" not in sys.modules, "simplan.model.plan imported simpy"
assert not any(m.startswith("simplan.engines") for m in sys.modules), "imported an engine"
"""


def test_plan_package_never_imports_simpy():
    code = PURE
    subprocess.run([sys.executable, "-c", code], check=True)


def test_payout_curve_and_marginal_rate_of_gate80_cap150():
    plan = load_config(PLANS / "gate80_cap150.yaml", Plan)
    attainment = np.array([0.5, 0.79, 0.8, 1.0, 1.3, 1.5, 2.0])
    curve = plan.payout_curve(attainment, target=100_000)
    # 10% to 120%, 15% above; 1,000 at 100%; nothing below 80%; nothing credited past 150%
    expected = [0, 0, 8_000, 11_000, 12_000 + 1_500 + 1_000, 12_000 + 4_500 + 1_000, 17_500]
    assert curve == pytest.approx(expected)
    rate = plan.marginal_rate(np.array([0.9, 1.3, 1.6]), target=100_000)
    assert rate == pytest.approx([0.10, 0.15, 0.0])
    assert plan.marginal_rate(np.array([0.995]), target=100_000)[0] > 1  # the bonus spike


def test_payout_curve_is_vectorised_and_keeps_shape():
    plan = load_config(PLANS / "tiered_retroactive.yaml", Plan)
    grid = np.linspace(0, 2, 12).reshape(3, 4)
    assert plan.payout_curve(grid).shape == (3, 4)
    assert plan.payout_curve(np.array([1.25]))[0] == pytest.approx(1.25 * 0.125)

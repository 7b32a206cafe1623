"""`simplan payout`: hand-computed totals on a tiny ledger, the maven sample, the saved
statements, the summary, and exit code 2 with the fix (and nothing written) on bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from simplan.history import quota_targets, read_deals
from simplan.model.plan import Plan, compute_payouts
from simplan.model.plan.summary import summarise

from .conftest import DATA, ROOT

SAMPLE = DATA / "maven_crm" / "sales_pipeline.csv"
MAVEN = [
    *("--map", "deal_id=opportunity_id"),
    *("--map", "rep_id=sales_agent"),
    *("--map", "amount=close_value"),
    *("--map", "outcome=deal_stage"),
]
LINEAR = """
name: linear_test
components:
  - {type: base_salary, amount: 1000}
  - {type: base_commission, rate: 0.10}
"""
TINY = """deal_id,rep_id,close_date,amount
d1,ann,2024-01-10,2000
d2,ann,2024-01-20,3000
d3,bob,2024-01-15,4000
d4,bob,2024-02-03,1500
d5,ann,2024-03-30,500
"""
HEADER = "deal_id,rep_id,close_date,amount,outcome\n"


def simplan(*args):
    return subprocess.run(
        [sys.executable, "-c", "from simplan.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def linear(tmp_path):
    path = tmp_path / "linear.yaml"
    path.write_text(LINEAR)
    return path


def test_linear_plan_pays_salary_plus_ten_percent(tmp_path, linear):
    deals = tmp_path / "deals.csv"
    deals.write_text(TINY)
    out = tmp_path / "out"
    done = simplan("payout", "--deals", deals, "--plan", linear, "--quota", 5000, "--out", out)
    assert done.returncode == 0, done.stderr
    # by hand: 2 reps x 3 months (Jan..Mar) x 1000 salary + 10% of each month's bookings
    bookings = {("ann", "2024-01"): 5000, ("ann", "2024-02"): 0, ("ann", "2024-03"): 500,
                ("bob", "2024-01"): 4000, ("bob", "2024-02"): 1500, ("bob", "2024-03"): 0}  # fmt: skip
    expected = {cell: 1000 + 0.1 * amount for cell, amount in bookings.items()}
    totals = pd.read_parquet(out / "totals.parquet")
    got = {(r.rep_id, str(r.period)): r.payout for r in totals.itertuples()}
    assert got == pytest.approx(expected)
    assert sum(expected.values()) == pytest.approx(7100)
    assert "total payout" in done.stdout
    assert "7,100" in done.stdout
    assert "base_commission" in done.stdout
    lines = pd.read_csv(out / "lines.csv")
    assert lines["amount"].sum() == pytest.approx(7100)
    assert pd.read_parquet(out / "lines.parquet")["amount"].sum() == pytest.approx(7100)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["plan"]["name"] == "linear_test"
    assert manifest["quota"] == 5000
    assert manifest["deals_file"] == str(deals)
    assert manifest["simplan_version"]
    assert manifest["summary"]["total payout"] == pytest.approx(7100)


def test_summary_spread_on_the_tiny_ledger(tmp_path):
    deals = tmp_path / "deals.csv"
    deals.write_text(TINY)
    ledger = read_deals(deals)
    plan = Plan.model_validate({"components": [{"type": "base_commission", "rate": 0.1}]})
    summary = summarise(compute_payouts(ledger, quota_targets(ledger, "month", 5000), None, plan))
    value = summary["value"]
    assert value["total payout"] == pytest.approx(1100)
    assert value["payout: base_commission"] == pytest.approx(1100)
    assert value["payout share of bookings"] == pytest.approx(0.1)
    payouts = pd.Series([500, 0, 50, 400, 150, 0])  # rep-periods
    assert value["rep payout per period P50"] == pytest.approx(payouts.quantile(0.5))
    assert value["rep payout per period P90"] == pytest.approx(payouts.quantile(0.9))
    assert value["top-decile share of rep payout"] == pytest.approx(550 / 1100)  # 1 of 2 reps
    assert value["reps paid nothing"] == 0
    assert value["share of rep-periods paid nothing"] == pytest.approx(2 / 6)
    assert summary.loc["share of rep-periods paid nothing", "unit"] == "share"


def test_maven_sample_with_a_column_mapping(tmp_path):
    out = tmp_path / "out"
    plan = ROOT / "scenarios" / "plans" / "tiered_marginal.yaml"
    done = simplan(
        "payout", "--deals", SAMPLE, "--plan", plan, "--quota", 60000, *MAVEN, "--out", out
    )
    assert done.returncode == 0, done.stderr
    raw = pd.read_csv(SAMPLE)
    won = raw[raw["deal_stage"] == "Won"]
    totals = pd.read_parquet(out / "totals.parquet")
    assert totals["bookings"].sum() == pytest.approx(won["close_value"].sum())
    assert set(totals["rep_id"]) == set(won["sales_agent"])
    assert totals["period"].astype(str).min() == "2017-03"
    lines = pd.read_parquet(out / "lines.parquet")
    assert lines["amount"].sum() == pytest.approx(totals["payout"].sum())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["mapping"]["rep_id"] == "sales_agent"
    assert f"{won['opportunity_id'].nunique():,} won deals" in done.stdout


def test_targets_file(tmp_path, linear):
    deals = tmp_path / "deals.csv"
    deals.write_text(TINY)
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "rep_id,period,target\n"
        + "".join(f"{r},2024-0{m},1000\n" for r in ("ann", "bob") for m in (1, 2, 3))
    )
    out = tmp_path / "out"
    done = simplan("payout", "--deals", deals, "--plan", linear, "--targets", targets, "--out", out)
    assert done.returncode == 0, done.stderr
    assert pd.read_parquet(out / "totals.parquet")["target"].tolist() == [1000.0] * 6


def _deals(rows: str, header: str = HEADER) -> str:
    return header + rows


BAD_INPUTS = {
    "misnamed column": (
        "dealid,rep_id,close_date,amount\nd1,a,2024-01-05,10\n",
        [],
        ["no column 'deal_id'", "--map deal_id=dealid"],
    ),
    "map names a missing column": (
        _deals("d1,a,2024-01-05,10,Won\n"),
        ["--map", "amount=value"],
        ["--map amount=value: the file has no column 'value'", "--map amount=amount"],
    ),
    "unparseable date": (
        _deals("d1,a,2024-01-05,10,Won\nd2,a,2024-31-12,10,Won\n"),
        [],
        ["column 'close_date' is not a date", "ISO 8601", "1 row (line 3)", "--date-format"],
    ),
    "negative amount": (
        _deals("d1,a,2024-01-05,10,Won\nd2,a,2024-01-06,-250,Won\n"),
        [],
        ["column 'amount' is negative on 1 row (line 3)", "amounts must be >= 0"],
    ),
    "amount with thousands separator": (
        _deals('d1,a,2024-01-05,"1,200.00",Won\n'),
        [],
        ["column 'amount'", "currency symbols or thousands separators", "(line 2)", "1200.00"],
    ),
    "unquoted thousands separator": (
        _deals("d1,a,2024-01-05,10,Won\nd2,a,2024-01-05,1,200.00,Won\n"),
        [],
        ["more fields than the header's 5, e.g. line 3", "(1200.00, not 1,200.00)"],
    ),
    "amount with currency symbol": (
        _deals("d1,a,2024-01-05,$1200,Won\n"),
        [],
        ["currency symbols or thousands separators", "(line 2)", "'$1200'"],
    ),
    "duplicate deal ids": (
        _deals("d1,a,2024-01-05,10,Won\nd1,b,2024-01-06,10,Won\nd2,a,2024-01-06,5,Won\n"),
        [],
        ["column 'deal_id' repeats 1 id(s) on 2 rows (lines 2, 3)", "one row per deal"],
    ),
    "empty file": ("", [], ["the file is empty"]),
    "header only": (HEADER, [], ["has a header but no rows"]),
    "semicolons": (
        "deal_id;rep_id;close_date;amount\nd1;a;2024-01-05;10,5\n",
        [],
        ["semicolon-separated", "comma-separated"],
    ),
    "tabs": ("deal_id\trep_id\tclose_date\tamount\nd1\ta\t2024-01-05\t10\n", [], ["tab-separated"]),
    "won deal without amount": (
        _deals("d1,a,2024-01-05,,Won\nd2,a,,,Open\n"),
        [],
        ["column 'amount' is empty on 1 row (line 2) of won deals", "fill it in or drop"],
    ),
    "won deal without close date": (
        _deals("d1,a,2024-01-05,10,Won\nd2,a,,10,Won\nd3,a,,,Engaging\n"),
        [],
        ["column 'close_date' is empty on 1 row (line 3) of won deals"],
    ),
    "unknown outcome label": (
        _deals("d1,a,2024-01-05,10,Won\nd2,a,2024-01-06,10,Booked\n"),
        [],
        ["labels simplan does not know: 'Booked' on 1 row (line 3)", "--map won=LABEL"],
    ),
    "no won deals": (_deals("d1,a,2024-01-05,0,Lost\n"), [], ["no won deals (1 lost)"]),
    "bad --map syntax": (_deals("d1,a,2024-01-05,10,Won\n"), ["--map", "deal_id"], ["canonical=source"]),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_deals_exit_2_with_the_fix(tmp_path, linear, case):
    text, extra, fragments = BAD_INPUTS[case]
    deals = tmp_path / "deals.csv"
    deals.write_text(text)
    out = tmp_path / "out"
    done = simplan(
        "payout", "--deals", deals, "--plan", linear, "--quota", 1000, *extra, "--out", out
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    if case != "bad --map syntax":  # a flag error names the flag, not the file
        assert str(deals) in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr
    assert not out.exists(), "nothing is written on a user error"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--deals", "missing.csv", "--quota", "1"], "missing.csv: file not found"),
        (["--deals", "deals.xlsx", "--quota", "1"], "an Excel workbook cannot be read"),
        (["--deals", "deals.csv"], "exactly one of --targets"),
        (["--deals", "deals.csv", "--quota", "1", "--targets", "t.csv"], "exactly one of"),
        (["--deals", "deals.csv", "--quota", "-5"], "quota = -5"),
        (["--deals", "deals.csv", "--targets", "t.csv"], "deals.csv with "),
    ],
)
def test_other_user_errors_exit_2(tmp_path, linear, args, fragment):
    (tmp_path / "deals.csv").write_text(TINY)
    (tmp_path / "deals.xlsx").write_bytes(b"PK\x03\x04")
    (tmp_path / "t.csv").write_text("rep_id,period,target\nann,2024-01,1\nbob,2024-01,1\n")
    args = [tmp_path / a if a.endswith((".csv", ".xlsx")) else a for a in args]
    out = tmp_path / "out"
    done = simplan("payout", *args, "--plan", linear, "--out", out)
    assert done.returncode == 2, done.stdout + done.stderr
    assert fragment in done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not out.exists()


def test_bad_plan_exit_2(tmp_path):
    (tmp_path / "deals.csv").write_text(TINY)
    plan = tmp_path / "bad.yaml"
    plan.write_text("components:\n  - {type: base_salry, amount: 1}\n")
    out = tmp_path / "out"
    done = simplan(
        "payout", "--deals", tmp_path / "deals.csv", "--plan", plan, "--quota", 1, "--out", out
    )
    assert done.returncode == 2
    assert f"{plan}: 1 problem" in done.stderr
    assert "did you mean 'base_salary'" in done.stderr or "base_salary" in done.stderr
    assert not out.exists()


def test_refuses_a_non_empty_out_dir_without_force(tmp_path, linear):
    deals = tmp_path / "deals.csv"
    deals.write_text(TINY)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier run")
    args = ["payout", "--deals", deals, "--plan", linear, "--quota", 5000, "--out", out]
    done = simplan(*args)
    assert done.returncode == 2
    assert "not empty" in done.stderr
    assert (out / "keep.txt").read_text() == "earlier run"
    assert simplan(*args, "--force").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "lines.csv",
        "lines.parquet",
        "manifest.json",
        "totals.parquet",
    ]

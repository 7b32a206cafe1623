"""The Excel workbook: read back, its sheets hold the run's tables, formatted for finance."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from simplan import load_results
from simplan.analysis.budget import size_budget
from simplan.report import load_source, write_workbook
from simplan.report.formats import EXCEL_FORMATS
from simplan.report.tables import component_totals

from .test_cli import simplan
from .test_report import BUDGET, PLAN, saved  # noqa: F401 - the saved runs fixture

MONEY, SHARE, FLAG = EXCEL_FORMATS["money"], EXCEL_FORMATS["share"], EXCEL_FORMATS["flag"]


def rows(sheet) -> dict[str, list]:
    """First column -> the rest of its row (header row left out)."""
    return {r[0]: list(r[1:]) for r in sheet.iter_rows(min_row=2, values_only=True)}


def cell(sheet, first: str, column: int):
    """The cell in `column` (1-based) of the row whose first cell is `first`."""
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == first:
            return row[column - 1]
    raise KeyError(first)


@pytest.fixture(scope="module")
def plan_book(saved, tmp_path_factory):  # noqa: F811
    path = write_workbook(saved / "plan", tmp_path_factory.mktemp("xlsx") / "plan.xlsx")
    return load_workbook(path), load_results(saved / "plan")


def test_sheets_of_a_run_with_a_plan(plan_book):
    book, _ = plan_book
    assert book.sheetnames == [
        "summary",
        "budget",
        "components",
        "reps",
        "statements",
        "scenario",
        "about",
    ]
    for sheet in book:
        assert sheet.freeze_panes is not None
        assert all(c.font.bold for c in sheet[1])
        assert sheet.column_dimensions["A"].width > 8


def test_summary_and_budget_equal_the_tables(plan_book):
    book, results = plan_book
    summary = rows(book["summary"])
    assert book["summary"]["B1"].value == "budgeted"
    for metric, value in results.summary()["value"].items():
        assert summary[metric][0] == pytest.approx(value, nan_ok=True)
    overview = size_budget(results, BUDGET).overview.set_index("metric")["value"]
    budget = rows(book["budget"])
    assert list(budget) == list(overview.index)
    for metric, value in overview.items():
        assert budget[metric][0] == pytest.approx(value)
    assert cell(book["summary"], "bookings P50", 2).number_format == MONEY
    assert cell(book["summary"], "win rate A", 2).number_format == SHARE
    assert cell(book["budget"], "probability of exceeding the budget", 2).number_format == SHARE
    assert cell(book["budget"], "payout P90", 2).number_format == MONEY
    assert cell(book["budget"], "cost of sales within 3%-9%", 2).number_format == FLAG


def test_components_and_statements_add_up(plan_book):
    book, results = plan_book
    expected = component_totals(results).set_index("component")
    sheet = book["components"]
    header = [c.value for c in sheet[1]]
    assert header == ["scenario", "component", "mean", "P10", "P50", "P90", "share of payout"]
    got = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(got) == set(expected.index)
    for component, row in got.items():
        assert row[2] == pytest.approx(expected.loc[component, "mean"])
        assert row[5] == pytest.approx(expected.loc[component, "P90"])
    assert sheet["G2"].number_format == SHARE
    assert sheet["C2"].number_format == MONEY


def test_reps_sheet_is_each_reps_spread(plan_book):
    book, results = plan_book
    sheet = book["reps"]
    header = [c.value for c in sheet[1]]
    assert header == [
        "scenario", "rep_id", "period", "tenure", "target", "bookings P10", "bookings P50",
        "bookings P90", "probability at target", "payout P50", "payout P90",
    ]  # fmt: skip
    written = {(r[1], r[2]): r for r in sheet.iter_rows(min_row=2, values_only=True)}
    reps = results.reps.assign(rep_id=results.reps["rep_id"].astype(str))
    assert len(written) == reps.groupby(["rep_id", "period"]).ngroups
    for (rep, period), one in reps.groupby(["rep_id", "period"]):
        row = written[(rep, period)]
        assert row[6] == pytest.approx(one["bookings"].quantile(0.5))
        assert row[8] == pytest.approx(one["at_target"].mean())
        assert row[10] == pytest.approx(one["payout"].quantile(0.9))
    assert sheet["E2"].number_format == MONEY
    assert sheet["I2"].number_format == SHARE


def test_statements_are_one_typical_replication_that_adds_up(plan_book):
    book, results = plan_book
    sheet = book["statements"]
    header = [c.value for c in sheet[1]]
    assert header == [
        "scenario", "replication", "rep_id", "period", "attainment", "component", "basis",
        "basis value", "unit", "amount",
    ]  # fmt: skip
    rows = list(sheet.iter_rows(min_row=2))
    values = [[c.value for c in r] for r in rows]
    replication = {v[1] for v in values}
    assert len(replication) == 1
    payout = results.runs.set_index("replication")["payout"]
    chosen = replication.pop()
    assert abs(payout[chosen] - payout.median()) == (payout - payout.median()).abs().min()
    lines, totals = {}, {}
    for v in values:
        key = (v[2], v[3])
        if v[5] == "total":
            totals[key] = v[9]
        else:
            lines[key] = lines.get(key, 0.0) + v[9]
    assert lines == pytest.approx(totals, abs=0.01 * len(PLAN["components"]))
    assert sum(totals.values()) == pytest.approx(payout[chosen], abs=1.0)
    formats = {}
    for row in rows:
        component = row[5].value
        formats.setdefault(component, (row[7].number_format, row[9].number_format, row[8].value))
    assert formats["attainment_cap"] == (MONEY, MONEY, "money")  # bookings above the cap
    assert formats["gate"] == (SHARE, MONEY, "share")
    assert formats["base_salary"] == (EXCEL_FORMATS["count"], MONEY, "count")
    assert sheet.freeze_panes == "E2"
    assert rows[0][4].number_format == SHARE


def test_scenario_parameters_are_the_resolved_scenario(plan_book):
    book, results = plan_book
    parameters = rows(book["scenario"])
    scenario = results.manifest["scenario"]
    assert parameters["team.size"] == [scenario["team"]["size"]]
    assert parameters["leads.tiers[0].win_probability"] == [0.4]
    assert parameters["plan.components.gate.threshold"] == [0.5]
    assert parameters["plan.budget.total"] == [BUDGET]
    assert parameters["calendar.working_days"] == ["mon, tue, wed, thu, fri"]


def test_run_without_plan_and_comparison(saved, tmp_path):  # noqa: F811
    book = load_workbook(write_workbook(saved / "noplan", tmp_path / "a.xlsx"))
    assert book.sheetnames == ["summary", "scenario", "about"]
    assert "no run has a plan" in str(rows(book["about"])["no plan"][0])
    book = load_workbook(write_workbook(saved / "compare", tmp_path / "b.xlsx"))
    assert book.sheetnames[:3] == ["summary", "comparison", "differences"]
    assert [c.value for c in book["summary"][1]] == ["metric", "base", "richer"]
    comparison = load_source(saved / "compare").comparison
    written = list(book["comparison"].iter_rows(min_row=2, values_only=True))
    assert len(written) == len(comparison.summary)
    for row, (_, expected) in zip(written, comparison.summary.iterrows(), strict=True):
        assert row[:2] == (expected["scenario"], expected["metric"])
        if row[2] is not None:
            assert row[2] == pytest.approx(expected["mean"])


def test_cli_excel(saved, tmp_path):  # noqa: F811
    out = tmp_path / "finance" / "plan.xlsx"
    done = simplan("excel", saved / "plan", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"workbook written to {out}" in done.stdout
    assert load_workbook(out).sheetnames[0] == "summary"
    assert [p.name for p in out.parent.iterdir()] == ["plan.xlsx"]


def test_a_run_in_memory_is_written_too(plan_book, tmp_path):
    _, results = plan_book
    book = load_workbook(write_workbook(results, tmp_path / "memory.xlsx"))
    assert book.sheetnames[1] == "budget"
    assert rows(book["about"])["made from"] == ["tables in memory (not saved)"]

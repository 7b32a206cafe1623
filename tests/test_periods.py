"""Periods as the business has them (rules, tables, windows) and a plan clock of its own."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
import yaml

from simplan import simulate
from simplan.analysis.behaviour_fit import period_table as behaviour_periods
from simplan.analysis.calibrate import Calibrator
from simplan.errors import ConfigError, SimplanError
from simplan.history import read_opportunities, read_targets
from simplan.model.calendar import build_calendar
from simplan.model.periods import parse_periods, period_table, resolve_window
from simplan.scenario import deep_merge, load_periods, load_scenario, read_yaml

from .conftest import DATA, ROOT, run_cli
from .corpus import FISCAL, FISCAL_AS_OF, fiscal_export, fiscal_plan

D = dt.date


def _days(first: str, last: str) -> pd.DatetimeIndex:
    return pd.date_range(first, last, freq="D")


def _every_day_in_exactly_one_period(periods, first: str, last: str) -> None:
    days = _days(first, last)
    index = periods.index(days)
    assert (index >= 0).all()
    starts, stops = periods.start[index], periods.stop[index]
    day = days.values.astype("datetime64[D]")
    assert ((starts <= day) & (day < stops)).all()
    assert (periods.start[1:] == periods.stop[:-1]).all(), "contiguous, no overlap"


def test_13_week_quarters_start_on_the_fiscal_monday():
    periods = parse_periods("13-week:2025-01-06")
    assert periods.window("FY2025-Q1") == (D(2025, 1, 6), 91)
    assert periods.window("FY2025-Q2") == (D(2025, 4, 7), 91)
    assert periods.window("FY2025-Q4") == (D(2025, 10, 6), 91)
    # The next year starts on the Monday nearest 6 January: 5 January 2026.
    assert periods.window("FY2026-Q1") == (D(2026, 1, 5), 91)
    assert {periods.first_day(i).weekday() for i in range(len(periods))} == {0}
    # 2028 starts on 3 January and 2029 on 8 January: a 53-week year, its extra week in Q4.
    assert periods.window("FY2028-Q1")[0] == D(2028, 1, 3)
    assert periods.window("FY2028-Q4") == (D(2028, 10, 2), 98)
    assert periods.window("FY2029-Q1")[0] == D(2029, 1, 8)
    _every_day_in_exactly_one_period(periods, "2020-01-01", "2032-12-31")
    # Salesforce-style fiscal quarters: 31 March 2025 is in Q1, 7 April in Q2 (not calendar Q2).
    assert list(periods.label_of(["2025-01-05", "2025-04-06", "2025-04-07"])) == [
        "FY2024-Q4",
        "FY2025-Q1",
        "FY2025-Q2",
    ]


@pytest.mark.parametrize(
    ("rule", "weeks"),
    [("4-4-5", (4, 4, 5)), ("4-5-4", (4, 5, 4)), ("5-4-4", (5, 4, 4))],
)
def test_fiscal_months_follow_their_week_pattern(rule, weeks):
    periods = parse_periods(f"{rule}:2025-01-06")
    first = periods.position("FY2025-P01")
    lengths = periods.length_days[first : first + 12]
    assert list(lengths) == [7 * w for w in weeks * 4]
    assert periods.first_day(first) == D(2025, 1, 6)
    assert periods.last_day(first + 11) == D(2026, 1, 4)
    # The 53-week year puts its extra week in the last month.
    p12 = periods.position("FY2028-P12")
    assert periods.length_days[p12] == 7 * weeks[-1] + 7
    _every_day_in_exactly_one_period(periods, "2024-01-01", "2030-12-31")


def test_calendar_months_and_quarters_label_as_pandas_does():
    months, quarters = parse_periods("month"), parse_periods("quarter")
    days = _days("2023-11-20", "2026-02-10")
    assert list(months.label_of(days)) == list(days.to_period("M").astype(str))
    assert list(quarters.label_of(days)) == list(days.to_period("Q").astype(str))
    assert quarters.window("2026Q1") == (D(2026, 1, 1), 90)
    _every_day_in_exactly_one_period(months, "2020-01-01", "2030-12-31")


def test_a_bad_rule_or_label_says_what_is_allowed():
    with pytest.raises(SimplanError, match="unknown rule; use month, quarter, 4-4-5:DATE"):
        parse_periods("fortnight")
    with pytest.raises(SimplanError, match="needs the first day of one fiscal year"):
        parse_periods("13-week")
    with pytest.raises(SimplanError, match="is not a date; write it as YYYY-MM-DD"):
        parse_periods("4-4-5:2025-13-01")
    with pytest.raises(SimplanError, match=r"'2026Q1' is not in .*did you mean FY2026-Q1"):
        parse_periods("13-week:2025-01-06").window("2026Q1")
    assert parse_periods("quarter").window("2026q1") == (D(2026, 1, 1), 90)


TABLE = """period,start,end
P1,2025-01-06,2025-02-02
P2,2025-02-03,2025-03-02
P3,2025-03-03,2025-04-06
"""


def test_a_period_table_reads_as_periods(tmp_path):
    path = tmp_path / "periods.csv"
    path.write_text(TABLE)
    periods = load_periods(str(path))
    assert periods.labels == ("P1", "P2", "P3")
    assert list(periods.length_days) == [28, 28, 35]
    assert periods.window("P3") == (D(2025, 3, 3), 35)
    assert list(periods.index(["2025-01-05", "2025-03-02", "2025-04-07"])) == [-1, 1, -1]
    with pytest.raises(SimplanError, match=r"not in the period table \(P1, P2, P3\)"):
        periods.window("P4")


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            "P1,2025-01-06,2025-02-02\nP2,2025-02-05,2025-03-02\n",
            r"row 3 starts 2025-02-05 but row 2 ends 2025-02-02: a gap of 2 day\(s\).*"
            r"start row 3 on 2025-02-03",
        ),
        (
            "P1,2025-01-06,2025-02-02\nP2,2025-02-01,2025-03-02\n",
            r"row 3 starts 2025-02-01, before row 2 ends \(2025-02-02\): periods overlap",
        ),
        ("P1,2025-01-06,2025-02-31\n", r"row 2: end = '2025-02-31' is not a date"),
        ("P1,2025-02-06,2025-02-01\n", r"row 2: end 2025-02-01 is before start 2025-02-06"),
        ("P1,2025-01-06,2025-02-02\nP1,2025-02-03,2025-03-02\n", "row 3: period 'P1' is also"),
    ],
)
def test_a_bad_period_table_names_the_file_and_row(tmp_path, rows, problem):
    path = tmp_path / "periods.csv"
    path.write_text("period,start,end\n" + rows)
    with pytest.raises(ConfigError, match=problem) as caught:
        load_periods(str(path))
    assert str(path) in str(caught.value)


def test_a_period_table_without_its_columns_says_which(tmp_path):
    path = tmp_path / "periods.csv"
    path.write_text("label,from,to\nP1,2025-01-06,2025-02-02\n")
    with pytest.raises(ConfigError, match="missing column"):
        load_periods(str(path))


def test_resolve_window_takes_a_label_or_a_start_and_days():
    quarters = parse_periods("quarter")
    assert resolve_window(quarters) is None
    assert resolve_window(quarters, "2025Q4") == (D(2025, 10, 1), 92)
    assert resolve_window(None, start=D(2026, 1, 5), days=91) == (D(2026, 1, 5), 91)
    with pytest.raises(SimplanError, match="not both"):
        resolve_window(quarters, "2025Q4", start=D(2025, 10, 1))
    with pytest.raises(SimplanError, match="--start needs --days"):
        resolve_window(quarters, start=D(2025, 10, 1))
    with pytest.raises(SimplanError, match="pass --calendar"):
        resolve_window(None, "2025Q4")


def test_inline_rows_are_checked_too():
    with pytest.raises(SimplanError, match="row 2 starts 2025-02-04"):
        period_table(
            [
                {"period": "a", "start": "2025-01-06", "end": "2025-02-02"},
                {"period": "b", "start": "2025-02-04", "end": "2025-03-02"},
            ]
        )


def _scenario_file(write_yaml, name: str, changes: dict):
    data = deep_merge(read_yaml(DATA / "small.yaml"), changes)
    return write_yaml(name, data)


def test_a_scenario_names_its_period_table_relative_to_itself(tmp_path, write_yaml):
    (tmp_path / "fiscal.csv").write_text(
        TABLE + "P4,2025-04-07,2025-05-04\nP5,2025-05-05,2025-06-01\n"
    )
    calendar = {"start": "2025-03-03", "days": 60, "warmup_days": 14, "periods": "fiscal.csv"}
    path = _scenario_file(write_yaml, "fiscal.yaml", {"calendar": calendar})
    scenario = load_scenario(path)
    assert [row.period for row in scenario.calendar.periods] == ["P1", "P2", "P3", "P4", "P5"]
    cal = build_calendar(scenario.calendar)
    assert cal.plan_period.labels == ("P2", "P3", "P4")
    assert list(cal.plan_period.coverage) == [0.0, 1.0, 25 / 28]
    # Runs past the table's last day are refused, naming the uncovered days.
    late = _scenario_file(write_yaml, "late.yaml", {"calendar": {**calendar, "days": 120}})
    with pytest.raises(
        ConfigError,
        match=r"the run \(warm-up included\) runs from 2025-02-17 to 2025-06-30, but the periods \(table\) cover only 2025-01-06 to 2025-06-01",
    ):
        load_scenario(late)


def test_fiscal_rule_in_a_scenario_and_its_window(write_yaml):
    path = _scenario_file(
        write_yaml, "fy.yaml", {"calendar": {"periods": "13-week:2025-01-06", "days": 30}}
    )
    scenario = load_scenario(path).with_window("FY2025-Q4")
    assert (scenario.calendar.start, scenario.calendar.days) == (D(2025, 10, 6), 91)
    cal = build_calendar(scenario.calendar)
    assert cal.plan_period.labels == ("FY2025-Q3", "FY2025-Q4")  # the warm-up is in Q3
    assert cal.plan_period.coverage[-1] == 1.0


QUARTERLY_QUOTA = 180_000.0
MONTHLY_PLAN = {
    "clock": "month",
    "components": [
        {"type": "base_commission", "rate": 0.05},
        {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 500}]},
    ],
}


@pytest.fixture(scope="module")
def monthly_plan_on_a_quarter(tmp_path_factory):
    """The small team over Q4 2025 with a quarterly quota, paid by a monthly plan."""
    changes = {
        "calendar": {"start": "2025-10-01", "days": 92, "period": "quarter"},
        "team": {"size": 6, "quota": {"per_period": QUARTERLY_QUOTA}},
        "plan": MONTHLY_PLAN,
    }
    path = tmp_path_factory.mktemp("periods") / "monthly.yaml"
    path.write_text(yaml.safe_dump(deep_merge(read_yaml(DATA / "small.yaml"), changes)))
    return simulate(load_scenario(path), replications=1, workers=1)


def test_a_monthly_plan_on_a_quarterly_scenario_pays_per_month(monthly_plan_on_a_quarter):
    results = monthly_plan_on_a_quarter
    months = ["2025-10", "2025-11", "2025-12"]
    reps, statements = results.reps, results.statements
    assert sorted(reps["period"].unique()) == months
    assert sorted(statements["period"].unique()) == months
    # Each month's target is the quarter's spread over its days; the months sum to the quarter.
    target = reps.pivot(index="rep_id", columns="period", values="target")
    np.testing.assert_allclose(target["2025-10"], target.sum(axis=1) * 31 / 92)
    np.testing.assert_allclose(target["2025-11"], target.sum(axis=1) * 30 / 92)
    veterans = reps[reps["tenure"] == "veteran"].groupby("rep_id")["target"].sum()
    np.testing.assert_allclose(veterans, QUARTERLY_QUOTA)
    # The plan ran on those monthly targets: the bonus is paid exactly where a month's
    # attainment reached 1, and each rep-month's payout is its statement lines.
    bonus = statements[(statements["component"] == "attainment_bonus") & (statements["amount"] > 0)]
    paid = set(zip(bonus["rep_id"], bonus["period"], strict=True))
    hit = reps[reps["attainment"] >= 1]
    reached = set(zip(hit["rep_id"], hit["period"], strict=True))
    assert reached, "some rep-months reach their monthly target"
    assert paid == reached, "the bonus is paid where, and only where, a month's target is reached"
    by_cell = reps.set_index(["rep_id", "period"])
    lines = statements.groupby(["rep_id", "period"])["amount"].sum()
    np.testing.assert_allclose(by_cell["payout"], lines.reindex(by_cell.index).fillna(0.0))


def test_quarterly_targets_from_monthly_quotas_are_summed(write_yaml):
    path = _scenario_file(write_yaml, "q.yaml", {"calendar": {"start": "2025-10-01", "days": 92}})
    scenario = load_scenario(path)
    cal = build_calendar(scenario.calendar, plan_clock="quarter")
    assert cal.plan_period.labels == ("2025Q3", "2025Q4")  # warm-up days are in Q3
    # 60,000 a month (small.yaml): Q3 and Q4 targets are three months' quotas each.
    np.testing.assert_allclose(cal.quota_share, [3.0, 3.0])
    same = build_calendar(scenario.calendar)
    assert same.plan_period.labels[-3:] == ("2025-10", "2025-11", "2025-12")
    assert (same.quota_share == 1.0).all()


def test_a_monthly_plan_under_fiscal_quarters_spreads_the_quota_by_day(write_yaml):
    calendar = {
        "start": "2025-01-06",
        "days": 91,
        "warmup_days": 0,
        "periods": "13-week:2025-01-06",
    }
    scenario = load_scenario(_scenario_file(write_yaml, "fq.yaml", {"calendar": calendar}))
    cal = build_calendar(scenario.calendar, plan_clock="month")
    assert cal.plan_period.labels == ("2025-01", "2025-02", "2025-03", "2025-04")
    # January: 5 days of FY2024-Q4 (91 days) and 26 of FY2025-Q1 (91 days).
    np.testing.assert_allclose(cal.quota_share, [31 / 91, 28 / 91, 31 / 91, 30 / 91])


def test_the_shipped_baseline_compares_with_a_shipped_proposal(capsys, tmp_path):
    code, out, err = run_cli(
        capsys,
        "compare",
        ROOT / "scenarios" / "baseline_quarter.yaml",
        ROOT / "scenarios" / "proposals" / "gate80_cap150.yaml",
        "--replications", "2", "--workers", "1", "--quiet", "--out", tmp_path / "cmp",
    )  # fmt: skip
    assert code == 0, err
    assert "proposal minus baseline_quarter" in out
    reps = pd.read_parquet(tmp_path / "cmp" / "runs" / "gate80_cap150" / "reps.parquet")
    assert sorted(reps["period"].unique()) == ["2025-10", "2025-11", "2025-12"]
    base = pd.read_parquet(tmp_path / "cmp" / "runs" / "baseline_quarter" / "reps.parquet")
    assert list(base["period"].unique()) == ["2025Q4"]


def test_cli_window_and_calendar_errors_exit_2_naming_the_labels(capsys):
    baseline = ROOT / "scenarios" / "baseline_quarter.yaml"
    code, _, err = run_cli(capsys, "run", baseline, "--window", "2025Q5")
    assert code == 2
    assert "did you mean 2025Q4" in err
    code, _, err = run_cli(capsys, "run", baseline, "--calendar", "fortnightly")
    assert code == 2
    assert "not a file, nor a known rule" in err
    code, _, err = run_cli(capsys, "run", baseline, "--start", "2025-10-01")
    assert code == 2
    assert "--start needs --days" in err


def _targets_file(tmp_path, rows: str):
    path = tmp_path / "targets.csv"
    path.write_text("rep_id,period,target\n" + rows)
    return path


def test_monthly_targets_sum_into_a_quarterly_plan(tmp_path):
    rows = "".join(f"a,2025-{m:02d},{100 * m}\nb,2025-{m:02d},50\n" for m in range(1, 6))
    targets = read_targets(_targets_file(tmp_path, rows), "quarter")
    # Q2 has only April and May: not a whole quarter, so no target for it.
    assert targets["period"].tolist() == ["2025Q1"] * 2  # the plan clock's labels
    assert dict(zip(targets["rep_id"], targets["target"], strict=True)) == {"a": 600, "b": 150}


def test_quarterly_targets_spread_over_a_monthly_plan_by_days(tmp_path):
    targets = read_targets(_targets_file(tmp_path, "a,2025Q1,90000\n"), "month")
    assert targets["period"].astype(str).tolist() == ["2025-01", "2025-02", "2025-03"]
    np.testing.assert_allclose(targets["target"], [31_000, 28_000, 31_000])


def test_targets_per_fiscal_quarter_on_a_calendar_quarter_plan(tmp_path):
    rows = "".join(f"a,FY2025-Q{q},91000\n" for q in range(1, 5))
    fiscal = parse_periods("13-week:2025-01-06")
    targets = read_targets(_targets_file(tmp_path, rows), "quarter", fiscal)
    # FY2025 runs 6 January 2025 to 4 January 2026 at 1,000 a day: calendar Q1 misses its
    # first five days, so only Q2 to Q4 get targets, one per day they hold.
    assert targets["period"].astype(str).tolist() == ["2025Q2", "2025Q3", "2025Q4"]
    np.testing.assert_allclose(targets["target"], [91_000, 92_000, 92_000])
    with pytest.raises(SimplanError, match="is not a quarter"):
        read_targets(_targets_file(tmp_path, rows), "quarter")


def test_targets_on_the_plan_clock_are_read_as_written(tmp_path):
    targets = read_targets(_targets_file(tmp_path, "a,2025Q1,90000\na,2025Q2,1\n"), "quarter")
    assert targets["target"].tolist() == [90_000, 1]


def test_calibrate_takes_its_forecast_window_from_the_calendar(tmp_path, capsys):
    out = tmp_path / "calibrated.yaml"
    code, _, err = run_cli(
        capsys, "calibrate", DATA / "maven_crm" / "sales_pipeline.csv", "--preset", "maven_crm",
        "--min-rep-deals", "3", "--out", out, "--calendar", "13-week:2018-01-01",
        "--window", "FY2018-Q2", "--no-behaviour",
    )  # fmt: skip
    assert code == 0, err
    calendar = load_scenario(out).calendar
    assert (calendar.start, calendar.days) == (D(2018, 4, 2), 91)
    code, _, err = run_cli(
        capsys, "calibrate", DATA / "maven_crm" / "sales_pipeline.csv", "--preset", "maven_crm",
        "--out", tmp_path / "other.yaml", "--window", "FY2018-Q2",
    )  # fmt: skip
    assert code == 2
    assert "'FY2018-Q2' is not in the periods 'quarter'" in err


def test_sprints_can_follow_the_fiscal_quarters(write_yaml):
    calendar = {
        "start": "2025-01-06",
        "days": 182,
        "warmup_days": 0,
        "periods": "13-week:2025-01-06",
        "sprint": {"every": "period"},
    }
    cal = build_calendar(
        load_scenario(_scenario_file(write_yaml, "s.yaml", {"calendar": calendar})).calendar
    )
    phase = dict(zip(cal.dates.strftime("%Y-%m-%d"), cal.phase, strict=True))
    # Build / burst / close-out are 30 / 50 / 20 % of each 91-day fiscal quarter.
    assert [phase[d] for d in ("2025-01-06", "2025-04-06", "2025-04-07", "2025-07-06")] == [
        1, 3, 1, 3,
    ]  # fmt: skip
    assert (cal.phase == 3).sum() == 2 * 18  # days 73..90 of each: position >= 0.8


def test_baseline_and_forecast_windows_follow_the_fiscal_quarters():
    fiscal = parse_periods("13-week:2025-01-06")
    # An export of 4 January 2026 ends FY2025 (the calendar quarter would say 2026Q1).
    assert fiscal.trailing(D(2026, 1, 4), 4) == (D(2025, 1, 6), D(2026, 1, 4))
    assert fiscal.following(D(2026, 1, 4)) == (D(2026, 1, 5), 91)
    assert parse_periods("quarter").following(D(2026, 1, 4)) == (D(2026, 4, 1), 91)
    table = period_table([{"period": "P1", "start": "2025-01-06", "end": "2025-02-02"}])
    with pytest.raises(SimplanError, match="no period follows 2025-01-10"):
        table.following(D(2025, 1, 10))
    with pytest.raises(SimplanError, match="2024-12-31 is in no period"):
        table.trailing(D(2024, 12, 31), 1)


def test_the_behaviour_fit_cuts_pace_at_the_13_week_quarters(tmp_path):
    """On the 13-week corpus truth (fiscal quarters from Monday 8 January 2024) under a plan
    paying per those quarters (`clock: period`) the behaviour fit's pace cells are cut at the
    fiscal quarters: two whole 13-week quarters per rep, where a plan paying per calendar
    quarter keeps only 2024Q2 (Q1 starts before the history)."""
    window = (pd.Timestamp("2024-01-08"), pd.Timestamp(FISCAL_AS_OF))
    fiscal = parse_periods(FISCAL["13-week"])
    table = behaviour_periods(window, fiscal)
    assert table["period"].tolist() == ["FY2024-Q1", "FY2024-Q2"]
    assert table["start"].dt.strftime("%Y-%m-%d").tolist() == ["2024-01-08", "2024-04-08"]
    assert table["end"].dt.strftime("%Y-%m-%d").tolist() == ["2024-04-07", "2024-07-07"]
    assert behaviour_periods(window, "quarter")["period"].tolist() == ["2024Q2"]
    path = tmp_path / "13-week.csv"
    fiscal_export("13-week").to_csv(path, index=False)
    plan = fiscal_plan()
    fitted = Calibrator(
        periods=2, calendar=fiscal, behaviour_grid={"shares": (0.3,), "curvatures": (2.0,), "closings": (0.0,), "sights": (1.0,)},
        behaviour_replications=2, fit_check_replications=0, workers=1,
    ).fit(read_opportunities(path, as_of=FISCAL_AS_OF), plan=plan)  # fmt: skip
    grid = fitted.report_.tables["behaviour"]
    # Pace is judged in weeks 1..11 of each 13-week quarter, for each rep: 8 x 2 x 11 cells.
    reps = len(fitted.scenario_.team.roster)
    assert reps == 8
    np.testing.assert_allclose(grid.filter(like="count[").sum(axis=1), reps * 2 * 11)

"""The corpus of awkward exports (tests/corpus): each one's history check names its problems
and nothing else, calibrate and the check agree, and the calibrated scenario passes its fit
check and comes back to what the clean export of the same truth gives; exports of a team on
4-4-5 and 13-week fiscal periods are bucketed, fitted and forecast by those periods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simplan.analysis.backtest import backtest
from simplan.analysis.calibrate import Calibrator
from simplan.history import prepare, read_opportunities
from simplan.history.readiness import findings
from simplan.model.periods import parse_periods
from simplan.model.plan import Plan

from .conftest import run_cli
from .corpus import (
    AS_OF,
    EXPORTS,
    FISCAL,
    FISCAL_AS_OF,
    FISCAL_PHASES,
    STALE_CUT,
    fiscal_export,
    fiscal_plan,
    stale_pipeline_export,
    stale_truth_quarter,
    truth_export,
)
from .corpus.walkthrough import write_export

ITEMS = (
    "owners missing", "amounts missing", "lost deals without a close date", "extreme amounts",
    "months without new leads", "one rep with an outsized share", "closed deals only",
)  # fmt: skip


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The clean export and each spoiled one, written as CSV."""
    folder = tmp_path_factory.mktemp("corpus")
    clean = truth_export()
    return {name: write_export(name, folder, clean) for name in ("clean", *EXPORTS)}


def calibrate(path, **options):
    history = read_opportunities(path, as_of=AS_OF)
    return history, Calibrator(periods=2, fit_check_replications=4, workers=1, **options).fit(
        history
    )


@pytest.fixture(scope="module")
def clean(files):
    return calibrate(files["clean"])[1]


@pytest.mark.parametrize("name", EXPORTS)
def test_history_check_names_each_problem_and_nothing_else(name, files, capsys):
    case = EXPORTS[name]
    options = ["--impute-amounts"] if case.read.get("impute_amounts") else []
    code, stdout, stderr = run_cli(
        capsys, "history", "check", files[name], "--as-of", AS_OF, *options
    )
    assert code == 0, stderr
    for item in ITEMS:
        assert (item in stdout) == (item in case.findings), (item, stdout)
    history = read_opportunities(files[name], as_of=AS_OF)
    text = " ".join(f.text for f in findings(history, prepare(history), **_imputed(case)))
    for fragment in case.said:
        assert fragment in text


def _imputed(case) -> dict:
    return {"imputed": True} if case.read.get("impute_amounts") else {}


@pytest.mark.parametrize("name", EXPORTS)
def test_calibrated_from_each_export_fits_its_history_and_the_truth(name, files, clean):
    case = EXPORTS[name]
    history, fitted = calibrate(files[name], **case.read)
    prepared = prepare(history, impute_amounts=bool(case.read.get("impute_amounts")))
    assert fitted.findings_ == findings(history, prepared, **_imputed(case))  # never disagree
    check = fitted.fit_check_
    assert check.passed, check.warning()
    assert len(check.table) >= 20
    got = fitted.params_.set_index("parameter")["value"]
    want = clean.params_.set_index("parameter")["value"]
    frame = pd.read_csv(files[name])
    for tier in ("A", "B"):
        rate = f"tier.{tier}.arrivals_per_day"
        assert got[rate] == pytest.approx(want[rate], rel=0.06), rate
        win = f"tier.{tier}.win_probability"
        assert got[win] == pytest.approx(want[win], abs=0.05), win
        size = f"tier.{tier}.deal_size_mean"
        known = frame[(frame["tier"] == tier) & (frame["outcome"] == "won")]["amount"].notna()
        # three standard errors of a mean of `known` amounts with a cv up to 0.6
        assert got[size] == pytest.approx(want[size], rel=3 * 0.6 / np.sqrt(known.sum())), size
    # months missing what is still open (closed-only) or unowned are not a period effect
    spread = "team.arrivals_period_sd"
    assert got[spread] == pytest.approx(want[spread], abs=0.03), (got[spread], want[spread])


def test_clean_export_recovers_the_truth(clean):
    """The reference every spoiled export is held to is itself near the truth."""
    got = clean.params_.set_index("parameter")["value"]
    tiers = clean.scenario_data_["leads"]["tiers"]
    sizes = {t["name"]: t["deal_size"]["mean"] for t in tiers}
    assert sizes["A"] == pytest.approx(20000, rel=0.15)
    assert sizes["B"] == pytest.approx(5000, rel=0.15)
    share = got[[f"rep.rep{i}.lead_share" for i in range(8)]]
    assert share.sum() == pytest.approx(1.0)
    assert clean.fit_check_.passed, clean.fit_check_.warning()


def test_calibrate_command_on_an_awkward_export(files, tmp_path, capsys):
    """calibrate prints the findings and the fit check, writes the scenario, then the report."""
    out, report = tmp_path / "team.yaml", tmp_path / "report"
    code, stdout, stderr = run_cli(
        capsys, "calibrate", files["owners_only_on_won"], "--as-of", AS_OF, "--out", out,
        "--report", report, "--periods", "2", "--fit-check", "3", "--workers", "1",
    )  # fmt: skip
    assert code == 0, stderr
    assert "owners missing" in stdout
    assert "fit check" in stdout
    assert stdout.index("scenario written") < stdout.index("report written")
    table = pd.read_csv(report / "fit_check.csv")
    assert {"metric", "key", "history", "low", "high", "inside"} <= set(table.columns)


@pytest.mark.parametrize(
    ("rule", "periods", "first_period", "window_days"),
    [("13-week", 2, "FY2024-Q1 (2024-01-08 .. 2024-04-07)", 91),
     ("4-4-5", 6, "FY2024-P01 (2024-01-08 .. 2024-02-04)", 28)],
)  # fmt: skip
def test_fiscal_periods_bucket_fit_and_forecast(rule, periods, first_period, window_days,
                                                tmp_path, capsys):  # fmt: skip
    """A team on fiscal periods: history check names them, calibrate's baseline is the last
    fiscal periods and its arrival phases follow them (the truth's 1.3 / 1.0 / 0.7 build,
    burst and close-out multipliers come back), the fit check holds, and the default forecast
    window is the next fiscal period (FY2024-Q3, 91 days; FY2024-P07, 4 weeks)."""
    path = tmp_path / f"{rule}.csv"
    fiscal_export(rule).to_csv(path, index=False)
    code, stdout, stderr = run_cli(
        capsys, "history", "check", path, "--as-of", FISCAL_AS_OF, "--calendar", FISCAL[rule]
    )
    assert code == 0, stderr
    assert first_period in stdout
    calendar = parse_periods(FISCAL[rule])
    history = read_opportunities(path, as_of=FISCAL_AS_OF)
    fitted = Calibrator(
        periods=periods, calendar=calendar, fit_check_replications=4, workers=1
    ).fit(history)
    assert fitted.fit_check_.passed, fitted.fit_check_.warning()
    assert any(
        note.startswith(f"baseline: the last {periods} periods of {FISCAL[rule]} up to "
                        "2024-07-07, from 2024-01-08")
        for note in fitted.report_.notes
    )  # fmt: skip
    scenario = fitted.scenario_.calendar
    assert (str(scenario.start), scenario.days) == ("2024-07-08", window_days)
    assert scenario.periods == FISCAL[rule]
    assert scenario.sprint.every == "period"
    phase = fitted.params_.set_index("parameter")["value"]
    scale = np.mean([phase[f"phase.{name}"] / m for name, m in FISCAL_PHASES.items()])
    for name, multiplier in FISCAL_PHASES.items():
        assert phase[f"phase.{name}"] / scale == pytest.approx(multiplier, abs=0.12), name


def test_calibrate_with_a_plan_paying_per_fiscal_period(tmp_path, capsys):
    """A 4-4-5 team whose plan pays per fiscal month (`clock: period`) and whose targets file
    is written per fiscal month: calibrate runs end to end, each rep's quota is their own
    target for the forecast's month (FY2024-P07), the behaviour fit's attainment is measured
    against each rep's own target in each fiscal month of the baseline, and the fit check's
    on those months against the quota."""
    rule = FISCAL["4-4-5"]
    calendar = parse_periods(rule)
    path, targets_path = tmp_path / "fiscal.csv", tmp_path / "targets.csv"
    fiscal_export("4-4-5").to_csv(path, index=False)
    labels = [f"FY2024-P{p:02d}" for p in range(1, 8)]
    own = {f"rep{i}": 60000 + 10000 * i for i in range(8)}
    target = {(rep, label): base * (1 + 0.05 * p) for rep, base in own.items()
              for p, label in enumerate(labels)}  # fmt: skip
    pd.DataFrame(
        [(rep, label, value) for (rep, label), value in target.items()],
        columns=["rep_id", "period", "target"],
    ).to_csv(targets_path, index=False)
    history = read_opportunities(
        path, as_of=FISCAL_AS_OF, targets=targets_path, clock="period", calendar=calendar
    )
    assert history.targets["period"].tolist()[:2] == labels[:2]  # labels, as on every clock
    plan = fiscal_plan()
    fitted = Calibrator(
        periods=6, calendar=calendar, behaviour_grid={"shares": (0.3,), "curvatures": (2.0,), "closings": (0.0,)},
        behaviour_replications=2, fit_check_replications=3, workers=1, parameter_draws=0,
    ).fit(history, plan=plan)  # fmt: skip
    scenario = fitted.scenario_
    assert scenario.plan.clock == "period"
    assert scenario.calendar.periods == rule
    assert (str(scenario.calendar.start), scenario.calendar.days) == ("2024-07-08", 28)
    assert {r.rep_id: r.quota for r in scenario.team.roster} == pytest.approx(
        {rep: target[(rep, "FY2024-P07")] for rep in own}
    )
    won = history.deals[history.deals["outcome"] == "won"]
    booked = won.groupby([won["rep_id"], calendar.label_of(won["close_date"])])["amount"].sum()

    def attainment(quota) -> np.ndarray:
        return np.array([booked.get((rep, label), 0.0) / quota(rep, label)
                         for rep in own for label in labels[:6]])  # fmt: skip

    own_targets = attainment(lambda rep, label: target[(rep, label)])
    actual = fitted.behaviour_.actual
    assert actual["attainment_p50"] == pytest.approx(np.percentile(own_targets, 50))
    assert actual["share_at_target"] == pytest.approx((own_targets >= 1).mean())
    table = fitted.fit_check_.table.set_index(["metric", "key"])["history"]
    at_quota = attainment(lambda rep, label: target[(rep, "FY2024-P07")])
    assert table[("attainment", "P50")] == pytest.approx(np.quantile(at_quota, 0.5))
    assert table[("share at target", "reps x periods")] == pytest.approx((at_quota >= 1).mean())
    code, _, stderr = run_cli(
        capsys, "calibrate", path, "--as-of", FISCAL_AS_OF, "--plan", _plan_file(tmp_path, plan),
        "--out", tmp_path / "team.yaml", "--periods", "6", "--fit-check", "0",
        "--no-behaviour", "--draws", "0", "--workers", "1",
    )  # fmt: skip
    assert code == 2
    assert "--calendar" in stderr  # a plan paying per fiscal period needs the periods


def _plan_file(folder, plan: Plan):
    path = folder / "plan.yaml"
    path.write_text(yaml.safe_dump(plan.model_dump(mode="json", by_alias=True)))
    return path


def test_a_stale_open_pipeline_does_not_inflate_the_next_quarter(tmp_path):
    """A team whose export holds, besides its live deals, a quarter of leads that never close:
    at the cut (2024-06-30) nearly every deal open for over 60 days is one of those and never
    wins. Fitted on the history up to the cut, the forecast of July..September books what the
    truth books on average (its mean over 20 worlds), within 2.5 standard errors made of the
    truth's mean, the forecast's median and the fit's own error (a compound-Poisson total of
    the won deals it was fitted on); the quarter the export saw lies in the 90 % interval; and
    the pipeline the simulation inherits wins no more of its old deals than the real one."""
    path = tmp_path / "stale.csv"
    stale_pipeline_export().to_csv(path, index=False)
    history = read_opportunities(path, as_of="2024-09-30")
    runs = 20
    result = backtest(
        history, STALE_CUT, horizon="1q", replications=runs, parameter_draws=10, workers=1,
        calibrator=Calibrator(periods=2),
    )  # fmt: skip
    stale = result.calibrator.params_.set_index("parameter")["value"].filter(like="stale_share")
    assert (stale > 0.15).all(), stale  # a quarter of the leads never close
    total = result.metrics.set_index(["group", "key"]).loc[("total", "bookings")]
    assert total["in90"]
    worlds = stale_truth_quarter(runs)
    trained = history.deals[(history.deals["outcome"] == "won")
                            & (history.deals["close_date"] <= STALE_CUT)]  # fmt: skip
    fit_error = np.sqrt((trained["amount"] ** 2).sum()) / trained["amount"].sum()
    predicted = result.simulated.query("group == 'total' and key == 'bookings'")["value"]
    error = np.sqrt(
        worlds.var() / runs
        + predicted.var() * np.pi / (2 * runs)
        + (fit_error * worlds.mean()) ** 2
    )
    assert abs(total["p50"] - worlds.mean()) <= 2.5 * error, (total["p50"], worlds.mean(), error)
    pipeline = result.pipeline.set_index("age_days")
    old = ["61-90", "91-180", "181+"]
    assert pipeline.loc[old, "open_actual"].sum() > 500  # the stale deals
    assert pipeline.loc[old, "won_actual"].sum() <= 5
    assert pipeline.loc[old, "won_simulated"].sum() <= pipeline.loc[old, "won_actual"].sum() + 5

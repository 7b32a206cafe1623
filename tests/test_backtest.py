"""Backtest: horizons, what actually happened, the period effects its draws carry,
prediction-interval coverage near nominal on histories simplan simulated itself (under the
calibrated scenario's own `uncertainty` draws), and the command on the example CRM."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from simplan import Scenario
from simplan.analysis.backtest import _actual, backtest, horizon_end, pipeline_at_cut
from simplan.analysis.fit import period_effect_sd
from simplan.analysis.synthetic import simulated_history, write_history
from simplan.errors import SimplanError
from simplan.history import read_opportunities
from simplan.model.periods import parse_periods

from .conftest import DATA, run_cli
from .test_calibrate import TRUTH

SAMPLE = DATA / "maven_crm" / "sales_pipeline.csv"


@pytest.mark.parametrize(
    ("horizon", "end"),
    [("1q", "2017-12-31"), ("2m", "2017-11-30"), ("30d", "2017-10-30"), ("1y", "2018-09-30")],
)
def test_horizons(horizon, end):
    assert horizon_end(pd.Timestamp("2017-10-01"), horizon) == pd.Timestamp(end)


@pytest.mark.parametrize(
    ("rule", "start", "horizon", "end"),
    [
        # a fiscal quarter is 13 weeks, not three calendar months
        ("13-week:2024-01-08", "2024-04-08", "1q", "2024-07-07"),
        ("13-week:2024-01-08", "2024-04-08", "2q", "2024-10-06"),
        # cut inside a fiscal quarter: the rest of it, then the quarters asked for
        ("13-week:2024-01-08", "2024-04-01", "1q", "2024-07-07"),
        ("13-week:2024-01-08", "2024-04-08", "1y", "2026-01-04"),
        ("13-week:2024-01-08", "2024-04-08", "1m", "2024-05-07"),  # no fiscal months: calendar
        # 4-4-5: a month is a fiscal period of 4 or 5 weeks
        ("4-4-5:2024-01-08", "2024-03-04", "1m", "2024-04-07"),
        ("4-4-5:2024-01-08", "2024-02-05", "2m", "2024-04-07"),
        ("4-4-5:2024-01-08", "2024-01-08", "1q", "2024-04-07"),
        ("4-4-5:2024-01-08", "2024-03-04", "1q", "2024-07-07"),
        ("4-4-5:2024-01-08", "2024-03-04", "30d", "2024-04-02"),  # days are days
    ],
)
def test_horizons_on_a_fiscal_calendar(rule, start, horizon, end):
    """With the business's periods a horizon counts its fiscal quarters, years and periods."""
    periods = parse_periods(rule)
    assert horizon_end(pd.Timestamp(start), horizon, periods) == pd.Timestamp(end)


@pytest.mark.parametrize("horizon", ["q", "0q", "3w", "soon"])
def test_bad_horizon(horizon):
    with pytest.raises(SimplanError, match="write a count and a unit"):
        horizon_end(pd.Timestamp("2017-10-01"), horizon)


def test_actual_counts_deals_closed_in_the_window(tmp_path):
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,rep_id,created_date,close_date,amount,outcome\n"
        "d1,a,2024-01-02,2024-03-30,100,won\n"  # before the window
        "d2,a,2024-02-02,2024-04-01,200,won\n"
        "d3,b,2024-02-03,2024-05-15,300,won\n"
        "d4,b,2024-02-04,2024-05-20,0,lost\n"
        "d5,b,2024-03-04,,,open\n"
        "d6,a,2024-03-05,2024-07-01,50,won\n"  # after it
    )
    history = read_opportunities(path, today="2024-12-31")
    actual = _actual(history, pd.Timestamp("2024-04-01"), pd.Timestamp("2024-06-30"))
    assert actual["amount"].sum() == 500
    assert actual["won"].iloc[0] == 2
    assert actual["closed"].iloc[0] == 3
    assert sorted(actual["month"]) == ["2024-04", "2024-05"]


def test_pipeline_at_the_cut_by_age_actual_and_simulated(tmp_path):
    """Deals open at the end of the cut day, banded by age: the history's (what closed and
    won by the horizon's end) beside the simulated leads opened before day 0 and open then,
    per replication."""
    path = tmp_path / "deals.csv"
    path.write_text(
        "deal_id,rep_id,created_date,close_date,amount,outcome\n"
        "d1,a,2024-03-31,2024-04-10,100,won\n"  # age 0 at the cut, won in the horizon
        "d2,a,2024-03-17,2024-04-20,0,lost\n"  # age 14
        "d3,b,2024-03-16,,,open\n"  # age 15, never closes
        "d4,b,2023-10-01,2024-07-05,80,won\n"  # age 182, won after the horizon
        "d5,b,2024-03-01,2024-03-30,70,won\n"  # closed before the cut: not in the pipeline
        "d6,a,2024-04-02,2024-04-09,60,won\n"  # opened after the cut
    )
    history = read_opportunities(path, today="2024-12-31")
    simulated = pd.DataFrame(
        {
            "replication": [0, 0, 0, 1, 1],
            "created_day": [-0.5, -15.2, -40.0, -0.1, 3.0],  # ages 0, 15, 39, 0; then new
            "close_day": [5.0, np.nan, 200.0, -0.05, 4.0],  # the 4th closed before day 0
            "outcome": ["won", "open", "won", "lost", "won"],
        }
    )
    table = pipeline_at_cut(
        history, simulated, pd.Timestamp("2024-03-31"), pd.Timestamp("2024-06-30")
    ).set_index("age_days")
    assert table["open_actual"].to_dict() == {
        "0-14": 2, "15-30": 1, "31-60": 0, "61-90": 0, "91-180": 0, "181+": 1
    }  # fmt: skip
    assert table.loc["0-14", ["closed_actual", "won_actual"]].tolist() == [2, 1]
    assert table.loc["181+", ["closed_actual", "won_actual"]].tolist() == [0, 0]
    assert table.loc["0-14", ["open_simulated", "won_simulated"]].tolist() == [0.5, 0.5]
    assert table.loc["15-30", ["open_simulated", "closed_simulated"]].tolist() == [0.5, 0]
    assert table.loc["31-60", ["open_simulated", "won_simulated"]].tolist() == [0.5, 0]


def test_period_effect_sd_recovers_the_spread_beyond_count_noise():
    """60 months of counts around 1,000: a log-rate effect of sd 0.2 is recovered (the
    estimate's sd is about 0.2 / sqrt(120) = 0.018, so 0.05 is near 3 of them), its average
    over 3 independent months is sd 0.2 / sqrt(3), and pure Poisson counts give about 0."""
    rng = np.random.default_rng(3)
    effect = rng.normal(0, 0.2, 60)
    counts = rng.poisson(1000 * np.exp(effect))
    noise = 1 / counts
    assert period_effect_sd(np.log(counts), noise, 1) == pytest.approx(0.2, abs=0.05)
    assert period_effect_sd(np.log(counts), noise, 3) == pytest.approx(0.2 / np.sqrt(3), abs=0.04)
    flat = rng.poisson(1000, 60)
    assert period_effect_sd(np.log(flat), 1 / flat, 1) < 0.02
    assert period_effect_sd(np.log(flat[:3]), 1 / flat[:3], 1) == 0.0  # too few months


def test_coverage_near_nominal_on_simulated_histories(tmp_path):
    """Three histories of a known team (seeds fixed in advance): fit on three quarters,
    predict the fourth; 90 % intervals must cover 80-98 % of the 78 actual values."""
    truth = copy.deepcopy(TRUTH)
    truth["calendar"]["days"] = 365
    truth["team"]["roster"] = [
        {"rep_id": f"R{i:02d}", "tenure_days": 3650, "capacity_touches_per_day": 30, "skill": s}
        for i, s in enumerate(np.linspace(0.7, 1.3, 20))
    ]
    scenario = Scenario.model_validate(truth)
    metrics = []
    for seed in (10, 11, 12):
        path = write_history(simulated_history(scenario, seed=seed), tmp_path / f"h{seed}.csv")
        result = backtest(
            read_opportunities(path, as_of="2023-12-31"), "2023-09-30", replications=40,
            parameter_draws=4,
            seed=seed, workers=1,
        )  # fmt: skip
        assert result.window == (pd.Timestamp("2023-10-01"), pd.Timestamp("2023-12-31"))
        draws = result.calibrator.scenario_.uncertainty.draws
        assert len(draws) == 4
        assert {"leads.tiers[0].arrivals_per_day", "leads.tiers[1].win_probability",
                "team.roster[19].skill", "team.roster[0].lead_share"} <= set(draws[0])  # fmt: skip
        assert len({d["leads.tiers[0].arrivals_per_day"] for d in draws}) == 4
        metrics.append(result.metrics)
    pooled = pd.concat(metrics)
    assert len(pooled) == 3 * (3 + 3 + 20)
    assert 0.80 <= pooled["in90"].mean() <= 0.98, pooled["in90"].mean()
    assert 0.30 <= pooled["in50"].mean() <= 0.70, pooled["in50"].mean()
    ordered = (pooled["p05"] <= pooled["p25"]) & (pooled["p25"] <= pooled["p75"])
    assert (ordered & (pooled["p75"] <= pooled["p95"])).all()


def test_cli_backtest_on_the_example_crm(tmp_path, capsys):
    """The command on the example CRM, its baseline the last two 13-week fiscal quarters."""
    out = tmp_path / "backtest"
    code, stdout, stderr = run_cli(
        capsys, "backtest", SAMPLE, "--preset", "maven_crm", "--products",
        DATA / "maven_crm" / "products.csv", "--train-until", "2017-09-30",
        "--replications", "6", "--draws", "2", "--workers", "1", "--min-rep-deals", "2",
        "--calendar", "13-week:2017-01-02", "--periods", "2", "--out", out, "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    assert "coverage" in stdout
    assert "2017-10" in stdout
    coverage = pd.read_csv(out / "coverage.csv")
    assert list(coverage["group"]) == ["total", "month", "rep", "all"]
    metrics = pd.read_csv(out / "metrics.csv")
    assert {"actual", "p05", "p50", "p95", "in50", "in90"} <= set(metrics.columns)
    notes = (out / "notes.md").read_text()
    assert "baseline: the last 2 periods of 13-week:2017-01-02 up to 2017-09-30" in notes
    pipeline = pd.read_csv(out / "pipeline.csv")
    # every deal open at the end of 2017-09-30, as the export shows it
    deals = pd.read_csv(SAMPLE, parse_dates=["engage_date", "close_date"])
    cut = pd.Timestamp("2017-09-30")
    open_then = (deals["engage_date"] <= cut) & ~(deals["close_date"] <= cut)
    assert pipeline["open_actual"].sum() == open_then.sum()


def test_cli_backtest_refuses_a_date_with_nothing_after_it(tmp_path, capsys):
    out = tmp_path / "backtest"
    code, _, stderr = run_cli(
        capsys, "backtest", SAMPLE, "--preset", "maven_crm", "--train-until", "2017-12-15",
        "--out", out,
    )  # fmt: skip
    assert code == 2
    assert "less than 4 weeks after --train-until 2017-12-15" in stderr
    assert not out.exists()
    code, _, stderr = run_cli(capsys, "backtest", SAMPLE, "--preset", "maven_crm",
                          "--train-until", "2017-09-30", "--horizon", "soon")  # fmt: skip
    assert code == 2
    assert "--horizon 'soon'" in stderr

"""`simplan compare | budget | targets | thresholds` from the shell: output, files, exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

from .conftest import DATA, run_cli
from .test_cli import simplan

BEHAVIOUR = DATA / "behaviour.yaml"
FAST = ["--replications", "2", "--workers", "1"]


@pytest.fixture
def proposal(write_yaml):
    return write_yaml(
        "richer.yaml",
        {
            "extends": str(BEHAVIOUR),
            "name": "richer",
            "plan": {"clock": "month", "components": [{"type": "base_commission", "rate": 0.12}]},
        },
    )


def test_compare_prints_paired_differences_and_saves(proposal, tmp_path):
    done = simplan("compare", BEHAVIOUR, proposal, *FAST, "--quiet", "--out", tmp_path / "cmp")
    assert done.returncode == 0, done.stderr
    assert "paired on common random numbers" in done.stdout
    assert "narrower by" in done.stdout
    assert (tmp_path / "cmp" / "differences.parquet").is_file()


REPS = ["r1", "r2", "r3", "r4", "r5", "r6"]
JANUARY_TARGETS = [40000, 45000, 50000, 55000, 60000, 65000]


@pytest.fixture
def review(tmp_path, write_yaml):
    """A roster team without a plan, two plan files and next period's targets (Jan and Feb)."""
    roster = tmp_path / "reps.csv"
    pd.DataFrame(
        {"rep_id": REPS, "tenure_days": [400] * 6, "capacity_touches_per_day": [6.0] * 6}
    ).to_csv(roster, index=False)
    team = yaml.safe_load((DATA / "small.yaml").read_text())
    team["team"] = {"roster": "reps.csv"}
    commission = {"type": "base_commission", "rate": 0.05}
    bonus = {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 3000}]}
    targets = pd.DataFrame(
        {
            "rep_id": REPS * 2,
            "period": ["2026-01"] * 6 + ["2026-02"] * 6,
            "target": JANUARY_TARGETS + [70000] * 6,
        }
    )
    targets.to_csv(tmp_path / "quotas.csv", index=False)
    return {
        "team": write_yaml("team.yaml", team),
        "current": write_yaml(
            "current.yaml", {"name": "current", "clock": "month", "components": [commission]}
        ),
        "proposal": write_yaml(
            "proposal.yaml",
            {"name": "proposal", "clock": "month", "components": [commission, bonus]},
        ),
        "quotas": tmp_path / "quotas.csv",
    }


def test_compare_base_under_each_plan_on_each_reps_target_over_a_window(capsys, review, tmp_path):
    code, out, err = run_cli(
        capsys, "compare", review["team"], "--plan", review["current"], "--plan",
        review["proposal"], "--targets", review["quotas"], "--window", "2026-01", *FAST,
        "--quiet", "--out", tmp_path / "cmp",
    )  # fmt: skip
    assert code == 0, err
    assert "proposal minus current" in out
    assert "90 % predictive interval: where the period will land" in out
    assert "95 % confidence interval of the mean" in out
    meta = json.loads((tmp_path / "cmp" / "comparison.json").read_text())
    assert meta["scenarios"] == ["current", "proposal"]
    assert meta["predictive"] == 0.9
    assert meta["intervals"]["pi_low, pi_high"].startswith("90 % predictive interval")
    assert meta["intervals"]["ci_low, ci_high"].startswith("95 % confidence interval of the mean")
    for name in ("current", "proposal"):
        run = tmp_path / "cmp" / "runs" / name
        reps = pd.read_parquet(run / "reps.parquet")
        assert {"target", "bookings", "attainment", "at_target", "payout"} <= set(reps.columns)
        assert set(reps["period"]) == {"2026-01"}
        by_rep = reps.groupby("rep_id")["target"].first()
        assert by_rep.loc[REPS].tolist() == JANUARY_TARGETS
        daily = pd.read_parquet(run / "daily.parquet")
        assert str(pd.Timestamp(daily["date"].min()).date()) == "2026-01-01"
        assert str(pd.Timestamp(daily["date"].max()).date()) == "2026-01-31"
        assert sorted(pd.read_parquet(run / "runs.parquet")["replication"]) == [0, 1]
    summary = pd.read_parquet(tmp_path / "cmp" / "summary.parquet")
    assert {"pi_low", "pi_high", "ci_low", "ci_high"} <= set(summary.columns)


def test_a_base_with_a_plan_is_the_baseline_and_start_days_set_the_window(capsys, review):
    code, out, err = run_cli(
        capsys, "compare", DATA / "behaviour.yaml", "--plan", review["proposal"],
        "--start", "2026-03-02", "--days", "20", "--replications", "2", "--workers", "1",
        "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "proposal minus behaviour" in out


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ([], "at least one proposal"),
        (["--plan", "current", "--plan", "proposal", "--targets", "quotas"], "generates its team"),
        (["--plan", "current", "--plan", "proposal", "--window", "2026Q5"], "2026Q1"),
        (["--plan", "current", "--plan", "proposal", "--start", "2026-01-01"], "go together"),
        (["--plan", "current", "--plan", "proposal", "--window", "2026-01", "--days", "3"],
         "not both"),
    ],
)  # fmt: skip
def test_compare_options_refuse_bad_input(capsys, review, extra, fragment):
    args = [review.get(a, a) for a in extra]
    base = review["team"] if "quotas" not in extra else DATA / "small.yaml"
    code, _, err = run_cli(capsys, "compare", base, *args, *FAST, "--quiet")
    assert code == 2, err
    assert fragment in err
    assert "Traceback" not in err


def test_targets_name_unknown_missing_and_varying_reps(capsys, review, tmp_path):
    bad = tmp_path / "bad.csv"
    pd.DataFrame(
        {
            "rep_id": ["r1", "r2", "r2", "zz"],
            "period": ["2026-01", "2026-01", "2026-02", "2026-01"],
            "target": [1000, 1000, 2000, 1000],
        }
    ).to_csv(bad, index=False)
    code, _, err = run_cli(
        capsys, "compare", review["team"], "--plan", review["current"], "--plan",
        review["proposal"], "--targets", bad, "--start", "2026-01-15", "--days", "30", *FAST,
    )  # fmt: skip
    assert code == 2, err
    assert "'zz' not on the roster" in err
    assert "for rep_id 'r1', 'r3', 'r4', 'r5', 'r6'" in err
    assert "'r2' has different targets across 2026-01, 2026-02" in err


def test_compare_refuses_different_worlds(write_yaml):
    other = write_yaml(
        "bigger.yaml", {"extends": str(BEHAVIOUR), "name": "bigger", "team": {"size": 30}}
    )
    done = simplan("compare", BEHAVIOUR, other, *FAST)
    assert done.returncode == 2
    assert "cannot be compared" in done.stderr
    assert "team.size" in done.stderr


def test_budget_prints_quantiles_and_components(tmp_path):
    done = simplan(
        "budget", BEHAVIOUR, *FAST, "--budget", "500000", "--quiet", "--out", tmp_path / "b"
    )
    assert done.returncode == 0, done.stderr
    for text in (
        "payout P90",
        "probability of exceeding the budget",
        "rule of thumb",
        "base_commission",
    ):
        assert text in done.stdout
    assert (tmp_path / "b" / "overview.csv").is_file()


def test_targets_and_thresholds_tables_and_plot(tmp_path):
    done = simplan("targets", BEHAVIOUR, *FAST, "--levels", "0,0.2")
    assert done.returncode == 0, done.stderr
    assert "+20%" in done.stdout
    plot = tmp_path / "pareto.png"
    done = simplan(
        "thresholds", BEHAVIOUR, *FAST, "--set", "base_commission.rate=0.08,0.12", "--plot", plot
    )
    assert done.returncode == 0, done.stderr
    assert "Pareto front" in done.stdout
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["budget", BEHAVIOUR, "--confidence", "1.5"], "between 0 and 1"),
        (["budget", BEHAVIOUR, "--budget", "0"], "positive amount"),
        (["budget", DATA / "small.yaml"], "has no plan"),
        (["targets", BEHAVIOUR, "--levels", ""], "empty"),
        (["targets", BEHAVIOUR, "--levels", "a,b"], "numbers separated by commas"),
        (["targets", BEHAVIOUR, "--band", "0.9", "0.5"], "band"),
        (["thresholds", BEHAVIOUR, "--set", "rate=0.1"], "component.field"),
        (["thresholds", BEHAVIOUR, "--set", "gate.threshold=0.8"], "0 components called 'gate'"),
        (["compare", BEHAVIOUR, BEHAVIOUR, "--confidence", "0"], "between 0 and 1"),
    ],
)
def test_bad_input_exits_2_without_traceback(tmp_path, args, fragment):
    done = simplan(*args, *FAST, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stdout + done.stderr
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_pilot_prints_the_study_and_the_power_table(proposal):
    done = simplan(
        "pilot", BEHAVIOUR, proposal, *FAST, "--share", "0.5", "--uplifts", "0.3", "--shares", "0.5"
    )
    assert done.returncode == 0, done.stderr
    for text in (
        "true effect",
        "power to detect each uplift",
        "uplift 30%",
        "80% power for a 30% uplift",
    ):
        assert text in done.stdout


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--power", "1"], "between 0 and 1"),
        (["--share", "1"], "strictly between 0 and 1"),
        (["--uplifts", "x"], "numbers separated by commas"),
    ],
)
def test_pilot_bad_input(proposal, args, fragment):
    done = simplan("pilot", BEHAVIOUR, proposal, *FAST, *args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr


def test_targets_with_growth_decomposes_and_writes_it(tmp_path):
    done = simplan(
        "targets",
        BEHAVIOUR,
        *FAST,
        "--levels",
        "0",
        "--growth",
        "0.1",
        "--quiet",
        "--out",
        tmp_path / "t",
    )
    assert done.returncode == 0, done.stderr
    assert "three-way target" in done.stdout
    import pandas as pd

    table = pd.read_csv(tmp_path / "t" / "decomposition.csv")
    assert table["target"].sum() == table.groupby("quarter")["quarter_target"].first().sum()

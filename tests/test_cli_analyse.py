"""`simplan compare | budget | targets | thresholds` from the shell: output, files, exit codes."""

from __future__ import annotations

import pytest

from .conftest import DATA
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

"""The CLI: the summary and saved tables on success; exit code 2 and no traceback on user errors."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from .conftest import DATA, MINIMAL, ROOT, simplan


def simplan_process(*args, cwd=None):
    """`simplan ARGS` in a fresh interpreter: the installed entry point as a shell starts it."""
    return subprocess.run(
        [sys.executable, "-c", "from simplan.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_run_prints_summary_and_saves(tmp_path):
    out = tmp_path / "run"
    done = simplan_process("run", DATA / "small.yaml", "--replications", 2, "--quiet", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "bookings P50" in done.stdout
    assert "tables written to" in done.stdout
    assert pd.read_parquet(out / "runs.parquet")["replication"].tolist() == [0, 1]


def test_version():
    done = simplan_process("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("simplan ")


def test_validate_ok_and_bad(write_yaml):
    good = simplan("validate", ROOT / "scenarios" / "baseline_quarter.yaml")
    assert good.returncode == 0
    assert "ok" in good.stdout
    bad = write_yaml("bad.yaml", {**MINIMAL, "team": {"sise": 3}})
    done = simplan("validate", bad)
    assert done.returncode == 2
    assert "team.sise" in done.stderr
    assert "did you mean 'size'" in done.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "missing.yaml"], "file not found"),
        (["run", DATA / "small.yaml", "--replications", "0"], "--replications"),
        (["run", DATA / "small.yaml", "--workers", "-1"], "--workers"),
        (["run", DATA / "small.yaml", "--seed", "x"], "--seed"),
        (["run", DATA / "small.yaml", "--bogus"], "--bogus"),
    ],
)
def test_user_errors_exit_2_without_traceback(tmp_path, args, fragment):
    out = tmp_path / "out"
    done = simplan(*args, "--out", out)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not out.exists(), "nothing is written on a user error"


def test_bad_scenario_writes_nothing(tmp_path, write_yaml):
    bad = write_yaml(
        "bad.yaml",
        {
            **MINIMAL,
            "leads": {
                "tiers": [
                    {"name": "A", "arrivals_per_day": 1, "win_probability": 2, "deal_size": 1}
                ]
            },
        },
    )
    done = simplan("run", bad, "--out", tmp_path / "out")
    assert done.returncode == 2
    assert "leads.tiers[0].win_probability = 2" in done.stderr
    assert not (tmp_path / "out").exists()


def test_existing_output_is_refused_before_simulating(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "x").write_text("x")
    done = simplan("run", DATA / "small.yaml", "--out", out, "--quiet")
    assert done.returncode == 2
    assert "--force" in done.stderr


@pytest.mark.parametrize(
    ("plan", "fragments"),
    [
        (
            {
                "clock": "month",
                "components": [
                    {
                        "type": "tiered_commission",
                        "mode": "marginal",
                        "tiers": [
                            {"threshold": 1.5, "rate": 0.1},
                            {"threshold": 1.2, "rate": 0.15},
                        ],
                    }
                ],
            },
            ["plan.yaml", "components[0]", "increase"],
        ),
        (
            {"clock": "month", "components": [{"type": "base_commission", "rate": -0.1}]},
            ["plan.yaml", "rate", "-0.1"],
        ),
        (
            {"clock": "month", "components": [{"type": "tiered_comission", "rate": 0.1}]},
            ["plan.yaml", "tiered_commission"],
        ),
        (
            {
                "clock": "month",
                "components": [
                    {
                        "type": "project_pool",
                        "rate": 0.05,
                        "lead_share": 0.5,
                        "support_share": 0.3,
                        "fund_share": 0.3,
                    }
                ],
            },
            ["plan.yaml", "sum to 1"],
        ),
    ],
)
def test_a_bad_plan_file_exits_2_naming_the_plan_and_key(tmp_path, write_yaml, plan, fragments):
    write_yaml("plan.yaml", plan)
    scenario = write_yaml(
        "s.yaml",
        {
            **MINIMAL,
            "calendar": {**MINIMAL["calendar"], "period": "month"},
            "team": {"quota": {"per_period": 1000}},
            "plan": "plan.yaml",
        },
    )
    done = simplan("run", scenario, "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, done.stderr
    assert not (tmp_path / "out").exists()

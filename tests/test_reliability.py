"""Bad numbers, flags and output paths are user errors (exit 2, one message, nothing written),
found before any work starts (issue 14)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from simplan import load_scenario
from simplan.errors import ConfigError, SimplanError
from simplan.execution import DaskExecutor, local_executor, worker_count
from simplan.results import remove_stale_temporaries, save_atomically
from simplan.scenario import deep_merge

from .conftest import DATA, MINIMAL, ROOT, run_cli

SMALL = DATA / "small.yaml"
PLANS = ROOT / "scenarios" / "plans"
TIER = {
    "name": "A",
    "arrivals_per_day": 3,
    "win_probability": 0.3,
    "deal_size": {"dist": "lognormal", "mean": 1000, "cv": 0.5},
}


def user_error(capsys, *args) -> str:
    """Run the CLI in-process; assert exit 2 with one message and no traceback; the message."""
    code, out, err = run_cli(capsys, *args)
    assert code == 2, out + err
    assert "Traceback" not in out + err
    return err


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("arrivals_per_day: .inf", "arrivals_per_day = inf: Input should be a finite number"),
        ("arrivals_per_day: -.inf", "arrivals_per_day = -inf"),
        ("arrivals_per_day: 1.0e+400", "arrivals_per_day = inf"),
        ("arrivals_per_day: 1e400", "arrivals_per_day = '1e400': Input should be a finite"),
        ("win_probability: .nan", "win_probability = nan: Input should be a finite number"),
    ],
)
def test_non_finite_numbers_are_refused(write_yaml, text, fragment):
    key = text.split(":")[0]
    tier = "{" + ", ".join(f"{k}: {v}" for k, v in TIER.items() if k != key) + f", {text}" + "}"
    tier = tier.replace("'", "")
    path = write_yaml(
        "s.yaml", f"calendar: {{start: 2025-10-01, days: 30}}\nleads: {{tiers: [{tier}]}}\n"
    )
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    assert f"leads.tiers[0].{fragment}" in str(info.value)


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        ({"team": {"size": True}}, "team.size = True: a number is meant here, not true/false"),
        (
            {"leads": {"tiers": [{**TIER, "deal_size": {**TIER["deal_size"], "mean": False}}]}},
            "leads.tiers[0].deal_size.mean = False: a number is meant here",
        ),
        ({"simulation": {"replications": True}}, "simulation.replications = True"),
    ],
)
def test_booleans_are_refused_where_numbers_are_meant(write_yaml, override, fragment):
    with pytest.raises(ConfigError) as info:
        load_scenario(write_yaml("s.yaml", deep_merge(MINIMAL, override)))
    assert fragment in str(info.value)


def test_booleans_are_still_booleans_where_meant():
    assert load_scenario(SMALL).routing.relay.enabled is True


def test_validate_recognises_a_plan_file(capsys):
    code, out, err = run_cli(capsys, "validate", PLANS / "gate80_cap150.yaml", SMALL)
    assert code == 0, err
    assert "plan 'gate80_cap150' (5 components, month clock)" in out
    assert "scenario 'small'" in out


def test_a_bad_plan_file_is_validated_as_a_plan(capsys, write_yaml):
    path = write_yaml("p.yaml", "name: p\ncomponents: [{type: base_salary, amount: true}]\n")
    assert "components[0].amount = True: a number is meant here" in user_error(
        capsys, "validate", path
    )
    message = user_error(capsys, "run", path)
    assert "this is a plan file" in message
    assert "plan: <path>" in message


@pytest.mark.parametrize("command", ["run", "budget"])
def test_replications_above_the_limit_is_a_clean_error(capsys, tmp_path, command):
    scenario = SMALL if command == "run" else DATA / "behaviour.yaml"
    out = tmp_path / "out"
    args = [command, scenario, "--replications", 1_000_000, "--out", out]
    message = user_error(capsys, *args)
    assert "--replications 1000000" in message
    assert "less than or equal to 100000" in message
    assert "pydantic" not in message
    assert not out.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["run", SMALL],
        ["compare", SMALL, SMALL],
        ["calibrate", DATA / "maven_crm" / "sales_pipeline.csv", "--out", "x.yaml"],
        ["backtest", DATA / "maven_crm" / "sales_pipeline.csv", "--train-until", "2017-06-30"],
    ],
    ids=lambda args: args[0],
)
def test_zero_workers_is_refused_everywhere(capsys, args):
    assert "--workers" in user_error(capsys, *args, "--workers", 0)


@pytest.mark.parametrize("workers", [0, -2, True])
def test_the_library_refuses_zero_workers_too(workers):
    with pytest.raises(SimplanError, match="give 1 or more worker processes"):
        local_executor(workers)
    with pytest.raises(SimplanError, match="give 1 or more worker processes"):
        DaskExecutor("local", workers=workers)
    assert worker_count(None) == (os.cpu_count() or 1)


def unwritable(tmp_path: Path) -> list[Path]:
    """Output paths that cannot be written: under a regular file, and under /proc."""
    (tmp_path / "a_file").write_text("not a folder")
    paths = [tmp_path / "a_file" / "out"]
    if Path("/proc/self").exists():
        paths.append(Path("/proc/simplan_out"))
    return paths


def commands(out: Path, tmp_path: Path) -> list[list]:
    behaviour = DATA / "behaviour.yaml"
    pipeline = DATA / "maven_crm" / "sales_pipeline.csv"
    return [
        ["run", SMALL, "--out", out],
        ["compare", SMALL, SMALL, "--out", out],
        ["budget", behaviour, "--out", out],
        ["targets", behaviour, "--out", out],
        ["thresholds", behaviour, "--set", "base_commission.rate=0.1", "--out", out],
        ["thresholds", behaviour, "--set", "base_commission.rate=0.1", "--plot", out],
        ["report", tmp_path, "--out", out],
        ["excel", tmp_path, "--out", out],
        ["calibrate", pipeline, "--preset", "maven_crm", "--out", out],
        [
            "calibrate",
            pipeline,
            "--preset",
            "maven_crm",
            "--out",
            tmp_path / "s.yaml",
            "--report",
            out,
        ],
        [
            "backtest",
            pipeline,
            "--preset",
            "maven_crm",
            "--train-until",
            "2017-06-30",
            "--out",
            out,
        ],
    ]


def test_unwritable_outputs_are_refused_before_any_work(capsys, tmp_path):
    for out in unwritable(tmp_path):
        for args in commands(out, tmp_path):
            started = time.perf_counter()
            code, stdout, err = run_cli(capsys, *args, *(["--quiet"] if args[0] == "run" else []))
            assert code == 2, (args, stdout, err)
            assert "cannot be written" in err, (args, err)
            assert str(out) in err
            assert stdout == "", (args, stdout)  # nothing simulated, fitted or printed
            assert "Traceback" not in err
            assert time.perf_counter() - started < 30, args


def test_an_existing_directory_as_an_output_file_is_refused(capsys, tmp_path):
    assert "is a directory" in user_error(capsys, "report", tmp_path, "--out", tmp_path)


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_temporary_output_is_named_by_pid_and_stale_ones_are_cleaned(tmp_path):
    stale = tmp_path / f".run.simplan-{dead_pid()}-abc123"
    (stale / "half").mkdir(parents=True)
    live = tmp_path / f".run.simplan-{os.getppid()}-def456"  # the parent of pytest: alive
    live.mkdir()
    unrelated = tmp_path / ".run.mine"
    unrelated.mkdir()
    seen = []
    saved = save_atomically(tmp_path / "run", False, lambda tmp: seen.append(tmp.name))
    assert saved.is_dir()
    assert seen[0].startswith(f".run.simplan-{os.getpid()}-")
    assert not stale.exists()
    assert live.exists()
    assert unrelated.exists()
    assert remove_stale_temporaries(tmp_path) == []


def test_an_interrupted_save_leaves_nothing_and_says_so(tmp_path):
    class Interrupt(BaseException):
        pass

    def write(tmp: Path) -> None:
        (tmp / "deals.parquet").write_text("half")
        raise Interrupt

    with pytest.raises(Interrupt) as info:
        save_atomically(tmp_path / "run", False, write)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert "was removed" in info.value.__notes__[0]


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("not an address::", "is not a scheduler address"),
        ("tcp://127.0.0.1:1", "could not reach the Dask scheduler at tcp://127.0.0.1:1"),
    ],
)
def test_bad_scheduler_exits_2_quickly_without_a_client_traceback(address, fragment):
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from simplan.cli import main; main()",
            "run",
            SMALL,
            "--replications",
            "2",
            "--scheduler",
            address,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert fragment in done.stderr
    assert "Traceback" not in done.stderr
    assert "Exception ignored" not in done.stderr
    assert time.perf_counter() - started < 60

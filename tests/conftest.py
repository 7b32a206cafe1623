"""Shared fixtures: the small test scenario and a writer for scenario files."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import traceback
from pathlib import Path
from unittest.mock import patch

import pytest
import yaml

from simplan import load_scenario, simulate

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def pytest_configure(config):
    """In the controller of a parallel run (`-n`), before its workers start: compile the
    engines' kernels once into numba's cache. Two workers that compile one cached kernel for
    different argument types at the same moment can overwrite each other's cache entries (the
    index numbers entries by what each process read), and a worker then loads the wrong code
    ("'descr' is NULL"); warmed here, the workers load them instead. A few seconds on a warm
    cache; on a cold one, time the workers would have spent compiling the same kernels."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    from simplan.model.behaviour import BehaviourParams

    responsive = load_scenario(ROOT / "scenarios" / "proposals" / "gate80_cap150.yaml")
    optimising = responsive.model_copy(update={"behaviour": BehaviourParams(
        model="optimising", effort_levels=5, plan_in_force=responsive.plan)})  # fmt: skip
    for scenario in (responsive, optimising):
        for replications in (1, 2):  # a batch of one and of several
            simulate(scenario, replications=replications, workers=1, engine="fast")
        simulate(scenario, replications=1, workers=1, engine="events")


def pytest_collection_modifyitems(config, items):
    """The ground-truth world's tests (marked `world`: minutes each, sharing their module's
    calibration) run first, in their order. `-n` hands each worker a run of consecutive tests
    to start with, so the first worker takes a world module whole (its calibration once, not
    once per worker) while the other works through the rest; collected last, as they sort, they
    would run alone at the end with the other core idle, or split between the workers."""
    items[:] = sorted(items, key=lambda item: item.get_closest_marker("world") is None)


@pytest.fixture(scope="session")
def small_scenario():
    return load_scenario(DATA / "small.yaml")


@pytest.fixture(scope="session")
def small_results(small_scenario):
    return simulate(small_scenario, replications=3, workers=1)


@pytest.fixture
def write_yaml(tmp_path):
    """Write a mapping (or raw text) as a YAML file in tmp_path and return its path."""

    def write(name: str, content) -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        return path

    return write


def run_cli(capsys, *args):
    """Run the `simplan` command in this process: (exit code, stdout, stderr)."""
    from simplan.cli import main

    with patch.object(sys, "argv", ["simplan", *map(str, args)]):
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def simplan(*args, cwd=None) -> subprocess.CompletedProcess:
    """Run `simplan ARGS` in this process, as a shell sees it: the exit code, stdout and stderr
    (an exception that escapes `main` is a traceback on stderr and code 1, as in a process).
    A fresh interpreter spends about 5 CPU seconds importing simplan (numba's kernels, scipy,
    matplotlib) before the command starts; `main` is made to be called in-process (it puts
    back the signal handlers and hooks it sets). The entry point in a fresh process keeps its
    own tests (`test_cli.test_version`, `test_cli.test_run_prints_summary_and_saves`,
    `test_cli_payout.test_linear_plan_pays_salary_plus_ten_percent`, the signal tests)."""
    from simplan.cli import main

    argv = ["simplan", *map(str, args)]
    stdout, stderr = io.StringIO(), io.StringIO()
    with (
        patch.object(sys, "argv", argv),
        contextlib.chdir(cwd or Path.cwd()),
        contextlib.redirect_stdout(stdout),
        contextlib.redirect_stderr(stderr),
    ):
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
            if not isinstance(code, int):  # sys.exit("message"): printed, exit code 1
                print(code, file=stderr)
                code = 1
        except Exception:
            traceback.print_exc(file=stderr)
            code = 1
    return subprocess.CompletedProcess(argv, code, stdout.getvalue(), stderr.getvalue())


MINIMAL = {"calendar": {"start": "2025-10-01", "days": 30}}

"""Stopping a run (SIGTERM, SIGINT, SIGKILL) leaves no worker process and no temporary
directory behind, says what it stopped, and exits promptly with 143 / 130 (issue 14)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from .conftest import DATA, ROOT, run_cli

BASELINE = ROOT / "scenarios" / "baseline_quarter.yaml"


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def workers_of(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def gone(processes: list[psutil.Process]) -> bool:
    return not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def start_run(out: Path) -> tuple[subprocess.Popen, list[psutil.Process]]:
    """A `simplan run` with two workers, once both workers are busy."""
    args = ["run", BASELINE, "--replications", 60, "--workers", 2, "--quiet", "--out", out]
    run = subprocess.Popen(
        [sys.executable, "-c", "from simplan.cli import main; main()", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert wait_for(lambda: len(workers_of(run.pid)) >= 2, 120), "the workers never started"
    workers = workers_of(run.pid)
    time.sleep(1)  # let them get into a replication
    return run, workers


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_stops_the_workers_and_exits_promptly(tmp_path, signum):
    run, workers = start_run(tmp_path / "run")
    stopped = time.monotonic()
    run.send_signal(signum)
    _, err = run.communicate(timeout=60)
    took = time.monotonic() - stopped
    assert run.returncode == {signal.SIGTERM: 143, signal.SIGINT: 130}[signum], err
    assert f"stopped by {signal.Signals(signum).name}" in err
    assert "worker process(es) stopped" in err
    assert "Traceback" not in err
    assert took < 15, f"took {took:.1f} s to stop"
    assert wait_for(lambda: gone(workers), 10), "a worker outlived the run"
    assert not (tmp_path / "run").exists()
    assert leftovers(tmp_path) == []


def test_sigkill_workers_exit_and_the_next_run_cleans_up(tmp_path, capsys):
    run, workers = start_run(tmp_path / "run")
    # Killed while saving: its temporary directory, named after its pid, is left behind.
    left = tmp_path / f".run.simplan-{run.pid}-x1y2z3"
    (left / "deals.parquet").parent.mkdir()
    (left / "deals.parquet").write_text("half written")
    run.kill()
    run.communicate(timeout=60)
    assert wait_for(lambda: gone(workers), 20), "a worker outlived its SIGKILLed parent"
    code, _, err = run_cli(
        capsys,
        "run",
        DATA / "small.yaml",
        "--replications",
        1,
        "--quiet",
        "--out",
        tmp_path / "next",
    )
    assert code == 0, err
    assert leftovers(tmp_path) == []
    assert (tmp_path / "next" / "manifest.json").exists()


def test_ctrl_c_in_process_stops_the_pool(capsys, tmp_path):
    """The same path without a new interpreter: SIGINT to this process during a pooled run."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    seen: list[psutil.Process] = []

    def interrupt() -> None:
        if wait_for(lambda: len(me.children(recursive=True)) > len(before), 60):
            seen.extend(p for p in me.children(recursive=True) if p.pid not in before)
            os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Thread(target=interrupt, daemon=True)
    timer.start()
    try:
        code, out, err = run_cli(
            capsys,
            "run",
            BASELINE,
            "--replications",
            600,  # far more than run before the signal lands, however fast the engine
            "--workers",
            2,
            "--quiet",
            "--out",
            tmp_path / "run",
        )
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    timer.join()
    assert code == 130, out + err
    assert "stopped by SIGINT (Ctrl-C)" in err
    assert seen
    assert wait_for(lambda: gone(seen), 10)
    assert not (tmp_path / "run").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_while_the_command_starts_exits_quietly(signum, code):
    """Ctrl-C (or SIGTERM) while `simplan` is still loading its modules: one line, no
    traceback, the signal's exit code. The entry point is armed before the heavy imports, so
    the signal is sent as soon as the interpreter runs it."""
    script = (
        "import os, signal, simplan.entry as e; "
        "signal.signal = (lambda real: lambda s, h: (real(s, h), "
        f"os.kill(os.getpid(), {int(signum)}) if h is e._stop_loading and s == {int(signum)} "
        "else None)[0])(signal.signal); e.main()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "--version"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert "stopped while starting" in done.stderr

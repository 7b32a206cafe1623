"""Executors: serial, local processes and Dask give the same tables, in submission order.

The Dask tests start real 2-worker local clusters on loopback and always close them; the
bad-address test only tries 127.0.0.1:1, so nothing here leaves the machine.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

from simplan import execution, simulate
from simplan.analysis.compare import compare
from simplan.cli import app
from simplan.errors import SimplanError
from simplan.execution import (
    DaskExecutor,
    ProcessExecutor,
    SerialExecutor,
    Stopped,
    clear_stop,
    request_stop,
)

from .conftest import DATA
from .test_behaviour import scenario

BAD_ADDRESS = "tcp://127.0.0.1:1"  # loopback, a port nothing listens on


def _slow_echo(item: int) -> int:
    """Early items finish last, so only an order-keeping executor returns them in order."""
    time.sleep(0.05 * (6 - item))
    return item


@pytest.fixture(scope="module")
def dask_local():
    with DaskExecutor("local", workers=2) as executor:
        yield executor


@pytest.mark.parametrize("name", ["small.yaml", "behaviour.yaml"])
def test_local_dask_cluster_gives_the_tables_of_processes_and_serial(dask_local, name):
    run = {"replications": 4, "seed": 11}
    serial = simulate(DATA / name, workers=1, **run)
    processes = simulate(DATA / name, workers=2, **run)
    dask = simulate(DATA / name, workers=2, executor=dask_local, **run)
    assert serial.runs["replication"].tolist() == [0, 1, 2, 3]
    for table, expected in serial.tables().items():
        pd.testing.assert_frame_equal(processes.tables()[table], expected)
        pd.testing.assert_frame_equal(dask.tables()[table], expected)


def test_dask_keeps_submission_order(dask_local):
    items = list(range(6))
    assert list(dask_local.map(_slow_echo, items)) == items
    assert list(ProcessExecutor(2).map(_slow_echo, items)) == items
    assert list(SerialExecutor().map(_slow_echo, items)) == items


def _children() -> set[str]:
    """This process's descendants, less multiprocessing's resource tracker (it lives on)."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            command = " ".join(child.cmdline())
        except psutil.Error:  # exited while we looked
            continue
        if "resource_tracker" not in command:
            found.add(f"{child.pid}: {command}")
    return found


def test_scheduler_local_starts_a_cluster_and_closes_it(small_results):
    before = _children()
    results = simulate(DATA / "small.yaml", replications=3, workers=2, scheduler="local")
    pd.testing.assert_frame_equal(results.deals, small_results.deals)
    assert results.runs["replication"].tolist() == [0, 1, 2]
    deadline = time.monotonic() + 10
    while (left := _children() - before) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes left running: {left}"


def test_bad_scheduler_address_fails_fast_naming_it():
    started = time.monotonic()
    executor = DaskExecutor(BAD_ADDRESS, timeout_seconds=1)
    with pytest.raises(SimplanError, match=re.escape(BAD_ADDRESS)):
        executor.open()
    assert time.monotonic() - started < 10


def test_missing_dask_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # makes `import distributed` fail
    with pytest.raises(SimplanError, match=r"pip install 'simplan\[dask\]'"):
        DaskExecutor("local")
    with pytest.raises(SimplanError, match=r"pip install 'simplan\[dask\]'"):
        simulate(DATA / "small.yaml", replications=2, scheduler="local")


def test_cli_without_dask_exits_2_with_the_install_hint():
    code = "import sys; sys.modules['distributed'] = None; from simplan.cli import main; main()"
    done = subprocess.run(
        [sys.executable, "-c", code, "run", str(DATA / "small.yaml"), "--scheduler", "local"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "pip install 'simplan[dask]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_importing_simplan_does_not_import_dask():
    code = (
        "import sys, simplan, simplan.cli, simplan.analysis.sweep; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_executor_and_scheduler_are_exclusive():
    with pytest.raises(SimplanError, match="not both"):
        simulate(DATA / "small.yaml", executor=SerialExecutor(), scheduler="local")


class _RecordingDask(SerialExecutor):
    """Stands in for DaskExecutor: records the address, runs serially, connects nowhere."""

    addresses: list[str] = []

    def __init__(self, address, workers=None, timeout_seconds=10.0):
        self.addresses.append(address)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


@pytest.mark.parametrize(
    "args",
    [
        ["run", DATA / "small.yaml"],
        ["compare", DATA / "behaviour.yaml", DATA / "behaviour.yaml"],
        ["budget", DATA / "behaviour.yaml"],
        ["targets", DATA / "behaviour.yaml", "--levels", "0,0.1"],
        ["thresholds", DATA / "behaviour.yaml", "--set", "base_commission.rate=0.08,0.12"],
    ],
    ids=lambda args: args[0],
)
def test_every_simulating_command_passes_the_scheduler_through(monkeypatch, args):
    monkeypatch.setattr(execution, "DaskExecutor", _RecordingDask)
    monkeypatch.setattr(_RecordingDask, "addresses", [])
    address = "tcp://127.0.0.1:8786"
    done = CliRunner().invoke(
        app,
        [*map(str, args), "--replications", "2", "--quiet", "--scheduler", address],
    )
    assert done.exit_code == 0, done.output
    assert _RecordingDask.addresses
    assert set(_RecordingDask.addresses) == {address}


def test_a_comparison_starts_its_workers_once_for_every_scenario(monkeypatch):
    """compare runs all its scenarios on one local pool, so each worker keeps the reps'
    plan-free effort costs from one plan to the next; the tables are those of one worker."""
    started = []

    class CountedPool(execution.ProcessPool):
        def __init__(self, *args, **kwargs):
            started.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(execution, "ProcessPool", CountedPool)
    plans = [
        {"clock": "month", "components": [{"type": "base_commission", "rate": r}]}
        for r in (0.08, 0.1, 0.12)
    ]
    small = {"team": {"size": 6}, "calendar": {"days": 20}}
    scenarios = [scenario(name=f"r{i}", plan=plan, **small) for i, plan in enumerate(plans)]
    two = compare(*scenarios, replications=4, workers=2)
    assert len(started) == 1
    one = compare(*scenarios, replications=4, workers=1)
    assert len(started) == 1
    pd.testing.assert_frame_equal(two.kpis, one.kpis)
    payout = two.kpis.groupby("scenario")["payout"].mean()
    assert payout["r0"] < payout["r1"] < payout["r2"]


def test_a_stop_whose_exception_was_swallowed_stops_at_the_next_result():
    """A signal landing inside a weakref callback or a `__del__` raises `Stopped` there, and
    Python only prints it; the request stays, so the next result of any map raises it again,
    until the command ends and clears it."""
    with pytest.raises(Stopped):  # the exception a callback would have swallowed
        request_stop(signal.SIGINT)
    results = SerialExecutor().map(lambda x: x * 2, range(5))
    with pytest.raises(Stopped) as stopped:
        next(results)
    assert stopped.value.args == (signal.SIGINT,)
    clear_stop()
    assert list(SerialExecutor().map(lambda x: x * 2, range(3))) == [0, 2, 4]


def test_the_command_does_not_print_a_stop_python_could_not_raise():
    """`main` leaves out of the unraisable-exception hook the stops a signal raised inside a
    callback (they are taken up at the next result), and passes every other one on."""
    from simplan.cli.app import _quiet_stops

    seen = []
    hook = _quiet_stops(seen.append)
    for error in (Stopped(signal.SIGINT), KeyboardInterrupt(), ValueError("kept")):
        hook(type("Unraisable", (), {"exc_value": error})())
    assert [type(u.exc_value) for u in seen] == [ValueError]

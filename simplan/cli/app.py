"""What every command shares: the typer app, consoles, progress, output checks, tables."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from simplan import __version__
from simplan.errors import SimplanError
from simplan.execution import Stopped, clear_stop, request_stop, stop_workers
from simplan.report.formats import text as shown_text
from simplan.results import TEMP_MARK
from simplan.scenario import Scenario, load_scenario, period_spec

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Try a sales incentive plan on a simulated copy of your team.",
)
out = Console()
if not out.is_terminal:  # pipes and CI: wide enough that tables are never truncated
    out = Console(width=200)
err = Console(stderr=True, soft_wrap=True)  # never break a path or key across lines


def _version(value: bool) -> None:
    if value:
        out.print(f"simplan {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """simplan: scenarios in, tables out."""


CalendarOption = Annotated[
    str | None,
    typer.Option(
        "--calendar",
        metavar="FILE|RULE",
        help="The business's periods: month, quarter, 4-4-5:DATE, 4-5-4:DATE, 5-4-4:DATE, "
        "13-week:DATE (DATE = a fiscal year's first day), or a CSV period,start,end.",
    ),
]
WindowOption = Annotated[
    str | None,
    typer.Option(
        "--window", metavar="LABEL", help="Simulate one period of the calendar, e.g. 2026Q1."
    ),
]
StartOption = Annotated[
    datetime | None,
    typer.Option(formats=["%Y-%m-%d"], help="First day of the window (with --days)."),
]
DaysOption = Annotated[int | None, typer.Option(min=1, help="Days in the window (with --start).")]


def on_calendar(
    scenario: Scenario,
    calendar: str | None,
    window: str | None,
    start: datetime | None,
    days: int | None,
) -> Scenario:
    """The scenario on --calendar's periods, over --window or --start/--days when given."""
    if calendar is not None:
        scenario = scenario.with_calendar(periods=period_spec(calendar))
    return scenario.with_window(window, start.date() if start else None, days)


ENGINE_NAMES = ("events", "fast")
Engine = Annotated[
    str | None,
    typer.Option(
        metavar="events|fast",
        help="events (the SimPy reference) or fast (a day at a time, for volume); default: "
        "the scenario's for run and compare, fast for budget, targets, thresholds and pilot.",
    ),
]


def load_with_engine(path: Path, engine: str | None, default: str | None = None) -> Scenario:
    """Load a scenario and set its engine: --engine if given, else `default`, else its own."""
    if engine is not None and engine not in ENGINE_NAMES:
        raise SimplanError(f"--engine {engine!r}: choose events or fast")
    scenario = load_scenario(path)
    warn_inert(path, scenario)
    return scenario.with_simulation(engine=engine or default)


def warn_inert(path: Path, scenario: Scenario) -> None:
    """Say on stderr which of the file's settings do nothing (the run goes ahead)."""
    for warning in scenario.inert_settings():
        err.print(f"[yellow]warning[/yellow] {escape(f'{path}: {warning}')}", highlight=False)


def check_out_dir(path: Path | None, force: bool) -> None:
    """Refuse a non-empty or unwritable output directory before spending time simulating."""
    if (
        path is not None
        and path.exists()
        and (not path.is_dir() or (any(path.iterdir()) and not force))
    ):
        raise SimplanError(f"{path}: exists and is not empty; choose another --out or pass --force")
    check_writable(path)


def check_out_file(path: Path | None) -> None:
    """Refuse an output file that is a directory or cannot be written, before any work."""
    if path is not None and path.is_dir():
        raise SimplanError(f"{path}: is a directory; give the path of the file to write")
    check_writable(path)


def check_writable(*paths: Path | None) -> None:
    """Refuse any output path (file or directory) that cannot be written, before work starts.

    Outputs are written beside their final place and moved in, so the test is to create (and
    remove) a directory in the nearest folder that exists: a path under a regular file,
    under /proc or on a read-only disk fails here, not after the simulation.
    """
    for path in paths:
        if path is None:
            continue
        folder = path.parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            raise SimplanError(
                f"{path}: cannot be written, because {folder} is a file, not a folder; "
                "choose another output path"
            )
        try:
            Path(tempfile.mkdtemp(prefix=f".probe.{TEMP_MARK}-{os.getpid()}-", dir=folder)).rmdir()
        except OSError as error:
            raise SimplanError(
                f"{path}: cannot be written: nothing can be created in {folder} "
                f"({error.strerror}); choose another output path"
            ) from None


class progress_bar:
    """A rich progress bar on a terminal, nothing otherwise (CI, pipes, --quiet).

    The callback is `progress(done, total)`, or `progress(done, total, what)` to name the
    step now running (a command of several long steps, e.g. calibrate); `total` None while
    the step does not know it yet.
    """

    def __init__(self, quiet: bool, what: str = "replications") -> None:
        self.what = what
        self.bar = (
            None
            if quiet or not err.is_terminal
            else Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
        )

    def __enter__(self) -> Callable[..., None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        self.task = self.bar.add_task(self.what, total=None)
        return self.update

    def update(self, done: int, total: int | None, what: str | None = None) -> None:
        """Move the bar to `done` of `total`; `what` renames it for a new step."""
        named = {} if what is None else {"description": what}
        self.bar.update(self.task, completed=done, total=total, **named)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def parse_floats(text: str, option: str) -> list[float]:
    """Comma-separated numbers from an option, e.g. --levels 0,0.1,0.2; a clear error otherwise."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SimplanError(
            f"{option} {text!r}: give numbers separated by commas, e.g. 0,0.1,0.2"
        ) from None
    if not values:
        raise SimplanError(f"{option} is empty: give at least one value, e.g. 0,0.1,0.2")
    return values


def fmt(metric: str, value: float) -> str:
    """A number as a planner reads it, by the report's rule (`simplan.report.formats`), so
    the terminal, the report and the workbook show a metric alike."""
    return shown_text(metric, value)


def print_metrics(title: str, rows: Iterable[tuple[str, str]]) -> None:
    """A two-column table of metric and formatted value."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, text in rows:
        table.add_row(metric, text)
    out.print(table)


def print_frame(
    title: str, frame: pd.DataFrame, formats: dict[str, Callable[[float], str]]
) -> None:
    """A DataFrame as a table; columns in `formats` are formatted, the rest shown as text."""
    table = Table(title=title)
    for column in frame.columns:
        table.add_column(str(column), justify="right" if column in formats else "left")
    for row in frame.itertuples(index=False):
        table.add_row(
            *[
                formats[c](v) if c in formats else str(v)
                for c, v in zip(frame.columns, row, strict=True)
            ]
        )
    out.print(table)


def print_error(error: Exception) -> None:
    """One user error on stderr, its text shown as written (brackets are not markup)."""
    err.print(f"[red]error[/red] {escape(str(error))}", highlight=False)


SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""Exit codes as a shell reports a process stopped by the signal (128 + its number)."""


def _on_signal(signum: int, frame: object) -> None:
    """Stop where we are: further signals are ignored while the run cleans up."""
    for other in SIGNAL_EXIT:
        signal.signal(other, signal.SIG_IGN)
    request_stop(signum)


def _quiet_stops(hook: Callable[[Any], object]) -> Callable[[Any], object]:
    """An unraisable-exception hook that leaves out the stops: a signal landing inside a
    weakref callback or a `__del__` raises `Stopped` where Python can only print it (a
    traceback after the stop message); the request is taken up at the next result anyway."""

    def hook_without_stops(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, Stopped | KeyboardInterrupt):
            hook(unraisable)

    return hook_without_stops


def report_stop(stop: BaseException) -> int:
    """Stop the workers, say what was stopped, and give the exit code for the signal."""
    signum = stop.args[0] if isinstance(stop, Stopped) else signal.SIGINT
    name = signal.Signals(signum).name + (" (Ctrl-C)" if signum == signal.SIGINT else "")
    notes = list(getattr(stop, "__notes__", []))
    stragglers = stop_workers()
    if stragglers:
        notes.append(f"{stragglers} worker process(es) stopped")
    if not any("unfinished output" in note for note in notes):
        notes.append("nothing was written")
    err.print(f"stopped by {name}: " + "; ".join(notes), highlight=False)
    return SIGNAL_EXIT[signum]


def main() -> None:
    """Entry point: user errors print one clear message and exit with code 2; SIGINT and
    SIGTERM stop the workers, remove unfinished output and exit with 130 / 143."""
    previous = {signum: signal.signal(signum, _on_signal) for signum in SIGNAL_EXIT}
    unraisable = sys.unraisablehook
    sys.unraisablehook = _quiet_stops(unraisable)
    try:
        app()
    except SimplanError as error:
        print_error(error)
        sys.exit(2)
    except (KeyboardInterrupt, Stopped) as stop:
        sys.exit(report_stop(stop))
    finally:  # when called in-process (tests, notebooks), leave the handlers as they were
        clear_stop()
        sys.unraisablehook = unraisable
        for signum, handler in previous.items():
            signal.signal(signum, handler)

"""What every command shares: the typer app, consoles, progress, output checks, tables."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from simplan import __version__
from simplan.errors import SimplanError
from simplan.scenario import Scenario, period_spec

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


def check_out_dir(path: Path | None, force: bool) -> None:
    """Refuse a non-empty output directory before spending time simulating."""
    if (
        path is not None
        and path.exists()
        and (not path.is_dir() or (any(path.iterdir()) and not force))
    ):
        raise SimplanError(f"{path}: exists and is not empty; choose another --out or pass --force")


class progress_bar:
    """A rich progress bar on a terminal, nothing otherwise (CI, pipes, --quiet)."""

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

    def __enter__(self) -> Callable[[int, int], None] | None:
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task(self.what, total=None)
        return lambda done, total: self.bar.update(task, completed=done, total=total)

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
    """A number as a planner reads it: shares as percent, money without decimals."""
    if value != value:  # NaN
        return "n/a"
    name = metric.lower().replace("_", " ")
    if "rate" in name or "share" in name or "probability" in name or "cost of sales" in name:
        return f"{value:.1%}"
    if "hours" in name or "days" in name or "per replication" in name or "over_median" in name:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


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


def main() -> None:
    """Entry point: user errors print one clear message and exit with code 2."""
    try:
        app()
    except SimplanError as error:
        print_error(error)
        sys.exit(2)

"""`simplan report | excel`: a saved run or comparison as an HTML page or an Excel workbook."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simplan.cli.app import app, check_out_file, out
from simplan.report import write_report, write_workbook

Source = Annotated[
    Path,
    typer.Argument(help="A directory written by `simplan run --out` or `simplan compare --out`."),
]


@app.command()
def report(
    source: Source,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="HTML file to write (default: DIR/report.html).")
    ] = None,
) -> None:
    """One self-contained HTML page of plots and tables (no internet needed to open it)."""
    target = out_file if out_file is not None else source / "report.html"
    check_out_file(target)
    written = write_report(source, target)
    out.print(f"report written to {written}", highlight=False, soft_wrap=True)


@app.command()
def excel(
    source: Source,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Workbook to write (default: DIR/plan.xlsx).")
    ] = None,
) -> None:
    """An Excel workbook for finance: summary, budget, components, statements, parameters."""
    target = out_file if out_file is not None else source / "plan.xlsx"
    check_out_file(target)
    written = write_workbook(source, target)
    out.print(f"workbook written to {written}", highlight=False, soft_wrap=True)

"""Reports for people who read rather than run: a self-contained HTML page and an Excel
workbook, from a saved run (`simplan run --out`) or comparison (`simplan compare --out`).

Inside simplan only the CLI imports this package; notebooks call it directly
(`write_report(results, "report.html")`, `write_workbook(results, "plan.xlsx")`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simplan.report.excel import write_workbook
from simplan.report.html import write_text_atomically
from simplan.report.sections import render_report
from simplan.report.source import Source, as_source, load_source


def write_report(what: Source | Any, out: str | Path) -> Path:
    """Write the HTML report of a saved run or comparison directory, a `Results` or a
    `Comparison` to `out`."""
    return write_text_atomically(out, render_report(as_source(what)))


__all__ = ["Source", "as_source", "load_source", "render_report", "write_report", "write_workbook"]

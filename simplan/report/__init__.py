"""Reports for people who read rather than run: a self-contained HTML page and an Excel
workbook, from a saved run (`simplan run --out`) or comparison (`simplan compare --out`).

Only the CLI imports this package; it reads runs through `simplan.results` and
`simplan.analysis`.
"""

from __future__ import annotations

from pathlib import Path

from simplan.report.html import write_text_atomically
from simplan.report.sections import render_report
from simplan.report.source import Source, load_source


def write_report(directory: str | Path, out: str | Path) -> Path:
    """Write the HTML report of the run or comparison saved in `directory` to `out`."""
    return write_text_atomically(out, render_report(load_source(directory)))


__all__ = ["Source", "load_source", "render_report", "write_report"]

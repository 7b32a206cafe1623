"""The Excel workbook for finance: summary, budget quantiles, per-component totals, per-rep
statements and the scenario's parameters, one formatted sheet each.

Money shows in whole currency units, shares as percent, header rows stay frozen. Sheets that
need a plan (budget, components, statements) are left out when no run has one; the `about`
sheet says what each sheet holds and where it came from.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from simplan import __version__
from simplan.analysis.budget import plan_budget, size_budget
from simplan.model.plan import Plan
from simplan.report import statements, tables
from simplan.report.formats import EXCEL_FORMATS, kind, unit_kind
from simplan.report.html import write_text_atomically
from simplan.report.source import Source, as_source
from simplan.results import Results

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
MAX_WIDTH = 60
RATIO_FORMAT = '0.0"x"'


@dataclass(frozen=True)
class Sheet:
    """A table for one worksheet. With `by_row`, numbers take the format of their row's
    `metric`; otherwise of their column's name, or of their row's `unit` in the `by_unit`
    columns; `plain` sheets keep Excel's General format.
    `freeze` is the top-left cell that scrolls."""

    name: str
    about: str
    frame: pd.DataFrame
    by_row: bool = False
    plain: bool = False
    freeze: str = "B2"
    by_unit: tuple[str, ...] = ()  # columns formatted by the row's `unit` (money, share, count)


def workbook_sheets(source: Source) -> list[Sheet]:
    """The workbook's sheets, in order, as tables (what `write_workbook` writes)."""
    runs = source.runs
    sheets = [
        Sheet(
            "summary",
            "each run's summary: bookings, win rates, response and cycle times, payout",
            tables.summary_table(runs),
            by_row=True,
        )
    ]
    comparison = source.comparison
    if comparison is not None:
        level = f"{comparison.confidence:.0%}"
        sheets += [
            Sheet(
                "comparison",
                f"per scenario and KPI: mean over replications with its {level} interval",
                comparison.summary,
                by_row=True,
                freeze="C2",
            ),
            Sheet(
                "differences",
                f"proposal minus {comparison.scenarios[0]} per KPI, paired by replication "
                "(common random numbers), and the half-width independent runs would give",
                comparison.differences,
                by_row=True,
                freeze="C2",
            ),
        ]
    paid = {name: r for name, r in runs.items() if "payout" in r.runs}
    if paid:
        sheets += [
            Sheet(
                "budget",
                "payout quantiles over replications, the budget a 90% confidence needs, the "
                "plan's budget and the chance of exceeding it, reserve and cost-of-sales checks",
                _side_by_side(
                    {
                        name: size_budget(r, plan_budget(r)).overview.set_index("metric")["value"]
                        for name, r in paid.items()
                    }
                ),
                by_row=True,
            ),
            Sheet(
                "components",
                "per plan component: total paid in a replication (mean, P10, P50, P90) and its "
                "share of all payout (deductions such as a gate are negative)",
                _stacked({name: tables.component_totals(r) for name, r in paid.items()}),
                freeze="C2",
            ),
            Sheet(
                "reps",
                "per rep and plan period over replications: target, bookings P10/P50/P90, "
                "the probability of reaching target, payout P50/P90",
                _stacked({name: statements.rep_table(r) for name, r in paid.items()}),
                freeze="D2",
            ),
            Sheet(
                "statements",
                "every statement of each run's typical replication (total payout nearest the "
                "median): per payee and period a line per component with its basis in its "
                "unit and the amount, then the total",
                _stacked({name: _typical(r, source.plans()[name]) for name, r in paid.items()}),
                freeze="E2",
                by_unit=("basis value",),
            ),
        ]
    sheets.append(
        Sheet(
            "scenario",
            "every parameter of the resolved scenario (defaults filled in), one column per run",
            tables.scenario_parameters(runs),
            plain=True,
        )
    )
    sheets.append(_about(source, sheets))
    return sheets


def _typical(results: Results, plan: Plan) -> pd.DataFrame:
    replication, table = statements.typical_statements(results, plan)
    table.insert(0, "replication", replication)
    return table


def _side_by_side(columns: dict[str, pd.Series]) -> pd.DataFrame:
    order = tables.merged_order([list(c.index) for c in columns.values()])
    frame = pd.DataFrame({name: c.reindex(order) for name, c in columns.items()})
    return frame.rename_axis("metric").reset_index()


def _stacked(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One table with a leading scenario column (columns a run lacks stay empty)."""
    return pd.concat(
        [f.assign(scenario=name)[["scenario", *f.columns]] for name, f in frames.items()],
        ignore_index=True,
    )


def _about(source: Source, sheets: list[Sheet]) -> Sheet:
    rows: list[tuple[str, Any]] = [
        ("made from", str(source.path) if source.path else "tables in memory (not saved)"),
        ("written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("simplan", __version__),
    ]
    for name, results in source.runs.items():
        m = results.manifest
        rows.append(
            (
                f"run {name}",
                f"{m.get('replications', '?')} replications, seed {m.get('seed', '?')}, "
                f"run {m.get('created', '?')}",
            )
        )
    if not any("payout" in r.runs for r in source.runs.values()):
        rows.append(("no plan", "no run has a plan: budget, components and statements left out"))
    rows += [(f"sheet {s.name}", s.about) for s in sheets]
    rows.append(("money", "currency units of the scenario; shares 0..1 shown as percent"))
    return Sheet("about", "", pd.DataFrame(rows, columns=["item", "value"]), plain=True)


def _cell_value(value: Any) -> Any:
    """A value openpyxl writes: Python scalars; NaN, infinity and None as an empty cell."""
    if value is None or (isinstance(value, float | np.floating) and not np.isfinite(value)):
        return None  # Excel has no NaN or infinity: leave the cell empty
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | pd.Period):
        return str(value)
    return value


def _number_format(label: str) -> str:
    if label == "narrowing":
        return RATIO_FORMAT
    return EXCEL_FORMATS[kind(label)]


def write_sheet(book: Workbook, sheet: Sheet) -> None:
    """One formatted worksheet: bold filled header, number formats, frozen panes, widths."""
    ws = book.create_sheet(sheet.name)
    frame = sheet.frame
    columns = [str(c) for c in frame.columns]
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(vertical="top", wrap_text=False)
    widths = [len(c) for c in columns]
    for values in frame.itertuples(index=False):
        ws.append([_cell_value(v) for v in values])
        row = ws.max_row
        metric = str(values[columns.index("metric")]) if sheet.by_row else None
        unit = values[columns.index("unit")] if "unit" in columns else None
        for j, value in enumerate(values):
            cell = ws.cell(row=row, column=j + 1)
            number = isinstance(cell.value, int | float) and not isinstance(cell.value, bool)
            if number and not sheet.plain:
                label = columns[j] if columns[j] == "narrowing" or metric is None else metric
                cell.number_format = (
                    EXCEL_FORMATS[unit_kind(unit)]
                    if columns[j] in sheet.by_unit
                    else _number_format(label)
                )
                shown = 14
            else:
                shown = len(str(value)) if cell.value is not None else 0
            widths[j] = max(widths[j], shown)
    for j, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(j)].width = min(width + 2, MAX_WIDTH)
    ws.freeze_panes = sheet.freeze
    if frame.shape[0]:
        ws.auto_filter.ref = ws.dimensions


def write_workbook(what: Source | Any, out: str | Path) -> Path:
    """Write the workbook of a saved directory, a `Results` or a `Comparison` to `out` (.xlsx)."""
    return write_sheets(workbook_sheets(as_source(what)), out)


def payout_sheets(
    summary: pd.DataFrame,
    reps: pd.DataFrame,
    statements: dict[str, pd.DataFrame],
    flags: pd.DataFrame,
    source: str,
) -> list[Sheet]:
    """The sheets of `simplan payout`'s workbook: what each plan would have paid on `source`."""
    plans = [c for c in summary.columns if c not in ("metric", "unit")]
    sheets = [
        Sheet(
            "summary",
            "per plan: totals, components and the spread across reps",
            summary,
            by_unit=tuple(plans),
        ),
        Sheet("reps", "per payee over the whole ledger: bookings and each plan's payout", reps),
        Sheet(
            "statements",
            "per plan, payee and period: a line per component with its basis in its unit and "
            "the amount, then the total",
            _stacked(statements).rename(columns={"scenario": "plan"}),
            freeze="D2",
            by_unit=("basis value",),
        ),
        Sheet(
            "flags",
            "won deals the anomaly rule flags (paid as recorded)",
            flags,
            freeze="A2",
        ),
    ]
    about = [("made from", source), ("written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))]
    about += [("simplan", __version__), *((f"sheet {s.name}", s.about) for s in sheets)]
    sheets.append(Sheet("about", "", pd.DataFrame(about, columns=["item", "value"]), plain=True))
    return sheets


def write_sheets(sheets: list[Sheet], out: str | Path) -> Path:
    """Write the sheets, formatted, as one workbook at `out` (.xlsx), atomically."""
    book = Workbook()
    book.remove(book.active)
    for sheet in sheets:
        write_sheet(book, sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return write_text_atomically(out, buffer.getvalue())

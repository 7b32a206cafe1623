"""`simplan payout`: what one or more plans would have paid on an existing deal ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from simplan import __version__
from simplan.cli.app import CalendarOption, app, check_out_dir, out, print_frame
from simplan.cli.history import AmountMultiple, AmountQuantile, MapOption, PresetOption
from simplan.errors import SimplanError
from simplan.history import AnomalyRule, parse_mapping, quota_targets, read_targets
from simplan.model.plan import Plan
from simplan.model.plan.summary import summarise
from simplan.recalc import (
    flag_deals,
    payout_statements,
    per_rep,
    read_ledger,
    side_by_side,
    statement_table,
    write_payout,
)
from simplan.report.excel import payout_sheets, write_sheets
from simplan.results import save_atomically
from simplan.scenario import load_config, load_periods, validate


@app.command()
def payout(
    deals: Annotated[Path, typer.Option(help="Deal ledger: a CRM export (.csv or .parquet).")],
    plan: Annotated[
        list[Path], typer.Option(help="Plan YAML file; repeat to put plans side by side.")
    ],
    out_dir: Annotated[Path, typer.Option("--out", help="Write the statements here.")],
    targets: Annotated[
        Path | None,
        typer.Option(help="Targets file: rep_id, period (2017-03, 2017Q1, FY2025-P01), target."),
    ] = None,
    quota: Annotated[
        float | None, typer.Option(help="Every rep's target per plan period (or --targets).")
    ] = None,
    preset: PresetOption = None,
    mapping: MapOption = None,
    date_format: Annotated[
        str | None, typer.Option(help="close_date format, e.g. %m/%d/%Y (default: detected).")
    ] = None,
    calendar: CalendarOption = None,
    amount_multiple: AmountMultiple = 3.0,
    amount_quantile: AmountQuantile = 0.999,
    force: Annotated[bool, typer.Option(help="Replace a non-empty --out directory.")] = False,
) -> None:
    """What plans would have paid on an existing deal ledger: totals, components, spread, per
    rep; deals the anomaly rule flags are listed (and paid as recorded). --calendar gives the
    business's periods: a plan with `clock: period` pays per them (each deal in the period
    holding its close date), and a targets file may be written in their labels."""
    if (targets is None) == (quota is None):
        raise SimplanError("payout: pass exactly one of --targets FILE or --quota AMOUNT")
    names = [p.stem for p in plan]
    if len(set(names)) < len(names):
        raise SimplanError(
            f"payout: two --plan files share a name ({', '.join(names)}); each plan's "
            "statements go to a directory named after its file: rename one"
        )
    anomaly = validate(
        AnomalyRule,
        {"amount_multiple": amount_multiple, "amount_quantile": amount_quantile},
        "anomaly rule (--amount-multiple, --amount-quantile)",
    )
    check_out_dir(out_dir, force)
    plans = {name: load_config(path, Plan) for name, path in zip(names, plan, strict=True)}
    business = load_periods(calendar) if calendar else None
    ledger, columns = read_ledger(deals, preset, parse_mapping(mapping), date_format)
    source = str(deals) if targets is None else f"{deals} with {targets}"
    statements = {}
    for name, loaded in plans.items():
        table = (
            read_targets(targets, loaded.clock, business)
            if targets
            else quota_targets(ledger, loaded.clock, quota, business)
        )
        statements[name] = payout_statements(ledger, table, loaded, source, business)
    summary = side_by_side({name: summarise(s) for name, s in statements.items()})
    flags = flag_deals(ledger, anomaly)
    dates = ledger["close_date"]
    _print_summary(
        summary,
        f"{deals.name}: {ledger['deal_id'].nunique():,} won deals, "
        f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}",
    )
    if not flags.empty:
        out.print(
            f"{len(flags)} deal(s) flagged by the anomaly rule ({anomaly.describe().split(';')[0]})"
            ", paid as recorded; check them or drop them from the file:"
        )
        out.print(flags.head(10).to_string(index=False), highlight=False)
    manifest = {
        "command": "payout",
        "plan_files": {name: str(path) for name, path in zip(names, plan, strict=True)},
        "plans": {name: p.model_dump(mode="json") for name, p in plans.items()},
        "deals_file": str(deals),
        "preset": preset,
        "mapping": columns,
        "date_format": date_format,
        "targets_file": None if targets is None else str(targets),
        "quota": quota,
        "calendar": calendar,
        "anomaly_rule": anomaly.describe(),
        "flagged_deals": len(flags),
        "summary": {name: summary.set_index("metric")[name].to_dict() for name in plans},
        "simplan_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tables = {name: statement_table(s.lines, plans[name]) for name, s in statements.items()}
    reps = per_rep(statements)
    sheets = payout_sheets(summary, reps, tables, flags, source)

    def write(tmp: Path) -> None:
        write_payout(tmp, statements, tables, reps, flags, summary, manifest)
        write_sheets(sheets, tmp / "payout.xlsx")

    saved = save_atomically(out_dir, force, write)
    out.print(
        f"statements written to {saved}/ (per plan: lines, totals, statements.csv; summary.csv, "
        "reps.csv, flags.csv, payout.xlsx, manifest.json)",
        highlight=False,
        soft_wrap=True,
    )


def _print_summary(summary, title: str) -> None:
    def shown(unit: str):
        def text(value: float) -> str:
            if value != value:
                return "n/a"
            return f"{value:.1%}" if unit == "share" else f"{value:,.0f}"

        return text

    rows = summary.drop(columns="unit")
    plans = [c for c in rows.columns if c != "metric"]
    out.print(title, highlight=False)
    table = rows.copy()
    for name in plans:
        table[name] = [shown(u)(v) for u, v in zip(summary["unit"], rows[name], strict=True)]
    print_frame("", table, dict.fromkeys(plans, str))

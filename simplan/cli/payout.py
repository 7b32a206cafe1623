"""`simplan payout`: what a plan would have paid on an existing deal ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from simplan import __version__
from simplan.cli.app import app, check_out_dir, out, print_metrics
from simplan.errors import SimplanError
from simplan.history import parse_mapping, quota_targets, read_deals, read_targets
from simplan.model.plan import Plan
from simplan.model.plan.summary import summarise
from simplan.recalc import payout_statements, write_payout
from simplan.results import save_atomically
from simplan.scenario import load_config


@app.command()
def payout(
    deals: Annotated[Path, typer.Option(help="Deal ledger: a CRM export (.csv or .parquet).")],
    plan: Annotated[Path, typer.Option(help="Plan YAML file.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Write the statements here.")],
    targets: Annotated[
        Path | None, typer.Option(help="Targets file: rep_id, period (2017-03), target.")
    ] = None,
    quota: Annotated[
        float | None, typer.Option(help="Every rep's target per plan period (or --targets).")
    ] = None,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="canonical=source column, e.g. deal_id=opportunity_id."),
    ] = None,
    date_format: Annotated[
        str | None, typer.Option(help="close_date format, e.g. %m/%d/%Y (default: detected).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace a non-empty --out directory.")] = False,
) -> None:
    """What a plan would have paid on an existing deal ledger: totals, components, spread."""
    if (targets is None) == (quota is None):
        raise SimplanError("payout: pass exactly one of --targets FILE or --quota AMOUNT")
    check_out_dir(out_dir, force)
    loaded = load_config(plan, Plan)
    columns = parse_mapping(mapping)
    ledger = read_deals(deals, columns, date_format)
    table = (
        read_targets(targets, loaded.clock)
        if targets
        else quota_targets(ledger, loaded.clock, quota)
    )
    source = str(deals) if targets is None else f"{deals} with {targets}"
    statements = payout_statements(ledger, table, loaded, source)
    summary = summarise(statements)
    periods = statements.totals["period"]
    _print_payout(
        summary,
        f"{loaded.name} on {deals.name}: {ledger['deal_id'].nunique():,} won deals, "
        f"{periods.min()} to {periods.max()}",
    )
    manifest = {
        "command": "payout",
        "plan_file": str(plan),
        "plan": loaded.model_dump(mode="json"),
        "deals_file": str(deals),
        "mapping": columns,
        "date_format": date_format,
        "targets_file": None if targets is None else str(targets),
        "quota": quota,
        "summary": summary["value"].to_dict(),
        "simplan_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    saved = save_atomically(out_dir, force, lambda tmp: write_payout(tmp, statements, manifest))
    out.print(f"statements written to {saved}/ (lines, totals, lines.csv + manifest.json)")


def _print_payout(summary, title: str) -> None:
    def text(value: float, unit: str) -> str:
        if value != value:
            return "n/a"
        return f"{value:.1%}" if unit == "share" else f"{value:,.0f}"

    out.print(title)
    print_metrics("", ((m, text(r["value"], r["unit"])) for m, r in summary.iterrows()))

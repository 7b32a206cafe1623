"""`simplan history check`, `simplan calibrate`, `simplan backtest`: a CRM export in, its
checks, a calibrated scenario, and how well that scenario predicts held-out months."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from simplan.cli.app import app, out
from simplan.history import (
    AnomalyRule,
    TierRule,
    history_summary,
    parse_mapping,
    prepare,
    read_opportunities,
)
from simplan.history.opportunities import History

history_app = typer.Typer(
    no_args_is_help=True, help="Check a CRM export (deals/opportunities) before calibrating."
)
app.add_typer(history_app, name="history")

HistoryFile = Annotated[
    Path, typer.Argument(help="CRM export of opportunities (.csv or .parquet).")
]
PresetOption = Annotated[
    str | None,
    typer.Option("--preset", help="Column names of a CRM: maven_crm, salesforce, hubspot, zoho."),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map", help="canonical=source column (e.g. created_date=engage_date), or won=LABEL."
    ),
]
DateFormat = Annotated[
    str | None,
    typer.Option(help="Date format of the date columns, e.g. %m/%d/%Y (default: detected)."),
]
AsOf = Annotated[
    str | None,
    typer.Option(
        help="The export date: open deals are censored here (default: the last date seen)."
    ),
]
Roster = Annotated[
    Path | None, typer.Option(help="Roster table: rep, team/manager, region, hire date, quota.")
]
Targets = Annotated[
    Path | None, typer.Option(help="Targets table: rep_id, period (2017Q3 or 2017-07), target.")
]
Products = Annotated[
    Path | None, typer.Option(help="Price list: product, price (grades leads by product).")
]
Tiers = Annotated[str, typer.Option(help="Tier rule: auto, column, product, amount or none.")]
TierCount = Annotated[int, typer.Option(help="How many tiers a derived rule makes (A = highest).")]
AmountMultiple = Annotated[
    float, typer.Option(help="Anomaly rule: won amounts above this x the quantile are removed.")
]
AmountQuantile = Annotated[float, typer.Option(help="Anomaly rule: the quantile (0.999).")]
MinRepDeals = Annotated[
    int, typer.Option(help="Anomaly rule: reps with fewer closed deals are removed.")
]


def print_items(title: str, rows: list[tuple[str, str]]) -> None:
    """A two-column table of item and text, both left-aligned."""
    table = Table(title=title, title_justify="left", show_header=False)
    table.add_column("item", style="bold", no_wrap=True)
    table.add_column("value", overflow="fold")
    for item, text in rows:
        table.add_row(item, text)
    out.print(table)


def load_history(
    path: Path,
    preset: str | None,
    mapping: list[str] | None,
    date_format: str | None,
    as_of: str | None,
    roster: Path | None,
    targets: Path | None,
    products: Path | None,
    clock: str = "quarter",
) -> History:
    """Read and check the export and its side tables (every problem at once, exit 2)."""
    return read_opportunities(
        path,
        preset=preset,
        mapping=parse_mapping(mapping),
        date_format=date_format,
        as_of=as_of,
        roster=roster,
        targets=targets,
        products=products,
        clock=clock,
    )


def rules(
    tiers: str, tier_count: int, amount_multiple: float, amount_quantile: float, min_rep_deals: int
) -> tuple[AnomalyRule, TierRule]:
    """The anomaly and tier rules from the command line (validated like a scenario)."""
    from simplan.scenario import validate

    anomaly = validate(
        AnomalyRule,
        {
            "amount_multiple": amount_multiple,
            "amount_quantile": amount_quantile,
            "min_closed_deals_per_rep": min_rep_deals,
        },
        "anomaly rule (--amount-multiple, --amount-quantile, --min-rep-deals)",
    )
    tier = validate(
        TierRule, {"method": tiers, "count": tier_count}, "tier rule (--tiers, --tier-count)"
    )
    return anomaly, tier


@history_app.command("check")
def check(
    file: HistoryFile,
    preset: PresetOption = None,
    mapping: MapOption = None,
    date_format: DateFormat = None,
    as_of: AsOf = None,
    roster: Roster = None,
    targets: Targets = None,
    products: Products = None,
    tiers: Tiers = "auto",
    tier_count: TierCount = 3,
    amount_multiple: AmountMultiple = 3.0,
    amount_quantile: AmountQuantile = 0.999,
    min_rep_deals: MinRepDeals = 10,
    show_removed: Annotated[int, typer.Option(help="Removed deals listed (first N).")] = 10,
) -> None:
    """Read and check a CRM export: every problem by column and line (exit 2), else what it
    holds, the tier rule, and what the anomaly rule would remove."""
    anomaly, tier = rules(tiers, tier_count, amount_multiple, amount_quantile, min_rep_deals)
    history = load_history(file, preset, mapping, date_format, as_of, roster, targets, products)
    prepared = prepare(history, anomaly, tier)
    print_items(f"history check: {file.name}: no problems", history_summary(history, prepared))
    if not prepared.removed.empty:
        shown = prepared.removed.head(show_removed)
        out.print(f"removed by the anomaly rule (first {len(shown)} of {len(prepared.removed)}):")
        out.print(shown.to_string(index=False))

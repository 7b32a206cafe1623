"""The `simplan` command: parse, call the API, print. User errors exit 2 without a traceback."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from simplan import __version__
from simplan.errors import SimplanError
from simplan.history import parse_mapping, quota_targets, read_deals, read_targets
from simplan.model.plan import Plan
from simplan.model.plan.summary import summarise
from simplan.recalc import payout_statements, write_payout
from simplan.results import save_atomically
from simplan.runner import simulate
from simplan.scenario import load_config, load_scenario

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Try a sales incentive plan on a simulated copy of your team.",
)
out = Console()
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


@app.command()
def validate(files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")]) -> None:
    """Check scenario files; print each one's name and digest, or every problem found."""
    failed = False
    for path in files:
        try:
            scenario = load_scenario(path)
        except SimplanError as error:
            err.print(f"[red]error[/red] {error}", highlight=False)
            failed = True
            continue
        out.print(f"ok {path}: scenario '{scenario.name}' (digest {scenario.digest()})")
    if failed:
        raise typer.Exit(2)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replications: Annotated[
        int | None, typer.Option(min=1, help="Replications (default: the scenario's).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Root seed (default: the scenario's).")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: all cores).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Save the tables to this directory.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace a non-empty --out directory.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Simulate a scenario, print the summary, and save the tables with --out."""
    loaded = load_scenario(scenario)
    if out_dir is not None:
        _check_out_dir(out_dir, force)
    with _progress(quiet) as progress:
        results = simulate(
            loaded, replications=replications, seed=seed, workers=workers, progress=progress
        )
    _print_summary(results.summary(), loaded.name, results.manifest)
    if out_dir is not None:
        saved = results.save(out_dir, force=force)
        out.print(f"tables written to {saved}/ (deals, credits, daily, reps, runs + manifest.json)")


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
    _check_out_dir(out_dir, force)
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
    out.print(title)
    table = Table()
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, row in summary.iterrows():
        value = row["value"]
        text = f"{value:.1%}" if row["unit"] == "share" else f"{value:,.0f}"
        table.add_row(metric, "n/a" if value != value else text)
    out.print(table)


def _check_out_dir(path: Path, force: bool) -> None:
    """Refuse a non-empty output directory before spending time simulating."""
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not force)):
        raise SimplanError(f"{path}: exists and is not empty; choose another --out or pass --force")


class _progress:
    """A rich progress bar on a terminal, nothing otherwise (CI, pipes, --quiet)."""

    def __init__(self, quiet: bool) -> None:
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

    def __enter__(self):
        if self.bar is None:
            return None
        self.bar.start()
        task = self.bar.add_task("replications", total=None)
        return lambda done, total: self.bar.update(task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _print_summary(summary, name: str, manifest: dict) -> None:
    table = Table(title=f"{name}: {manifest['replications']} replications, seed {manifest['seed']}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, value in summary["value"].items():
        table.add_row(metric, _fmt(metric, value))
    out.print(table)


def _fmt(metric: str, value: float) -> str:
    if value != value:  # NaN
        return "n/a"
    if "rate" in metric or "share" in metric:
        return f"{value:.1%}"
    if "hours" in metric or "days" in metric or "per replication" in metric:
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def main() -> None:
    """Entry point: user errors print one clear message and exit with code 2."""
    try:
        app()
    except SimplanError as error:
        err.print(f"[red]error[/red] {error}", highlight=False)
        sys.exit(2)

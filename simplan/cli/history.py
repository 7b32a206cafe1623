"""`simplan history check`, `simplan calibrate`, `simplan backtest`: a CRM export in, its
checks, a calibrated scenario, and how well that scenario predicts held-out months."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import yaml
from rich.markup import escape
from rich.table import Table

from simplan import __version__
from simplan.analysis.backtest import BacktestResult, backtest
from simplan.analysis.calibrate import Calibrator
from simplan.analysis.fit_check import FitCheck, shown
from simplan.cli.app import (
    CalendarOption,
    DaysOption,
    StartOption,
    WindowOption,
    app,
    check_out_dir,
    check_writable,
    out,
    progress_bar,
)
from simplan.errors import SimplanError
from simplan.history import (
    AnomalyRule,
    TierRule,
    history_summary,
    parse_mapping,
    parse_renames,
    period_summary,
    prepare,
    read_opportunities,
)
from simplan.history.opportunities import History
from simplan.history.readiness import Finding, findings
from simplan.model import periods as business_periods
from simplan.model.plan import Plan
from simplan.results import save_atomically
from simplan.scenario import load_config, load_periods, load_scenario

history_app = typer.Typer(
    no_args_is_help=True, help="Check a CRM export (deals/opportunities) before calibrating."
)
app.add_typer(history_app, name="history")

HistoryFile = Annotated[
    Path, typer.Argument(help="CRM export of opportunities (.csv or .parquet).")
]
PresetOption = Annotated[
    str | None,
    typer.Option(
        "--preset",
        help="Column names of a CRM: maven_crm, salesforce, hubspot, zoho, pipedrive, dynamics.",
    ),
]
MapOption = Annotated[
    list[str] | None,
    typer.Option(
        "--map", help="canonical=source column (e.g. created_date=engage_date), or won=LABEL."
    ),
]
RenameOption = Annotated[
    list[str] | None,
    typer.Option(
        "--rename", help="OLD=NEW: one rep under two names (renamed mid-year); repeat for more."
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
ImputeAmounts = Annotated[
    bool,
    typer.Option(
        "--impute-amounts",
        help="Won deals without an amount get one drawn from known amounts of the same tier "
        "and rep (flagged); else they are left out of the deal-size fit.",
    ),
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
    calendar: business_periods.Periods | None = None,
    renames: list[str] | None = None,
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
        calendar=calendar,
        renames=parse_renames(renames),
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
    rename: RenameOption = None,
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
    impute_amounts: ImputeAmounts = False,
    show_removed: Annotated[int, typer.Option(help="Removed deals listed (first N).")] = 10,
    calendar: CalendarOption = None,
) -> None:
    """Read and check a CRM export: every problem by column and line (exit 2), else what it
    holds, the tier rule, what the anomaly rule would remove, and everything calibration
    will treat specially (the same findings `simplan calibrate` prints); with --calendar,
    the deals created, won and lost in each of the business's periods."""
    anomaly, tier = rules(tiers, tier_count, amount_multiple, amount_quantile, min_rep_deals)
    business = load_periods(calendar) if calendar else None
    history = load_history(
        file, preset, mapping, date_format, as_of, roster, targets, products,
        calendar=business, renames=rename,
    )  # fmt: skip
    prepared = prepare(history, anomaly, tier, impute_amounts)
    found = findings(history, prepared, imputed=impute_amounts)
    title = f"{len(found)} finding(s) calibration will treat specially" if found else "no problems"
    print_items(f"history check: {file.name}: {title}", history_summary(history, prepared))
    if business is not None:
        print_items(f"periods ({business.spec})", period_summary(prepared, business))
    print_findings(found)
    if not prepared.removed.empty:
        shown = prepared.removed.head(show_removed)
        out.print(f"removed by the anomaly rule (first {len(shown)} of {len(prepared.removed)}):")
        out.print(shown.to_string(index=False))


def print_findings(found: list[Finding]) -> None:
    """What calibration will treat specially, one row per finding."""
    if found:
        print_items("findings (calibrate treats these as said)", [(f.item, f.text) for f in found])


Periods = Annotated[int, typer.Option(help="Plan periods in the baseline window (last N cycles).")]
Period = Annotated[str, typer.Option(help="Plan period: quarter or month (a --plan's clock wins).")]
PlanFile = Annotated[
    Path | None,
    typer.Option(
        "--plan", help="The plan in force (its clock sets the period; put in the scenario)."
    ),
]


@app.command()
def calibrate(
    file: HistoryFile,
    out_file: Annotated[Path, typer.Option("--out", help="Write the scenario YAML here.")],
    report: Annotated[
        Path | None, typer.Option(help="Write the report (CSV tables, notes.md, fit.png) here.")
    ] = None,
    preset: PresetOption = None,
    mapping: MapOption = None,
    rename: RenameOption = None,
    date_format: DateFormat = None,
    as_of: AsOf = None,
    roster: Roster = None,
    targets: Targets = None,
    products: Products = None,
    plan: PlanFile = None,
    periods: Periods = 3,
    period: Period = "quarter",
    tiers: Tiers = "auto",
    tier_count: TierCount = 3,
    amount_multiple: AmountMultiple = 3.0,
    amount_quantile: AmountQuantile = 0.999,
    min_rep_deals: MinRepDeals = 10,
    impute_amounts: ImputeAmounts = False,
    behaviour: Annotated[
        bool, typer.Option(help="With --plan: fit behaviour by simulated method of moments.")
    ] = True,
    behaviour_replications: Annotated[
        int, typer.Option(help="Replications per behaviour grid point.")
    ] = 4,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes for behaviour fitting and the fit check."),
    ] = None,
    fit_check: Annotated[
        int,
        typer.Option(help="Replications of the fit check over the history window (0 skips it)."),
    ] = 5,
    draws: Annotated[
        int,
        typer.Option(
            min=0,
            help="Draws of the fitted numbers written into the scenario's uncertainty, carried "
            "into every run and comparison of it (0 = plug-in).",
        ),
    ] = 20,
    force: Annotated[
        bool, typer.Option(help="Replace an existing --out file / --report dir.")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    calendar: CalendarOption = None,
    window: WindowOption = None,
    start: StartOption = None,
    days: DaysOption = None,
) -> None:
    """Fit a scenario to a CRM export: arrivals, win rates, cycles, deal sizes, rep skills.

    --window (a period of --calendar, or of the plan's clock) or --start/--days set the
    scenario's forecast window; --calendar also reads --targets written per fiscal period.
    """
    _refuse_existing(out_file, report, force)
    check_writable(out_file, report)
    anomaly, tier = rules(tiers, tier_count, amount_multiple, amount_quantile, min_rep_deals)
    loaded = load_config(plan, Plan) if plan else None
    clock = loaded.clock if loaded else period
    business = load_periods(calendar) if calendar else None
    span = business_periods.resolve_window(
        business or business_periods.clock_periods(clock), window, start and start.date(), days
    )
    history = load_history(
        file, preset, mapping, date_format, as_of, roster, targets, products, clock, business,
        rename,
    )  # fmt: skip
    calibrator = Calibrator(
        periods=periods, period=clock, anomalies=anomaly, tiers=tier, fit_behaviour=behaviour,
        behaviour_replications=behaviour_replications, workers=workers,
        impute_amounts=impute_amounts, fit_check_replications=fit_check, parameter_draws=draws,
        start=span and str(span[0]), days=span and span[1], calendar=business,
    )  # fmt: skip
    with progress_bar(quiet, "calibrating") as progress:
        fitted = calibrator.fit(
            history,
            plan=loaded,
            progress=progress and (lambda what, done, total: progress(done, total, what)),
        )
    print_findings(fitted.findings_)
    print_calibration(fitted)
    if fitted.fit_check_ is not None:
        print_fit_check(fitted.fit_check_)
    header = (
        f"# Calibrated by simplan {__version__} on {datetime.now(UTC):%Y-%m-%d} from {file}\n"
        f"# (as of {history.as_of:%Y-%m-%d}, last {periods} {'period' if business else clock}s). "
        "Fitted values with 95 %\n"
        "# intervals and the rules applied: simplan calibrate --report DIR (params.csv, notes.md).\n"
    )
    text = header + yaml.safe_dump(
        fitted.scenario_data_, sort_keys=False, default_flow_style=None, width=100
    )
    write_text_atomically(out_file, text)  # first: a failing report never loses the scenario
    out.print(f"scenario written to {out_file}")
    if report is not None:
        saved = save_atomically(report, force, fitted.report_.write)
        out.print(
            f"report written to {saved}/ (params.csv, tiers.csv, reps.csv, notes.md, fit.png)"
        )
        if fitted.report_.plot_error:
            out.print(f"warning: {fitted.report_.plot_error}", highlight=False)


def _refuse_existing(out_file: Path, report: Path | None, force: bool) -> None:
    if out_file.exists() and not force:
        raise SimplanError(f"{out_file}: exists; choose another --out or pass --force")
    if out_file.exists() and out_file.is_dir():
        raise SimplanError(f"{out_file}: is a directory; --out names the scenario file to write")
    if report is not None and report.exists() and any(report.iterdir()) and not force:
        raise SimplanError(
            f"{report}: directory is not empty; choose another --report or pass --force"
        )


def write_text_atomically(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, check it loads as a scenario, move it in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        load_scenario(tmp)  # what is written loads back
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def print_calibration(fitted: Calibrator) -> None:
    """Per tier: leads, win probability with its interval, stale share, cycle and size."""
    params = fitted.params_.set_index("parameter")
    table = Table(title=f"calibrated: {fitted.scenario_.name}", title_justify="left")
    for column in ("tier", "leads/day", "win prob. [95 %]", "stale", "won cycle days", "deal size"):
        table.add_column(column, justify="left" if column == "tier" else "right")
    tiers = fitted.report_.tables["tiers"]
    for _, row in tiers.iterrows():
        tier = row["tier"]
        win = params.loc[f"tier.{tier}.win_probability"]
        table.add_row(
            str(tier),
            f"{params.loc[f'tier.{tier}.arrivals_per_day', 'value']:.2f}",
            f"{win['value']:.1%} [{win['ci_low']:.1%}, {win['ci_high']:.1%}]",
            f"{row['stale_share']:.1%}",
            f"{row['won_cycle_mean']:.1f} ({row['cycle_family']})",
            f"{row['size_mean']:,.0f} ({row['size_family']})",
        )
    out.print(table)
    reps = fitted.report_.tables["reps"]
    out.print(
        f"{len(reps)} reps, skill {reps['skill'].min():.2f} .. {reps['skill'].max():.2f} "
        f"(win rates shrunk toward the team; prior strength "
        f"{params.loc['team.prior_strength', 'value']:,.0f} deals)"
    )
    for note in fitted.report_.notes:
        if not note.startswith(("FIT CHECK", "fit check")):  # printed with its table
            out.print(f"- {note}", highlight=False)


def print_fit_check(check: FitCheck) -> None:
    """History against the simulated 90 % interval, misses marked, then the loud warning."""
    start, end = check.window
    table = Table(
        title=f"fit check {start:%Y-%m-%d} .. {end:%Y-%m-%d} ({check.replications} replications)",
        title_justify="left",
    )
    for column in ("metric", "key", "history", "simulated 90 %", "in"):
        table.add_column(column, justify="left" if column in ("metric", "key") else "right")
    for row in check.table.itertuples():
        table.add_row(
            row.metric, str(row.key), shown(row.metric, row.history),
            f"{shown(row.metric, row.low)} .. {shown(row.metric, row.high)}",
            "yes" if row.inside else "[bold red]MISS[/]",
        )  # fmt: skip
    out.print(table)
    warning = check.warning()
    if warning:
        out.print(f"[bold red]warning:[/] {escape(warning)}")


@app.command(name="backtest")
def backtest_command(
    file: HistoryFile,
    train_until: Annotated[str, typer.Option(help="Fit on deals known by the end of this date.")],
    horizon: Annotated[str, typer.Option(help="What to predict after it: 1q, 3m, 90d, 1y.")] = "1q",
    replications: Annotated[int, typer.Option(help="Simulated replications (>= 2).")] = 100,
    draws: Annotated[
        int,
        typer.Option(
            help="Draws of the fitted numbers the calibrated scenario carries and the "
            "replications run under (0 = plug-in)."
        ),
    ] = 20,
    seed: Annotated[int, typer.Option(help="Root seed.")] = 0,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: all cores).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write metrics.csv, coverage.csv, notes.md here.")
    ] = None,
    preset: PresetOption = None,
    mapping: MapOption = None,
    rename: RenameOption = None,
    date_format: DateFormat = None,
    as_of: AsOf = None,
    roster: Roster = None,
    targets: Targets = None,
    products: Products = None,
    periods: Periods = 3,
    period: Period = "quarter",
    tiers: Tiers = "auto",
    tier_count: TierCount = 3,
    amount_multiple: AmountMultiple = 3.0,
    amount_quantile: AmountQuantile = 0.999,
    min_rep_deals: MinRepDeals = 10,
    force: Annotated[bool, typer.Option(help="Replace a non-empty --out directory.")] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
    calendar: CalendarOption = None,
) -> None:
    """Fit on the history up to --train-until, simulate the horizon after it, and report
    actual against predicted with 50 % and 90 % interval coverage; with --calendar the
    baseline is the last --periods of the business's periods."""
    check_out_dir(out_dir, force)
    anomaly, tier = rules(tiers, tier_count, amount_multiple, amount_quantile, min_rep_deals)
    business = load_periods(calendar) if calendar else None
    history = load_history(
        file, preset, mapping, date_format, as_of, roster, targets, products, period, business,
        rename,
    )  # fmt: skip
    calibrator = Calibrator(
        periods=periods, period=period, anomalies=anomaly, tiers=tier, calendar=business
    )
    with progress_bar(quiet) as progress:
        result = backtest(
            history, train_until, horizon=horizon, replications=replications,
            parameter_draws=draws, seed=seed, workers=workers, calibrator=calibrator,
            progress=progress,
        )  # fmt: skip
    print_backtest(result)
    if out_dir is not None:
        saved = save_atomically(out_dir, force, result.write)
        out.print(
            f"backtest written to {saved}/ (metrics.csv, coverage.csv, simulated.csv, "
            "pipeline.csv, notes.md)"
        )


def print_backtest(result: BacktestResult) -> None:
    """Actual against the 50 % and 90 % prediction intervals, then coverage per group."""
    start, end = result.window
    table = Table(title=f"backtest {start:%Y-%m-%d} .. {end:%Y-%m-%d}", title_justify="left")
    for column in ("group", "key", "actual", "P50", "50 % interval", "90 % interval", "in"):
        table.add_column(column, justify="left" if column in ("group", "key") else "right")
    for _, row in result.metrics.iterrows():
        form = "{:.1%}" if row["key"] == "win rate" else "{:,.0f}"
        table.add_row(
            row["group"],
            str(row["key"]),
            form.format(row["actual"]),
            form.format(row["p50"]),
            f"{form.format(row['p25'])} .. {form.format(row['p75'])}",
            f"{form.format(row['p05'])} .. {form.format(row['p95'])}",
            "50" if row["in50"] else ("90" if row["in90"] else "out"),
        )
    out.print(table)
    coverage = Table(
        title="coverage: share of actual values inside the intervals", title_justify="left"
    )
    for column in ("group", "values", "50 % (nominal 50 %)", "90 % (nominal 90 %)"):
        coverage.add_column(column, justify="left" if column == "group" else "right")
    for _, row in result.coverage.iterrows():
        coverage.add_row(
            row["group"], str(row["values"]), f"{row['coverage50']:.0%}", f"{row['coverage90']:.0%}"
        )
    out.print(coverage)
    for note in result.notes[:3]:
        out.print(f"- {note}", highlight=False)

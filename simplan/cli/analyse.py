"""`simplan compare | budget | targets | thresholds`: the planner's and finance's answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from simplan.analysis.budget import check_sizing, plan_budget, size_budget
from simplan.analysis.compare import Comparison, narrowing_text, percent
from simplan.analysis.compare import compare as compare_plans
from simplan.analysis.plan_review import review_scenarios
from simplan.analysis.plots import pareto_plot
from simplan.analysis.sweep import target_sweep, threshold_sweep
from simplan.analysis.targets import TargetProposal, target_plan
from simplan.cli.app import (
    CalendarOption,
    DaysOption,
    Engine,
    StartOption,
    WindowOption,
    app,
    check_out_dir,
    check_out_file,
    fmt,
    load_with_engine,
    on_calendar,
    out,
    parse_floats,
    print_frame,
    print_metrics,
    progress_bar,
)
from simplan.cli.simulate import Force, Quiet, Replications, Scheduler, Seed, Workers
from simplan.errors import SimplanError
from simplan.history import parse_mapping, read_deals
from simplan.report.formats import metric_name
from simplan.results import save_atomically
from simplan.runner import simulate

Confidence = Annotated[float, typer.Option(help="Confidence level, strictly between 0 and 1.")]
OutDir = Annotated[Path | None, typer.Option("--out", help="Save the tables to this directory.")]


def money(value: float) -> str:
    return "n/a" if value != value else f"{value:,.0f}"


def share(value: float) -> str:
    return "n/a" if value != value else f"{value:.1%}"


def number(value: float) -> str:
    return "n/a" if value != value else f"{value:,.3g}"


@app.command()
def compare(
    baseline: Annotated[
        Path,
        typer.Argument(
            help="The base scenario: the baseline, unless it has no plan and --plan is given."
        ),
    ],
    proposals: Annotated[
        list[Path] | None, typer.Argument(help="Proposal scenario files to compare with it.")
    ] = None,
    plans: Annotated[
        list[Path] | None,
        typer.Option("--plan", help="A plan file; BASE under this plan is compared (repeat)."),
    ] = None,
    targets: Annotated[
        Path | None,
        typer.Option(
            help="Targets file (rep_id, period, target): each rep's quota for the window."
        ),
    ] = None,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    confidence: Confidence = 0.95,
    predictive: Annotated[
        float,
        typer.Option(help="Level of the predictive interval (where the period will land)."),
    ] = 0.9,
    out_dir: OutDir = None,
    force: Force = False,
    quiet: Quiet = False,
    calendar: CalendarOption = None,
    window: WindowOption = None,
    start: StartOption = None,
    days: DaysOption = None,
    engine: Engine = None,
) -> None:
    """Each proposal against the baseline on the same customers: predictive intervals and
    paired confidence intervals of the mean."""
    check_out_dir(out_dir, force)
    scenarios = review_scenarios(
        load_with_engine(baseline, engine),
        [load_with_engine(path, engine) for path in proposals or ()],
        plans or (),
        targets,
        reframe=lambda s: on_calendar(s, calendar, window, start, days),
    )
    with progress_bar(quiet) as progress:
        result = compare_plans(
            *scenarios,
            replications=replications,
            seed=seed,
            workers=workers,
            confidence=confidence,
            predictive=predictive,
            progress=progress,
            scheduler=scheduler,
        )
    _print_comparison(result)
    if out_dir is not None:
        out.print(f"comparison written to {result.save(out_dir, force=force)}/")


def _print_comparison(result: Comparison) -> None:
    """Per scenario and per difference: the predictive interval and the interval of the mean,
    each under a heading that says which is which."""
    pi, ci = f"{percent(result.predictive)} predictive", f"{percent(result.confidence)} CI of mean"

    def span(metrics: pd.Series, low: pd.Series, high: pd.Series) -> list[str]:
        return [
            "n/a" if lo != lo else f"[{fmt(m, lo)}, {fmt(m, hi)}]"
            for m, lo, hi in zip(metrics, low, high, strict=True)
        ]

    s = result.summary
    per_scenario = pd.DataFrame(
        {
            "scenario": s["scenario"],
            "metric": s["metric"].map(metric_name),
            "mean": [fmt(m, v) for m, v in zip(s["metric"], s["mean"], strict=True)],
            pi: span(s["metric"], s["pi_low"], s["pi_high"]),
            ci: span(s["metric"], s["ci_low"], s["ci_high"]),
        }
    )
    print_frame("per scenario", per_scenario, {})
    d = result.differences
    table = pd.DataFrame(
        {
            "proposal": d["scenario"],
            "metric": d["metric"].map(metric_name),
            "difference": [fmt(m, v) for m, v in zip(d["metric"], d["difference"], strict=True)],
            pi: span(d["metric"], d["pi_low"], d["pi_high"]),
            ci: span(d["metric"], d["ci_low"], d["ci_high"]),
            "paired ±": [
                fmt(m, v) for m, v in zip(d["metric"], d["paired_half_width"], strict=True)
            ],
            "independent ±": [
                fmt(m, v) for m, v in zip(d["metric"], d["independent_half_width"], strict=True)
            ],
            "narrower by": [narrowing_text(v) for v in d["narrowing"]],
        }
    )
    print_frame(f"proposal minus {result.scenarios[0]}, paired on common random numbers", table, {})
    out.print(result.predictive_label(), highlight=False)
    out.print(result.confidence_label(), highlight=False)


@app.command()
def budget(
    scenario: Annotated[Path, typer.Argument(help="Scenario with a plan.")],
    amount: Annotated[
        float | None, typer.Option("--budget", help="Budget to test (default: the plan's).")
    ] = None,
    confidence: Confidence = 0.9,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    out_dir: OutDir = None,
    force: Force = False,
    quiet: Quiet = False,
    engine: Engine = None,
) -> None:
    """The incentive payout distribution and the budget a confidence level needs."""
    loaded = load_with_engine(scenario, engine, "fast")
    if loaded.plan is None:
        raise SimplanError(
            f"{scenario}: has no plan, so nothing to size; add `plan:` to the scenario"
        )
    check_sizing(amount, confidence)  # before simulating, not after
    check_out_dir(out_dir, force)
    with progress_bar(quiet) as progress:
        results = simulate(
            loaded,
            replications=replications,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            keep=(),  # sizing reads runs and statement totals: stream, memory stays bounded
        )
    sizing = size_budget(
        results, amount if amount is not None else plan_budget(results), confidence
    )
    rows = [
        (
            m,
            "yes"
            if m.startswith(("reserve covers", "cost of sales within")) and v == 1
            else "no"
            if m.startswith(("reserve covers", "cost of sales within"))
            else fmt(m, v),
        )
        for m, v in sizing.overview.itertuples(index=False)
    ]
    print_metrics(f"{loaded.name}: incentive budget", rows)
    print_frame(
        "per component, per replication",
        sizing.components,
        {"mean": money, "p90": money, "share_of_payout": share},
    )
    if out_dir is not None:

        def write(tmp: Path) -> None:
            sizing.overview.to_csv(tmp / "overview.csv", index=False)
            sizing.components.to_csv(tmp / "components.csv", index=False)
            results.write(tmp)

        out.print(f"budget tables written to {save_atomically(out_dir, force, write)}/")


@app.command()
def targets(
    scenario: Annotated[Path, typer.Argument(help="Scenario with team quotas.")],
    levels: Annotated[
        str, typer.Option(help="Target increases to try, e.g. 0,0.1,0.2,0.3.")
    ] = "0,0.05,0.1,0.15,0.2,0.25,0.3",
    band: Annotated[
        tuple[float, float], typer.Option(help="Acceptable share of reps at target.")
    ] = (0.5, 0.8),
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    growth: Annotated[
        float | None,
        typer.Option(
            help="Market growth for the three-way target, e.g. 0.1; adds a decomposition."
        ),
    ] = None,
    year: Annotated[
        int | None, typer.Option(help="Year to decompose (default: the next one).")
    ] = None,
    history: Annotated[
        Path | None, typer.Option(help="Won-deal history for the baseline (default: simulate).")
    ] = None,
    mapping: Annotated[
        list[str] | None, typer.Option("--map", help="canonical=source column of --history.")
    ] = None,
    out_dir: OutDir = None,
    force: Force = False,
    quiet: Quiet = False,
    engine: Engine = None,
) -> None:
    """Sweep target levels: share of reps at target, bookings, payout; flag levels outside the band.

    With --growth, also the three-way target (history, market, team) decomposed to each rep.
    """
    loaded = load_with_engine(scenario, engine, "fast")
    values = parse_floats(levels, "--levels")
    check_out_dir(out_dir, force)
    plan = None
    if growth is not None:
        ledger = read_deals(history, parse_mapping(mapping)) if history is not None else None
        run = {
            "replications": replications,
            "seed": seed,
            "workers": workers,
            "scheduler": scheduler,
        }
        plan = target_plan(loaded, growth, year or loaded.calendar.start.year + 1, ledger, **run)
        _print_target_plan(*plan)
    with progress_bar(quiet) as progress:
        table = target_sweep(
            loaded,
            values,
            band=band,
            replications=replications,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )
    shown = table.assign(outside_band=table["outside_band"].map({True: "OUTSIDE", False: ""}))
    print_frame(
        f"{loaded.name}: target levels (band {band[0]:.0%}-{band[1]:.0%} at target)",
        shown,
        {
            "level": share,
            "target_per_period": money,
            "bookings": money,
            "payout_p50": money,
            "payout_p90": money,
            "cost_of_sales": share,
            "share_at_target": share,
        },
    )
    if out_dir is not None:

        def write(tmp: Path) -> None:
            table.to_csv(tmp / "targets.csv", index=False)
            if plan is not None:
                plan[0].explain().to_csv(tmp / "three_way.csv", index=False)
                plan[1].to_csv(tmp / "decomposition.csv", index=False)

        out.print(f"written to {save_atomically(out_dir, force, write)}/")


def _print_target_plan(proposal: TargetProposal, decomposition: pd.DataFrame) -> None:
    rows = []
    for step, value in proposal.explain().itertuples(index=False):
        if isinstance(value, str):
            text = value
        elif step.startswith(("market growth", "new-hire share", "buffer")):
            text = f"{value:.1%}"
        else:
            text = fmt(step, value)
        rows.append((step, text))
    print_metrics("three-way target for the next quarter", rows)
    quarters = decomposition.groupby("quarter")["quarter_target"].first().reset_index()
    print_frame(
        "annual target by quarter (x4 the quarterly target)", quarters, {"quarter_target": money}
    )
    first = decomposition[decomposition["month"] == decomposition["month"].min()]
    squads = first.groupby("squad").agg(
        squad_target=("squad_target", "first"), reps=("rep_id", "size")
    )
    print_frame(
        f"{first['month'].iloc[0]} by squad (each sums back exactly)",
        squads.reset_index(),
        {"squad_target": money},
    )


@app.command()
def thresholds(
    scenario: Annotated[Path, typer.Argument(help="Scenario with a plan.")],
    settings: Annotated[
        list[str],
        typer.Option("--set", help="component.field=v1,v2,... e.g. gate.threshold=0.6,0.7,0.8"),
    ],
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    plot: Annotated[Path | None, typer.Option(help="Write the Pareto plot (PNG) here.")] = None,
    out_dir: OutDir = None,
    force: Force = False,
    quiet: Quiet = False,
    engine: Engine = None,
) -> None:
    """Sweep plan lines and rates on a grid; the Pareto front of bookings against cost."""
    loaded = load_with_engine(scenario, engine, "fast")
    grid = {}
    for item in settings:
        name, sep, values = item.partition("=")
        component, dot, field = name.partition(".")
        if not sep or not dot:
            raise SimplanError(
                f"--set {item!r}: write component.field=v1,v2, e.g. gate.threshold=0.6,0.8"
            )
        grid[(component, field)] = parse_floats(values, f"--set {name}")
    check_out_dir(out_dir, force)
    check_out_file(plot)
    with progress_bar(quiet) as progress:
        table = threshold_sweep(
            loaded,
            grid,
            replications=replications,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )
    shown = table.assign(pareto=table["pareto"].map({True: "*", False: ""}))
    print_frame(
        f"{loaded.name}: plan settings (* = Pareto front)",
        shown,
        {
            "bookings": money,
            "payout_p50": money,
            "payout_p90": money,
            "cost_of_sales": share,
            "share_at_target": share,
        }
        | {f"{c}.{f}": number for c, f in grid},
    )
    if plot is not None:
        written = pareto_plot(table, plot, [f"{c}.{f}" for c, f in grid])
        out.print(f"Pareto plot written to {written}")
    if out_dir is not None:
        out.print(
            f"written to {save_atomically(out_dir, force, lambda tmp: table.to_csv(tmp / 'thresholds.csv', index=False))}/"
        )

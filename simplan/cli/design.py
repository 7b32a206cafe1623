"""`simplan optimise | sensitivity`: design a plan, and see which assumption moves an answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from simplan.analysis.design_goal import Goal, parse_lever, parse_range
from simplan.analysis.optimise import optimise
from simplan.analysis.plan_review import with_plan
from simplan.analysis.sensitivity import (
    at_point,
    parse_factors,
    scenario_model,
    scenario_values,
    sensitivity,
)
from simplan.cli.app import (
    app,
    check_out_dir,
    fmt,
    load_with_engine,
    out,
    print_frame,
    progress_bar,
)
from simplan.cli.simulate import Force, Quiet, Seed, Workers

OutDir = Annotated[Path, typer.Option("--out", help="Write the results to this directory.")]


@app.command("optimise")
def optimise_command(
    scenario: Annotated[
        Path, typer.Argument(help="The team: a scenario whose reps respond to the plan.")
    ],
    vary: Annotated[
        list[str],
        typer.Option(
            "--vary",
            metavar="COMPONENT.FIELD=LOW:HIGH",
            help="A plan setting to search, e.g. tiered_commission.tiers[1].rate=0.08:0.25 (repeat).",
        ),
    ],
    out_dir: OutDir,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", help="The plan to start from (default: the scenario's)."),
    ] = None,
    objective: Annotated[
        str, typer.Option(metavar="bookings|profit|cost_at_target", help="What to optimise.")
    ] = "profit",
    margin: Annotated[float, typer.Option(help="Gross margin on bookings, for profit.")] = 1.0,
    target_bookings: Annotated[
        float | None, typer.Option(help="Bookings to reach, for cost_at_target.")
    ] = None,
    budget: Annotated[
        float | None,
        typer.Option(help="Payout must stay within this at --confidence (default: the plan's)."),
    ] = None,
    confidence: Annotated[float, typer.Option(help="Confidence the budget must hold at.")] = 0.9,
    cost_of_sales: Annotated[
        str | None,
        typer.Option(metavar="LOW:HIGH", help="Band for payout / bookings, e.g. 0.05:0.12."),
    ] = None,
    min_share_at_target: Annotated[
        float | None, typer.Option(help="Least mean share of reps at target, e.g. 0.5.")
    ] = None,
    candidates: Annotated[int, typer.Option(min=1, help="Plans to try.")] = 200,
    replications: Annotated[int, typer.Option(min=2, help="Replications per plan tried.")] = 200,
    finalists: Annotated[int, typer.Option(min=1, help="Best plans re-run on fresh seeds.")] = 3,
    check_replications: Annotated[
        int | None,
        typer.Option(min=2, help="Replications of the re-run (default: --replications)."),
    ] = None,
    seed: Seed = None,
    workers: Workers = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Search plan settings for an objective under constraints on common random numbers (fast
    engine), re-run the best few on fresh seeds against the starting plan, write the winner."""
    levers = [parse_lever(item) for item in vary]
    band = parse_range(cost_of_sales, "--cost-of-sales") if cost_of_sales else None
    loaded = load_with_engine(scenario, "fast")
    start = with_plan(loaded, plan) if plan is not None else loaded
    if budget is None and start.plan is not None and start.plan.budget is not None:
        budget = start.plan.budget.total
    goal = Goal(
        objective=objective,  # type: ignore[arg-type]  # checked by Goal
        margin=margin,
        target_bookings=target_bookings,
        budget=budget,
        confidence=confidence,
        cost_of_sales=band,
        min_share_at_target=min_share_at_target,
    )
    check_out_dir(out_dir, force)
    with progress_bar(quiet, "candidates") as progress:
        design = optimise(
            start,
            levers,
            goal,
            candidates=candidates,
            replications=replications,
            finalists=finalists,
            check_replications=check_replications,
            seed=seed,
            workers=workers,
            progress=progress,
        )
    table = design.finalists
    columns = ["scenario", *[lever.name for lever in levers], "objective", "difference"]
    columns += [
        "diff_ci_low",
        "diff_ci_high",
        "payout_at_confidence",
        "share_at_target",
        "feasible",
    ]
    shown = table[columns].assign(feasible=table["feasible"].map({True: "yes", False: "NO"}))
    money = {c: (lambda v, c=c: fmt(c, v)) for c in columns[len(levers) + 1 : -1]}
    money |= {lever.name: (lambda v: f"{v:.4g}") for lever in levers}
    print_frame(
        f"finalists on fresh seeds (seed {design.fresh_seed}), {objective} against the starting plan",
        shown,
        money,
    )
    out.print(f"chosen: {design.best_name}", highlight=False)
    for note in design.notes:
        out.print(f"[yellow]note[/yellow] {escape(note)}", highlight=False)
    written = design.save(out_dir, force=force)
    out.print(
        f"best_plan.yaml, candidates.csv, pareto.png and the comparison written to {written}/"
    )


@app.command("sensitivity")
def sensitivity_command(
    scenario: Annotated[Path, typer.Argument(help="The scenario whose assumptions to vary.")],
    out_dir: OutDir,
    params: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            metavar="KEY=LOW:HIGH",
            help="A scenario number and its range, e.g. leads.tiers[0].win_probability=0.35:0.55 "
            "(repeat); KEY alone takes a drawn parameter's 5-95 % interval; none: all drawn ones.",
        ),
    ] = None,
    output: Annotated[
        str, typer.Option(metavar="bookings|payout|share_at_target|effect", help="The answer.")
    ] = "bookings",
    plans: Annotated[
        list[Path] | None,
        typer.Option("--plan", help="For --output effect: plan A then plan B (B - A)."),
    ] = None,
    effect_on: Annotated[
        str, typer.Option(help="The KPI of the effect: bookings, payout or share_at_target.")
    ] = "bookings",
    method: Annotated[
        str, typer.Option(metavar="morris|sobol", help="Screening or indices.")
    ] = "morris",
    samples: Annotated[
        int, typer.Option(min=2, help="Morris trajectories, or Sobol's base sample (a power of 2).")
    ] = 10,
    replications: Annotated[int, typer.Option(min=1, help="Replications per point.")] = 20,
    seed: Seed = None,
    workers: Workers = None,
    force: Force = False,
    quiet: Quiet = False,
) -> None:
    """Which assumption moves the answer: Morris screening or Sobol indices over the ranges,
    and a tornado (the answer at each end of each range), on common random numbers."""
    loaded = load_with_engine(scenario, "fast")
    scenarios = [with_plan(loaded, plan) for plan in plans or ()] or [loaded]
    factors = parse_factors(params or (), loaded)
    centre = scenario_values(loaded, [f.path for f in factors])
    for point in ("low", "high"):  # every end validates, before any simulation
        for one in scenarios:
            at_point(one, {f.path: getattr(f, point) for f in factors})
    seed = loaded.simulation.seed if seed is None else seed
    model = scenario_model(scenarios, output, effect_on, replications, seed, workers)
    check_out_dir(out_dir, force)
    with progress_bar(quiet, "points") as progress:
        found = sensitivity(
            model, factors, centre, output=output, method=method, samples=samples, seed=seed,
            progress=progress,
        )  # fmt: skip
    what = f"{output} ({effect_on}, B - A)" if output == "effect" else output
    numbers = {c: (lambda v: f"{v:.3g}") for c in found.indices.columns if c != "parameter"}
    print_frame(f"{method}: what moves {what}, {found.evaluations} points", found.indices, numbers)
    answer = {
        c: (lambda v, c=c: fmt(effect_on if output == "effect" else output, v))
        for c in ("at_low", "at_high", "swing")
    }
    print_frame(
        f"tornado: {what} at each end (others at the scenario's values: {fmt(what, found.centre)})",
        found.tornado,
        answer | {"low": lambda v: f"{v:.4g}", "high": lambda v: f"{v:.4g}"},
    )
    still = found.tornado.loc[found.tornado["swing"] == 0, "parameter"].tolist()
    if still:
        out.print(
            f"moved {what} not at all at either end of its range: {', '.join(still)}. Either "
            "this scenario does not use it (e.g. behaviour.cost_curvature acts on optimising "
            "reps only), or its range is too narrow to move this answer: check the behaviour "
            "model, the plan and the key"
        )
    out.print(
        f"sensitivity.csv, tornado.csv and tornado.png written to {found.save(out_dir, force)}/"
    )

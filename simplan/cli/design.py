"""`simplan optimise | sensitivity`: design a plan, and see which assumption moves an answer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simplan.analysis.optimise import Goal, optimise, parse_lever, parse_range
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
    start_plan = loaded.plan
    if budget is None and start_plan is not None and start_plan.budget is not None and plan is None:
        budget = start_plan.budget.total
    goal = Goal(objective, margin, target_bookings, budget, confidence, band, min_share_at_target)  # type: ignore[arg-type]
    check_out_dir(out_dir, force)
    with progress_bar(quiet, "candidates") as progress:
        design = optimise(
            loaded,
            levers,
            goal,
            plan=plan,
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
        out.print(f"[yellow]note[/yellow] {note}", highlight=False)
    written = design.save(out_dir, force=force)
    out.print(
        f"best_plan.yaml, candidates.csv, pareto.png and the comparison written to {written}/"
    )

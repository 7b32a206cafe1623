"""`simplan validate` and `simplan run`: check scenarios, simulate one and save its tables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simplan.cli.app import (
    CalendarOption,
    DaysOption,
    Engine,
    StartOption,
    WindowOption,
    app,
    check_out_dir,
    fmt,
    load_with_engine,
    on_calendar,
    out,
    print_error,
    print_metrics,
    progress_bar,
    warn_inert,
)
from simplan.errors import SimplanError
from simplan.model.plan import Plan
from simplan.runner import default_keep, simulate
from simplan.scenario import load_file

Replications = Annotated[
    int | None, typer.Option(min=1, help="Replications (default: the scenario's).")
]
Seed = Annotated[int | None, typer.Option(min=0, help="Root seed (default: the scenario's).")]
Workers = Annotated[int | None, typer.Option(min=1, help="Worker processes (default: all cores).")]
Force = Annotated[bool, typer.Option(help="Replace a non-empty --out directory.")]
Quiet = Annotated[bool, typer.Option(help="No progress bar.")]
Scheduler = Annotated[
    str | None,
    typer.Option(
        metavar="ADDRESS|local",
        help="Run on Dask: a scheduler's address (tcp://HOST:PORT), or 'local' for a local "
        "cluster of --workers processes. Needs pip install 'simplan\\[dask]'.",
    ),
]


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario or plan YAML files.")],
) -> None:
    """Check scenario and plan files; print each one's name (and a scenario's digest), or every
    problem found."""
    failed = False
    for path in files:
        try:
            loaded = load_file(path)
        except SimplanError as error:
            print_error(error)
            failed = True
            continue
        if isinstance(loaded, Plan):
            count = len(loaded.components)
            out.print(f"ok {path}: plan '{loaded.name}' ({count} components, {loaded.clock} clock)")
        else:
            out.print(f"ok {path}: scenario '{loaded.name}' (digest {loaded.digest()})")
            warn_inert(path, loaded)
    if failed:
        raise typer.Exit(2)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    scheduler: Scheduler = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Save the tables to this directory.")
    ] = None,
    force: Force = False,
    quiet: Quiet = False,
    calendar: CalendarOption = None,
    window: WindowOption = None,
    start: StartOption = None,
    days: DaysOption = None,
    engine: Engine = None,
    keep: Annotated[
        str | None,
        typer.Option(
            metavar="deals,credits,daily",
            help="Bound memory: keep these big tables for every replication, the others for "
            "the first 20 only (default: everything up to 200 replications, beyond that "
            "none past the first 20).",
        ),
    ] = None,
) -> None:
    """Simulate a scenario, print the summary, and save the tables with --out."""
    loaded = on_calendar(load_with_engine(scenario, engine), calendar, window, start, days)
    if keep is None:
        kept = default_keep(replications or loaded.simulation.replications)
    else:
        kept = [name.strip() for name in keep.split(",") if name.strip()]
    check_out_dir(out_dir, force)
    with progress_bar(quiet) as progress:
        results = simulate(
            loaded,
            replications=replications,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
            keep=kept,
            out=out_dir if kept is not None else None,  # a stream saves as it goes
            force=force,
        )
    m = results.manifest
    title = f"{loaded.name}: {m['replications']} replications, seed {m['seed']}"
    print_metrics(title, ((k, fmt(k, v)) for k, v in results.summary()["value"].items()))
    if out_dir is not None:
        if kept is None:
            results.save(out_dir, force=force)
        out.print(
            f"tables written to {out_dir}/ (deals, credits, daily, reps, runs, statements + "
            "manifest.json)"
        )

"""`simplan pilot`: what a pilot of a proposal would show, and how big and long it must be."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from simplan.analysis.pilot import pilot_power, pilot_study, required_pilot
from simplan.cli.app import (
    Engine,
    app,
    load_with_engine,
    out,
    parse_floats,
    print_frame,
    print_metrics,
    progress_bar,
)
from simplan.cli.simulate import Replications, Seed, Workers
from simplan.errors import SimplanError


@app.command()
def pilot(
    baseline: Annotated[Path, typer.Argument(help="The plan in force.")],
    proposal: Annotated[Path, typer.Argument(help="The plan to pilot.")],
    share: Annotated[float, typer.Option(help="Share of the team in the pilot.")] = 0.2,
    unit: Annotated[
        Literal["rep", "squad"], typer.Option(help="Randomise reps or whole squads.")
    ] = "rep",
    periods: Annotated[
        int | None,
        typer.Option(min=1, help="Pilot length in plan periods (default: all after the first)."),
    ] = None,
    uplifts: Annotated[
        str, typer.Option(help="Uplifts in bookings to size the pilot for.")
    ] = "0.05,0.1,0.2",
    shares: Annotated[str, typer.Option(help="Pilot shares to try for power.")] = "0.1,0.2,0.3,0.5",
    power: Annotated[float, typer.Option(help="Power the pilot should have.")] = 0.8,
    replications: Replications = None,
    seed: Seed = None,
    workers: Workers = None,
    engine: Engine = None,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Simulate a pilot (difference in differences against the first period) and size one."""
    if not 0 < power < 1:
        raise SimplanError(f"--power {power}: must lie strictly between 0 and 1, e.g. 0.8")
    base = load_with_engine(baseline, engine, "fast")
    prop = load_with_engine(proposal, engine, "fast")
    lifts, tried = parse_floats(uplifts, "--uplifts"), parse_floats(shares, "--shares")
    with progress_bar(quiet) as progress:
        study = pilot_study(
            base,
            prop,
            share=share,
            unit=unit,
            periods=periods,
            replications=replications,
            seed=seed,
            workers=workers,
            progress=progress,
        )
    e = study.estimates
    print_metrics(
        f"a {share:.0%} pilot of {prop.name} against {base.name} (by {unit})",
        [
            ("true effect, bookings per rep per period", f"{study.true_effect:,.0f}"),
            ("pilot estimate, mean", f"{e['estimate'].mean():,.0f}"),
            ("pilot estimate, spread (sd)", f"{e['estimate'].std():,.0f}"),
            ("pilots that detect it (power)", f"{study.power:.0%}"),
            ("intervals that cover the true effect", f"{study.coverage:.0%}"),
        ],
    )
    table = pilot_power(study.baseline, shares=tried, uplifts=lifts, unit=unit)
    wide = table.pivot_table(
        index=["periods", "share"], columns="uplift", values="power"
    ).reset_index()
    wide.columns = [c if isinstance(c, str) else f"uplift {c:.0%}" for c in wide.columns]
    print_frame(
        "power to detect each uplift",
        wide,
        {c: (lambda v: f"{v:.0%}") for c in wide.columns if c.startswith(("uplift", "share"))},
    )
    for lift in lifts:
        best = required_pilot(table, lift, power)
        text = (
            "no pilot tried reaches it: simulate more periods or accept a larger effect"
            if best is None
            else f"{best['share']:.0%} of the team for {int(best['periods'])} period(s)"
        )
        out.print(f"{power:.0%} power for a {lift:.0%} uplift: {text}")

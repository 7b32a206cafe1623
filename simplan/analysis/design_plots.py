"""The plan designer's two pictures: candidates' bookings against payout, and a tornado of
which assumption moves an answer. Built without pyplot, so no display or global state."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from simplan.analysis.sweep import pareto_front


def _short(value: float, _: object = None) -> str:
    """Axis labels: 12.5M, 250k, 0.12."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:,.3g}"


def pareto_figure(candidates: pd.DataFrame, budget: float | None = None) -> Figure:
    """Each candidate's mean bookings against its mean payout; the front of candidates no other
    books more than for less is joined, those breaking a constraint are hollow."""
    figure = Figure(figsize=(7.5, 4.8), layout="constrained")
    axes = figure.add_subplot()
    bookings = candidates["bookings"].to_numpy(dtype=float)
    payout = candidates["payout"].to_numpy(dtype=float)
    feasible = candidates["feasible"].to_numpy(dtype=bool)
    axes.scatter(
        payout[feasible], bookings[feasible], s=14, color="C0", label="meets the constraints"
    )
    axes.scatter(
        payout[~feasible],
        bookings[~feasible],
        s=14,
        facecolors="none",
        edgecolors="0.5",
        label="breaks a constraint",
    )
    front = pareto_front(bookings, payout) & feasible
    order = np.argsort(payout[front])
    axes.plot(payout[front][order], bookings[front][order], "-", color="C1", label="Pareto front")
    if budget is not None:
        axes.axvline(
            budget,
            color="C3",
            linestyle="--",
            linewidth=1,
            label="budget (held by a high quantile of payout, not the mean)",
        )
    axes.xaxis.set_major_formatter(FuncFormatter(_short))
    axes.yaxis.set_major_formatter(FuncFormatter(_short))
    axes.set_xlabel("mean payout per replication (the simulated window)")
    axes.set_ylabel("mean bookings per replication")
    axes.set_title("Plans tried: bookings against payout", fontsize=11)
    axes.legend(fontsize=8)
    return figure


def tornado_figure(table: pd.DataFrame, what: str, centre: float | None = None) -> Figure:
    """One bar per parameter from the answer at its low end to the answer at its high end
    (columns parameter, at_low, at_high), the widest on top; `centre` marks the answer itself."""
    shown = table.assign(width=(table["at_high"] - table["at_low"]).abs())
    shown = shown.sort_values("width").reset_index(drop=True)
    figure = Figure(figsize=(7.5, max(2.5, 0.45 * len(shown) + 1.2)), layout="constrained")
    axes = figure.add_subplot()
    rows = np.arange(len(shown))
    low, high = shown["at_low"].to_numpy(float), shown["at_high"].to_numpy(float)
    axes.barh(rows, high - low, left=low, color=np.where(high >= low, "C0", "C3"), height=0.6)
    axes.set_yticks(rows, shown["parameter"], fontsize=8)
    if centre is not None:
        axes.axvline(centre, color="k", linewidth=1)
    axes.xaxis.set_major_formatter(FuncFormatter(_short))
    axes.set_xlabel(f"{what} (blue: higher at the parameter's high end; red: lower)")
    axes.set_title(f"What moves {what}", fontsize=11)
    axes.grid(axis="x", color="0.9")
    return figure


def save_figure(figure: Figure, path: str | Path) -> Path:
    """Write a figure as PNG through a temporary beside it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    figure.savefig(tmp, dpi=110, format="png")
    tmp.replace(path)
    return path

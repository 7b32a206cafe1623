"""Plots a person would rather see than read, written to files (no display needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure  # no pyplot: no global backend or state is touched


def pareto_plot(table: pd.DataFrame, path: str | Path, settings: list[str]) -> Path:
    """Bookings against cost of sales for each sweep point, the Pareto front joined and marked.

    Points are labelled with their values of `settings` (column names of `table`).
    """
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.subplots()
    x, y = table["cost_of_sales"] * 100, table["bookings"] / 1e6
    ax.scatter(x, y, color="0.6", label="plans tried")
    front = table[table["pareto"]].sort_values("cost_of_sales")
    ax.plot(
        front["cost_of_sales"] * 100,
        front["bookings"] / 1e6,
        "o-",
        color="C0",
        label="Pareto front",
    )
    for (_, row), xi, yi in zip(table.iterrows(), x, y, strict=True):
        text = " / ".join(f"{row[c]:g}" for c in settings)
        ax.annotate(text, (xi, yi), fontsize=8, xytext=(5, -10), textcoords="offset points")
    ax.legend(title="labels: " + " / ".join(settings), title_fontsize=8, fontsize=8)
    ax.set_xlabel("cost of sales (payout as % of bookings)")
    ax.set_ylabel("bookings (millions)")
    ax.set_title("Bookings against cost: plans no other plan beats on both")
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, dpi=120, format=path.suffix.lstrip(".") or "png")
    tmp.replace(path)
    return path

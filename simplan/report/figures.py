"""The report's plots, one function per question, each returning a matplotlib `Figure`.

Figures are built without pyplot, so they work on a server (no display), leave no open
figures behind, and show inline in a notebook as they are. `png_data_uri` embeds one in HTML.
"""

from __future__ import annotations

import base64
import io

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from simplan.analysis.compare import Comparison
from simplan.model.plan import Plan
from simplan.report import tables
from simplan.report.formats import kind, metric_name
from simplan.results import Results

SIZE = (7.0, 3.8)
PHASE_COLOURS = {"off": "0.92", "build": "#dbe9f6", "burst": "#fde6c8", "close_out": "#f8d0cc"}


def _short_money(value: float, _: object = None) -> str:
    """Axis labels in currency units: 12.5M, 250k, 900."""
    if abs(value) >= 1e6:
        return f"{value / 1e6:.3g}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:,.0f}"


_money = FuncFormatter(_short_money)


def png_data_uri(figure: Figure, dpi: int = 100) -> str:
    """The figure as a base64 PNG `data:` URI, for an <img> that needs no file beside it."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(title: str) -> tuple[Figure, object]:
    figure = Figure(figsize=SIZE, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=11)
    axes.grid(axis="y", color="0.9")
    axes.set_axisbelow(True)
    return figure, axes


def attainment_figure(results: Results) -> Figure:
    """How attainment spreads across reps and periods, with target (100 %) marked."""
    attainment = results.reps["attainment"].dropna()
    figure, axes = _figure("Attainment across reps and periods")
    if attainment.empty:
        axes.text(0.5, 0.5, "no targets in this run", ha="center", transform=axes.transAxes)
        return figure
    upper = max(2.0, float(attainment.quantile(0.99)))
    axes.hist(attainment.clip(upper=upper), bins=40, range=(0, upper), color="C0", alpha=0.85)
    axes.axvline(1.0, color="k", linestyle="--", linewidth=1)
    at_target = float((attainment >= 1).mean())
    axes.text(
        1.02, 0.95, f"{at_target:.0%} at target", transform=axes.get_xaxis_transform(), va="top"
    )
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_xlabel("attainment (bookings / target); the last bar holds everything above")
    axes.set_ylabel("rep-periods")
    return figure


def payout_figure(results: Results, budget: float | None) -> Figure:
    """Total payout per replication, with P90 and the plan's budget (when it has one)."""
    payout = results.runs["payout"]
    figure, axes = _figure("Total payout per replication")
    axes.hist(payout, bins=min(30, max(5, len(payout) // 2)), color="C2", alpha=0.85)
    p90 = float(payout.quantile(0.9))
    axes.axvline(p90, color="C2", linestyle=":", linewidth=1.5, label=f"P90 {p90:,.0f}")
    if budget is not None:
        over = float((payout > budget).mean())
        axes.axvline(
            budget,
            color="C3",
            linewidth=2,
            label=f"budget {budget:,.0f}: payout above it in {over:.0%} of replications",
        )
    axes.xaxis.set_major_formatter(_money)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("total incentive payout in the run (currency units)")
    axes.set_ylabel("replications")
    axes.legend(fontsize=8)
    return figure


def bookings_figure(results: Results) -> Figure:
    """Team bookings per day (mean and P10-P90 across replications) over the sprint phases."""
    days = tables.bookings_by_day(results)
    figure, axes = _figure("Team bookings per day, by sprint phase")
    day = mdates.date2num(pd.to_datetime(days["date"]))
    for phase, colour in PHASE_COLOURS.items():
        inside = (days["phase"] == phase).to_numpy()
        for start, stop in _runs(inside):
            axes.axvspan(day[start] - 0.5, day[stop - 1] + 0.5, color=colour, linewidth=0)
    axes.fill_between(
        day, days["bookings P10"], days["bookings P90"], step="mid", color="C0", alpha=0.25
    )
    axes.step(day, days["bookings mean"], where="mid", color="C0", linewidth=1)
    weekly = days["bookings mean"].rolling(7, center=True, min_periods=1).mean()
    axes.plot(day, weekly, color="k", linewidth=1.5)
    present = [p for p in PHASE_COLOURS if (days["phase"] == p).any()]
    handles = [Patch(color=PHASE_COLOURS[p], label=p.replace("_", " ")) for p in present]
    handles += [
        Patch(color="C0", alpha=0.25, label="P10-P90"),
        Patch(color="k", label="7-day mean"),
    ]
    axes.legend(handles=handles, fontsize=8, ncol=len(handles), loc="upper left")
    axes.yaxis.set_major_formatter(_money)
    locator = mdates.AutoDateLocator()
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    axes.set_xlim(day[0] - 0.5, day[-1] + 0.5)
    axes.set_xlabel("date")
    axes.set_ylabel("bookings per day")
    return figure


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) index ranges where `mask` is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def funnel_figure(results: Results) -> Figure:
    """Share of each tier's leads reaching each stage of the funnel."""
    funnel = tables.funnel_by_tier(results)
    figure, axes = _figure("Funnel by tier: share of leads reaching each stage")
    stages = list(tables.FUNNEL_STAGES)
    width = 0.8 / max(len(funnel), 1)
    x = np.arange(len(stages))
    for i, (_, row) in enumerate(funnel.iterrows()):
        shares = [row[f"reached {stage}"] for stage in stages]
        offset = (i - (len(funnel) - 1) / 2) * width
        axes.bar(x + offset, shares, width, label=f"tier {row['tier']}")
    axes.set_xticks(x, stages)
    axes.yaxis.set_major_formatter(PercentFormatter(1.0))
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share of leads")
    axes.legend(fontsize=8)
    return figure


def response_figure(results: Results) -> Figure:
    """First-response hours by tier: box of P25-P75, whiskers P10-P90, median marked."""
    deals = results.deals
    tiers = [str(t) for t in deals["tier"].cat.categories if (deals["tier"] == t).any()]
    data = [
        deals.loc[deals["tier"] == t, "first_response_hours"].dropna().to_numpy() for t in tiers
    ]
    figure, axes = _figure("First response by tier (hours from arrival to first touch)")
    axes.boxplot(
        [d if len(d) else [np.nan] for d in data],
        whis=(10, 90),
        showfliers=False,
        tick_labels=[f"tier {t}" for t in tiers],
    )
    axes.axhline(24, color="C3", linestyle="--", linewidth=1, label="24 hours")
    axes.set_ylabel("hours (box P25-P75, whiskers P10-P90)")
    axes.legend(fontsize=8)
    return figure


def payout_curve_figure(curves: dict[str, tuple[Plan, float]]) -> Figure:
    """Variable pay for one period against attainment, for each named (plan, target)."""
    figure, axes = _figure("Payout curve: variable pay for one period")
    for name, (plan, target) in curves.items():
        curve = tables.payout_curve(plan, target)
        axes.plot(
            curve["attainment"],
            curve["payout"],
            linewidth=2,
            label=f"{name} (target {target:,.0f})",
        )
    axes.axvline(1.0, color="k", linestyle="--", linewidth=1)
    axes.xaxis.set_major_formatter(PercentFormatter(1.0))
    axes.yaxis.set_major_formatter(_money)
    axes.set_xlabel("attainment (no salary, pools, contests or deal bonuses)")
    axes.set_ylabel("pay per period")
    axes.legend(fontsize=8)
    return figure


def comparison_figure(comparison: Comparison) -> Figure:
    """Each KPI's mean per scenario with its confidence interval, one panel per KPI."""
    summary = comparison.summary.dropna(subset=["mean"])
    metrics = list(dict.fromkeys(summary["metric"]))
    columns = 3
    rows = -(-len(metrics) // columns)
    figure = Figure(figsize=(10, 2.6 * rows + 0.6), layout="constrained")
    figure.suptitle(f"Per scenario: mean with {comparison.confidence:.0%} interval", fontsize=11)
    names = comparison.scenarios
    for k, metric in enumerate(metrics):
        axes = figure.add_subplot(rows, columns, k + 1)
        table = summary[summary["metric"] == metric].set_index("scenario").reindex(names)
        means = table["mean"].to_numpy(dtype=float)
        errors = np.abs(np.vstack([means - table["ci_low"], table["ci_high"] - means]))
        axes.bar(names, means, color=[f"C{i}" for i in range(len(names))], alpha=0.8)
        axes.errorbar(names, means, yerr=np.nan_to_num(errors), fmt="none", color="k", capsize=4)
        axes.set_title(metric_name(metric), fontsize=9)
        axes.tick_params(axis="x", labelrotation=20, labelsize=8)
        _format_axis(axes, metric)
    return figure


def differences_figure(comparison: Comparison) -> Figure:
    """Each proposal minus the baseline per KPI, with the paired interval (common random numbers)."""
    differences = comparison.differences
    metrics = list(dict.fromkeys(differences["metric"]))
    columns = 3
    rows = max(1, -(-len(metrics) // columns))
    proposals = max(differences["scenario"].nunique(), 1)
    height = max(1.6, 0.9 + 0.45 * proposals)  # per row of panels
    figure = Figure(figsize=(10, height * rows + 0.6), layout="constrained")
    figure.suptitle(
        f"Proposal minus {comparison.scenarios[0]}: paired {comparison.confidence:.0%} interval",
        fontsize=11,
    )
    for k, metric in enumerate(metrics):
        axes = figure.add_subplot(rows, columns, k + 1)
        table = differences[differences["metric"] == metric]
        y = np.arange(len(table))
        diff = table["difference"].to_numpy(dtype=float)
        errors = np.vstack([diff - table["ci_low"], table["ci_high"] - diff])
        axes.errorbar(diff, y, xerr=np.abs(errors), fmt="o", color="C0", capsize=4)
        axes.axvline(0, color="k", linewidth=1)
        axes.set_yticks(y, table["scenario"], fontsize=8)
        axes.set_ylim(-0.7, len(table) - 0.3)
        axes.set_title(metric_name(metric), fontsize=9)
        _format_axis(axes, metric, axis="x")
    return figure


def _format_axis(axes: object, metric: str, axis: str = "y") -> None:
    target = axes.yaxis if axis == "y" else axes.xaxis
    shown = kind(metric)
    if shown == "share":
        target.set_major_formatter(PercentFormatter(1.0))
    elif shown == "money":
        target.set_major_formatter(_money)


def payouts_figure(runs: dict[str, Results], budgets: dict[str, float | None]) -> Figure:
    """Total payout per replication of each scenario with a plan, with any budgets."""
    figure, axes = _figure("Total payout per replication, by scenario")
    paid = {name: r.runs["payout"] for name, r in runs.items() if "payout" in r.runs}
    if paid:
        axes.boxplot(list(paid.values()), whis=(10, 90), showfliers=False, tick_labels=list(paid))
    for i, name in enumerate(paid, start=1):
        budget = budgets.get(name)
        if budget is not None:
            axes.hlines(budget, i - 0.4, i + 0.4, color="C3", linewidth=2, label="budget")
    axes.yaxis.set_major_formatter(_money)
    axes.set_ylabel("payout (box P25-P75, whiskers P10-P90)")
    return figure


__all__ = [
    "attainment_figure",
    "bookings_figure",
    "comparison_figure",
    "differences_figure",
    "funnel_figure",
    "payout_curve_figure",
    "payout_figure",
    "payouts_figure",
    "png_data_uri",
    "response_figure",
]

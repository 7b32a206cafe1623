"""How a number is shown: money, shares as percent, decimals, counts and yes/no flags.

One rule for the HTML report and the Excel workbook, chosen from the metric's name in the
planner's words (``win rate A``, ``payout P90``, ``cost_of_sales``).
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["money", "share", "decimal", "count", "flag"]

EXCEL_FORMATS: dict[Kind, str] = {
    "money": "#,##0;[Red]-#,##0",
    "share": "0.0%",
    "decimal": "#,##0.00",
    "count": "#,##0",
    "flag": '"yes";"yes";"no"',
}
"""Excel number formats by kind (money is in currency units, no symbol: the plan has none)."""

FLAGS = ("reserve covers", "cost of sales within")
SHARES = ("rate", "share", "reached", "probability", "cost of sales", "attainment", "over budget")
RATIOS = ("over median",)
MONEY = ("cost", "payout", "bookings", "budget", "reserve", "amount", "target")
DECIMALS = ("hours", "days", "per replication", "per rep")
COUNTS = ("replication", "replications", "leads", "days", "deals won", "relays", "alerts", "reps")


METRIC_NAMES = {
    "bookings": "bookings per replication",
    "payout": "total payout per replication",
    "cost_of_sales": "cost of sales (payout / bookings)",
    "share_at_target": "share of reps at target",
    "payout_p90_over_median": "payout of the P90 rep over the median rep",
    "payout_top_decile_share": "share of payout to the top tenth of reps",
    "over_budget": "chance of exceeding the budget",
}
"""The comparison KPIs (`simplan.analysis.kpis.KPI_COLUMNS`) in the planner's words."""


def metric_name(metric: str) -> str:
    """A metric as a reader says it: ``share_at_target`` -> ``share of reps at target``."""
    return METRIC_NAMES.get(metric, metric.replace("_", " "))


def kind(metric: str) -> Kind:
    """The kind of a metric or column name: shares (0..1) show as percent, money as whole units."""
    name = metric.lower().replace("_", " ")
    if name.startswith(FLAGS):
        return "flag"
    if name in COUNTS:
        return "count"
    if any(word in name for word in SHARES):
        return "share"
    if any(word in name for word in RATIOS):
        return "decimal"
    if any(word in name for word in MONEY):
        return "money"
    if any(word in name for word in DECIMALS):
        return "decimal"
    return "money"


UNIT_KINDS: dict[str, Kind] = {
    "money": "money",
    "currency": "money",
    "share": "share",
    "count": "count",
}
"""How a statement line's basis shows, by its unit (`simplan.recalc.BASIS`); else decimal."""


def unit_kind(unit: object) -> Kind:
    """The kind of a number in `unit` ('money' or 'currency', 'share', 'count'; else decimal)."""
    return UNIT_KINDS.get(str(unit), "decimal")


def text(metric: str, value: object) -> str:
    """A value as a planner reads it, e.g. ``12,537,497``, ``34.3%``, ``7.12``, ``yes``."""
    if isinstance(value, str):
        return value
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return shown_as(kind(metric), number)


def shown_as(shown: Kind, number: float) -> str:
    """A number shown as `shown` (see `text`); NaN as ``n/a``."""
    if number != number:  # NaN
        return "n/a"
    if shown == "flag":
        return "yes" if number else "no"
    if shown == "share":
        return f"{number:.1%}"
    if shown == "decimal":
        return f"{number:,.2f}"
    return f"{number:,.0f}"

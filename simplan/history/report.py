"""What a history holds, in the words `simplan history check` prints: counts, date ranges,
censoring, the tier rule, and what the anomaly rule removed."""

from __future__ import annotations

import pandas as pd

from simplan.history.opportunities import History, Prepared
from simplan.model.periods import Periods


def history_summary(history: History, prepared: Prepared) -> list[tuple[str, str]]:
    """(item, value) rows describing a checked history and its preparation for fitting."""
    deals = history.deals
    counts = deals["outcome"].value_counts()
    won = deals[deals["outcome"] == "won"]
    created = deals["created_date"].dropna()
    closes = deals["close_date"].dropna()
    rows = [
        ("file", history.source),
        ("columns", ", ".join(f"{k}={v}" for k, v in history.columns.items()) or "as named"),
        ("opportunities", f"{len(deals):,}"),
        (
            "outcomes",
            ", ".join(f"{counts.get(o, 0):,} {o}" for o in ("won", "lost", "open")),
        ),
        (
            "open (censored)",
            f"{counts.get('open', 0):,}: kept as censored at {history.as_of:%Y-%m-%d}",
        ),
        ("reps", f"{deals['rep_id'].nunique():,}"),
        ("created", f"{created.min():%Y-%m-%d} .. {created.max():%Y-%m-%d}"),
        ("closed", f"{closes.min():%Y-%m-%d} .. {closes.max():%Y-%m-%d}"),
        ("observed from", f"{history.observed_from:%Y-%m-%d} (first close)"),
        ("as of", f"{history.as_of:%Y-%m-%d}"),
        (
            "won value",
            f"{won['amount'].sum():,.0f} (median deal {won['amount'].median():,.0f})",
        ),
        ("tier rule", prepared.tier_rule),
        (
            "tiers",
            ", ".join(
                f"{t}: {n:,}" for t, n in prepared.deals["tier"].value_counts().sort_index().items()
            ),
        ),
        ("anomaly rule", prepared.anomaly_rule),
        ("removed", _removed(prepared.removed)),
    ]
    if history.roster is not None:
        rows.append(("roster", f"{len(history.roster):,} reps"))
    if history.targets is not None:
        rows.append(("targets", f"{len(history.targets):,} rep x period rows"))
    if history.products is not None:
        rows.append(("price list", f"{len(history.products):,} products"))
    rows += [("note", note) for note in prepared.notes]
    return rows


def period_summary(prepared: Prepared, periods: Periods) -> list[tuple[str, str]]:
    """One row per business period the history touches: its label and dates, the deals
    created in it and those won and lost with a close date in it (what calibrate buckets)."""
    deals = prepared.deals
    created = pd.Series(periods.label_of(deals["created_date"].dropna()))
    closed = deals[deals["close_date"].notna()]
    closing = pd.Series(periods.label_of(closed["close_date"]), index=closed.index)
    rows = []
    for i, label in enumerate(periods.labels):
        made = int((created == label).sum())
        won = int(((closing == label) & (closed["outcome"] == "won")).sum())
        lost = int(((closing == label) & (closed["outcome"] == "lost")).sum())
        if made or won or lost:
            rows.append(
                (f"{label} ({periods.first_day(i)} .. {periods.last_day(i)})",
                 f"{made:,} created, {won:,} won, {lost:,} lost")
            )  # fmt: skip
    return rows


def _removed(removed: pd.DataFrame) -> str:
    if removed.empty:
        return "nothing"
    parts = [
        f"{len(group):,} deals: {reason}" for reason, group in removed.groupby("reason", sort=False)
    ]
    return "; ".join(parts)

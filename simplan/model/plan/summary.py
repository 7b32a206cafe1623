"""summarise(statements): what a plan paid in total, per component, and across reps. Pure."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simplan.model.plan.sheet import Statements

PAID_NOTHING = 0.005
"""A payout below half a cent counts as nothing."""


def summarise(statements: Statements) -> pd.DataFrame:
    """The payout numbers a planner reads first: one row per metric, `value` and `unit`.

    `unit` is 'currency', 'count' or 'share' (0..1). Total payout includes managers and
    funds; the spread is over reps only: P10/P50/P90 of one rep's payout in one period,
    the share of all rep payout earned by the top 10% of reps (at least one rep) over the
    whole ledger, and how many reps (and what share of rep-periods) were paid nothing.
    """
    totals = statements.totals
    reps = totals[totals["payee"] == "rep"]
    per_rep = reps.groupby("rep_id", observed=True)["payout"].sum()
    bookings = float(reps["bookings"].sum())
    payout = float(totals["payout"].sum())
    rows: list[tuple[str, float, str]] = [
        ("reps", per_rep.size, "count"),
        ("periods", reps["period"].nunique(), "count"),
        ("bookings", bookings, "currency"),
        ("total payout", payout, "currency"),
        ("payout share of bookings", payout / bookings if bookings > 0 else np.nan, "share"),
    ]
    by_component = statements.lines.groupby("component", observed=True, sort=False)["amount"]
    rows += [(f"payout: {name}", amount, "currency") for name, amount in by_component.sum().items()]
    quantiles = reps["payout"].quantile([0.1, 0.5, 0.9]).to_numpy() if len(reps) else [np.nan] * 3
    rows += [
        (f"rep payout per period P{p}", q, "currency")
        for p, q in zip((10, 50, 90), quantiles, strict=True)
    ]
    rep_payout = float(per_rep.sum())
    top = per_rep.nlargest(max(1, math.ceil(per_rep.size / 10))).sum()
    rows += [
        ("top-decile share of rep payout", top / rep_payout if rep_payout > 0 else np.nan, "share"),
        ("reps paid nothing", int((per_rep.abs() < PAID_NOTHING).sum()), "count"),
        (
            "share of rep-periods paid nothing",
            float((reps["payout"].abs() < PAID_NOTHING).mean()) if len(reps) else np.nan,
            "share",
        ),
    ]
    frame = pd.DataFrame(rows, columns=["metric", "value", "unit"]).set_index("metric")
    frame["value"] = frame["value"].astype(float)
    return frame

"""The numbers plans are judged by, one row per replication, from a run's tables."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simplan.results import Results

KPI_COLUMNS = (
    "bookings",
    "payout",
    "cost_of_sales",
    "share_at_target",
    "payout_p90_over_median",
    "payout_top_decile_share",
    "over_budget",
)


def replication_kpis(results: Results, budget: float | None = None) -> pd.DataFrame:
    """Per replication: bookings, payout, cost of sales, share of reps at target, payout spread
    across reps (P90 / median rep, top-decile share) and whether payout exceeded `budget`."""
    runs = results.runs.set_index("replication")
    reps = results.reps
    per_rep = reps.groupby(["replication", "rep_id"])
    has_payout = "payout" in reps
    rep_pay = per_rep["payout"].sum() if has_payout else None
    out = pd.DataFrame(index=runs.index)
    out["bookings"] = runs["bookings"]
    out["payout"] = runs.get("payout", np.nan)
    out["cost_of_sales"] = runs.get("cost_of_sales", np.nan)
    out["share_at_target"] = runs["share_at_target"]
    if rep_pay is not None:
        grouped = rep_pay.groupby(level="replication")
        median = grouped.median()
        out["payout_p90_over_median"] = grouped.quantile(0.9) / median.where(median > 0)
        out["payout_top_decile_share"] = grouped.apply(_top_decile_share)
    else:
        out["payout_p90_over_median"] = np.nan
        out["payout_top_decile_share"] = np.nan
    out["over_budget"] = (out["payout"] > budget).astype(float) if budget else np.nan
    return out.reset_index()


def _top_decile_share(pay: pd.Series) -> float:
    """Share of the total paid to the best-paid tenth of reps (at least one rep)."""
    total = pay.sum()
    if total <= 0:
        return np.nan
    k = max(1, int(np.ceil(0.1 * len(pay))))
    return float(pay.nlargest(k).sum() / total)

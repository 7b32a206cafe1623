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


RUN_KPIS = ("bookings", "payout", "cost_of_sales", "share_at_target")
"""The KPIs a replication's runs row holds (a design candidate is judged by these alone)."""


def run_kpis(runs: pd.DataFrame) -> pd.DataFrame:
    """Per replication (the index), the RUN_KPIS of its runs row; payout and cost of sales
    are NaN without a plan."""
    runs = runs.set_index("replication")
    return pd.DataFrame({name: runs.get(name, np.nan) for name in RUN_KPIS}, index=runs.index)


def replication_kpis(results: Results, budget: float | None = None) -> pd.DataFrame:
    """Per replication: bookings, payout, cost of sales, share of reps at target, payout spread
    across reps (P90 / median rep, top-decile share) and whether payout exceeded `budget`."""
    out = run_kpis(results.runs)
    reps = results.reps
    per_rep = reps.groupby(["replication", "rep_id"])
    has_payout = "payout" in reps
    rep_pay = per_rep["payout"].sum() if has_payout else None
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

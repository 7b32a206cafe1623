"""The per-rep view of a simulated run: each rep's spread over replications, and the
statements of one *typical* replication, exact lines a rep would recognise.

Averaging statement lines over replications makes statements no rep could get (a gate half
applied to a rep at 94 % mean attainment); so the spread is given per rep, and statements
come from one whole replication: the one whose total payout is nearest the median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simplan.model.plan import Plan
from simplan.recalc import statement_table
from simplan.results import Results


def rep_table(results: Results) -> pd.DataFrame:
    """Per rep and plan period, over replications: tenure, target, bookings P10/P50/P90, the
    probability of reaching target, and payout P50/P90 (when the run has a plan)."""
    reps = results.reps.assign(rep_id=results.reps["rep_id"].astype(str))
    grouped = reps.groupby(["rep_id", "period"], sort=True)
    bookings = grouped["bookings"]
    table = pd.DataFrame(
        {
            "tenure": grouped["tenure"].first(),
            "target": grouped["target"].mean(),
            "bookings P10": bookings.quantile(0.1),
            "bookings P50": bookings.quantile(0.5),
            "bookings P90": bookings.quantile(0.9),
            "probability at target": grouped["at_target"].mean(),
        }
    )
    if "payout" in reps:
        table["payout P50"] = grouped["payout"].quantile(0.5)
        table["payout P90"] = grouped["payout"].quantile(0.9)
    return table.reset_index()


def typical_replication(results: Results) -> int:
    """The replication whose total payout (bookings, without a plan) is nearest its median
    over replications; ties go to the lowest replication number."""
    runs = results.runs.sort_values("replication")
    value = runs["payout"] if "payout" in runs else runs["bookings"]
    distance = (value - value.median()).abs().to_numpy()
    return int(runs["replication"].to_numpy()[int(np.argmin(distance))])


def typical_statements(results: Results, plan: Plan) -> tuple[int, pd.DataFrame]:
    """The typical replication and its statements (`simplan.recalc.statement_table`), with
    each rep's attainment in that replication beside its total line."""
    replication = typical_replication(results)
    lines = results.statements[results.statements["replication"] == replication]
    table = statement_table(lines, plan)
    reps = results.reps[results.reps["replication"] == replication]
    attainment = reps.set_index([reps["rep_id"].astype(str), reps["period"].astype(str)])
    keys = pd.MultiIndex.from_frame(table[["rep_id", "period"]])
    table.insert(2, "attainment", attainment["attainment"].reindex(keys).to_numpy())
    return replication, table


def statement_examples(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Three statements of a typical replication to show in full: the rep-periods at the
    lowest, the median and the highest attainment (payees without one left out)."""
    totals = table[(table["component"] == "total") & table["attainment"].notna()]
    if totals.empty:
        return []
    ranked = totals.sort_values(["attainment", "rep_id", "period"], kind="stable")
    picks = ranked.iloc[[0, (len(ranked) - 1) // 2, len(ranked) - 1]]
    shown = []
    for rep_id, period, attainment in (
        picks[["rep_id", "period", "attainment"]]
        .drop_duplicates(["rep_id", "period"])
        .itertuples(index=False)
    ):
        one = table[(table["rep_id"] == rep_id) & (table["period"] == period)]
        caption = f"{rep_id}, {period}: attainment {attainment:.0%}"
        shown.append((caption, one[["component", "basis", "basis value", "unit", "amount"]]))
    return shown

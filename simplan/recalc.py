"""What plans would have paid on a real ledger: the deals read by `simplan.history` (with a
CRM preset or a column mapping), the anomaly rule's flags, statements from `compute_payouts`
per plan, statements a rep recognises (each line's basis in its unit), and the files
`simplan payout` writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from simplan.errors import SimplanError
from simplan.history import AnomalyRule, apply_anomaly_rule, read_deals, read_table
from simplan.history.presets import get_preset, preset_mapping
from simplan.model.periods import Periods
from simplan.model.plan import Plan, compute_payouts
from simplan.model.plan.sheet import Statements

BASIS: dict[str, tuple[str, str]] = {
    "base_salary": ("periods paid", "count"),
    "base_commission": ("credited bookings", "money"),
    "tiered_commission": ("credited bookings", "money"),
    "attainment_bonus": ("credited attainment", "share"),
    "attainment_cap": ("bookings above the cap", "money"),
    "exclusion": ("bookings excluded", "money"),
    "payout_cap": ("pay before the cap", "money"),
    "gate": ("attainment", "share"),
    "qualifying": ("counted bookings", "money"),
    "clawback": ("returned bookings", "money"),
    "daily_champion": ("days won", "count"),
    "deal_streak": ("streaks completed", "count"),
    "squad_winner": ("weeks won by the squad", "count"),
    "ranking_reward": ("ranked bookings", "money"),
    "team_pool": ("share of the pool", "share"),
    "project_pool": ("credited project bookings", "money"),
    "first_deal_bonus": ("qualifying deals", "count"),
    "growth_bonus": ("growth on the period before", "share"),
    "big_deal_bonus": ("big deals credited", "count"),
    "manager_bonus": ("team attainment", "share"),
}
"""Per component type: what a statement line's ``basis`` is and its unit (money in currency
units, share 0..1 shown as percent, count), as each component's docstring defines it."""

STATEMENT_COLUMNS = ["rep_id", "period", "component", "basis", "basis value", "unit", "amount"]


def read_ledger(
    path: Path, preset: str | None, mapping: dict[str, str], date_format: str | None
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The won-deal ledger of a CRM export and the column mapping used: a `preset`'s columns
    with `mapping` (--map) on top, as `simplan history check` reads the same file."""
    if preset:
        chosen = get_preset(preset)
        present = list(read_table(path).frame.columns)
        mapping = preset_mapping(chosen, present, mapping, str(path))
        date_format = date_format or chosen.date_format
    return read_deals(path, mapping, date_format), mapping


def flag_deals(ledger: pd.DataFrame, rule: AnomalyRule) -> pd.DataFrame:
    """Won deals the anomaly rule's amount test would remove (line, deal_id, rep_id, amount,
    reason). They are flagged, not dropped: a payout pays the ledger as recorded."""
    amounts_only = rule.model_copy(update={"min_closed_deals_per_rep": 0})
    deals = ledger.drop_duplicates("deal_id").assign(
        outcome="won", amount=lambda d: d["deal_amount"]
    )
    _, removed = apply_anomaly_rule(deals, amounts_only)
    return removed.drop(columns="outcome")


def payout_statements(
    ledger: pd.DataFrame,
    targets: pd.DataFrame,
    plan: Plan,
    source: str,
    business: Periods | None = None,
) -> Statements:
    """`compute_payouts` on a ledger read here (`business`: the periods a plan with `clock:
    period` pays per); its errors start with `source` (the file(s))."""
    try:
        return compute_payouts(ledger, targets, None, plan, periods=business)
    except SimplanError as err:
        raise SimplanError(f"{source}: {err}") from None


def basis_of(plan: Plan) -> dict[str, tuple[str, str]]:
    """Component label -> (what its basis is, unit) for the plan's components."""
    found = {}
    for component in plan.components:
        what, unit = BASIS.get(component.type, ("basis", "number"))
        if component.type == "ranking_reward" and component.rank_by == "attainment":
            what, unit = "ranked attainment", "share"
        found[component.label] = (what, unit)
    return found


def statement_table(lines: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Statements a rep recognises: per payee and period, one line per component with what
    its basis is, the basis in its unit and the amount in cents, then a `total` line: the
    sum of the amounts shown (within a cent per line of the unrounded payout)."""
    basis = basis_of(plan)
    table = pd.DataFrame(
        {
            "rep_id": lines["rep_id"].astype(str),
            "period": lines["period"].astype(str),
            "component": lines["component"].astype(str),
            "basis": [basis.get(str(c), ("basis", "number"))[0] for c in lines["component"]],
            "basis value": lines["basis"].to_numpy(dtype=float),
            "unit": [basis.get(str(c), ("basis", "number"))[1] for c in lines["component"]],
            "amount": lines["amount"].to_numpy(dtype=float).round(2),
        }
    )
    totals = (
        table.groupby(["rep_id", "period"], sort=False)["amount"]
        .sum()
        .reset_index()
        .assign(component="total", basis="", unit="")
    )
    keyed = pd.concat([table.assign(_last=0), totals.assign(_last=1)], ignore_index=True)
    ordered = keyed.sort_values(["rep_id", "period", "_last"], kind="stable")
    return ordered[STATEMENT_COLUMNS].reset_index(drop=True)


def side_by_side(summaries: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """`summarise` tables of several plans in one: metric, unit, one value column per plan
    (a component one plan lacks is empty for it)."""
    order = list(dict.fromkeys(m for s in summaries.values() for m in s.index))
    units = {m: u for s in summaries.values() for m, u in s["unit"].items()}
    table = pd.DataFrame({name: s["value"].reindex(order) for name, s in summaries.items()})
    table.insert(0, "unit", [units[m] for m in order])
    return table.rename_axis("metric").reset_index()


def per_rep(statements: dict[str, Statements]) -> pd.DataFrame:
    """Each payee's payout over the whole ledger under each plan (rows: rep_id, bookings, one
    column per plan), so a plan's winners and losers read off one table."""
    columns = {}
    bookings = None
    for name, paid in statements.items():
        totals = paid.totals.assign(rep_id=paid.totals["rep_id"].astype(str))
        columns[name] = totals.groupby("rep_id", sort=True)["payout"].sum()
        if bookings is None:
            bookings = totals.groupby("rep_id", sort=True)["bookings"].sum(min_count=1)
    table = pd.DataFrame({"bookings": bookings, **columns})
    return table.rename_axis("rep_id").reset_index()


def write_payout(
    directory: Path,
    statements: dict[str, Statements],
    tables: dict[str, pd.DataFrame],
    reps: pd.DataFrame,
    flags: pd.DataFrame,
    summary: pd.DataFrame,
    manifest: dict[str, Any],
) -> None:
    """Per plan a directory of lines.parquet, totals.parquet, lines.csv (amounts to the cent)
    and statements.csv (its `statement_table`); beside them summary.csv, reps.csv (`per_rep`),
    flags.csv and manifest.json."""
    for name, paid in statements.items():
        folder = directory / name
        folder.mkdir()
        paid.lines.to_parquet(folder / "lines.parquet", index=False)
        paid.totals.to_parquet(folder / "totals.parquet", index=False)
        paid.lines.assign(amount=paid.lines["amount"].round(2)).to_csv(
            folder / "lines.csv", index=False
        )
        tables[name].to_csv(folder / "statements.csv", index=False)
    summary.to_csv(directory / "summary.csv", index=False)
    reps.to_csv(directory / "reps.csv", index=False)
    flags.to_csv(directory / "flags.csv", index=False)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))

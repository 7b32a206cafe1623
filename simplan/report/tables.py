"""The tables a report shows beside its plots, built once from a run's tidy tables.

Per-replication figures are averaged over replications (each replication is one equally
likely version of the period); spreads are quantiles across replications.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simplan.model.plan import Plan
from simplan.results import STAGE_NAMES, Results

FUNNEL_STAGES = STAGE_NAMES[1:]  # contact, proposal, negotiation, won
CURVE_ATTAINMENT = np.linspace(0.0, 2.0, 201)
"""Attainment grid of the payout curve (0 to 200 % of target)."""


def summary_table(runs: dict[str, Results]) -> pd.DataFrame:
    """Each run's summary side by side: metric, then one column per scenario (rows in order)."""
    frames = [results.summary()["value"].rename(name) for name, results in runs.items()]
    order = merged_order([list(frame.index) for frame in frames])
    return pd.concat(frames, axis=1).reindex(order).rename_axis("metric").reset_index()


def funnel_by_tier(results: Results) -> pd.DataFrame:
    """Per tier: leads per replication and the share of them reaching each stage; win rate
    of closed leads."""
    deals = results.deals
    replications = max(results.runs["replication"].nunique(), 1)
    reached = deals["stage"].cat.codes.to_numpy()
    rows = []
    for tier, index in deals.groupby("tier", sort=True, observed=True).indices.items():
        codes = reached[index]
        outcome = deals["outcome"].to_numpy()[index]
        closed = int((outcome != "open").sum())
        row: dict[str, Any] = {
            "tier": str(tier),
            "leads per replication": len(index) / replications,
        }
        for k, stage in enumerate(FUNNEL_STAGES, start=1):
            row[f"reached {stage}"] = float((codes >= k).mean())
        row["win rate (closed)"] = float((outcome == "won").sum() / max(closed, 1))
        rows.append(row)
    return pd.DataFrame(rows)


def response_by_tier(results: Results) -> pd.DataFrame:
    """Per tier and lead source: leads, first-response hours (median, P90), share answered
    within 24 hours, share never contacted (self-sourced leads are answered at once)."""
    rows = []
    deals = results.deals
    replications = max(results.runs["replication"].nunique(), 1)
    for (tier, source), group in deals.groupby(["tier", "source"], sort=True, observed=True):
        hours = group["first_response_hours"]
        answered = hours.dropna()
        rows.append(
            {
                "tier": str(tier),
                "source": str(source),
                "leads per replication": len(group) / replications,
                "median first response hours": answered.median(),
                "P90 first response hours": answered.quantile(0.9),
                "share answered within 24 hours": float((answered <= 24).mean())
                if len(answered)
                else np.nan,
                "share never contacted": float(hours.isna().mean()),
            }
        )
    return pd.DataFrame(rows)


def bookings_by_day(results: Results) -> pd.DataFrame:
    """Team bookings per day: mean, P10 and P90 across replications, with the day's phase."""
    daily = results.daily
    team = daily.groupby(["replication", "day"], observed=True)["bookings"].sum().unstack("day")
    first = daily.drop_duplicates("day").set_index("day")
    return pd.DataFrame(
        {
            "day": team.columns.to_numpy(),
            "date": first["date"].reindex(team.columns).to_numpy(),
            "phase": first["phase"].astype(str).reindex(team.columns).to_numpy(),
            "bookings mean": team.mean().to_numpy(),
            "bookings P10": team.quantile(0.1).to_numpy(),
            "bookings P90": team.quantile(0.9).to_numpy(),
        }
    )


def phase_table(days: pd.DataFrame) -> pd.DataFrame:
    """Per phase: its days and mean team bookings per day, in calendar order."""
    grouped = days.groupby("phase", sort=False)
    return pd.DataFrame(
        {
            "phase": list(grouped.groups),
            "days": grouped.size().to_numpy(),
            "bookings per day": grouped["bookings mean"].mean().to_numpy(),
            "share of bookings": (
                grouped["bookings mean"].sum() / days["bookings mean"].sum()
            ).to_numpy(),
        }
    )


def attainment_table(results: Results) -> pd.DataFrame:
    """Attainment across rep-periods: P10, median, P90, share at target."""
    attainment = results.reps["attainment"].dropna()
    if attainment.empty:
        return pd.DataFrame(columns=["metric", "value"])
    rows = [
        ("attainment P10", attainment.quantile(0.1)),
        ("attainment median", attainment.median()),
        ("attainment P90", attainment.quantile(0.9)),
        ("share of rep-periods at target", float((attainment >= 1).mean())),
    ]
    return pd.DataFrame(rows, columns=["metric", "value"])


def curve_target(results: Results) -> float:
    """The median rep's target per plan period (1.0 when the run has no targets)."""
    target = results.reps["target"].dropna()
    return float(target.median()) if len(target) else 1.0


def payout_curve(plan: Plan, target: float) -> pd.DataFrame:
    """Variable pay for one period against attainment, at `target` (no salary, pools or contests)."""
    return pd.DataFrame(
        {"attainment": CURVE_ATTAINMENT, "payout": plan.payout_curve(CURVE_ATTAINMENT, target)}
    )


def component_totals(results: Results) -> pd.DataFrame:
    """Per plan component: total paid per replication (mean, P10, P50, P90) and share of payout."""
    per_replication = (
        results.statements.groupby(["replication", "component"])["amount"]
        .sum()
        .unstack(fill_value=0.0)
    )
    total = per_replication.to_numpy().sum()
    return pd.DataFrame(
        {
            "component": per_replication.columns.astype(str),
            "mean": per_replication.mean().to_numpy(),
            "P10": per_replication.quantile(0.1).to_numpy(),
            "P50": per_replication.quantile(0.5).to_numpy(),
            "P90": per_replication.quantile(0.9).to_numpy(),
            "share of payout": (per_replication.sum() / total).to_numpy() if total else np.nan,
        }
    )


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """A nested mapping as `key.path[i].name` -> scalar; lists of scalars joined by commas."""
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat |= flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return flat
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return {prefix: ", ".join(str(item) for item in value)}
        flat = {}
        for i, item in enumerate(value):
            flat |= flatten(item, f"{prefix}[{i}]")
        return flat
    return {prefix: value}


def scenario_parameters(runs: dict[str, Results]) -> pd.DataFrame:
    """The resolved scenario of each run, flattened: parameter, one column per scenario."""
    columns = {
        name: flatten(_by_label(results.manifest.get("scenario", {})))
        for name, results in runs.items()
    }
    order = merged_order([list(flat) for flat in columns.values()])
    table = pd.DataFrame({name: [flat.get(k) for k in order] for name, flat in columns.items()})
    table.insert(0, "parameter", order)
    return table


def _by_label(scenario: dict[str, Any]) -> dict[str, Any]:
    """Plan components keyed by their label (name, else type), so plans line up by component."""
    plan = scenario.get("plan")
    if not plan or not isinstance(plan.get("components"), list):
        return scenario
    labelled = {(c.get("name") or c["type"]): c for c in plan["components"]}
    return {**scenario, "plan": {**plan, "components": labelled}}


def merged_order(lists: list[list[str]]) -> list[str]:
    """Keys of several ordered lists in one order: a key missing so far goes in after the key
    that precedes it in its own list (so related rows stay together)."""
    order: list[str] = []
    for keys in lists:
        position = 0
        for key in keys:
            if key in order:
                position = order.index(key) + 1
            else:
                order.insert(position, key)
                position += 1
    return order

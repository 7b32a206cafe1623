"""Size the incentive budget: the payout distribution, what a confidence level needs, the reserve.

Everything is read from the replications of one run with a plan: each replication is one
equally likely version of the period, so the budget a 90 % confidence needs is the 90th
percentile of total payout across replications.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from simplan.errors import SimplanError
from simplan.results import Results

QUANTILES = (0.5, 0.9, 0.95, 0.99)
AD_HOC = ("daily_champion", "deal_streak", "squad_winner", "ranking_reward")
"""Components that pay instant and ranking rewards: what an elastic reserve is for."""
B2B_COST_OF_SALES = (0.03, 0.09)
"""The usual band of incentive cost as a share of bookings for B2B teams."""
RULE_OF_THUMB_POOL_SHARE = 0.05
"""Playbook: "if the target rises 20 %, reserve a bonus pool of 5 % of revenue"."""


@dataclass(frozen=True)
class BudgetSizing:
    """The answers finance asks for, as tables (`overview`, `components`) and key figures."""

    overview: pd.DataFrame  # metric, value
    components: pd.DataFrame  # component, mean, p90, share_of_payout
    payout: pd.Series  # total incentive payout per replication
    confidence: float
    budget: float | None

    @property
    def needed(self) -> float:
        """The budget that covers total payout with the chosen confidence."""
        return float(self.payout.quantile(self.confidence))


def check_sizing(budget: float | None, confidence: float) -> None:
    """Refuse a confidence outside (0, 1) or a budget that is not a positive amount."""
    if not 0 < confidence < 1:
        raise SimplanError(
            f"--confidence {confidence}: must lie strictly between 0 and 1, e.g. 0.9"
        )
    if budget is not None and budget <= 0:
        raise SimplanError(f"--budget {budget:g}: must be a positive amount of money")


def size_budget(
    results: Results,
    budget: float | None = None,
    confidence: float = 0.9,
    reserve_share: float = 0.1,
    band: tuple[float, float] = B2B_COST_OF_SALES,
) -> BudgetSizing:
    """Distribution of total payout, per component, P(exceeding `budget`), reserve and band checks."""
    check_sizing(budget, confidence)
    if "payout" not in results.runs:
        raise SimplanError("this run has no plan, so nothing to size; add `plan:` to the scenario")
    runs = results.runs.set_index("replication")
    payout, bookings = runs["payout"], runs["bookings"]
    lines = results.statements
    per_rep_component = (
        lines.groupby(["replication", "component"])["amount"].sum().unstack(fill_value=0.0)
    )
    labels = _ad_hoc_labels(results)
    ad_hoc = per_rep_component[[c for c in per_rep_component if c in labels]].sum(axis=1)
    reserve = reserve_share * (budget if budget is not None else float(payout.quantile(confidence)))
    cost_of_sales = float(payout.sum() / bookings.sum())
    rows: list[tuple[str, float]] = [
        ("replications", float(len(payout))),
        ("payout mean", float(payout.mean())),
    ]
    rows += [(f"payout P{round(q * 100)}", float(payout.quantile(q))) for q in QUANTILES]
    rows.append(
        (f"budget needed at {confidence:.0%} confidence", float(payout.quantile(confidence)))
    )
    if budget is not None:
        rows.append(("budget", budget))
        rows.append(("probability of exceeding the budget", float((payout > budget).mean())))
    rows.append((f"reserve ({reserve_share:.0%})", reserve))
    rows.append(("ad-hoc rewards P90", float(ad_hoc.quantile(0.9)) if len(ad_hoc) else 0.0))
    rows.append(
        (
            "reserve covers ad-hoc rewards (P90)",
            float(reserve >= (ad_hoc.quantile(0.9) if len(ad_hoc) else 0.0)),
        )
    )
    rows.append(("cost of sales", cost_of_sales))
    rows.append(
        (
            f"cost of sales within {band[0]:.0%}-{band[1]:.0%}",
            float(band[0] <= cost_of_sales <= band[1]),
        )
    )
    rows.append(("bookings mean", float(bookings.mean())))
    rows.append(
        ("rule of thumb pool (5% of bookings)", RULE_OF_THUMB_POOL_SHARE * float(bookings.mean()))
    )
    overview = pd.DataFrame(rows, columns=["metric", "value"])
    components = pd.DataFrame(
        {
            "component": per_rep_component.columns,
            "mean": per_rep_component.mean().to_numpy(),
            "p90": per_rep_component.quantile(0.9).to_numpy(),
            "share_of_payout": (
                per_rep_component.sum() / per_rep_component.to_numpy().sum()
            ).to_numpy(),
        }
    )
    return BudgetSizing(
        overview=overview,
        components=components,
        payout=payout,
        confidence=confidence,
        budget=budget,
    )


def _ad_hoc_labels(results: Results) -> set[str]:
    """Statement labels of the plan's instant and ranking rewards (by type, whatever their name)."""
    plan = results.manifest.get("scenario", {}).get("plan") or {}
    return {c.get("name") or c["type"] for c in plan.get("components", []) if c["type"] in AD_HOC}


def plan_budget(results: Results) -> float | None:
    """The budget total written in the run's plan, if any."""
    plan = results.manifest.get("scenario", {}).get("plan") or {}
    budget = plan.get("budget") or {}
    total = budget.get("total")
    return float(total) if total is not None else None

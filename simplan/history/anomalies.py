"""The anomaly rule: which deals a calibration leaves out, stated and configurable, and a
table of exactly what it removed (line, deal, rep, reason) so nobody has to guess.

Default rule:
- a won amount above `amount_multiple` x the `amount_quantile` quantile of won amounts, or
  above `median_multiple` x the median won amount (which still holds when few amounts are
  known and the quantile is the outlier itself), is a data-entry error (extra zeros), not a
  big deal: removed;
- a rep with fewer than `min_closed_deals_per_rep` won or lost deals cannot be fitted (a rep
  who left early or joined at the end): all their deals removed;
- a won deal flagged `returned` booked nothing: it counts as lost (not removed).
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from simplan.model.params import Params


class AnomalyRule(Params):
    """What calibration removes from a history before fitting."""

    amount_quantile: float = Field(default=0.999, gt=0.5, le=1)
    amount_multiple: float = Field(default=3.0, ge=1)
    median_multiple: float = Field(default=100.0, ge=1)
    min_closed_deals_per_rep: int = Field(default=10, ge=0)
    returned_as_lost: bool = True

    def describe(self) -> str:
        """The rule in one sentence, for reports."""
        text = (
            f"won amounts above {self.amount_multiple:g} x the {self.amount_quantile:.1%} "
            f"quantile of won amounts or {self.median_multiple:g} x their median are removed; "
            "reps with fewer than "
            f"{self.min_closed_deals_per_rep} closed deals are removed with all their deals"
        )
        if self.returned_as_lost:
            text += "; returned won deals count as lost"
        return text


def apply_anomaly_rule(deals: pd.DataFrame, rule: AnomalyRule) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The deals kept (returned ones relabelled lost) and a table of those removed:
    line, deal_id, rep_id, outcome, amount, reason."""
    deals = deals.copy()
    won = deals["outcome"].eq("won")
    reasons = pd.Series("", index=deals.index, dtype=object)
    amounts = deals.loc[won, "amount"].dropna()
    if len(amounts):
        limit = rule.amount_multiple * amounts.quantile(rule.amount_quantile)
        median_limit = rule.median_multiple * amounts.median()
        huge = won & (deals["amount"] > limit)
        reasons[huge] = (
            f"won amount above {rule.amount_multiple:g} x the {rule.amount_quantile:.1%} "
            f"quantile ({limit:,.0f})"
        )
        far = won & (deals["amount"] > median_limit) & ~huge
        reasons[far] = (
            f"won amount above {rule.median_multiple:g} x the median ({median_limit:,.0f})"
        )
    closed = deals["outcome"].isin(["won", "lost"]) & reasons.eq("")
    per_rep = closed.groupby(deals["rep_id"]).sum()
    few = per_rep[per_rep < rule.min_closed_deals_per_rep]
    thin = deals["rep_id"].isin(few.index) & reasons.eq("")
    reasons[thin] = deals.loc[thin, "rep_id"].map(
        lambda rep: (
            f"rep has {int(few[rep])} closed deal(s), fewer than {rule.min_closed_deals_per_rep}"
        )
    )
    removed_mask = reasons.ne("")
    removed = deals.loc[removed_mask, ["deal_id", "rep_id", "outcome", "amount"]].assign(
        reason=reasons[removed_mask]
    )
    removed.insert(0, "line", removed.index)
    kept = deals.loc[~removed_mask].copy()
    if rule.returned_as_lost and "returned" in kept:
        back = kept["outcome"].eq("won") & kept["returned"].fillna(False).astype(bool)
        kept.loc[back, "outcome"] = "lost"
        kept.attrs["returned_as_lost"] = int(back.sum())
    return kept, removed.reset_index(drop=True)

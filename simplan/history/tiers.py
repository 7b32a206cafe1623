"""Lead tiers for a history that may have none: an explicit rule, and a sentence saying which.

Rules (`TierRule.method`):
- `column`: the history's own tier column.
- `product`: each deal takes its product's price (from a price list, else the product's
  median won amount in the history); products sorted by price are grouped into `count` tiers
  holding about as many deals each (a product goes where the middle of its deals falls), so
  a product never splits.
- `amount`: deals are cut at the terciles of won amounts, each deal by its own amount (works
  only when lost and open deals carry their expected amount, as Salesforce exports do).
- `none`: one tier.
- `auto` (default): column if present, else product if the history has two or more
  products, else amount if at least 80 % of lost and open deals carry an amount, else none.
Tiers are named A (highest value), B, C, ...
"""

from __future__ import annotations

import string
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from simplan.errors import SimplanError
from simplan.history.roster import product_key
from simplan.model.params import Params

TierMethod = Literal["auto", "column", "product", "amount", "none"]


class TierRule(Params):
    """How deals are graded into lead tiers when the history has no tier column."""

    method: TierMethod = "auto"
    count: int = Field(default=3, ge=1, le=6)


def assign_tiers(
    deals: pd.DataFrame, rule: TierRule, products: pd.DataFrame | None = None
) -> tuple[pd.Series, str, pd.DataFrame]:
    """Each deal's tier, a sentence saying which rule made it, and the rule's table
    (tier, basis of the cut, from (inclusive) and below, deals)."""
    method = _method(deals, rule)
    names = list(string.ascii_uppercase[: rule.count])
    if method == "column":
        tier = deals["tier"].fillna("unknown").astype(str)
        text = "tiers from the history's tier column"
        table = tier.value_counts().rename_axis("tier").reset_index(name="deals")
        return tier, text, table
    if method == "none" or rule.count == 1:
        tier = pd.Series("A", index=deals.index, dtype=object)
        text = "one tier: the history has no tier, no products and no amounts on open deals"
        if method != "none":
            text = "one tier (tier count 1)"
        return tier, text, pd.DataFrame({"tier": ["A"], "deals": [len(deals)]})
    if method == "product":
        value, basis = _product_price(deals, products)
    else:
        value, basis = deals["amount"].where(deals["amount"] > 0), "deal amount"
    won = deals["outcome"].eq("won") & value.notna()
    reference = value[won] if method == "amount" else value.dropna()
    if reference.nunique() < rule.count:
        raise SimplanError(
            f"tier rule '{method}': only {reference.nunique()} distinct {basis} value(s), "
            f"fewer than {rule.count} tiers; use fewer tiers or another rule"
        )
    if method == "product":
        cuts = _balanced_cuts(value.dropna(), rule.count)
    else:
        cuts = np.quantile(reference, np.linspace(0, 1, rule.count + 1)[1:-1])
    # Tier A holds the highest values: count the cuts a value is above.
    rank = np.searchsorted(cuts, value.fillna(-np.inf).to_numpy(), side="right")
    tier = pd.Series([names[rule.count - 1 - r] for r in rank], index=deals.index, dtype=object)
    unknown = value.isna()
    if unknown.any():  # no amount (lost or open) or a product never won and not priced
        tier[unknown] = names[-1]
    edges = np.concatenate([[-np.inf], cuts, [np.inf]])
    table = pd.DataFrame(
        {
            "tier": names[::-1],
            "basis": basis,
            "from": edges[:-1],
            "below": edges[1:],
            "deals": [int((tier == n).sum()) for n in names[::-1]],
        }
    ).iloc[::-1]
    text = {
        "product": f"tiers from the product's price ({basis}): products sorted by price "
        f"and grouped into {rule.count} tiers of about equal deal counts, A the most expensive",
        "amount": f"tiers from deal amounts: cut at the {rule.count}-quantiles of won "
        "amounts, A the largest; lost and open deals by their expected amount",
    }[method]
    if unknown.any():
        text += f" ({int(unknown.sum()):,} deals without a value go to {tier[unknown].iloc[0]})"
    return tier, text, table.reset_index(drop=True)


def _balanced_cuts(value: pd.Series, count: int) -> np.ndarray:
    """Cuts between distinct values (products' prices) so tiers hold about equal numbers of
    deals: values sorted, each goes to the tier where the middle of its deals falls."""
    sizes = value.value_counts().sort_index()
    middle = (sizes.cumsum() - sizes / 2) / sizes.sum()
    group = np.minimum((middle.to_numpy() * count).astype(int), count - 1)
    prices = sizes.index.to_numpy(dtype=float)
    cuts = [prices[group >= g].min() for g in range(1, count) if (group >= g).any()]
    while len(cuts) < count - 1:  # fewer groups than tiers: the top tiers stay empty
        cuts.append(np.inf)
    return np.asarray(cuts, dtype=float)


def _method(deals: pd.DataFrame, rule: TierRule) -> str:
    if rule.method != "auto":
        needs = {"column": "tier", "product": "product"}.get(rule.method)
        if needs and needs not in deals:
            raise SimplanError(
                f"tier rule '{rule.method}' needs a {needs} column; map one with "
                f"--map {needs}=<column> or choose another --tiers rule"
            )
        return rule.method
    if "tier" in deals and deals["tier"].notna().any():
        return "column"
    if "product" in deals and deals["product"].nunique() >= 2:
        return "product"
    others = deals[deals["outcome"] != "won"]
    if len(others) and (others["amount"] > 0).mean() >= 0.8:
        return "amount"
    return "none"


def _product_price(deals: pd.DataFrame, products: pd.DataFrame | None) -> tuple[pd.Series, str]:
    """Each deal's product price: the price list's where the name matches, else the product's
    median won amount in the history."""
    key = deals["product"].map(product_key, na_action="ignore")
    won = deals["outcome"].eq("won")
    median = deals.loc[won].groupby(key[won])["amount"].median()
    price = key.map(median)
    basis = "median won amount of the product"
    if products is not None:
        listed = products.drop_duplicates("key").set_index("key")["price"]
        matched = key.map(listed)
        price = matched.fillna(price)
        basis = "price list" + (
            "; products not on it by median won amount" if matched.isna().any() else ""
        )
    return price.astype(float), basis

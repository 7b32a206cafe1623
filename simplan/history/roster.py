"""Side tables of a history: the roster (who sold, in which team, since when) and a product
price list (to grade leads by the product they are for).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from simplan.history.checks import Checker
from simplan.history.files import fail, read_table
from simplan.history.presets import Preset, pick

ROSTER_COLUMNS = ("rep_id", "team", "region", "hire_date", "quota")
"""Canonical roster columns; only rep_id is required."""
ROSTER_HINTS = {
    "rep_id": ("rep_id", "sales_agent", "rep", "name", "owner", "agent", "salesperson"),
    "team": ("team", "manager", "squad"),
    "region": ("region", "regional_office", "office"),
    "hire_date": ("hire_date", "hired", "start_date"),
    "quota": ("quota", "target"),
}
PRODUCT_COLUMNS = ("product", "price")
PRODUCT_HINTS = {"product": ("product", "product_name", "name"), "price": ("price", "sales_price")}


def read_roster_table(
    path: str | Path, preset: Preset | None = None, date_format: str | None = None
) -> pd.DataFrame:
    """The roster: rep_id, team, region, hire_date, quota (absent columns are empty).

    Columns are found by the preset's names or the usual names (sales_agent, manager,
    regional_office, hire_date); every problem is reported with its lines.
    """
    source = read_table(path)
    present = list(source.frame.columns)
    columns = pick(preset.roster if preset else {}, present)
    for canonical, names in ROSTER_HINTS.items():
        columns.setdefault(canonical, pick({canonical: names}, present).get(canonical, ""))
    columns = {k: v for k, v in columns.items() if v}
    if "rep_id" not in columns:
        fail(
            source,
            [
                "no rep column (looked for "
                + ", ".join(repr(n) for n in ROSTER_HINTS["rep_id"])
                + f"); columns in the file: {', '.join(present[:20])}; name it rep_id"
            ],
        )
    check = Checker(source, columns)
    check.preferred_format = preset.date_format if preset else None
    rep_id = check.text("rep_id")
    roster = pd.DataFrame({"rep_id": rep_id})
    for canonical in ("team", "region"):
        roster[canonical] = check.text(canonical) if canonical in columns else None
    roster["hire_date"] = (
        check.dates("hire_date", date_format) if "hire_date" in columns else pd.NaT
    )
    roster["quota"] = check.numbers("quota") if "quota" in columns else float("nan")
    if rep_id.isna().any():
        check.problems.append(f"{check.name('rep_id')} is empty on {source.rows(rep_id.isna())}")
    repeated = rep_id.duplicated(keep=False) & rep_id.notna()
    if repeated.any():
        check.problems.append(
            f"{check.name('rep_id')} repeats on {source.rows(repeated)}; one row per rep"
        )
    if check.problems:
        fail(source, check.problems)
    roster.attrs["source"] = str(source.path)
    return roster


def read_products(path: str | Path, preset: Preset | None = None) -> pd.DataFrame:
    """A price list: product, price (> 0), plus `key`, the name as compared with deals."""
    source = read_table(path)
    present = list(source.frame.columns)
    columns = pick(preset.products if preset else {}, present)
    for canonical, names in PRODUCT_HINTS.items():
        columns.setdefault(canonical, pick({canonical: names}, present).get(canonical, ""))
    missing = [c for c in PRODUCT_COLUMNS if not columns.get(c)]
    if missing:
        fail(
            source,
            [
                f"no {c} column (looked for {', '.join(map(repr, PRODUCT_HINTS[c]))})"
                for c in missing
            ]
            + [f"columns in the file: {', '.join(present[:20])}"],
        )
    check = Checker(source, columns)
    products = pd.DataFrame({"product": check.text("product"), "price": check.numbers("price")})
    bad = products["product"].isna() | ~(products["price"] > 0)
    if bad.any():
        check.problems.append(
            f"product or price is empty or not > 0 on {source.rows(bad)}; each product needs "
            "a positive price"
        )
    if check.problems:
        fail(source, check.problems)
    products["key"] = products["product"].map(product_key)
    return products


def product_key(name: str) -> str:
    """A product name as compared across tables: lower case, letters and digits only, so
    'GTXPro' in the deals matches 'GTX Pro' in the price list."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())

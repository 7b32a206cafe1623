"""Column names: simplan's canonical deal and target columns, `--map` parsing, and which
column of a file is which (with a nearest-name hint when one is missing).
"""

from __future__ import annotations

import difflib

from simplan.errors import SimplanError
from simplan.history.files import Source, fail

REQUIRED = ("deal_id", "rep_id", "close_date", "amount")
OPTIONAL = (
    "outcome",
    "credit_share",
    "customer_id",
    "role",
    "tier",
    "project",
    "created_date",
    "product",
    "returned",
    "is_won",
    "is_closed",
)
"""Canonical deal columns; an absent `outcome` column means every row is a won deal (unless
the `is_won` / `is_closed` flags of a Salesforce export say otherwise). `created_date` is when
the opportunity was opened (calibration needs it); `returned` flags a won deal given back."""
OUTCOMES = ("won", "lost", "open")
"""A deal's outcome; also the --map keys that name a CRM's stage labels."""
HINTS = {
    "deal_id": ("opportunity_id", "opportunity", "deal", "id", "record_id"),
    "rep_id": ("sales_agent", "owner", "opportunity_owner", "salesperson", "rep", "agent"),
    "close_date": ("closed_date", "closedate", "date_closed", "won_date"),
    "amount": ("close_value", "value", "deal_value", "revenue"),
    "outcome": ("deal_stage", "stage", "stage_name", "status"),
    "customer_id": ("account", "account_id", "customer", "company"),
    "created_date": ("engage_date", "createddate", "created_date", "create_date", "created_time"),
    "product": ("product", "product_name", "item"),
}
"""Names other CRMs use, only to suggest a --map (never mapped silently)."""
TARGET_COLUMNS = ("rep_id", "period", "target")
"""Columns of a targets file."""


def parse_mapping(pairs: list[str] | None) -> dict[str, str]:
    """`["deal_id=opportunity_id", "won=Signed"]` -> `{"deal_id": "opportunity_id", ...}`.

    Keys are canonical columns (the value is the file's column) or an outcome (won, lost,
    open: the value is a CRM stage label; repeat or comma-separate for several labels).
    """
    allowed = (*REQUIRED, *OPTIONAL, *OUTCOMES)
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = (part.strip() for part in pair.partition("="))
        if not sep or not key or not value:
            raise SimplanError(
                f"--map {pair!r}: write canonical=source, e.g. --map deal_id=opportunity_id"
            )
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{near[0]}'?" if near else f"allowed: {', '.join(allowed)}"
            raise SimplanError(f"--map {pair!r}: '{key}' is not a simplan column; {hint}")
        if key in OUTCOMES and key in mapping:
            mapping[key] += f",{value}"
        elif key in mapping and mapping[key] != value:
            raise SimplanError(
                f"--map {pair!r}: '{key}' is already mapped to '{mapping[key]}'; map it once"
            )
        else:
            mapping[key] = value
    return mapping


def parse_renames(pairs: list[str] | None) -> dict[str, str]:
    """`["Jen Park=Jennifer Park"]` -> `{"Jen Park": "Jennifer Park"}` (old name = new)."""
    renames: dict[str, str] = {}
    for pair in pairs or []:
        old, sep, new = (part.strip() for part in pair.partition("="))
        if not sep or not old or not new or old == new:
            raise SimplanError(
                f"--rename {pair!r}: write OLD=NEW, the two names of one rep, e.g. "
                "--rename 'Jen Park=Jennifer Park'"
            )
        renames[old] = new
    return renames


def resolve_columns(
    source: Source, mapping: dict[str, str], required: tuple[str, ...], optional: tuple[str, ...]
) -> dict[str, str]:
    """Canonical name -> the file's column, from `mapping` or the canonical name itself."""
    present = list(source.frame.columns)
    problems, columns = [], {}
    for canonical in (*required, *optional):
        column = mapping.get(canonical)
        if column is not None and column not in present:
            problems.append(
                f"--map {canonical}={column}: the file has no column '{column}'"
                f"{_nearest(column, present, canonical)}"
            )
        elif column is not None or canonical in present:
            columns[canonical] = column or canonical
        elif canonical in required:
            problems.append(f"no column '{canonical}'{_nearest(canonical, present, canonical)}")
    if problems:
        shown = ", ".join(present[:20]) + (", ..." if len(present) > 20 else "")
        problems.append(f"columns in the file: {shown}")
        fail(source, problems)
    return columns


def _nearest(name: str, present: list[str], canonical: str) -> str:
    """A --map suggestion: a close spelling of `name`, or a column other CRMs use for it."""
    lower = {c.lower(): c for c in present}
    close = [lower[c] for c in difflib.get_close_matches(name.lower(), list(lower), 1, 0.6)]
    usual = [lower[h] for h in (canonical, *HINTS.get(canonical, ())) if h in lower]
    found = (close + usual) if name != canonical else (usual + close)
    if found:
        return f"; the nearest is '{found[0]}': pass --map {canonical}={found[0]}"
    return f"; pass --map {canonical}=<column> naming the file's column"

"""Numbers as exports write them: `$12,345`, `12.345,67 €`, `1'200.50`, `EUR 900`. One
column has one convention: a value that can only be read one way (`12,5`, `1.234,56`,
`1,234.56`) settles it for the others; with none, a `;`-separated file (as Excel writes CSV
where the decimal separator is a comma) reads `1,234` as 1.234, any other as 1234.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

CURRENCY = re.compile(r"[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|SEK|NOK|DKK|INR)\b", re.I)
_SPACES = re.compile(r"[\s\u00a0\u202f']")
_SHAPE = re.compile(r"^[+-]?[\d.,]*\d[\d.,]*$")


@dataclass(frozen=True)
class Numbers:
    """A column read as numbers: values (NaN where unreadable or empty), which cells were
    unreadable, and how the written ones were read (empty when every cell was plain)."""

    values: pd.Series
    bad: pd.Series
    how: str
    mixed: str = ""
    """Why the column cannot be read (two decimal conventions or currencies), else empty."""


def read_numbers(text: pd.Series, decimal_comma: bool) -> Numbers:
    """Floats from stripped text cells (None where empty); see the module for the rules."""
    present = text.dropna().astype(str)
    plain = pd.to_numeric(present, errors="coerce")
    if not decimal_comma and plain.notna().all():
        values = plain.reindex(text.index).astype(float)
        return Numbers(values, text.notna() & ~np.isfinite(values.fillna(0)), "")
    currencies = sorted({m.upper() for v in present for m in CURRENCY.findall(v)})
    core = present.map(lambda v: _SPACES.sub("", CURRENCY.sub("", v)))
    negative = core.str.startswith("(") & core.str.endswith(")")
    core = core.where(~negative, "-" + core.str[1:-1])
    shaped = core.map(lambda v: bool(_SHAPE.match(v)))
    comma, dot = _evidence(core[shaped])
    if comma and dot:
        separated = core.str.contains(r"[.,]").reindex(text.index, fill_value=False)
        return Numbers(
            pd.Series(np.nan, text.index), separated.astype(bool), "",
            "mixes decimal commas (1.234,56) and decimal points (1,234.56)",
        )  # fmt: skip
    if len(currencies) > 1:
        return Numbers(
            pd.Series(np.nan, text.index), text.notna(), "",
            f"mixes currencies ({', '.join(currencies)}); convert the amounts to one currency",
        )  # fmt: skip
    use_comma = comma or (decimal_comma and not dot)
    thousands, point = (".", ",") if use_comma else (",", ".")
    normal = core.str.replace(thousands, "", regex=False).str.replace(point, ".", regex=False)
    values = pd.to_numeric(normal.where(shaped), errors="coerce")
    values = values.reindex(text.index).astype(float)
    bad = text.notna() & (values.isna() | ~np.isfinite(values.fillna(0)))
    read = values.reindex(present.index)
    written = present[(present != normal) & read.notna()]
    shown = written[read[written.index] != 0]
    shown = shown if len(shown) else written  # a non-zero example, when there is one
    how = ""
    if len(written):
        dropped = f"currency {currencies[0]!r} dropped; " if currencies else ""
        how = (
            f"{len(written):,} values written with separators or a currency, e.g. "
            f"{shown.iloc[0]!r} read as {values[shown.index[0]]:g} ({dropped}{point!r} "
            f"decimals, {thousands!r} thousands)"
        )
    return Numbers(values, bad, how)


def _evidence(core: pd.Series) -> tuple[bool, bool]:
    """(a value reads only with a decimal comma, a value reads only with a decimal point)."""
    comma = dot = False
    for value in core:
        last_comma, last_dot = value.rfind(","), value.rfind(".")
        if last_comma >= 0 and last_dot >= 0:
            comma |= last_comma > last_dot
            dot |= last_dot > last_comma
        elif last_comma >= 0:
            comma |= value.count(",") == 1 and len(value) - last_comma - 1 != 3
            dot |= value.count(",") > 1
        elif last_dot >= 0:
            dot |= value.count(".") == 1 and len(value) - last_dot - 1 != 3
            comma |= value.count(".") > 1
        if comma and dot:
            break
    return comma, dot

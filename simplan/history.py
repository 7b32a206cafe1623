"""Deal history from a CRM export: read a CSV or Parquet file, map its columns to simplan's
names, check every row once, and return tidy tables (the won-deal ledger a plan pays on).

Every problem in a file is collected and raised as one SimplanError naming the file, the
column, the first few line numbers (1-based; the CSV header is line 1) with a count, and
the fix. Tables returned here are trusted by the payout engine and the calibrators.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simplan.errors import SimplanError
from simplan.model.plan import Plan, compute_payouts
from simplan.model.plan.inputs import FREQ, targets_from_quota
from simplan.model.plan.sheet import Statements

REQUIRED = ("deal_id", "rep_id", "close_date", "amount")
OPTIONAL = ("outcome", "credit_share", "customer_id", "role", "tier", "project")
"""Canonical deal columns; an absent `outcome` column means every row is a won deal."""
OUTCOMES = ("won", "lost", "open")
OUTCOME_LABELS = {
    "won": ("won", "closed won", "closedwon", "win"),
    "lost": ("lost", "closed lost", "closedlost", "loss"),
    "open": ("open", "engaging", "prospecting", "prospect", "qualifying", "qualified",
             "qualification", "discovery", "proposal", "negotiation", "pipeline", "in progress",
             "new", "contact"),
}  # fmt: skip
"""CRM stage labels simplan understands (compared lower-case, '-', '_' and '/' as spaces)."""
HINTS = {
    "deal_id": ("opportunity_id", "opportunity", "deal", "id", "record_id"),
    "rep_id": ("sales_agent", "owner", "opportunity_owner", "salesperson", "rep", "agent"),
    "close_date": ("closed_date", "closedate", "date_closed", "won_date"),
    "amount": ("close_value", "value", "deal_value", "revenue"),
    "outcome": ("deal_stage", "stage", "stage_name", "status"),
    "customer_id": ("account", "account_id", "customer", "company"),
}
"""Names other CRMs use, only to suggest a --map (never mapped silently)."""
TARGET_COLUMNS = ("rep_id", "period", "target")
DATE_FORMATS = {
    "ISO8601": "ISO 8601 (2017-03-01)",
    "%m/%d/%Y": "%m/%d/%Y",
    "%d/%m/%Y": "%d/%m/%Y",
    "%d.%m.%Y": "%d.%m.%Y",
    "%Y/%m/%d": "%Y/%m/%d",
}
"""Formats tried, in order, when no --date-format is given (format: how it is shown)."""
SHOWN = 5
"""Line numbers quoted per problem."""
_MISSING = ("nan", "na", "n/a", "null", "none")
_MONEY_TEXT = re.compile(r"[$€£¥₹,'\s]|\b(?:USD|EUR|GBP|CHF|JPY)\b", re.IGNORECASE)


class Source:
    """A table as read from a file; the index holds 1-based line (CSV) or row (Parquet) numbers."""

    def __init__(self, path: Path, frame: pd.DataFrame, unit: str) -> None:
        self.path, self.frame, self.unit = path, frame, unit
        self.frame.index.name = unit

    def rows(self, mask: Any) -> str:
        """'3 rows (lines 4, 9, 17)': a count and the first few numbers of the rows in `mask`."""
        labels = self.frame.index[np.asarray(mask, dtype=bool)]
        n = len(labels)
        head = ", ".join(str(i) for i in labels[:SHOWN]) + (", ..." if n > SHOWN else "")
        return f"{n:,} row{'s' if n != 1 else ''} ({self.unit}{'s' if n != 1 else ''} {head})"


def read_table(path: str | Path) -> Source:
    """Read a CSV (every cell as text) or Parquet file; refuse empty, binary or ;-separated files."""
    path = Path(path)
    if not path.is_file():
        raise SimplanError(
            f"{path}: file not found; check the path (relative paths start at the current directory)"
        )
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as err:
            raise SimplanError(f"{path}: cannot be read as Parquet ({err})") from None
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        unit = "row"
    elif suffix in (".csv", ".txt"):
        frame, unit = _read_csv(path), "line"
    else:
        kind = "an Excel workbook" if suffix in (".xlsx", ".xls") else f"a '{suffix}' file"
        raise SimplanError(
            f"{path}: {kind} cannot be read; export it as .csv (comma-separated) or .parquet"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise SimplanError(f"{path}: has a header but no rows; export it again with its rows")
    return Source(path, frame, unit)


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        raise SimplanError(
            f"{path}: the file is empty; a deals file has a header line and one row per deal"
        )
    if raw.startswith(b"PK\x03\x04") or b"\x00" in raw[:4096]:
        raise SimplanError(
            f"{path}: not a text CSV file (it looks like a workbook or binary data); "
            "export it as CSV (comma-separated) or Parquet"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    header = next(line for line in text.splitlines() if line.strip())
    for delimiter, name in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
        if "," not in header and delimiter in header:
            raise SimplanError(
                f"{path}: the header is one column ({header[:60]!r}); the file looks "
                f"{name}-separated. Save it as comma-separated CSV (e.g. Excel: Save As "
                "'CSV UTF-8 (Comma delimited)')"
            )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # a row longer than the header
            frame = pd.read_csv(
                io.StringIO(text),
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                skip_blank_lines=False,
                index_col=False,
            )
    except (pd.errors.ParserError, pd.errors.ParserWarning) as err:
        width = len(next(csv.reader([header])))
        reader = csv.reader(io.StringIO(text))
        long = [reader.line_num for row in reader if len(row) > width]
        found = (
            f"{len(long):,} line(s) have more fields than the header's {width}, e.g. line {long[0]}"
            if long
            else str(err).strip()
        )
        raise SimplanError(
            f"{path}: not a valid CSV file ({found}); check that the delimiter is ',', that "
            "text containing commas is quoted, and that amounts have no thousands separator "
            "(1200.00, not 1,200.00)"
        ) from None
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame.dropna(how="all")  # blank lines (their numbers are kept)


# ---- columns --------------------------------------------------------------------------


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
        _fail(source, problems)
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


def _fail(source: Source, problems: list[str]) -> None:
    noun = "problem" if len(problems) == 1 else "problems"
    lines = "\n".join(f"  - {p}" for p in problems)
    raise SimplanError(f"{source.path}: {len(problems)} {noun}:\n{lines}")


# ---- cells ----------------------------------------------------------------------------


class _Checker:
    """Parses the canonical columns of one source, collecting every problem."""

    def __init__(self, source: Source, columns: dict[str, str]) -> None:
        self.source, self.columns = source, columns
        self.problems: list[str] = []
        self.unreadable: dict[str, pd.Series] = {}
        """Per column, the cells already reported as unreadable (not to be called empty too)."""

    def name(self, canonical: str) -> str:
        column = self.columns[canonical]
        return f"column '{column}'" + (f" ({canonical})" if column != canonical else "")

    def text(self, canonical: str) -> pd.Series:
        """Stripped text, NaN where empty."""
        column = self.source.frame[self.columns[canonical]]
        text = column.astype(object).map(lambda v: str(v).strip(), na_action="ignore")
        return text.where(text.notna() & (text != ""), None).astype(object)

    def numbers(self, canonical: str) -> pd.Series:
        """Floats, NaN where empty; text that is not a plain number is a problem."""
        column = self.source.frame[self.columns[canonical]]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
            values = column.astype(float)
            text = values.astype(object).map(str)
            bad = values.notna() & ~np.isfinite(values)
        else:
            text = self.text(canonical)
            text = text.where(~text.map(str.lower, na_action="ignore").isin(_MISSING), None)
            values = pd.to_numeric(text, errors="coerce").astype(float)
            bad = text.notna() & (values.isna() | ~np.isfinite(values))
        money = bad & text.map(_is_money_text, na_action="ignore").astype(object).eq(True)
        if money.any():
            self.problems.append(
                f"{self.name(canonical)} has numbers written with currency symbols or thousands "
                f"separators on {self.source.rows(money)}, e.g. {text[money].iloc[0]!r}; "
                "export the column as plain numbers (1200.00: no symbol, no separator, '.' for "
                "decimals)"
            )
        self.unreadable[canonical] = bad
        other = bad & ~money
        if other.any():
            example = text[other].iloc[0]
            fix = "write plain numbers (1200.50)"
            if canonical == "credit_share":
                fix = "write a share as a fraction (60% as 0.6)"
            self.problems.append(
                f"{self.name(canonical)} is not a number on {self.source.rows(other)}, e.g. "
                f"{example!r}; {fix}"
            )
        return values.where(~bad, np.nan)

    def dates(self, canonical: str, date_format: str | None) -> pd.Series:
        """Timestamps (naive), NaT where empty; values the format does not read are a problem.

        Without `date_format` the formats in DATE_FORMATS are tried in order and the first
        that reads every value is used; two that read all values differently are a problem.
        """
        column = self.source.frame[self.columns[canonical]]
        if pd.api.types.is_datetime64_any_dtype(column.dtype):
            return column.dt.tz_localize(None) if column.dt.tz is not None else column
        text = self.text(canonical)
        present = text.notna()
        if date_format:
            try:
                given = _to_dates(text, date_format)
            except ValueError as err:
                self.problems.append(
                    f"--date-format {date_format!r} is not a date format ({err}); use strftime "
                    "codes, e.g. --date-format %m/%d/%Y"
                )
                self.unreadable[canonical] = present
                return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
            if not (present & given.isna()).any():
                return given
        parsed = {fmt: _to_dates(text, fmt) for fmt in DATE_FORMATS}
        complete = [fmt for fmt, dates in parsed.items() if not (present & dates.isna()).any()]
        if date_format:
            bad = present & given.isna()
            tried = f"the format {date_format!r} given by --date-format"
            fix = (
                f"every value reads as {complete[0]}: pass --date-format {complete[0]}"
                if complete
                else "fix those values, or pass the file's format with --date-format"
            )
        elif complete:
            first = parsed[complete[0]]
            for other in complete[1:]:
                differ = present & (first != parsed[other])
                if differ.any():
                    self.problems.append(
                        f"{self.name(canonical)} has dates such as {text[differ].iloc[0]!r} that "
                        f"read both as {complete[0]} and {other}; pass --date-format "
                        f"{complete[0]} or --date-format {other}"
                    )
                    break
            return first
        else:
            best = min(parsed, key=lambda fmt: int((present & parsed[fmt].isna()).sum()))
            bad, given = present & parsed[best].isna(), parsed[best]
            tried = f"any of {', '.join(DATE_FORMATS.values())} (most read as {DATE_FORMATS[best]})"
            fix = "fix those values, or pass the file's format, e.g. --date-format %d-%b-%Y"
        self.unreadable[canonical] = bad
        self.problems.append(
            f"{self.name(canonical)} is not a date in {tried} on {self.source.rows(bad)}, e.g. "
            f"{text[bad].iloc[0]!r}; {fix}"
        )
        return given

    def outcomes(self, labels: dict[str, str]) -> pd.Series:
        """'won' / 'lost' / 'open' per row (all 'won' without an outcome column)."""
        index = self.source.frame.index
        if "outcome" not in self.columns:
            if labels:
                self.problems.append(
                    f"--map {next(iter(labels))}=... names outcome labels but no outcome column "
                    "is mapped; add --map outcome=<column>"
                )
            return pd.Series("won", index=index, dtype=object)
        known = {_label(lab): out for out, labs in OUTCOME_LABELS.items() for lab in labs}
        for outcome, given in labels.items():
            known.update({_label(lab): outcome for lab in given.split(",") if lab.strip()})
        raw = self.text("outcome")
        outcome = raw.map(lambda v: known.get(_label(v)), na_action="ignore")
        empty = raw.isna()
        if empty.any():
            self.problems.append(
                f"{self.name('outcome')} is empty on {self.source.rows(empty)}; fill in each "
                "deal's outcome (Won, Lost or Open)"
            )
        unknown = outcome.isna() & ~empty
        if unknown.any():
            seen = raw.value_counts()
            shown = ", ".join(f"{label!r} ({count:,})" for label, count in seen.head(12).items())
            strange = list(raw[unknown].unique()[:5])
            self.problems.append(
                f"{self.name('outcome')} has labels simplan does not know: "
                f"{', '.join(map(repr, strange))} on {self.source.rows(unknown)}. Labels seen: "
                f"{shown}. Say what they mean with --map won=LABEL, --map lost=LABEL or "
                f"--map open=LABEL (e.g. --map won={strange[0]!r}); known without a map: "
                + "; ".join(f"{o}: {', '.join(labs[:4])}" for o, labs in OUTCOME_LABELS.items())
            )
        return outcome


def _to_dates(text: pd.Series, date_format: str) -> pd.Series:
    """Naive timestamps (time zones converted to UTC), NaT where `date_format` does not read."""
    return pd.to_datetime(text, format=date_format, errors="coerce", utc=True).dt.tz_localize(None)


def _label(value: str) -> str:
    return re.sub(r"[\s_\-/]+", " ", str(value).lower()).strip()


def _is_money_text(value: str) -> bool:
    try:
        float(_MONEY_TEXT.sub("", value).strip("()"))
    except ValueError:
        return False
    return _MONEY_TEXT.search(value) is not None


# ---- tables -----------------------------------------------------------------------------


def read_history(
    path: str | Path, mapping: dict[str, str] | None = None, date_format: str | None = None
) -> pd.DataFrame:
    """Every deal of a CRM export with simplan's column names, each row checked once.

    Columns: deal_id, rep_id, close_date, amount (the whole deal's value), outcome ('won' /
    'lost' / 'open'), credit_share (1.0 unless the file splits deals), and the optional
    customer_id, role, tier, project when present. Index: the file's line (CSV) or row
    (Parquet) numbers. `mapping` is `parse_mapping`'s output; `date_format` a strftime format
    for close_date (default: detected). Raises SimplanError listing every problem.
    """
    mapping = dict(mapping or {})
    source = read_table(path)
    columns = resolve_columns(source, mapping, REQUIRED, OPTIONAL)
    check = _Checker(source, columns)
    rows = source.rows
    outcome = check.outcomes({k: v for k, v in mapping.items() if k in OUTCOMES})
    won = outcome.eq("won")
    deal_id, rep_id = check.text("deal_id"), check.text("rep_id")
    amount = check.numbers("amount")
    close_date = check.dates("close_date", date_format)
    split = "credit_share" in columns
    share = check.numbers("credit_share") if split else pd.Series(1.0, index=deal_id.index)

    if deal_id.isna().any():
        check.problems.append(
            f"{check.name('deal_id')} is empty on {rows(deal_id.isna())}; every deal needs an id"
        )
    key = deal_id.fillna("") + "\x1f" + rep_id.fillna("") if split else deal_id
    repeated = key.duplicated(keep=False) & deal_id.notna()
    if repeated.any():
        first = deal_id[repeated].iloc[0]
        where = ", ".join(str(i) for i in deal_id.index[repeated & deal_id.eq(first)][:SHOWN])
        check.problems.append(
            f"{check.name('deal_id')} repeats {key[repeated].nunique():,} id(s) on "
            f"{rows(repeated)}, e.g. {first!r} on {source.unit}s {where}; "
            + (
                "keep one row per deal and rep"
                if split
                else "keep one row per deal (a deal split between reps needs a credit_share "
                "column giving each rep's share)"
            )
        )
    for canonical, values in (("rep_id", rep_id), ("amount", amount), ("close_date", close_date)):
        missing = won & values.isna()
        if canonical in check.unreadable:
            missing &= ~check.unreadable[canonical]
        if missing.any():
            hint = ""
            if canonical == "close_date" and "outcome" not in columns:
                hint = (
                    " (no outcome column is mapped, so every row counts as won: if the file "
                    "holds open or lost deals, pass --map outcome=<stage column>)"
                )
            check.problems.append(
                f"{check.name(canonical)} is empty on {rows(missing)} of won deals{hint}; "
                "fill it in or drop those rows"
            )
    negative = amount < 0
    if negative.any():
        check.problems.append(
            f"{check.name('amount')} is negative on {rows(negative)}, e.g. "
            f"{amount[negative].iloc[0]:g}; amounts must be >= 0 (drop refunds and credit "
            "notes, or mark the deal as returned)"
        )
    if split:
        _check_shares(check, deal_id, amount, share)
    if check.problems:
        _fail(source, check.problems)

    history = pd.DataFrame(
        {
            "deal_id": deal_id,
            "rep_id": rep_id,
            "close_date": close_date,
            "amount": amount,
            "outcome": pd.Categorical(outcome, categories=OUTCOMES),
            "credit_share": share,
        }
    )
    for canonical in ("customer_id", "role", "tier", "project"):
        if canonical in columns:
            history[canonical] = check.text(canonical)
    history.attrs["source"] = str(source.path)
    return history


def _check_shares(check: _Checker, deal_id: pd.Series, amount: pd.Series, share: pd.Series) -> None:
    rows = check.source.rows
    size = deal_id.map(deal_id.value_counts())
    share.loc[share.isna() & size.eq(1)] = 1.0  # a deal on one row is all its rep's
    outside = share.notna() & ((share <= 0) | (share > 1))
    if share.isna().any() or outside.any():
        check.problems.append(
            f"{check.name('credit_share')} is empty or outside 0..1 on "
            f"{rows(share.isna() | outside)}; a share is a fraction of the deal (write 60% as 0.6)"
        )
        return
    total = share.groupby(deal_id).transform("sum")
    off = (total - 1).abs() > 1e-6
    if off.any():
        check.problems.append(
            f"{check.name('credit_share')}: the shares of {deal_id[off].nunique():,} deal(s) do "
            f"not sum to 1 on {rows(off)}, e.g. deal {deal_id[off].iloc[0]!r} sums to "
            f"{total[off].iloc[0]:.6g}; give each deal's rows shares that add up to 1 (0.6 + 0.4)"
        )
    differ = amount.groupby(deal_id).transform("nunique").gt(1)
    if differ.any():
        check.problems.append(
            f"{check.name('amount')} differs between the rows of {deal_id[differ].nunique():,} "
            f"split deal(s) on {rows(differ)}; give the whole deal's value on every row (each "
            "rep is credited amount x credit_share)"
        )


def won_ledger(history: pd.DataFrame) -> pd.DataFrame:
    """The payout ledger: one row per (won deal, credited rep), as `compute_payouts` reads it."""
    won = history[history["outcome"] == "won"]
    ledger = pd.DataFrame(
        {
            "deal_id": won["deal_id"].astype(str),
            "rep_id": won["rep_id"].astype(str),
            "close_date": won["close_date"],
            "amount": won["amount"] * won["credit_share"],
            "deal_amount": won["amount"],
            "credit_share": won["credit_share"],
        }
    )
    for column in ("customer_id", "role", "tier", "project"):
        if column in won.columns:
            ledger[column] = won[column]
    return ledger


def read_deals(
    path: str | Path, mapping: dict[str, str] | None = None, date_format: str | None = None
) -> pd.DataFrame:
    """The won-deal ledger of a CRM export (see `read_history` for the file and the mapping).

    Columns: deal_id, rep_id, close_date, amount (credited), deal_amount, credit_share (+
    customer_id, role, tier, project when mapped); index: the file's line numbers, so a
    payout error about 'row 57' points at line 57.
    """
    history = read_history(path, mapping, date_format)
    ledger = won_ledger(history)
    if ledger.empty:
        counts = history["outcome"].value_counts()
        seen = ", ".join(f"{n:,} {outcome}" for outcome, n in counts.items() if n)
        raise SimplanError(
            f"{path}: no won deals ({seen}); a payout needs won deals: check the outcome column "
            "and how its labels are mapped (--map won=LABEL)"
        )
    return ledger


def read_targets(path: str | Path, clock: str = "month") -> pd.DataFrame:
    """A targets file (rep_id, period such as 2017-03 or 2017Q1, target) on the plan `clock`."""
    freq = FREQ[clock]
    source = read_table(path)
    check = _Checker(source, resolve_columns(source, {}, TARGET_COLUMNS, ()))
    rows = source.rows
    rep_id = check.text("rep_id")
    target = check.numbers("target")
    text = check.text("period")
    periods = {}
    for value in text.dropna().unique():
        try:
            periods[value] = pd.Period(value, freq=freq)
        except (ValueError, TypeError):
            periods[value] = None
    period = text.map(periods, na_action="ignore")
    if period.isna().any():
        check.problems.append(
            f"{check.name('period')} is not a {clock} on {rows(period.isna())}; write periods "
            f"like {'2017-03' if freq == 'M' else '2017Q1'}"
        )
    for canonical, values in (("rep_id", rep_id), ("target", target)):
        bad = values.isna() if canonical == "rep_id" else values.isna() | (values <= 0)
        if bad.any():
            check.problems.append(
                f"{check.name(canonical)} is empty{' or not > 0' * (canonical == 'target')} on "
                f"{rows(bad)}; every rep needs a positive target per period"
            )
    repeated = (rep_id + "\x1f" + text.fillna("")).duplicated(keep=False) & rep_id.notna()
    if repeated.any():
        check.problems.append(
            f"the same rep and period appear more than once on {rows(repeated)}; keep one row each"
        )
    if check.problems:
        _fail(source, check.problems)
    return pd.DataFrame(
        {
            "rep_id": rep_id.to_numpy(dtype=object),
            "period": pd.PeriodIndex(list(period), freq=freq),
            "target": target.to_numpy(),
        }
    )


def quota_targets(ledger: pd.DataFrame, clock: str, quota: float) -> pd.DataFrame:
    """Every rep in `ledger` gets `quota` (currency per plan period) in every plan period
    from the first close date to the last, months or quarters without deals included."""
    if not (math.isfinite(quota) and quota > 0):
        raise SimplanError(f"quota = {quota:g}; a quota is each rep's target per {clock}, > 0")
    freq = FREQ[clock]
    first, last = ledger["close_date"].min(), ledger["close_date"].max()
    periods = pd.period_range(first.to_period(freq), last.to_period(freq), freq=freq)
    return targets_from_quota(sorted(ledger["rep_id"].unique()), periods, quota)


def payout_statements(
    ledger: pd.DataFrame, targets: pd.DataFrame, plan: Plan, source: str
) -> Statements:
    """`compute_payouts` on a ledger read here; its errors start with `source` (the file(s))."""
    try:
        return compute_payouts(ledger, targets, None, plan)
    except SimplanError as err:
        raise SimplanError(f"{source}: {err}") from None


def write_payout(directory: Path, statements: Statements, manifest: dict[str, Any]) -> None:
    """Write lines.parquet, totals.parquet, lines.csv (amounts to the cent) and manifest.json."""
    statements.lines.to_parquet(directory / "lines.parquet", index=False)
    statements.totals.to_parquet(directory / "totals.parquet", index=False)
    statements.lines.assign(amount=statements.lines["amount"].round(2)).to_csv(
        directory / "lines.csv", index=False
    )
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))

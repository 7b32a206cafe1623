"""Checking cells: the problem collector that parses canonical columns as text, numbers,
dates and outcome labels, and records every unreadable value with its rows and the fix.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from simplan.history.files import Source
from simplan.history.numbers import Numbers, read_numbers

SALESFORCE_OPEN = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review",
)  # fmt: skip
"""Salesforce's default open opportunity stages."""
HUBSPOT_OPEN = (
    "Appointment scheduled", "appointmentscheduled", "Qualified to buy", "qualifiedtobuy",
    "Presentation scheduled", "presentationscheduled", "Decision maker bought-in",
    "decisionmakerboughtin", "Contract sent", "contractsent",
)  # fmt: skip
"""HubSpot's default deal pipeline stages before closed won / lost (labels and internal names)."""
OUTCOME_LABELS = {
    "won": ("won", "closed won", "closedwon", "win"),
    "lost": ("lost", "closed lost", "closedlost", "loss"),
    "open": ("open", "engaging", "prospecting", "prospect", "qualifying", "qualified",
             "qualification", "discovery", "proposal", "negotiation", "pipeline", "in progress",
             "new", "contact", *SALESFORCE_OPEN, *HUBSPOT_OPEN),
}  # fmt: skip
"""CRM stage labels simplan understands without a preset or --map (compared lower-case, '-',
'_' and '/' as spaces): generic ones and the default open stages of Salesforce and HubSpot."""
DATE_FORMATS = {
    "ISO8601": "ISO 8601 (2017-03-01)",
    "%m/%d/%Y": "%m/%d/%Y",
    "%d/%m/%Y": "%d/%m/%Y",
    "%d.%m.%Y": "%d.%m.%Y",
    "%Y/%m/%d": "%Y/%m/%d",
    "%b %d, %Y": "%b %d, %Y (Jan 15, 2024)",
    "%d %b %Y": "%d %b %Y (15 Jan 2024)",
    "%d-%b-%Y": "%d-%b-%Y (15-Jan-2024)",
    "excel": "Excel serial days (45292 = 2024-01-01)",
}
"""Formats tried, in order, when no --date-format is given (format: how it is shown)."""
_MISSING = ("nan", "na", "n/a", "null", "none")
FLAG_LABELS = {
    True: ("true", "yes", "y", "1", "x", "t", "1.0"),
    False: ("false", "no", "n", "0", "f", "0.0", ""),
}
"""Values of a yes/no column (returned, IsWon, IsClosed), compared lower-case."""


class Checker:
    """Parses the canonical columns of one source, collecting every problem."""

    def __init__(self, source: Source, columns: dict[str, str]) -> None:
        self.source, self.columns = source, columns
        self.problems: list[str] = []
        self.unreadable: dict[str, pd.Series] = {}
        """Per column, the cells already reported as unreadable (not to be called empty too)."""
        self.date_format: str | None = None
        """The one format a date column read unambiguously; settles ambiguous later columns."""
        self.notes: list[str] = []
        """How cells written in another convention were read (money text, Excel dates)."""
        self.preferred_format: str | None = None
        """A preset's format: used when it reads every value, else the formats are detected."""

    def name(self, canonical: str) -> str:
        column = self.columns[canonical]
        return f"column '{column}'" + (f" ({canonical})" if column != canonical else "")

    def text(self, canonical: str) -> pd.Series:
        """Stripped text, NaN where empty."""
        column = self.source.frame[self.columns[canonical]]
        text = column.astype(object).map(lambda v: str(v).strip(), na_action="ignore")
        return text.where(text.notna() & (text != ""), None).astype(object)

    def numbers(self, canonical: str) -> pd.Series:
        """Floats, NaN where empty; money text (`$1,200`, `1.200,50 €`) is read and said in
        `notes`; text that is not a number, or a column mixing conventions, is a problem."""
        column = self.source.frame[self.columns[canonical]]
        if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column):
            values = column.astype(float)
            bad = values.notna() & ~np.isfinite(values)
            text = values.astype(object).map(str)
            read = Numbers(values.where(~bad), bad, "")
        else:
            text = self.text(canonical)
            text = text.where(~text.map(str.lower, na_action="ignore").isin(_MISSING), None)
            read = read_numbers(text, decimal_comma=self.source.delimiter == ";")
        bad = read.bad
        self.unreadable[canonical] = bad
        if read.mixed:
            self.problems.append(
                f"{self.name(canonical)} {read.mixed} on {self.source.rows(bad)}, e.g. "
                f"{text[bad].iloc[0]!r}; write one convention (1200.50)"
            )
        elif bad.any():
            example = text[bad].iloc[0]
            fix = "write plain numbers (1200.50)"
            if canonical == "credit_share":
                fix = "write a share as a fraction (60% as 0.6)"
            self.problems.append(
                f"{self.name(canonical)} is not a number on {self.source.rows(bad)}, e.g. "
                f"{example!r}; {fix}"
            )
        if read.how:
            self.notes.append(f"{self.name(canonical)}: {read.how}")
        return read.values.where(~bad, np.nan)

    def flags(self, canonical: str) -> pd.Series:
        """True / False per row (empty is False); values that are not yes/no are a problem."""
        column = self.source.frame[self.columns[canonical]]
        if pd.api.types.is_bool_dtype(column.dtype):
            return column.fillna(False).astype(bool)
        text = self.text(canonical).map(lambda v: str(v).lower(), na_action="ignore").fillna("")
        known = {label: flag for flag, labels in FLAG_LABELS.items() for label in labels}
        value = text.map(known)
        bad = value.isna()
        if bad.any():
            self.problems.append(
                f"{self.name(canonical)} is not yes/no on {self.source.rows(bad)}, e.g. "
                f"{text[bad].iloc[0]!r}; write true/false (or yes/no, 1/0)"
            )
        return value.fillna(False).astype(bool)

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
        elif self.preferred_format:
            preferred = _to_dates(text, self.preferred_format)
            if not (present & preferred.isna()).any():
                self.date_format = self.date_format or self.preferred_format
                return preferred
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
            if self.date_format in complete:  # another column of the file settled the format
                return self._said(canonical, self.date_format, text, parsed[self.date_format])
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
            if len(complete) == 1 or not (present & (first != parsed[complete[1]])).any():
                self.date_format = complete[0]
            return self._said(canonical, complete[0], text, first)
        else:
            best = min(parsed, key=lambda fmt: int((present & parsed[fmt].isna()).sum()))
            bad, given = present & parsed[best].isna(), parsed[best]
            most = f" (most read as {DATE_FORMATS[best]})" if (present & ~bad).any() else ""
            tried = f"any of {', '.join(DATE_FORMATS.values())}{most}"
            fix = "fix those values, or pass the file's format, e.g. --date-format '%d %B %Y'"
        self.unreadable[canonical] = bad
        self.problems.append(
            f"{self.name(canonical)} is not a date in {tried} on {self.source.rows(bad)}, e.g. "
            f"{text[bad].iloc[0]!r}; {fix}"
        )
        return given

    def _said(self, canonical: str, date_format: str, text: pd.Series, dates: pd.Series):
        """`dates`, with a note when they were read as Excel serial days (not a date format a
        reader would guess from the file)."""
        present = text.notna()
        if date_format == "excel" and present.any():
            self.notes.append(
                f"{self.name(canonical)}: read as {DATE_FORMATS['excel']}, e.g. "
                f"{text[present].iloc[0]!r} = {dates[present].iloc[0]:%Y-%m-%d}"
            )
        return dates

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
                f"--map open=LABEL (e.g. {_map_hint(strange)}); known without a map: "
                + "; ".join(f"{o}: {', '.join(labs[:4])}" for o, labs in OUTCOME_LABELS.items())
            )
        return outcome


_TIME_OF_DAY = re.compile(r"[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp]\.?[Mm]\.?)?$")
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
"""Day 0 of Excel's serial dates (1900 date system, as Excel for Windows and Sheets write)."""
EXCEL_DAYS = (10_000, 80_000)
"""Serial days read as Excel dates (1927 .. 2119); other numbers are not dates."""


def _to_dates(text: pd.Series, date_format: str) -> pd.Series:
    """Naive timestamps (time zones converted to UTC), NaT where `date_format` does not read.
    A time of day after a non-ISO date (`15.01.2024 09:30`, `1/15/2024 9:30 AM`) is dropped
    unless the format reads times; `excel` reads serial day numbers."""
    if date_format == "excel":
        days = pd.to_numeric(text, errors="coerce")
        days = days.where(days.between(*EXCEL_DAYS))
        return EXCEL_EPOCH + pd.to_timedelta(np.floor(days), unit="D")
    if date_format != "ISO8601" and "%H" not in date_format and "%I" not in date_format:
        text = text.str.replace(_TIME_OF_DAY, "", regex=True)
    return pd.to_datetime(text, format=date_format, errors="coerce", utc=True).dt.tz_localize(None)


_LIKELY = (
    ("won", re.compile(r"\b(won|win|signed|gewonnen)\b", re.IGNORECASE)),
    ("lost", re.compile(r"\b(lost|dead|cancel\w*|disqualified|verloren|abgebrochen)\b", re.I)),
)


def _map_hint(labels: list[str]) -> str:
    """`--map` flags for unknown stage labels, each under the outcome its words suggest (open
    unless it says won or lost): only an example, the user says what they mean."""

    def likely(label: str) -> str:
        return next((outcome for outcome, words in _LIKELY if words.search(label)), "open")

    return " ".join(f"--map {likely(label)}={label!r}" for label in labels[:3])


def _label(value: str) -> str:
    return re.sub(r"[\s_\-/]+", " ", str(value).lower()).strip()

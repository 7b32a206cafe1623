"""Periods as the business has them: calendar months or quarters, 4-4-5 style fiscal months,
13-week fiscal quarters, or a table of named date ranges.

One parser (`parse_periods`) gives one `Periods` object (labels, first and last day of each),
used for history bucketing, targets, the plan clock, windows and reports. Rules are laid out
from 1970 to 2099, so any date a team has is in a period.

Fiscal rules name the first day of one fiscal year (`4-4-5:2025-01-06`). Every fiscal year
starts on that weekday nearest the same calendar date (the 52/53-week convention), so years
are 364 days with a 53rd week every five or six years, added to the year's last period.
A fiscal year is named by the calendar year holding its middle: `FY2025-Q1`, `FY2025-P01`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Any

import numpy as np
import pandas as pd

from simplan.errors import SimplanError

RULES = ("month", "quarter", "4-4-5", "4-5-4", "5-4-4", "13-week")
FISCAL_WEEKS = {"4-4-5": (4, 4, 5) * 4, "4-5-4": (4, 5, 4) * 4, "5-4-4": (5, 4, 4) * 4,
                "13-week": (13, 13, 13, 13)}  # fmt: skip
FIRST_YEAR, LAST_YEAR = 1970, 2099
TABLE = "table"
RULE_HELP = (
    "use month, quarter, 4-4-5:DATE, 4-5-4:DATE, 5-4-4:DATE or 13-week:DATE (DATE = the first "
    "day of a fiscal year, e.g. 13-week:2025-01-06), or a period table CSV (period,start,end)"
)


class PeriodsError(SimplanError, ValueError):
    """Periods that cannot be parsed (a ValueError too, so scenario validation reports it)."""

    def __init__(self, problems: str | list[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else problems
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, eq=False)
class Periods:
    """Named, contiguous, non-overlapping date ranges in time order."""

    spec: str
    """The rule as written (`month`, `13-week:2025-01-06`), or `table` for a period table."""
    labels: tuple[str, ...]
    start: np.ndarray
    """First day of each period (datetime64[D])."""
    stop: np.ndarray
    """Day after the last day of each period (datetime64[D])."""

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def length_days(self) -> np.ndarray:
        """Calendar days in each period."""
        return (self.stop - self.start).astype(np.int64)

    def index(self, dates: Any) -> np.ndarray:
        """Position of each date's period (int64), -1 for a date outside every period."""
        days = np.asarray(pd.DatetimeIndex(np.atleast_1d(dates)).values).astype("datetime64[D]")
        where = np.searchsorted(self.start, days, side="right") - 1
        inside = (where >= 0) & (days < self.stop[np.maximum(where, 0)])
        return np.where(inside, where, -1).astype(np.int64)

    @cached_property
    def _folded(self) -> dict[str, int]:
        return {label.casefold(): i for i, label in enumerate(self.labels)}

    def positions(self, labels: Any) -> np.ndarray:
        """Position of each label (matched ignoring case and outer spaces), -1 where it is not
        a period; a pandas Period counts as its text (`2024-01`, `2024Q1`)."""
        text = pd.Series(np.atleast_1d(np.asarray(labels, dtype=object))).astype(str)
        where = {value: self._folded.get(value.strip().casefold(), -1) for value in text.unique()}
        return text.map(where).to_numpy(dtype=np.int64)

    def group(self, index: np.ndarray, span: str) -> np.ndarray:
        """A code per period position saying which `span` (quarter or year) holds it: fiscal
        quarters and years under a fiscal rule, calendar ones under month and quarter; a
        period table's periods go by the calendar quarter or year holding their middle day.
        Codes compare only within one call."""
        index = np.asarray(index, dtype=np.int64)
        name = self.spec.partition(":")[0]
        per_year = {"month": 12, "quarter": 4}.get(name) or len(FISCAL_WEEKS.get(name, ()))
        if per_year:  # a rule: periods are laid out whole years at a time from position 0
            return index // (per_year // 4 if span == "quarter" else per_year)
        middle = self.start[index] + (self.stop[index] - self.start[index]) // 2
        months = middle.astype("datetime64[M]").astype(np.int64)
        return months // (3 if span == "quarter" else 12)

    def label_of(self, dates: Any) -> np.ndarray:
        """Each date's period label (object array; None outside every period)."""
        where = self.index(dates)
        labels = np.asarray(self.labels, dtype=object)
        return np.where(where >= 0, labels[np.maximum(where, 0)], None)

    def position(self, label: str) -> int:
        """Where `label` is; an error listing the valid labels when it is not a period."""
        where = self._folded.get(str(label).strip().casefold())
        if where is None:
            raise PeriodsError(f"period {label!r} is not in {self.describe(near=label)}")
        return where

    def window(self, label: str) -> tuple[dt.date, int]:
        """The first day and length in days of the period labelled `label`, e.g. `2026Q1`."""
        i = self.position(label)
        return _date(self.start[i]), int(self.length_days[i])

    def trailing(self, as_of: dt.date, count: int) -> tuple[dt.date, dt.date]:
        """First and last day of the `count` periods up to the one holding `as_of` (a
        baseline window: `as_of` 2025-04-06 under 13-week:2025-01-06 ends FY2025-Q1)."""
        i = self._holding(as_of)
        first = max(i - count + 1, 0)
        return self.first_day(first), self.last_day(i)

    def following(self, as_of: dt.date) -> tuple[dt.date, int]:
        """First day and length of the period after the one holding `as_of` (a forecast)."""
        i = self._holding(as_of) + 1
        if i >= len(self):
            raise PeriodsError(f"no period follows {as_of} in {self.describe()}; add one")
        return self.first_day(i), int(self.length_days[i])

    def _holding(self, day: dt.date) -> int:
        i = int(self.index([day])[0])
        if i < 0:
            raise PeriodsError(f"{day} is in no period of {self.describe()}")
        return i

    def first_day(self, i: int) -> dt.date:
        return _date(self.start[i])

    def last_day(self, i: int) -> dt.date:
        return _date(self.stop[i] - np.timedelta64(1, "D"))

    def describe(self, near: str | None = None) -> str:
        """The periods in words, for error messages: which labels are valid."""
        if self.spec == TABLE and len(self) <= 24:
            return f"the period table ({', '.join(self.labels)})"
        text = (
            f"the periods '{self.spec}' ({self.labels[0]} .. {self.labels[-1]}, from "
            f"{self.first_day(0)} to {self.last_day(len(self) - 1)})"
        )
        close = difflib.get_close_matches(str(near), self.labels, n=4, cutoff=0.6) if near else []
        return text + (f"; did you mean {', '.join(close)}?" if close else "")

    def check_covers(self, first: dt.date, last: dt.date, what: str) -> None:
        """An error naming `what` unless every day from `first` to `last` is in a period."""
        lo, hi = np.datetime64(first, "D"), np.datetime64(last, "D")
        if len(self) == 0 or lo < self.start[0] or hi >= self.stop[-1]:
            raise PeriodsError(
                f"{what} runs from {first} to {last}, but the periods ({self.spec}) cover only "
                f"{self.first_day(0)} to {self.last_day(len(self) - 1)}; add periods for those days"
            )


def _date(day: np.datetime64) -> dt.date:
    return day.astype("datetime64[D]").astype(dt.date)


def is_rule(text: str) -> bool:
    """Whether `text` names a rule (rather than a period table's path)."""
    return text.strip().partition(":")[0] in RULES


def parse_periods(spec: str | Sequence[Mapping[str, Any]]) -> Periods:
    """A rule string (`month`, `4-4-5:2025-01-06`, ...) or table rows (period, start, end)."""
    if isinstance(spec, str):
        return _rule(spec.strip())
    return period_table(spec)


@cache
def _rule(text: str) -> Periods:
    if text == "month":
        months = np.arange(f"{FIRST_YEAR}-01", f"{LAST_YEAR + 1}-01", dtype="datetime64[M]")
        return _from_months(text, months, [str(m) for m in months])
    if text == "quarter":
        months = np.arange(f"{FIRST_YEAR}-01", f"{LAST_YEAR + 1}-01", 3, dtype="datetime64[M]")
        labels = [f"{m.astype(object).year}Q{m.astype(object).month // 3 + 1}" for m in months]
        return _from_months(text, months, labels)
    name, _, anchor = text.partition(":")
    if name not in FISCAL_WEEKS:
        raise PeriodsError(f"periods {text!r}: unknown rule; {RULE_HELP}")
    if not anchor:
        raise PeriodsError(
            f"periods {text!r}: a fiscal rule needs the first day of one fiscal year, "
            f"e.g. {name}:2025-01-06"
        )
    try:
        first = dt.date.fromisoformat(anchor.strip())
    except ValueError:
        raise PeriodsError(
            f"periods {text!r}: {anchor!r} is not a date; write it as YYYY-MM-DD, "
            f"e.g. {name}:2025-01-06"
        ) from None
    return _fiscal(text, FISCAL_WEEKS[name], first)


def _from_months(spec: str, months: np.ndarray, labels: list[str]) -> Periods:
    step = months[1] - months[0]
    start = months.astype("datetime64[D]")
    stop = (months + step).astype("datetime64[D]")
    return Periods(spec, tuple(labels), start, stop)


def _fiscal(spec: str, weeks: tuple[int, ...], anchor: dt.date) -> Periods:
    """Fiscal years starting on `anchor`'s weekday nearest its date; periods of `weeks` weeks."""
    years = range(FIRST_YEAR - 1, LAST_YEAR + 2)
    starts = [_year_start(anchor, year) for year in years]
    labels, start, stop = [], [], []
    quarters = len(weeks) == 4
    for begin, end in itertools.pairwise(starts):
        name = (begin + dt.timedelta(days=182)).year
        if not FIRST_YEAR <= name <= LAST_YEAR:
            continue
        day = begin
        for i, n in enumerate(weeks):
            last = i == len(weeks) - 1
            until = end if last else day + dt.timedelta(weeks=n)
            labels.append(f"FY{name}-Q{i + 1}" if quarters else f"FY{name}-P{i + 1:02d}")
            start.append(day)
            stop.append(until)
            day = until
    return Periods(
        spec, tuple(labels), np.array(start, "datetime64[D]"), np.array(stop, "datetime64[D]")
    )


def _year_start(anchor: dt.date, year: int) -> dt.date:
    """The day with `anchor`'s weekday nearest `anchor`'s month and day in `year`."""
    nominal = dt.date(year, anchor.month, min(anchor.day, 28 if anchor.month == 2 else 31))
    shift = (anchor.weekday() - nominal.weekday() + 3) % 7 - 3
    return nominal + dt.timedelta(days=shift)


def period_table(rows: Sequence[Mapping[str, Any]], first_row: int = 1) -> Periods:
    """Periods from rows (period, start, end; `end` is the last day, inclusive).

    Rows must be in time order, contiguous and non-overlapping; every problem names the row
    (numbered from `first_row`: 2 for a CSV file's first data line).
    """
    problems: list[str] = []
    labels, start, end = [], [], []
    for i, row in enumerate(rows):
        where = f"row {i + first_row}"
        label = row.get("period")
        if label is None or (isinstance(label, float) and np.isnan(label)) or str(label) == "":
            problems.append(f"{where}: period is empty; give each period a label, e.g. FY2025-P01")
            label = ""
        days = []
        for key in ("start", "end"):
            value = row.get(key)
            try:
                days.append(pd.Timestamp(value).date() if value is not None else None)
            except (ValueError, TypeError):
                days.append(None)
            if days[-1] is None or pd.isna(days[-1]):
                problems.append(f"{where}: {key} = {value!r} is not a date; write YYYY-MM-DD")
                days[-1] = None
        labels.append(str(label))
        start.append(days[0])
        end.append(days[1])
    if not rows:
        problems.append("the period table has no rows; give one row per period")
    for i, (a, b) in enumerate(zip(start, end, strict=True)):
        if a is not None and b is not None and b < a:
            problems.append(f"row {i + first_row}: end {b} is before start {a}")
    for i in range(1, len(rows)):
        prev, this = end[i - 1], start[i]
        if prev is None or this is None:
            continue
        gap = (this - prev).days - 1
        here, there = f"row {i + first_row}", f"row {i - 1 + first_row}"
        if gap > 0:
            problems.append(
                f"{here} starts {this} but {there} ends {prev}: a gap of {gap} day(s); periods "
                f"must be contiguous (start {here} on {prev + dt.timedelta(days=1)})"
            )
        elif gap < 0:
            problems.append(
                f"{here} starts {this}, before {there} ends ({prev}): periods overlap; start "
                f"{here} on {prev + dt.timedelta(days=1)} (rows are in time order)"
            )
    seen: dict[str, int] = {}
    for i, label in enumerate(labels):
        if label and label in seen:
            problems.append(
                f"row {i + first_row}: period {label!r} is also on row {seen[label] + first_row}; "
                "labels must be unique"
            )
        seen.setdefault(label, i)
    if problems:
        raise PeriodsError(problems)
    stop = [d + dt.timedelta(days=1) for d in end]
    return Periods(
        TABLE, tuple(labels), np.array(start, "datetime64[D]"), np.array(stop, "datetime64[D]")
    )


def clock_periods(clock: str, business: Periods | None = None) -> Periods:
    """The periods a plan `clock` pays per: calendar months or quarters, or (`period`) the
    business's own (calendar.periods in a scenario, --calendar on a command)."""
    if clock != "period":
        return parse_periods(clock)
    if business is None:
        raise PeriodsError(
            "the plan pays per the business's periods (clock: period), but none were given; "
            "pass --calendar FILE|RULE (e.g. --calendar 4-4-5:2025-01-06) or set "
            "calendar.periods in the scenario"
        )
    return business


def resolve_window(
    periods: Periods | None,
    label: str | None = None,
    start: dt.date | None = None,
    days: int | None = None,
) -> tuple[dt.date, int] | None:
    """The window a command runs over, as (first day, days): a period label of `periods`
    (`--window 2026Q1`), or a first day and a length (`--start 2026-01-05 --days 91`).
    None when neither is given, so the caller keeps its own default."""
    if label is not None and (start is not None or days is not None):
        raise PeriodsError("give --window LABEL or --start DATE --days N, not both")
    if label is not None:
        if periods is None:
            raise PeriodsError(f"--window {label!r} needs periods; pass --calendar FILE|RULE")
        return periods.window(label)
    if start is None and days is None:
        return None
    if start is None or days is None:
        given, needed = ("--start", "--days") if days is None else ("--days", "--start")
        raise PeriodsError(f"{given} needs {needed} too, e.g. --start 2026-01-05 --days 91")
    if days < 1:
        raise PeriodsError(f"--days {days}: a window is at least 1 day long")
    return start, int(days)


def regroup(
    keys: np.ndarray, labels: np.ndarray, amounts: np.ndarray, source: Periods, dest: Periods
) -> pd.DataFrame:
    """Amounts per (key, period of `source`) as amounts per (key, period of `dest`).

    Each amount is spread evenly over its period's calendar days and summed over the days of
    each `dest` period, so months sum to quarters and a quarter spreads over its months by
    days. A `dest` period is kept for a key only when the key's amounts cover all its days.
    Returns columns key, period (a `dest` label), amount.
    """
    where = np.array([source.position(label) for label in labels], dtype=np.int64)
    lo, hi = source.start[where].min(), source.stop[where].max()
    first, last = dest.index([lo, hi - np.timedelta64(1, "D")])
    if first < 0 or last < 0:
        raise PeriodsError(f"{dest.describe()} do not cover {_date(lo)} to {_date(hi)}")
    d = np.arange(first, last + 1)
    start = np.maximum(source.start[where][:, None], dest.start[d][None, :])
    stop = np.minimum(source.stop[where][:, None], dest.stop[d][None, :])
    overlap = np.maximum((stop - start).astype(np.int64), 0)
    share = overlap / source.length_days[where][:, None]
    rows = []
    key_codes, key_names = pd.factorize(pd.Series(keys, dtype=object), sort=True)
    for code, key in enumerate(key_names):
        mine = key_codes == code
        covered = overlap[mine].sum(axis=0) == dest.length_days[d]
        total = (share[mine] * amounts[mine][:, None]).sum(axis=0)
        rows += [(key, dest.labels[d[j]], total[j]) for j in np.flatnonzero(covered)]
    return pd.DataFrame(rows, columns=["key", "period", "amount"])

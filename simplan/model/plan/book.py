"""The book: ledger, targets and team as integer-coded numpy arrays, ready for bincount.

Reps and periods form a dense grid of *cells* (``cell = rep * n_periods + period``); every
deal row carries its rep, period and cell code. Periods are those of the plan clock, a
:class:`~simplan.model.periods.Periods` table (calendar months or quarters, fiscal periods,
or a period table): each deal is in the period holding its close date. Optional ledger columns are decoded only
when a component asks for them. Built once per statement run by
:func:`simplan.model.plan.inputs.read_book` (which validates) or :meth:`Book.for_curve`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from simplan.model.periods import Periods, parse_periods
from simplan.model.plan.base import ROLES
from simplan.model.plan.groups import codes as to_codes
from simplan.model.plan.groups import per_day

EPOCH = np.datetime64("1970-01-01", "D")
LEAD, SUPPORT, MENTOR = 0, 1, 2
NEW_HIRE, RAMPING, VETERAN = 0, 1, 2


@dataclass(eq=False)
class Book:
    """Validated inputs of one statement run as arrays (trusted: no checks in here)."""

    clock: Periods
    """The plan clock's periods."""
    rep_ids: np.ndarray
    """Rep ids (str), one per rep code."""
    periods: np.ndarray
    """Positions in ``clock`` (int64), sorted, one per period code."""
    target: np.ndarray
    """Target per cell (float > 0)."""
    tenure: np.ndarray
    """Tenure code per rep: 0 new_hire, 1 ramping, 2 veteran."""
    squad: np.ndarray
    """Squad code per rep (-1: none); names in ``squad_names``."""
    squad_names: np.ndarray
    manager: np.ndarray
    """Manager code per rep (-1: none); ids in ``manager_ids``."""
    manager_ids: np.ndarray
    unit: np.ndarray
    """Replication code per rep (all 0 unless the team has a ``replication`` column): reps of
    different replications never compare, so one run can pay a batch of replications."""
    rep: np.ndarray
    """Rep code per ledger row."""
    period: np.ndarray
    """Period code per ledger row."""
    amount: np.ndarray
    """Credited bookings per ledger row (deal_amount * credit_share)."""
    deal_amount: np.ndarray
    credit_share: np.ndarray
    day: np.ndarray
    """Close date per ledger row as int64 days since 1970-01-01."""
    optional: dict[str, pd.Series] = field(default_factory=dict)
    """Raw optional ledger columns present (role, customer_id, new_customer, ...)."""

    # ---- grid -------------------------------------------------------------------------
    @property
    def n_reps(self) -> int:
        return len(self.rep_ids)

    @property
    def n_periods(self) -> int:
        return len(self.periods)

    @property
    def n_cells(self) -> int:
        return self.n_reps * self.n_periods

    @cached_property
    def n_units(self) -> int:
        """How many replications the book holds (1 without a ``replication`` column)."""
        return int(self.unit.max()) + 1 if len(self.unit) else 1

    @cached_property
    def cell(self) -> np.ndarray:
        """Cell code per ledger row."""
        return self.rep * self.n_periods + self.period

    @cached_property
    def cell_rep(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_reps), self.n_periods)

    @cached_property
    def cell_period(self) -> np.ndarray:
        return np.tile(np.arange(self.n_periods), self.n_reps)

    def by_unit(self, rep: np.ndarray, key: np.ndarray, span: int) -> np.ndarray:
        """``key`` (0..span-1, one per ``rep`` code) kept apart by replication: unit x span +
        key, so a contest's day, week or window in one replication never meets another's
        (the key itself in a one-replication book)."""
        return key if self.n_units == 1 else self.unit[rep] * span + key

    def per_cell(self, values: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Sum ``values`` (one per ledger row, or per selected row) into cells."""
        cell = self.cell if rows is None else self.cell[rows]
        return np.bincount(cell, weights=values, minlength=self.n_cells)

    @cached_property
    def bookings(self) -> np.ndarray:
        """Credited bookings per cell, all won rows."""
        return self.per_cell(self.amount)

    @cached_property
    def labels(self) -> pd.api.extensions.ExtensionArray:
        """Period label per period code, e.g. 2024-01, 2024Q1, FY2025-P01, as a pandas string
        array: indexing it by codes gives a table column without converting each string."""
        return pd.array(np.asarray(self.clock.labels, dtype=object)[self.periods], dtype="str")

    @cached_property
    def period_first_day(self) -> np.ndarray:
        """First day (int days since epoch) of each period."""
        return self.clock.start[self.periods].astype(np.int64)

    @cached_property
    def period_days(self) -> np.ndarray:
        """Calendar days in each period."""
        return self.clock.length_days[self.periods]

    def previous_period(self) -> np.ndarray:
        """Code of the immediately preceding period in the grid per period (-1: none)."""
        prev = np.full(self.n_periods, -1)
        ok = np.r_[False, np.diff(self.periods) == 1]
        prev[ok] = np.flatnonzero(ok) - 1
        return prev

    # ---- optional ledger columns, decoded on demand (hashed once, never row by row) ----
    @cached_property
    def role(self) -> np.ndarray:
        """Role code per row: 0 lead, 1 support, 2 mentor (default lead)."""
        raw = self.optional.get("role")
        if raw is None:
            return np.zeros(len(self.rep), dtype=np.int8)
        codes, values = pd.factorize(raw, use_na_sentinel=True)
        known = pd.Index(ROLES).get_indexer(np.asarray(values, dtype=object))
        lookup = np.r_[np.where(known < 0, LEAD, known), LEAD]  # code -1 (missing): lead
        return lookup[codes].astype(np.int8)

    def _flag(self, column: str) -> np.ndarray | None:
        """A true/false column per row (missing values false; absent column: None)."""
        raw = self.optional.get(column)
        if raw is None:
            return None
        if raw.dtype == bool:
            return raw.to_numpy()
        return raw.fillna(False).to_numpy(dtype=bool)

    @cached_property
    def new_customer(self) -> np.ndarray:
        flag = self._flag("new_customer")
        return np.ones(len(self.rep), bool) if flag is None else flag

    @cached_property
    def returned(self) -> np.ndarray:
        flag = self._flag("returned")
        return np.zeros(len(self.rep), bool) if flag is None else flag

    def customers(self, rows: np.ndarray) -> np.ndarray:
        """A customer code for each of ``rows`` (codes mean something only within one call).

        Without a customer_id (column or value) each deal is a customer. Only the rows asked
        for are decoded: hashing customer names is the costliest step of a big statement run.
        """
        raw = self.optional.get("customer_id", self.optional.get("deal_id"))
        if raw is None:
            return np.asarray(rows)
        codes = to_codes(raw.iloc[rows])
        missing = codes < 0  # an unknown customer counts as its own customer
        codes[missing] = codes.max(initial=-1) + 1 + np.arange(int(missing.sum()))
        return codes

    def several_customers(self, rows: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Per cell, whether ``rows`` (in cells ``cell``) hold at least two distinct customers
        (see :meth:`customers`; a missing customer is its own): some row's customer differs
        from its cell's first row's. Compares names instead of hashing them."""
        n = len(rows)
        first = np.full(self.n_cells, n)
        np.minimum.at(first, cell, np.arange(n))
        lead = first[cell]  # each row's cell's first row
        raw = self.optional.get("customer_id", self.optional.get("deal_id"))
        if raw is None:
            differs = lead != np.arange(n)  # each deal is its own customer
        else:
            names = raw.iloc[rows].array
            same = pd.array(names == names.take(lead))  # a missing customer equals no one
            differs = ~same.to_numpy(dtype=bool, na_value=False) & (lead != np.arange(n))
        return np.bincount(cell[differs], minlength=self.n_cells) > 0

    def _decoded(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """(code per row, -1 where missing or absent; the distinct values) of a column."""
        raw = self.optional.get(column)
        if raw is None:
            return np.full(len(self.rep), -1), np.array([], dtype=object)
        codes, names = pd.factorize(raw, use_na_sentinel=True)
        return codes, np.asarray(names, dtype=object)

    @cached_property
    def _projects(self) -> tuple[np.ndarray, np.ndarray]:
        return self._decoded("project")

    @property
    def project(self) -> np.ndarray:
        """Project code per row (-1: not a project deal); names in ``project_names``."""
        return self._projects[0]

    @property
    def project_names(self) -> np.ndarray:
        return self._projects[1]

    def in_tiers(self, tiers: list[str]) -> np.ndarray:
        """Which rows have a lead ``tier`` among ``tiers``."""
        codes, names = self._decoded("tier")
        return np.r_[np.isin(names, tiers), False][codes]

    @cached_property
    def workday(self) -> np.ndarray:
        """Working day (Monday-Friday) per row, counted from 1970-01-01; a weekend close
        counts for the next Monday."""
        return per_day(self.day, lambda days: np.busday_count(EPOCH, days))

    # ---- a one-period book for the payout curve ------------------------------------------
    @classmethod
    def for_curve(cls, bookings: np.ndarray, target: np.ndarray) -> Book:
        """One veteran rep per point, one period, one deal worth ``bookings``."""
        bookings = np.asarray(bookings, dtype=float).ravel()
        n = len(bookings)
        target = np.broadcast_to(np.asarray(target, dtype=float), bookings.shape).ravel()
        none = np.full(n, -1)
        return cls(
            clock=parse_periods("month"),
            rep_ids=np.arange(n).astype(str).astype(object),
            periods=np.array([0]),
            target=target.copy(),
            tenure=np.full(n, VETERAN, dtype=np.int8),
            squad=none,
            squad_names=np.array([], dtype=object),
            manager=none,
            manager_ids=np.array([], dtype=object),
            unit=np.zeros(n, dtype=np.int64),
            rep=np.arange(n),
            period=np.zeros(n, dtype=np.int64),
            amount=bookings,
            deal_amount=bookings,
            credit_share=np.ones(n),
            day=np.zeros(n, dtype=np.int64),
        )

"""The statement sheet components write on, and the :class:`Statements` it becomes.

Rep lines are dense arrays over cells (rep x period). The sheet also keeps, per component,
the *net* amount still standing after later gates, caps and clawbacks, so an adjustment
never takes the same money twice. Managers and funds are extra payees with sparse lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from simplan.model.plan.base import ROLES
from simplan.model.plan.book import Book

if TYPE_CHECKING:
    from simplan.model.plan.base import Component


@dataclass(frozen=True)
class Block:
    """Statement lines of one component: one per (payee, period)."""

    component: str
    payee: np.ndarray
    period: np.ndarray
    basis: np.ndarray
    amount: np.ndarray
    variable: bool


class Sheet:
    """Accumulates statement lines for one run of a plan over a :class:`Book`."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.counted_rows: np.ndarray | None = None
        """Ledger rows that count (None: all); exclusions narrow it."""
        self.bookings = book.bookings
        """Counted bookings per cell (after exclusions)."""
        self.credited = book.bookings
        """Bookings credited to commissions and bonuses per cell (after attainment caps)."""
        self.components: dict[str, Component] = {}
        """Every component of the plan by label (set by the engine before applying any)."""
        self.net: dict[str, np.ndarray] = {}
        self.variable: dict[str, bool] = {}
        self.blocks: list[Block] = []
        self._extra: dict[tuple[str, str], int] = {}
        self._extra_unit: list[int] = []
        self._rows: dict[tuple[str, ...] | None, np.ndarray] = {}
        self._counted: dict[tuple[tuple[str, ...] | None, str], np.ndarray] = {}

    # ---- what components read ----------------------------------------------------------
    @property
    def attainment(self) -> np.ndarray:
        """Counted bookings / target per cell."""
        return self.bookings / self.book.target

    @property
    def credited_attainment(self) -> np.ndarray:
        return self.credited / self.book.target

    def rows(self, roles: list[str] | None = None) -> np.ndarray:
        """Indices of the ledger rows that count, optionally only those credited in `roles`.

        Kept until the next exclusion, so components asking the same question share one answer.
        """
        key = self._roles_key(roles)
        if key not in self._rows:
            if key is not None:
                wanted = np.isin(np.arange(len(ROLES)), [ROLES.index(r) for r in key])
                rows = self.rows()
                rows = rows[wanted[self.book.role[rows]]]
            elif self.counted_rows is None:
                rows = np.arange(len(self.book.rep))
            else:
                rows = np.flatnonzero(self.counted_rows)
            rows.flags.writeable = False
            self._rows[key] = rows
        return self._rows[key]

    def _roles_key(self, roles: list[str] | None) -> tuple[str, ...] | None:
        """The rows cache's key for ``roles``: None when they select every row (all roles, or
        a lead among them on a ledger without a role column, where every row is a lead's)."""
        if roles is None or set(roles) == set(ROLES):
            return None
        if "lead" in roles and "role" not in self.book.optional:
            return None
        return tuple(sorted(roles))

    def counted(self, column: str, roles: list[str] | None = None) -> np.ndarray:
        """A per-row array of the book (``day``, ``rep``, ``amount``, ...) on ``rows(roles)``,
        in that order: the book's own array (read it, never write it) while those are all the
        rows, else one gather that components share until the next exclusion."""
        key = self._roles_key(roles)
        if key is None and self.counted_rows is None:
            return getattr(self.book, column)
        if (key, column) not in self._counted:
            values = getattr(self.book, column)[self.rows(roles)]
            values.flags.writeable = False
            self._counted[key, column] = values
        return self._counted[key, column]

    def exclude_rows(self, drop: np.ndarray) -> np.ndarray:
        """Stop counting ledger rows where ``drop``; returns the bookings removed per cell.

        Counted bookings are the sum of the rows still counted, never bookings minus what was
        removed (which drifts a hair below the true sum and misses thresholds). Runs before
        attainment caps (stage order), so credited bookings follow counted ones.
        """
        current = self.counted_rows
        if current is None:
            current = np.ones(len(self.book.rep), dtype=bool)
        dropping = drop & current
        if not dropping.any():
            return np.zeros(self.book.n_cells)
        removed = self.book.per_cell(np.where(dropping, self.book.amount, 0.0))
        self.counted_rows = current & ~dropping
        self._rows.clear()
        self._counted.clear()
        self.bookings = self.book.per_cell(np.where(self.counted_rows, self.book.amount, 0.0))
        self.credited = self.bookings
        return removed

    def default_targets(self) -> list[str]:
        """Labels of the variable rep components written so far."""
        return [label for label, variable in self.variable.items() if variable]

    # ---- what components write ---------------------------------------------------------
    def earn(
        self, label: str, basis: np.ndarray, amount: np.ndarray, *, variable: bool = True
    ) -> None:
        """One line per rep x period (dense arrays over cells)."""
        amount = np.asarray(amount, dtype=float)
        basis = np.broadcast_to(np.asarray(basis, dtype=float), amount.shape)
        self.net[label] = amount.copy()
        self.variable[label] = variable
        self.blocks.append(
            Block(label, self.book.cell_rep, self.book.cell_period, basis, amount, variable)
        )

    def adjust(self, label: str, targets: list[str], factor: np.ndarray, basis: np.ndarray) -> None:
        """Multiply what ``targets`` still pay per cell by ``factor`` (0 forfeits); log the change."""
        change = np.zeros(self.book.n_cells)
        for name in targets:
            before = self.net[name]
            after = before * factor
            change += after - before
            self.net[name] = after
        self.earn(label, basis, change)
        self.net.pop(label)
        self.variable.pop(label)

    def pay_others(
        self,
        label: str,
        kind: str,
        ids: np.ndarray,
        period: np.ndarray,
        basis: np.ndarray,
        amount: np.ndarray,
        unit: np.ndarray,
    ) -> None:
        """Lines for payees who are not reps (kind 'manager' or 'fund'), each in a
        replication ``unit`` (the book's ``unit`` of the reps it is paid for)."""
        codes = np.array(
            [self._payee(kind, str(i), int(u)) for i, u in zip(ids, unit, strict=True)],
            dtype=np.int64,
        )
        self.blocks.append(
            Block(
                label,
                codes,
                np.asarray(period),
                np.asarray(basis, float),
                np.asarray(amount, float),
                True,
            )
        )

    def pay_lines(
        self,
        label: str,
        payee: np.ndarray,
        period: np.ndarray,
        basis: np.ndarray,
        amount: np.ndarray,
    ) -> None:
        """Sparse lines by payee code (reps and payees already on the sheet)."""
        self.blocks.append(Block(label, payee, period, basis, amount, False))

    def _payee(self, kind: str, ident: str, unit: int) -> int:
        key = (kind, ident)
        if key not in self._extra:
            self._extra[key] = self.book.n_reps + len(self._extra)
            self._extra_unit.append(unit)
        return self._extra[key]

    # ---- reading the sheet back --------------------------------------------------------
    @property
    def n_payees(self) -> int:
        return self.book.n_reps + len(self._extra)

    def total(self, *, variable_only: bool = False) -> np.ndarray:
        """Sum of lines per payee x period (flattened ``payee * n_periods + period``)."""
        n_periods = self.book.n_periods
        out = np.zeros(self.n_payees * n_periods)
        for block in self.blocks:
            if block.variable or not variable_only:
                out += np.bincount(
                    block.payee * n_periods + block.period,
                    weights=block.amount,
                    minlength=len(out),
                )
        return out

    def payee_units(self) -> np.ndarray:
        """The replication unit of each payee code (reps, then managers and funds)."""
        return np.r_[self.book.unit, np.asarray(self._extra_unit, dtype=np.int64)]

    def payees(self) -> tuple[np.ndarray, np.ndarray]:
        """Payee ids and kinds ('rep', 'manager', 'fund') by payee code."""
        ids = [*map(str, self.book.rep_ids)]
        seen = set(ids)
        for kind, ident in self._extra:
            ids.append(ident if ident not in seen else f"{ident} ({kind})")
            seen.add(ids[-1])
        kinds = ["rep"] * self.book.n_reps + [k for k, _ in self._extra]
        return np.asarray(ids, dtype=object), np.asarray(kinds, dtype=object)


@dataclass(frozen=True)
class Statements:
    """What a plan pays: ``lines`` (rep x period x component), ``totals`` (rep x period),
    ``flags`` (rep x period early warnings, empty when the plan has none) and ``budget``.

    ``lines``: rep_id, period (the plan clock's label, e.g. 2024-01 or FY2025-P01),
    component, basis, amount. ``basis`` is the quantity the line was
    computed on (bookings, attainment, returned bookings, a count...). Amounts of one rep and
    period sum to ``totals.payout``; ``totals`` also holds payee ('rep'|'manager'|'fund'),
    target, bookings and attainment (NaN for managers and funds).
    """

    lines: pd.DataFrame
    totals: pd.DataFrame
    flags: pd.DataFrame
    budget: pd.DataFrame

    def statement(self, rep_id: str) -> pd.DataFrame:
        """The lines of one payee, in period and component order."""
        return self.lines[self.lines["rep_id"] == rep_id].reset_index(drop=True)


def build_statements(sheet: Sheet, flags: pd.DataFrame, budget: pd.DataFrame) -> Statements:
    """Turn the sheet's blocks into the tidy line and total tables."""
    book = sheet.book
    ids, kinds = sheet.payees()
    payee_ids = pd.CategoricalDtype(ids)  # one dtype for both tables: its index hashed once
    blocks = sheet.blocks
    order_of = {name: i for i, name in enumerate(dict.fromkeys(b.component for b in blocks))}
    payee = np.concatenate([b.payee for b in blocks]) if blocks else np.array([], np.int64)
    period = np.concatenate([b.period for b in blocks]) if blocks else np.array([], np.int64)
    comp = (
        np.concatenate([np.full(len(b.payee), order_of[b.component]) for b in blocks])
        if blocks
        else np.array([], np.int64)
    )
    basis = np.concatenate([b.basis for b in blocks]) if blocks else np.array([])
    amount = np.concatenate([b.amount for b in blocks]) if blocks else np.array([])
    # blocks come in component order, each sorted by cell: a stable sort merges the runs
    order = np.argsort((payee * book.n_periods + period) * len(order_of) + comp, kind="stable")
    lines = pd.DataFrame(
        {
            "rep_id": pd.Categorical.from_codes(payee[order], dtype=payee_ids, validate=False),
            "period": book.labels[period[order]],
            "component": pd.Categorical.from_codes(
                comp[order], categories=list(order_of), validate=False
            ),
            "basis": np.take(basis, order),
            "amount": np.take(amount, order),
        }
    )
    n_periods = book.n_periods
    payout = sheet.total()
    has_line = np.bincount(payee * n_periods + period, minlength=len(payout)) > 0
    has_line[: book.n_cells] = True
    cells = np.flatnonzero(has_line)
    target = np.full(len(payout), np.nan)
    bookings = np.full(len(payout), np.nan)
    target[: book.n_cells] = book.target
    bookings[: book.n_cells] = sheet.bookings
    totals = pd.DataFrame(
        {
            "rep_id": pd.Categorical.from_codes(
                cells // n_periods, dtype=payee_ids, validate=False
            ),
            "period": book.labels[cells % n_periods],
            "payee": kinds[cells // n_periods],
            "target": target[cells],
            "bookings": bookings[cells],
            "attainment": bookings[cells] / target[cells],
            "payout": payout[cells],
        }
    )
    return Statements(lines=lines, totals=totals, flags=flags, budget=budget)

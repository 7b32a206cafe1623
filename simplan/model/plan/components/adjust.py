"""Rules that change what counts or what is kept: exclusions, caps, gates, qualifying, clawback.

Adjusters write their own line (usually negative: the money taken away) so each statement
shows what the formula earned and why part of it was not paid. ``applies_to`` names the
components they act on; left out, they act on every incentive component before them (all
but ``base_salary``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from simplan.model.plan.base import (
    BASIS,
    CREDIT,
    FORFEIT,
    LIMIT,
    RECOVER,
    Attainment,
    Component,
    Money,
    Positive,
    Share,
    register,
)
from simplan.model.plan.groups import count_distinct
from simplan.model.plan.sheet import Sheet
from simplan.model.plan.thresholds import exceeds, reaches


class _Adjuster(Component):
    applies_to: list[str] | None = None
    """Labels of the components acted on; None: every incentive component listed before."""

    def references(self) -> tuple[str, ...]:
        return tuple(self.applies_to or ())

    def targets(self, sheet: Sheet) -> list[str]:
        if self.applies_to is None:
            return sheet.default_targets()
        return [name for name in self.applies_to if name in sheet.net]


@register
class Exclusion(Component):
    """Ledger rows that do not count toward bookings at all: returned deals, listed lead tiers.

    Amount 0; basis: the bookings excluded. Runs before everything else.
    """

    type: Literal["exclusion"] = "exclusion"
    returned: bool = False
    tiers: list[str] = Field(default_factory=list)

    stage = BASIS

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        drop = np.zeros(len(book.rep), dtype=bool)
        if self.returned:
            drop |= book.returned
        if self.tiers:
            drop |= book.in_tiers(self.tiers)
        removed = sheet.exclude_rows(drop)
        sheet.earn(self.label, removed, np.zeros(book.n_cells))


@register
class AttainmentCap(Component):
    """Credit bookings only up to ``max_attainment`` x target for commissions and bonuses.

    Amount 0; basis: the bookings above the cap that were not credited.
    """

    type: Literal["attainment_cap"] = "attainment_cap"
    max_attainment: Positive

    stage = CREDIT
    in_curve = True

    def apply(self, sheet: Sheet) -> None:
        ceiling = self.max_attainment * sheet.book.target
        credited = np.minimum(sheet.credited, ceiling)  # exactly the cap, not bookings - excess
        uncredited = sheet.credited - credited
        sheet.credited = credited
        sheet.earn(self.label, uncredited, np.zeros(sheet.book.n_cells))


@register
class PayoutCap(_Adjuster):
    """Pay at most ``max_amount`` per rep and period from the listed components (pro rata).

    Basis: what those components paid before the cap; amount: minus the excess.
    """

    type: Literal["payout_cap"] = "payout_cap"
    max_amount: Money

    stage = LIMIT
    in_curve = True

    def apply(self, sheet: Sheet) -> None:
        targets = self.targets(sheet)
        before = sum((sheet.net[t] for t in targets), np.zeros(sheet.book.n_cells))
        over = before > self.max_amount
        factor = np.divide(self.max_amount, before, out=np.ones(len(before)), where=over)
        sheet.adjust(self.label, targets, factor, before)


@register
class Gate(_Adjuster):
    """Nothing from the listed components below ``threshold`` attainment (e.g. 0.8).

    Attainment is counted bookings / target (before attainment caps); at the threshold the
    gate is open (``thresholds.reaches``). Basis: attainment; amount: minus what was forfeited.
    """

    type: Literal["gate"] = "gate"
    threshold: Attainment

    stage = FORFEIT
    in_curve = True

    def apply(self, sheet: Sheet) -> None:
        attainment = sheet.attainment
        factor = reaches(attainment, self.threshold).astype(float)
        sheet.adjust(self.label, self.targets(sheet), factor, attainment)


@register
class Qualifying(_Adjuster):
    """Qualifying rules and exclusions per rep and period; failing one forfeits the listed pay.

    To qualify a rep needs counted bookings at or above ``min_bookings``, at least
    ``min_new_customers`` distinct new customers (rows with ``new_customer`` true; without a
    ``customer_id`` column each deal is a customer), and a return rate (returned credited
    bookings / all credited bookings of the period) not above ``max_return_rate`` (on the
    line qualifies; ``thresholds.reaches`` and ``exceeds``).
    Basis: counted bookings; amount: minus what was forfeited.
    """

    type: Literal["qualifying"] = "qualifying"
    min_bookings: Money = 0.0
    min_new_customers: int = Field(default=0, ge=0)
    max_return_rate: Share | None = None

    stage = FORFEIT

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        ok = reaches(sheet.bookings, self.min_bookings)
        if self.min_new_customers > 0:
            rows = sheet.rows()
            rows = rows[sheet.counted("new_customer")]
            cell = book.cell[rows]
            if self.min_new_customers == 1:
                ok &= np.bincount(cell, minlength=book.n_cells) > 0
            elif self.min_new_customers == 2:  # not all the same customer: no hashing
                ok &= book.several_customers(rows, cell)
            else:
                ok &= (
                    count_distinct(cell, book.customers(rows), book.n_cells)
                    >= self.min_new_customers
                )
        if self.max_return_rate is not None:
            returned = book.per_cell(np.where(book.returned, book.amount, 0.0))
            ok &= ~exceeds(returned, self.max_return_rate * book.bookings)
        sheet.adjust(self.label, self.targets(sheet), ok.astype(float), sheet.bookings)


@register
class Clawback(_Adjuster):
    """Take back ``share`` of the commission earned on returned deals.

    Commission on a returned deal is valued at the rep's average rate for the period, so the
    listed components are scaled by 1 - share x (returned bookings / counted bookings).
    Without ``applies_to`` it acts on the commissions (base and tiered). Rows already
    excluded by an ``exclusion`` were never paid and are not clawed back.
    Basis: returned bookings; amount: minus what was taken back.
    """

    type: Literal["clawback"] = "clawback"
    share: Share = 1.0

    stage = RECOVER

    def targets(self, sheet: Sheet) -> list[str]:
        if self.applies_to is None:
            return [n for n, c in sheet.components.items() if c.on_bookings and n in sheet.net]
        return super().targets(sheet)

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        rows = sheet.rows()
        rows = rows[sheet.counted("returned")]
        returned = book.per_cell(book.amount[rows], rows)
        ratio = np.divide(
            returned, sheet.bookings, out=np.zeros(book.n_cells), where=sheet.bookings > 0
        )
        factor = 1.0 - self.share * np.minimum(ratio, 1.0)
        sheet.adjust(self.label, self.targets(sheet), factor, returned)

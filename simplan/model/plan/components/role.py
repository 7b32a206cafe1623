"""Role-specific rewards: first deal and growth (new hires), big deal (veterans), managers."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from simplan.model.plan.base import (
    Attainment,
    Component,
    Money,
    Role,
    Tenure,
    register,
    rep_mask,
)
from simplan.model.plan.book import NEW_HIRE
from simplan.model.plan.sheet import Sheet
from simplan.model.plan.thresholds import exceeds, reaches


@register
class FirstDealBonus(Component):
    """``amount`` once, in the period of the rep's first counted row in the ledger.

    Only rows with a role in ``roles`` count as the rep's own deal. Assumes the ledger starts
    no later than the rep did. Basis: the rep's qualifying rows in that period.
    """

    type: Literal["first_deal_bonus"] = "first_deal_bonus"
    amount: Money = 500.0
    tenure: list[Tenure] | None = Field(default_factory=lambda: ["new_hire"])
    roles: list[Role] = Field(default_factory=lambda: ["lead"])

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        count = np.bincount(sheet.counted("cell", self.roles), minlength=book.n_cells)
        has_rows = count.reshape(book.n_reps, book.n_periods) > 0
        first = has_rows.argmax(axis=1)  # period codes run in time order
        reps = np.flatnonzero(has_rows.any(axis=1) & rep_mask(book.tenure, self.tenure))
        amount = np.zeros(book.n_cells)
        amount[reps * book.n_periods + first[reps]] = self.amount
        sheet.earn(self.label, np.where(amount > 0, count.astype(float), 0.0), amount)


@register
class GrowthBonus(Component):
    """``amount`` when weekly average bookings grow by at least ``min_growth`` on the period before.

    Weekly average = counted bookings / (calendar days in the period / 7), so months of
    different lengths compare fairly. No bonus in the first period of the grid or after a
    period with no bookings (growth undefined). Growth exactly ``min_growth`` pays
    (``thresholds.reaches``). Basis: growth (0.25 = +25%), NaN if undefined.
    """

    type: Literal["growth_bonus"] = "growth_bonus"
    amount: Money = 300.0
    min_growth: float = Field(default=0.2, ge=0)
    tenure: list[Tenure] | None = Field(default_factory=lambda: ["new_hire"])

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        weekly = sheet.bookings / np.tile(book.period_days / 7.0, book.n_reps)
        prev = book.previous_period()[book.cell_period]
        has_prev = prev >= 0
        cells = np.flatnonzero(has_prev)
        before = weekly[book.cell_rep[cells] * book.n_periods + prev[cells]]
        defined = before > 0
        ratio = np.full(book.n_cells, np.nan)
        with np.errstate(over="ignore"):  # growth from a near-zero base is +inf: fine
            ratio[cells[defined]] = weekly[cells[defined]] / before[defined]
        growth = ratio - 1.0
        eligible = rep_mask(book.tenure, self.tenure)[book.cell_rep]
        paid = eligible & reaches(np.nan_to_num(ratio, nan=-np.inf), 1.0 + self.min_growth)
        sheet.earn(self.label, growth, np.where(paid, self.amount, 0.0))


@register
class BigDealBonus(Component):
    """``amount`` per deal whose whole ``deal_amount`` exceeds ``min_deal``, split by credit.

    Each credited rep of an eligible tenure gets ``amount`` x their credit share. A deal of
    exactly ``min_deal`` is not big (``thresholds.exceeds``). Basis: big deals credited (sum of credit shares).
    """

    type: Literal["big_deal_bonus"] = "big_deal_bonus"
    amount: Money = 2000.0
    min_deal: Money = 500_000.0
    tenure: list[Tenure] | None = Field(default_factory=lambda: ["veteran"])

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        rows = sheet.rows()
        rows = rows[exceeds(sheet.counted("deal_amount"), self.min_deal)]
        rows = rows[rep_mask(book.tenure, self.tenure)[book.rep[rows]]]
        credited = book.per_cell(book.credit_share[rows], rows)
        sheet.earn(self.label, credited, self.amount * credited)


@register
class ManagerBonus(Component):
    """``amount`` to a manager in a period when their team reaches ``min_team_attainment``
    and new-hire growth exceeds ``min_new_hire_growth``.

    Team = reps whose ``manager_id`` is the manager. Team attainment = team counted bookings
    / team targets. New-hire growth = (the team's new hires' bookings this period / the same
    reps' bookings the period before) - 1; undefined (so not paid) in the first period, after
    a period where they booked nothing, or with no new hires. ``min_new_hire_growth: null``
    drops that condition. Team attainment exactly on ``min_team_attainment`` pays; growth
    exactly on ``min_new_hire_growth`` does not (``thresholds``). Lines carry the manager id;
    basis: team attainment.
    """

    type: Literal["manager_bonus"] = "manager_bonus"
    amount: Money
    min_team_attainment: Attainment = 1.2
    min_new_hire_growth: float | None = Field(default=0.4, ge=0)

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        n_managers, n_periods = len(book.manager_ids), book.n_periods
        if n_managers == 0:
            return
        manager = book.manager[book.cell_rep]
        cells = np.flatnonzero(manager >= 0)
        group = manager[cells] * n_periods + book.cell_period[cells]
        size = n_managers * n_periods
        bookings = np.bincount(group, weights=sheet.bookings[cells], minlength=size)
        target = np.bincount(group, weights=book.target[cells], minlength=size)
        attainment = np.divide(bookings, target, out=np.zeros(size), where=target > 0)
        paid = reaches(attainment, self.min_team_attainment)
        if self.min_new_hire_growth is not None:
            new = book.tenure[book.cell_rep[cells]] == NEW_HIRE
            hires = np.bincount(group[new], weights=sheet.bookings[cells][new], minlength=size)
            hires = hires.reshape(n_managers, n_periods)
            prev = book.previous_period()
            before = np.where(prev >= 0, hires[:, np.maximum(prev, 0)], 0.0)
            with np.errstate(over="ignore"):
                ratio = np.divide(
                    hires, before, out=np.full(hires.shape, -np.inf), where=before > 0
                )
            paid &= exceeds(ratio.ravel(), 1.0 + self.min_new_hire_growth)
        unit = np.zeros(n_managers, dtype=np.int64)  # a manager's replication: its reps'
        managed = book.manager >= 0
        unit[book.manager[managed]] = book.unit[managed]
        sheet.pay_others(
            self.label,
            "manager",
            np.repeat(book.manager_ids, n_periods),
            np.tile(np.arange(n_periods), n_managers),
            attainment,
            np.where(paid, self.amount, 0.0),
            np.repeat(unit, n_periods),
        )

"""Shared pools: the team dividend pool on excess and the project pool for special pushes."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import model_validator

from simplan.model.plan.base import Attainment, Component, Money, Rate, Share, register
from simplan.model.plan.book import LEAD
from simplan.model.plan.sheet import Sheet
from simplan.model.plan.thresholds import exceeds


@register
class TeamPool(Component):
    """When a team beats its target by more than ``threshold`` (1.2 = by 20%), ``share_of_excess``
    of the bookings above ``excess_from`` x target goes into a pool shared by contribution.
    A team exactly on the threshold gets no pool (``thresholds.exceeds``).

    Team: the rep's ``squad`` (reps without one are in no team) or ``all`` reps; team target
    and bookings are the members' sums. A member's contribution is
    ``weight`` x (their share of the team's counted bookings) + (1 - ``weight``) x (their
    share of the team's collaboration scores), where a rep's collaboration score is the
    fraction of their counted ledger rows in the period that are split (credit_share < 1)
    or credited as support or mentor. If no member collaborated, contribution is the
    bookings share alone. Contributions sum to 1, so the whole pool is paid; a pool is
    never negative (a threshold below ``excess_from`` pays nothing in between).
    Basis: contribution (0..1).
    """

    type: Literal["team_pool"] = "team_pool"
    team: Literal["squad", "all"] = "squad"
    threshold: Attainment = 1.2
    excess_from: Attainment = 1.0
    share_of_excess: Share = 0.1
    weight: Share = 0.7

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        n_periods = book.n_periods
        team_of_rep = book.squad if self.team == "squad" else book.unit  # all: a replication
        n_teams = int(team_of_rep.max()) + 1 if book.n_reps else 0
        team = team_of_rep[book.cell_rep]
        member = team >= 0
        group = np.where(member, team * n_periods + book.cell_period, 0)
        size = max(n_teams * n_periods, 1)
        bookings = np.where(member, sheet.bookings, 0.0)
        team_bookings = np.bincount(group, weights=bookings, minlength=size)
        team_target = np.bincount(group, weights=np.where(member, book.target, 0.0), minlength=size)
        pool = np.where(
            exceeds(team_bookings, self.threshold * team_target),
            self.share_of_excess * np.maximum(team_bookings - self.excess_from * team_target, 0),
            0.0,
        )
        cell = sheet.counted("cell")
        collaborative = (sheet.counted("credit_share") < 1.0) | (sheet.counted("role") != LEAD)
        n_rows = np.bincount(cell, minlength=book.n_cells)
        n_collab = np.bincount(cell, weights=collaborative, minlength=book.n_cells)
        score = np.where(
            member, np.divide(n_collab, n_rows, out=np.zeros(book.n_cells), where=n_rows > 0), 0.0
        )
        team_score = np.bincount(group, weights=score, minlength=size)[group]
        tb = team_bookings[group]
        booking_share = np.divide(bookings, tb, out=np.zeros(book.n_cells), where=tb > 0)
        score_share = np.divide(score, team_score, out=np.zeros(book.n_cells), where=team_score > 0)
        contribution = np.where(
            team_score > 0,
            self.weight * booking_share + (1 - self.weight) * score_share,
            booking_share,
        )
        contribution = np.where(member, contribution, 0.0)
        sheet.earn(self.label, contribution, pool[group] * contribution)


@register
class ProjectPool(Component):
    """A pool per project and period: ``rate`` x the project's bookings + ``amount_per_project``.

    Split ``lead_share`` among rows credited as lead, ``support_share`` among support and
    mentor rows (each in proportion to credited bookings), ``fund_share`` to the team fund
    (payee ``fund:<project>``). A role share nobody can take goes to the fund. Rows with no
    ``project`` are not in any pool. Basis: the rep's credited project bookings.
    """

    type: Literal["project_pool"] = "project_pool"
    rate: Rate = 0.0
    amount_per_project: Money = 0.0
    lead_share: Share = 0.5
    support_share: Share = 0.3
    fund_share: Share = 0.2
    projects: list[str] | None = None
    """Only these projects (None: every project in the ledger)."""

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> ProjectPool:
        total = self.lead_share + self.support_share + self.fund_share
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                f"lead_share + support_share + fund_share = {self.lead_share:g} + "
                f"{self.support_share:g} + {self.fund_share:g} = {total:g}; the shares split "
                "one pool and must sum to 1 (e.g. 0.5 + 0.3 + 0.2)"
            )
        return self

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        n_periods = book.n_periods
        rows = sheet.rows()
        rows = rows[sheet.counted("project") >= 0]
        names = book.project_names
        if self.projects is not None:
            wanted = np.flatnonzero(np.isin(names.astype(str), self.projects))
            rows = rows[np.isin(book.project[rows], wanted)]
        group = book.project[rows] * n_periods + book.period[rows]
        size = len(names) * n_periods
        amount = book.amount[rows]
        project_bookings = np.bincount(group, weights=amount, minlength=size)
        active = np.bincount(group, minlength=size) > 0
        pool = np.where(active, self.rate * project_bookings + self.amount_per_project, 0.0)
        lead = book.role[rows] == LEAD
        paid_to_reps = np.zeros(len(rows))
        left = pool * self.fund_share
        for share, in_role in ((self.lead_share, lead), (self.support_share, ~lead)):
            weight = np.bincount(group[in_role], weights=amount[in_role], minlength=size)
            role_pool = pool * share
            group_weight = weight[group[in_role]]
            portion = np.divide(
                amount[in_role],
                group_weight,
                out=np.zeros(len(group_weight)),
                where=group_weight > 0,
            )
            paid_to_reps[in_role] = role_pool[group[in_role]] * portion
            left = left + np.where(weight > 0, 0.0, role_pool)
        sheet.earn(
            self.label,
            book.per_cell(amount, rows),
            book.per_cell(paid_to_reps, rows),
        )
        funded = np.flatnonzero(active)
        unit = np.zeros(size, dtype=np.int64)  # a project's replication: its rows' reps'
        unit[group] = book.unit[book.rep[rows]]
        sheet.pay_others(
            self.label,
            "fund",
            np.array([f"fund:{p}" for p in names[funded // n_periods]], dtype=object),
            funded % n_periods,
            project_bookings[funded],
            left[funded],
            unit[funded],
        )

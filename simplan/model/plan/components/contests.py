"""Instant and ranking rewards: daily champion, deal streaks, weekly squad winner, rankings.

Ties go to the rep (or squad) listed first in sorted id order, so results are deterministic.
"""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from simplan.model.plan.base import Component, Money, Role, register
from simplan.model.plan.groups import distinct, leaders
from simplan.model.plan.sheet import Sheet


@register
class DailyChampion(Component):
    """``amount`` to the rep with the most counted bookings on each day with a won deal.

    Basis: days won in the period.
    """

    type: Literal["daily_champion"] = "daily_champion"
    amount: Money

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        wins = np.zeros(book.n_cells)
        if len(sheet.rows()):
            day, rep = sheet.counted("day"), sheet.counted("rep")
            first_day = int(day.min())
            day = day - first_day
            n_days = int(day.max()) + 1
            won, rep = leaders(
                book.by_unit(rep, day, n_days),
                rep,
                sheet.counted("amount"),
                book.n_units * n_days,
                book.n_reps,
            )
            won_day = won % n_days + first_day
            period = np.searchsorted(book.period_first_day, won_day, side="right") - 1
            wins = np.bincount(rep * book.n_periods + period, minlength=book.n_cells).astype(float)
        sheet.earn(self.label, wins, self.amount * wins)


@register
class DealStreak(Component):
    """``amount`` each time a rep wins deals on ``days`` consecutive working days in a row.

    Working days are Monday-Friday; a weekend close counts for the next Monday. Runs are
    counted without overlap (a 7-day run with ``days: 3`` pays twice), in the period where
    each streak completes (of the day's first ledger row). Only rows with a role in ``roles``
    count. Basis: streaks completed.
    """

    type: Literal["deal_streak"] = "deal_streak"
    amount: Money
    days: int = Field(default=3, ge=1)
    roles: list[Role] = Field(default_factory=lambda: ["lead"])

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        rows = sheet.rows(self.roles)
        streaks = np.zeros(book.n_cells)
        if len(rows):
            workday = sheet.counted("workday", self.roles)
            workday = workday - workday.min()
            span = int(workday.max()) + 1
            rep = sheet.counted("rep", self.roles)
            keys, inverse = distinct(rep * span + workday, book.n_reps * span)
            rep, day = keys // span, keys % span
            new_run = np.r_[True, (rep[1:] != rep[:-1]) | (day[1:] != day[:-1] + 1)]
            run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(keys)), 0))
            position = np.arange(len(keys)) - run_start + 1
            done = position % self.days == 0
            on_done = np.flatnonzero(done[inverse])  # the rows of the days completing a streak
            first = np.full(len(keys), len(rows))
            np.minimum.at(first, inverse[on_done], on_done)
            streaks = book.per_cell(np.ones(int(done.sum())), rows[first[done]])
        sheet.earn(self.label, streaks, self.amount * streaks)


@register
class SquadWinner(Component):
    """``amount`` to every member of the squad with the most counted bookings each week.

    Weeks run Monday-Sunday; a week's win is paid in the period of its last won deal.
    Reps without a squad never win. Basis: weeks won by the rep's squad in the period.
    """

    type: Literal["squad_winner"] = "squad_winner"
    amount: Money

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        n_squads, n_periods = len(book.squad_names), book.n_periods
        wins = np.zeros(book.n_cells)
        rep = sheet.counted("rep")
        squad = book.squad[rep]
        in_squad = squad >= 0
        day, amount, period = (sheet.counted(c) for c in ("day", "amount", "period"))
        if not in_squad.all():
            rep, squad, day, amount, period = (
                a[in_squad] for a in (rep, squad, day, amount, period)
            )
        if n_squads and len(squad):
            week = (day + 3) // 7
            week -= week.min()
            n_weeks = int(week.max()) + 1
            week = book.by_unit(rep, week, n_weeks)  # each replication's weeks its own
            won_week, top = leaders(week, squad, amount, book.n_units * n_weeks, n_squads)
            last_period = np.zeros(book.n_units * n_weeks, dtype=np.int64)
            np.maximum.at(last_period, week, period)
            won = np.bincount(
                top * n_periods + last_period[won_week], minlength=n_squads * n_periods
            ).astype(float)
            member = book.squad[book.cell_rep] >= 0
            squad_cell = book.squad[book.cell_rep] * n_periods + book.cell_period
            wins = np.where(member, won[np.where(member, squad_cell, 0)], 0.0)
        sheet.earn(self.label, wins, self.amount * wins)


@register
class RankingReward(Component):
    """Awards by rank: ``awards[0]`` to the top rep, ``awards[1]`` to the second, ...

    Reps are ranked on ``rank_by`` (counted bookings or attainment) over each ``window``:
    the plan period, or the quarter or year it belongs to (fiscal ones on a fiscal clock,
    see ``Periods.group``; bookings and targets summed). Only reps with bookings rank. The award is paid in the window's last period in
    the statements. Monthly champion: ``awards: [1000]``; quarterly top 3: ``window: quarter``.
    Basis: the ranked value.
    """

    type: Literal["ranking_reward"] = "ranking_reward"
    awards: list[Money] = Field(min_length=1)
    rank_by: Literal["bookings", "attainment"] = "bookings"
    window: Literal["period", "quarter", "year"] = "period"

    @field_validator("awards")
    @classmethod
    def _awards_fall(cls, awards: list[float]) -> list[float]:
        for high, low in itertools.pairwise(awards):
            if low > high:
                raise ValueError(
                    f"awards must not rise down the ranks: {high:g} then {low:g}; list them "
                    "from the top rank down"
                )
        return awards

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        n_periods = book.n_periods
        if self.window == "period":
            window_of_period = np.arange(n_periods)
        else:
            spans = book.clock.group(book.periods, self.window)
            window_of_period = np.unique(spans, return_inverse=True)[1]
        n_windows = int(window_of_period.max()) + 1
        last = np.zeros(n_windows, dtype=np.int64)
        np.maximum.at(last, window_of_period, np.arange(n_periods))
        group = book.cell_rep * n_windows + window_of_period[book.cell_period]
        size = book.n_reps * n_windows
        bookings = np.bincount(group, weights=sheet.bookings, minlength=size)
        value = bookings
        if self.rank_by == "attainment":
            value = bookings / np.bincount(group, weights=book.target, minlength=size)
        rep, window = np.arange(size) // n_windows, np.arange(size) % n_windows
        contest = book.by_unit(rep, window, n_windows)  # a window of one replication
        ranked = np.flatnonzero(bookings > 0)
        order = ranked[np.lexsort((rep[ranked], -value[ranked], contest[ranked]))]
        starts = np.r_[True, contest[order][1:] != contest[order][:-1]]
        first = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))
        rank = np.arange(len(order)) - first
        awarded = order[rank < len(self.awards)]
        cells = rep[awarded] * n_periods + last[window[awarded]]
        amount = np.zeros(book.n_cells)
        basis = np.zeros(book.n_cells)
        amount[cells] = np.asarray(self.awards)[rank[rank < len(self.awards)]]
        basis[cells] = value[awarded]
        sheet.earn(self.label, basis, amount)

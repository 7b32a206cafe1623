"""Each rep's standing under the plan as the run goes: what effort and deal timing respond to.

Holds full-period targets (ratcheted when the scenario says so), bookings so far this period,
the expected value of open pipeline, a run rate, fatigue, and the plan's pay table for the
period. The rules themselves are pure functions in `simplan.model.behaviour`.

The plan changes on the window's first day: a plan period wholly inside the warm-up is paid
under `behaviour.plan_in_force` when the scenario states it (the history's plan), so every
plan compared starts from the pipeline that plan built, as the real team will.
"""

from __future__ import annotations

import numba
import numpy as np

from simplan.model.behaviour import (
    DayContext,
    Outlook,
    PayTable,
    TeamFlow,
    daily_effort,
    effort_cost,
    expected_rates,
    next_fatigue,
    plan_ahead_outlook,
    plan_ahead_policy,
    plan_program,
    team_flow,
)
from simplan.model.calendar import Calendar
from simplan.model.effort_policy import EffortPolicy, PeriodProgram, RepOutlook
from simplan.model.leads import tier_arrivals
from simplan.model.plan import Plan
from simplan.model.production import sourcing_weights, tier_shares
from simplan.model.team import Team
from simplan.scenario import Scenario

_POLICIES: dict[tuple, EffortPolicy] = {}
"""Solved effort policies by (scenario, period, targets): every replication of a run faces
the same program, so a worker solves it once."""
_COSTS: dict[tuple, tuple[np.ndarray, EffortPolicy | None]] = {}
"""Effort costs, and the policy under the plan in force, by (the reps' world: the scenario
without its plan or name, period, targets)."""
_TABLES: dict[tuple, PayTable] = {}
"""The periods' pay tables by (scenario, period, targets): every replication and batch of a
run pays a period's targets alike, so a worker tabulates them (and their steps) once."""
_PROGRAMS: dict[tuple, PeriodProgram] = {}
"""The last periods' programs (their kernels are large), by the key of `_COSTS`."""
PROGRAMS_KEPT = 2


COSTS_KEPT = 256
"""Effort costs a worker keeps (about 1 MB each): a calibrated team's 20 parameter draws x its
plan periods, so every candidate plan of a design run finds them normalised (cleared past 64,
each candidate re-normalised every draw's: 78 CPU s a candidate against 15)."""


def _bounded(cache: dict, entries: int = 64) -> None:
    """Keep a worker's cache small: start afresh past `entries` entries."""
    if len(cache) > entries:
        cache.clear()


RUN_RATE_DAYS = 14.0
"""The run rate is an exponentially weighted mean of daily bookings over about two weeks."""


class Standing:
    """Reps' bookings, targets and fatigue in the current plan period."""

    def __init__(self, scenario: Scenario, team: Team, calendar: Calendar, copies: int = 1) -> None:
        """`copies` > 1 stands for a batch of replications of the same team side by side
        (copy r's rep i is rep i + r x team.size), each with its own bookings and targets."""
        self.params = scenario.behaviour
        self.plan = scenario.plan
        self.responsive = self.params.model != "constant" and self.plan is not None
        self.optimising = self.responsive and self.params.model == "optimising"
        self.cal = calendar
        self.scenario = scenario
        self.team = team
        self.policy: list[EffortPolicy] | None = None  # one per copy
        self._copies_by_policy: list[tuple[EffortPolicy, np.ndarray]] = []
        self._key = scenario.digest() if self.responsive else ""
        self._world_key = (
            scenario.model_copy(update={"plan": None, "name": ""}).digest()
            if self.optimising
            else ""
        )
        self.copies = copies
        n = team.size * copies
        plan_periods = calendar.plan_period
        self.targets = np.tile(team.quota, (len(plan_periods.labels), copies))
        self.targets *= calendar.quota_share[:, None]
        """Full-period target per plan period and rep (the rep's own where the roster names
        the period, else its quota); a partly simulated period scales it."""
        for period, label in enumerate(plan_periods.labels):
            given = np.tile(team.targets.get(label, np.full(team.size, np.nan)), copies)
            self.targets[period] = np.where(np.isnan(given), self.targets[period], given)
        self.booked = np.zeros(n)
        self.expected_pipeline = np.zeros(n)
        self.run_rate = np.zeros(n)
        self.fatigue = np.zeros(n)
        self._constant: dict[float, np.ndarray] = {}
        self.period = -1
        self.table: PayTable | None = None
        self.n = n
        self.days = calendar.days
        self.end_day = plan_periods.end_day.tolist()
        """Per day, the day after its plan period ends (plain ints, for one deal at a time)."""
        window = self.params.timing.window_days
        self.pushable_day = _pushable(np.arange(self.days), plan_periods.end_day, self.days, window)
        """Per day, whether a deal ready that day may be held (`may_push`, worked out once)."""

    def start_day(self, day: int, context: DayContext, yesterday: np.ndarray | None) -> np.ndarray:
        """Roll the period if it changed, update the run rate (only the responsive rules read
        it), and return today's efforts."""
        if yesterday is not None and self.responsive:
            self.run_rate += (yesterday - self.run_rate) / RUN_RATE_DAYS
        period = int(self.cal.plan_period.index[day])
        if period != self.period:
            self._new_period(period)
        if not self.responsive:
            return self._constant_effort(context)
        if self.policy is not None:
            days_in = float(day - self._first_day(period))
            attainment = (self.booked / self._target(period)).reshape(self.copies, -1)
            planned = np.empty(attainment.shape, self.policy[0].effort.dtype)  # float32 kept
            for policy, copies in self._copies_by_policy:
                planned[copies] = policy.effort_at(attainment[copies], days_in)
            return np.clip(
                planned.ravel() * context.effort_multiplier,
                self.params.min_effort,
                self.params.max_effort,
            )
        effort = daily_effort(self.params, context, self.n, self.table, self._outlook(day))
        self.fatigue = next_fatigue(self.fatigue, effort, self.params)
        return effort

    def _constant_effort(self, context: DayContext) -> np.ndarray:
        """Plan-blind reps' efforts on a day (`daily_effort`, a function of the day's effort
        multiplier alone): worked out once per multiplier and shared, read only."""
        effort = self._constant.get(context.effort_multiplier)
        if effort is None:
            effort = daily_effort(self.params, context, self.n)
            effort.flags.writeable = False
            self._constant[context.effort_multiplier] = effort
        return effort

    def _outlook(self, day: int) -> Outlook:
        period = int(self.cal.plan_period.index[day])
        return Outlook(
            booked=self.booked,
            expected_pipeline=self.expected_pipeline,
            run_rate_per_day=self.run_rate,
            target=self._target(period),
            days_left=float(self.cal.plan_period.end_day[day] - day),
            period_days=float(self.cal.plan_period.length_days[period]),
            fatigue=self.fatigue,
        )

    def _target(self, period: int) -> np.ndarray:
        """This period's target for the days simulated in it."""
        return self.targets[period] * self.cal.plan_period.simulated[period]

    def _new_period(self, period: int) -> None:
        ratchet = self.params.ratchet
        if ratchet.enabled and self.period >= 0:
            full_booked = self.booked / self.cal.plan_period.simulated[self.period]
            self.targets[period] = np.maximum(self.targets[period], ratchet.share * full_booked)
        self.booked[:] = 0.0
        self.period = period
        if self.responsive:
            self.table = self._pay_table(period)
        if self.optimising:
            self.policy = self._plan_ahead(period)
            by_policy: dict[int, list[int]] = {}
            for copy, policy in enumerate(self.policy):
                by_policy.setdefault(id(policy), []).append(copy)
            self._copies_by_policy = [(self.policy[c[0]], np.array(c)) for c in by_policy.values()]
            """The copies that follow each distinct policy (those of one target share one)."""

    def _pay_table(self, period: int) -> PayTable:
        """The period's pay table for every rep's target (kept per worker, `_TABLES`)."""
        target = self._target(period)
        key = (self._key, period, target.tobytes())
        table = _TABLES.get(key)
        if table is None:
            _bounded(_TABLES, 16)
            table = _TABLES[key] = PayTable.build(self._paid_under(period).payout_curve, target)
        return table

    def _paid_under(self, period: int) -> Plan:
        """The plan a period is paid under: the plan in force (when stated) for a period that
        ends before the window starts (all warm-up), else the scenario's plan."""
        window_start = self.cal.dates[self.cal.first_day].to_datetime64()
        warm_up = bool(self.cal.plan_period.stop[period] <= window_start)
        in_force = self.params.plan_in_force
        return in_force if warm_up and in_force is not None else self.plan

    def _plan_ahead(self, period: int) -> list[EffortPolicy]:
        """The period's effort policy of each copy of the team (see `_policy`)."""
        return [self._policy(period, t) for t in np.split(self._target(period), self.copies)]

    def _policy(self, period: int, target: np.ndarray) -> EffortPolicy:
        """One team's effort policy: each rep's dynamic program, solved once per worker. A
        period paid under the plan in force takes the policy its effort cost was normalised
        with, so it is solved once for every plan compared."""
        plan = self._paid_under(period)
        in_force = plan == self.params.plan_in_force
        key = (self._world_key if in_force else self._key, in_force, period, target.tobytes())
        if key not in _POLICIES:
            _bounded(_POLICIES)
            cost, in_force_policy = self._effort_cost(period, target)
            if in_force and in_force_policy is not None:
                _POLICIES[key] = in_force_policy
            else:
                table = PayTable.build(plan.payout_curve, target)  # this copy's rows
                outlook = self._outlook_under(table, period, target)
                program = self._program(period, target, outlook)
                days = self._days(period)
                _POLICIES[key] = plan_ahead_policy(table, outlook, days, self.params, cost, program)
        return _POLICIES[key]

    def _effort_cost(
        self, period: int, target: np.ndarray
    ) -> tuple[np.ndarray, EffortPolicy | None]:
        """Each rep's effort cost (and the policy under the plan in force): a property of the
        reps, not of the plan being tried, so computed once for every plan compared."""
        key = (self._world_key, period, target.tobytes())
        if key not in _COSTS:
            _bounded(_COSTS, COSTS_KEPT)
            in_force = self.params.plan_in_force
            paid = self.plan if in_force is None else in_force
            reference = PayTable.build(paid.payout_curve, target)
            outlook = self._outlook_under(reference, period, target)
            program = self._program(period, target, outlook)
            days = self._days(period)
            _COSTS[key] = effort_cost(
                outlook, days, self.params, None if in_force is None else reference, program
            )
        return _COSTS[key]

    def _program(self, period: int, target: np.ndarray, outlook: RepOutlook) -> PeriodProgram:
        """The reps' program for the period (any plan's outlook: kernels are plan-free)."""
        key = (self._world_key, period, target.tobytes())
        if key not in _PROGRAMS:
            while len(_PROGRAMS) >= PROGRAMS_KEPT:
                del _PROGRAMS[next(iter(_PROGRAMS))]
            _PROGRAMS[key] = plan_program(outlook, self._days(period), self.params)
        return _PROGRAMS[key]

    def _days(self, period: int) -> float:
        """Days of the period the run simulates: a period cut by the run's start or end is a
        short period to the reps (its target is cut in the same proportion)."""
        clock = self.cal.plan_period
        return float(clock.length_days[period] * clock.simulated[period])

    def _first_day(self, period: int) -> int:
        """The run's first day in the period."""
        return int(np.searchsorted(self.cal.plan_period.index, period))

    def _outlook_under(self, table: PayTable, period: int, target: np.ndarray) -> RepOutlook:
        """What each rep expects of the period when paid as `table` says."""
        production = self.scenario.production
        shares = tier_shares([t.self_sourced_share for t in self.scenario.leads.tiers], production)
        flow = self._team_flow(period)
        return plan_ahead_outlook(
            flow, table, target, self._days(period), shares, production.sourcing_elasticity,
            self.params, closing=production.closing_elasticity,
        )  # fmt: skip

    def _team_flow(self, period: int) -> TeamFlow:
        """Each rep's expected deal flow at effort 1 in the period (mean daily arrivals)."""
        in_period = self.cal.plan_period.index == period
        arrivals = tier_arrivals(self.scenario.leads, self.cal)[in_period].mean(axis=0)
        team, routing = self.team, self.scenario.routing
        weights = sourcing_weights(
            team.capacity, team.lead_share if routing.policy == "share" else None
        )
        first = int(np.argmax(in_period))
        tiers = self.scenario.leads.tiers
        return team_flow(
            arrivals, weights, np.array([t.win_probability for t in tiers]),
            team.win_skill(first), team.deal_size_multiplier, team.cycle_multiplier(first),
            tiers, seed=self.scenario.simulation.seed,
        )  # fmt: skip

    def book(self, rep: int, amount: float) -> None:
        self.booked[rep] += amount

    # -- deal timing ---------------------------------------------------------------------

    def timing_state(self) -> tuple:
        """What the compiled timing rule (`timing_moves`) reads of the reps' standing today:
        whether timing games are on, the days a deal may be held, the window, hurdle,
        propensity and pull discount, the plan periods' clock, the targets, bookings,
        expected pipelines and run rates (the live arrays) and the period's pay table."""
        clock, timing, table = self.cal.plan_period, self.params.timing, self.table
        active = self.responsive and timing.propensity > 0
        edges, fall = table.steps if active else (NO_VALUES, NO_FALLS)
        last, rows = (table.last, table.rows) if active else (NO_VALUES, NO_ROWS)
        return (
            active, self.pushable_day, clock.end_day, self.days, timing.window_days,
            timing.hurdle, timing.propensity, timing.pull_discount, clock.index,
            clock.length_days, clock.simulated, self.targets, self.booked,
            self.expected_pipeline, self.run_rate, edges, fall, last, rows,
            self.params.projection_cv,
        )  # fmt: skip

    def push_many(
        self, reps: np.ndarray, amounts: np.ndarray, days: np.ndarray, u: np.ndarray
    ) -> np.ndarray:
        """Which ready deals their owners hold for next period: when that pays clearly more
        (with propensity), near the period end and with a next period inside the run.

        `u` is each deal's own uniform draw, so the same deal decides alike in every scenario.
        """
        return timing_moves(False, reps, amounts, days, NO_VALUES, u, self.timing_state())

    def pull_many(
        self,
        reps: np.ndarray,
        amounts: np.ndarray,
        days: np.ndarray,
        closes_at: np.ndarray,
        u: np.ndarray,
    ) -> np.ndarray:
        """Which winning deals due to sign after the period end their owners have sign before
        it, at a discount, when that pays (reps discount to close by quarter end); only near
        the period end."""
        return timing_moves(True, reps, amounts, days, closes_at, u, self.timing_state())

    def movable(self, days: np.ndarray, closes_at: np.ndarray | None = None) -> np.ndarray:
        """Which deals decided on `days` their owners may hold for next period (`closes_at`
        None) or have sign before the period end (due to sign at `closes_at`): near the end,
        timing games on (`timing_moves` decides among these)."""
        if not self.responsive or self.params.timing.propensity == 0:
            return np.zeros(len(days), dtype=bool)
        if closes_at is None:
            return self.pushable_day[days]
        window = self.params.timing.window_days
        return _pullable(days, self.cal.plan_period.end_day, closes_at, self.days, window)

    def push(self, rep: int, amount: float, day: int, u: float) -> bool:
        """`push_many` for one deal; one far from its period's end is kept without arrays (the
        event engine asks for every deal, and numpy scalars compare slowly)."""
        if not may_push(day, self.end_day[day], self.days, self.params.timing.window_days):
            return False
        return bool(
            self.push_many(np.array([rep]), np.array([amount]), np.array([day]), np.array([u]))[0]
        )

    def pull(self, rep: int, amount: float, day: int, closes_at: float, u: float) -> bool:
        """`pull_many` for one deal; one far from its period's end is not pulled (no arrays)."""
        window = self.params.timing.window_days
        if not may_pull(day, self.end_day[day], closes_at, self.days, window):
            return False
        one = (np.array([rep]), np.array([amount]), np.array([day]), np.array([closes_at]))
        return bool(self.pull_many(*one, np.array([u]))[0])


NO_VALUES, NO_FALLS, NO_ROWS = np.zeros(0), np.zeros((0, 0)), np.zeros(0, dtype=np.int64)
"""A timing state's pay table when timing games are off (never read)."""


@numba.njit(cache=True)
def timing_moves(
    pull: bool,
    reps: np.ndarray,
    amounts: np.ndarray,
    days: np.ndarray,
    closes_at: np.ndarray,
    u: np.ndarray,
    state: tuple,
) -> np.ndarray:
    """Which deals their owners (`reps`) move, decided on `days`: with `pull`, winning deals
    due to sign at `closes_at` after their period's end that sign before it at a discount;
    else ready deals held for next period. Only deals near the period end, timing games on
    (`Standing.movable`); a deal moves when that pays more than the hurdle over not moving
    (expected pay, `_deal_rates`, valued where the rep expects each period to end) and its
    own uniform `u` is below the propensity. `state` is `Standing.timing_state`. One rule,
    compiled: the event engine asks it a deal at a time, the fast engine's passes a pass's
    deals at once."""
    (active, pushable, end_day, n_days, window, hurdle, propensity, discount, period_of,
     length_days, simulated, targets, booked, pipeline, run_rate, edges, fall, last, rows,
     cv) = state  # fmt: skip
    n = len(reps)
    moved = np.zeros(n, dtype=np.bool_)
    if not active:
        return moved
    can, m = np.empty(n, dtype=np.int64), 0
    for k in range(n):
        day = days[k]
        if may_pull(day, end_day[day], closes_at[k], n_days, window) if pull else pushable[day]:
            can[m] = k
            m += 1
    if m == 0:
        return moved
    can = can[:m]
    rate_now, rate_next = _deal_rates(
        reps[can], days[can], period_of, end_day, length_days, simulated, targets, booked,
        pipeline, run_rate, edges, fall, last, rows, cv,
    )  # fmt: skip
    for j in range(m):
        k = can[j]
        if pull:  # paid now at a discount, against in full next period
            now, later = rate_now[j] * (amounts[k] * (1 - discount)), rate_next[j] * amounts[k]
            moved[k] = now > (1 + hurdle) * later and u[k] < propensity
        else:
            now, later = rate_now[j] * amounts[k], rate_next[j] * amounts[k]
            moved[k] = later > (1 + hurdle) * now and u[k] < propensity
    return moved


@numba.njit(cache=True)
def may_push(day: int, end: int, days: int, window: float) -> bool:
    """Whether a deal ready on `day`, its period ending on `end` (the day after its last), is
    near enough the end (`window` days) to be held, with a next period inside the run of
    `days` days."""
    return day < days - 1 and end < days and end - day <= window


@numba.njit(cache=True)
def may_pull(day: int, end: int, closes_at: float, days: int, window: float) -> bool:
    """Whether a deal decided on `day` (its period ending on `end`) and due to sign at
    `closes_at` is near the end (`window` days) and would sign after it, inside the run."""
    return end - day <= window and closes_at >= end and end < days


@numba.njit(cache=True)
def _pushable(day: np.ndarray, end_day: np.ndarray, days: int, window: float) -> np.ndarray:
    """`may_push` for each deal (`end_day`: each day's period end)."""
    out = np.empty(len(day), dtype=np.bool_)
    for i in range(len(day)):
        out[i] = may_push(day[i], end_day[day[i]], days, window)
    return out


@numba.njit(cache=True)
def _pullable(
    day: np.ndarray, end_day: np.ndarray, closes_at: np.ndarray, days: int, window: float
) -> np.ndarray:
    """`may_pull` for each deal (`end_day`: each day's period end)."""
    out = np.empty(len(day), dtype=np.bool_)
    for i in range(len(day)):
        out[i] = may_pull(day[i], end_day[day[i]], closes_at[i], days, window)
    return out


@numba.njit(cache=True)
def _deal_rates(
    reps: np.ndarray,
    days: np.ndarray,
    period_of: np.ndarray,
    end_day: np.ndarray,
    length_days: np.ndarray,
    simulated: np.ndarray,
    targets: np.ndarray,
    booked: np.ndarray,
    pipeline: np.ndarray,
    run_rate: np.ndarray,
    edges: np.ndarray,
    fall: np.ndarray,
    last: np.ndarray,
    table_rows: np.ndarray,
    cv: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Each deal's owner's expected marginal rate where it expects this period to end (from
    `days`: bookings, expected pipeline and run rate, uncertain by `cv` shrinking with the
    square root of the period left) and next period (run rate over a full period, `cv`)."""
    n = len(reps)
    mean, sd = np.empty(2 * n), np.empty(2 * n)
    rows = np.empty(2 * n, dtype=np.int64)
    for i in range(n):
        rep, day = reps[i], days[i]
        period = period_of[day]
        target = targets[period, rep] * simulated[period]
        days_left = float(end_day[day] - day)
        period_days = float(length_days[period])
        left = days_left / (1e-9 if period_days < 1e-9 else period_days)
        mean[i] = (booked[rep] + pipeline[rep] + run_rate[rep] * days_left) / target
        sd[i] = cv * np.sqrt(left)
        mean[n + i] = run_rate[rep] * period_days / target
        sd[n + i] = cv
        rows[i] = rows[n + i] = table_rows[rep]
    rates = expected_rates(edges, fall, last, rows, mean, sd)
    return rates[:n], rates[n:]

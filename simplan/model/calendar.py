"""The calendar: working days, periods, sprint windows and their phases, as day arrays.

One simulation time unit is one day; day 0 is `start`. Two sets of periods are laid over the
days: the scenario's reporting periods (`calendar.periods`, or `calendar.period`), which the
quota is stated in, and the plan's clock, which targets, standing, payouts and the reps table
run on. They may differ: a monthly plan on a quarterly scenario pays monthly, and its monthly
targets sum to the quarter's quota. Sprint windows open on a given day of every
month or quarter (or once for the whole run) and run to its end; each window is split into
build / burst / close-out by shares of its length. Days outside any window are in phase
`off`, with multipliers 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from simplan.model.params import Params
from simplan.model.periods import Periods, parse_periods

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PHASES = ("off", "build", "burst", "close_out")
PERIOD_FREQ = {"month": "M", "quarter": "Q"}


class PhaseParams(Params):
    """One sprint phase: its share of the window and what it multiplies."""

    share: float = Field(gt=0, le=1)
    arrival_multiplier: float = Field(default=1.0, ge=0)
    effort_multiplier: float = Field(default=1.0, gt=0)


class PhasesParams(Params):
    """Build (pipeline), burst (leaderboard, high intent) and close-out (offers, referrals)."""

    build: PhaseParams = PhaseParams(share=0.3)
    burst: PhaseParams = PhaseParams(share=0.5)
    close_out: PhaseParams = PhaseParams(share=0.2)

    @model_validator(mode="after")
    def _shares_sum_to_one(self) -> PhasesParams:
        total = self.build.share + self.burst.share + self.close_out.share
        if abs(total - 1) > 1e-9:
            raise ValueError(
                f"phase shares must sum to 1, got {self.build.share} + {self.burst.share} + "
                f"{self.close_out.share} = {total:g}; e.g. build 0.3, burst 0.5, close_out 0.2"
            )
        return self


class SprintParams(Params):
    """Where sprint windows fall: every month / quarter / reporting period (`calendar.periods`,
    e.g. fiscal quarters) from a day on, or once over the run."""

    every: Literal["month", "quarter", "period", "run"] = "quarter"
    opens_on_day: int = Field(default=1, ge=1, le=92)
    phases: PhasesParams = PhasesParams()


class CloseOutOfferParams(Params):
    """'Sign this quarter, get 3 months of service free': a win uplift for open deals at a cost."""

    enabled: bool = False
    tiers: list[str] = ["A"]
    win_uplift: float = Field(default=0.2, ge=0, le=1)
    cost_per_deal: float = Field(default=3000.0, ge=0)


class ReferralContestParams(Params):
    """Extra referred leads during close-out; each won referral pays a reward."""

    enabled: bool = False
    tier: str = "B"
    extra_leads_per_day: float = Field(default=1.0, ge=0)
    reward_per_referral: float = Field(default=200.0, ge=0)


class LeaderboardParams(Params):
    """A daily leaderboard in the burst phase: an effort lift and a prize per working day."""

    enabled: bool = False
    effort_multiplier: float = Field(default=1.05, gt=0)
    prize_per_day: float = Field(default=100.0, ge=0)


class LeversParams(Params):
    """The playbooks' phase levers; each records what it costs."""

    close_out_offer: CloseOutOfferParams = CloseOutOfferParams()
    referral_contest: ReferralContestParams = ReferralContestParams()
    leaderboard: LeaderboardParams = LeaderboardParams()


class PeriodRow(Params):
    """One row of a period table: a label and its first and last day (inclusive)."""

    period: str
    start: dt.date
    end: dt.date


class CalendarParams(Params):
    """The simulated window, its working days, reporting periods and sprint phases."""

    start: dt.date
    days: int = Field(ge=1, le=3660)
    warmup_days: int = Field(default=0, ge=0, le=730)
    working_days: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1)
    holidays: list[dt.date] = []
    workday_start_hour: float = Field(default=9.0, ge=0, lt=24)
    workday_hours: float = Field(default=8.0, gt=0, le=24)
    period: Literal["month", "quarter"] = "quarter"
    periods: str | list[PeriodRow] | None = Field(
        default=None,
        description="The business's periods (wins over `period`): month, quarter, "
        "4-4-5:DATE, 4-5-4:DATE, 5-4-4:DATE, 13-week:DATE, or a period table (rows or a CSV).",
    )
    sprint: SprintParams = SprintParams()
    weekday_arrival_multipliers: dict[Weekday, float] = {}
    levers: LeversParams = LeversParams()

    @model_validator(mode="after")
    def _workday_fits(self) -> CalendarParams:
        if self.workday_start_hour + self.workday_hours > 24:
            raise ValueError(
                f"workday_start_hour {self.workday_start_hour:g} + workday_hours "
                f"{self.workday_hours:g} ends after midnight; shorten the working day"
            )
        return self

    @model_validator(mode="after")
    def _periods_cover_the_run(self) -> CalendarParams:
        first = self.start - dt.timedelta(days=self.warmup_days)
        last = self.start + dt.timedelta(days=self.days - 1)
        reporting_periods(self).check_covers(first, last, "the run (warm-up included)")
        return self


def reporting_periods(params: CalendarParams) -> Periods:
    """The scenario's reporting periods: `calendar.periods` if set, else `calendar.period`."""
    if params.periods is None:
        return parse_periods(params.period)
    if isinstance(params.periods, str):
        return parse_periods(params.periods)
    return parse_periods([row.model_dump() for row in params.periods])


@dataclass(frozen=True)
class PeriodDays:
    """One set of periods over the run's days (warm-up included): the periods it touches."""

    labels: tuple[str, ...]
    index: np.ndarray  # int per day, into labels
    end_day: np.ndarray  # int per day: the day after its period ends, at most the run's end
    length_days: np.ndarray  # calendar days in each full period
    coverage: np.ndarray  # share of each period's calendar days inside the window
    simulated: np.ndarray  # share of each period's calendar days simulated (warm-up too)
    first: np.ndarray  # datetime64[D]: each full period's first day
    stop: np.ndarray  # datetime64[D]: the day after each full period's last day
    periods: Periods  # the whole table these are cut from (what the plan engine pays per)


@dataclass(frozen=True)
class Calendar:
    """Per-day arrays for the whole run, warm-up included (index 0 = `start - warmup_days`)."""

    dates: pd.DatetimeIndex
    is_working: np.ndarray  # bool
    plan_period: PeriodDays  # the plan's clock: targets, standing, statements, reps table
    quota_share: np.ndarray  # per plan period: its full target as a multiple of the quota
    phase: np.ndarray  # int, index into PHASES
    arrival_multiplier: np.ndarray
    effort_multiplier: np.ndarray
    workday_start: float  # fraction of a day
    workday_length: float  # fraction of a day
    first_day: int  # index of `start`: days before it are warm-up, dropped from the results

    @property
    def days(self) -> int:
        return len(self.dates)

    def week(self) -> np.ndarray:
        """Week number of each day counted from the run's start."""
        return np.arange(self.days) // 7


def build_calendar(params: CalendarParams, plan_clock: str | None = None) -> Calendar:
    """Lay the calendar parameters out as day arrays; `plan_clock` (month, quarter) is the
    plan's period, the reporting period when None."""
    first = pd.Timestamp(params.start) - pd.Timedelta(days=params.warmup_days)
    dates = pd.date_range(first, periods=params.warmup_days + params.days, freq="D")
    weekday = dates.day_of_week.to_numpy()
    working_idx = [WEEKDAYS.index(d) for d in params.working_days]
    is_working = np.isin(weekday, working_idx)
    if params.holidays:
        is_working &= ~dates.normalize().isin(pd.to_datetime(params.holidays))

    in_window = np.arange(len(dates)) >= params.warmup_days
    reporting = reporting_periods(params)
    same_clock = plan_clock is None or plan_clock == reporting.spec
    plan_periods = reporting if same_clock else parse_periods(plan_clock)
    plan_period = _period_days(plan_periods, dates, in_window)

    phase = _phases(dates, params.sprint, reporting)
    ph = params.sprint.phases
    arrival_by_phase = np.array(
        [
            1.0,
            ph.build.arrival_multiplier,
            ph.burst.arrival_multiplier,
            ph.close_out.arrival_multiplier,
        ]
    )
    effort_by_phase = np.array(
        [
            1.0,
            ph.build.effort_multiplier,
            ph.burst.effort_multiplier,
            ph.close_out.effort_multiplier,
        ]
    )
    weekday_mult = np.array([params.weekday_arrival_multipliers.get(d, 1.0) for d in WEEKDAYS])
    return Calendar(
        dates=dates,
        is_working=is_working,
        plan_period=plan_period,
        quota_share=(
            np.ones(len(plan_period.labels)) if same_clock else _quota_share(plan_period, reporting)
        ),
        phase=phase,
        arrival_multiplier=arrival_by_phase[phase] * weekday_mult[weekday] * is_working,
        effort_multiplier=effort_by_phase[phase],
        workday_start=params.workday_start_hour / 24,
        workday_length=params.workday_hours / 24,
        first_day=params.warmup_days,
    )


def _period_days(periods: Periods, dates: pd.DatetimeIndex, in_window: np.ndarray) -> PeriodDays:
    """The periods the run's days fall in, numbered from 0 in time order."""
    touched, index = np.unique(periods.index(dates), return_inverse=True)
    length = periods.length_days[touched].astype(float)
    return PeriodDays(
        labels=tuple(periods.labels[i] for i in touched),
        index=index.astype(np.int64),
        end_day=np.searchsorted(index, index, side="right").astype(np.int64),
        length_days=length,
        coverage=np.bincount(index[in_window], minlength=len(touched)) / length,
        simulated=np.bincount(index, minlength=len(touched)) / length,
        first=periods.start[touched],
        stop=periods.stop[touched],
        periods=periods,
    )


def _quota_share(plan_period: PeriodDays, reporting: Periods) -> np.ndarray:
    """Each full plan period's target as a multiple of the quota per reporting period.

    The quota is spread evenly over its reporting period's calendar days, so monthly targets
    sum to a quarterly quota and a quarter's target is the sum of its months' quotas. Days
    of a plan period outside a period table count at the table's mean rate over the rest.
    """
    share = np.zeros(len(plan_period.labels))
    for p, (first, stop) in enumerate(zip(plan_period.first, plan_period.stop, strict=True)):
        days = np.arange(first, stop)
        where = reporting.index(days)
        inside = where >= 0
        owners, count = np.unique(where[inside], return_counts=True)
        spread = (count / reporting.length_days[owners]).sum()
        share[p] = spread * len(days) / max(int(inside.sum()), 1)
    return share


def _phases(dates: pd.DatetimeIndex, sprint: SprintParams, reporting: Periods) -> np.ndarray:
    """Phase code of each day: windows open on `opens_on_day` of each period (or the run)."""
    day = _day_numbers(dates)
    if sprint.every == "run":
        first = np.full(len(dates), day[0])
        end = np.full(len(dates), day[-1] + 1)
    else:
        periods = reporting if sprint.every == "period" else parse_periods(sprint.every)
        where = periods.index(dates)
        first = periods.start[where].astype(np.int64)
        end = periods.stop[where].astype(np.int64)
    opens = first + sprint.opens_on_day - 1
    in_window = (day >= opens) & (day < end)
    position = (day - opens) / np.maximum(end - opens, 1)
    ph = sprint.phases
    bounds = np.array([ph.build.share, ph.build.share + ph.burst.share])
    code = 1 + np.searchsorted(bounds, position, side="right")
    return np.where(in_window, code, 0).astype(np.int64)


def _day_numbers(stamps: pd.DatetimeIndex) -> np.ndarray:
    """Whole days since the epoch, whatever the index's time resolution."""
    return stamps.to_numpy().astype("datetime64[D]").astype(np.int64)

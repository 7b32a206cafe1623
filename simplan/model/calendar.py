"""The calendar: working days, plan periods, sprint windows and their phases, as day arrays.

One simulation time unit is one day; day 0 is `start`. Sprint windows open on a given day
of every month or quarter (or once for the whole run) and run to its end; each window is
split into build / burst / close-out by shares of its length. Days outside any window are
in phase `off`, with multipliers 1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from simplan.model.params import Params

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
    """Where sprint windows fall: every month / quarter from a day on, or once over the run."""

    every: Literal["month", "quarter", "run"] = "quarter"
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


class CalendarParams(Params):
    """The simulated window, its working days, plan periods and sprint phases."""

    start: dt.date
    days: int = Field(ge=1, le=3660)
    warmup_days: int = Field(default=0, ge=0, le=730)
    working_days: list[Weekday] = Field(default=["mon", "tue", "wed", "thu", "fri"], min_length=1)
    holidays: list[dt.date] = []
    workday_start_hour: float = Field(default=9.0, ge=0, lt=24)
    workday_hours: float = Field(default=8.0, gt=0, le=24)
    period: Literal["month", "quarter"] = "quarter"
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


@dataclass(frozen=True)
class Calendar:
    """Per-day arrays for the whole run, warm-up included (index 0 = `start - warmup_days`)."""

    dates: pd.DatetimeIndex
    is_working: np.ndarray  # bool
    period: np.ndarray  # int, index into period_labels
    period_labels: tuple[str, ...]
    period_end_day: np.ndarray  # int, last day (exclusive) of each day's plan period
    phase: np.ndarray  # int, index into PHASES
    arrival_multiplier: np.ndarray
    effort_multiplier: np.ndarray
    workday_start: float  # fraction of a day
    workday_length: float  # fraction of a day
    first_day: int  # index of `start`: days before it are warm-up, dropped from the results
    period_coverage: np.ndarray  # share of each period's calendar days inside the window
    period_simulated: np.ndarray  # share of each period's calendar days simulated (warm-up too)
    period_length_days: np.ndarray  # calendar days in each full period

    @property
    def days(self) -> int:
        return len(self.dates)

    def week(self) -> np.ndarray:
        """Week number of each day counted from the run's start."""
        return np.arange(self.days) // 7


def build_calendar(params: CalendarParams) -> Calendar:
    """Lay the calendar parameters out as day arrays."""
    first = pd.Timestamp(params.start) - pd.Timedelta(days=params.warmup_days)
    dates = pd.date_range(first, periods=params.warmup_days + params.days, freq="D")
    weekday = dates.day_of_week.to_numpy()
    working_idx = [WEEKDAYS.index(d) for d in params.working_days]
    is_working = np.isin(weekday, working_idx)
    if params.holidays:
        is_working &= ~dates.normalize().isin(pd.to_datetime(params.holidays))

    periods = dates.to_period(PERIOD_FREQ[params.period])
    labels, period = np.unique(periods.astype(str), return_inverse=True)
    period_end_day = np.searchsorted(period, period, side="right")
    in_window = np.arange(len(dates)) >= params.warmup_days
    period_days = np.array([_days_in(label) for label in labels])
    coverage = np.bincount(period[in_window], minlength=len(labels)) / period_days
    simulated = np.bincount(period, minlength=len(labels)) / period_days

    phase = _phases(dates, params.sprint)
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
        period=period.astype(np.int64),
        period_labels=tuple(labels.tolist()),
        period_end_day=period_end_day.astype(np.int64),
        phase=phase,
        arrival_multiplier=arrival_by_phase[phase] * weekday_mult[weekday] * is_working,
        effort_multiplier=effort_by_phase[phase],
        workday_start=params.workday_start_hour / 24,
        workday_length=params.workday_hours / 24,
        first_day=params.warmup_days,
        period_coverage=coverage,
        period_simulated=simulated,
        period_length_days=period_days.astype(float),
    )


def _days_in(label: str) -> int:
    """Calendar days in a month ('2025-10') or quarter ('2025Q4') period."""
    period = pd.Period(label)
    return int((period.end_time.normalize() - period.start_time).days) + 1


def _phases(dates: pd.DatetimeIndex, sprint: SprintParams) -> np.ndarray:
    """Phase code of each day: windows open on `opens_on_day` of each month/quarter (or run)."""
    day = _day_numbers(dates)
    if sprint.every == "run":
        first = np.full(len(dates), day[0])
        end = np.full(len(dates), day[-1] + 1)
    else:
        periods = dates.to_period(PERIOD_FREQ[sprint.every])
        first = _day_numbers(periods.start_time)
        end = _day_numbers(periods.end_time) + 1
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

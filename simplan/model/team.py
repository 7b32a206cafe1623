"""The team: reps with tenure, capacity, skill, squad and mentor, generated or from a roster.

New hires are slower (their customer-side cycle is longer) and their win rate ramps toward
a share of their mentor's: from `initial_share` at hire to `target_share` after `ramp_days`
(playbook: 60 % after 3 months), then on at the same pace up to the full reference skill
(the mentor's for reps with a mentor, their own otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from simplan.model.distributions import Distribution, Gamma, LogNormal
from simplan.model.params import Params

Tenure = Literal["new_hire", "ramping", "veteran"]
TENURES: tuple[Tenure, ...] = ("new_hire", "ramping", "veteran")
VETERAN_AFTER_DAYS = 365


class TenureMix(Params):
    """Shares of the team by tenure; they must sum to 1."""

    new_hire: float = Field(default=0.2, ge=0, le=1)
    ramping: float = Field(default=0.2, ge=0, le=1)
    veteran: float = Field(default=0.6, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> TenureMix:
        total = self.new_hire + self.ramping + self.veteran
        if abs(total - 1) > 1e-9:
            raise ValueError(f"tenure shares must sum to 1, got {total:g}; e.g. 0.2 / 0.2 / 0.6")
        return self


class NewHireParams(Params):
    """How new hires differ: longer cycles and a win rate ramping toward the mentor's."""

    ramp_days: int = Field(default=90, ge=1)
    cycle_multiplier: float = Field(default=1.4, ge=1)
    ramping_cycle_multiplier: float = Field(default=1.15, ge=1)
    initial_share: float = Field(default=0.3, ge=0, le=1)
    target_share: float = Field(default=0.6, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> NewHireParams:
        if self.initial_share > self.target_share:
            raise ValueError(
                f"initial_share {self.initial_share} is above target_share {self.target_share}; "
                "the ramp rises from initial to target"
            )
        return self


class RosterRow(Params):
    """One rep read from a roster table."""

    rep_id: str = Field(min_length=1)
    tenure_days: int = Field(ge=0)
    capacity_touches_per_day: float = Field(gt=0)
    skill: float = Field(default=1.0, gt=0)
    squad: str | None = None
    mentor_id: str | None = None
    quota: float | None = Field(default=None, gt=0)
    targets: dict[str, Annotated[float, Field(gt=0)]] | None = None
    """The rep's target in named plan periods (plan clock label, e.g. 2025Q1 -> target),
    instead of `quota` there: a history's targets drift and wobble from period to period."""
    lead_share: float | None = Field(default=None, gt=0)
    deal_size_multiplier: float | None = Field(default=None, gt=0)


class QuotaParams(Params):
    """Each rep's target per reporting period (`calendar.periods`/`period`; a plan on another
    clock gets it spread by days); new hires and ramping reps carry a share of it."""

    per_period: float = Field(gt=0)
    new_hire_share: float = Field(default=0.5, ge=0, le=1)
    ramping_share: float = Field(default=0.8, ge=0, le=1)


class TeamParams(Params):
    """A generated team (size, tenure mix, distributions) or a roster table."""

    size: int = Field(default=50, ge=1, le=100_000)
    roster: list[RosterRow] | None = None
    tenure_mix: TenureMix = TenureMix()
    capacity_touches_per_day: Distribution = Gamma(mean=12, cv=0.25)
    skill: Distribution = LogNormal(mean=1.0, cv=0.3)
    squad_size: int = Field(default=5, ge=3, le=5)
    new_hire: NewHireParams = NewHireParams()
    quota: QuotaParams | None = None

    @model_validator(mode="after")
    def _roster_consistent(self) -> TeamParams:
        if self.roster is None:
            return self
        ids = [r.rep_id for r in self.roster]
        seen: set[str] = set()
        for i, rep in enumerate(ids):
            if rep in seen:
                raise ValueError(
                    f"roster row {i + 1}: rep_id '{rep}' appears twice; ids must be unique"
                )
            seen.add(rep)
        given = [r.lead_share is not None for r in self.roster]
        if any(given) and not all(given):
            missing = next(i for i, g in enumerate(given) if not g)
            raise ValueError(
                f"roster row {missing + 1}: lead_share is empty while other rows give one; "
                "give every rep a lead_share (relative shares of the team's leads) or none"
            )
        for i, r in enumerate(self.roster):
            if r.mentor_id is not None and r.mentor_id not in seen:
                raise ValueError(
                    f"roster row {i + 1}: mentor_id '{r.mentor_id}' is not a rep_id in the roster"
                )
        return self


@dataclass(frozen=True)
class Team:
    """The reps as parallel arrays (index = rep number)."""

    rep_id: np.ndarray  # str
    tenure_days: np.ndarray  # int, at the run's start
    capacity: np.ndarray  # touches per day at effort 1
    skill: np.ndarray  # multiplier on win probability (and on deal size unless given apart)
    squad: np.ndarray  # int
    mentor: np.ndarray  # int rep index, -1 for none
    quota: np.ndarray  # target per plan period, NaN when none
    new_hire: NewHireParams
    deal_size_multiplier: np.ndarray  # multiplier on the tier's deal size
    lead_share: np.ndarray | None = None  # relative share of the team's leads (share routing)
    targets: dict[str, np.ndarray] = field(default_factory=dict)  # plan period label -> each
    # rep's target there (NaN: its quota)

    @property
    def size(self) -> int:
        return len(self.rep_id)

    def tenure(self, day: float = 0.0) -> np.ndarray:
        """Tenure class code of each rep on a day (index into TENURES)."""
        days = self.tenure_days + day
        return np.where(
            days < self.new_hire.ramp_days, 0, np.where(days < VETERAN_AFTER_DAYS, 1, 2)
        )

    def win_skill(self, day: float) -> np.ndarray:
        """Each rep's multiplier on win probability on a day: ramp share x reference skill.

        The reference is the mentor's skill for reps with a mentor, else their own.
        """
        nh = self.new_hire
        slope = (nh.target_share - nh.initial_share) / nh.ramp_days
        share = np.minimum(1.0, nh.initial_share + slope * (self.tenure_days + day))
        reference = np.where(self.mentor >= 0, self.skill[np.maximum(self.mentor, 0)], self.skill)
        return share * reference

    def cycle_multiplier(self, day: float) -> np.ndarray:
        """Each rep's multiplier on customer-side stage delays on a day."""
        code = self.tenure(day)
        nh = self.new_hire
        return np.array([nh.cycle_multiplier, nh.ramping_cycle_multiplier, 1.0])[code]

    def top_sellers(self, share: float) -> np.ndarray:
        """Indices of the top `share` of reps by skill x capacity (at least one)."""
        n = max(1, round(share * self.size))
        return np.argsort(-(self.skill * self.capacity), kind="stable")[:n]


def build_team(params: TeamParams, rng: np.random.Generator) -> Team:
    """Generate the team from distributions, or lay out the roster, as arrays."""
    if params.roster is not None:
        return _from_roster(params)
    n = params.size
    mix = params.tenure_mix
    counts = np.floor(np.array([mix.new_hire, mix.ramping, mix.veteran]) * n).astype(int)
    counts[2] += n - counts.sum()
    nh = params.new_hire
    tenure_days = np.concatenate(
        [
            rng.integers(0, nh.ramp_days, counts[0]),
            rng.integers(nh.ramp_days, max(VETERAN_AFTER_DAYS, nh.ramp_days + 1), counts[1]),
            rng.integers(VETERAN_AFTER_DAYS, 10 * VETERAN_AFTER_DAYS, counts[2]),
        ]
    )
    capacity = np.maximum(params.capacity_touches_per_day.sample(rng, n), 1.0)
    skill = np.maximum(params.skill.sample(rng, n), 0.05)
    squad = _squads(n, params.squad_size)
    mentor = _assign_mentors(tenure_days, skill, squad, nh.ramp_days)
    return Team(
        rep_id=np.array([f"R{i + 1:0{len(str(n))}d}" for i in range(n)]),
        tenure_days=tenure_days.astype(np.int64),
        capacity=capacity,
        skill=skill,
        squad=squad,
        mentor=mentor,
        quota=_quotas(params.quota, tenure_days, nh.ramp_days),
        new_hire=nh,
        deal_size_multiplier=skill,
    )


def _squads(n: int, size: int) -> np.ndarray:
    """Split n reps into squads of 3-5 as even as possible (one squad if n < 3)."""
    count = max(1, -(-n // size))
    while count > 1 and n / count < 3:
        count -= 1
    return np.arange(n) % count


def _assign_mentors(
    tenure_days: np.ndarray, skill: np.ndarray, squad: np.ndarray, ramp_days: int
) -> np.ndarray:
    """Each new hire gets a veteran mentor, from their squad when it has one; best skill first."""
    mentor = np.full(len(tenure_days), -1, dtype=np.int64)
    veterans = np.flatnonzero(tenure_days >= VETERAN_AFTER_DAYS)
    if len(veterans) == 0:
        veterans = np.flatnonzero(tenure_days >= ramp_days)
    if len(veterans) == 0:
        return mentor
    load = np.zeros(len(tenure_days), dtype=np.int64)
    for hire in np.flatnonzero(tenure_days < ramp_days):
        pool = veterans[squad[veterans] == squad[hire]]
        pool = pool if len(pool) else veterans
        best = pool[np.lexsort((-skill[pool], load[pool]))[0]]
        mentor[hire] = best
        load[best] += 1
    return mentor


def _quotas(quota: QuotaParams | None, tenure_days: np.ndarray, ramp_days: int) -> np.ndarray:
    if quota is None:
        return np.full(len(tenure_days), np.nan)
    share = np.where(
        tenure_days < ramp_days,
        quota.new_hire_share,
        np.where(tenure_days < VETERAN_AFTER_DAYS, quota.ramping_share, 1.0),
    )
    return quota.per_period * share


def _from_roster(params: TeamParams) -> Team:
    rows = params.roster or []
    ids = [r.rep_id for r in rows]
    index = {rep: i for i, rep in enumerate(ids)}
    squads = [r.squad for r in rows]
    if all(s is None for s in squads):
        squad = _squads(len(rows), params.squad_size)
    else:
        names = sorted({s or "" for s in squads})
        squad = np.array([names.index(s or "") for s in squads], dtype=np.int64)
    tenure_days = np.array([r.tenure_days for r in rows], dtype=np.int64)
    quota = _quotas(params.quota, tenure_days, params.new_hire.ramp_days)
    quota = np.array(
        [r.quota if r.quota is not None else q for r, q in zip(rows, quota, strict=True)]
    )
    skill = np.array([r.skill for r in rows], dtype=float)
    size = [r.deal_size_multiplier for r in rows]
    shares = [r.lead_share for r in rows]
    labels = sorted({label for r in rows for label in (r.targets or {})})
    targets = {label: np.array([(r.targets or {}).get(label, np.nan) for r in rows])
               for label in labels}  # fmt: skip
    return Team(
        rep_id=np.array(ids),
        tenure_days=tenure_days,
        capacity=np.array([r.capacity_touches_per_day for r in rows], dtype=float),
        skill=skill,
        squad=squad,
        mentor=np.array([index[r.mentor_id] if r.mentor_id else -1 for r in rows], dtype=np.int64),
        quota=quota,
        new_hire=params.new_hire,
        deal_size_multiplier=np.array(
            [s if s is not None else k for s, k in zip(size, skill, strict=True)], dtype=float
        ),
        lead_share=(
            None if all(v is None for v in shares) else np.array([v or 1.0 for v in shares])
        ),
        targets=targets,
    )

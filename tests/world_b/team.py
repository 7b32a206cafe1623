"""World B's reps and how their weekly effort turns into deals (the production function).

Effort e is a rep's touches per open deal in a week, relative to its habit (1). Channels:
- **win rate** (touches per lead): a deal is won with p x (1 + WIN_LIFT (ebar - 1)), where
  p depends on the lead's grade and the rep's skill, and ebar is the owner's mean effort
  over every week the deal was open;
- **deal size** (discount discipline): a won deal signs at its list amount less a discount
  of D x exp(-DISCOUNT_RESPONSE (e - 1)), e the owner's effort in the week it closes;
- **speed**: each week an open deal is decided with its grade's chance times e ** SPEED;
- **self-sourced flow** (small): e ** SOURCING x the rep's own rate of outbound leads.
Inbound leads arrive graded A/B/C, routed to reps by a weight that grows with ability.
Effort costs each week cost x exp(COST_CURVATURE (e - 1)) / COST_CURVATURE (exponential).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from tests.world_b.calendar import WEEKS_PER_QUARTER

GRADES = ("A", "B", "C")
GRADE_WIN = np.array([0.42, 0.26, 0.12])
"""Win probability by grade for a rep of average skill at habitual effort."""
GRADE_LIST_MEAN = np.array([18000.0, 9000.0, 5000.0])
"""Mean list amount by grade (lognormal, log-sd LIST_SIGMA), times the rep's size multiplier."""
LIST_SIGMA = 0.5
GRADE_DECIDED = np.array([0.16, 0.20, 0.28])
"""Chance per week that an open deal of each grade is decided (won or lost) at effort 1."""
INBOUND_MIX = np.array([0.25, 0.45, 0.30])
SELF_MIX = np.array([0.10, 0.50, 0.40])
"""Grade mix of inbound and of self-sourced leads."""
TEAM_INBOUND_PER_WEEK = 52.0
WIN_LIFT = 0.4
DISCOUNT_RESPONSE = 1.2
SPEED = 0.3
SOURCING = 0.6
COST_CURVATURE = 2.2
COST_SCALE = 0.027
"""A rep's effort cost at e = 1 per week, as a share of its habitual weekly bookings."""
QUOTA_STRETCH = 1.05


@dataclass(frozen=True)
class Reps:
    """Per-rep parameters, one value per rep in rep order (rates per week)."""

    name: np.ndarray
    role: np.ndarray
    hired: np.ndarray  # hire day, counted from the calendar's ORIGIN (negative: before)
    inbound_per_week: np.ndarray
    self_per_week: np.ndarray
    skill: np.ndarray  # shift of the win log-odds
    size_multiplier: np.ndarray
    discount: np.ndarray  # D: the discount given at habitual effort
    cost: np.ndarray  # effort cost per week at e = 1 (currency)
    base_quota: np.ndarray

    @property
    def size(self) -> int:
        return len(self.name)

    def win_chance(self, grade: np.ndarray, rep: np.ndarray, mean_effort: np.ndarray) -> np.ndarray:
        """The chance a deal of `grade` owned by `rep` is won, given the owner's mean effort."""
        base = special.expit(special.logit(GRADE_WIN[grade]) + self.skill[rep])
        return np.clip(base * (1.0 + WIN_LIFT * (mean_effort - 1.0)), 0.0, 0.95)

    def kept(self, rep: np.ndarray, effort: np.ndarray) -> np.ndarray:
        """The share of the list amount a won deal signs at, given the owner's effort that week."""
        return 1.0 - self.discount[rep] * np.exp(-DISCOUNT_RESPONSE * (np.asarray(effort) - 1.0))

    def habitual_weekly_bookings(self) -> np.ndarray:
        """Expected bookings a week at effort 1 in the long run (currency)."""
        reps = np.arange(self.size)
        value = 0.0
        for mix, flow in ((INBOUND_MIX, self.inbound_per_week), (SELF_MIX, self.self_per_week)):
            for grade, share in enumerate(mix):
                chance = self.win_chance(np.full(self.size, grade), reps, np.ones(self.size))
                value = value + flow * share * chance * GRADE_LIST_MEAN[grade]
        return value * self.size_multiplier * (1.0 - self.discount)


def effort_cost(cost: np.ndarray, effort: np.ndarray) -> np.ndarray:
    """A week's effort cost (currency): cost x exp(COST_CURVATURE (e - 1)) / COST_CURVATURE."""
    return cost * np.exp(COST_CURVATURE * (effort - 1.0)) / COST_CURVATURE


FIRST_NAMES = ("Ana", "Bram", "Chen", "Dana", "Eli", "Femi", "Gita", "Hugo", "Ines", "Jon",
               "Kai", "Lena", "Mo", "Nia", "Omar", "Pia", "Quinn", "Rosa", "Sam", "Tara",
               "Uma", "Vic", "Wen", "Xavi", "Yara", "Zoe", "Ari", "Bea", "Cy", "Dov",
               "Eve", "Finn", "Gus", "Hana")  # fmt: skip
LAST_NAMES = ("Silva", "Jansen", "Wu", "Kowalski", "Haddad", "Adeyemi", "Rao", "Lefevre")


def draw_reps(rng: np.random.Generator, size: int = 34) -> Reps:
    """A team of `size` reps (at most 34) of different ability, drawn from `rng`."""
    ability = rng.standard_normal(size)
    noise = rng.standard_normal((5, size))
    weight = np.exp(0.3 * ability + 0.2 * noise[0])
    names = [f"{FIRST_NAMES[i]} {LAST_NAMES[i % len(LAST_NAMES)]}" for i in range(size)]
    reps = Reps(
        name=np.array(names),
        role=np.array(["Account Executive East", "Account Executive West"])[np.arange(size) % 2],
        hired=-np.round(np.exp(6.3 + 0.6 * ability + 0.4 * noise[1])).astype(int) - 60,
        inbound_per_week=TEAM_INBOUND_PER_WEEK * weight / weight.sum(),
        self_per_week=0.4 * np.exp(0.3 * noise[2]),
        skill=0.45 * ability,
        size_multiplier=np.exp(0.35 * noise[3] + 0.15 * ability),
        discount=rng.uniform(0.10, 0.20, size),
        cost=np.zeros(size),
        base_quota=np.zeros(size),
    )
    weekly = reps.habitual_weekly_bookings()
    cost = COST_SCALE * weekly * np.exp(0.3 * noise[4])
    spread = np.clip(np.exp(0.2 * rng.standard_normal(size)), 0.7, 1.5)
    quota = np.round(QUOTA_STRETCH * WEEKS_PER_QUARTER * weekly * spread, -2)
    return Reps(**{**reps.__dict__, "cost": cost, "base_quota": quota})

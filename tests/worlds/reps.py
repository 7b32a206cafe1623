"""The world's reps: who they are (ability, lead flow, deal sizes, cycles, effort cost) and
how effort turns into opportunities and wins (the production function).

Rates are per day. A rep of ability z (standard normal) gets a share of the team's inbound
leads that grows with z, finds self-sourced opportunities at `self_per_day * effort**ELASTICITY`,
wins each closing deal with `win * quality(effort)`, sells lognormal deal sizes whose means
span 3.5k-14k across the team, and closes after a gamma cycle of 3-5 weeks on average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

ELASTICITY = 0.85
"""alpha: self-sourced opportunities per day scale with effort**alpha."""
QUALITY_LIFT = 0.15
"""beta: effort raises the win probability of closing deals by at most +/-15 % (tanh)."""
COST_POWER = 2.0
"""gamma: effort costs cost_per_day * effort**gamma / gamma (currency per day)."""
CYCLE_SHAPE = 2.5
"""The gamma shape of sales cycles (days from created to closed)."""
TEAM_INBOUND_PER_DAY = 6.0
"""Inbound leads per day for the whole team, routed to reps by their routing weight."""
QUOTA_STRETCH = 1.15
"""Quotas are set at 115 % of what a rep books at habitual effort (times a spread)."""


def quality(effort: np.ndarray) -> np.ndarray:
    """The win-probability multiplier of follow-up at `effort` (1 at the habitual effort 1)."""
    return 1.0 + QUALITY_LIFT * np.tanh(np.asarray(effort, float) - 1.0)


@dataclass(frozen=True)
class Reps:
    """Per-rep parameters (arrays of one value per rep, in rep order)."""

    rep_id: np.ndarray
    team: np.ndarray
    tenure_days: np.ndarray
    inbound_per_day: np.ndarray
    self_per_day: np.ndarray  # self-sourced opportunities per day at effort 1
    win: np.ndarray  # win probability at effort 1
    size_mu: np.ndarray  # log-scale of the deal size (lognormal)
    size_sigma: np.ndarray
    cycle_mean_days: np.ndarray
    cost_per_day: np.ndarray  # effort cost scale (currency per day)
    base_quota: np.ndarray  # quarterly quota before each quarter's drift

    @property
    def size(self) -> int:
        return len(self.rep_id)

    @property
    def deal_mean(self) -> np.ndarray:
        """The mean deal size of each rep (currency)."""
        return np.exp(self.size_mu + self.size_sigma**2 / 2)

    def cycle_cdf(self, days: np.ndarray) -> np.ndarray:
        """P(cycle <= days) per rep; `days` broadcasts against (reps, ...)."""
        days = np.asarray(days, float)
        scale = (self.cycle_mean_days / CYCLE_SHAPE).reshape((-1,) + (1,) * (days.ndim - 1))
        return special.gammainc(CYCLE_SHAPE, np.maximum(days, 0.0) / scale)

    def expected_quarter(self, days: float = 91.0) -> np.ndarray:
        """Expected bookings of a quarter of `days` at steady effort 1 (currency)."""
        return (self.inbound_per_day + self.self_per_day) * days * self.win * self.deal_mean


def draw_reps(rng: np.random.Generator, size: int = 30) -> Reps:
    """A team of `size` reps of different ability, all parameters drawn from `rng`."""
    ability = rng.standard_normal(size)
    noise = rng.standard_normal((6, size))
    # deal-size means span exactly 3.5k..14k, ordered by ability blurred with noise
    order = stats.rankdata(ability + 1.0 * noise[0]) - 1
    deal_mean = np.exp(np.log(3500) + np.log(14000 / 3500) * order / (size - 1))
    size_sigma = rng.uniform(0.45, 0.7, size)
    # reps who sell small deals handle and source more of them (small business desks)
    volume = (8000 / deal_mean) ** 0.5
    weight = volume * np.exp(0.15 * ability + 0.1 * noise[1])
    inbound = TEAM_INBOUND_PER_DAY * weight / weight.sum()
    self_per_day = 0.2 * volume * np.exp(0.15 * ability + 0.15 * noise[2])
    win = 0.18 + 0.14 * special.ndtr(0.8 * ability + 0.6 * noise[3])
    cycle_mean = rng.uniform(21.0, 35.0, size)
    deal_value = self_per_day * win * deal_mean  # expected bookings per day of self-sourcing
    # cost tied to what effort yields, so habitual effort is near 1 at a ~6 % rate
    cost = 0.06 * ELASTICITY * deal_value * np.exp(0.2 * noise[4])
    reps = Reps(
        rep_id=np.array([f"rep_{i + 1:02d}" for i in range(size)]),
        team=np.array(["north", "south", "west"])[np.arange(size) % 3],
        tenure_days=np.round(np.exp(6.2 + 0.5 * ability + 0.5 * noise[5])).astype(int) + 30,
        inbound_per_day=inbound,
        self_per_day=self_per_day,
        win=win,
        size_mu=np.log(deal_mean) - size_sigma**2 / 2,
        size_sigma=size_sigma,
        cycle_mean_days=cycle_mean,
        cost_per_day=cost,
        base_quota=np.zeros(size),
    )
    spread = np.clip(np.exp(0.25 * rng.standard_normal(size)), 0.6, 1.6)
    quota = QUOTA_STRETCH * reps.expected_quarter() * spread
    return Reps(**{**reps.__dict__, "base_quota": np.round(quota, -2)})

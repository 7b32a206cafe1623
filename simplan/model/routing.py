"""Who gets a new lead: a base policy plus the playbooks' overrides, and how credit splits.

Base policies are classes registered in POLICIES (add one there to extend). Overrides are
checked in order: strike team (high-value leads), the weekly squad winner's first pick,
the mentor pool (a share of leads to new hires), then the base policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from pydantic import Field

from simplan.model.params import Params
from simplan.model.team import Team


class MentorPoolParams(Params):
    """A share of new leads go to new hires; the mentor shares the credit of their wins."""

    enabled: bool = False
    share_of_leads: float = Field(default=0.2, ge=0, le=1)
    mentor_credit_share: float = Field(default=0.2, ge=0, le=1)


class RelayParams(Params):
    """A lead waiting `idle_days` for its owner's touch passes to the least-loaded other rep."""

    enabled: bool = False
    idle_days: float = Field(default=7.0, gt=0)
    closer_share: float = Field(default=0.6, ge=0, le=1)


class StrikeTeamParams(Params):
    """High-value leads go to a top seller with a supporting rep, who shares the credit."""

    enabled: bool = False
    min_deal_size: float = Field(default=100_000.0, gt=0)
    support_credit_share: float = Field(default=0.3, ge=0, le=1)
    win_uplift: float = Field(default=0.1, ge=0, le=1)


class SquadFirstPickParams(Params):
    """Last week's best-booking squad gets first pick of new leads of these tiers."""

    enabled: bool = False
    tiers: list[str] = ["A"]


class RoutingParams(Params):
    """The base policy and the overrides that route leads to reps."""

    policy: Literal["round_robin", "least_loaded", "tier_priority", "share"] = "least_loaded"
    top_seller_share: float = Field(default=0.2, gt=0, le=1)
    top_seller_overflow: float = Field(default=1.5, ge=1)
    priority_tiers: list[str] = ["A"]
    response_red_line_hours: float | None = Field(default=None, gt=0)
    mentor_pool: MentorPoolParams = MentorPoolParams()
    relay: RelayParams = RelayParams()
    strike_teams: StrikeTeamParams = StrikeTeamParams()
    squad_first_pick: SquadFirstPickParams = SquadFirstPickParams()


@dataclass
class RoutingState:
    """What routing looks at: each rep's open leads and the current squad winner."""

    open_leads: np.ndarray
    capacity: np.ndarray
    squad_winner: int = -1
    turn: int = 0

    def load(self) -> np.ndarray:
        """Open leads per touch of daily capacity: days of work queued."""
        return self.open_leads / self.capacity


def least_loaded(state: RoutingState, pool: np.ndarray | None = None) -> int:
    """The rep in `pool` (None: the whole team, without indexing) with the least load; ties
    go round the pool in turn. A unique minimum (the usual case) costs two argmins."""
    if pool is None:
        load = state.open_leads / state.capacity
    else:
        load = state.open_leads[pool] / state.capacity[pool]
    state.turn += 1
    tie = int(load.argmin())
    if tie != len(load) - 1 - int(load[::-1].argmin()):  # the first and last minimum differ
        ties = (load == load[tie]).nonzero()[0]
        tie = int(ties[state.turn % len(ties)])
    return tie if pool is None else int(pool[tie])


class RoundRobin:
    """Each rep in turn."""

    def __init__(self, team: Team, params: RoutingParams) -> None:
        self.n = team.size
        self.next = 0

    def choose(self, state: RoutingState, priority: bool, u: float) -> int:
        rep = self.next
        self.next = (self.next + 1) % self.n
        return rep


class LeastLoaded:
    """The rep with the fewest open leads per unit of capacity."""

    def __init__(self, team: Team, params: RoutingParams) -> None:
        """Nothing to set up: the pool is always the whole team."""

    def choose(self, state: RoutingState, priority: bool, u: float) -> int:
        return least_loaded(state)


class TierPriority:
    """Priority-tier and dormant leads to the top sellers first, the rest to everyone else.

    "First": a top seller takes the lead unless even the least-loaded one carries more than
    `top_seller_overflow` times the team's mean load; then it goes to the least loaded rep.
    """

    def __init__(self, team: Team, params: RoutingParams) -> None:
        self.top = np.sort(team.top_sellers(params.top_seller_share))
        rest = np.setdiff1d(np.arange(team.size), self.top)
        self.rest = rest if len(rest) else self.top
        self.overflow = params.top_seller_overflow

    def choose(self, state: RoutingState, priority: bool, u: float) -> int:
        if not priority:
            return least_loaded(state, self.rest)
        load = state.load()
        best = int(self.top[np.argmin(load[self.top])])
        if load[best] <= self.overflow * load.mean():
            return best
        return least_loaded(state)


class Share:
    """Each lead to rep r with probability proportional to the rep's `lead_share` (the share of
    the team's opportunities it had in history), drawn with the lead's own uniform."""

    def __init__(self, team: Team, params: RoutingParams) -> None:
        weights = team.lead_share if team.lead_share is not None else team.capacity
        self.cumulative = np.cumsum(weights) / np.sum(weights)

    def choose(self, state: RoutingState, priority: bool, u: float) -> int:
        return min(int(np.searchsorted(self.cumulative, u, side="right")), len(self.cumulative) - 1)


POLICIES = {
    "round_robin": RoundRobin,
    "least_loaded": LeastLoaded,
    "tier_priority": TierPriority,
    "share": Share,
}


class Assignment(NamedTuple):
    """Where a lead goes: owner, optional support rep (strike team), mentor-pool flag (a named
    tuple: the event engine makes one per lead, at a third of a frozen dataclass's cost)."""

    owner: int
    support: int = -1
    mentor_pool: bool = False


@dataclass
class Router:
    """Routes new leads with the scenario's policy and overrides."""

    team: Team
    params: RoutingParams
    tier_names: list[str]
    policy: object = field(init=False)

    def __post_init__(self) -> None:
        self.policy = POLICIES[self.params.policy](self.team, self.params)
        self.top = np.sort(self.team.top_sellers(self.params.top_seller_share))
        support = np.setdiff1d(np.arange(self.team.size), self.top)
        self.support_pool = support if len(support) else self.top
        self.first_pick_tiers = {
            self.tier_names.index(t) for t in self.params.squad_first_pick.tiers
        }
        self.mentored = np.flatnonzero(self.team.mentor >= 0)
        self.mentored_tenure = self.team.tenure_days[self.mentored]

    def assign(
        self, state: RoutingState, tier: int, priority: bool, base_size: float, u: float, day: float
    ) -> Assignment:
        """Pick the owner of a new lead; `u` is the lead's own uniform draw (mentor pool, then
        the share policy: the part of `u` the mentor pool did not use is stretched back to
        a uniform, so the two draws are independent)."""
        p = self.params
        if p.strike_teams.enabled and base_size >= p.strike_teams.min_deal_size:
            owner = least_loaded(state, self.top)
            return Assignment(owner, least_loaded(state, self.support_pool))
        if p.squad_first_pick.enabled and state.squad_winner >= 0 and tier in self.first_pick_tiers:
            return Assignment(
                least_loaded(state, np.flatnonzero(self.team.squad == state.squad_winner))
            )
        if p.mentor_pool.enabled:
            pool = p.mentor_pool.share_of_leads
            if u < pool:
                # New hires (Team.tenure's code 0) among the mentored reps only: a lead at a
                # time, the whole team's tenure codes cost five times as much.
                hires = self.mentored[self.mentored_tenure + day < self.team.new_hire.ramp_days]
                if len(hires):
                    return Assignment(least_loaded(state, hires), mentor_pool=True)
                u = u / pool
            else:
                u = (u - pool) / (1 - pool)
        return Assignment(self.policy.choose(state, priority, u))


def credit_shares(
    closer: int,
    first_owner: int,
    assignment: Assignment,
    team: Team,
    params: RoutingParams,
) -> dict[int, float]:
    """Split a won deal's credit: relay (closer / first owner), then strike support, then mentor.

    Shares always sum to 1.
    """
    shares: dict[int, float] = {}

    def add(rep: int, share: float) -> None:
        shares[rep] = shares.get(rep, 0.0) + share

    if closer != first_owner:
        parts = [(closer, params.relay.closer_share), (first_owner, 1 - params.relay.closer_share)]
    else:
        parts = [(closer, 1.0)]
    for rep, share in parts:
        if rep == assignment.owner and assignment.support >= 0:
            cut = share * params.strike_teams.support_credit_share
            add(assignment.support, cut)
            share -= cut
        if rep == assignment.owner and assignment.mentor_pool and team.mentor[rep] >= 0:
            cut = share * params.mentor_pool.mentor_credit_share
            add(int(team.mentor[rep]), cut)
            share -= cut
        add(rep, share)
    return {rep: s for rep, s in shares.items() if s > 0}

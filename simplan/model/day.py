"""Day-level rules both engines call: what a day asks of reps, lever costs, and routing a
day's new leads at once (the fast engine's form of `Router.assign`)."""

from __future__ import annotations

import numba
import numpy as np

from simplan.errors import SimplanError
from simplan.model.behaviour import DayContext
from simplan.model.calendar import PHASES, Calendar, LeversParams
from simplan.model.routing import Router

BURST = PHASES.index("burst")


def day_context(levers: LeversParams, calendar: Calendar, day: int) -> DayContext:
    """The day's effort multiplier: the phase's, lifted by the leaderboard in the burst."""
    board = levers.leaderboard
    lift = board.effort_multiplier if board.enabled and calendar.phase[day] == BURST else 1.0
    return DayContext(day=day, effort_multiplier=float(calendar.effort_multiplier[day]) * lift)


def leaderboard_cost(levers: LeversParams, calendar: Calendar) -> float:
    """The leaderboard's prizes: one per working burst day inside the window."""
    if not levers.leaderboard.enabled:
        return 0.0
    window = np.arange(calendar.days) >= calendar.first_day
    burst_days = int(((calendar.phase == BURST) & calendar.is_working & window).sum())
    return levers.leaderboard.prize_per_day * burst_days


@numba.njit(cache=True)
def fill_least_loaded(
    open_leads: np.ndarray, capacity: np.ndarray, pool: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Owners of new leads given one by one to the least-loaded rep of `pool`, for each row
    of `open_leads` (replications x reps) its `k[row]` leads; owners row after row.

    Each lead goes to the pool's rep with the smallest next load (open + given) / capacity;
    ties go to the lower rep index (the reference's `least_loaded` rotates ties instead:
    they need equal capacities). The pool's loads are kept in a binary heap ordered by
    (load, place in the pool), so a lead costs the heap's depth, not the pool's size.
    """
    owners = np.empty(k.sum(), dtype=np.int64)
    m = len(pool)
    load, slot = np.empty(m), np.empty(m, dtype=np.int64)  # the heap: loads, pool places
    given = np.zeros(m)
    rep_capacity = np.empty(m)
    for j in range(m):
        rep_capacity[j] = capacity[pool[j]]
    out = 0
    for row in range(open_leads.shape[0]):
        if k[row] == 0:
            continue
        for j in range(m):
            given[j] = 0.0
            load[j], slot[j] = open_leads[row, pool[j]] / rep_capacity[j], j
        for top in range(m // 2 - 1, -1, -1):
            _sift_down(load, slot, top)
        for _ in range(k[row]):
            j = slot[0]
            owners[out] = pool[j]
            out += 1
            given[j] += 1.0
            load[0] = (open_leads[row, pool[j]] + given[j]) / rep_capacity[j]
            _sift_down(load, slot, 0)
    return owners


@numba.njit(cache=True)
def _sift_down(load: np.ndarray, slot: np.ndarray, at: int) -> None:
    """Restore the heap order (smaller load first, then lower pool place) below `at`."""
    m = len(load)
    while True:
        child = 2 * at + 1
        if child >= m:
            return
        right = child + 1
        if right < m:  # the smaller child, chosen without a branch
            child += (load[right] < load[child]) | (
                (load[right] == load[child]) & (slot[right] < slot[child])
            )
        if load[child] < load[at] or (load[child] == load[at] and slot[child] < slot[at]):
            load[at], load[child] = load[child], load[at]
            slot[at], slot[child] = slot[child], slot[at]
            at = child
        else:
            return


UNSUPPORTED = {
    "strike_teams": "routing.strike_teams",
    "squad_first_pick": "routing.squad_first_pick",
}


def check_day_routing(router: Router) -> None:
    """Refuse routing the day-at-a-time form does not model, naming the key and the fix."""
    p = router.params
    if p.policy not in ("least_loaded", "share", "round_robin"):
        raise SimplanError(
            f"routing.policy '{p.policy}': the fast engine routes least_loaded, share and "
            "round_robin only; use `engine: events` (or --engine events) for this scenario"
        )
    for key, name in UNSUPPORTED.items():
        if getattr(p, key).enabled:
            raise SimplanError(
                f"{name}: not modelled by the fast engine; use `engine: events` "
                "(or --engine events), or disable it"
            )
    if p.response_red_line_hours is not None:
        raise SimplanError(
            "routing.response_red_line_hours: not modelled by the fast engine; use "
            "`engine: events` (or --engine events), or remove it"
        )


POLICY_CODES = {"least_loaded": 0, "share": 1, "round_robin": 2}
"""The base policies `route_day` applies, as its compiled loop names them."""


def route_day(
    router: Router,
    open_leads: np.ndarray,
    u: np.ndarray,
    replication: np.ndarray,
    day: float,
    turn: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Owners (within their replication) of one day's routed leads, and their mentor-pool
    flags, for a batch of replications of the router's team at once.

    `open_leads` is each replication's open leads per rep (replications x reps), `u` the
    leads' own uniforms, grouped by `replication` in order and each in arrival order, and
    `turn` each replication's round-robin position (advanced in place). The same rules as
    `Router.assign` (mentor pool first, with the lead's uniform stretched back for the base
    policy), applied to the day's leads at once: loads do not see the closes between two
    arrivals of the same day. One compiled call (`route_leads`): a day's numpy steps cost
    more than the leads' rules.
    """
    p, team = router.params, router.team
    mentor = p.mentor_pool.enabled
    hires = np.flatnonzero((team.tenure(day) == 0) & (team.mentor >= 0)) if mentor else NO_REPS
    cumulative = router.policy.cumulative if p.policy == "share" else NO_SHARES
    return route_leads(
        POLICY_CODES[p.policy], mentor, p.mentor_pool.share_of_leads, hires, cumulative,
        open_leads, team.capacity, u, replication, turn,
    )  # fmt: skip


NO_REPS, NO_SHARES = np.zeros(0, dtype=np.int64), np.zeros(0)


@numba.njit(cache=True)
def route_leads(policy, mentor, pool, hires, cumulative, open_leads, capacity, u, replication,
                turn):  # fmt: skip
    """`route_day`'s rules over the day's leads: with the mentor pool on, a lead whose `u` is
    below its share `pool` goes to the least-loaded new hire of `hires` (its `u` stretched back
    to a uniform when there are none), the rest by the base `policy` (POLICY_CODES): least
    loaded (seeing the pool's leads), by `cumulative` shares at the stretched `u`, or in turn."""
    k, batch, size = len(u), open_leads.shape[0], open_leads.shape[1]
    owners = np.full(k, -1, dtype=np.int64)
    mentored = np.zeros(k, dtype=np.bool_)
    stretched = u.copy()
    if mentor and k:
        if len(hires):
            per = np.zeros(batch, dtype=np.int64)
            for i in range(k):
                if u[i] < pool:
                    mentored[i] = True
                    per[replication[i]] += 1
            placed = fill_least_loaded(open_leads, capacity, hires, per)
            j = 0
            for i in range(k):
                if mentored[i]:
                    owners[i] = placed[j]
                    j += 1
        for i in range(k):
            if u[i] >= pool:
                stretched[i] = (u[i] - pool) / (1 - pool)
            elif not len(hires):
                stretched[i] = u[i] / pool
    per = np.zeros(batch, dtype=np.int64)
    for i in range(k):
        if owners[i] < 0:
            per[replication[i]] += 1
    if policy == 1:  # share
        last = len(cumulative) - 1
        for i in range(k):
            if owners[i] < 0:
                owners[i] = min(np.searchsorted(cumulative, stretched[i], side="right"), last)
    elif policy == 2:  # round robin: each replication's leads in turn from its position
        place = np.zeros(batch, dtype=np.int64)
        for i in range(k):
            if owners[i] < 0:
                row = replication[i]
                owners[i] = (turn[row] + place[row]) % size
                place[row] += 1
        for row in range(batch):
            turn[row] = (turn[row] + per[row]) % size
    else:  # least loaded, the mentor pool's leads counted
        loads = open_leads.copy()
        for i in range(k):
            if mentored[i]:
                loads[replication[i], owners[i]] += 1.0
        placed = fill_least_loaded(loads, capacity, np.arange(size), per)
        j = 0
        for i in range(k):
            if owners[i] < 0:
                owners[i] = placed[j]
                j += 1
    return owners, mentored

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
    out = 0
    for row in range(open_leads.shape[0]):
        if k[row] == 0:
            continue
        for j in range(m):
            given[j] = 0.0
            load[j], slot[j] = open_leads[row, pool[j]] / capacity[pool[j]], j
        for top in range(m // 2 - 1, -1, -1):
            _sift_down(load, slot, top)
        for _ in range(k[row]):
            j = slot[0]
            owners[out] = pool[j]
            out += 1
            given[j] += 1.0
            load[0] = (open_leads[row, pool[j]] + given[j]) / capacity[pool[j]]
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
        if child + 1 < m and (
            load[child + 1] < load[child]
            or (load[child + 1] == load[child] and slot[child + 1] < slot[child])
        ):
            child += 1
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
    arrivals of the same day.
    """
    p, team = router.params, router.team
    k, batch = len(u), open_leads.shape[0]
    owners = np.full(k, -1, dtype=np.int64)
    mentored = np.zeros(k, dtype=bool)
    u = u.copy()
    if p.mentor_pool.enabled and k:
        pool = p.mentor_pool.share_of_leads
        hires = np.flatnonzero((team.tenure(day) == 0) & (team.mentor >= 0))
        low = u < pool
        if len(hires):
            mentored = low
            per = np.bincount(replication[low], minlength=batch)
            owners[low] = fill_least_loaded(open_leads, team.capacity, hires, per)
        else:
            u[low] = u[low] / pool
        u[~low] = (u[~low] - pool) / (1 - pool)
    rest = owners < 0
    per = np.bincount(replication[rest], minlength=batch)
    policy = router.policy
    if p.policy == "share":
        owners[rest] = np.minimum(
            np.searchsorted(policy.cumulative, u[rest], side="right"), len(policy.cumulative) - 1
        )
    elif p.policy == "round_robin":
        rows = replication[rest]
        place = np.arange(len(rows)) - (np.cumsum(per) - per)[rows]
        owners[rest] = (turn[rows] + place) % team.size
        turn[:] = (turn + per) % team.size
    else:
        loads = open_leads.copy()
        np.add.at(loads, (replication[mentored], owners[mentored]), 1.0)
        owners[rest] = fill_least_loaded(loads, team.capacity, np.arange(team.size), per)
    return owners, mentored

"""Day-level rules both engines call: what a day asks of reps, lever costs, and routing a
day's new leads at once (the fast engine's form of `Router.assign`)."""

from __future__ import annotations

import numpy as np

from simplan.errors import SimplanError
from simplan.model.behaviour import DayContext
from simplan.model.calendar import PHASES, Calendar, LeversParams
from simplan.model.routing import Router, RoutingState

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


def fill_least_loaded(state: RoutingState, pool: np.ndarray, k: int) -> np.ndarray:
    """Owners of k new leads given one by one to the least-loaded rep of `pool`.

    Greedy one-at-a-time assignment equals taking the k smallest of each rep's next loads
    (open + j) / capacity, smallest first; ties go to the lower rep index (the reference's
    `least_loaded` rotates ties instead: they need equal capacities). The k smallest are
    found by partition (ties at the k-th value taken in slot order), then sorted.
    """
    if k == 0 or len(pool) == 0:
        return np.zeros(0, dtype=np.int64)
    slots = (state.open_leads[pool][:, None] + np.arange(k)[None, :]) / state.capacity[pool][
        :, None
    ]
    flat = slots.ravel()
    kth = np.partition(flat, k - 1)[k - 1]
    below = np.flatnonzero(flat < kth)
    chosen = np.concatenate([below, np.flatnonzero(flat == kth)[: k - len(below)]])
    order = chosen[np.lexsort((chosen, flat[chosen]))]
    return pool[order // k]


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
    router: Router, state: RoutingState, u: np.ndarray, day: float
) -> tuple[np.ndarray, np.ndarray]:
    """Owners of one day's routed leads (in arrival order) and their mentor-pool flags.

    The same rules as `Router.assign` (mentor pool first, with the lead's uniform stretched
    back for the base policy), applied to the day's leads at once: loads do not see the
    closes between two arrivals of the same day. Returns (owners, mentor_pool flags).
    """
    p = router.params
    k = len(u)
    owners = np.full(k, -1, dtype=np.int64)
    mentored = np.zeros(k, dtype=bool)
    u = u.copy()
    if p.mentor_pool.enabled and k:
        pool = p.mentor_pool.share_of_leads
        team = router.team
        hires = np.flatnonzero((team.tenure(day) == 0) & (team.mentor >= 0))
        low = u < pool
        if len(hires):
            mentored = low
            owners[low] = fill_least_loaded(state, hires, int(low.sum()))
        else:
            u[low] = u[low] / pool
        u[~low] = (u[~low] - pool) / (1 - pool)
    rest = owners < 0
    policy = router.policy
    if p.policy == "share":
        owners[rest] = np.minimum(
            np.searchsorted(policy.cumulative, u[rest], side="right"), len(policy.cumulative) - 1
        )
    elif p.policy == "round_robin":
        m = int(rest.sum())
        owners[rest] = (policy.next + np.arange(m)) % policy.n
        policy.next = (policy.next + m) % policy.n
    else:
        loads = state.open_leads.copy()
        np.add.at(loads, owners[mentored], 1.0)
        shifted = RoutingState(loads, state.capacity)
        owners[rest] = fill_least_loaded(shifted, np.arange(router.team.size), int(rest.sum()))
    return owners, mentored

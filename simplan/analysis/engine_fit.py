"""Turning fitted history figures into the engine's terms: how much of a cycle the engine
adds itself (waiting for working hours between touches), customer-side delays that give the
fitted cycle, where lost deals drop out, and each rep's share of the team's leads.
"""

from __future__ import annotations

import numpy as np

from simplan.model.distributions import Empirical, Gamma, LogNormal

SHORT_STAGE_DAYS = 0.25
"""Contact and proposal delays when the history has no stage dates: the whole customer-side
cycle sits on the negotiation stage (short enough that no proposal time-out fires)."""
TOUCHES_PER_WON_DEAL = 4
"""Touches a won deal takes in the engine: first contact, proposal, negotiation, close."""


def next_working(
    t: np.ndarray, working: np.ndarray, start: float, length: float, duration: float
) -> np.ndarray:
    """The first time at or after `t` (days; day 0 a Monday) a touch of `duration` days can
    start within working hours [start, start + length) of a working weekday."""
    t = np.asarray(t, float).copy()
    out = np.full_like(t, np.nan)
    pending = np.ones(len(t), dtype=bool)
    for _ in range(15):
        day = np.floor(t)
        frac = t - day
        works = working[(day.astype(np.int64)) % 7]
        early = pending & works & (frac < start)
        now = pending & works & (frac >= start) & (frac + duration <= start + length + 1e-9)
        out[early] = day[early] + start
        out[now] = t[now]
        pending &= ~(early | now)
        t = np.where(pending, day + 1, t)
        if not pending.any():
            break
    return out


def engine_overhead_days(
    working_weekdays: list[int],
    start_hour: float,
    hours: float,
    capacity: float,
    samples: int = 20_000,
    seed: int = 0,
) -> float:
    """Mean days the engine adds to a won deal's customer-side delays: the waits for working
    hours before each of its touches, the touches themselves and the two short stages.
    Queues are left out (calibrated capacity keeps them short)."""
    rng = np.random.default_rng(seed)
    working = np.zeros(7, dtype=bool)
    working[working_weekdays] = True
    start, length = start_hour / 24, hours / 24
    duration = length / max(capacity, 1e-9)
    days = rng.choice(np.flatnonzero(working), samples) + 7 * rng.integers(0, 4, samples)
    arrival = days + rng.random(samples)  # leads arrive on working days
    t = next_working(arrival, working, start, length, duration) + duration  # first contact
    for delay in (SHORT_STAGE_DAYS, SHORT_STAGE_DAYS):  # proposal, negotiation touches
        t = next_working(t + delay, working, start, length, duration) + duration
    # The negotiation delay ends at an instant spread over the week; then the closing touch.
    end = 7 + 7 * rng.random(samples)
    close = next_working(end, working, start, length, duration) + duration
    return float((t - arrival).mean() + (close - end).mean())


def negotiation_delay(family: str, mean: float, cv: float, overhead: float) -> LogNormal | Gamma:
    """The customer's negotiation delay that, with the engine's overhead, gives a won cycle
    of `mean` days: the same family and spread, its mean lowered by the overhead."""
    delay_mean = max(mean - overhead, 0.5)
    delay_cv = cv * mean / delay_mean
    cls = Gamma if family == "gamma" else LogNormal
    return cls(mean=round(delay_mean, 3), cv=round(delay_cv, 4))


def empirical_delay(values: list[float], weights: list[float], overhead: float) -> Empirical:
    """The observed won cycles, shifted down by the engine's overhead (at least 0)."""
    shifted = [round(max(v - overhead, 0.0), 3) for v in values]
    return Empirical(values=shifted, weights=weights)


def loss_stage_shares(lost_mean: float, won_mean: float, quick_days: float) -> dict[str, float]:
    """Shares of lost deals dropping out at contact, proposal and negotiation so the mean lost
    cycle matches: those lost early close within about `quick_days`, the rest after a full
    cycle; contact and proposal split the early share 5:3 (the playbook default's ratio)."""
    if won_mean <= quick_days:
        late = 1.0
    else:
        late = float(np.clip((lost_mean - quick_days) / (won_mean - quick_days), 0.0, 1.0))
    early = 1.0 - late
    contact = round(early * 5 / 8, 4)
    proposal = round(early - contact, 4)
    return {
        "contact": contact,
        "proposal": proposal,
        "negotiation": round(1 - contact - proposal, 4),
    }

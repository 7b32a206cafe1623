"""The production function: how a rep's effort turns into volume.

A plan can move bookings only through this link, so it is part of every scenario, generated
or calibrated. Three channels, each a rule both engines call:

- **Self-sourced pipeline.** Of each tier's leads at effort 1 (`arrivals_per_day`), the share
  `self_sourced_share` is found by the reps themselves (outbound, referrals from their own
  accounts, upsell); the rest is routed to them. Rep r sources
  `self_sourced_share x arrivals x weight_r x effort_r ** sourcing_elasticity` leads a day,
  where `weight_r` is the rep's share of the team's flow (its `lead_share` under the `share`
  routing policy, else its share of the team's touch capacity). A tier may set its own
  `self_sourced_share` (inbound-heavy A leads, outbound B leads). At effort 1 the team's total
  volume is exactly the tiers' arrivals; more effort books more, less books less.
- **Touch speed.** A touch takes `workday / (capacity x effort)`, so effort shortens queues and
  first responses where capacity binds (and response decay turns that into wins).
- **Closing effort.** Whether a deal in negotiation signs is decided when the negotiation
  ends, by the owner's effort that day: its win chance p becomes `p x closing_lift(effort)`,
  `1 + closing_elasticity x (effort - 1)` (0 by default: off). Linear in effort, so that where
  effort averages 1 (the history's effort, as calibration normalises it) so does the lift and
  the history's win rates are kept; its elasticity at effort 1 is `closing_elasticity`. Below
  effort 1 some winners slip away at the last stage; above it some late losses are saved, at
  most all of them (the band just above p, as the close-out offer saves). This is the lever a
  rep still has in a period's last weeks, when a deal sourced now would close too late.

The defaults (a third of pipeline self-sourced, elasticity 1) are planning assumptions in the
range reported for B2B teams; `simplan calibrate` fits the share from history when the plan in
force lets it, and states the prior it used when not.
"""

from __future__ import annotations

import numba
import numpy as np
from pydantic import Field

from simplan.model.params import Params


class ProductionParams(Params):
    """How effort creates volume: self-sourced leads and closing effort."""

    self_sourced_share: float = Field(default=1 / 3, ge=0, lt=1)
    sourcing_elasticity: float = Field(default=1.0, ge=0, le=3)
    closing_elasticity: float = Field(default=0.0, ge=0, le=1)


def sourcing_weights(capacity: np.ndarray, lead_share: np.ndarray | None) -> np.ndarray:
    """Each rep's share of the team's lead flow (sums to 1): `lead_share` when routing by
    share, else the rep's share of the team's touch capacity."""
    weights = np.asarray(capacity if lead_share is None else lead_share, dtype=float)
    return weights / weights.sum()


def effort_lift(effort: np.ndarray, elasticity: float) -> np.ndarray:
    """The multiplier effort puts on self-sourced volume: effort ** elasticity."""
    return np.power(np.maximum(effort, 0.0), elasticity)


def tier_shares(overrides: list[float | None], params: ProductionParams) -> np.ndarray:
    """Each tier's self-sourced share: its own where it sets one, else the scenario's."""
    return np.array([params.self_sourced_share if v is None else v for v in overrides])


def self_sourced_rate(
    arrivals_per_day: np.ndarray,
    weights: np.ndarray,
    effort: np.ndarray,
    shares: np.ndarray,
    elasticity: float,
) -> np.ndarray:
    """Self-sourced leads per rep and tier on one day, shape (reps, tiers).

    `arrivals_per_day` is each tier's team rate on that day at effort 1 and `shares` each
    tier's self-sourced share (both shape (tiers,)).
    """
    return np.outer(weights * effort_lift(effort, elasticity), shares * arrivals_per_day)


@numba.njit(cache=True)
def lift_at_close(effort: float, elasticity: float) -> float:
    """The multiplier the owner's effort puts on a deal's win chance at its close:
    1 + elasticity x (effort - 1), never below 0 (the compiled rule, one deal)."""
    lift = 1.0 + elasticity * (effort - 1.0)
    return 0.0 if lift < 0.0 else lift


@numba.vectorize(["float64(float64, float64)"], cache=True)
def closing_lift(effort: float, elasticity: float) -> float:
    """`lift_at_close` for floats or arrays (the program's efforts)."""
    return lift_at_close(effort, elasticity)


@numba.njit(cache=True)
def closing_chance(p: float, effort: float, elasticity: float, negotiation_share: float) -> float:
    """A deal's win chance when its negotiation ends, from its chance p so far and the owner's
    effort that day: p x closing_lift(effort), at most p + (1 - p) x negotiation_share (only the
    late losses, the band just above p, can be saved). One deal, in plain floats: the event
    engine calls it, and the fast engine's compiled answers."""
    if elasticity == 0:
        return p
    return min(p * lift_at_close(effort, elasticity), p + (1 - p) * negotiation_share)


def sourced_counts(u: np.ndarray, rates: np.ndarray) -> np.ndarray:
    """Self-sourced leads per rep and tier: the Poisson(rate) count at uniform `u`, by
    inversion, so more effort finds the same leads plus more (common random numbers)."""
    counts = np.zeros(rates.shape, dtype=np.int64)
    rates = np.ascontiguousarray(rates, dtype=float)
    pmf = np.exp(-rates)  # numpy's exp, as the counts have always been drawn with
    poisson_inverse(np.ascontiguousarray(u, dtype=float).ravel(), rates.ravel(), pmf.ravel(),
                    counts.ravel())  # fmt: skip
    return counts


@numba.njit(cache=True)
def poisson_inverse(u: np.ndarray, rates: np.ndarray, pmf: np.ndarray, counts: np.ndarray):
    """The Poisson(rates[k]) count at uniform u[k] into counts[k] (in place), given the
    probability of none, pmf[k]: the smallest count whose distribution function reaches u,
    added up term by term (pmf x rate / count)."""
    for k in range(len(u)):
        p = cdf = pmf[k]
        c = 0
        while u[k] > cdf:
            c += 1
            p = p * rates[k] / c
            cdf = cdf + p
        counts[k] = c

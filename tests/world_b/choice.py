"""How a rep of world B chooses its effort each week: a myopic-but-forward rule.

Each Monday the rep picks the effort that maximises this week's expected pay gain minus
its cost, assuming habitual effort (1) in every later week of the quarter (it does not plan
its own future responses, unlike a dynamic program). It projects the quarter-end bookings
as normal: booked so far, plus its open deals expected to close in the quarter, plus the
new leads expected before the end; the variance is that of the deals' outcomes. This
week's effort shifts the mean through the four channels of `team` (wins of every open
deal, discount and speed of the deals it decides this week, self-sourced leads), and what
it moves into next quarter is valued at `NEXT_QUARTER` x the plan's rate at 90 %
attainment. The plan's expected payout under the normal is taken by Gauss-Hermite
quadrature, so a bonus line pulls effort near it and a gate out of reach or a cap pushes it
down. Reps are risk-neutral.
"""

from __future__ import annotations

import numpy as np

from tests.world_b import team as production
from tests.world_b.deals import Deals
from tests.world_b.plans import Plan
from tests.world_b.team import Reps, effort_cost

EFFORTS = np.round(np.arange(0.3, 2.51, 0.1), 10)
"""The effort levels a rep chooses among each week."""
NEXT_QUARTER = 0.85
"""What a unit of next quarter's bookings is worth now, per unit of the plan's rate."""
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(24)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()


def choose_effort(
    reps: Reps, plan: Plan, quota: np.ndarray, booked: np.ndarray, deals: Deals, weeks_left: int
) -> np.ndarray:
    """Each rep's effort this week in every world, shape (worlds, reps) like `booked`.

    `deals` is the open pipeline at the week's start, `weeks_left` counts this week."""
    worlds, size = booked.shape
    cell, count = deals.world * size + deals.rep, worlds * size

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(cell, values, count).reshape(worlds, size)

    signed = deals.list_amount
    kept = 1.0 - reps.discount[deals.rep]
    mean_effort = deals.effort_sum / np.maximum(deals.weeks, 1)
    chance = reps.win_chance(deals.grade, deals.rep, mean_effort)
    value = signed * kept * chance  # expected value of deciding at habitual effort
    decided = production.GRADE_DECIDED[deals.grade]
    lands = 1.0 - (1.0 - decided) ** weeks_left
    later = (1.0 - decided) ** (weeks_left - 1)  # not decided in the weeks after this one
    open_mean = total(value * lands)
    open_var = total((signed * kept) ** 2 * chance * lands * (1.0 - chance * lands))
    this_week = total(value * decided)
    pulled = total(value * decided * later)
    # this week's touches raise the mean effort of every open deal by (e - 1) / its life
    life = deals.weeks + 1.0 / decided
    touched_in = total(value * lands * production.WIN_LIFT / life)
    touched_out = total(value * (1.0 - lands) * production.WIN_LIFT / life)
    new_mean, new_square, new_decided = _new_deal_moments(reps)
    flow = reps.inbound_per_week + reps.self_per_week
    weeks_after = np.arange(weeks_left)
    landing_new = (1.0 - (1.0 - new_decided[:, None]) ** weeks_after[None, :]).sum(axis=1)
    mean = booked + open_mean + flow * new_mean * landing_new
    sd = np.sqrt(open_var + flow * new_square * landing_new)
    e = EFFORTS[None, :]  # per-rep arrays below are (reps, efforts), sums (worlds, reps, 1)
    self_gain = reps.self_per_week[:, None] * (e**production.SOURCING - 1.0)
    self_lands = 1.0 - (1.0 - new_decided) ** (weeks_left - 1)
    kept_ratio = reps.kept(np.arange(size)[:, None], e) / (1.0 - reps.discount)[:, None]
    speed = e**production.SPEED
    gain = (
        touched_in[:, :, None] * (e - 1.0)
        + this_week[:, :, None] * speed * (kept_ratio - 1.0)
        + pulled[:, :, None] * (speed - 1.0)
        + (self_gain * (new_mean * self_lands)[:, None])
    )
    spill = touched_out[:, :, None] * (e - 1.0) + self_gain * (new_mean * (1 - self_lands))[:, None]
    expected_pay = _expected_pay(plan, mean[:, :, None] + gain, sd[:, :, None], quota)
    rate = NEXT_QUARTER * plan.rate_at(0.9)
    utility = expected_pay + rate * spill - effort_cost(reps.cost[:, None], e)
    return EFFORTS[np.argmax(utility, axis=2)]


def _new_deal_moments(reps: Reps) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per rep, over its mix of new leads at effort 1: the expected signed value a lead
    brings, its second moment, and the mean weekly chance of being decided."""
    size = reps.size
    flow = reps.inbound_per_week + reps.self_per_week
    mean = square = decided = np.zeros(size)
    for grade in range(len(production.GRADES)):
        share = (reps.inbound_per_week * production.INBOUND_MIX[grade]
                 + reps.self_per_week * production.SELF_MIX[grade]) / flow  # fmt: skip
        chance = reps.win_chance(np.full(size, grade), np.arange(size), np.ones(size))
        amount = production.GRADE_LIST_MEAN[grade] * reps.size_multiplier * (1 - reps.discount)
        mean = mean + share * chance * amount
        square = square + share * chance * amount**2 * np.exp(production.LIST_SIGMA**2)
        decided = decided + share * production.GRADE_DECIDED[grade]
    return mean, square, decided


def _expected_pay(plan: Plan, mean: np.ndarray, sd: np.ndarray, quota: np.ndarray) -> np.ndarray:
    """E[plan.pay(B)] for B normal(mean, sd) truncated at 0, by quadrature; shape of `mean`."""
    bookings = np.maximum(mean[..., None] + sd[..., None] * _NODES, 0.0)
    return plan.pay(bookings, quota[:, None, None]) @ _WEIGHTS

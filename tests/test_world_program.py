"""simplan's reps' dynamic program on the ground-truth world's own reps, against the world's.

Both programs get the same inputs (each world rep's true deal rate, self-sourced share and
elasticity, deal sizes, cycle, quota, effort cost and effort levels, weekly steps of 2026Q1)
and each plan's pay; their policies then go through the same forward pass (simplan's), so a
difference is a difference in how the reps plan, not in the world they plan for. The two are
written independently and approximate differently (the world's reps credit a week's new deals
at once and also lift the win chance of closing deals, simplan's spread the base flow over the
period), so the bands below are those approximations' size, measured, not sampling error: the
numbers are deterministic.

This is what lets a miss of the calibrated prediction be looked for in calibration: on the
world's true numbers the program responds to a plan change as the world's reps do.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simplan.model.effort_policy import (
    GRID_STEP,
    EffortPolicy,
    PeriodProgram,
    RepOutlook,
    grid_cells,
    size_pmf_on_grid,
)
from tests.worlds import calendar
from tests.worlds.effort import ATTAINMENT_STEP, EFFORT_GRID
from tests.worlds.plans import PLANS
from tests.worlds.reps import COST_POWER, ELASTICITY
from tests.worlds.sales_world import make_world

QUANTILES = 2000  # deal sizes tabulated at this many lognormal quantiles
DISCOUNT = 0.9  # both programs discount next quarter by 0.9


@pytest.fixture(scope="module")
def efforts():
    """Each rep's mean effort over 2026Q1 under each plan: simplan's policy and the world's,
    both carried forward by simplan's program from nothing booked."""
    world = make_world("current", 0)
    reps, quota = world.reps, world.quota(calendar.NEXT)
    steps = calendar.quarter_steps(calendar.NEXT)
    days = float(steps.sum())
    u = (np.arange(QUANTILES) + 0.5) / QUANTILES
    sizes = np.exp(reps.size_mu[:, None] + reps.size_sigma[:, None] * stats.norm.ppf(u)[None, :])
    middle = (np.arange(len(steps)) + 0.5) * 7.0
    landing = reps.cycle_cdf(np.maximum(days - middle[None, :], 0.0) * np.ones((reps.size, 1)))
    flow = reps.inbound_per_day + reps.self_per_day
    grid = np.arange(grid_cells()) * GRID_STEP
    out = {}
    for name in ("current", "proposal"):
        plan = PLANS[name]
        first_rate = np.full(reps.size, plan.tiers[0][1])
        outlook = RepOutlook(
            target=quota,
            deals_per_day=flow * reps.win,
            size_pmf=size_pmf_on_grid(sizes, np.full(sizes.shape, 1 / QUANTILES), quota),
            self_sourced_share=reps.self_per_day / flow,
            elasticity=ELASTICITY,
            landing=landing,
            next_rate=first_rate,
        )
        program = PeriodProgram(outlook, days, 7.0, EFFORT_GRID, COST_POWER)
        pay = plan.payout(grid[None, :] * quota[:, None], quota[:, None])
        ours = program.stationary(pay, reps.cost_per_day, DISCOUNT, first_rate)
        theirs = world.policy(name, calendar.NEXT)
        cell = np.clip(np.rint(grid / ATTAINMENT_STEP).astype(int), 0, theirs.effort.shape[2] - 1)
        choice = np.rint(theirs.effort[:, :, cell] / 0.1).astype(np.int16)  # levels 0.0 .. 3.0
        mapped = EffortPolicy(effort=EFFORT_GRID[choice].astype(np.float32), choice=choice,
                              value=ours.value, step_days=7.0)  # fmt: skip
        out[name] = (program.mean_effort(ours), program.mean_effort(mapped))
    return out


def test_the_programs_choose_the_same_level_of_effort(efforts):
    for name, (ours, theirs) in efforts.items():
        assert ours.mean() == pytest.approx(theirs.mean(), rel=0.06), name


def test_the_programs_respond_alike_to_the_plan_change(efforts):
    """The proposal (a gate at 50 %, 4 % to quota, 10 % above, no credit beyond 200 %) against
    5 % plus a bonus at quota: the team's and the median rep's effort ratio agree, and so do
    the reps who work harder under the accelerator (the 90 % quantile)."""
    ours = efforts["proposal"][0] / efforts["current"][0]
    theirs = efforts["proposal"][1] / efforts["current"][1]
    assert ours.mean() < 0.95  # both cut effort
    assert theirs.mean() < 0.95
    assert ours.mean() == pytest.approx(theirs.mean(), abs=0.03)
    assert np.median(ours) == pytest.approx(np.median(theirs), abs=0.03)
    assert np.quantile(ours, 0.9) == pytest.approx(np.quantile(theirs, 0.9), abs=0.06)

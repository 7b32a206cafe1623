"""How each rep of the world chooses effort: its own finite-horizon dynamic program per
quarter, solved for all reps at once by backward induction on an attainment grid.

State: attainment so far (bookings / the rep's own quota) and the step of the quarter
(steps are weeks). Control: effort on `EFFORT_GRID`. Reward: the quarter-end payout of
the plan in force, minus the effort cost `cost_per_day * days * effort**2 / 2` each step,
plus what this step's effort books next quarter at `continuation` per unit (the slope of
next quarter's value at zero attainment, discounted by `NEXT_QUARTER_DISCOUNT`).

The rep's booking model is an approximation (the world's deals follow the real lags):
the deals it creates this step are credited to this quarter at once, in the share
expected to close before the quarter ends; the pipeline it started the quarter with
closes at the pace of habitual effort (1), won at a rate its current effort lifts
(follow-up quality). The step's attainment gain is compound Poisson (wins x lognormal deal sizes),
computed exactly on the grid by FFT. Reps are risk-neutral.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from tests.worlds.plans import WorldPlan
from tests.worlds.reps import COST_POWER, ELASTICITY, Reps, quality

ATTAINMENT_STEP = 0.02
ATTAINMENT_MAX = 3.0
ATTAINMENT_GRID = np.arange(round(ATTAINMENT_MAX / ATTAINMENT_STEP) + 1) * ATTAINMENT_STEP
EFFORT_GRID = np.round(np.arange(31) * 0.1, 10)
"""Effort levels a rep can choose each week (1 = its habitual effort)."""
NEXT_QUARTER_DISCOUNT = 0.9
_FFT_CELLS = 512  # cells of the FFT: attainment up to 10, far beyond any quarter
_DEAL_CELLS = 400  # one deal's size up to 8 x quota


@dataclass(frozen=True)
class Policy:
    """Effort by rep, step and attainment; `value` is the expected reward at the start."""

    effort: np.ndarray  # (reps, steps, grid cells)
    value: np.ndarray  # (reps, grid cells)

    def choose(self, step: int, attainment: np.ndarray) -> np.ndarray:
        """Effort for attainment of shape (..., reps) at `step`, at the nearest grid cell."""
        cell = np.clip(
            np.rint(attainment / ATTAINMENT_STEP).astype(int), 0, self.effort.shape[2] - 1
        )
        return self.effort[np.arange(self.effort.shape[0]), step, cell]


def solve_policy(
    reps: Reps,
    plan: WorldPlan,
    quota: np.ndarray,
    step_days: np.ndarray,
    continuation: np.ndarray,
    efforts: np.ndarray = EFFORT_GRID,
) -> Policy:
    """Backward induction over the quarter's steps (`step_days` long) for every rep.

    `efforts` are the levels to choose from; a single level gives the value of always
    working at it (the benchmark the optimum must beat).
    """
    grid, effort = ATTAINMENT_GRID, np.asarray(efforts, float)
    value = plan.payout(grid[None, :] * quota[:, None], quota[:, None])
    spectrum = np.fft.rfft(_deal_cells(reps, quota), _FFT_CELLS)
    starts = np.concatenate([[0.0], np.cumsum(step_days)[:-1]])
    quarter_days = float(np.sum(step_days))
    sourced = effort[None, :] ** ELASTICITY * reps.self_per_day[:, None]  # (reps, efforts)
    cost = reps.cost_per_day[:, None] * effort[None, :] ** COST_POWER / COST_POWER
    policy = np.empty((reps.size, len(step_days), len(grid)))
    for step in range(len(step_days) - 1, -1, -1):
        days, middle = step_days[step], starts[step] + step_days[step] / 2
        lands = reps.cycle_cdf(np.full(reps.size, quarter_days - middle))[:, None]
        steady = (reps.inbound_per_day + reps.self_per_day)[:, None]
        inherited = steady * days * (1.0 - reps.cycle_cdf(np.full(reps.size, middle)))[:, None]
        created = (reps.inbound_per_day[:, None] + sourced) * days * lands
        wins = reps.win[:, None] * (inherited * quality(effort)[None, :] + created)
        spill = continuation[:, None] * reps.win[:, None] * reps.deal_mean[:, None]
        reward = spill * sourced * days * (1.0 - lands) - cost * days
        expected = _expect(value, wins, spectrum) + reward[:, None, :]
        best = expected.argmax(axis=2)
        policy[:, step] = effort[best]
        value = np.take_along_axis(expected, best[:, :, None], axis=2)[:, :, 0]
    return Policy(effort=policy, value=value)


def continuation_value(
    reps: Reps, plan: WorldPlan, step_days: np.ndarray, rounds: int = 2
) -> np.ndarray:
    """What one unit booked early next quarter is worth to each rep now (per currency unit).

    A fixed point: start from the plan's first rate, solve the quarter, take the slope of
    the start value over the first 20 % of attainment, discount, repeat `rounds` times.
    """
    quota = reps.base_quota
    rate = np.full(reps.size, plan.tiers[0][1] * NEXT_QUARTER_DISCOUNT)
    cells = round(0.2 / ATTAINMENT_STEP)
    for _ in range(rounds):
        start = solve_policy(reps, plan, quota, step_days, rate).value
        slope = (start[:, cells] - start[:, 0]) / (cells * ATTAINMENT_STEP * quota)
        rate = NEXT_QUARTER_DISCOUNT * np.maximum(slope, 0.0)
    return rate


def _deal_cells(reps: Reps, quota: np.ndarray) -> np.ndarray:
    """P(one deal's size / quota falls in each grid cell), rounded to the nearest cell."""
    edges = (np.arange(_DEAL_CELLS + 1) - 0.5) * ATTAINMENT_STEP
    edges[0] = 1e-300
    logs = np.log(edges[None, :] * quota[:, None])
    cdf = special.ndtr((logs - reps.size_mu[:, None]) / reps.size_sigma[:, None])
    return np.diff(cdf, axis=1)


def _expect(value: np.ndarray, wins: np.ndarray, spectrum: np.ndarray) -> np.ndarray:
    """E[value(attainment + gain)] per rep, grid cell and effort: (reps, cells, efforts).

    The gain is a Poisson(`wins`) sum of deal sizes whose one-deal transform is `spectrum`;
    the expectation is a correlation of the value with the gain's pmf, done by FFT (the
    compound Poisson transform is exp(wins * (spectrum - 1)), so the pmf is never formed).
    Beyond the grid the value is continued linearly from its last two cells.
    """
    cells = value.shape[1]
    slope = value[:, -1:] - value[:, -2:-1]
    beyond = value[:, -1:] + slope * np.arange(1, _FFT_CELLS - cells + 1)[None, :]
    padded = np.fft.rfft(np.concatenate([value, beyond], axis=1), axis=1)
    gain = np.exp(wins[:, :, None] * (np.conj(spectrum)[:, None, :] - 1.0))
    expected = np.fft.irfft(padded[:, None, :] * gain, _FFT_CELLS, axis=2)[:, :, :cells]
    return expected.transpose(0, 2, 1)

"""The world moving forward: opportunities created by inbound flow and by effort, closing
after their own cycle, won or lost. Vectorised over independent worlds and reps.

Each weekly step, every rep looks at its attainment so far and takes the effort its policy
says; then the step's opportunities arrive (inbound at `inbound_per_day`, self-sourced at
`self_per_day * effort**ELASTICITY`, each on a uniform day of the step with its own
lognormal size and gamma cycle), and every open opportunity whose close day falls in the
step closes, won with probability `win * quality(effort)`. Effort now therefore books
weeks later: what is sourced in a quarter's last weeks mostly books next quarter.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from tests.worlds.effort import Policy
from tests.worlds.reps import CYCLE_SHAPE, ELASTICITY, Reps, quality


@dataclass(frozen=True)
class Pipeline:
    """Opportunities as flat arrays: world, rep, created and close day, amount (currency)."""

    world: np.ndarray
    rep: np.ndarray
    created: np.ndarray
    closes: np.ndarray
    amount: np.ndarray

    def __len__(self) -> int:
        return len(self.rep)

    def take(self, mask: np.ndarray) -> Pipeline:
        return Pipeline(*(getattr(self, f.name)[mask] for f in fields(self)))

    @staticmethod
    def concat(parts: list[Pipeline]) -> Pipeline:
        """The opportunities of all `parts`, in order."""
        return Pipeline(
            *(np.concatenate([getattr(part, f.name) for part in parts]) for f in fields(Pipeline))
        )

    def replicate(self, worlds: int) -> Pipeline:
        """This one world's pipeline copied into `worlds` worlds."""
        return Pipeline(
            np.repeat(np.arange(worlds), len(self)),
            *(np.tile(getattr(self, f.name), worlds) for f in fields(self)[1:]),
        )


def open_deals(
    reps: Reps, rng: np.random.Generator, worlds: np.ndarray, rep: np.ndarray, days: np.ndarray
) -> Pipeline:
    """New opportunities of `rep` in `worlds`, created on `days`, with size and cycle drawn."""
    cycle = rng.gamma(CYCLE_SHAPE, reps.cycle_mean_days[rep] / CYCLE_SHAPE)
    amount = rng.lognormal(reps.size_mu[rep], reps.size_sigma[rep])
    return Pipeline(worlds, rep, days, days + np.ceil(cycle).astype(int), np.round(amount, 2))


def steady_pipeline(reps: Reps, rng: np.random.Generator, days: int = 150) -> Pipeline:
    """The open pipeline at day 0 of one world after `days` of habitual effort (effort 1)."""
    counts = rng.poisson((reps.inbound_per_day + reps.self_per_day) * days)
    rep = np.repeat(np.arange(reps.size), counts)
    created = -rng.integers(1, days + 1, len(rep))
    deals = open_deals(reps, rng, np.zeros(len(rep), int), rep, created)
    return deals.take(deals.closes >= 0)


@dataclass(frozen=True)
class Quarter:
    """What happened in a quarter: bookings (worlds, reps), and per step the attainment
    each rep saw and the effort it chose (worlds, reps, steps); `closed` lists the deals
    that closed (with `won`) when recorded."""

    bookings: np.ndarray
    attainment: np.ndarray
    effort: np.ndarray
    pipeline: Pipeline
    closed: Pipeline | None
    won: np.ndarray | None


def run_quarter(
    reps: Reps,
    policy: Policy,
    quota: np.ndarray,
    first_day: int,
    step_days: np.ndarray,
    pipeline: Pipeline,
    worlds: int,
    rng: np.random.Generator,
    record: bool = False,
) -> Quarter:
    """Move `worlds` worlds through one quarter from `pipeline`; `record` keeps closed deals."""
    size = reps.size
    booked = np.zeros((worlds, size))
    attainment = np.zeros((worlds, size, len(step_days)))
    effort = np.zeros((worlds, size, len(step_days)))
    closed, won = [], []
    start = first_day
    for step, days in enumerate(step_days.astype(int)):
        attainment[:, :, step] = booked / quota
        chosen = policy.choose(step, attainment[:, :, step])
        effort[:, :, step] = chosen
        rate = reps.inbound_per_day + reps.self_per_day * chosen**ELASTICITY
        counts = rng.poisson(rate * days).ravel()
        cell = np.repeat(np.arange(worlds * size), counts)
        created = start + rng.integers(0, days, len(cell))
        new = open_deals(reps, rng, cell // size, cell % size, created)
        pipeline = Pipeline.concat([pipeline, new])
        closing = pipeline.closes < start + days
        deals = pipeline.take(closing)
        chance = reps.win[deals.rep] * quality(chosen[deals.world, deals.rep])
        wins = rng.random(len(deals)) < chance
        booked += np.bincount(
            deals.world * size + deals.rep, deals.amount * wins, worlds * size
        ).reshape(worlds, size)
        if record:
            closed.append(deals)
            won.append(wins)
        pipeline = pipeline.take(~closing)
        start += days
    return Quarter(
        bookings=booked,
        attainment=attainment,
        effort=effort,
        pipeline=pipeline,
        closed=Pipeline.concat(closed) if record else None,
        won=np.concatenate(won) if record else None,
    )

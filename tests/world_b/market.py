"""World B moving forward a quarter, week by week, in many independent worlds at once.

Each week: every rep chooses its effort (`choice`), the week's leads arrive (inbound by
grade, self-sourced at the rep's rate x e ** SOURCING) on working days, every open deal gets
the owner's touches (its effort sum grows by e), and each deal opened before this week is
decided with its grade's weekly chance x e ** SPEED: won with `Reps.win_chance` at the
deal's mean effort, signed at the list amount x `Reps.kept` at this week's effort, and
booked on a working day of the week. Decided deals leave the pipeline; the rest carry on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tests.world_b import team as production
from tests.world_b.calendar import WEEKS_PER_QUARTER, weekday
from tests.world_b.choice import choose_effort
from tests.world_b.deals import Deals
from tests.world_b.plans import Plan
from tests.world_b.team import Reps


@dataclass(frozen=True)
class Quarter:
    """A quarter's outcome: bookings (worlds, reps), effort (worlds, reps, weeks), the open
    pipeline at its end, and (when recorded) the decided deals with close day, won, amount."""

    bookings: np.ndarray
    effort: np.ndarray
    pipeline: Deals
    decided: Deals | None = None
    closed_on: np.ndarray | None = None
    won: np.ndarray | None = None
    amount: np.ndarray | None = None


def new_leads(reps: Reps, rng: np.random.Generator, worlds: int, week_start: int,
              effort: np.ndarray) -> Deals:  # fmt: skip
    """The week's new deals in every world; `effort` (worlds, reps) scales self-sourcing."""
    parts = []
    for source, rate, mix in ((0, np.broadcast_to(reps.inbound_per_week, effort.shape),
                               production.INBOUND_MIX),
                              (1, reps.self_per_week * effort**production.SOURCING,
                               production.SELF_MIX)):  # fmt: skip
        counts = rng.poisson(rate).ravel()
        cell = np.repeat(np.arange(counts.size), counts)
        rep = cell % reps.size
        grade = rng.choice(len(mix), len(cell), p=mix)
        amount = production.GRADE_LIST_MEAN[grade] * reps.size_multiplier[rep] * rng.lognormal(
            -production.LIST_SIGMA**2 / 2, production.LIST_SIGMA, len(cell))  # fmt: skip
        parts.append(Deals(world=cell // reps.size, rep=rep, grade=grade,
                           source=np.full(len(cell), source),
                           created=weekday(rng, week_start, len(cell)),
                           list_amount=np.round(amount, 2), effort_sum=np.zeros(len(cell)),
                           weeks=np.zeros(len(cell), int)))  # fmt: skip
    return parts[0].joined(parts[1])


def run_quarter(reps: Reps, plan: Plan, quota: np.ndarray, first_day: int, pipeline: Deals,
                worlds: int, rng: np.random.Generator, record: bool = False) -> Quarter:  # fmt: skip
    """Move `worlds` worlds through the quarter starting on `first_day` from `pipeline`."""
    booked = np.zeros((worlds, reps.size))
    efforts = np.zeros((worlds, reps.size, WEEKS_PER_QUARTER))
    kept_parts: list[tuple[Deals, np.ndarray, np.ndarray, np.ndarray]] = []
    for week in range(WEEKS_PER_QUARTER):
        week_start = first_day + 7 * week
        effort = choose_effort(reps, plan, quota, booked, pipeline, WEEKS_PER_QUARTER - week)
        efforts[:, :, week] = effort
        fresh = new_leads(reps, rng, worlds, week_start, effort)
        owner_effort = effort[pipeline.world, pipeline.rep]
        chance = production.GRADE_DECIDED[pipeline.grade] * owner_effort**production.SPEED
        decides = rng.random(len(pipeline)) < np.minimum(chance, 0.95)
        touched = Deals(**{**pipeline.__dict__, "effort_sum": pipeline.effort_sum + owner_effort,
                           "weeks": pipeline.weeks + 1})  # fmt: skip
        out = touched.select(decides)
        won = rng.random(len(out)) < reps.win_chance(out.grade, out.rep, out.effort_sum / out.weeks)
        amount = np.round(out.list_amount * reps.kept(out.rep, owner_effort[decides]), 2)
        closed_on = weekday(rng, week_start, len(out))
        booked += np.bincount(out.world * reps.size + out.rep, amount * won,
                              worlds * reps.size).reshape(worlds, reps.size)  # fmt: skip
        if record:
            kept_parts.append((out, closed_on, won, amount))
        first_touch = Deals(**{**fresh.__dict__, "effort_sum": effort[fresh.world, fresh.rep],
                               "weeks": np.ones(len(fresh), int)})  # fmt: skip
        pipeline = touched.select(~decides).joined(first_touch)
    if not record:
        return Quarter(bookings=booked, effort=efforts, pipeline=pipeline)
    decided = kept_parts[0][0]
    for part in kept_parts[1:]:
        decided = decided.joined(part[0])
    return Quarter(
        bookings=booked, effort=efforts, pipeline=pipeline, decided=decided,
        closed_on=np.concatenate([part[1] for part in kept_parts]),
        won=np.concatenate([part[2] for part in kept_parts]),
        amount=np.concatenate([part[3] for part in kept_parts]),
    )  # fmt: skip

"""How hard each rep works each day: effort, a multiplier on touches per day.

This is the seam the plan-responsive rule plugs into: the engine asks `daily_effort` once a
day for all reps and nothing else decides effort.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from simplan.model.params import Params


class BehaviourParams(Params):
    """Constant effort times the phase (and leaderboard) multipliers, within bounds."""

    model: Literal["constant"] = "constant"
    effort: float = Field(default=1.0, gt=0)
    min_effort: float = Field(default=0.25, gt=0)
    max_effort: float = Field(default=2.0, gt=0)

    @model_validator(mode="after")
    def _bounds(self) -> BehaviourParams:
        if not self.min_effort <= self.effort <= self.max_effort:
            raise ValueError(
                f"effort {self.effort} must lie within [min_effort {self.min_effort}, "
                f"max_effort {self.max_effort}]"
            )
        return self


@dataclass(frozen=True)
class DayContext:
    """What every rep faces on a day: the phase's effort multiplier and lever lifts."""

    day: int
    effort_multiplier: float


def daily_effort(params: BehaviourParams, context: DayContext, n_reps: int) -> np.ndarray:
    """Each rep's effort for the day."""
    effort = params.effort * context.effort_multiplier
    return np.full(n_reps, float(np.clip(effort, params.min_effort, params.max_effort)))

"""What a plan design searches and how a candidate is judged: the plan settings to move
(levers, with their ranges) and the goal (an objective and constraints held at a confidence)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from simplan.errors import SimplanError

Objective = Literal["bookings", "profit", "cost_at_target"]
OBJECTIVES: tuple[str, ...] = ("bookings", "profit", "cost_at_target")

_LEVER = re.compile(r"^\s*([A-Za-z_]\w*)\.(.+?)\s*=\s*([^:]+):([^:]+)$")


@dataclass(frozen=True)
class Lever:
    """A plan setting the optimiser may move: `field` (a key path) of the plan component
    called `component` (its name, or its type when the plan has one of that type)."""

    component: str
    field: str
    low: float
    high: float

    @property
    def name(self) -> str:
        return f"{self.component}.{self.field}"


def parse_lever(text: str) -> Lever:
    """`tiered_commission.tiers[1].rate=0.08:0.25` -> Lever; a clear error otherwise."""
    match = _LEVER.match(text)
    example = "e.g. --vary tiered_commission.tiers[1].rate=0.08:0.25"
    if match is None:
        raise SimplanError(f"--vary {text!r}: write component.field=LOW:HIGH, {example}")
    component, path, low, high = match.groups()
    bounds = parse_range(f"{low}:{high}", f"--vary {component}.{path}")
    return Lever(component, path, *bounds)


def parse_range(text: str, option: str) -> tuple[float, float]:
    """`0.05:0.2` -> (0.05, 0.2), with LOW < HIGH; a clear error naming `option` otherwise."""
    low, sep, high = text.partition(":")
    try:
        bounds = float(low), float(high)
    except ValueError:
        bounds = None
    if not sep or bounds is None or not np.all(np.isfinite(bounds)):
        raise SimplanError(f"{option} {text!r}: give the range as LOW:HIGH, e.g. 0.05:0.2")
    if not bounds[0] < bounds[1]:
        raise SimplanError(f"{option} {text!r}: LOW must be below HIGH, e.g. 0.05:0.2")
    return bounds


@dataclass(frozen=True)
class Goal:
    """What a candidate is judged by: the objective and the constraints it must meet.

    `profit` is bookings x `margin` - payout (means over replications); `cost_at_target` is
    the mean payout, to be minimised, with mean bookings at least `target_bookings`. The budget
    holds at `confidence` when that quantile of payout is within it; the cost of sales (payout
    over bookings) must lie in `cost_of_sales`; the mean share of reps at target must be at
    least `min_share_at_target`.
    """

    objective: Objective = "profit"
    margin: float = 1.0
    target_bookings: float | None = None
    budget: float | None = None
    confidence: float = 0.9
    cost_of_sales: tuple[float, float] | None = None
    min_share_at_target: float | None = None

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise SimplanError(f"--objective {self.objective!r}: choose {', '.join(OBJECTIVES)}")
        if self.objective == "cost_at_target" and self.target_bookings is None:
            raise SimplanError(
                "--objective cost_at_target needs --target-bookings, the bookings to reach, "
                "e.g. --target-bookings 15000000"
            )
        if not 0 < self.margin <= 1:
            raise SimplanError(f"--margin {self.margin}: a share of bookings, 0 < M <= 1, e.g. 0.3")
        if not 0 < self.confidence < 1:
            raise SimplanError(
                f"--confidence {self.confidence}: strictly between 0 and 1, e.g. 0.9"
            )
        if self.budget is not None and self.budget <= 0:
            raise SimplanError(f"--budget {self.budget}: give a positive amount")
        if self.min_share_at_target is not None and not 0 <= self.min_share_at_target <= 1:
            raise SimplanError(
                f"--min-share-at-target {self.min_share_at_target}: a share 0..1, e.g. 0.6"
            )

    @property
    def maximise(self) -> bool:
        return self.objective != "cost_at_target"

    def per_replication(self, kpis: pd.DataFrame) -> np.ndarray:
        """The objective in each replication (its mean is the candidate's objective)."""
        bookings = kpis["bookings"].to_numpy(dtype=float)
        payout = kpis["payout"].to_numpy(dtype=float)
        if self.objective == "bookings":
            return bookings
        if self.objective == "profit":
            return bookings * self.margin - payout
        return payout

    def measure(self, kpis: pd.DataFrame) -> dict[str, float]:
        """The objective, the numbers the constraints read and each constraint's violation
        (`violates_*`: <= 0 when met, as a share of its limit)."""
        bookings = float(kpis["bookings"].mean())
        payout = kpis["payout"].to_numpy(dtype=float)
        measured = {
            "objective": float(self.per_replication(kpis).mean()),
            "bookings": bookings,
            "payout": float(payout.mean()),
            "payout_at_confidence": float(np.quantile(payout, self.confidence)),
            "cost_of_sales": float(payout.sum() / kpis["bookings"].sum()),
            "share_at_target": float(kpis["share_at_target"].mean()),
        }
        limits = {}
        if self.budget is not None:
            limits["budget"] = (measured["payout_at_confidence"] - self.budget) / self.budget
        if self.cost_of_sales is not None:
            low, high = self.cost_of_sales
            cos = measured["cost_of_sales"]
            limits["cost_of_sales"] = max(low - cos, cos - high) / high
        if self.min_share_at_target is not None:
            limits["share_at_target"] = self.min_share_at_target - measured["share_at_target"]
        if self.target_bookings is not None:
            limits["target_bookings"] = (self.target_bookings - bookings) / self.target_bookings
        measured |= {f"violates_{k}": v for k, v in limits.items()}
        measured["feasible"] = float(all(v <= 0 for v in limits.values()))
        return measured

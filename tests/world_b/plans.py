"""World B's quarterly plans: its own payout rule, and the same plans as simplan plan files.

A plan pays a marginal commission schedule on credited attainment (bookings / quota, capped
at `cap`), written as the cumulative commission per unit of quota at the schedule's
breakpoints and interpolated; plus an optional bonus once attainment reaches a line; and
nothing at all below the `gate`. Lines are reached at equality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

_FAR = 1e3  # attainment far beyond any quarter: the schedule's last breakpoint


@dataclass(frozen=True)
class Plan:
    """`schedule`: (attainment from, marginal rate) pairs, the first from 0."""

    name: str
    description: str
    schedule: tuple[tuple[float, float], ...]
    gate: float = 0.0
    cap: float = math.inf
    bonus: tuple[float, float] | None = None  # (attainment line, amount)

    def _cumulative(self) -> tuple[np.ndarray, np.ndarray]:
        """Breakpoints (attainment) and the commission per unit of quota earned up to each."""
        lines = np.array([line for line, _ in self.schedule] + [_FAR])
        rates = np.array([rate for _, rate in self.schedule])
        return lines, np.concatenate([[0.0], np.cumsum(rates * np.diff(lines))])

    def pay(self, bookings: np.ndarray, quota: np.ndarray) -> np.ndarray:
        """Quarter-end payout (currency) for bookings and quotas of broadcastable shapes."""
        bookings, quota = np.asarray(bookings, float), np.asarray(quota, float)
        attainment = bookings / quota
        lines, earned = self._cumulative()
        pay = quota * np.interp(np.minimum(attainment, self.cap), lines, earned)
        if self.bonus is not None:
            pay = pay + np.where(attainment >= self.bonus[0], self.bonus[1], 0.0)
        return np.where(attainment >= self.gate, pay, 0.0)

    def rate_at(self, attainment: float) -> float:
        """The marginal commission rate at `attainment` (gate and cap ignored)."""
        return next(rate for line, rate in reversed(self.schedule) if attainment >= line)

    def plan_file(self) -> dict:
        """The plan as a simplan plan file (a mapping to dump as YAML), paid per fiscal period."""
        components: list[dict] = []
        if math.isfinite(self.cap):
            components.append({"type": "attainment_cap", "max_attainment": self.cap})
        if len(self.schedule) == 1:
            components.append({"type": "base_commission", "rate": self.schedule[0][1]})
        else:
            tiers = [{"threshold": line, "rate": rate} for line, rate in self.schedule]
            components.append({"type": "tiered_commission", "mode": "marginal", "tiers": tiers})
        if self.bonus is not None:
            steps = [{"threshold": self.bonus[0], "amount": self.bonus[1]}]
            components.append({"type": "attainment_bonus", "steps": steps})
        if self.gate > 0:
            components.append({"type": "gate", "threshold": self.gate})
        return {"name": self.name, "description": self.description, "clock": "period",
                "components": components}  # fmt: skip


PLANS: dict[str, Plan] = {
    plan.name: plan
    for plan in (
        Plan(
            name="current",
            description="nothing below 60%; 4% up to quota, 9% above; no credit beyond 160%",
            schedule=((0.0, 0.04), (1.0, 0.09)),
            gate=0.6,
            cap=1.6,
        ),
        Plan(
            name="proposal",
            description="2% up to 80%, 6% from 80% to 120%, 12% above; 2,500 bonus at 100%",
            schedule=((0.0, 0.02), (0.8, 0.06), (1.2, 0.12)),
            bonus=(1.0, 2500.0),
        ),
        Plan(name="linear", description="5% of all bookings", schedule=((0.0, 0.05),)),
    )
}
"""The plans world B knows, by name."""

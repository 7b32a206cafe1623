"""The world's own incentive plans: a quarterly payout function written independently of
simplan, and the same plans as simplan plan YAML for the calibration tests.

A plan pays marginal commission tiers on credited bookings, optionally a bonus at an
attainment line, forfeits everything below a gate, and credits nothing beyond a cap.
Attainment (for the bonus and the gate) is bookings / quota before the cap; lines are
reached at equality (100 % exactly earns the bonus).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WorldPlan:
    """A quarterly plan: `tiers` are (attainment from, marginal rate) pairs from 0 up."""

    name: str
    description: str
    tiers: tuple[tuple[float, float], ...]
    bonus: tuple[float, float] | None = None  # (attainment line, amount)
    gate: float | None = None  # nothing below this attainment
    cap: float | None = None  # bookings above cap x quota are not credited

    def payout(self, bookings: np.ndarray, quota: np.ndarray) -> np.ndarray:
        """The quarter-end payout (currency) for bookings and quotas of any matching shape."""
        bookings, quota = np.asarray(bookings, float), np.asarray(quota, float)
        attainment = bookings / quota
        credited = bookings if self.cap is None else np.minimum(bookings, self.cap * quota)
        pay = np.zeros(np.broadcast(bookings, quota).shape)
        lines = [line for line, _ in self.tiers] + [np.inf]
        for (line, rate), upper in zip(self.tiers, lines[1:], strict=True):
            pay = pay + rate * np.clip(credited - line * quota, 0.0, (upper - line) * quota)
        if self.bonus is not None:
            line, amount = self.bonus
            pay = pay + np.where(attainment >= line, amount, 0.0)
        if self.gate is not None:
            pay = np.where(attainment >= self.gate, pay, 0.0)
        return pay

    def simplan_plan(self) -> dict:
        """The same plan as a simplan plan file (a mapping to dump as YAML), quarterly."""
        components: list[dict] = []
        if self.cap is not None:
            components.append({"type": "attainment_cap", "max_attainment": self.cap})
        if len(self.tiers) == 1 and self.tiers[0][0] == 0.0:
            components.append({"type": "base_commission", "rate": self.tiers[0][1]})
        else:
            tiers = [{"threshold": line, "rate": rate} for line, rate in self.tiers]
            components.append({"type": "tiered_commission", "mode": "marginal", "tiers": tiers})
        if self.bonus is not None:
            line, amount = self.bonus
            steps = [{"threshold": line, "amount": amount}]
            components.append({"type": "attainment_bonus", "steps": steps})
        if self.gate is not None:
            components.append({"type": "gate", "threshold": self.gate})
        return {
            "name": self.name,
            "description": self.description,
            "clock": "quarter",
            "components": components,
        }


PLANS: dict[str, WorldPlan] = {
    plan.name: plan
    for plan in (
        WorldPlan(
            name="current",
            description="5% of all bookings + 3,000 bonus at 100% of quarterly quota",
            tiers=((0.0, 0.05),),
            bonus=(1.0, 3000.0),
        ),
        WorldPlan(
            name="proposal",
            description="nothing below 50%; 4% up to quota, 10% above; no credit beyond 200%",
            tiers=((0.0, 0.04), (1.0, 0.10)),
            gate=0.5,
            cap=2.0,
        ),
        WorldPlan(
            name="linear",
            description="6% of all bookings",
            tiers=((0.0, 0.06),),
        ),
    )
}
"""The plans the world knows, by name."""


def get_plan(plan: str | WorldPlan) -> WorldPlan:
    """A plan by name (or the plan itself); an unknown name lists the known ones."""
    if isinstance(plan, WorldPlan):
        return plan
    if plan not in PLANS:
        raise ValueError(f"plan {plan!r} is not a world plan; known: {', '.join(PLANS)}")
    return PLANS[plan]

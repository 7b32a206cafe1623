"""The base layer and the curve: salary, base commission, tiered commission, attainment bonus."""

from __future__ import annotations

import itertools
from typing import Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from simplan.model.params import Params
from simplan.model.plan.base import (
    Attainment,
    Component,
    Money,
    Rate,
    Tenure,
    increasing,
    register,
)
from simplan.model.plan.sheet import Sheet
from simplan.model.plan.thresholds import steps_reached


@register
class BaseSalary(Component):
    """A fixed amount per period (per month or quarter, as the plan clock); not incentive pay.

    ``by_tenure`` overrides ``amount`` for the listed tenures. Basis: 1 (one period).
    """

    type: Literal["base_salary"] = "base_salary"
    amount: Money
    by_tenure: dict[Tenure, Money] = Field(default_factory=dict)

    variable = False

    def apply(self, sheet: Sheet) -> None:
        book = sheet.book
        table = np.array(
            [self.by_tenure.get(t, self.amount) for t in ("new_hire", "ramping", "veteran")]
        )
        per_rep = table[book.tenure]
        sheet.earn(self.label, 1.0, np.repeat(per_rep, book.n_periods), variable=False)


@register
class BaseCommission(Component):
    """``rate`` x credited bookings. Basis: credited bookings."""

    type: Literal["base_commission"] = "base_commission"
    rate: Rate

    in_curve = True
    on_bookings = True

    def apply(self, sheet: Sheet) -> None:
        sheet.earn(self.label, sheet.credited, self.rate * sheet.credited)


class Tier(Params):
    """From ``threshold`` attainment (1.2 = 120% of target) up, bookings earn ``rate``.

    A rep exactly on the threshold is in the tier (``thresholds.reaches``).
    """

    threshold: Attainment
    rate: Rate


def tier_commission(
    bookings: np.ndarray, target: np.ndarray, tiers: list[Tier], mode: str
) -> np.ndarray:
    """Commission on ``bookings`` against ``target`` under ``tiers`` (vectorised over cells)."""
    thresholds = np.array([t.threshold for t in tiers])
    rates = np.array([t.rate for t in tiers])
    reached = steps_reached(bookings / target, thresholds)
    any_tier = reached >= 0
    k = np.maximum(reached, 0)
    if mode == "retroactive":
        return np.where(any_tier, rates[k] * bookings, 0.0)
    widths = np.diff(thresholds)
    at_threshold = np.r_[0.0, np.cumsum(rates[:-1] * widths)]  # per unit of target
    above = np.maximum(bookings - thresholds[k] * target, 0.0)
    return np.where(any_tier, target * at_threshold[k] + rates[k] * above, 0.0)


@register
class TieredCommission(Component):
    """Step-up commission on credited bookings by attainment tier.

    ``mode: marginal`` pays each tier's rate on the bookings inside that tier;
    ``mode: retroactive`` pays the rate of the highest tier reached on all bookings.
    Below the first threshold nothing is paid. Basis: credited bookings.
    """

    type: Literal["tiered_commission"] = "tiered_commission"
    mode: Literal["marginal", "retroactive"] = "marginal"
    tiers: list[Tier] = Field(min_length=1)

    in_curve = True
    on_bookings = True

    @field_validator("tiers")
    @classmethod
    def _thresholds_increase(cls, tiers: list[Tier], info: ValidationInfo) -> list[Tier]:
        increasing([t.threshold for t in tiers], "tier thresholds")
        if info.data.get("mode") == "retroactive":
            rates = [t.rate for t in tiers]
            for low, high in itertools.pairwise(rates):
                if high < low:
                    raise ValueError(
                        f"retroactive tier rates must not fall: {low:g} then {high:g} (a "
                        "higher tier would pay less on everything); use mode: marginal for "
                        "a decelerating plan"
                    )
        return tiers

    def apply(self, sheet: Sheet) -> None:
        amount = tier_commission(sheet.credited, sheet.book.target, self.tiers, self.mode)
        sheet.earn(self.label, sheet.credited, amount)


class Step(Params):
    """Reaching ``threshold`` attainment (at or above: ``thresholds.reaches``) pays ``amount``."""

    threshold: Attainment
    amount: Money


@register
class AttainmentBonus(Component):
    """Lump sums at attainment thresholds (on credited attainment).

    Pays the amount of the highest step reached, or with ``cumulative: true`` the sum of
    every step reached. Basis: credited attainment.
    """

    type: Literal["attainment_bonus"] = "attainment_bonus"
    cumulative: bool = False
    """Declared before ``steps`` so the steps' validator can read it (fields validate in order)."""
    steps: list[Step] = Field(min_length=1)

    in_curve = True

    @field_validator("steps")
    @classmethod
    def _steps_increase(cls, steps: list[Step], info: ValidationInfo) -> list[Step]:
        increasing([s.threshold for s in steps], "bonus thresholds")
        if not info.data.get("cumulative", False):
            amounts = [s.amount for s in steps]
            for low, high in itertools.pairwise(amounts):
                if high < low:
                    raise ValueError(
                        f"bonus amounts must not fall: {low:g} then {high:g} (a higher step "
                        "would pay less); raise the later amount or use cumulative: true"
                    )
        return steps

    def apply(self, sheet: Sheet) -> None:
        thresholds = np.array([s.threshold for s in self.steps])
        amounts = np.array([s.amount for s in self.steps])
        if self.cumulative:
            amounts = np.cumsum(amounts)
        attainment = sheet.credited_attainment
        reached = steps_reached(attainment, thresholds)
        amount = np.where(reached >= 0, amounts[np.maximum(reached, 0)], 0.0)
        sheet.earn(self.label, attainment, amount)

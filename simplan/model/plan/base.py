"""The plan component base class, its registry, and the validated value types components share.

A component is a small frozen parameter block with one ``apply(sheet)`` method. Adding a
component means writing one class decorated with ``@register`` in a module imported by
``simplan.model.plan.components``; the code that walks components never changes.
"""

from __future__ import annotations

import difflib
import itertools
from typing import TYPE_CHECKING, Annotated, ClassVar, Literal, TypeVar

import numpy as np
from pydantic import AfterValidator

from simplan.model.params import Params

if TYPE_CHECKING:
    from simplan.model.plan.sheet import Sheet

# Stages: components run in stage order (stable within a stage, i.e. in file order).
BASIS = 0  # change which ledger rows count (exclusions); pay nothing
CREDIT = 5  # change how much of the counted bookings is credited (attainment caps)
EARN = 10  # earn money: commissions, bonuses, pools, rewards
FORFEIT = 20  # take earned money away when a condition fails (gates, qualifying rules)
LIMIT = 30  # cap what was earned (payout caps)
RECOVER = 40  # recover money already paid (clawbacks)

TENURES = ("new_hire", "ramping", "veteran")
ROLES = ("lead", "support", "mentor")


def _non_negative(value: float) -> float:
    if not value >= 0:
        raise ValueError("must be >= 0; use 0 to switch the part off")
    return float(value)


def _share(value: float) -> float:
    if not 0 <= value <= 1:
        raise ValueError("must be a share between 0 and 1 (0.1 means 10%); write 10% as 0.1")
    return float(value)


def _rate(value: float) -> float:
    value = _non_negative(value)
    if value > 1:
        hint = f"; if you meant {value:g}%, write {value / 100:g}" if value <= 100 else ""
        raise ValueError(
            "must be a rate of at most 1 per unit of bookings (0.1 means 10%; above 1 would "
            f"pay more than was booked){hint}"
        )
    return value


def _positive(value: float) -> float:
    if not value > 0:
        raise ValueError("must be > 0")
    return float(value)


Money = Annotated[float, AfterValidator(_non_negative)]
"""An amount of currency, >= 0."""
Rate = Annotated[float, AfterValidator(_rate)]
"""A commission or pool rate per unit of bookings, 0..1 (0.1 = 10%): above 1 pays more than
was booked, which no component's semantics allows, so it is refused as a likely typo."""
Share = Annotated[float, AfterValidator(_share)]
"""A fraction 0..1."""
Attainment = Annotated[float, AfterValidator(_non_negative)]
"""Bookings / target, >= 0 (1.2 = 120% of target)."""
Positive = Annotated[float, AfterValidator(_positive)]
Tenure = Literal["new_hire", "ramping", "veteran"]
Role = Literal["lead", "support", "mentor"]


class Component(Params):
    """One mechanism of a plan; writes lines on the statement sheet.

    Subclasses set ``type: Literal["..."]`` (the YAML tag), their parameters, the
    class-level ``stage``, and implement :meth:`apply`.
    """

    type: str
    name: str | None = None
    """Label on statement lines; defaults to the type. Needed when a type appears twice."""

    stage: ClassVar[int] = EARN
    variable: ClassVar[bool] = True
    """Incentive pay: subject to gates, caps, qualifying rules and the budget (salary is not)."""
    in_curve: ClassVar[bool] = False
    """Part of the payout curve one rep faces as a function of their own attainment."""
    on_bookings: ClassVar[bool] = False
    """Pays in proportion to bookings (a commission): the default target of clawbacks."""

    @property
    def label(self) -> str:
        """The name on statement lines."""
        return self.name or self.type

    def references(self) -> tuple[str, ...]:
        """Labels of other components this one acts on (checked when the plan is built)."""
        return ()

    def apply(self, sheet: Sheet) -> None:  # pragma: no cover - abstract
        """Add this component's lines to ``sheet``."""
        raise NotImplementedError


COMPONENTS: dict[str, type[Component]] = {}
"""Every registered component class by its YAML ``type``."""

C = TypeVar("C", bound=type[Component])


def rep_mask(tenure_codes: np.ndarray, tenure: list[str] | None) -> np.ndarray:
    """Which reps (by tenure code) a role-specific component applies to (None: everyone)."""
    if tenure is None:
        return np.ones(len(tenure_codes), dtype=bool)
    return np.isin(tenure_codes, [TENURES.index(t) for t in tenure])


def increasing(values: list[float], what: str) -> None:
    """Raise the plan error for thresholds that do not strictly increase."""
    for low, high in itertools.pairwise(values):
        if not high > low:
            raise ValueError(
                f"{what} must increase: {low:g} then {high:g}; list them from the lowest up"
            )


def register(cls: C) -> C:
    """Class decorator: make a component available under its ``type`` tag."""
    tag = cls.model_fields["type"].default
    if not isinstance(tag, str) or tag in COMPONENTS:
        raise TypeError(f"{cls.__name__}: needs a unique default `type` tag, got {tag!r}")
    COMPONENTS[tag] = cls
    return cls


def nearest_type(tag: str) -> str:
    """The registered component type closest to a misspelt ``tag``, with the full list."""
    names = sorted(COMPONENTS)
    near = difflib.get_close_matches(str(tag), names, n=1, cutoff=0.5)
    hint = f"did you mean '{near[0]}'? " if near else ""
    return f"{hint}valid types are: {', '.join(names)}"

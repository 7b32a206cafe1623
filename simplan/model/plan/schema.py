"""The plan file: a clock, a list of components (a tagged union on ``type``), budget, flags.

``Plan.payout_curve`` and ``Plan.marginal_rate`` give the pay one rep faces as a function of
their own attainment, for the behaviour model and for plots.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

import simplan.model.plan.components  # noqa: F401  (registers every component)
from simplan.model.params import Params
from simplan.model.periods import Periods, clock_periods
from simplan.model.plan.base import COMPONENTS, Component, nearest_type
from simplan.model.plan.book import Book
from simplan.model.plan.budget import Budget
from simplan.model.plan.flags import Flags
from simplan.model.plan.sheet import Sheet


def _known_type(value: Any) -> Any:
    if isinstance(value, dict):
        tag = value.get("type")
        if tag is None:
            raise PydanticCustomError(
                "missing_type",
                "a component needs a `type:` key; {hint}",
                {"hint": nearest_type("")},
            )
        if tag not in COMPONENTS:
            raise PydanticCustomError(
                "unknown_component",
                "unknown component type '{tag}'; {hint}",
                {"tag": str(tag), "hint": nearest_type(str(tag))},
            )
    return value


AnyComponent = Annotated[
    Union[tuple(COMPONENTS.values())],  # noqa: UP007  (built from the registry)
    Field(discriminator="type"),
    BeforeValidator(_known_type),
]

COMPONENT_TYPES: set[str] = set(COMPONENTS)
"""Every component ``type`` tag (for the scenario error formatter)."""


class Plan(Params):
    """An incentive plan: components evaluated in stage order on the plan clock.

    Stages: exclusions, then attainment caps, then everything that earns (commissions,
    bonuses, pools, rewards), then gates and qualifying rules, then payout caps, then
    clawbacks; within a stage, file order. Then the budget.
    """

    name: str = "plan"
    description: str = ""
    clock: Literal["month", "quarter", "period"] = Field(
        default="month",
        description="What the plan pays per: calendar month or quarter, or `period`: the "
        "business's own periods (the scenario's calendar.periods, payout's --calendar).",
    )
    components: list[AnyComponent] = Field(min_length=1)
    budget: Budget | None = None
    flags: Flags | None = None

    @model_validator(mode="after")
    def _labels_resolve(self) -> Plan:
        labels = [c.label for c in self.components]
        for label in labels:
            if labels.count(label) > 1:
                raise ValueError(
                    f"two components are named '{label}'; give each its own `name:` "
                    "(e.g. name: monthly_bonus)"
                )
        earners = {c.label for c in self.components if c.stage < 20}
        for c in self.components:
            for ref in c.references():
                if ref not in earners:
                    raise ValueError(
                        f"component '{c.label}' applies_to '{ref}', which is not a component "
                        f"that earns; choose from: {', '.join(sorted(earners))}"
                    )
        return self

    def clock_periods(self, business: Periods | None = None) -> Periods:
        """The periods the plan pays per (``clock_periods`` of its clock and ``business``)."""
        return clock_periods(self.clock, business)

    def ordered(self) -> list[Component]:
        """Components in evaluation order (stage, then file order)."""
        return sorted(self.components, key=lambda c: c.stage)

    def payout_curve(self, attainment: Any, target: float | np.ndarray = 1.0) -> np.ndarray:
        """Pay for one period at ``attainment`` (array) of ``target``, from the curve components.

        Included: base_commission, tiered_commission, attainment_bonus, attainment_cap,
        gate and payout_cap (those with ``in_curve``). Left out: salary (fixed), deal-level
        and role bonuses, pools, contests, qualifying rules, clawbacks and the budget, which
        depend on more than the rep's own attainment.
        """
        attainment = np.asarray(attainment, dtype=float)
        target_arr = np.broadcast_to(np.asarray(target, dtype=float), attainment.shape)
        book = Book.for_curve((attainment * target_arr).ravel(), target_arr.ravel())
        sheet = Sheet(book)
        sheet.components = {c.label: c for c in self.components if c.in_curve}
        for component in self.ordered():
            if component.in_curve:
                component.apply(sheet)
        return sheet.total()[: book.n_cells].reshape(attainment.shape)

    def marginal_rate(
        self, attainment: Any, target: float | np.ndarray = 1.0, step: float = 0.01
    ) -> np.ndarray:
        """Pay per extra unit of bookings for the next ``step`` of attainment (a forward difference).

        On a commission slope this is the rate (0.1 = 10%); a lump sum or a retroactive tier
        within ``step`` above shows as a spike of (jump / (step x target)).
        """
        attainment = np.asarray(attainment, dtype=float)
        target = np.asarray(target, dtype=float)
        gain = self.payout_curve(attainment + step, target) - self.payout_curve(attainment, target)
        return gain / (step * target)

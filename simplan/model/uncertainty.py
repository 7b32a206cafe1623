"""Parameter uncertainty a scenario carries: draws of its numbers, one per replication in turn.

A fit (or a stated prior) says which values a parameter could take. Each draw sets some of the
scenario's numbers by key path (`leads.tiers[0].arrivals_per_day: 3.9`); replication i runs
with draw i mod len(draws). The spread across replications then includes what the parameters
could be, and scenarios compared on the same seed see the same draw in the same replication,
so paired differences stay paired.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, Field, ValidationError, ValidationInfo

from simplan.errors import SimplanError
from simplan.model.distributions import DISTRIBUTION_NAMES
from simplan.model.keypaths import key_path, parse_path, set_path
from simplan.model.params import Params
from simplan.model.plan import COMPONENT_TYPES

FIXED = ("simulation", "uncertainty")
"""Blocks a draw may not set: how the run is done is not a parameter of the world."""

TAGS = DISTRIBUTION_NAMES | COMPONENT_TYPES  # union tags pydantic puts into error locations

S = TypeVar("S", bound=BaseModel)


class UncertaintyParams(Params):
    """Where the draws come from (in words) and the draws: key path -> number."""

    source: str = ""
    draws: list[dict[str, float]] = Field(min_length=1)


def drawn_blocks(blocks: Mapping[str, Any], draw: dict[str, float], label: str) -> dict[str, Any]:
    """The scenario blocks (calendar, team, leads, ...) that `draw` changes, set and validated.

    `blocks` maps each scenario field to its validated value; `label` names the draw in errors.
    Each changed block is validated whole; the scenario's rules across blocks (plan clock,
    tier names, a plan needing targets) concern names and choices a number cannot change.
    """
    data = {
        name: value.model_dump(mode="json", by_alias=True)
        if isinstance(value, BaseModel)
        else value
        for name, value in blocks.items()
        if name not in FIXED
    }
    touched = set()
    for path, value in draw.items():
        try:
            touched.add(_set_drawn(data, blocks, path, value))
        except SimplanError as err:
            raise SimplanError(f"{label}: {err}") from None
    out = {}
    for name in sorted(touched):
        try:
            out[name] = type(blocks[name]).model_validate(data[name])
        except ValidationError as err:
            problems = "; ".join(
                f"{key_path((name, *(p for p in e['loc'] if p not in TAGS)))}: "
                + e["msg"].removeprefix("Value error, ")
                for e in err.errors(include_url=False)
            )
            raise SimplanError(
                f"{label} makes a scenario that does not validate: {problems}"
            ) from None
    return out


def _set_drawn(data: dict[str, Any], blocks: Mapping[str, Any], path: str, value: float) -> str:
    """Set one drawn value in the scenario's data; return the block it is in."""
    head = str(parse_path(path)[0])
    if head in blocks and blocks[head] is None:
        raise SimplanError(f"{path} is drawn, but the scenario has no {head}")
    if head in FIXED or (head in blocks and not isinstance(blocks[head], BaseModel)):
        allowed = [n for n, v in blocks.items() if isinstance(v, BaseModel) and n not in FIXED]
        raise SimplanError(
            f"{path} is drawn: a draw sets numbers inside the scenario's blocks "
            f"({', '.join(allowed)}), not '{head}'"
        )
    if not math.isfinite(value):
        raise SimplanError(f"{path} = {value}: a draw's values are finite numbers")
    set_path(data, path, value)
    return head


def _check_draws(uncertainty: UncertaintyParams, info: ValidationInfo) -> UncertaintyParams:
    """At load: every drawn path exists in the scenario and every drawn scenario validates."""
    problems = []
    for i, draw in enumerate(uncertainty.draws):
        try:
            drawn_blocks(info.data, draw, f"draws[{i}]")
        except SimplanError as err:
            problems.append(str(err))
    if problems:
        raise ValueError("\n  - ".join(problems))  # one line each under the file's name
    return uncertainty


Uncertainty = Annotated[UncertaintyParams, AfterValidator(_check_draws)]
"""The scenario's `uncertainty` field: draws checked against the rest of the scenario."""


def drawn_scenarios(scenario: S) -> list[S]:
    """The scenario under each of its draws, in order (itself alone when it has none).

    Blocks a draw does not touch are shared with `scenario`, so a caller can tell which parts
    (the team, the calendar) need rebuilding by identity.
    """
    uncertainty = getattr(scenario, "uncertainty", None)
    if uncertainty is None:
        return [scenario]
    blocks = {name: getattr(scenario, name) for name in type(scenario).model_fields}
    return [
        scenario.model_copy(
            update={**drawn_blocks(blocks, draw, f"uncertainty.draws[{i}]"), "uncertainty": None}
        )
        for i, draw in enumerate(uncertainty.draws)
    ]

"""The scenario and plan reference, generated from the schema itself (`simplan schema`).

Every key is listed with its type and default by walking the pydantic models, so the
reference cannot drift from what the loader accepts. Each plan component comes with a
YAML example; a test validates every example.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from simplan.model.distributions import _Distribution
from simplan.model.plan import COMPONENTS
from simplan.model.plan.schema import Plan
from simplan.scenario import Scenario

EXAMPLES: dict[str, str] = {
    "base_salary": "{type: base_salary, amount: 3000, by_tenure: {new_hire: 2500}}",
    "base_commission": "{type: base_commission, rate: 0.02}",
    "tiered_commission": (
        "{type: tiered_commission, mode: marginal, tiers: [{threshold: 0, rate: 0.10}, "
        "{threshold: 1.2, rate: 0.125}, {threshold: 1.5, rate: 0.15}]}"
    ),
    "attainment_bonus": "{type: attainment_bonus, steps: [{threshold: 1.0, amount: 1000}, {threshold: 1.2, amount: 2000}]}",
    "gate": "{type: gate, threshold: 0.8, applies_to: [tiered_commission]}",
    "attainment_cap": "{type: attainment_cap, max_attainment: 1.5}",
    "payout_cap": "{type: payout_cap, max_amount: 60000}",
    "qualifying": "{type: qualifying, min_bookings: 100000, min_new_customers: 2, max_return_rate: 0.05}",
    "exclusion": "{type: exclusion, returned: true}",
    "clawback": "{type: clawback, share: 1.0}",
    "first_deal_bonus": "{type: first_deal_bonus, amount: 500, tenure: [new_hire]}",
    "growth_bonus": "{type: growth_bonus, amount: 300, min_growth: 0.2, tenure: [new_hire]}",
    "big_deal_bonus": "{type: big_deal_bonus, amount: 2000, min_deal: 500000, tenure: [veteran]}",
    "manager_bonus": "{type: manager_bonus, amount: 5000, min_team_attainment: 1.2, min_new_hire_growth: 0.4}",
    "team_pool": "{type: team_pool, team: squad, threshold: 1.2, excess_from: 1.0, share_of_excess: 0.1, weight: 0.7}",
    "project_pool": "{type: project_pool, rate: 0.05, lead_share: 0.5, support_share: 0.3, fund_share: 0.2}",
    "daily_champion": "{type: daily_champion, amount: 100}",
    "deal_streak": "{type: deal_streak, amount: 200, days: 3}",
    "squad_winner": "{type: squad_winner, amount: 50}",
    "ranking_reward": "{type: ranking_reward, name: quarterly_top3, awards: [5000, 3000, 1000], rank_by: bookings, window: quarter}",
}


def _is_distribution(annotation: Any) -> bool:
    members = typing.get_args(annotation) or (annotation,)
    return all(isinstance(m, type) and issubclass(m, _Distribution) for m in members)


def _type_name(annotation: Any) -> str:
    """A short readable type: `float`, `list[str]`, `distribution`, `TierParams | None`."""
    if _is_distribution(annotation):
        return "distribution"
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(a) for a in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", str(annotation))


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The parameter blocks nested in a field's type (to document them in turn)."""
    if _is_distribution(annotation):
        return []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    return [m for a in typing.get_args(annotation) for m in _models(a)]


def _default(field: Any) -> str:
    if field.default_factory is not None:
        return "(computed)"
    if field.default is PydanticUndefined:
        return "required"
    value = field.default
    if isinstance(value, _Distribution):
        return repr(value)
    if isinstance(value, BaseModel):
        return "(see below)"
    return repr(value)


def _model_section(model: type[BaseModel], path: str, seen: set[type]) -> list[str]:
    doc = (model.__doc__ or "").strip().splitlines()
    title = f"### `{path}` ({model.__name__})"
    lines = [title, "", doc[0] if doc else "", "", "| key | type | default |", "|---|---|---|"]
    nested: list[tuple[str, type[BaseModel]]] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        lines.append(_row(key, field))
        for sub in _models(field.annotation):
            if sub not in seen and sub is not Plan:
                seen.add(sub)
                nested.append((f"{path}.{key}", sub))
    lines.append("")
    for sub_path, sub in nested:
        lines += _model_section(sub, sub_path, seen)
    return lines


def _row(key: str, field: Any) -> str:
    """One table row; bars inside a type are escaped so the Markdown table holds."""
    kind = _type_name(field.annotation).replace("|", "\\|")
    default = _default(field).replace("|", "\\|")
    return f"| `{key}` | {kind} | {default} |"


def reference() -> str:
    """The scenario and plan reference as Markdown."""
    lines = [
        "# simplan scenario and plan reference",
        "",
        "Generated by `simplan schema` from the schema itself.",
        "",
    ]
    lines += ["## Scenario", ""]
    lines += _model_section(Scenario, "scenario", {Scenario})
    lines += [
        "## Distributions",
        "",
        "A key of type `distribution` takes a bare number (a constant) or one of:",
        "",
        "```yaml",
        "{dist: constant, value: 5}",
        "{dist: poisson, rate: 3.2}",
        "{dist: exponential, mean: 2}",
        "{dist: lognormal, mean: 12000, cv: 0.8}   # by mean and coefficient of variation",
        "{dist: gamma, mean: 7, cv: 0.5}",
        "{dist: empirical, values: [1, 2, 10], weights: [1, 1, 2]}",
        "```",
        "",
        "## Plan",
        "",
    ]
    lines += _model_section(Plan, "plan", {Plan})
    lines += [
        "## Plan components",
        "",
        "Each item of `components` has a `type` (and an optional `name`).",
        "",
    ]
    for tag, cls in COMPONENTS.items():
        doc = " ".join((cls.__doc__ or "").split())
        lines += [
            f"### `{tag}`",
            "",
            doc,
            "",
            "```yaml",
            f"- {EXAMPLES[tag]}",
            "```",
            "",
            "| key | type | default |",
            "|---|---|---|",
        ]
        for name, field in cls.model_fields.items():
            if name != "type":
                lines.append(_row(field.alias or name, field))
        lines.append("")
    return "\n".join(lines)

"""The generated reference: every key documented, every plan component with a valid example."""

from __future__ import annotations

import yaml
from pydantic import BaseModel

from simplan.model.distributions import _Distribution
from simplan.model.plan import COMPONENTS
from simplan.model.plan.schema import Plan
from simplan.reference import EXAMPLES, reference
from simplan.scenario import Scenario

from .test_cli import simplan


def _documented(sub: object) -> bool:
    """A nested parameter block with its own section (distributions have one shared section)."""
    return (
        isinstance(sub, type) and issubclass(sub, BaseModel) and not issubclass(sub, _Distribution)
    )


def _keys(model: type[BaseModel], seen: set) -> set[str]:
    keys = set()
    for name, field in model.model_fields.items():
        keys.add(field.alias or name)
        for sub in [field.annotation, *getattr(field.annotation, "__args__", ())]:
            if _documented(sub) and sub not in seen and sub is not Plan:
                seen.add(sub)
                keys |= _keys(sub, seen)
    return keys


def test_every_scenario_and_plan_key_is_in_the_reference():
    text = reference()
    for key in _keys(Scenario, set()) | _keys(Plan, set()):
        assert f"| `{key}` |" in text, key


def test_every_component_has_an_example_that_validates():
    assert set(EXAMPLES) == set(COMPONENTS)
    for tag, example in EXAMPLES.items():
        earner = {"type": "tiered_commission", "tiers": [{"threshold": 0, "rate": 0.1}]}
        components = [yaml.safe_load(example)] + ([earner] if tag != "tiered_commission" else [])
        plan = Plan.model_validate({"clock": "month", "components": components})
        assert plan.components[0].type == tag
        assert f"### `{tag}`" in reference()


def test_schema_command_prints_and_writes(tmp_path):
    done = simplan("schema")
    assert done.returncode == 0
    assert done.stdout.startswith("# simplan scenario and plan reference")
    done = simplan("schema", "--out", tmp_path / "reference.md")
    assert done.returncode == 0
    assert (tmp_path / "reference.md").read_text().startswith("# simplan")

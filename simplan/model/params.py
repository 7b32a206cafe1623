"""Base class for every parameter block: immutable, typed, and strict about unknown keys."""

from __future__ import annotations

import difflib
import types
import typing
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


class Params(BaseModel):
    """A validated, immutable block of parameters; a misspelt key names its nearest valid key.

    Numbers are strict everywhere: infinity and NaN are refused (`allow_inf_nan`), and so are
    true/false where a number is meant (pydantic would read `true` as 1).
    """

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = set(cls.model_fields)
            allowed |= {f.alias for f in cls.model_fields.values() if f.alias}
            for key in data:
                if key not in allowed:
                    near = difflib.get_close_matches(str(key), sorted(allowed), n=1, cutoff=0.6)
                    hint = (
                        f"did you mean '{near[0]}'?"
                        if near
                        else "allowed keys are: " + ", ".join(sorted(allowed))
                    )
                    raise PydanticCustomError(
                        "unknown_key",
                        "unknown key '{key}'; {hint}",
                        {"key": str(key), "hint": hint},
                    )
            by_alias = {f.alias: f for f in cls.model_fields.values() if f.alias}
            for key, value in data.items():
                field = cls.model_fields.get(key) or by_alias.get(key)
                if field is not None and _means_number(field.annotation) and _holds_bool(value):
                    raise PydanticCustomError(
                        "bool_not_number",
                        "a number is meant here, not true/false; write the number",
                        {"key": str(key), "value": value},
                    )
        return data


@cache
def _means_number(annotation: Any) -> bool:
    """Whether a field's type holds numbers but no booleans (nested parameter blocks aside)."""
    leaves = _leaf_types(annotation)
    return bool(leaves & {int, float}) and bool not in leaves and object not in leaves


def _leaf_types(annotation: Any) -> frozenset[Any]:
    """The plain types inside an annotation (unions, containers, Annotated); Any as object."""
    if annotation is Any:
        return frozenset({object})
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return frozenset({object})  # a nested block checks its own fields; its dicts are not ours
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return frozenset(type(arg) for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _leaf_types(typing.get_args(annotation)[0])
    args = typing.get_args(annotation)
    if origin is None or not args:
        return frozenset({annotation})
    leaves = frozenset() if origin in (typing.Union, types.UnionType) else frozenset({origin})
    for arg in args:
        if arg is not Ellipsis:
            leaves |= _leaf_types(arg)
    return leaves


def _holds_bool(value: Any) -> bool:
    """A boolean, or a list, tuple or mapping with one among its values."""
    if isinstance(value, bool):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_bool(item) for item in value)
    if isinstance(value, dict):
        return any(_holds_bool(item) for item in value.values())
    return False

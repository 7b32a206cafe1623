"""Base class for every parameter block: immutable, typed, and strict about unknown keys."""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError


class Params(BaseModel):
    """A validated, immutable block of parameters; a misspelt key names its nearest valid key."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

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
        return data

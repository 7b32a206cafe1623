"""Key paths into nested data, written as simplan prints them: `leads.tiers[0].arrivals_per_day`.

One notation for the paths errors name, the plan lines a sweep sets (`tiers[1].rate` inside a
component) and the parameters an uncertainty draw sets, so a planner writes a path the way
simplan reports one.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from simplan.errors import SimplanError

_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*")
_PART = re.compile(r"[A-Za-z_]\w*|\[\d+\]")


def key_path(loc: tuple[Any, ...]) -> str:
    """`('leads', 'tiers', 1, 'win_probability')` -> `leads.tiers[1].win_probability`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def parse_path(path: str) -> tuple[str | int, ...]:
    """`leads.tiers[1].win_probability` -> `('leads', 'tiers', 1, 'win_probability')`."""
    if not _PATH.fullmatch(path):
        raise SimplanError(
            f"'{path}' is not a key path; write keys joined by dots and list items in brackets, "
            "e.g. leads.tiers[0].arrivals_per_day"
        )
    return tuple(int(p[1:-1]) if p.startswith("[") else p for p in _PART.findall(path))


def leaf_paths(data: Any, prefix: tuple[str | int, ...] = ()) -> list[str]:
    """Every path in nested mappings and lists that ends at a value (not a mapping or list)."""
    if isinstance(data, dict):
        return [p for key, value in data.items() for p in leaf_paths(value, (*prefix, key))]
    if isinstance(data, list):
        return [p for i, value in enumerate(data) for p in leaf_paths(value, (*prefix, i))]
    return [key_path(prefix)] if prefix else []


def set_path(data: dict[str, Any], path: str, value: Any) -> None:
    """Set the value at `path` in nested mappings and lists, in place.

    The path must exist and end at a value; otherwise the error names the nearest valid path.
    """
    parts = parse_path(path)
    node: Any = data
    for depth, part in enumerate(parts):
        if not _has(node, part):
            raise SimplanError(f"'{path}' does not exist; {nearest_path(data, path)}")
        if depth == len(parts) - 1:
            if isinstance(node[part], dict | list) and leaf_paths(node[part]):
                example = leaf_paths(node[part], parts)[0]
                raise SimplanError(f"'{path}' names a whole block; name one value, e.g. {example}")
            node[part] = value
        else:
            node = node[part]


def nearest_path(data: dict[str, Any], path: str) -> str:
    """A hint for a path that does not exist: the closest valid path under the part that does."""
    node: Any = data
    prefix: tuple[str | int, ...] = ()
    for part in parse_path(path):
        if not _has(node, part):
            break
        node, prefix = node[part], (*prefix, part)
    if isinstance(node, list):
        where = key_path(prefix)
        return (
            f"{where} has {len(node)} items: [0] to [{len(node) - 1}]"
            if node
            else f"{where} is empty"
        )
    candidates = leaf_paths(node, prefix) if isinstance(node, dict) else []
    if not candidates:
        return f"{key_path(prefix)} holds a value, not keys"
    return "the nearest valid path is " + difflib.get_close_matches(path, candidates, 1, 0)[0]


def _has(node: Any, part: str | int) -> bool:
    """Whether `node` has the key or list index `part`."""
    if isinstance(part, int):
        return isinstance(node, list) and part < len(node)
    return isinstance(node, dict) and part in node

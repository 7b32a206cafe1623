"""The one error type users see: bad input, named by file, key or row, with the fix."""

from __future__ import annotations


class SimplanError(Exception):
    """A user error (bad file, key, value or flag); the CLI prints it and exits with code 2."""


class ConfigError(SimplanError):
    """A scenario or plan file that cannot be read or does not validate."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems)} {noun}:\n{lines}")

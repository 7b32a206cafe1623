"""The one error type users see: bad input, named by file, key or row, with the fix."""

from __future__ import annotations

SHOWN_PROBLEMS = 20
"""Problems listed in one message; the rest are counted (a 50,000-item list gives one each)."""
PROBLEM_WIDTH = 1_000
"""Characters of one problem shown: a problem may quote a value, and a value may be huge."""


class SimplanError(Exception):
    """A user error (bad file, key, value or flag); the CLI prints it and exits with code 2."""


class ConfigError(SimplanError):
    """A scenario or plan file that cannot be read or does not validate."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        shown = [_clip(p) for p in problems[:SHOWN_PROBLEMS]]
        if len(problems) > SHOWN_PROBLEMS:
            shown.append(f"... and {len(problems) - SHOWN_PROBLEMS:,} more")
        lines = "\n".join(f"  - {p}" for p in shown)
        noun = "problem" if len(problems) == 1 else "problems"
        super().__init__(f"{source}: {len(problems):,} {noun}:\n{lines}")


def _clip(problem: str) -> str:
    if len(problem) <= PROBLEM_WIDTH:
        return problem
    return f"{problem[: PROBLEM_WIDTH - 40]}... ({len(problem):,} characters in all)"

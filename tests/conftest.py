"""Shared fixtures: the small test scenario and a writer for scenario files."""

from __future__ import annotations

import sys
from pathlib import Path
from unittest.mock import patch

import pytest
import yaml

from simplan import load_scenario, simulate

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def small_scenario():
    return load_scenario(DATA / "small.yaml")


@pytest.fixture(scope="session")
def small_results(small_scenario):
    return simulate(small_scenario, replications=3, workers=1)


@pytest.fixture
def write_yaml(tmp_path):
    """Write a mapping (or raw text) as a YAML file in tmp_path and return its path."""

    def write(name: str, content) -> Path:
        path = tmp_path / name
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content))
        return path

    return write


def run_cli(capsys, *args):
    """Run the `simplan` command in this process: (exit code, stdout, stderr)."""
    from simplan.cli import main

    with patch.object(sys, "argv", ["simplan", *map(str, args)]):
        try:
            main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


MINIMAL = {"calendar": {"start": "2025-10-01", "days": 30}}

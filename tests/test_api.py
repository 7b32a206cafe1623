"""The public API is a short documented list, and the layers only import downward."""

from __future__ import annotations

import shutil
import subprocess

import simplan

from .conftest import ROOT


def test_every_public_name_exists_and_is_documented():
    assert simplan.__all__ == sorted(simplan.__all__)
    for name in simplan.__all__:
        obj = getattr(simplan, name)
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring"


def test_layer_contracts_hold():
    """import-linter: scenario -> model -> engines -> results -> runner -> cli, and no simpy in model."""
    lint = shutil.which("lint-imports", path=str(ROOT / ".venv" / "bin")) or shutil.which(
        "lint-imports"
    )
    assert lint, "import-linter is a test dependency"
    done = subprocess.run([lint], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr

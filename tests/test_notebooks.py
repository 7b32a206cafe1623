"""The notebooks: stored without outputs, and each runs top to bottom on a small setting.

Each runs in a fresh python3 kernel from this environment (ipykernel is a test dependency)
with SIMPLAN_NOTEBOOK_REPLICATIONS=2 and its files written to a temporary directory.
"""

from __future__ import annotations

import os

os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's migration warning

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
REPLICATIONS = "2"


def test_the_notebooks_are_there():
    names = {path.name for path in ALL}
    assert {
        "01_quickstart.ipynb",
        "03_finance_budget.ipynb",
        "04_targets_and_thresholds.ipynb",
        "05_compare_plans.ipynb",
    } <= names


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_stored_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs; clear them"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_runs_top_to_bottom(path, tmp_path, monkeypatch):
    monkeypatch.setenv("SIMPLAN_NOTEBOOK_REPLICATIONS", REPLICATIONS)
    monkeypatch.setenv("SIMPLAN_NOTEBOOK_OUT", str(tmp_path))
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    warnings = [
        o["text"] for o in outputs if o.get("name") == "stderr" and "Warning" in o.get("text", "")
    ]
    assert not warnings, f"{path.name} warns:\n" + "\n".join(warnings)
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no plot"

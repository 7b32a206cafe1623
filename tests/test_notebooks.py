"""The notebooks: stored without outputs, and each runs top to bottom on a small setting and
ends with "What this means", written from its numbers, then a cell that checks each figure the
conclusion quotes a second way (an assertion fails the notebook if they part).

Each runs in a fresh python3 kernel from this environment (ipykernel is a test dependency)
with SIMPLAN_NOTEBOOK_REPLICATIONS=2 and its files written to a temporary directory.
"""

from __future__ import annotations

import os
import re

os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's migration warning

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
ALL = sorted(NOTEBOOKS.glob("*.ipynb"))
REPLICATIONS = "2"
CONCLUDED = {"01", "02", "03", "04", "05", "06"}
"""Notebooks that must end with "What this means" and a cell checking what it quotes."""


def test_the_notebooks_are_there():
    names = {path.name for path in ALL}
    assert {
        "01_quickstart.ipynb",
        "02_calibrate_from_history.ipynb",
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
    if path.stem[:2] not in CONCLUDED and not any(
        "## What this means" in cell.source for cell in notebook.cells
    ):
        return  # a new notebook joins CONCLUDED when it ends with its conclusion
    said, checked = conclusion(notebook)
    assert said.startswith("**What this means**"), f"{path.name} does not end with its conclusion"
    assert checked >= 1, f"{path.name}: its last cell checks none of the figures it quotes"
    quoted = re.findall(r"\d[\d,]*(?:\.\d+)?", said)
    assert len(quoted) >= checked + 2, f"{path.name}: a conclusion with few numbers:\n{said}"


def conclusion(notebook: nbformat.NotebookNode) -> tuple[str, int]:
    """What the executed notebook ends with: the text of its "What this means" cell (the last
    code cell but one) and how many quoted figures its last cell says it checked."""
    *_, said, checks = [cell for cell in notebook.cells if cell.cell_type == "code"]
    text = "".join(o["data"].get("text/markdown", "") for o in said.outputs if "data" in o)
    printed = "".join(o.get("text", "") for o in checks.outputs if o.get("name") == "stdout")
    match = re.search(r"checked (\d+) quoted", printed)
    return text, int(match[1]) if match else 0

"""The README cannot drift from the code.

Figures: a line `<!-- figures: NAME -->` marks the block that follows it (up to the next blank
line). BLOCKS[NAME] writes, from the scenario files and tests/data/readme_figures.json (the
code's output, written by `python -m tests.readme_figures`), every text the block must
quote; the block must contain each, and every number in it (outside `code`) must be one of
theirs, so a figure typed by hand or left stale fails here. The figures file is checked
against the code by re-simulating replication 0 of each scenario.

Tree: `<!-- tree: NAME -->` marks a list the code or the tree holds, checked both ways: the
layout (every path exists; every module, package and top-level folder listed), the notebooks
table, the commands table (every command listed, every option quoted exists), the plan example
(the shipped file), the component types (the registered ones) and the tables' columns.

Blocks in other engineers' sections carry markers only (keep, prior).
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import simplan

from .conftest import ROOT
from .readme_blocks import BLOCKS, scenario
from .readme_figures import FIGURES, SCENARIOS

README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- (figures|tree): ([\w-]+) -->\s*$")
CODE = re.compile(r"`[^`]*`")
NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?")


def marked_blocks() -> dict[tuple[str, str], str]:
    """Each marked block of the README by (kind, name): the lines after the marker up to a
    blank line (a fenced block runs to its closing fence)."""
    lines = README.read_text().splitlines()
    blocks = {}
    for i, line in enumerate(lines):
        match = MARKER.match(line)
        if not match:
            continue
        body, fenced = [], False
        for text in lines[i + 1 :]:
            if text.startswith("```"):
                fenced = not fenced
            if not text.strip() and not fenced:
                break
            body.append(text)
        blocks[(match[1], match[2])] = "\n".join(body)
    return blocks


def numbers(text: str) -> set[str]:
    """The numbers written in a text, outside `code` spans."""
    return set(NUMBER.findall(CODE.sub(" ", text)))


@pytest.fixture(scope="module")
def figures() -> dict:
    return json.loads(FIGURES.read_text())["scenarios"]


def test_every_figures_marker_has_a_producer():
    marked = {name for kind, name in marked_blocks() if kind == "figures"}
    assert marked == set(BLOCKS), f"markers {sorted(marked)} against producers {sorted(BLOCKS)}"
    trees = {name for kind, name in marked_blocks() if kind == "tree"}
    assert trees == {"layout", "notebooks", "commands", "plan-example", "components", "tables"}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_marked_figures_are_the_codes(name, figures):
    block = " ".join(marked_blocks()[("figures", name)].split())  # line breaks as spaces
    expected = BLOCKS[name](figures)
    missing = [text for text in expected if text not in block]
    typed = sorted(numbers(block) - numbers(" ".join(expected)))
    quote = "The block must quote: " + " | ".join(expected)
    assert not missing, f"README block {name!r} misses {missing}. {quote}"
    assert not typed, f"README block {name!r}: numbers no producer writes: {typed}. {quote}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_figures_file_is_what_the_code_produces(name, figures):
    """Same scenario, same replication 0, same quoted runs figures: else re-run
    `python -m tests.readme_figures` and update the README from the failures above."""
    stored = figures[name]
    loaded = scenario(name)
    stale = "tests/data/readme_figures.json is stale: run python -m tests.readme_figures"
    assert stored["digest"] == loaded.digest(), f"{stored['path']} changed; {stale}"
    assert len(stored["runs"]) == loaded.simulation.replications
    first = simplan.simulate(loaded, replications=1, workers=1).runs.iloc[0]
    row = stored["runs"][0]
    for column, value in row.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert np.isclose(first[column], value, rtol=1e-9), f"{name} {column}: {stale}"
        else:
            assert first[column] == value, f"{name} {column}: {stale}"
    bookings = np.array([r["bookings"] for r in stored["runs"]])
    assert np.isclose(np.quantile(bookings, 0.5), stored["values"]["bookings P50"])


def layout_entries() -> dict[str, str]:
    """The layout block's paths with the description on their line and the lines under it."""
    entries: dict[str, str] = {}
    current = None
    for line in marked_blocks()[("tree", "layout")].splitlines():
        if line.startswith("```"):
            continue
        if line and not line.startswith(" "):
            current, _, rest = line.partition(" ")
            entries[current] = rest
        elif current is not None:
            entries[current] += " " + line.strip()
    return entries


def test_the_layout_lists_the_tree():
    entries = layout_entries()
    missing = [path for path in entries if not (ROOT / path).exists()]
    assert not missing, f"README layout lists paths that do not exist: {missing}"
    for path, text in entries.items():
        if path.endswith("/"):
            named = re.findall(r"\b(\w+\.py)\b", text)
            absent = [n for n in named if not (ROOT / path / n).exists()]
            assert not absent, f"README layout: {path} names {absent}, which are not there"
    package = ROOT / "simplan"
    modules = {
        f"simplan/{p.name}" + ("/" if p.is_dir() else "")
        for p in package.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
    }
    folders = {
        f"{p.name}/"
        for p in ROOT.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != "runs"
        and not p.name.endswith(".egg-info")
    }  # fmt: skip
    unlisted = sorted(modules - set(entries)) + sorted(
        folder for folder in folders if not any(path.startswith(folder) for path in entries)
    )
    assert not unlisted, f"README layout does not list {unlisted}"


def test_the_notebooks_table_lists_every_notebook():
    table = marked_blocks()[("tree", "notebooks")]
    listed = re.findall(r"^\| `([^`]+\.ipynb)` \|", table, flags=re.MULTILINE)
    present = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(listed) == present, f"README notebooks table {listed} against {present}"


def cli_commands() -> dict[str, set[str]]:
    """Every `simplan` command path (e.g. "history check") with the options it takes."""
    import typer

    from simplan.cli import app

    found = {}

    def walk(command, path: str) -> None:
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}

    walk(typer.main.get_command(app), "")
    return found


def test_the_commands_table_lists_every_command_with_real_options():
    commands = cli_commands()
    table = marked_blocks()[("tree", "commands")]
    listed = set()
    for row in table.splitlines()[2:]:
        first = row.split(" | ")[0]
        for span in re.findall(r"`(simplan [^`]*)`", first):
            words = span.split()[1:]
            path = " ".join(w for w in words[:2] if re.fullmatch(r"[a-z]+", w))
            while path and path not in commands:  # "history check FILE": the longest prefix
                path = path.rsplit(" ", 1)[0] if " " in path else ""
            options = set(re.findall(r"--[a-z][\w-]*", span))
            named = re.search(r"\(on ([a-z, ]+)\)", row)
            targets = [path] if path else [n.strip() for n in named[1].split(",")] if named else []
            assert targets, f"README commands table: {span!r} names no command of simplan"
            for command in targets:
                unknown = sorted(options - commands[command])
                assert not unknown, f"README: simplan {command} has no option {unknown}"
                listed.add(command)
    assert listed == set(commands), f"README commands table misses {set(commands) - listed}"


def test_the_plan_example_is_the_shipped_plan():
    import yaml

    block = marked_blocks()[("tree", "plan-example")]
    example = yaml.safe_load(block.strip().removeprefix("```yaml").removesuffix("```"))
    shipped = yaml.safe_load((ROOT / "scenarios/plans" / f"{example['name']}.yaml").read_text())
    shipped.pop("description", None)
    assert example == shipped, "README plan example differs from its file in scenarios/plans"


def test_the_component_types_listed_are_the_registered_ones():
    from simplan.model.plan import COMPONENT_TYPES

    text = " ".join(marked_blocks()[("tree", "components")].split())
    listed = text.removeprefix("Component types:").split(";")[0]
    assert sorted(n.strip() for n in listed.split(",")) == sorted(COMPONENT_TYPES)


def test_the_tables_section_lists_every_column(small_scenario, tmp_path):
    """Each table's columns as the README lists them (after `replication`), with and without
    a plan: checked on the small scenario, a day's run under the demo's plan."""
    rows = re.findall(
        r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|$", marked_blocks()[("tree", "tables")], re.M
    )
    listed = {}
    for table, text in rows:
        always, _, planned = text.replace("(empty without a plan)", "").partition("; with a plan:")
        listed[table] = (
            [c.strip() for c in always.split(",")],
            [c.strip() for c in planned.split(",") if c.strip()],
        )
    plan = scenario("demo").plan
    runs = {
        "without": simplan.simulate(small_scenario, replications=1, workers=1),
        "with": simplan.simulate(
            small_scenario.model_copy(update={"plan": plan}), replications=1, workers=1
        ),
    }
    for name, results in runs.items():
        tables = results.tables()
        assert sorted(listed) == sorted(tables), f"README tables {sorted(listed)}"
        for table, (always, planned) in listed.items():
            expected = ["replication", *always, *(planned if name == "with" else [])]
            assert list(tables[table].columns) == expected, f"README table {table} ({name} a plan)"

"""Fuzzing the files a user hands simplan: every mutated scenario, plan and history file exits
0 or 2, never with a traceback, and writes nothing when it exits 2 (issue 14).

Mutations: byte flips, truncation, a line given twice (duplicate keys, duplicate deals), a
value swapped for one of another type, and huge values. Derandomised and bounded, so the
suite is repeatable and fast; the CLI runs in this process.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from .conftest import DATA, ROOT, run_cli

SCENARIO = (DATA / "small.yaml").read_bytes()
PLAN = (ROOT / "scenarios" / "plans" / "playbook_full.yaml").read_bytes()
HISTORY = b"".join((DATA / "maven_crm" / "sales_pipeline.csv").read_bytes().splitlines(True)[:60])

ODD_VALUES = [
    True,
    None,
    "text",
    "",
    [],
    {},
    -1,
    0,
    10**30,
    1e308,
    float("inf"),
    float("nan"),
    "2025-02-30",
    "HUGE_TEXT",  # stand-ins, expanded when the file is written: examples stay small to show
    "HUGE_LIST",
]
HUGE = {b"HUGE_TEXT": b"x" * 200_000, b"HUGE_LIST": str(list(range(5_000))).encode()}
FUZZ = settings(
    max_examples=80,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is shown as found
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def leaf_paths(data, prefix=()) -> list[tuple]:
    """Every key path to a value in nested mappings and lists."""
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return [prefix]
    paths = [prefix] if prefix else []
    for key, value in items:
        paths += leaf_paths(value, (*prefix, key))
    return paths


def replaced(data, path: tuple, value):
    if not path:
        return value
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[path[0]] = replaced(copy[path[0]], path[1:], value)
    return copy


@st.composite
def byte_mutations(draw, original: bytes) -> bytes:
    """A byte flipped, the file cut short, or a line given twice."""
    kind = draw(st.sampled_from(["flip", "truncate", "duplicate_line"]))
    if kind == "flip":
        at = draw(st.integers(0, len(original) - 1))
        return original[:at] + bytes([draw(st.integers(0, 255))]) + original[at + 1 :]
    if kind == "truncate":
        return original[: draw(st.integers(0, len(original) - 1))]
    lines = original.splitlines(keepends=True)
    at = draw(st.integers(0, len(lines) - 1))
    return b"".join([*lines[: at + 1], lines[at], *lines[at + 1 :]])


@st.composite
def value_swaps(draw, original: bytes) -> bytes:
    """One value (or block) replaced by a value of another type, or a huge one."""
    data = yaml.safe_load(original)
    path = draw(st.sampled_from(leaf_paths(data)))
    value = draw(st.sampled_from(ODD_VALUES))
    return yaml.safe_dump(replaced(data, path, value), allow_unicode=True).encode()


def written(folder: Path, name: str, content: bytes) -> Path:
    """Write a mutated file, expanding the huge-value stand-ins."""
    for mark, value in HUGE.items():
        content = content.replace(mark, value)
    path = folder / name
    path.write_bytes(content)
    return path


def yaml_mutations(original: bytes):
    return st.one_of(byte_mutations(original), value_swaps(original))


def check(capsys, tmp_path: Path, *args, out: Path | None = None) -> None:
    code, stdout, stderr = run_cli(capsys, *args, *(["--out", out] if out else []))
    assert code in (0, 2), (args, code, stdout[-2000:], stderr[-2000:])
    assert "Traceback" not in stdout + stderr, stderr[-3000:]
    if code == 2:
        assert stderr.startswith("error "), stderr[:500]
        assert len(stderr) < 20_000, "a message should not echo a huge value"
        if out is not None:
            assert not out.exists()
            assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


@FUZZ
@given(content=yaml_mutations(SCENARIO))
def test_mutated_scenarios_validate_or_exit_2(capsys, tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("scenario")
    check(capsys, folder, "validate", written(folder, "s.yaml", content))


@settings(FUZZ, max_examples=30)
@given(content=byte_mutations(SCENARIO))
def test_mutated_scenarios_run_or_exit_2_writing_nothing(capsys, tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("run")
    args = (
        "run",
        written(folder, "s.yaml", content),
        "--replications",
        1,
        "--workers",
        1,
        "--quiet",
    )
    check(capsys, folder, *args, out=folder / "out")


@FUZZ
@given(content=yaml_mutations(PLAN))
def test_mutated_plans_validate_or_exit_2(capsys, tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("plan")
    check(capsys, folder, "validate", written(folder, "plan.yaml", content))


@st.composite
def history_mutations(draw) -> bytes:
    """Byte-level damage, a stray or missing quote, a huge field, or a column given twice."""
    kind = draw(st.sampled_from(["bytes", "quote", "huge", "header"]))
    if kind == "bytes":
        return draw(byte_mutations(HISTORY))
    lines = HISTORY.split(b"\n")
    at = draw(st.integers(0, len(lines) - 2))
    fields = lines[at].split(b",")
    column = draw(st.integers(0, len(fields) - 1))
    if kind == "quote":
        fields[column] = b'"' + fields[column]
    elif kind == "huge":
        fields[column] = b"HUGE_FIELD"
    else:
        header = lines[0].split(b",")
        header[column] = header[draw(st.integers(0, len(header) - 1))]
        lines[0] = b",".join(header)
    if kind != "header":
        lines[at] = b",".join(fields)
    return b"\n".join(lines)


@settings(FUZZ, max_examples=60)
@given(content=history_mutations())
def test_mutated_history_checks_or_exits_2(capsys, tmp_path_factory, content):
    folder = tmp_path_factory.mktemp("history")
    path = folder / "export.csv"
    path.write_bytes(content.replace(b"HUGE_FIELD", b"9" * 200_000))
    check(capsys, folder, "history", "check", path, "--preset", "maven_crm")

"""Every way a scenario, plan, roster or history file can be unreadable is a user error naming
the file and line (issue 14): decode, parse, depth, size, duplicate keys and columns, and paths
that are not files."""

from __future__ import annotations

import time

import pytest
import yaml

from simplan.errors import ConfigError, SimplanError
from simplan.history import read_table
from simplan.reader import CSV_FIELD_LIMIT, YAML_MAX_DEPTH, parse_csv, parse_yaml
from simplan.scenario import deep_merge, load_scenario

from .conftest import DATA, MINIMAL, run_cli

PIPELINE = DATA / "maven_crm" / "sales_pipeline.csv"


def problem(path) -> str:
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    return str(info.value)


def test_not_utf8_names_line_column_and_fix(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"name: ok\ndescription: caf\xe9\n")
    message = problem(path)
    assert "line 2, column 17" in message
    assert "0xe9" in message
    assert "UTF-8" in message


def test_binary_file_and_extends_to_binary_file(tmp_path, write_yaml):
    (tmp_path / "base.yaml").write_bytes(bytes(range(256)) * 4)
    assert "not a text file" in problem(tmp_path / "base.yaml")
    message = problem(write_yaml("child.yaml", {"extends": "base.yaml"}))
    assert "base.yaml" in message
    assert "not a text file" in message


def test_deep_nesting_is_refused_with_its_line(write_yaml):
    message = problem(write_yaml("deep.yaml", "name: x\nteam: " + "[" * 50_000 + "\n"))
    assert f"nested more than {YAML_MAX_DEPTH} levels" in message
    assert "line 2" in message


@pytest.mark.parametrize(
    ("text", "line", "key"),
    [
        ("name: a\nname: b\ncalendar: {start: 2025-10-01, days: 30}\n", 2, "'name'"),
        ("calendar:\n  start: 2025-10-01\n  days: 30\n  days: 31\n", 4, "'days'"),
        ("calendar: {start: 2025-10-01, days: 30, days: 40}\n", 1, "'days'"),
    ],
)
def test_duplicate_keys_are_refused(write_yaml, text, line, key):
    message = problem(write_yaml("dup.yaml", text))
    assert f"line {line}" in message
    assert f"duplicate key {key}" in message


def test_merge_keys_are_not_duplicates():
    data = parse_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n", "t.yaml")
    assert data["other"] == {"x": 1, "y": 3}


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    started = time.perf_counter()
    with pytest.raises(ConfigError, match="aliases expand to more than"):
        parse_yaml("\n".join(lines), "bomb.yaml")
    assert time.perf_counter() - started < 5


def test_recursive_alias_is_refused():
    with pytest.raises(ConfigError, match="refers to the value that contains it"):
        parse_yaml("a: &a [1, *a]\n", "loop.yaml")


def test_unsafe_tags_do_not_run():
    with pytest.raises(ConfigError, match="invalid YAML"):
        parse_yaml("a: !!python/object/apply:os.system ['true']\n", "tag.yaml")


@pytest.mark.parametrize(
    ("path", "fragment"),
    [("{tmp}", "is a directory, not a file"), ("/dev/null", "is a device (such as /dev/null)")],
)
def test_directory_or_device_says_what_it_is(tmp_path, path, fragment):
    path = path.format(tmp=tmp_path)
    assert fragment in problem(path)
    with pytest.raises(SimplanError) as info:
        read_table(path)
    assert fragment in str(info.value)


def test_history_csv_directory_is_named(tmp_path):
    folder = tmp_path / "export.csv"
    folder.mkdir()
    with pytest.raises(SimplanError, match="is a directory"):
        read_table(folder)


def test_missing_plan_names_scenario_key_and_resolved_path(tmp_path, write_yaml):
    (tmp_path / "plans").mkdir()
    scenario = write_yaml("s.yaml", {**MINIMAL, "plan": "plans/gone.yaml"})
    message = problem(scenario)
    assert str(scenario) in message
    assert "plan = 'plans/gone.yaml'" in message
    assert str((tmp_path / "plans" / "gone.yaml").resolve()) in message
    assert "relative to this file's folder" in message


def roster_scenario(tmp_path, write_yaml, text: str):
    (tmp_path / "team.csv").write_text(text)
    return write_yaml("s.yaml", deep_merge(MINIMAL, {"team": {"roster": "team.csv"}}))


def test_roster_with_header_and_no_rows_is_refused(tmp_path, write_yaml):
    path = roster_scenario(tmp_path, write_yaml, "rep_id,tenure_days,capacity_touches_per_day\n")
    assert "has a header but no rows" in problem(path)


def test_roster_with_a_column_twice_is_refused(tmp_path, write_yaml):
    text = "rep_id,tenure_days,capacity_touches_per_day,tenure_days\nann,3,4,400\n"
    message = problem(roster_scenario(tmp_path, write_yaml, text))
    assert "column 'tenure_days' appears 2 times in the header (columns 2, 4)" in message


def test_roster_still_reads_numbers(tmp_path, write_yaml):
    text = "rep_id,tenure_days,capacity_touches_per_day,skill\nann,30,4.5,1.2\nbob,400,6,\n"
    team = load_scenario(roster_scenario(tmp_path, write_yaml, text)).team
    assert [
        (r.rep_id, r.tenure_days, r.capacity_touches_per_day, r.skill) for r in team.roster
    ] == [
        ("ann", 30, 4.5, 1.2),
        ("bob", 400, 6.0, 1.0),
    ]


def history(tmp_path, edit) -> str:
    """The first 40 lines of the example export with one line edited: its path."""
    lines = PIPELINE.read_text().splitlines()[:40]
    edit(lines)
    path = tmp_path / "export.csv"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_history_duplicated_header_is_refused(tmp_path):
    def edit(lines):
        lines[0] = lines[0].replace("account", "close_value")

    with pytest.raises(SimplanError, match="column 'close_value' appears 2 times"):
        read_table(history(tmp_path, edit))


def test_unbalanced_quote_names_its_line(tmp_path, capsys):
    def edit(lines):
        lines[5] = lines[5].replace(",", ',"', 1)  # the rep's name opens a quote, never closed

    path = history(tmp_path, edit)
    with pytest.raises(SimplanError, match="line 6: a quote"):
        read_table(path)
    code, out, err = run_cli(capsys, "history", "check", path, "--preset", "maven_crm")
    assert code == 2
    assert "Traceback" not in out + err
    assert "line 6" in err


def test_huge_field_is_refused_quickly_and_not_echoed(tmp_path, capsys):
    def edit(lines):
        fields = lines[5].split(",")
        fields[1] = "x" * 200_000  # the rep's name: would be printed in tables
        lines[5] = ",".join(fields)

    path = history(tmp_path, edit)
    started = time.perf_counter()
    code, out, err = run_cli(capsys, "history", "check", path, "--preset", "maven_crm")
    assert time.perf_counter() - started < 10
    assert code == 2
    assert "Traceback" not in out + err
    assert f"line 6: a field longer than {CSV_FIELD_LIMIT:,} characters" in err
    assert len(err) < 1_000


def test_unclosed_quote_at_the_end_and_text_after_a_quote():
    with pytest.raises(ConfigError, match="line 3: a quote"):
        parse_csv('a,b\n1,2\n3,"x\n4,5\n', "t.csv")
    with pytest.raises(ConfigError, match="line 2: text follows a closing quote"):
        parse_csv('a,b\n1,"x"y\n', "t.csv")


def test_csv_keeps_file_line_numbers_over_blank_and_multiline_rows():
    table = parse_csv('a,b\n\n1,"two\nlines"\n3,4\n', "t.csv")
    assert table.lines == [3, 5]
    assert table.records == [["1", "two\nlines"], ["3", "4"]]


def test_example_export_reads_as_before():
    source = read_table(PIPELINE)
    assert source.frame.index[0] == 2
    assert len(source.frame) == len(PIPELINE.read_text().splitlines()) - 1
    assert source.frame["close_value"].isna().any()  # open deals have no value


def test_yaml_parse_is_the_safe_one():
    assert parse_yaml("a: 1\nb: [x, y]\n", "t.yaml") == yaml.safe_load("a: 1\nb: [x, y]\n")

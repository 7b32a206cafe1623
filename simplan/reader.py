"""The one safe reader of a user's YAML and CSV files: bounded work, every failure a user error.

Scenario, plan, roster and history files all come through here, so each way a file can be
wrong (not a file, not text, not UTF-8, not valid YAML or CSV, nested too deep, too large,
a key or column given twice) is caught once and reported as a ConfigError naming the file,
the line and the fix, never as a traceback or a hang.
"""

from __future__ import annotations

import csv
import io
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from simplan.errors import ConfigError

YAML_MAX_BYTES = 1_000_000
"""A scenario or plan is a few kilobytes; anything past this is not one."""
YAML_MAX_DEPTH = 100
"""Nesting levels of lists and mappings; a scenario needs fewer than ten."""
YAML_MAX_NODES = 1_000_000
"""Values after expanding aliases (`*name`): bounds the work an alias bomb can ask for."""
CSV_FIELD_LIMIT = 32_767
"""Characters in one CSV field: the most a spreadsheet cell holds."""
CHECK_PATH = "check the path (relative paths start at the current directory)"


def read_text(
    path: str | Path,
    *,
    missing: str = CHECK_PATH,
    fallback_encoding: str | None = None,
    max_bytes: int | None = None,
) -> str:
    """The text of a regular file, decoded as UTF-8 (a byte-order mark is honoured).

    `missing` is the hint when there is no such file. Bytes that are not UTF-8 are an error
    naming the line, unless `fallback_encoding` is given (history exports from Excel are
    often Windows-1252).
    """
    path = Path(path)
    check_file(path, missing, max_bytes)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(
            str(path), [f"cannot be read ({error.strerror}); check that you may read it"]
        ) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with a byte-order mark
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise ConfigError(str(path), ["not valid UTF-16 text; save it as UTF-8"]) from None
    if raw.startswith(b"PK\x03\x04") or b"\x00" in raw[:4096]:
        raise ConfigError(
            str(path),
            [
                "not a text file (it looks like a workbook, binary data or UTF-16 without a "
                "byte-order mark); save it as UTF-8 text"
            ],
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if fallback_encoding is not None:
            return raw.decode(fallback_encoding, errors="replace")
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        byte = raw[error.start : error.start + 1].hex()
        raise ConfigError(
            str(path),
            [
                f"line {line}, column {column}: byte 0x{byte} is not UTF-8 text; save the file "
                "as UTF-8 (in most editors: Save with encoding UTF-8)"
            ],
        ) from None


def check_file(path: Path, missing: str = CHECK_PATH, max_bytes: int | None = None) -> None:
    """Refuse anything but a regular file; a directory, device or pipe is named as what it is."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ConfigError(str(path), [f"file not found; {missing}"]) from None
    except OSError as error:
        raise ConfigError(str(path), [f"cannot be read ({error.strerror}); {missing}"]) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(
            str(path), ["is a directory, not a file; give the path of a file inside it"]
        )
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            str(path),
            [f"is {_kind(info.st_mode)}, not a regular file; give the path of a file on disk"],
        )
    if max_bytes is not None and info.st_size > max_bytes:
        raise ConfigError(
            str(path),
            [f"is {info.st_size:,} bytes, more than the {max_bytes:,} a file of this kind can be"],
        )


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device (such as /dev/null)"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def read_yaml_data(path: str | Path, *, missing: str = CHECK_PATH) -> Any:
    """Parse one YAML file safely (no code runs); duplicate keys, deep nesting and alias
    bombs are refused with the line they are on."""
    text = read_text(path, missing=missing, max_bytes=YAML_MAX_BYTES)
    return parse_yaml(text, str(path))


def parse_yaml(text: str, source: str) -> Any:
    """YAML text to plain data; every problem is a ConfigError naming `source` and the line."""
    try:
        loader = _SafeLoader(text)
    except yaml.reader.ReaderError as error:  # the whole text is checked for control characters
        raise ConfigError(source, [_character_problem(text, error)]) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, {}, YAML_MAX_NODES)
        return loader.construct_document(node)
    except yaml.YAMLError as error:
        raise ConfigError(source, [_yaml_problem(error)]) from None
    finally:
        loader.dispose()


def _character_problem(text: str, error: yaml.reader.ReaderError) -> str:
    line = text.count("\n", 0, error.position) + 1
    column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
    return (
        f"line {line}, column {column}: character #x{error.character:04x} is not allowed in "
        "YAML (a control character); delete it or save the file again as plain UTF-8 text"
    )


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    detail = f"{problem} ({context})" if context and "duplicate" not in problem else problem
    return f"invalid YAML at {where}{detail}"


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing duplicate keys and nesting beyond YAML_MAX_DEPTH."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > YAML_MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested more than {YAML_MAX_DEPTH} levels deep; a scenario needs a few",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.setdefault(key, key_node)
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if first is not key_node:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"duplicate key {key!r} (first given on line {first.start_mark.line + 1}); "
                        "keep one of them",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)


def _expanded_size(node: yaml.Node, sizes: dict[int, int], budget: int) -> int:
    """How many values `node` stands for once aliases are expanded; refuse past `budget`."""
    known = sizes.get(id(node))
    if known is not None:
        if known < 0:
            raise yaml.composer.ComposerError(
                None, None, "an alias refers to the value that contains it", node.start_mark
            )
        return known
    sizes[id(node)] = -1  # in progress: meeting it again is a cycle
    size = 1
    if isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes, budget) for item in node.value)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            size += _expanded_size(key, sizes, budget) + _expanded_size(value, sizes, budget)
    if size > budget:
        raise yaml.composer.ComposerError(
            None,
            None,
            f"aliases expand to more than {budget:,} values; write the values out instead",
            node.start_mark,
        )
    sizes[id(node)] = size
    return size


class CsvRows:
    """A CSV file's header and records; `lines` holds the line each record starts on."""

    def __init__(self, header: list[str], records: list[list[str]], lines: list[int]) -> None:
        self.header, self.records, self.lines = header, records, lines


def parse_csv(text: str, source: str, delimiter: str = ",") -> CsvRows:
    """Comma-separated (or `delimiter`-separated) text to a header and records, strictly: an
    unclosed quote, a field longer than CSV_FIELD_LIMIT, a row longer than the header or a
    column named twice is a ConfigError naming the line. Blank lines are skipped (line numbers
    stay the file's)."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, delimiter=delimiter)
    records: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        with _field_limit(CSV_FIELD_LIMIT):
            for record in reader:
                if any(field.strip() for field in record):
                    records.append(record)
                    lines.append(start)
                start = reader.line_num + 1
    except csv.Error as error:
        raise ConfigError(source, [_csv_problem(str(error), start)]) from None
    if not records:
        raise ConfigError(source, ["the file is empty; a CSV file starts with a header line"])
    header = [name.strip() or f"column_{n}" for n, name in enumerate(records[0], start=1)]
    _check_header(header, source)
    width = len(header)
    long = [line for line, record in zip(lines, records, strict=True) if len(record) > width]
    if long:
        raise ConfigError(
            source,
            [
                f"{len(long):,} line(s) have more fields than the header's {width}, e.g. line "
                f"{long[0]}; check that the delimiter is {delimiter!r}, that text containing it is "
                "quoted, and that amounts have no thousands separator (1200.00, not 1,200.00)"
            ],
        )
    return CsvRows(header, records[1:], lines[1:])


def _csv_problem(message: str, line: int) -> str:
    if "field larger than field limit" in message:
        return (
            f"line {line}: a field longer than {CSV_FIELD_LIMIT:,} characters (the most a "
            'spreadsheet cell holds); usually a quote (") that is never closed on that line. '
            "Check its quotes, or shorten the field"
        )
    if "unexpected end of data" in message:
        return (
            f'line {line}: a quote (") opened on this line is never closed; close it, or '
            'double a quote that is part of the text ("")'
        )
    if "expected after" in message:
        return (
            f"line {line}: text follows a closing quote; quote the whole field and double a "
            'quote that is part of the text ("")'
        )
    return f"line {line}: not valid CSV ({message})"


def _check_header(header: list[str], source: str) -> None:
    """Every column named once: a duplicate would silently hide one of the two."""
    positions: dict[str, list[int]] = {}
    for number, name in enumerate(header, start=1):
        positions.setdefault(name, []).append(number)
    twice = [
        f"column '{name}' appears {len(where)} times in the header (columns "
        f"{', '.join(map(str, where))}); rename or remove all but one"
        for name, where in positions.items()
        if len(where) > 1
    ]
    if twice:
        raise ConfigError(source, twice)


@contextmanager
def _field_limit(limit: int) -> Iterator[None]:
    """The csv module's field size limit is process-wide: set it for one parse only."""
    before = csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(before)

"""Reading a table from a file: CSV (every cell as text, delimiter and encoding checked) or
Parquet, with the file's line or row numbers kept so every problem can point at them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simplan.errors import ConfigError, SimplanError
from simplan.reader import check_file, parse_csv, read_text

SHOWN = 5
"""Line numbers quoted per problem."""


class Source:
    """A table as read from a file; the index holds 1-based line (CSV) or row (Parquet) numbers."""

    def __init__(self, path: Path, frame: pd.DataFrame, unit: str, delimiter: str = ",") -> None:
        self.path, self.frame, self.unit = path, frame, unit
        self.delimiter = delimiter
        """The CSV's delimiter: a ;-separated file writes decimals with a comma (12,5)."""
        self.frame.index.name = unit

    def rows(self, mask: Any) -> str:
        """'3 rows (lines 4, 9, 17)': a count and the first few numbers of the rows in `mask`."""
        labels = self.frame.index[np.asarray(mask, dtype=bool)]
        n = len(labels)
        head = ", ".join(str(i) for i in labels[:SHOWN]) + (", ..." if n > SHOWN else "")
        return f"{n:,} row{'s' if n != 1 else ''} ({self.unit}{'s' if n != 1 else ''} {head})"


def fail(source: Source, problems: list[str]) -> None:
    """Raise one user error naming the file and listing every problem."""
    raise ConfigError(str(source.path), problems)


def read_table(path: str | Path) -> Source:
    """Read a CSV (every cell as text; comma-, semicolon- or tab-separated) or Parquet file;
    refuse empty or binary files."""
    path = Path(path)
    try:
        check_file(path)
    except ConfigError as error:  # one line, as the other whole-file problems here
        raise SimplanError(f"{path}: {error.problems[0]}") from None
    suffix = path.suffix.lower()
    delimiter = ","
    if suffix in (".parquet", ".pq"):
        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as err:
            raise SimplanError(f"{path}: cannot be read as Parquet ({err})") from None
        frame.index = pd.RangeIndex(1, len(frame) + 1)
        unit = "row"
    elif suffix in (".csv", ".txt"):
        frame, delimiter = _read_csv(path)
        unit = "line"
    else:
        kind = "an Excel workbook" if suffix in (".xlsx", ".xls") else f"a '{suffix}' file"
        raise SimplanError(
            f"{path}: {kind} cannot be read; export it as .csv (comma-separated) or .parquet"
        )
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise SimplanError(f"{path}: has a header but no rows; export it again with its rows")
    return Source(path, frame, unit, delimiter)


def _read_csv(path: Path) -> tuple[pd.DataFrame, str]:
    """The CSV as text cells (empty cells missing), indexed by the line each row starts on,
    and its delimiter: ',' unless the header has none and holds ';' or a tab (as Excel writes
    CSV where the decimal separator is a comma)."""
    # Not UTF-8: Windows' Western encoding, as Excel writes it.
    text = read_text(path, fallback_encoding="cp1252")
    if not text.strip():
        raise SimplanError(
            f"{path}: the file is empty; a deals file has a header line and one row per deal"
        )
    header = next(line for line in text.splitlines() if line.strip())
    delimiter = ","
    if "," not in header:
        delimiter = next((d for d in (";", "\t") if d in header), ",")
    if "," not in header and delimiter == "," and "|" in header:
        raise SimplanError(
            f"{path}: the header is one column ({header[:60]!r}); the file looks "
            "pipe-separated. Save it as comma- or semicolon-separated CSV (e.g. Excel: Save As "
            "'CSV UTF-8')"
        )
    table = parse_csv(text, str(path), delimiter)
    width = len(table.header)
    cells = [
        [value if value != "" else np.nan for value in record] + [np.nan] * (width - len(record))
        for record in table.records
    ]
    frame = pd.DataFrame(cells, columns=table.header, index=pd.Index(table.lines), dtype=object)
    return frame, delimiter

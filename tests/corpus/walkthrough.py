"""Write one export of the corpus as CSV, for the README's walkthrough and for trying the
commands by hand: `python -m tests.corpus.walkthrough closed_only runs/corpus` writes
runs/corpus/closed_only.csv (the same file `tests/test_corpus.py` checks)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tests.corpus import EXPORTS, truth_export


def write_export(name: str, folder: Path, clean: pd.DataFrame | None = None) -> Path:
    """The corpus export `name` ('clean' or a key of EXPORTS) as folder/<name>.csv, spoiled
    from `clean` (default: `truth_export()`)."""
    frame = truth_export() if clean is None else clean
    if name != "clean":
        frame = EXPORTS[name].spoil(frame, np.random.default_rng(11))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    frame.to_csv(path, index=False)
    return path


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in {"clean", *EXPORTS}:
        sys.exit(f"usage: python -m tests.corpus.walkthrough {{clean,{','.join(EXPORTS)}}} DIR")
    print(write_export(sys.argv[1], Path(sys.argv[2])))

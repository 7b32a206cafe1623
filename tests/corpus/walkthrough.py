"""Write one export of the corpus as CSV, for the README's walkthrough and for trying the
commands by hand: `python -m tests.corpus.walkthrough closed_only runs/corpus` writes
runs/corpus/closed_only.csv (the same file `tests/test_corpus.py` checks); the names of
`tests/corpus/styles.py` (pipedrive, dynamics, zoho, sales_ops) write those exports.

`run_walkthrough(folder)` runs the README walkthrough's commands on that export in this
process (history check, calibrate, compare; one worker, which gives the same figures as any
number) and returns what they wrote, for the README's `walkthrough` figures block.
"""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pandas as pd
import yaml

from simplan.history import read_opportunities
from tests.corpus import AS_OF, EXPORTS, fiscal_export, truth_export
from tests.corpus.styles import STYLES, write_style

ROOT = Path(__file__).parent.parent.parent
PLANS = ("scenarios/plans/tiered_marginal.yaml", "scenarios/plans/gate80_cap150.yaml")
PERIODS = 2


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


def simplan(*args: object) -> str:
    """Run a `simplan` command in this process; its printed output (an error if it fails)."""
    from simplan.cli import main

    printed = io.StringIO()
    with (
        patch.object(sys, "argv", ["simplan", *map(str, args)]),
        contextlib.redirect_stdout(printed),
    ):
        try:
            main()
        except SystemExit as exit_:
            if exit_.code:
                raise RuntimeError(
                    f"simplan {' '.join(map(str, args))}: {printed.getvalue()}"
                ) from None
    return printed.getvalue()


def run_walkthrough(folder: Path) -> dict:
    """The walkthrough's three commands on the closed-only export: the history's outcomes,
    calibrate's notes, parameters and fit check, the comparison's differences and summary,
    and the calibrated scenario."""
    export = write_export("closed_only", folder)
    history = read_opportunities(export, as_of=AS_OF)
    team, report, compare = folder / "team.yaml", folder / "calibration", folder / "compare"
    simplan("calibrate", export, "--as-of", AS_OF, "--periods", PERIODS, "--out", team,
            "--report", report, "--workers", 1)  # fmt: skip
    plans = [item for plan in PLANS for item in ("--plan", ROOT / plan)]
    simplan("compare", team, *plans, "--out", compare, "--workers", 1, "--quiet")
    return {
        "outcomes": history.deals["outcome"].value_counts().to_dict(),
        "notes": (report / "notes.md").read_text(),
        "params": pd.read_csv(report / "params.csv").set_index("parameter"),
        "fit_check": pd.read_csv(report / "fit_check.csv"),
        "differences": pd.read_parquet(compare / "differences.parquet"),
        "summary": pd.read_parquet(compare / "summary.parquet"),
        "scenario": yaml.safe_load(team.read_text()),
    }


if __name__ == "__main__":
    names = ["clean", *EXPORTS, *STYLES]
    if len(sys.argv) != 3 or sys.argv[1] not in names:
        sys.exit(f"usage: python -m tests.corpus.walkthrough {{{','.join(names)}}} DIR")
    name, folder = sys.argv[1], Path(sys.argv[2])
    if name in STYLES:  # the Zoho report is of the team on 13-week quarters
        truth = fiscal_export("13-week") if name == "zoho" else truth_export()
        print(write_style(name, folder, truth))
    else:
        print(write_export(name, folder))

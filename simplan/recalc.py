"""What a plan would have paid on a real ledger: statements from `compute_payouts` on deals
read by `simplan.history`, and the files `simplan payout` writes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from simplan.errors import SimplanError
from simplan.model.plan import Plan, compute_payouts
from simplan.model.plan.sheet import Statements


def payout_statements(
    ledger: pd.DataFrame, targets: pd.DataFrame, plan: Plan, source: str
) -> Statements:
    """`compute_payouts` on a ledger read here; its errors start with `source` (the file(s))."""
    try:
        return compute_payouts(ledger, targets, None, plan)
    except SimplanError as err:
        raise SimplanError(f"{source}: {err}") from None


def write_payout(directory: Path, statements: Statements, manifest: dict[str, Any]) -> None:
    """Write lines.parquet, totals.parquet, lines.csv (amounts to the cent) and manifest.json."""
    statements.lines.to_parquet(directory / "lines.parquet", index=False)
    statements.totals.to_parquet(directory / "totals.parquet", index=False)
    statements.lines.assign(amount=statements.lines["amount"].round(2)).to_csv(
        directory / "lines.csv", index=False
    )
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))

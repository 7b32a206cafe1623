"""The `simplan` command: parse, call the API, print. User errors exit 2 without a traceback.

Commands live by concept: `simulate` (validate, run), `payout` (re-calculate a real ledger),
`analyse` (compare, budget, targets, thresholds); `app` holds what they share.
"""

from simplan.cli import analyse, design, history, payout, pilot, report, schema, simulate  # noqa: F401 - importing registers the commands
from simplan.cli.app import app, main

__all__ = ["app", "main"]

"""Deal history from a CRM export: read a CSV or Parquet file, map its columns to simplan's
names, check every row once, and return tidy tables (the won-deal ledger a plan pays on, and
targets per rep and period).

Every problem in a file is collected and raised as one SimplanError naming the file, the
column, the first few line numbers (1-based; the CSV header is line 1) with a count, and
the fix. Tables returned here are trusted by the payout engine and the calibrators.
"""

from simplan.history.checks import DATE_FORMATS, OUTCOME_LABELS
from simplan.history.columns import (
    HINTS,
    OPTIONAL,
    OUTCOMES,
    REQUIRED,
    TARGET_COLUMNS,
    parse_mapping,
    resolve_columns,
)
from simplan.history.deals import read_deals, read_history, won_ledger
from simplan.history.files import SHOWN, Source, read_table
from simplan.history.targets import quota_targets, read_targets

__all__ = [
    "DATE_FORMATS",
    "HINTS",
    "OPTIONAL",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "REQUIRED",
    "SHOWN",
    "TARGET_COLUMNS",
    "Source",
    "parse_mapping",
    "quota_targets",
    "read_deals",
    "read_history",
    "read_table",
    "read_targets",
    "resolve_columns",
    "won_ledger",
]

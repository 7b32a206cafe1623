"""Deal history from a CRM export: read a CSV or Parquet file, map its columns to simplan's
names, check every row once, and return tidy tables (the won-deal ledger a plan pays on, and
targets per rep and period), and the opportunity history calibration fits (`read_opportunities`:
open deals kept as censored, presets for common CRMs, roster, targets and price list; `prepare`:
the anomaly rule and the tier rule, each stated in words).

Every problem in a file is collected and raised as one SimplanError naming the file, the
column, the first few line numbers (1-based; the CSV header is line 1) with a count, and
the fix. Tables returned here are trusted by the payout engine and the calibrators.
"""

from simplan.history.anomalies import AnomalyRule, apply_anomaly_rule
from simplan.history.checks import DATE_FORMATS, OUTCOME_LABELS
from simplan.history.columns import (
    HINTS,
    OPTIONAL,
    OUTCOMES,
    REQUIRED,
    TARGET_COLUMNS,
    parse_mapping,
    parse_renames,
    resolve_columns,
)
from simplan.history.deals import read_deals, read_history, won_ledger
from simplan.history.files import SHOWN, Source, read_table
from simplan.history.opportunities import History, Prepared, prepare, read_opportunities
from simplan.history.presets import PRESETS, Preset, get_preset
from simplan.history.report import history_summary, period_summary
from simplan.history.roster import product_key, read_products, read_roster_table
from simplan.history.targets import quota_targets, read_targets
from simplan.history.tiers import TierRule, assign_tiers

__all__ = [
    "DATE_FORMATS",
    "HINTS",
    "OPTIONAL",
    "OUTCOMES",
    "OUTCOME_LABELS",
    "PRESETS",
    "REQUIRED",
    "SHOWN",
    "TARGET_COLUMNS",
    "AnomalyRule",
    "History",
    "Prepared",
    "Preset",
    "Source",
    "TierRule",
    "apply_anomaly_rule",
    "assign_tiers",
    "get_preset",
    "history_summary",
    "parse_mapping",
    "parse_renames",
    "period_summary",
    "prepare",
    "product_key",
    "quota_targets",
    "read_deals",
    "read_history",
    "read_opportunities",
    "read_products",
    "read_roster_table",
    "read_table",
    "read_targets",
    "resolve_columns",
    "won_ledger",
]

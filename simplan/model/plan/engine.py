"""compute_payouts: (ledger, targets, team, plan) -> Statements. Pure: no clock, no I/O."""

from __future__ import annotations

import pandas as pd

from simplan.model.periods import Periods
from simplan.model.plan.book import Book
from simplan.model.plan.budget import apply_budget
from simplan.model.plan.flags import compute_flags
from simplan.model.plan.inputs import read_book
from simplan.model.plan.schema import Plan
from simplan.model.plan.sheet import Sheet, Statements, build_statements


def compute_payouts(
    ledger: pd.DataFrame,
    targets: pd.DataFrame,
    team: pd.DataFrame | None,
    plan: Plan,
    *,
    check: bool = True,
    periods: Periods | None = None,
) -> Statements:
    """Statements of what ``plan`` pays each rep, manager and fund per period.

    ``ledger``: one row per (won deal, credited rep), each paid in the plan period holding its
    close date; ``targets``: rep x period targets keyed by the plan clock's labels (2024-01,
    2024Q1, FY2025-P01); ``team``: the roster (None: all veterans, no squads or managers);
    its optional ``replication`` column pays a batch of replications in one run (contests,
    rankings, team-wide pools and the budget within each replication).
    ``periods``: the business's periods, which a plan with ``clock: period`` pays per.
    ``check=False`` skips the row-level ledger checks for ledgers the simulator produced.
    Raises SimplanError naming the table, column or row for bad input.
    """
    book = read_book(ledger, targets, team, plan.clock_periods(periods), check=check)
    return run_plan(book, plan)


def run_plan(book: Book, plan: Plan) -> Statements:
    """Apply every component in stage order, then flags and budget."""
    sheet = Sheet(book)
    sheet.components = {c.label: c for c in plan.components}
    for component in plan.ordered():
        component.apply(sheet)
    flags = compute_flags(sheet, plan.flags) if plan.flags is not None else pd.DataFrame()
    budget = apply_budget(sheet, plan.budget)
    return build_statements(sheet, flags, budget)

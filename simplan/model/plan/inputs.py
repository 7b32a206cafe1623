"""Check the ledger, targets and team tables once, and turn them into a :class:`Book`.

Every problem raises :class:`~simplan.errors.SimplanError` naming the table, the column
or row, what was found and the fix. Inside the payout engine nothing is checked again.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from simplan.errors import SimplanError
from simplan.model.periods import Periods, parse_periods
from simplan.model.plan.base import ROLES, TENURES
from simplan.model.plan.book import Book
from simplan.model.plan.groups import per_day

LEDGER_COLUMNS = ("deal_id", "rep_id", "close_date", "amount", "deal_amount", "credit_share")
LEDGER_OPTIONAL = ("role", "customer_id", "new_customer", "returned", "project", "tier")
TARGET_COLUMNS = ("rep_id", "period", "target")
TEAM_COLUMNS = ("rep_id", "tenure")
TEAM_OPTIONAL = ("squad", "mentor_id", "manager_id", "replication")
SHARE_TOLERANCE = 1e-6


def _require_columns(table: str, frame: object, required: tuple[str, ...]) -> pd.DataFrame:
    if not isinstance(frame, pd.DataFrame):
        raise SimplanError(f"{table}: expected a pandas DataFrame, got {type(frame).__name__}")
    problems = []
    present = [str(c) for c in frame.columns]
    for column in required:
        if column not in frame.columns:
            near = difflib.get_close_matches(column, present, n=1, cutoff=0.6)
            fix = f"found '{near[0]}': rename it to '{column}'" if near else "add it"
            problems.append(f"{table} has no column '{column}' ({fix})")
    if problems:
        problems.append(f"{table} needs the columns: {', '.join(required)}")
        raise SimplanError("; ".join(problems))
    return frame


def show(value: object) -> str:
    """A value as the user wrote it (numpy scalars shown as plain Python values)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _row(frame: pd.DataFrame, position: int, key: str = "deal_id") -> str:
    label = frame.index[position]
    ident = f", {key} {show(frame[key].iloc[position])}" if key in frame.columns else ""
    return f"row {show(label)}{ident}"


def _numbers(table: str, frame: pd.DataFrame, column: str) -> np.ndarray:
    try:
        values = frame[column].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise SimplanError(
            f"{table}.{column} must be numbers; convert it with pd.to_numeric first"
        ) from None
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise SimplanError(
            f"{table} {_row(frame, bad[0])}: {column} = {show(values[bad[0]])}; "
            f"every {column} must be a finite number (fill or drop the row)"
        )
    return values


def _days(table: str, frame: pd.DataFrame, column: str) -> np.ndarray:
    dates = frame[column]
    if not pd.api.types.is_datetime64_dtype(dates.dtype):
        try:
            dates = pd.to_datetime(dates)
        except (TypeError, ValueError) as err:
            raise SimplanError(
                f"{table}.{column} must be dates ({err}); parse it with pd.to_datetime"
            ) from None
        if isinstance(dates.dtype, pd.DatetimeTZDtype):
            dates = dates.dt.tz_localize(None)
    values = dates.to_numpy()
    if np.isnat(values).any():
        bad = int(np.flatnonzero(np.isnat(values))[0])
        raise SimplanError(
            f"{table} {_row(frame, bad)}: {column} is missing; every won deal has one"
        )
    return values.astype("datetime64[D]").astype(np.int64)


def read_targets(
    targets: pd.DataFrame, clock: Periods
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rep ids sorted, period positions in ``clock`` sorted, dense target per cell) from a
    targets table keyed by the clock's period labels (a pandas Period counts as its text)."""
    _require_columns("targets", targets, TARGET_COLUMNS)
    period = targets["period"]
    codes, distinct = pd.factorize(period, use_na_sentinel=True)  # match each label once
    positions = np.r_[clock.positions(np.asarray(distinct, dtype=object)), -1][codes]
    if (positions < 0).any():
        bad = int(np.flatnonzero(positions < 0)[0])
        value = str(period.iloc[bad])
        raise SimplanError(
            f"targets {_row(targets, bad, 'rep_id')}: period {value!r} is not a period of the "
            f"plan clock, {clock.describe(near=value)}; key targets by its labels (targets on "
            "another clock: simplan.history.read_targets sums or spreads them by days)"
        )
    value = _numbers("targets", targets, "target")
    if (value <= 0).any():
        bad = int(np.flatnonzero(value <= 0)[0])
        raise SimplanError(
            f"targets {_row(targets, bad, 'rep_id')}: target = {show(value[bad])}; targets must be "
            "> 0 (attainment is bookings / target)"
        )
    rep_codes, rep_ids = pd.factorize(targets["rep_id"].astype(str), sort=True)
    periods, period_codes = np.unique(positions, return_inverse=True)
    cells = rep_codes * len(periods) + period_codes
    counts = np.bincount(cells, minlength=len(rep_ids) * len(periods))
    if (counts > 1).any():
        cell = int(np.flatnonzero(counts > 1)[0])
        raise SimplanError(
            f"targets has {counts[cell]} rows for rep {show(rep_ids[cell // len(periods)])} in "
            f"{clock.labels[periods[cell % len(periods)]]}; keep one per rep and period"
        )
    if (counts == 0).any():
        cell = int(np.flatnonzero(counts == 0)[0])
        raise SimplanError(
            f"targets has no row for rep {show(rep_ids[cell // len(periods)])} in "
            f"{clock.labels[periods[cell % len(periods)]]}; give every rep a "
            "target for every period (targets_from_quota builds a flat table)"
        )
    target = np.empty(len(cells))
    target[cells] = value
    return np.asarray(rep_ids, dtype=object), periods, target


def read_team(team: pd.DataFrame | None, rep_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Tenure, squad, manager and replication codes per rep (in ``rep_ids`` order)."""
    n = len(rep_ids)
    if team is None:
        none = np.full(n, -1)
        empty = np.array([], dtype=object)
        return {"tenure": np.full(n, 2, np.int8), "squad": none, "squad_names": empty,
                "manager": none, "manager_ids": empty, "unit": np.zeros(n, np.int64)}  # fmt: skip
    _require_columns("team", team, TEAM_COLUMNS)
    ids = team["rep_id"].astype(str)
    if ids.duplicated().any():
        dup = ids[ids.duplicated()].iloc[0]
        raise SimplanError(f"team lists rep {show(dup)} twice; keep one row per rep")
    where = pd.Index(ids).get_indexer(rep_ids)
    if (where < 0).any():
        missing = [str(r) for r in rep_ids[where < 0][:5]]
        raise SimplanError(
            f"team has no row for rep(s) {', '.join(missing)} that have targets; add them "
            "with their tenure (new_hire, ramping or veteran)"
        )
    tenure = pd.Index(TENURES).get_indexer(team["tenure"])
    if (tenure < 0).any():
        bad = int(np.flatnonzero(tenure < 0)[0])
        raise SimplanError(
            f"team {_row(team, bad, 'rep_id')}: tenure = {show(team['tenure'].iloc[bad])}; "
            f"allowed: {', '.join(TENURES)}"
        )
    out = {"tenure": tenure[where].astype(np.int8), "unit": np.zeros(n, np.int64)}
    if "replication" in team.columns:  # a batch of replications paid in one run
        unit = pd.factorize(team["replication"].iloc[where], use_na_sentinel=True)[0]
        if (unit < 0).any():
            bad = int(where[np.flatnonzero(unit < 0)[0]])
            raise SimplanError(
                f"team {_row(team, bad, 'rep_id')}: replication is missing; give every rep "
                "one (reps of one replication compete with each other only) or drop the column"
            )
        out["unit"] = unit.astype(np.int64)
    for column, codes_key, names_key in (
        ("squad", "squad", "squad_names"),
        ("manager_id", "manager", "manager_ids"),
    ):
        if column in team.columns:
            raw = team[column].iloc[where]
            codes, names = pd.factorize(raw.astype(str).where(raw.notna()), use_na_sentinel=True)
            out[codes_key], out[names_key] = codes, np.asarray(names, dtype=object)
        else:
            out[codes_key], out[names_key] = np.full(n, -1), np.array([], dtype=object)
    return out


def check_ledger(ledger: pd.DataFrame, amount: np.ndarray, deal_amount: np.ndarray) -> None:
    """Row-level checks: amounts >= 0, shares in 0..1 summing to 1 per deal, roles known."""
    for column, values in (("amount", amount), ("deal_amount", deal_amount)):
        if (values < 0).any():
            bad = int(np.flatnonzero(values < 0)[0])
            raise SimplanError(
                f"ledger {_row(ledger, bad)}: {column} = {show(values[bad])}; amounts must be >= 0 "
                "(mark a returned deal with returned=True instead of a negative amount)"
            )
    share = _numbers("ledger", ledger, "credit_share")
    outside = (share < 0) | (share > 1)
    if outside.any():
        bad = int(np.flatnonzero(outside)[0])
        raise SimplanError(
            f"ledger {_row(ledger, bad)}: credit_share = {show(share[bad])}; a credit share is a "
            "fraction between 0 and 1 (write 60% as 0.6)"
        )
    deal_codes, deal_ids = pd.factorize(ledger["deal_id"])
    totals = np.bincount(deal_codes, weights=share)
    off = np.abs(totals - 1) > SHARE_TOLERANCE
    if off.any():
        deal = int(np.flatnonzero(off)[0])
        rows = [show(r) for r in ledger.index[deal_codes == deal][:5]]
        raise SimplanError(
            f"ledger deal {show(deal_ids[deal])}: credit shares sum to {totals[deal]:.6g} (rows "
            f"{', '.join(rows)}); the shares of one deal must sum to 1 (e.g. 0.6 + 0.4)"
        )
    expected = deal_amount * share
    wrong = np.abs(amount - expected) > 1e-6 * np.maximum(1.0, np.abs(expected)) + 0.005
    if wrong.any():
        bad = int(np.flatnonzero(wrong)[0])
        raise SimplanError(
            f"ledger {_row(ledger, bad)}: amount = {show(amount[bad])} but deal_amount * "
            f"credit_share = {show(expected[bad])}; amount is the credited part of the deal"
        )
    if "role" in ledger.columns:
        codes = pd.Index(ROLES).get_indexer(ledger["role"].fillna("lead"))
        if (codes < 0).any():
            bad = int(np.flatnonzero(codes < 0)[0])
            raise SimplanError(
                f"ledger {_row(ledger, bad)}: role = {show(ledger['role'].iloc[bad])}; "
                f"allowed: {', '.join(ROLES)}"
            )


def read_book(
    ledger: pd.DataFrame,
    targets: pd.DataFrame,
    team: pd.DataFrame | None,
    clock: str | Periods = "month",
    *,
    check: bool = True,
) -> Book:
    """Validate the three tables and code them as a :class:`Book` on the plan ``clock``
    (periods, or a rule such as ``month``, ``quarter``, ``4-4-5:2025-01-06``).

    ``check=False`` skips the row-level ledger checks (shares per deal, amounts, roles) for
    ledgers the simulator produced; columns, dates and rep/period coverage are always checked.
    """
    clock = parse_periods(clock) if isinstance(clock, str) else clock
    _require_columns("ledger", ledger, LEDGER_COLUMNS)
    rep_ids, periods, target = read_targets(targets, clock)
    roster = read_team(team, rep_ids)
    amount = _numbers("ledger", ledger, "amount")
    deal_amount = _numbers("ledger", ledger, "deal_amount")
    if check:
        check_ledger(ledger, amount, deal_amount)
    day = _days("ledger", ledger, "close_date")
    code_of = np.full(len(clock) + 1, -1)  # period code by clock position (last: none)
    code_of[periods] = np.arange(len(periods))
    period = per_day(day, lambda days: code_of[clock.index(days)])
    if (period < 0).any():
        bad = int(np.flatnonzero(period < 0)[0])
        position = int(clock.index(np.datetime64(int(day[bad]), "D"))[0])
        found = clock.labels[position] if position >= 0 else "no period of the clock"
        raise SimplanError(
            f"ledger {_row(ledger, bad)}: close_date {_date(day[bad])} falls in {found}, a period "
            "without targets; add targets for it or drop deals outside the plan periods"
        )
    rep_codes, rep_seen = pd.factorize(ledger["rep_id"])
    where = pd.Index(rep_ids).get_indexer(pd.Index(rep_seen).astype(str))
    if (where < 0).any():
        unknown = np.asarray(rep_seen)[where < 0][0]
        bad = int(np.flatnonzero(rep_codes == np.flatnonzero(where < 0)[0])[0])
        raise SimplanError(
            f"ledger {_row(ledger, bad)}: rep_id {show(unknown)} has no targets; add the rep to "
            "targets (and team) or drop the row"
        )
    optional = {c: ledger[c] for c in (*LEDGER_OPTIONAL, "deal_id") if c in ledger}
    return Book(
        clock=clock,
        rep_ids=rep_ids,
        periods=periods,
        target=target,
        rep=where[rep_codes],
        period=period,
        amount=amount,
        deal_amount=deal_amount,
        credit_share=ledger["credit_share"].to_numpy(dtype=float),
        day=day,
        optional=optional,
        **roster,
    )


def _date(day: int) -> str:
    return str(np.datetime64(int(day), "D"))


def targets_from_quota(
    team: pd.DataFrame | list[str], periods: Sequence[object], quota: float
) -> pd.DataFrame:
    """A flat targets table: every rep in ``team`` gets ``quota`` in each of ``periods``
    (period labels of the plan clock, e.g. 2024-01 or FY2025-Q1; pandas Periods as their text)."""
    reps = list(team["rep_id"]) if isinstance(team, pd.DataFrame) else list(team)
    labels = [str(p) for p in periods]
    return pd.DataFrame(
        {
            "rep_id": np.repeat(np.asarray(reps, dtype=object), len(labels)),
            "period": np.tile(np.asarray(labels, dtype=object), len(reps)),
            "target": float(quota),
        }
    )

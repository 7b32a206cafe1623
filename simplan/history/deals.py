"""Deal tables: every deal of a CRM export (`read_history`), each row checked once, and the
won-deal ledger a plan pays on (`won_ledger`, `read_deals`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from simplan.errors import SimplanError
from simplan.history.checks import Checker
from simplan.history.columns import OPTIONAL, OUTCOMES, REQUIRED, resolve_columns
from simplan.history.files import SHOWN, Source, fail, read_table


def read_history(
    path: str | Path,
    mapping: dict[str, str] | None = None,
    date_format: str | None = None,
    today: pd.Timestamp | str | None = None,
    *,
    preferred_format: str | None = None,
    may_be_empty_on_won: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Every deal of a CRM export with simplan's column names, each row checked once.

    Columns: deal_id, rep_id, close_date, amount (the whole deal's value), outcome ('won' /
    'lost' / 'open'), credit_share (1.0 unless the file splits deals), and the optional
    customer_id, role, tier, project, created_date, product, returned when present. Index:
    the file's line (CSV) or row (Parquet) numbers. `mapping` is `parse_mapping`'s output;
    `date_format` a strftime format for the date columns (default: detected per column);
    closed deals dated after `today` (default: the machine's date) are a problem, while an
    open deal's close date is its expected close and may lie ahead. With `is_won` and
    `is_closed` flags mapped (Salesforce), they decide the outcome instead of stage labels.
    `preferred_format` (a preset's) is tried first when no `date_format` is given, then the
    detected ones. `may_be_empty_on_won` names columns (rep_id, amount) whose empty cells on
    won deals the caller reports and treats itself (calibration) instead of refusing them.
    Raises SimplanError listing every problem.
    """
    mapping = dict(mapping or {})
    source = read_table(path)
    columns = resolve_columns(source, mapping, REQUIRED, OPTIONAL)
    notes = _drop_copies_and_totals(source, columns["deal_id"], "credit_share" in columns)
    check = Checker(source, columns)
    check.preferred_format = preferred_format
    rows = source.rows
    outcome = _outcomes(check, mapping)
    won = outcome.eq("won")
    deal_id, rep_id = check.text("deal_id"), check.text("rep_id")
    amount = check.numbers("amount")
    close_date = check.dates("close_date", date_format)
    created = "created_date" in columns
    created_date = check.dates("created_date", date_format) if created else None
    split = "credit_share" in columns
    share = check.numbers("credit_share") if split else pd.Series(1.0, index=deal_id.index)

    if deal_id.isna().any():
        check.problems.append(
            f"{check.name('deal_id')} is empty on {rows(deal_id.isna())}; every deal needs an id"
        )
    key = deal_id.fillna("") + "\x1f" + rep_id.fillna("") if split else deal_id
    repeated = key.duplicated(keep=False) & deal_id.notna()
    if repeated.any():
        first = deal_id[repeated].iloc[0]
        where = ", ".join(str(i) for i in deal_id.index[repeated & deal_id.eq(first)][:SHOWN])
        check.problems.append(
            f"{check.name('deal_id')} repeats {key[repeated].nunique():,} id(s) on "
            f"{rows(repeated)}, e.g. {first!r} on {source.unit}s {where}; "
            + (
                "keep one row per deal and rep"
                if split
                else "keep one row per deal (a deal split between reps needs a credit_share "
                "column giving each rep's share)"
            )
        )
    for canonical, values in (("rep_id", rep_id), ("amount", amount), ("close_date", close_date)):
        if canonical in may_be_empty_on_won:
            continue
        missing = won & values.isna()
        if canonical in check.unreadable:
            missing &= ~check.unreadable[canonical]
        if missing.any():
            hint = ""
            if canonical == "close_date" and "outcome" not in columns:
                hint = (
                    " (no outcome column is mapped, so every row counts as won: if the file "
                    "holds open or lost deals, pass --map outcome=<stage column>)"
                )
            check.problems.append(
                f"{check.name(canonical)} is empty on {rows(missing)} of won deals{hint}; "
                "fill it in or drop those rows"
            )
    negative = amount < 0
    if negative.any():
        check.problems.append(
            f"{check.name('amount')} is negative on {rows(negative)}, e.g. "
            f"{amount[negative].iloc[0]:g}; amounts must be >= 0 (drop refunds and credit "
            "notes, or mark the deal as returned)"
        )
    nothing = won & amount.eq(0)
    if nothing.any():
        check.problems.append(
            f"{check.name('amount')} is 0 on {rows(nothing)} of won deals; a won deal books its "
            "value: fill it in, or mark the deal lost if nothing was sold"
        )
    _check_dates(check, outcome, close_date, created_date, today)
    if split:
        _check_shares(check, deal_id, amount, share)
    if check.problems:
        fail(source, check.problems)

    history = pd.DataFrame(
        {
            "deal_id": deal_id,
            "rep_id": rep_id,
            "close_date": close_date,
            "amount": amount,
            "outcome": pd.Categorical(outcome, categories=OUTCOMES),
            "credit_share": share,
        }
    )
    for canonical in ("customer_id", "role", "tier", "project", "product"):
        if canonical in columns:
            history[canonical] = check.text(canonical)
    if created_date is not None:
        history["created_date"] = created_date
    if "returned" in columns:
        history["returned"] = check.flags("returned")
    history.attrs["source"] = str(source.path)
    history.attrs["notes"] = [*notes, *check.notes]
    history.attrs["columns"] = columns
    return history


_TOTAL = re.compile(r"^\s*(?:grand\s+|sub\s*)?totals?\b", re.IGNORECASE)


def _drop_copies_and_totals(source: Source, id_column: str, split: bool) -> list[str]:
    """Rows exported twice (every cell the same; not in a file splitting deals between reps,
    where a repeated row is more likely a wrong rep) and a spreadsheet's total lines (no deal
    id, a cell reading 'Total') are dropped from `source` in place; what was dropped, said."""
    frame = source.frame
    notes = []
    copies = frame.duplicated(keep="first") & (not split)
    if copies.any():
        notes.append(
            f"{source.rows(copies)} repeat an earlier row cell for cell (exported twice): "
            "dropped, each deal counted once"
        )
    text = frame.astype(str)
    totals = frame[id_column].isna() & text.apply(lambda c: c.str.match(_TOTAL)).any(axis=1)
    if totals.any():
        notes.append(
            f"{source.rows(totals)} without a deal id read 'Total' (a spreadsheet's sum line): "
            "dropped"
        )
    source.frame = frame[~(copies | totals)]
    return notes


def _outcomes(check: Checker, mapping: dict[str, str]) -> pd.Series:
    """Outcome per row: from the is_won / is_closed flags when mapped, else from stage labels."""
    columns = check.columns
    flags = [c for c in ("is_won", "is_closed") if c in columns]
    if not flags:
        return check.outcomes({k: v for k, v in mapping.items() if k in OUTCOMES})
    if len(flags) == 1:
        other = "is_closed" if flags[0] == "is_won" else "is_won"
        check.problems.append(
            f"{check.name(flags[0])} is mapped without {other}; map both (e.g. --map "
            "is_won=IsWon --map is_closed=IsClosed) or neither and use the stage column"
        )
        return pd.Series("open", index=check.source.frame.index, dtype=object)
    is_won, is_closed = check.flags("is_won"), check.flags("is_closed")
    odd = is_won & ~is_closed
    if odd.any():
        check.problems.append(
            f"{check.name('is_won')} is true while {check.name('is_closed')} is false on "
            f"{check.source.rows(odd)}; a won deal is closed: fix the flags"
        )
    outcome = pd.Series("open", index=is_won.index, dtype=object)
    outcome[is_closed] = "lost"
    outcome[is_won] = "won"
    return outcome


def _check_dates(
    check: Checker,
    outcome: pd.Series,
    close_date: pd.Series,
    created_date: pd.Series | None,
    today: pd.Timestamp | str | None,
) -> None:
    """Closed deals not dated in the future, not closed before created, created when closed."""
    rows = check.source.rows
    now = pd.Timestamp.today() if today is None else pd.Timestamp(today)
    limit = now.normalize() + pd.Timedelta(days=1)  # anything during `today` is fine
    closed = outcome.isin(["won", "lost"])
    ahead = closed & (close_date >= limit)
    if ahead.any():
        check.problems.append(
            f"{check.name('close_date')} lies in the future (after {now:%Y-%m-%d}) on "
            f"{rows(ahead)} of closed deals, e.g. {close_date[ahead].iloc[0]:%Y-%m-%d}; a won "
            "or lost deal has closed already: check the date format (--date-format) and the "
            "outcome of those rows"
        )
    if created_date is None:
        return
    ahead = created_date >= limit
    if ahead.any():
        check.problems.append(
            f"{check.name('created_date')} lies in the future (after {now:%Y-%m-%d}) on "
            f"{rows(ahead)}, e.g. {created_date[ahead].iloc[0]:%Y-%m-%d}; check the date format"
            " (--date-format)"
        )
    unreadable = check.unreadable.get("created_date", pd.Series(False, index=outcome.index))
    missing = closed & created_date.isna() & ~unreadable
    if missing.any():
        check.problems.append(
            f"{check.name('created_date')} is empty on {rows(missing)} of closed deals; "
            "every won or lost deal needs the date it was opened: fill it in or drop those rows"
        )
    backwards = closed & (close_date.dt.normalize() < created_date.dt.normalize())
    if backwards.any():
        first = backwards.idxmax()
        check.problems.append(
            f"{check.name('close_date')} is before {check.name('created_date')} on "
            f"{rows(backwards)}, e.g. closed {close_date[first]:%Y-%m-%d}, created "
            f"{created_date[first]:%Y-%m-%d}; fix the dates (deals imported from another "
            "system often carry the import date as created date)"
        )


def _check_shares(check: Checker, deal_id: pd.Series, amount: pd.Series, share: pd.Series) -> None:
    rows = check.source.rows
    size = deal_id.map(deal_id.value_counts())
    share.loc[share.isna() & size.eq(1)] = 1.0  # a deal on one row is all its rep's
    outside = share.notna() & ((share <= 0) | (share > 1))
    if share.isna().any() or outside.any():
        check.problems.append(
            f"{check.name('credit_share')} is empty or outside 0..1 on "
            f"{rows(share.isna() | outside)}; a share is a fraction of the deal (write 60% as 0.6)"
        )
        return
    total = share.groupby(deal_id).transform("sum")
    off = (total - 1).abs() > 1e-6
    if off.any():
        check.problems.append(
            f"{check.name('credit_share')}: the shares of {deal_id[off].nunique():,} deal(s) do "
            f"not sum to 1 on {rows(off)}, e.g. deal {deal_id[off].iloc[0]!r} sums to "
            f"{total[off].iloc[0]:.6g}; give each deal's rows shares that add up to 1 (0.6 + 0.4)"
        )
    differ = amount.groupby(deal_id).transform("nunique").gt(1)
    if differ.any():
        check.problems.append(
            f"{check.name('amount')} differs between the rows of {deal_id[differ].nunique():,} "
            f"split deal(s) on {rows(differ)}; give the whole deal's value on every row (each "
            "rep is credited amount x credit_share)"
        )


def won_ledger(history: pd.DataFrame) -> pd.DataFrame:
    """The payout ledger: one row per (won deal, credited rep), as `compute_payouts` reads it."""
    won = history[history["outcome"] == "won"]
    ledger = pd.DataFrame(
        {
            "deal_id": won["deal_id"].astype(str),
            "rep_id": won["rep_id"].astype(str),
            "close_date": won["close_date"],
            "amount": won["amount"] * won["credit_share"],
            "deal_amount": won["amount"],
            "credit_share": won["credit_share"],
        }
    )
    for column in ("customer_id", "role", "tier", "project", "returned"):
        if column in won.columns:
            ledger[column] = won[column]
    return ledger


def read_deals(
    path: str | Path, mapping: dict[str, str] | None = None, date_format: str | None = None
) -> pd.DataFrame:
    """The won-deal ledger of a CRM export (see `read_history` for the file and the mapping).

    Columns: deal_id, rep_id, close_date, amount (credited), deal_amount, credit_share (+
    customer_id, role, tier, project when mapped); index: the file's line numbers, so a
    payout error about 'row 57' points at line 57.
    """
    history = read_history(path, mapping, date_format)
    ledger = won_ledger(history)
    if ledger.empty:
        counts = history["outcome"].value_counts()
        seen = ", ".join(f"{n:,} {outcome}" for outcome, n in counts.items() if n)
        raise SimplanError(
            f"{path}: no won deals ({seen}); a payout needs won deals: check the outcome column "
            "and how its labels are mapped (--map won=LABEL)"
        )
    return ledger

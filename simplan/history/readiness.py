"""What calibration will trip on, found before it runs: owners or amounts missing, lost deals
without a date, extreme amounts, months without new leads, one rep with an outsized share,
an export of closed deals only. `simplan history check` prints these findings and
`simplan calibrate` prints and records the same ones, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from simplan.history.opportunities import History, Prepared

DEPARTED_DAYS = 30
"""A rep with no new deal in this many days before the export, while their share of the
team's deals expects over `DEPARTED_EXPECTED` in that time, has left (or is written under
another name since): chance leaves such a gap once in 20,000 reps (e ** -10)."""
DEPARTED_EXPECTED = 10.0
OUTSIZED_SHARE = 0.25
"""A rep holding more than this share of the owned deals, and over twice an equal share, is named
(often a catch-all owner such as an integration user or 'Unassigned')."""


@dataclass(frozen=True)
class Finding:
    """One thing about a history that changes how it is fitted: what and how it is treated."""

    item: str
    text: str


def owners_only_on_won(deals: pd.DataFrame) -> bool:
    """True when owners are (nearly) all on won deals: then a rep's win rate cannot be told
    from the export (every owned deal is a win)."""
    owned = deals["rep_id"].notna()
    lost = deals["outcome"].eq("lost")
    won = deals["outcome"].eq("won")
    if not lost.any() or not won.any():
        return False
    return bool(owned[lost].mean() < 0.1 and owned[won].mean() > 0.5)


def findings(history: History, prepared: Prepared, imputed: bool = False) -> list[Finding]:
    """Every finding about `history` as prepared for fitting, in the order a reader fixes them."""
    deals = history.deals
    found = [
        *_owners(deals),
        *_amounts(deals, imputed),
        *_undated_losses(deals),
        *_extreme(prepared.removed),
        *_quiet_months(deals),
        *_outsized(deals),
        *_departed(deals, history.as_of),
    ]
    if history.closed_only:
        found.append(
            Finding(
                "closed deals only",
                f"{history.closed_only}: opportunities opened shortly before "
                f"{history.as_of:%Y-%m-%d} are missing unless they closed, so the arrival fit "
                "weights each day by the fitted chance that its deals had closed by then (pass "
                "--as-of with the export date if it is later than the last date in the file)",
            )
        )
    return found


def _owners(deals: pd.DataFrame) -> list[Finding]:
    missing = deals["rep_id"].isna()
    if not missing.any():
        return []
    by_outcome = ", ".join(
        f"{outcome} {missing[deals['outcome'] == outcome].mean():.0%}"
        for outcome in ("won", "lost", "open")
        if (deals["outcome"] == outcome).any()
    )
    text = (
        f"{int(missing.sum()):,} of {len(deals):,} deals ({missing.mean():.0%}) have no owner "
        f"(share without one: {by_outcome}); kept: they count in arrivals and win rates and "
        "their leads are routed by the fitted routing; rep shares, skills and sizes come from "
        "the owned deals"
    )
    if owners_only_on_won(deals):
        text += (
            "; owners are on won deals only, so a rep's win rate cannot be measured: every "
            "rep gets the team's win rate (skill 1) and lead shares follow won deals"
        )
    return [Finding("owners missing", text)]


def _amounts(deals: pd.DataFrame, imputed: bool) -> list[Finding]:
    won = deals["outcome"].eq("won")
    missing = won & deals["amount"].isna()
    if not missing.any():
        return []
    treatment = (
        "--impute-amounts drew each from the known amounts of the same tier and rep "
        "(flagged amount_imputed)"
        if imputed
        else "they count as wins but are left out of the deal-size fit; or pass "
        "--impute-amounts to draw each from the known amounts of the same tier and rep "
        "(flagged in the report), or drop those rows from the file"
    )
    return [
        Finding(
            "amounts missing",
            f"{int(missing.sum()):,} of {int(won.sum()):,} won deals ({missing.sum() / won.sum():.0%})"
            f" have no amount: {treatment}",
        )
    ]


def _undated_losses(deals: pd.DataFrame) -> list[Finding]:
    if "close_inferred" not in deals or not deals["close_inferred"].any():
        return []
    inferred = deals["close_inferred"]
    days = (deals.loc[inferred, "close_date"] - deals.loc[inferred, "created_date"]).dt.days
    return [
        Finding(
            "lost deals without a close date",
            f"{int(inferred.sum()):,} of {int(deals['outcome'].eq('lost').sum()):,} lost deals "
            f"have no close date: treated as lost at an inferred date, {int(days.max())} days "
            "after they were opened (the median cycle of the dated lost deals, else of all "
            "closed ones; at the latest the export date)",
        )
    ]


def _extreme(removed: pd.DataFrame) -> list[Finding]:
    if removed.empty:
        return []
    huge = removed[removed["reason"].str.startswith("won amount above")]
    if huge.empty:
        return []
    shown = ", ".join(
        f"{row.amount:,.0f} (line {row.line}, deal {row.deal_id})"
        for row in huge.head(3).itertuples()
    )
    return [
        Finding(
            "extreme amounts",
            f"{len(huge):,} won amount(s) removed by the anomaly rule ({huge['reason'].iloc[0]}): "
            f"{shown}{', ...' if len(huge) > 3 else ''}; loosen --amount-multiple if they are real",
        )
    ]


def _quiet_months(deals: pd.DataFrame) -> list[Finding]:
    created = deals["created_date"].dropna()
    if created.empty:
        return []
    months = created.dt.to_period("M")
    span = pd.period_range(months.min(), months.max(), freq="M")
    quiet = [str(m) for m in span if m not in set(months)]
    if not quiet:
        return []
    return [
        Finding(
            "months without new leads",
            f"{len(quiet)} month(s) between {span[0]} and {span[-1]} have no new opportunity "
            f"({', '.join(quiet[:6])}{', ...' if len(quiet) > 6 else ''}): an export gap or a "
            "real pause; a baseline window over them fits fewer arrivals (choose --periods or "
            "--as-of to leave them out)",
        )
    ]


def _outsized(deals: pd.DataFrame) -> list[Finding]:
    owned = deals["rep_id"].dropna()
    reps = owned.nunique()
    if reps < 3:
        return []
    share = owned.value_counts(normalize=True)
    big = share[(share > OUTSIZED_SHARE) & (share > 2 / reps)]
    return [
        Finding(
            "one rep with an outsized share",
            f"rep {rep!r} owns {value:.0%} of the owned deals ({reps} reps: an equal share is "
            f"{1 / reps:.0%}): a catch-all owner (integration user, 'Unassigned') or a real "
            "star; if catch-all, empty that owner so its leads are routed by the fitted routing",
        )
        for rep, value in big.items()
    ]


def departed_reps(deals: pd.DataFrame, as_of: pd.Timestamp) -> dict[str, pd.Timestamp]:
    """Rep -> the day of their last new deal, for reps whose deals stopped while the team's
    went on: none for over `DEPARTED_DAYS` days before `as_of`, where their share of the
    team's deals (while they had deals) expects over `DEPARTED_EXPECTED` since. They are
    left out of the forecast team."""
    owned = deals.dropna(subset=["rep_id", "created_date"])
    created = np.sort(owned["created_date"].to_numpy())
    gone = {}
    for rep, dates in owned.groupby("rep_id")["created_date"]:
        first, last = dates.min(), dates.max()
        if (as_of - last).days <= DEPARTED_DAYS:
            continue
        during = np.searchsorted(created, last, "right") - np.searchsorted(created, first)
        since = len(created) - np.searchsorted(created, last, "right")
        if len(dates) / during * since > DEPARTED_EXPECTED:
            gone[str(rep)] = last
    return gone


def _departed(deals: pd.DataFrame, as_of: pd.Timestamp) -> list[Finding]:
    gone = departed_reps(deals, as_of)
    if not gone:
        return []
    first = deals.dropna(subset=["rep_id", "created_date"]).groupby("rep_id")["created_date"].min()
    named = []
    for rep, last in gone.items():
        text = f"{rep!r} (last new deal {last:%Y-%m-%d})"
        after = first[(first > last) & (first <= last + pd.Timedelta(days=14))]
        if len(after):
            text += f", and {', '.join(map(repr, after.index[:2]))} starts just after: renamed?"
        named.append(text)
    return [
        Finding(
            "reps who left",
            f"{len(gone)} rep(s) stopped getting new deals over {DEPARTED_DAYS} days before the "
            f"export: {'; '.join(named)}; their deals count in arrivals, win rates, cycles and "
            "sizes, but they are left out of the forecast team (their leads go to the others); "
            "a rep written under a new name counts as a new hire from then: pass --rename "
            "'OLD=NEW' to keep one rep's history together",
        )
    ]

"""A CRM history for calibration: every opportunity with when it was opened and how it ended
(open ones kept as censored, not as losses), plus the optional roster, targets and price
list, read and checked once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from simplan.errors import SimplanError
from simplan.history.anomalies import AnomalyRule, apply_anomaly_rule
from simplan.history.deals import read_history
from simplan.history.files import read_table
from simplan.history.presets import get_preset, preset_mapping
from simplan.history.roster import read_products, read_roster_table
from simplan.history.targets import read_targets
from simplan.history.tiers import TierRule, assign_tiers
from simplan.history.truncation import closed_only_reason
from simplan.model.periods import Periods

DEAL_COLUMNS = ("deal_id", "rep_id", "created_date", "close_date", "amount", "outcome")


@dataclass
class History:
    """Opportunities as of a date, and the side tables.

    `deals`: deal_id, rep_id, created_date, close_date (NaT while open), amount, outcome
    ('won' / 'lost' / 'open'), plus tier, product, customer_id, returned when the file has
    them; index: the file's line numbers. `as_of`: the date the export was taken (open deals
    are censored there). `observed_from`: the first close date; a deal opened before it is
    in the export only if it was still open then, so fits start there.
    """

    deals: pd.DataFrame
    source: str
    as_of: pd.Timestamp
    observed_from: pd.Timestamp
    notes: list[str] = field(default_factory=list)
    roster: pd.DataFrame | None = None
    targets: pd.DataFrame | None = None
    products: pd.DataFrame | None = None
    columns: dict[str, str] = field(default_factory=dict)
    """Canonical column -> the file's column, as mapped (preset, --map or same name)."""
    closed_only: str = ""
    """Why the export looks like closed deals only (recent opportunities are in it only if
    they closed), empty when it holds its open deals."""

    def until(self, date: str | pd.Timestamp) -> History:
        """The history as it was known at the end of `date`: later deals dropped, outcomes
        decided after it turned back to open."""
        cut = pd.Timestamp(date).normalize()
        deals = self.deals[self.deals["created_date"].isna() | (self.deals["created_date"] <= cut)]
        deals = deals[deals["created_date"].notna() | (deals["outcome"] != "open")].copy()
        later = deals["close_date"] > cut
        deals.loc[later, "outcome"] = "open"
        deals.loc[later, "close_date"] = pd.NaT
        if deals["close_date"].notna().sum() == 0:
            raise SimplanError(
                f"{self.source}: no deal closed on or before {cut:%Y-%m-%d}; choose a later "
                "--train-until"
            )
        return replace(
            self,
            deals=deals,
            as_of=cut,
            observed_from=min(self.observed_from, cut),
            closed_only="",
            notes=[*self.notes, f"history cut at {cut:%Y-%m-%d}: later outcomes are unknown"],
        )


def read_opportunities(
    path: str | Path,
    *,
    preset: str | None = None,
    mapping: dict[str, str] | None = None,
    date_format: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    today: str | pd.Timestamp | None = None,
    roster: str | Path | None = None,
    targets: str | Path | None = None,
    products: str | Path | None = None,
    clock: str = "quarter",
    calendar: Periods | None = None,
    renames: dict[str, str] | None = None,
) -> History:
    """Read and check a CRM export (and the optional side tables) for calibration.

    Columns come from `preset` (maven_crm, salesforce, hubspot, zoho, pipedrive, dynamics) and/or `mapping`
    (canonical -> file column, as `--map` gives; it wins over the preset); `renames` (old
    name -> new, as `--rename` gives) joins a rep written under two names. The history needs
    a created date; deals still open are kept (censored at `as_of`, default the last date in
    the file). Raises SimplanError naming the file, column and lines of every problem.
    """
    given = dict(mapping or {})
    as_of, today = _date_option("--as-of", as_of), _date_option("today", today)
    chosen = get_preset(preset) if preset else None
    if chosen is not None:
        present = list(read_table(path).frame.columns)
        given = preset_mapping(chosen, present, given, str(path))
    frame = read_history(
        path, given, date_format, today=today,
        preferred_format=chosen.date_format if chosen else None,
        may_be_empty_on_won=("rep_id", "amount"),
    )  # fmt: skip
    source = str(path)
    columns = frame.attrs["columns"]
    if "created_date" not in frame:
        raise SimplanError(
            f"{source}: no created-date column (looked for 'created_date'); calibration needs "
            "the date each opportunity was opened: pass --map created_date=<column> (e.g. "
            "engage_date, CreatedDate, 'Create date') or a --preset"
        )
    if "outcome" not in columns and "is_won" not in columns:
        raise SimplanError(
            f"{source}: no outcome column; calibration needs won, lost and open deals: pass "
            "--map outcome=<stage column>"
        )
    notes: list[str] = list(frame.attrs.get("notes", []))
    _to_days(frame, notes)
    _rename(frame, renames or {}, source, notes)
    outcome = frame["outcome"]
    counts = outcome.value_counts()
    closed = outcome.isin(["won", "lost"])
    if not closed.any():
        raise SimplanError(
            f"{source}: every deal in column '{columns.get('outcome', 'is_closed')}' is open "
            f"({len(frame):,} rows, lines {frame.index[0]}..{frame.index[-1]}); calibration "
            "needs deals that were won or lost: export closed opportunities too, or map the "
            "labels that mean won and lost (--map won=LABEL --map lost=LABEL)"
        )
    if counts.get("won", 0) == 0:
        raise SimplanError(
            f"{source}: no won deal in column '{columns.get('outcome', 'is_won')}'; check "
            "which labels mean won (--map won=LABEL)"
        )
    open_ = outcome.eq("open")
    expected = open_ & frame["close_date"].notna()
    if expected.any():
        notes.append(
            f"{int(expected.sum()):,} open deals carry a close date (an expected close): ignored"
        )
    frame.loc[open_, "close_date"] = pd.NaT
    undated = open_ & frame["created_date"].isna()
    if undated.any():
        notes.append(
            f"{int(undated.sum()):,} open deals have no created date (e.g. prospects not yet "
            "engaged): they count nowhere in the fits"
        )
    last = pd.concat([frame["created_date"], frame["close_date"]]).max()
    stamp = last.normalize() if as_of is None else pd.Timestamp(as_of).normalize()
    if as_of is not None and last.normalize() > stamp:
        raise SimplanError(
            f"{source}: dates run to {last:%Y-%m-%d}, after --as-of {stamp:%Y-%m-%d}; the "
            "export date must be on or after every date in the file"
        )
    first_close = frame.loc[closed, "close_date"].min().normalize()  # a dated close
    _date_undated_losses(frame, stamp)
    first_created = frame["created_date"].min().normalize()
    if first_created < first_close:
        notes.append(
            f"deals are observed from the first close date {first_close:%Y-%m-%d} (created "
            f"dates start {first_created:%Y-%m-%d}): earlier deals are in the export only if "
            "they were still open then, so fits start at the first close"
        )
    reason = closed_only_reason(frame, stamp)
    extra = ("tier", "product", "customer_id", "returned", "close_inferred")
    keep = [c for c in (*DEAL_COLUMNS, *extra) if c in frame]
    deals = frame[keep].copy()
    deals["outcome"] = deals["outcome"].astype(object)
    history = History(
        deals=deals,
        source=source,
        as_of=stamp,
        observed_from=first_close,
        notes=notes,
        roster=read_roster_table(roster, chosen, date_format) if roster else None,
        targets=read_targets(targets, clock, calendar) if targets else None,
        products=read_products(products, chosen) if products else None,
        columns=dict(columns),
        closed_only=reason or "",
    )
    _check_roster(history)
    return history


def _date_option(name: str, value: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """A date given on the command line, or a clear error."""
    if value is None:
        return None
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError):
        raise SimplanError(
            f"{name} {value!r} is not a date; write it as YYYY-MM-DD, e.g. {name} 2024-06-30"
        ) from None


def _rename(frame: pd.DataFrame, renames: dict[str, str], source: str, notes: list[str]) -> None:
    """Reps written under two names (renamed mid-year, a typo) become one, in place; a name
    that is on no deal is an error naming the nearest ones."""
    names = set(frame["rep_id"].dropna())
    for old, new in renames.items():
        if old not in names:
            near = difflib.get_close_matches(old, sorted(names), n=3, cutoff=0.5)
            hint = f"; the nearest: {', '.join(map(repr, near))}" if near else ""
            raise SimplanError(f"{source}: --rename {old}={new}: no deal is owned by {old!r}{hint}")
        count = int(frame["rep_id"].eq(old).sum())
        frame.loc[frame["rep_id"].eq(old), "rep_id"] = new
        notes.append(f"--rename: {count:,} deals of {old!r} now count as {new!r}")


def _to_days(frame: pd.DataFrame, notes: list[str]) -> None:
    """Dates with a time of day (Pipedrive, Dynamics) become their day, in place: the fits and
    the export date count whole days, and a deal opened at 10:00 on the export date is in it."""
    timed = False
    for column in ("created_date", "close_date"):
        dates = frame[column]
        day = dates.dt.normalize()
        timed |= bool((dates.notna() & (dates != day)).any())
        frame[column] = day
    if timed:
        notes.append("dates carry a time of day: each counts as its day (times dropped)")


def _date_undated_losses(frame: pd.DataFrame, as_of: pd.Timestamp) -> None:
    """Lost deals without a close date (CRMs often leave it empty on lost leads) are lost at
    an inferred date: created + the median cycle of the dated lost deals (else of all closed
    deals, else 30 days), at the latest `as_of`, so they count as losses in the outcome fits
    (flagged close_inferred; `readiness` says so)."""
    lost = frame["outcome"].eq("lost")
    undated = lost & frame["close_date"].isna() & frame["created_date"].notna()
    if not undated.any():
        return
    dated = frame["outcome"].isin(["won", "lost"]) & frame["close_date"].notna()
    sample = frame[(lost & dated) if (lost & dated).sum() >= 10 else dated]
    cycle = (sample["close_date"] - sample["created_date"]).dt.days.median()
    days = int(cycle) if pd.notna(cycle) else 30
    inferred = frame.loc[undated, "created_date"] + pd.Timedelta(days=days)
    frame.loc[undated, "close_date"] = inferred.clip(upper=as_of)
    frame["close_inferred"] = undated


def _check_roster(history: History) -> None:
    """Reps in the deals but not on the roster are named (calibration keeps them anyway)."""
    if history.roster is None:
        return
    missing = sorted(set(history.deals["rep_id"].dropna()) - set(history.roster["rep_id"]))
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        history.notes.append(
            f"{len(missing)} rep(s) in the deals are not on the roster ({shown}): kept, "
            "without team or hire date"
        )
    idle = sorted(set(history.roster["rep_id"]) - set(history.deals["rep_id"].dropna()))
    if idle:
        shown = ", ".join(idle[:5]) + (", ..." if len(idle) > 5 else "")
        history.notes.append(
            f"{len(idle)} rep(s) on the roster have no deals ({shown}): left out of the team"
        )


@dataclass
class Prepared:
    """A history ready to fit: anomalies removed, every deal in a tier, and what was done."""

    deals: pd.DataFrame
    removed: pd.DataFrame
    tier_rule: str
    tier_table: pd.DataFrame
    anomaly_rule: str
    notes: list[str]


def prepare(
    history: History,
    anomalies: AnomalyRule | None = None,
    tiers: TierRule | None = None,
    impute_amounts: bool = False,
    seed: int = 0,
) -> Prepared:
    """Apply the anomaly rule, then grade the kept deals into tiers (rules stated in full);
    with `impute_amounts`, won deals without an amount get one drawn from the known amounts
    of the same tier and rep (flagged in `amount_imputed`)."""
    anomalies = anomalies or AnomalyRule()
    tiers = tiers or TierRule()
    kept, removed = apply_anomaly_rule(history.deals, anomalies)
    notes = list(history.notes)
    if kept.attrs.get("returned_as_lost"):
        notes.append(f"{kept.attrs['returned_as_lost']:,} returned won deals count as lost")
    if kept.empty:
        raise SimplanError(
            f"{history.source}: the anomaly rule removed every deal ({anomalies.describe()}); "
            "loosen it (e.g. --min-rep-deals 0)"
        )
    tier, text, table = assign_tiers(kept, tiers, history.products)
    kept["tier"] = tier
    if impute_amounts:
        notes += _impute_amounts(kept, np.random.default_rng(seed))
    return Prepared(kept, removed, text, table, anomalies.describe(), notes)


def _impute_amounts(deals: pd.DataFrame, rng: np.random.Generator) -> list[str]:
    """Fill empty won amounts in place by drawing from the known won amounts of the same
    tier and rep (at least 3 of them), else of the same tier, else of all won deals."""
    won = deals["outcome"].eq("won")
    missing = won & deals["amount"].isna()
    deals["amount_imputed"] = missing
    known = deals[won & deals["amount"].notna()]
    if not missing.any() or known.empty:
        return []
    by_rep = known.groupby(["tier", "rep_id"])["amount"].apply(np.asarray).to_dict()
    by_tier = known.groupby("tier")["amount"].apply(np.asarray).to_dict()
    levels = {"tier and rep": 0, "tier": 0, "all won deals": 0}
    for line in deals.index[missing]:
        tier, rep = deals.at[line, "tier"], deals.at[line, "rep_id"]
        pool = by_rep.get((tier, rep))
        level = "tier and rep"
        if pool is None or len(pool) < 3:
            pool, level = by_tier.get(tier), "tier"
        if pool is None or len(pool) < 3:
            pool, level = known["amount"].to_numpy(), "all won deals"
        deals.at[line, "amount"] = float(rng.choice(pool))
        levels[level] += 1
    drawn = ", ".join(f"{n:,} from the same {lvl}" for lvl, n in levels.items() if n)
    return [
        f"--impute-amounts: {int(missing.sum()):,} won deals without an amount got one drawn "
        f"from known won amounts ({drawn}); flagged amount_imputed"
    ]

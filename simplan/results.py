"""Results: the engine's flat records as tidy tables, a planner's summary, and save/load.

Tables (one row per observation; every table carries `replication`):

- `deals`: one row per lead. lead_id, tier, source, rep_id (owner at the end), first_rep_id
  (owner at routing), created_day, first_response_hours (NaN if never contacted), stage
  (furthest reached: new / contact / proposal / negotiation / won), outcome (open / lost /
  won), close_day (NaN while open), cycle_days, amount (won value, else 0), alerts
  (proposal time-outs), relays, lever_cost (close-out offer, referral reward), timing
  (on_time / pushed into the next period / pulled forward at a discount).
- `credits`: one row per won deal and credited rep: lead_id, rep_id, share (a deal's shares
  sum to 1), amount (deal amount x share), close_day. Relay, mentor-pool and strike-team
  splits live here.
- `daily`: rep x day. day, date, phase, rep_id, touches, effort, open_pipeline_value (end
  of day), bookings (credited), deals_won (closed as owner).
- `reps`: rep x plan period (the plan's clock; without a plan, the scenario's reporting
  period). rep_id, period, tenure, squad, skill, capacity_touches_per_day, mentor_id, target
  (NaN without quotas; the quota per reporting period spread over its days, so a monthly
  plan on a quarterly quota has monthly targets summing to it), bookings, deals_won,
  attainment, at_target. With a plan: payout (the rep's statement total for the period).
- `runs`: one row per replication: leads, deals_won, win_rate, bookings, alerts, relays,
  lever_cost, share_at_target, median_first_response_hours; with a plan also payout (all
  statement lines, managers and funds included) and cost_of_sales (payout / bookings).
- `statements`: with a plan, one row per rep x period x plan component: rep_id, period,
  component, basis (what it was computed on), amount. The plan runs on the `credits`
  ledger of each replication, with each rep's target for the period. In a streamed run
  (`simulate(keep=...)`, or more than KEEP_ALL_UP_TO replications), replications past the
  sample keep one line per period and component, summed over reps, rep_id and basis empty.

Days count from the scenario's calendar start (day 0); `date` gives the calendar date.
Warm-up days (`calendar.warmup_days`) are simulated so the window opens with pipeline in
flight, then dropped: deals closed before day 0 are left out, and carried-in leads show a
negative created_day.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simplan.errors import SimplanError
from simplan.model.calendar import PHASES, Calendar
from simplan.model.leads import STAGES
from simplan.model.plan import Plan, compute_payouts
from simplan.model.records import OUTCOMES, TIMINGS, Records
from simplan.model.team import TENURES, Team

TABLES = ("deals", "credits", "daily", "reps", "runs", "statements")
STATEMENT_COLUMNS = ["replication", "rep_id", "period", "component", "basis", "amount"]
STAGE_NAMES = ("new", *STAGES)


@dataclass
class Results:
    """The tables of a run and its manifest (scenario, seed, versions, timings)."""

    deals: pd.DataFrame
    credits: pd.DataFrame
    daily: pd.DataFrame
    reps: pd.DataFrame
    runs: pd.DataFrame
    statements: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}

    def summary(self) -> pd.DataFrame:
        """The numbers a planner looks at first, one row per metric (`value` column)."""
        runs, deals = self.runs, self.deals
        rows: list[tuple[str, float]] = []
        q = runs["bookings"].quantile([0.1, 0.5, 0.9]).to_numpy()
        rows += [("bookings P10", q[0]), ("bookings P50", q[1]), ("bookings P90", q[2])]
        rows.append(("deals won per replication", runs["deals_won"].mean()))
        rows.append(("win rate (closed leads)", _win_rate(deals)))
        for tier, group in deals.groupby("tier", sort=True, observed=True):
            rows.append((f"win rate {tier}", _win_rate(group)))
        for tier, group in deals.groupby("tier", sort=True, observed=True):
            rows.append(
                (f"median first response hours {tier}", group["first_response_hours"].median())
            )
        won = deals[deals["outcome"] == "won"]
        rows.append(("median cycle days (won)", won["cycle_days"].median()))
        rows.append(("proposal alerts per replication", runs["alerts"].mean()))
        rows.append(("relays per replication", runs["relays"].mean()))
        if runs["share_at_target"].notna().any():
            rows.append(("share of reps at target", runs["share_at_target"].mean()))
        rows.append(("lever cost per replication", runs["lever_cost"].mean()))
        if "payout" in runs:
            q = runs["payout"].quantile([0.5, 0.9, 0.99]).to_numpy()
            rows += [("payout P50", q[0]), ("payout P90", q[1]), ("payout P99", q[2])]
            rows.append(
                ("cost of sales (payout share)", runs["payout"].sum() / runs["bookings"].sum())
            )
        frame = pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")
        return frame

    def save(self, directory: str | Path, force: bool = False) -> Path:
        """Write Parquet tables + manifest.json atomically; refuse a non-empty dir unless `force`."""
        return save_atomically(directory, force, self.write)

    def write(self, directory: Path) -> None:
        """Write the tables and manifest into an existing directory (`save` makes it atomic)."""
        for name, table in self.tables().items():
            table.to_parquet(directory / f"{name}.parquet", index=False)
        (directory / "manifest.json").write_text(json.dumps(self.manifest, indent=2, default=str))


def _win_rate(deals: pd.DataFrame) -> float:
    closed = deals["outcome"] != "open"
    return float((deals["outcome"] == "won").sum() / max(int(closed.sum()), 1))


def output_directory(directory: str | Path, force: bool) -> Path:
    """The `--out` directory, refused when it is a file, or not empty without `force`."""
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise SimplanError(f"{target}: exists and is not a directory; choose another --out")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise SimplanError(
            f"{target}: directory is not empty; choose another --out or pass --force"
        )
    return target


def save_atomically(directory: str | Path, force: bool, write: Any) -> Path:
    """Run `write(tmp_dir)` then move the directory into place, so nothing is half-written.

    The temporary directory is named after this process (`.NAME.simplan-PID-...`), so one
    left behind by a killed run is recognised and removed by the next save beside it.
    """
    target = output_directory(directory, force)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(target.parent)
    prefix = f".{target.name}.{TEMP_MARK}-{os.getpid()}-"
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        write(tmp)
        if target.exists():
            trash = Path(tempfile.mkdtemp(prefix=f"{prefix}old-", dir=target.parent))
            os.replace(target, trash / "old")
            os.replace(tmp, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException as error:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
            error.add_note(f"the unfinished output {tmp} was removed; {target} is unchanged")
        raise
    return target


TEMP_MARK = "simplan"
_TEMPORARY = re.compile(rf"^\..+\.{TEMP_MARK}-(\d+)-")


def remove_stale_temporaries(parent: Path) -> list[Path]:
    """Remove temporary output directories in `parent` whose process is gone (a killed run)."""
    removed = []
    for entry in parent.iterdir():
        found = _TEMPORARY.match(entry.name)
        if found and entry.is_dir() and not _alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def load_results(directory: str | Path) -> Results:
    """Read a saved run back: the same tables and manifest."""
    path = Path(directory)
    partial = (path / PARTS).is_dir() and (path / "manifest.json").is_file()
    if partial and not json.loads((path / "manifest.json").read_text()).get("complete"):
        done = sorted(p for p in (path / PARTS).iterdir() if p.name.isdigit())
        if not done:
            raise SimplanError(f"{path}: the run stopped before its first batch finished")
        parts = [{n: pd.read_parquet(p / f"{n}.parquet") for n in TABLES} for p in done]
        return combine(parts, json.loads((path / "manifest.json").read_text()))
    missing = [n for n in TABLES if not (path / f"{n}.parquet").is_file()]
    if missing or not (path / "manifest.json").is_file():
        raise SimplanError(
            f"{path}: not a simplan run directory (missing {', '.join(missing) or 'manifest.json'}); "
            "point at a directory written by `simplan run --out`"
        )
    tables = {n: pd.read_parquet(path / f"{n}.parquet") for n in TABLES}
    manifest = json.loads((path / "manifest.json").read_text())
    return Results(**tables, manifest=manifest)


def combine(parts: list[dict[str, pd.DataFrame]], manifest: dict[str, Any]) -> Results:
    """Stack the parts' tables into one Results in replication order (parts of several
    parameter draws interleave; within a replication the order is kept)."""
    tables = {}
    for name in TABLES:
        table = pd.concat([p[name] for p in parts], ignore_index=True)
        if not table["replication"].is_monotonic_increasing:
            table = table.sort_values("replication", kind="stable", ignore_index=True)
        tables[name] = table
    return Results(**tables, manifest=manifest)


PARTS = "parts"
"""A run saved as it goes keeps each batch's tables in parts/NNNNN/ (see RunWriter)."""


class RunWriter:
    """A run's tables written as its batches finish, so a run stopped early (a crash, Ctrl-C)
    keeps every finished batch: each batch's tables are written beside and moved into
    `directory/parts/` in one rename, then the manifest is replaced (with the replications
    done, `complete` false). `finish` leaves the saved layout; `load_results` reads either."""

    def __init__(self, directory: str | Path, force: bool) -> None:
        self.target = output_directory(directory, force)
        self.count = 0

    def _start(self) -> None:
        """At the first finished batch: the old run (with force) out of the way, parts/ in."""
        target = self.target
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target.parent)  # a killed run's, as `save` does
        if target.is_dir() and any(target.iterdir()):
            prefix = f".{target.name}.{TEMP_MARK}-{os.getpid()}-old-"
            trash = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
            os.replace(target, trash / "old")
            shutil.rmtree(trash, ignore_errors=True)
        (target / PARTS).mkdir(parents=True, exist_ok=True)

    def append(self, tables: dict[str, pd.DataFrame], manifest: dict[str, Any]) -> None:
        """Add one batch's tables, then the manifest that counts them."""
        if self.count == 0:
            self._start()
        parts = self.target / PARTS
        tmp = Path(tempfile.mkdtemp(prefix=f".{TEMP_MARK}-{os.getpid()}-", dir=parts))
        for name in TABLES:
            tables[name].to_parquet(tmp / f"{name}.parquet", index=False)
        os.replace(tmp, parts / f"{self.count:05d}")
        self.count += 1
        self.write_manifest(manifest)

    def finish(self, results: Results) -> None:
        """The finished run in the saved layout (one file per table, each moved into place),
        then its manifest; the parts go last."""
        for name, table in results.tables().items():
            tmp = self.target / f".{name}.{TEMP_MARK}-{os.getpid()}.parquet"
            table.to_parquet(tmp, index=False)
            os.replace(tmp, self.target / f"{name}.parquet")
        self.write_manifest({**results.manifest, "complete": True})
        shutil.rmtree(self.target / PARTS, ignore_errors=True)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        tmp = self.target / f".manifest.{TEMP_MARK}-{os.getpid()}.json"
        tmp.write_text(json.dumps(manifest, indent=2, default=str))
        os.replace(tmp, self.target / "manifest.json")


DEAL_COLUMNS = (
    "replication", "lead_id", "tier", "source", "rep_id", "first_rep_id", "created_day",
    "first_response_hours", "stage", "outcome", "close_day", "cycle_days", "amount", "alerts",
    "relays", "lever_cost", "timing",
)  # fmt: skip


def replication_tables(
    rec: Records,
    replication: int,
    team: Team,
    cal: Calendar,
    tier_names: list[str],
    lean: bool = False,
) -> dict[str, pd.DataFrame]:
    """One replication's tables (built where it ran), warm-up dropped, day 0 at the start.

    `lean` builds only what the runs row and the payouts read, for a run that keeps nothing
    else (a design candidate): deals and reps without their descriptive columns, no daily
    table; the runs row and the credits are the same.
    """
    off = cal.first_day
    d = rec.deals
    keep = ~(d["close_day"] < off)  # closed during warm-up: history, not this run
    rep_ids = team.rep_id
    columns = {  # what the runs row and the payouts read
        "replication": replication,
        "lead_id": d["lead_id"][keep],
        "tier": pd.Categorical.from_codes(d["tier"][keep], categories=tier_names),
        "created_day": d["created_day"][keep] - off,
        "first_response_hours": d["first_response_hours"][keep],
        "outcome": pd.Categorical.from_codes(d["outcome"][keep], categories=OUTCOMES),
        "amount": d["amount"][keep],
        "alerts": d["alerts"][keep],
        "relays": d["relays"][keep],
        "lever_cost": d["lever_cost"][keep],
    }
    if not lean:
        columns |= {
            "source": pd.Categorical.from_codes(d["source"][keep], categories=rec.source_names),
            "rep_id": rep_ids[d["rep"][keep]],
            "first_rep_id": rep_ids[d["first_rep"][keep]],
            "stage": pd.Categorical.from_codes(d["stage"][keep] + 1, categories=STAGE_NAMES),
            "close_day": d["close_day"][keep] - off,
            "cycle_days": (d["close_day"] - d["created_day"])[keep],
            "timing": pd.Categorical.from_codes(d["timing"][keep], categories=TIMINGS),
        }
        columns = {name: columns[name] for name in DEAL_COLUMNS}
    deals = pd.DataFrame(columns)
    c = rec.credits
    kept = c["close_day"] >= off
    credits = pd.DataFrame(
        {
            "replication": replication,
            "lead_id": c["lead_id"][kept],
            "rep_id": rep_ids[c["rep"][kept]],
            "share": c["share"][kept],
            "amount": c["amount"][kept],
            "close_day": c["close_day"][kept] - off,
        }
    )
    window = {k: v[off:] for k, v in rec.daily.items()}
    shown = {k: v[:0] for k, v in window.items()} if lean else window
    days, n = shown["touches"].shape
    day = np.repeat(np.arange(days), n)
    daily = pd.DataFrame(
        {
            "replication": replication,
            "day": day,
            "date": cal.dates[day + off],
            "phase": pd.Categorical.from_codes(cal.phase[day + off], categories=PHASES),
            "rep_id": np.tile(rep_ids, days),
            **{k: v.ravel() for k, v in shown.items()},
        }
    )
    reps = _reps_table(window, rec.targets, replication, team, cal, lean)
    won = deals["outcome"] == "won"
    closed = deals["outcome"] != "open"
    has_target = reps["target"].notna().any()
    runs = pd.DataFrame(
        {
            "replication": [replication],
            "leads": [int((deals["created_day"] >= 0).sum())],
            "deals_won": [int(won.sum())],
            "win_rate": [won.sum() / max(int(closed.sum()), 1)],
            "bookings": [deals.loc[won, "amount"].sum()],
            "alerts": [int(deals["alerts"].sum())],
            "relays": [int(deals["relays"].sum())],
            "lever_cost": [deals["lever_cost"].sum() + rec.totals["leaderboard_cost"]],
            "share_at_target": [reps["at_target"].mean() if has_target else np.nan],
            "median_first_response_hours": [deals["first_response_hours"].median()],
        }
    )
    return {
        "deals": deals,
        "credits": credits,
        "daily": daily,
        "reps": reps,
        "runs": runs,
        "statements": pd.DataFrame(columns=STATEMENT_COLUMNS),
    }


def attach_payouts(
    parts: list[dict[str, pd.DataFrame]],
    replications: list[int],
    team: Team,
    cal: Calendar,
    plan: Plan,
    runs_only: bool = False,
) -> None:
    """Run the plan on each replication's credits: a statements table, payout in reps and
    runs. One payout run for the whole batch, each replication's reps, squads and contests,
    team-wide pools and budget kept apart by the roster's `replication` column: the same
    statements as one run per replication. `runs_only` sets the runs rows' payout and cost of
    sales alone (a run that reads nothing else: a design candidate)."""
    ledger, targets, roster = _payout_inputs(parts, team, cal, plan)
    clock = cal.plan_period.periods
    found = compute_payouts(ledger, targets, roster, plan, check=False, periods=clock).lines
    lines = _split_lines(found, len(parts), team.size)
    for tables, replication, mine in zip(parts, replications, lines, strict=True):
        runs = tables["runs"]
        runs["payout"] = mine["amount"].sum()
        runs["cost_of_sales"] = runs["payout"] / runs["bookings"].where(runs["bookings"] > 0)
        if runs_only:
            continue
        statements = mine.assign(replication=replication)
        statements = statements[STATEMENT_COLUMNS]
        reps = tables["reps"]
        paid = statements.groupby(["rep_id", "period"])["amount"].sum()
        keys = pd.MultiIndex.from_arrays([reps["rep_id"], reps["period"]])
        reps["payout"] = paid.reindex(keys).fillna(0.0).to_numpy()
        tables["statements"] = statements


def _payout_inputs(
    parts: list[dict[str, pd.DataFrame]], team: Team, cal: Calendar, plan: Plan
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The ledger (credits), targets (each rep's per period) and roster `compute_payouts`
    reads, for one replication or a batch run together: there replication k's reps and
    squads are `k|id` (sorted ids keep each replication's order) and its deals numbered
    after the previous replication's."""
    k = len(parts)
    deals = pd.concat([p["deals"][["lead_id", "amount", "tier"]] for p in parts])
    credits = pd.concat([p["credits"] for p in parts], ignore_index=True)
    reps = pd.concat([p["reps"][["rep_id", "period", "target"]] for p in parts])
    of_deal = np.repeat(np.arange(k), [len(p["deals"]) for p in parts])
    of_credit = np.repeat(np.arange(k), [len(p["credits"]) for p in parts])
    offset = int(deals["lead_id"].max()) + 1 if len(deals) else 1
    deal_key = of_deal * offset + deals["lead_id"].to_numpy()
    credit_key = of_credit * offset + credits["lead_id"].to_numpy()
    where = pd.Index(deal_key).get_indexer(credit_key)
    start = cal.dates[cal.first_day]
    ids = team.rep_id.astype(object)
    mentor = np.where(team.mentor >= 0, ids[np.maximum(team.mentor, 0)], None)
    squad = team.squad.astype(str).astype(object)
    if k > 1:
        tags = np.repeat([f"{j:05d}|" for j in range(k)], team.size).astype(object)
        ids, squad = tags + np.tile(ids, k), tags + np.tile(squad, k)
        mentors = np.tile(team.mentor, k)
        mentor = np.where(
            mentors >= 0, tags + np.tile(np.where(team.mentor >= 0, mentor, ""), k), None
        )
    position = pd.Index(team.rep_id).get_indexer(credits["rep_id"])
    ledger = pd.DataFrame(
        {
            "deal_id": credit_key,
            "rep_id": ids[of_credit * team.size + position],
            "close_date": start + pd.to_timedelta(np.floor(credits["close_day"]), unit="D"),
            "amount": credits["amount"].to_numpy(),
            "deal_amount": deals["amount"].to_numpy()[where],
            "credit_share": credits["share"].to_numpy(),
            "tier": deals["tier"].to_numpy()[where].astype(str),
        }
    )
    of_rep = np.repeat(np.arange(k), [len(p["reps"]) for p in parts])
    targets = pd.DataFrame(
        {
            "rep_id": ids[of_rep * team.size + pd.Index(team.rep_id).get_indexer(reps["rep_id"])],
            "period": reps["period"].to_numpy(),
            "target": reps["target"].to_numpy(),
        }
    )
    tenure = np.tile(np.asarray(TENURES)[team.tenure(0)], k)
    roster = pd.DataFrame(
        {
            "rep_id": ids,
            "tenure": tenure,
            "squad": squad,
            "mentor_id": mentor,
            "replication": np.repeat(np.arange(k), team.size),
        }
    )
    return ledger, targets, roster


def _split_lines(lines: pd.DataFrame, k: int, n: int) -> list[pd.DataFrame]:
    """A batch run's statement lines, one table per replication with its own rep ids (lines
    come sorted by payee, so each replication's are one block)."""
    if k == 1:
        return [lines]
    codes = lines["rep_id"].cat.codes.to_numpy()
    ids = [str(c).split("|", 1)[1] for c in lines["rep_id"].cat.categories[:n]]
    bounds = np.searchsorted(codes // n, np.arange(k + 1))
    rep = pd.Categorical.from_codes(codes % n, categories=ids)
    lines = lines.assign(rep_id=rep)
    return [lines.iloc[bounds[j] : bounds[j + 1]].reset_index(drop=True) for j in range(k)]


def statement_totals(statements: pd.DataFrame) -> pd.DataFrame:
    """A replication's statements reduced to one line per period and component, summed over
    reps (rep_id and basis missing): what budgets and comparisons read, a fraction the size."""
    keys = ["replication", "period", "component"]
    totals = statements.groupby(keys, sort=False, observed=True)["amount"].sum().reset_index()
    totals["rep_id"] = pd.Series([None] * len(totals), dtype=statements["rep_id"].dtype)
    totals["basis"] = np.nan
    return totals[STATEMENT_COLUMNS]


def _reps_table(
    window: dict[str, np.ndarray],
    targets: np.ndarray,
    replication: int,
    team: Team,
    cal: Calendar,
    lean: bool = False,
) -> pd.DataFrame:
    """Bookings and attainment of each rep in each plan period of the window (`lean`: only
    the columns the runs row and the payouts read: rep_id, period, target, at_target)."""
    period = cal.plan_period.index[cal.first_day :]
    present = np.unique(period)
    n_periods = len(present)
    index = np.searchsorted(present, period)
    bookings = np.zeros((n_periods, team.size))
    won = np.zeros((n_periods, team.size), dtype=np.int64)
    np.add.at(bookings, index, window["bookings"])
    np.add.at(won, index, window["deals_won"])
    target = targets[present] * cal.plan_period.coverage[present][:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        attainment = bookings / target
    rows = {
        "replication": replication,
        "rep_id": np.tile(team.rep_id, n_periods),
        "period": np.repeat(np.asarray(cal.plan_period.labels)[present], team.size),
    }
    if lean:
        at_target = (attainment >= 1).ravel()
        return pd.DataFrame({**rows, "target": target.ravel(), "at_target": at_target})
    mentor = np.where(team.mentor >= 0, team.rep_id[np.maximum(team.mentor, 0)], None)
    tenure = np.asarray(TENURES)[team.tenure(0)]
    return pd.DataFrame(
        {
            **rows,
            "tenure": np.tile(tenure, n_periods),
            "squad": np.tile(team.squad, n_periods),
            "skill": np.tile(team.skill, n_periods),
            "capacity_touches_per_day": np.tile(team.capacity, n_periods),
            "mentor_id": np.tile(mentor, n_periods),
            "target": target.ravel(),
            "bookings": bookings.ravel(),
            "deals_won": won.ravel(),
            "attainment": attainment.ravel(),
            "at_target": (attainment >= 1).ravel(),
        }
    )

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
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simplan.errors import SimplanError
from simplan.model.calendar import PHASES, Calendar
from simplan.model.leads import STAGES
from simplan.model.plan import Plan, compute_payouts
from simplan.model.records import OPEN, OUTCOMES, TIMINGS, WON, Records
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


class Batch:
    """A batch's records stacked in replication order, warm-up dropped (day 0 at the window's
    start): the numpy arrays its tables, runs rows and payouts are built from, so pandas runs
    once per batch rather than once per replication. Each array is built when first read: a
    run that keeps only the runs rows never stacks the daily table."""

    def __init__(
        self,
        records: list[Records],
        replications: list[int],
        team: Team,
        cal: Calendar,
        tier_names: list[str],
    ) -> None:
        self.records = records
        self.replications = np.asarray(replications, dtype=np.int64)
        self.team = team
        self.cal = cal
        self.tier_names = tier_names
        self._deals: dict[str, np.ndarray] = {}

    @property
    def size(self) -> int:
        return len(self.records)

    @cached_property
    def _kept_deals(self) -> np.ndarray:
        """Which deal records of the batch are kept: not closed during warm-up (history, not
        this run)."""
        close_day = joined([r.deals["close_day"] for r in self.records])
        return ~(close_day < self.cal.first_day)

    def deal(self, name: str) -> np.ndarray:
        """A deal record column over the batch's kept deals (`of`: each deal's position in
        the batch, 0..size-1), stacked when first asked for."""
        if name not in self._deals:
            if name == "of":
                lengths = [len(r.deals["close_day"]) for r in self.records]
                values = np.repeat(np.arange(self.size), lengths)
            else:
                values = joined([r.deals[name] for r in self.records])
            self._deals[name] = values[self._kept_deals]
        return self._deals[name]

    @cached_property
    def credits(self) -> dict[str, np.ndarray]:
        """The credit records of deals closed in the window, with `of` as in `deal`."""
        columns = [r.credits for r in self.records]
        rows = {name: joined([c[name] for c in columns]) for name in columns[0]}
        rows["of"] = np.repeat(np.arange(self.size), [len(c["close_day"]) for c in columns])
        kept = rows["close_day"] >= self.cal.first_day
        return {name: values[kept] for name, values in rows.items()}

    @cached_property
    def bounds(self) -> np.ndarray:
        """Where each replication's kept deals start (and the end)."""
        return np.searchsorted(self.deal("of"), np.arange(self.size + 1))

    def window(self, name: str, count: int | None = None) -> np.ndarray:
        """A daily record over the window: replication x day x rep (of the first `count`
        replications: all without it)."""
        records = self.records if count is None else self.records[: max(count, 1)]
        return np.stack([r.daily[name][self.cal.first_day :] for r in records])[:count]

    @cached_property
    def periods(self) -> tuple[np.ndarray, np.ndarray]:
        """(the plan periods the window touches, each window day's position among them)."""
        period = self.cal.plan_period.index[self.cal.first_day :]
        present = np.unique(period)
        return present, np.searchsorted(present, period)

    def per_period(self, name: str, dtype: type) -> np.ndarray:
        """A daily record summed per plan period: replication x period x rep, each cell added
        up day by day in day order (as `np.add.at` would, a day's slice at a time)."""
        present, index = self.periods
        total = np.zeros((self.size, len(present), self.team.size), dtype=dtype)
        window = self.window(name)
        for day, period in enumerate(index.tolist()):
            total[:, period] += window[:, day]
        return total

    @cached_property
    def bookings(self) -> np.ndarray:
        return self.per_period("bookings", float)

    @cached_property
    def target(self) -> np.ndarray:
        """Each rep's target per plan period (the period's target times the share of its days
        in the window; NaN without quotas): replication x period x rep."""
        present, _ = self.periods
        coverage = self.cal.plan_period.coverage[present][:, None]
        return np.stack([r.targets[present] * coverage for r in self.records])

    @cached_property
    def attainment(self) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.bookings / self.target

    @cached_property
    def labels(self) -> pd.api.extensions.ExtensionArray:
        """The label of each plan period the window touches, as a string array (indexed by
        code to give a table column without converting each string)."""
        present, _ = self.periods
        return _strings(np.asarray(self.cal.plan_period.labels)[present])

    @cached_property
    def rep_ids(self) -> pd.api.extensions.ExtensionArray:
        return _strings(self.team.rep_id)

    def rep_grid(self, values: pd.api.extensions.ExtensionArray | np.ndarray) -> Any:
        """A per-rep array repeated over the rows of the reps table (replication x period x
        rep, the order of every replication x period x rep array here)."""
        return values.take(np.tile(np.arange(self.team.size), self.size * len(self.periods[0])))

    @cached_property
    def rep_cells(self) -> np.ndarray:
        """Each reps row's rep in the batch's roster (replication x team size + rep)."""
        n, n_periods = self.team.size, len(self.periods[0])
        return np.repeat(np.arange(self.size) * n, n_periods * n) + self.rep_grid(np.arange(n))

    @cached_property
    def period_column(self) -> pd.api.extensions.ExtensionArray:
        """Each reps row's period label."""
        n, n_periods = self.team.size, len(self.periods[0])
        return self.labels.take(np.tile(np.repeat(np.arange(n_periods), n), self.size))


def joined(arrays: list[np.ndarray]) -> np.ndarray:
    """`np.concatenate` of 1-d arrays, without the copy when they lie end to end in one
    buffer (the fast engine hands a batch's records as adjacent slices of one column)."""
    first = arrays[0]
    base = first.base
    if (
        base is None
        or base.dtype != first.dtype
        or not base.flags.c_contiguous
        or not all(a.base is base and a.flags.c_contiguous for a in arrays)
    ):
        return np.concatenate(arrays)
    end = first.ctypes.data
    for a in arrays:
        if a.ctypes.data != end:
            return np.concatenate(arrays)
        end += a.nbytes
    flat = base.reshape(-1)
    start = (first.ctypes.data - base.ctypes.data) // first.itemsize
    return flat[start : start + (end - first.ctypes.data) // first.itemsize]


def _strings(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A pandas string array (missing values where None)."""
    return pd.array(np.asarray(values, dtype=object), dtype="str")


def batch_tables(batch: Batch, rows_of: dict[str, int] | None = None) -> dict[str, pd.DataFrame]:
    """The batch's tables (built where it ran), each stacked in replication order: deals,
    credits, daily, reps, runs, and an empty statements table (`attach_payouts` fills it).
    `rows_of` names big tables (deals, credits, daily) that hold the rows of only the
    batch's first so many replications (a streamed run keeps them for a sample): the rest
    are never built."""
    cal, off = batch.cal, batch.cal.first_day
    rows_of = rows_of or {}
    held = batch.bounds[rows_of.get("deals", batch.size)]

    def d(name: str) -> np.ndarray:
        return batch.deal(name)[:held]

    c = batch.credits
    held_credits = int(np.searchsorted(c["of"], rows_of.get("credits", batch.size)))
    c = {name: values[:held_credits] for name, values in c.items()}
    replication = batch.replications
    deals = pd.DataFrame(
        {
            "replication": replication[d("of")],
            "lead_id": d("lead_id"),
            "tier": pd.Categorical.from_codes(d("tier"), categories=batch.tier_names),
            "source": pd.Categorical.from_codes(
                d("source"), categories=batch.records[0].source_names
            ),
            "rep_id": batch.rep_ids.take(d("rep")),
            "first_rep_id": batch.rep_ids.take(d("first_rep")),
            "created_day": d("created_day") - off,
            "first_response_hours": d("first_response_hours"),
            "stage": pd.Categorical.from_codes(d("stage") + 1, categories=STAGE_NAMES),
            "outcome": pd.Categorical.from_codes(d("outcome"), categories=OUTCOMES),
            "close_day": d("close_day") - off,
            "cycle_days": d("close_day") - d("created_day"),
            "amount": d("amount"),
            "alerts": d("alerts"),
            "relays": d("relays"),
            "lever_cost": d("lever_cost"),
            "timing": pd.Categorical.from_codes(d("timing"), categories=TIMINGS),
        },
        copy=False,  # fresh arrays, kept as they are: no copy into blocks of like columns
    )
    credits = pd.DataFrame(
        {
            "replication": replication[c["of"]],
            "lead_id": c["lead_id"],
            "rep_id": batch.rep_ids.take(c["rep"]),
            "share": c["share"],
            "amount": c["amount"],
            "close_day": c["close_day"] - off,
        },
        copy=False,
    )
    k = rows_of.get("daily", batch.size)
    window = {name: batch.window(name, k) for name in batch.records[0].daily}
    _, days, n = window["touches"].shape
    day = np.repeat(np.arange(days), n)
    daily = pd.DataFrame(
        {
            "replication": np.repeat(replication[:k], days * n),
            "day": np.tile(day, k),
            "date": cal.dates[np.tile(day + off, k)],
            "phase": pd.Categorical.from_codes(np.tile(cal.phase[day + off], k), categories=PHASES),
            "rep_id": batch.rep_ids.take(np.tile(np.arange(n), k * days)),
            **{name: values.ravel() for name, values in window.items()},
        },
        copy=False,
    )
    return {
        "deals": deals,
        "credits": credits,
        "daily": daily,
        "reps": _reps_table(batch),
        "runs": runs_table(batch),
        "statements": pd.DataFrame(columns=STATEMENT_COLUMNS),
    }


def _reps_table(batch: Batch) -> pd.DataFrame:
    """Bookings and attainment of each rep in each plan period of the window."""
    team = batch.team
    n_periods = len(batch.periods[0])
    mentor = np.where(team.mentor >= 0, team.rep_id[np.maximum(team.mentor, 0)], None)
    tenure = np.asarray(TENURES)[team.tenure(0)]
    won = batch.per_period("deals_won", np.int64)
    return pd.DataFrame(
        {
            "replication": np.repeat(batch.replications, n_periods * team.size),
            "rep_id": batch.rep_grid(batch.rep_ids),
            "period": batch.period_column,
            "tenure": batch.rep_grid(_strings(tenure)),
            "squad": batch.rep_grid(team.squad),
            "skill": batch.rep_grid(team.skill),
            "capacity_touches_per_day": batch.rep_grid(team.capacity),
            "mentor_id": batch.rep_grid(_strings(mentor)),
            "target": batch.target.ravel(),
            "bookings": batch.bookings.ravel(),
            "deals_won": won.ravel(),
            "attainment": batch.attainment.ravel(),
            "at_target": (batch.attainment >= 1).ravel(),
        }
    )


def runs_table(batch: Batch) -> pd.DataFrame:
    """One runs row per replication of the batch (without payouts). Sums run over each
    replication's own deals in their order, as a table per replication would add them."""
    d, k = batch.deal, batch.size
    won = d("outcome") == WON
    closed = d("outcome") != OPEN
    of = d("of")
    n_won = np.bincount(of[won], minlength=k)
    at_target = (batch.attainment >= 1).reshape(k, -1)
    has_target = ~np.isnan(batch.target.reshape(k, -1)).all(axis=1)
    bookings, alerts, relays, lever_cost, median = (np.zeros(k) for _ in range(5))
    for j, rec in enumerate(batch.records):
        mine = slice(batch.bounds[j], batch.bounds[j + 1])
        bookings[j] = d("amount")[mine][won[mine]].sum()
        alerts[j] = int(d("alerts")[mine].sum())
        relays[j] = int(d("relays")[mine].sum())
        lever_cost[j] = d("lever_cost")[mine].sum() + rec.totals["leaderboard_cost"]
        hours = d("first_response_hours")[mine]
        hours = hours[~np.isnan(hours)]  # what pandas' median reads, and how
        median[j] = np.nanmedian(hours) if len(hours) else np.nan
    return pd.DataFrame(
        {
            "replication": batch.replications,
            "leads": np.bincount(of[d("created_day") - batch.cal.first_day >= 0], minlength=k),
            "deals_won": n_won,
            "win_rate": n_won / np.maximum(np.bincount(of[closed], minlength=k), 1),
            "bookings": bookings,
            "alerts": alerts.astype(np.int64),
            "relays": relays.astype(np.int64),
            "lever_cost": lever_cost,
            "share_at_target": np.where(
                has_target, at_target.sum(axis=1, dtype=float) / at_target.shape[1], np.nan
            ),
            "median_first_response_hours": median,
        }
    )


def attach_payouts(tables: dict[str, pd.DataFrame], batch: Batch, plan: Plan) -> None:
    """Run the plan on the batch's credits: the statements table, payout in reps and runs.
    One payout run for the whole batch, each replication's reps, squads and contests,
    team-wide pools and budget kept apart by the roster's `replication` column: the same
    statements as one run per replication."""
    lines, codes, bounds = _batch_lines(batch, plan)
    _pay_runs(tables["runs"], lines["amount"].to_numpy(), bounds)
    k, n = batch.size, batch.team.size
    of = codes // n if k > 1 else np.zeros(len(codes), dtype=np.int64)
    tables["statements"] = lines.assign(replication=batch.replications[of])[STATEMENT_COLUMNS]
    # each rep's total per period, summed as pandas sums a group (compensated, in line order)
    n_periods = len(batch.periods[0])
    period_codes, found = pd.factorize(lines["period"])
    period = pd.Index(batch.labels).get_indexer(found)[period_codes]
    position = pd.Index(batch.team.rep_id).get_indexer(lines["rep_id"].cat.categories[:n])
    is_rep = codes < k * n  # managers and funds (one replication alone) are no reps' rows
    key = ((of * n + position[codes % n]) * n_periods + period)[is_rep]
    paid = pd.Series(lines["amount"].to_numpy()[is_rep]).groupby(key).sum()
    per_cell = np.zeros(k * n * n_periods)
    per_cell[paid.index.to_numpy()] = paid.to_numpy()
    rows = np.tile(np.repeat(np.arange(n_periods), n), k)
    tables["reps"]["payout"] = per_cell[batch.rep_cells * n_periods + rows]


def pay_runs(runs: pd.DataFrame, batch: Batch, plan: Plan) -> None:
    """The runs rows' payout and cost of sales alone, for a run that reads nothing else (a
    design candidate): the same plan run as `attach_payouts`, no statements kept."""
    lines, _, bounds = _batch_lines(batch, plan)
    _pay_runs(runs, lines["amount"].to_numpy(), bounds)


def _pay_runs(runs: pd.DataFrame, amount: np.ndarray, bounds: np.ndarray) -> None:
    """Payout (each replication's lines summed in their order) and cost of sales."""
    payout = np.array([amount[bounds[j] : bounds[j + 1]].sum() for j in range(len(runs))])
    bookings = runs["bookings"].to_numpy()
    runs["payout"] = payout
    with np.errstate(invalid="ignore", divide="ignore"):
        runs["cost_of_sales"] = np.where(bookings > 0, payout / bookings, np.nan)


def _batch_lines(batch: Batch, plan: Plan) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The statement lines of the batch's one payout run, with each line's payee code (the
    roster's sorted position) and where each replication's lines start. In a batch, reps are
    `k|id` and a replication's lines one block; the lines keep each replication's reps (rep_id
    without the tag), payees beyond the reps of a batch dropped."""
    ledger, targets, roster = _payout_inputs(batch)
    clock = batch.cal.plan_period.periods
    lines = compute_payouts(ledger, targets, roster, plan, check=False, periods=clock).lines
    codes = lines["rep_id"].cat.codes.to_numpy().astype(np.int64)
    k, n = batch.size, batch.team.size
    if k == 1:
        return lines, codes, np.array([0, len(lines)])
    bounds = np.searchsorted(codes // n, np.arange(k + 1))
    codes = codes[: bounds[k]]
    ids = [str(c).split("|", 1)[1] for c in lines["rep_id"].cat.categories[:n]]
    lines = lines.iloc[: bounds[k]].assign(
        rep_id=pd.Categorical.from_codes(codes % n, categories=ids)
    )
    return lines, codes, bounds


def _payout_inputs(batch: Batch) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The ledger (credits), targets (each rep's per period) and roster `compute_payouts`
    reads for the batch: there replication k's reps and squads are `k|id` (sorted ids keep
    each replication's order) and its deals numbered after the previous replication's."""
    team, cal, k = batch.team, batch.cal, batch.size
    d, c = batch.deal, batch.credits
    offset = int(d("lead_id").max()) + 1 if len(d("lead_id")) else 1
    deal_key = d("of") * offset + d("lead_id")
    credit_key = c["of"] * offset + c["lead_id"]
    where = _positions(deal_key, credit_key)
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
    close_day = c["close_day"] - cal.first_day
    payees = _strings(ids)  # each id converted once, then taken by code
    ledger = pd.DataFrame(
        {
            "deal_id": credit_key,
            "rep_id": payees.take(c["of"] * team.size + c["rep"]),
            "close_date": start + pd.to_timedelta(np.floor(close_day), unit="D"),
            "amount": c["amount"],
            "deal_amount": d("amount")[where],
            "credit_share": c["share"],
            "tier": _strings(np.asarray(batch.tier_names, dtype=object)).take(d("tier")[where]),
        }
    )
    targets = pd.DataFrame(
        {
            "rep_id": payees.take(batch.rep_cells),
            "period": batch.period_column,
            "target": batch.target.ravel(),
        }
    )
    tenure = np.tile(np.asarray(TENURES)[team.tenure(0)], k)
    roster = pd.DataFrame(
        {
            "rep_id": payees,
            "tenure": tenure,
            "squad": squad,
            "mentor_id": mentor,
            "replication": np.repeat(np.arange(k), team.size),
        }
    )
    return ledger, targets, roster


def _positions(keys: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Where each of `wanted` is in `keys` (distinct): a binary search of the sorted wanted
    keys when `keys` are sorted, as a simulator's deals are (by replication, then lead)."""
    if len(keys) == 0 or np.any(keys[1:] <= keys[:-1]):
        return pd.Index(keys).get_indexer(wanted)
    order = np.argsort(wanted, kind="stable")
    where = np.empty(len(wanted), dtype=np.int64)
    where[order] = np.searchsorted(keys, wanted[order])
    found = np.minimum(where, len(keys) - 1)
    return np.where(keys[found] == wanted, where, -1)


def statement_totals(statements: pd.DataFrame) -> pd.DataFrame:
    """Statements reduced to one line per replication, period and component, summed over
    reps (rep_id and basis missing): what budgets and comparisons read, a fraction the size."""
    keys = ["replication", "period", "component"]
    totals = statements.groupby(keys, sort=False, observed=True)["amount"].sum().reset_index()
    totals["rep_id"] = pd.Series([None] * len(totals), dtype=statements["rep_id"].dtype)
    totals["basis"] = np.nan
    return totals[STATEMENT_COLUMNS]

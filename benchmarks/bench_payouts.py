"""How fast are statements for a big ledger? 1,000,000 ledger rows, 10,000 reps, 3 months.

Runs ``compute_payouts`` under the full playbook plan (``scenarios/plans/playbook_full.yaml``:
every component, budget and flags) on two synthetic ledgers, one shaped as the simulator
writes it and one with every optional column of a CRM export (roles, customers, new-customer
marks, returns, projects), each against a bare numpy twin doing the same grouping work with dense np.bincount tables and no checks,
rules or statements: bookings per rep x month, distinct new customers per rep x month
(hashed pairs), bookings per rep x day with the day's top rep, active rep x working days,
bookings per squad x week, per project x month, per rep x month x working day (the flags),
and the tiered commission.
Prints the minimum and median CPU time of several runs on one core and the ratio of the
minima. The twin is not a lower bound: it hashes every (rep x month, customer) pair where
the engine hashes only customers on several rows, so the engine can beat it.
Target (issue 12): <= 0.35 s on the simulator's ledger.

Then what a replication pays outside the engine (issues 12 and 13): one batch of
gate80_cap150 replications (the batch `simulate` uses, 48) simulated once, then the runner's
tables and payouts timed on those records, as `simulate` builds them (every table, the
statements) and as a design candidate's `replication_runs` does (the runs rows alone), CPU
milliseconds per replication, min / median.

    .venv/bin/python benchmarks/bench_payouts.py [--rows N] [--reps N] [--repeat N]
        [--part ledger|tables|all] [--batch N]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from simplan import load_scenario, runner
from simplan.engines import fast
from simplan.model.plan import Plan, compute_payouts, targets_from_quota
from simplan.model.randomness import replication_seeds
from simplan.scenario import load_config

PLAN = Path(__file__).parent.parent / "scenarios" / "plans" / "playbook_full.yaml"
PROPOSAL = Path(__file__).parent.parent / "scenarios" / "proposals" / "gate80_cap150.yaml"
SPLIT_SHARE = 0.025
"""Share of deals split 60/40 between a lead and a support rep (two ledger rows each)."""


def make_inputs(n_rows: int, n_reps: int, crm: bool = False, seed: int = 0):
    """A synthetic ledger of ``n_rows`` rows over Q1 2024, flat targets and a roster.

    The ledger has the columns the simulator's ledger has (ids, dates, amounts, credit
    shares with 2.5% of deals split 60/40, lead tier); ``crm=True`` adds every optional column
    a CRM export brings: role, customer_id (a pool of n_rows / 5 named customers),
    new_customer (30%), returned (3%) and project (5% of deals, 20 projects). Squads of 5,
    managers of 50, 20% new hires.
    """
    rng = np.random.default_rng(seed)
    reps = np.array([f"r{i:05d}" for i in range(n_reps)], dtype=object)
    team = pd.DataFrame(
        {
            "rep_id": reps,
            "tenure": rng.choice(["new_hire", "ramping", "veteran"], n_reps, p=[0.2, 0.2, 0.6]),
            "squad": [f"s{i // 5}" for i in range(n_reps)],
            "manager_id": [f"m{i // 50}" for i in range(n_reps)],
        }
    )
    n_split = int(n_rows * SPLIT_SHARE / (1 + SPLIT_SHARE))
    n_deals = n_rows - n_split
    deal_amount = np.round(rng.lognormal(np.log(9000), 1.0, n_deals), 2)
    close = np.datetime64("2024-01-01") + rng.integers(0, 91, n_deals).astype("timedelta64[D]")
    deal = {
        "deal_id": np.arange(n_deals),
        "rep_id": reps[rng.integers(0, n_reps, n_deals)],
        "close_date": close,
        "deal_amount": deal_amount,
        "tier": rng.choice(np.array(["A", "B", "C"], dtype=object), n_deals, p=[0.2, 0.5, 0.3]),
    }
    if crm:
        customers = rng.integers(0, n_rows // 5, n_deals).astype(str)
        projects = rng.integers(0, 20, n_deals).astype(str)
        deal |= {
            "customer_id": np.char.add("c", customers).astype(object),
            "new_customer": rng.random(n_deals) < 0.3,
            "returned": rng.random(n_deals) < 0.03,
            "project": np.where(
                rng.random(n_deals) < 0.05, np.char.add("p", projects).astype(object), None
            ),
            "role": "lead",
        }
    lead = pd.DataFrame({**deal, "credit_share": 1.0})
    split = rng.choice(n_deals, n_split, replace=False)
    lead.loc[split, "credit_share"] = 0.6
    support = lead.iloc[split].assign(
        rep_id=reps[rng.integers(0, n_reps, n_split)], credit_share=0.4
    )
    if crm:
        support["role"] = "support"
    ledger = pd.concat([lead, support], ignore_index=True)
    ledger["amount"] = ledger["deal_amount"] * ledger["credit_share"]
    months = pd.period_range("2024-01", periods=3, freq="M")
    quota = float(np.round(deal_amount.sum() / n_reps / 3, -2))
    return ledger, targets_from_quota(team, months, quota=quota), team


def bare_numpy(ledger: pd.DataFrame, targets: pd.DataFrame, team: pd.DataFrame) -> float:
    """The grouping work of the full plan in bare numpy (no rules, no checks, no statements)."""
    rep, rep_ids = pd.factorize(ledger["rep_id"])
    target_rep = pd.Index(rep_ids).get_indexer(targets["rep_id"])
    day = ledger["close_date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    first_day = day.min()
    calendar = np.arange(first_day, day.max() + 1).astype("datetime64[D]")
    month = calendar.astype("datetime64[M]").astype(np.int64)[day - first_day]
    workday = np.busday_count(calendar[0], calendar)[day - first_day]  # from the first day
    first = month.min()
    n_periods = int(month.max() - first) + 1
    cell = rep * n_periods + (month - first)
    n_cells = len(rep_ids) * n_periods
    amount = ledger["amount"].to_numpy()
    counted = np.bincount(cell, weights=amount, minlength=n_cells)
    work = [counted]
    if "returned" in ledger:
        returned = ledger["returned"].to_numpy(bool)
        work.append(np.bincount(cell[returned], weights=amount[returned], minlength=n_cells))
        new = np.flatnonzero(ledger["new_customer"].to_numpy(bool))
        customer = pd.factorize(ledger["customer_id"].iloc[new])[0]
        project = pd.factorize(ledger["project"], use_na_sentinel=True)[0]
        in_project = project >= 0
        work.append(np.bincount(project[in_project] * n_periods + month[in_project] - first))
        work.append(pd.factorize(ledger["role"])[0])
    else:
        new = np.arange(len(ledger))
        customer = pd.factorize(ledger["deal_id"])[0]
    pairs = pd.unique(cell[new] * (customer.max() + 1) + customer)
    work.append(np.bincount(pairs // (customer.max() + 1), minlength=n_cells))
    by_day = np.bincount(
        (day - first_day) * len(rep_ids) + rep,
        weights=amount,
        minlength=len(calendar) * len(rep_ids),
    )
    work.append(by_day.reshape(-1, len(rep_ids)).argmax(axis=1))
    work.append(np.bincount(rep * (workday.max() + 1) + workday) > 0)
    squad = pd.factorize(team["squad"])[0][pd.Index(team["rep_id"]).get_indexer(rep_ids)][rep]
    week = (day + 3) // 7
    work.append(np.bincount((week - week.min()) * (squad.max() + 1) + squad, weights=amount))
    work.append(np.bincount(cell * 23 + (workday - workday.min()) % 23, weights=amount))
    target = np.empty(n_cells)
    target_month = pd.PeriodIndex(targets["period"], freq="M").asi8  # labels such as 2024-01
    target[target_rep * n_periods + (target_month - first)] = targets["target"]
    thresholds, rates = np.array([0.0, 1.2, 1.5]), np.array([0.10, 0.125, 0.15])
    at = np.r_[0.0, np.cumsum(rates[:-1] * np.diff(thresholds))]
    k = np.searchsorted(thresholds, counted / target, side="right") - 1
    tiered = target * at[k] + rates[k] * (counted - thresholds[k] * target)
    return float(tiered.sum() + sum(float(w[:1].sum()) for w in work))


def timings(fn, repeat: int) -> list[float]:
    """CPU seconds of each of ``repeat`` calls (the machine may be shared: wall time is noisy)."""
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return times


def measure(plan: Plan, rows: int, reps: int, repeat: int, crm: bool) -> None:
    """Print the bare numpy twin and compute_payouts on one shape of ledger."""
    ledger, targets, team = make_inputs(rows, reps, crm=crm)
    statements = compute_payouts(ledger, targets, team, plan, check=False)
    assert np.isclose(statements.lines["amount"].sum(), statements.totals["payout"].sum())
    twin = timings(lambda: bare_numpy(ledger, targets, team), repeat)
    fast = timings(lambda: compute_payouts(ledger, targets, team, plan, check=False), repeat)
    checked = timings(lambda: compute_payouts(ledger, targets, team, plan), repeat)
    shape = "a CRM export (every optional column)" if crm else "the simulator writes it"
    print(f"-- ledger as {shape}")
    for label, times in (
        ("bare numpy twin, same grouping", twin),
        ("compute_payouts, check=False", fast),
        ("compute_payouts, row checks on", checked),
    ):
        ratio = min(times) / min(twin)
        print(
            f"   {label:32s} {min(times):6.3f} s / {statistics.median(times):6.3f} s  "
            f"ratio {ratio:5.2f}x"
        )


def measure_tables(size: int, repeat: int) -> None:
    """Print the CPU a replication's tables and payouts cost on one batch's records."""
    scenario = load_scenario(PROPOSAL).with_simulation(
        replications=size, seed=1, workers=1, engine="fast"
    )
    worlds = runner._worlds(scenario, 1)
    seeds = replication_seeds(1, size)
    task = [(i, seeds[i]) for i in range(size)]
    records = fast.run_batch(*worlds[0], [seq for _, seq in task])
    print(
        f"== tables and payouts outside the engine: {scenario.name}, one batch of {size} "
        f"replications ({worlds[0][1].size} reps), CPU ms a replication, min / median of {repeat}"
    )
    engine = fast.run_batch
    fast.run_batch = lambda *args: records  # the runner's steps on these records alone
    try:
        for label, keep, runs_only in (
            ("simulate: every table, statements", None, False),
            ("simulate, streamed (keep=())", frozenset(), False),
            ("replication_runs: runs rows", frozenset(), True),
        ):
            runner._replicate(worlds, keep, task, runs_only)  # warm caches
            times = []
            for _ in range(repeat):
                start = time.process_time()
                runner._replicate(worlds, keep, task, runs_only)
                times.append(time.process_time() - start)
            per = 1000 / size
            print(
                f"   {label:36s} {min(times) * per:6.2f} / {statistics.median(times) * per:6.2f} ms"
            )
    finally:
        fast.run_batch = engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--part", choices=("ledger", "tables", "all"), default="all")
    parser.add_argument("--batch", type=int, default=48)
    args = parser.parse_args()
    if args.part != "ledger":
        measure_tables(args.batch, args.repeat)
    if args.part == "tables":
        return
    plan = load_config(PLAN, Plan)
    print(
        f"== payouts: {args.rows:,} ledger rows, {args.reps:,} reps, 3 months, plan "
        f"{plan.name} ({len(plan.components)} components, budget, flags); one core, CPU "
        f"seconds, min / median of {args.repeat}"
    )
    for crm in (False, True):
        measure(plan, args.rows, args.reps, args.repeat, crm)
    print("   target (issue 12): compute_payouts <= 0.35 s on the simulator's ledger")


if __name__ == "__main__":
    main()

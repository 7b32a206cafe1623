"""How fast are statements for a big ledger? 1,000,000 deal rows, 10,000 reps, 3 months.

Compares ``compute_payouts`` under a plan with 8 components against a bare numpy lower
bound for the same input: factorize rep ids, bin close dates into months, sum bookings per
rep x month with np.bincount, and apply one tiered commission with np.searchsorted.
Prints both times (best of several runs, one core) and their ratio. Target: <= 0.35 s and
within 3x of the lower bound.

    .venv/bin/python benchmarks/bench_payouts.py [--deals N] [--reps N] [--repeat N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from simplan.model.plan import Plan, compute_payouts, targets_from_quota

PLAN = {
    "name": "benchmark",
    "clock": "month",
    "components": [
        {"type": "base_salary", "amount": 3000},
        {"type": "base_commission", "rate": 0.02},
        {
            "type": "tiered_commission",
            "mode": "marginal",
            "tiers": [
                {"threshold": 0.0, "rate": 0.10},
                {"threshold": 1.2, "rate": 0.125},
                {"threshold": 1.5, "rate": 0.15},
            ],
        },
        {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 1000}]},
        {"type": "big_deal_bonus", "amount": 2000, "min_deal": 500_000},
        {"type": "team_pool", "team": "squad"},
        {"type": "gate", "threshold": 0.8},
        {"type": "payout_cap", "max_amount": 60_000},
    ],
    "budget": {"total": 5e8, "policy": "scale_down"},
}


def make_inputs(n_deals: int, n_reps: int, seed: int = 0):
    """A synthetic ledger (one credited rep per deal), flat targets and a squad roster."""
    rng = np.random.default_rng(seed)
    reps = np.array([f"r{i:05d}" for i in range(n_reps)], dtype=object)
    team = pd.DataFrame(
        {
            "rep_id": reps,
            "tenure": rng.choice(["new_hire", "ramping", "veteran"], n_reps, p=[0.2, 0.2, 0.6]),
            "squad": [f"s{i // 5}" for i in range(n_reps)],
        }
    )
    amount = rng.lognormal(np.log(9000), 1.0, n_deals)
    start = np.datetime64("2024-01-01")
    ledger = pd.DataFrame(
        {
            "deal_id": np.arange(n_deals),
            "rep_id": reps[rng.integers(0, n_reps, n_deals)],
            "close_date": start + rng.integers(0, 91, n_deals).astype("timedelta64[D]"),
            "amount": amount,
            "deal_amount": amount,
            "credit_share": np.ones(n_deals),
        }
    )
    months = pd.period_range("2024-01", periods=3, freq="M")
    targets = targets_from_quota(team, months, quota=1_000_000 * n_deals / n_reps / 100 / 3)
    return ledger, targets, team


def lower_bound(ledger: pd.DataFrame, targets: pd.DataFrame) -> np.ndarray:
    """Tiered commission alone with bare numpy: the least work any statement run must do."""
    rep_codes, rep_ids = pd.factorize(ledger["rep_id"])
    target_rep = pd.Index(rep_ids).get_indexer(targets["rep_id"])
    months = ledger["close_date"].to_numpy().astype("datetime64[M]").astype(np.int64)
    first = months.min()
    n_periods = int(months.max() - first) + 1
    cell = rep_codes * n_periods + (months - first)
    bookings = np.bincount(
        cell, weights=ledger["amount"].to_numpy(), minlength=len(rep_ids) * n_periods
    )
    target = np.empty(len(bookings))
    target[target_rep * n_periods + (targets["period"].array.asi8 - first)] = targets[
        "target"
    ].to_numpy()
    thresholds = np.array([0.0, 1.2, 1.5])
    rates = np.array([0.10, 0.125, 0.15])
    at = np.r_[0.0, np.cumsum(rates[:-1] * np.diff(thresholds))]
    k = np.searchsorted(thresholds, bookings / target, side="right") - 1
    return target * at[k] + rates[k] * (bookings - thresholds[k] * target)


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    ledger, targets, team = make_inputs(args.deals, args.reps)
    plan = Plan.model_validate(PLAN)
    statements = compute_payouts(ledger, targets, team, plan, check=False)
    assert np.isclose(statements.lines["amount"].sum(), statements.totals["payout"].sum())
    t_bound = best_time(lambda: lower_bound(ledger, targets), args.repeat)
    t_plan = best_time(
        lambda: compute_payouts(ledger, targets, team, plan, check=False), args.repeat
    )
    t_checked = best_time(lambda: compute_payouts(ledger, targets, team, plan), args.repeat)
    print(
        f"ledger: {args.deals:,} rows, {args.reps:,} reps, 3 months; plan: {len(plan.components)} components"
    )
    print(f"numpy lower bound (tiered commission only): {t_bound:.3f} s")
    print(
        f"compute_payouts, check=False:               {t_plan:.3f} s  ratio {t_plan / t_bound:.2f}x"
    )
    print(
        f"compute_payouts, row checks on:             {t_checked:.3f} s  ratio {t_checked / t_bound:.2f}x"
    )
    print(f"statement lines: {len(statements.lines):,}; target <= 0.35 s and <= 3x")


if __name__ == "__main__":
    main()

"""A corpus of awkward CRM exports, each generated here from one known truth: a small team
simulated for two quarters (with a warm-up, so deals opened before the export's window and
closed inside it are there, as in a real export), then written the way a CRM would spoil it.

`EXPORTS` maps a case to the spoiling function, the findings `history check` must name, and
the reading options a user would pass. The truth is `TRUTH` (arrivals, win probability and
deal size per tier, rep skills). `FISCAL` holds the same truth on a business calendar (4-4-5
and 13-week fiscal periods from Monday 2024-01-08), its leads arriving by the phase of each
fiscal period, exported at the end of fiscal Q2 (`FISCAL_AS_OF`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simplan import Scenario, simulate
from simplan.analysis.synthetic import crm_export
from simplan.model.plan import Plan

SKILLS = [0.75, 0.85, 0.95, 1.0, 1.0, 1.05, 1.15, 1.25]
TRUTH = {
    "name": "corpus_truth",
    "calendar": {"start": "2024-01-01", "days": 182, "warmup_days": 90, "period": "quarter"},
    "team": {
        "roster": [
            {"rep_id": f"rep{i}", "tenure_days": 3650, "capacity_touches_per_day": 30, "skill": s}
            for i, s in enumerate(SKILLS)
        ]
    },
    "leads": {
        "tiers": [
            {
                "name": "A",
                "arrivals_per_day": 3,
                "win_probability": 0.5,
                "deal_size": {"dist": "lognormal", "mean": 20000, "cv": 0.5},
                "stage_delays_days": {
                    "contact": 0.25, "proposal": 0.25,
                    "negotiation": {"dist": "gamma", "mean": 14, "cv": 0.5},
                },
            },
            {
                "name": "B",
                "arrivals_per_day": 6,
                "win_probability": 0.3,
                "deal_size": {"dist": "gamma", "mean": 5000, "cv": 0.5},
                "stage_delays_days": {
                    "contact": 0.25, "proposal": 0.25,
                    "negotiation": {"dist": "lognormal", "mean": 21, "cv": 0.6},
                },
            },
        ]
    },
    "routing": {"policy": "least_loaded", "priority_tiers": []},
}  # fmt: skip
AS_OF = "2024-06-30"
FISCAL = {"13-week": "13-week:2024-01-08", "4-4-5": "4-4-5:2024-01-08"}
FISCAL_AS_OF = "2024-07-07"  # the last day of FY2024-Q2 under both rules
FISCAL_PHASES = {"build": 1.3, "burst": 1.0, "close_out": 0.7}
"""Lead arrival multipliers by phase of each fiscal period (shares 0.3, 0.5, 0.2)."""


def fiscal_truth(rule: str) -> dict:
    """`TRUTH` on the fiscal calendar `rule`: its window is fiscal Q1 and Q2 and its sprint
    phases follow the fiscal periods, so only fiscal bucketing finds the arrival pattern."""
    phases = {
        name: {"share": share, "arrival_multiplier": FISCAL_PHASES[name]}
        for name, share in (("build", 0.3), ("burst", 0.5), ("close_out", 0.2))
    }
    calendar = {"start": "2024-01-08", "days": 182, "warmup_days": 90, "period": "quarter",
                "periods": FISCAL[rule], "sprint": {"every": "period", "phases": phases}}  # fmt: skip
    return {**TRUTH, "name": f"corpus_truth_{rule}", "calendar": calendar}


def fiscal_plan() -> Plan:
    """A plan paying per the business's periods (`clock: period`): 5 % commission and a
    3,000 bonus at target, so the behaviour fit has a line to respond to."""
    return Plan.model_validate(
        {"clock": "period", "components": [
            {"type": "base_commission", "rate": 0.05},
            {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 3000}]}]}
    )  # fmt: skip


def fiscal_export(rule: str, seed: int = 7) -> pd.DataFrame:
    """The clean export of one replication of `fiscal_truth(rule)`."""
    truth = fiscal_truth(rule)
    results = simulate(Scenario.model_validate(truth), replications=1, seed=seed, workers=1)
    return crm_export(results.deals, pd.Timestamp(truth["calendar"]["start"])).reset_index(
        drop=True
    )


def truth_export(seed: int = 7) -> pd.DataFrame:
    """The clean export of one replication: every deal closed in the window or open at its
    end, including those opened during the warm-up; ISO dates, amount 0 on lost deals."""
    results = simulate(Scenario.model_validate(TRUTH), replications=1, seed=seed, workers=1)
    start = pd.Timestamp(TRUTH["calendar"]["start"])
    return crm_export(results.deals, start).reset_index(drop=True)


STALE_PER_DAY = 3.0
"""Leads a day that never close (a quarter of all), in `stale_pipeline_export`."""
STALE_CUT = "2024-06-30"
"""Where the stale-pipeline backtest cuts: it then forecasts July to September."""


STALE_TRUTH = {**TRUTH, "calendar": {**TRUTH["calendar"], "days": 274}}
"""`TRUTH` for three quarters: 2024-01-01 .. 2024-09-30 after its warm-up."""


def stale_truth_quarter(replications: int, seed: int = 1) -> pd.Series:
    """The truth's bookings in its third quarter (July..September), one per replication."""
    results = simulate(
        Scenario.model_validate(STALE_TRUTH), replications=replications, seed=seed, workers=1
    )
    credits = results.credits
    third = credits[credits["close_day"] >= 182]  # day 182 is 2024-07-01
    return third.groupby("replication")["amount"].sum()


def stale_pipeline_export(seed: int = 7) -> pd.DataFrame:
    """`STALE_TRUTH`'s clean export with `STALE_PER_DAY` extra leads a day that stay open for
    ever (spread over the tiers and reps like the live ones): at the cut most old open deals
    are these, and never win."""
    truth = STALE_TRUTH
    results = simulate(Scenario.model_validate(truth), replications=1, seed=seed, workers=1)
    start = pd.Timestamp(truth["calendar"]["start"])
    live = crm_export(results.deals, start)
    rng = np.random.default_rng([seed, 53])
    first = -truth["calendar"]["warmup_days"]
    count = rng.poisson(STALE_PER_DAY * (274 - first))
    created = start + pd.to_timedelta(np.floor(rng.uniform(first, 274, count)), unit="D")
    stale = pd.DataFrame(
        {
            "deal_id": [f"S{i}" for i in range(count)],
            "rep_id": rng.choice(live["rep_id"].unique(), count),
            "created_date": created.strftime("%Y-%m-%d"),
            "close_date": "",
            "amount": 0.0,
            "outcome": "open",
            "tier": rng.choice(live["tier"].to_numpy(), count),
        }
    )
    return pd.concat([live, stale], ignore_index=True).sort_values("created_date", kind="stable")


def closed_only(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame[frame["outcome"] != "open"]


def owners_only_on_won(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(rep_id=frame["rep_id"].where(frame["outcome"] == "won", ""))


def amounts_missing(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    won = frame["outcome"] == "won"
    gone = won & (rng.random(len(frame)) < 0.8)
    amount = frame["amount"].astype(object).where(~gone, "")
    return frame.assign(amount=amount.where(won, ""))


def day_first(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    def flip(text: pd.Series) -> pd.Series:
        dates = pd.to_datetime(text, errors="coerce")
        return dates.dt.strftime("%d/%m/%Y").where(dates.notna(), "")

    return frame.assign(
        created_date=flip(frame["created_date"]), close_date=flip(frame["close_date"])
    )


def lost_without_dates(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return frame.assign(close_date=frame["close_date"].where(frame["outcome"] != "lost", ""))


def outlier(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    frame = frame.copy()
    line = frame.index[frame["outcome"] == "won"][len(frame) // 7]
    frame.loc[line, "amount"] = frame.loc[line, "amount"] * 1000  # three extra zeros
    return frame


@dataclass(frozen=True)
class Case:
    """An awkward export: how it is spoiled and what a check must say about it."""

    spoil: Callable[[pd.DataFrame, np.random.Generator], pd.DataFrame]
    findings: tuple[str, ...]
    said: tuple[str, ...] = ()
    """Fragments the check's text must hold (what was found and how it is treated)."""
    read: dict = field(default_factory=dict)


EXPORTS = {
    "closed_only": Case(closed_only, ("closed deals only",), ("no open deal",)),
    "owners_only_on_won": Case(
        owners_only_on_won, ("owners missing",), ("owners are on won deals only", "lost 100%")
    ),
    "amounts_missing": Case(
        amounts_missing, ("amounts missing",), ("--impute-amounts",), {"impute_amounts": True}
    ),
    "day_first": Case(day_first, (), ()),
    "lost_without_dates": Case(
        lost_without_dates,
        ("lost deals without a close date",),
        ("treated as lost at an inferred",),
    ),
    "outlier": Case(outlier, ("extreme amounts",), ("won amount above",)),
}

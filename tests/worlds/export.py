"""The world's history as a CRM export and side tables, the files a planner hands simplan.

Files written by `write_world` (dates ISO, money in currency units):
- deals.csv: opportunity_id, owner, created_date, close_date, amount, outcome (won / lost,
  and open with `include_open`: close_date empty, amount the quoted value); deals closed
  in 2025Q1-Q4 (created in the warm-up or later); lost deals have amount 0.
- reps.csv: rep_id, tenure_days (on 2025-12-31), team.
- quotas.csv: rep_id, period (2025Q1..2025Q4), target; next_quotas.csv: the same for 2026Q1.
- periods.csv: period, start, end (inclusive) for 2025Q1..2026Q1.
- current.yaml, proposal.yaml, linear.yaml: the world's plans as simplan plan files.
simplan reads deals.csv with `--map deal_id=opportunity_id --map rep_id=owner`.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tests.worlds import calendar
from tests.worlds.plans import PLANS, WorldPlan
from tests.worlds.sales_world import World, make_world

DEAL_COLUMNS = ("opportunity_id", "owner", "created_date", "close_date", "amount", "outcome")
SIMPLAN_MAP = ("deal_id=opportunity_id", "rep_id=owner")
"""The `--map` pairs that let simplan's history reader take deals.csv."""


def deals_table(world: World, include_open: bool = False) -> pd.DataFrame:
    """The history's opportunities as a CRM export: closed in 2025, plus open ones if asked."""
    first, _ = calendar.quarter_days(calendar.HISTORY[0])
    last, days = calendar.quarter_days(calendar.HISTORY[-1])
    end = last + days  # the day after the history
    deals = world.deals
    is_open = deals["won"].isna().to_numpy()
    closed = ~is_open & (deals["closes"].to_numpy() >= first) & (deals["closes"].to_numpy() < end)
    keep = closed | (is_open & include_open)
    deals = deals[keep].sort_values(["created", "rep", "closes"], kind="stable")
    won = deals["won"].fillna(False).to_numpy(bool)
    still_open = deals["won"].isna().to_numpy()
    close_date = pd.Series(calendar.to_date(deals["closes"]).strftime("%Y-%m-%d"))
    close_date[still_open] = ""
    return pd.DataFrame(
        {
            "opportunity_id": [f"OPP-{i:05d}" for i in range(1, len(deals) + 1)],
            "owner": world.reps.rep_id[deals["rep"].to_numpy()],
            "created_date": calendar.to_date(deals["created"]).strftime("%Y-%m-%d"),
            "close_date": close_date.to_numpy(),
            "amount": np.where(won | still_open, deals["amount"].to_numpy(), 0.0),
            "outcome": np.select([won, still_open], ["won", "open"], "lost"),
        }
    )


def reps_table(world: World) -> pd.DataFrame:
    """The roster: rep_id, tenure_days at the end of the history, team."""
    return pd.DataFrame(
        {
            "rep_id": world.reps.rep_id,
            "tenure_days": world.reps.tenure_days,
            "team": world.reps.team,
        }
    )


def quotas_table(world: World, periods: tuple[str, ...]) -> pd.DataFrame:
    """rep_id, period, target for `periods`."""
    quotas = world.team.quotas[world.team.quotas["period"].isin(periods)]
    return pd.DataFrame(
        {
            "rep_id": world.reps.rep_id[quotas["rep"].to_numpy()],
            "period": quotas["period"].to_numpy(),
            "target": quotas["target"].to_numpy(),
        }
    )


def plan_yaml(plan: WorldPlan) -> str:
    """The plan as the text of a simplan plan file."""
    header = f"# {plan.name}.yaml: {plan.description} (the ground-truth world's plan)\n"
    return header + yaml.safe_dump(plan.simplan_plan(), sort_keys=False)


def write_world(
    directory: str | Path,
    plan: str | WorldPlan = "current",
    seed: int = 0,
    include_open: bool = False,
) -> World:
    """Make the world (history under `plan`) and write its files into `directory`."""
    world = make_world(plan, seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "deals.csv": deals_table(world, include_open),
        "reps.csv": reps_table(world),
        "quotas.csv": quotas_table(world, calendar.HISTORY),
        "next_quotas.csv": quotas_table(world, (calendar.NEXT,)),
        "periods.csv": calendar.periods_table(),
    }
    for name, table in tables.items():
        _write_text(directory / name, table.to_csv(index=False))
    for known in PLANS.values():
        _write_text(directory / f"{known.name}.yaml", plan_yaml(known))
    return world


def _write_text(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (a temporary file in the same directory, renamed)."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as file:
        file.write(text)
    os.replace(temporary, path)


def simplan_behaviour(world: World) -> dict[str, float]:
    """The world's own response mechanism in the terms of simplan's behaviour fit (its four
    parameters, scenario key -> value), to tell what the fit gets wrong from what simplan's
    model does (`benchmarks/world_teams.py`):

    - `behaviour.pipeline_sight` 0: the world's reps plan on what they have booked, credit
      what they source at once in the share that will close this quarter and count the
      pipeline they started with at habitual effort (`effort.solve_policy`), as simplan's
      reps of sight 0 do;
    - `behaviour.cost_curvature`: the world's effort cost power (`reps.COST_POWER`);
    - `production.self_sourced_share`: the self-sourced share of the team's opportunities at
      the efforts the history's reps chose (self-sourcing at `self_per_day x effort **
      ELASTICITY`, the rest inbound);
    - `production.closing_elasticity`: the slope of the world's follow-up quality
      (`reps.quality`) in effort relative to each rep's history mean (simplan's effort 1),
      over the quality there, averaged over the team.
    """
    from tests.worlds.reps import COST_POWER, ELASTICITY, QUALITY_LIFT, quality

    reps = world.reps
    history = world.weekly[world.weekly["period"].isin(calendar.HISTORY)]
    by_rep = history.groupby("rep")["effort"]
    sourced = reps.self_per_day * by_rep.apply(lambda e: np.mean(e**ELASTICITY)).to_numpy()
    mean = by_rep.mean().to_numpy()
    slope = QUALITY_LIFT * mean / np.cosh(mean - 1.0) ** 2 / quality(mean)
    return {
        "production.self_sourced_share": round(float(sourced.sum() / (reps.inbound_per_day.sum()
                                                                     + sourced.sum())), 3),
        "production.closing_elasticity": round(float(slope.mean()), 3),
        "behaviour.cost_curvature": float(COST_POWER),
        "behaviour.pipeline_sight": 0.0,
    }  # fmt: skip

"""World B's history as a Salesforce report export and the side tables a planner hands simplan.

Files written by `write_world` (money in currency units, dates as a US-locale Salesforce
report writes them, MM/DD/YYYY):
- deals.csv: Opportunity ID, Opportunity Name, Opportunity Owner (full name), Lead Source
  (Inbound / Outbound), Lead Grade (A/B/C), Stage (Closed Won / Closed Lost / an open stage),
  Amount (signed amount when won; the list amount when lost or open), Created Date, Close
  Date (the expected close on open deals, as Salesforce keeps it). Deals closed in the
  history quarters FY2025-Q1..Q4 and every deal still open at the export date (`AS_OF`).
- users.csv: Full Name, Role, Hire Date (the Salesforce user list).
- quotas.csv: rep_id, period (FY2025-Q1..Q4), target; next_quotas.csv: FY2026-Q1.
- periods.csv: period, start, end (inclusive): the 13-week fiscal quarters.
- current.yaml, proposal.yaml, linear.yaml: the world's plans as simplan plan files.
simplan reads deals.csv with `--preset salesforce --map "tier=Lead Grade"` (`READ_ARGS`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from tests.world_b import calendar
from tests.world_b.plans import PLANS, Plan
from tests.world_b.team import GRADES
from tests.world_b.world import World, make_world

AS_OF = calendar.to_dates(np.array([calendar.first_day(calendar.NEXT) - 1]))[0]
"""The export date: the last day of the history."""
READ_ARGS = ("--preset", "salesforce", "--map", "tier=Lead Grade", "--as-of",
             AS_OF.strftime("%Y-%m-%d"))  # fmt: skip
"""What a user passes simplan to read deals.csv."""
OPEN_STAGES = ("Qualification", "Proposal/Price Quote", "Negotiation/Review")
"""The open stage of a deal by its age: under 3 weeks, 3-6 weeks, older."""
_US = "%m/%d/%Y"


def deals_table(world: World) -> pd.DataFrame:
    """The history's opportunities as the Salesforce report: closed in the history, and open."""
    deals = world.deals
    first = calendar.first_day(calendar.HISTORY[0])
    end = calendar.first_day(calendar.NEXT)
    is_open = deals["won"].isna().to_numpy()
    closed_in = (deals["closed_on"] >= first) & (deals["closed_on"] < end)
    deals = deals[closed_in.to_numpy() | is_open].sort_values(["created", "rep"], kind="stable")
    is_open, won = deals["won"].isna().to_numpy(), deals["won"].fillna(False).to_numpy(bool)
    age = end - deals["created"].to_numpy()
    stage = np.select([won, ~is_open], ["Closed Won", "Closed Lost"],
                      np.array(OPEN_STAGES)[np.digitize(age, [21, 42])])  # fmt: skip
    expected = np.maximum(deals["created"].to_numpy() + 42, end + 14)
    close_day = np.where(is_open, expected, deals["closed_on"].to_numpy())
    amount = np.where(won, deals["amount"], deals["list_amount"])
    names = world.reps.name[deals["rep"].to_numpy()]
    number = np.arange(1, len(deals) + 1)
    return pd.DataFrame({
        "Opportunity ID": [f"0065g00000W{i:05d}" for i in number],
        "Opportunity Name": [f"Renewal {i}" if i % 7 == 0 else f"New business {i}" for i in number],
        "Opportunity Owner": names,
        "Lead Source": np.where(deals["source"] == 1, "Outbound", "Inbound"),
        "Lead Grade": np.array(GRADES)[deals["grade"].to_numpy()],
        "Stage": stage,
        "Amount": np.round(amount, 2),
        "Created Date": calendar.to_dates(deals["created"]).strftime(_US),
        "Close Date": calendar.to_dates(close_day).strftime(_US),
    })  # fmt: skip


def users_table(world: World) -> pd.DataFrame:
    """The Salesforce user list: Full Name, Role, Hire Date."""
    return pd.DataFrame(
        {
            "Full Name": world.reps.name,
            "Role": world.reps.role,
            "Hire Date": calendar.to_dates(world.reps.hired).strftime(_US),
        }
    )


def quotas_table(world: World, periods: tuple[str, ...]) -> pd.DataFrame:
    """rep_id, period, target for `periods`."""
    quotas = world.quotas[world.quotas["period"].isin(periods)]
    return pd.DataFrame({"rep_id": world.reps.name[quotas["rep"].to_numpy()],
                         "period": quotas["period"].to_numpy(),
                         "target": quotas["target"].to_numpy()})  # fmt: skip


def plan_text(plan: Plan) -> str:
    """The plan as the text of a simplan plan file."""
    header = f"# {plan.name}.yaml: {plan.description} (world B's plan, per fiscal quarter)\n"
    return header + yaml.safe_dump(plan.plan_file(), sort_keys=False)


def write_world(directory: str | Path, plan: str = "current", seed: int = 0) -> World:
    """Make world B (history under the plan named `plan`) and write its files."""
    world = make_world(plan, seed)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tables = {
        "deals.csv": deals_table(world),
        "users.csv": users_table(world),
        "quotas.csv": quotas_table(world, calendar.HISTORY),
        "next_quotas.csv": quotas_table(world, (calendar.NEXT,)),
        "periods.csv": calendar.periods_table(),
    }
    for name, table in tables.items():
        table.to_csv(directory / name, index=False)
    for known in PLANS.values():
        (directory / f"{known.name}.yaml").write_text(plan_text(known))
    return world

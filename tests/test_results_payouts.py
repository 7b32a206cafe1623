"""Payouts for a batch of replications in one run of the plan: the same statements as one
replication at a time, each replication its own team, contests and budget."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simplan import load_scenario
from simplan.engines import fast
from simplan.model.calendar import build_calendar
from simplan.model.plan import Plan
from simplan.model.plan.budget import SCALE_LINE
from simplan.model.randomness import replication_seeds, team_seed
from simplan.model.team import build_team
from simplan.results import Batch, attach_payouts, batch_tables
from simplan.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
ACROSS_THE_TEAM = {"daily_champion", "squad_winner", "ranking_reward"}
"""playbook_full's components that compare reps of the whole team."""


def _per_rep(plan: Plan) -> Plan:
    """playbook_full without what compares reps across the team: squad pool, clawbacks,
    qualifying, gates, caps and the role bonuses stay."""
    kept = [c for c in plan.components if c.type not in ACROSS_THE_TEAM]
    qualifying = next(c for c in kept if c.type == "qualifying")
    applies = [
        a
        for a in qualifying.applies_to
        if a not in {"monthly_champion", "quarterly_top3", "daily_champion"}
    ]
    kept = [c.model_copy(update={"applies_to": applies}) if c is qualifying else c for c in kept]
    return plan.model_copy(update={"components": kept, "budget": None})


@pytest.fixture(scope="module")
def batch():
    """Four replications of the playbook_full proposal over a month (fast engine), as
    tables without statements, and what they ran on."""
    path = ROOT / "scenarios/proposals/playbook_full.yaml"
    data = load_scenario(path).model_dump(by_alias=True, exclude_none=True)
    data["calendar"] |= {"days": 31, "warmup_days": 30}
    scenario = Scenario.model_validate(data)
    team = build_team(scenario.team, np.random.default_rng(team_seed(scenario.simulation.seed)))
    calendar = build_calendar(scenario.calendar, scenario.plan.clock)
    records = fast.run_batch(scenario, team, calendar, replication_seeds(8, 4))
    tier_names = [t.name for t in scenario.leads.tiers]
    return scenario, team, calendar, records, tier_names


def _statements(batch, plan: Plan, together: bool) -> list[dict[str, pd.DataFrame]]:
    """Each replication's tables, paid in one batch (`together`) or each in a batch alone."""
    _, team, calendar, records, tier_names = batch
    replications = [k + 3 for k in range(len(records))]
    groups = [replications] if together else [[r] for r in replications]
    parts = []
    for group in groups:
        mine = Batch([records[r - 3] for r in group], group, team, calendar, tier_names)
        tables = batch_tables(mine)
        attach_payouts(tables, mine, plan)
        parts += [
            {
                name: table[table["replication"] == r].reset_index(drop=True)
                for name, table in tables.items()
            }
            for r in group
        ]
    return parts


@pytest.mark.parametrize("variant", ["playbook_full", "tight_budget", "per_rep", "gate80_cap150"])
def test_batched_statements_are_each_replications_own(batch, variant):
    """Statements, reps' payouts and runs' payouts of the batch run equal the replications
    run one at a time, to the bit: per-rep components, squads, and what compares the whole
    team (daily champion, squad winner, rankings, a scale-down budget) within each
    replication only."""
    plan = batch[0].plan
    if variant == "tight_budget":  # every replication over budget, each scaled by its own
        plan = plan.model_copy(update={"budget": plan.budget.model_copy(update={"total": 60_000})})
    elif variant == "per_rep":
        plan = _per_rep(plan)
        assert {c.type for c in plan.components} >= {
            "team_pool",
            "qualifying",
            "clawback",
            "first_deal_bonus",
        }
    elif variant == "gate80_cap150":
        plan = load_scenario(ROOT / "scenarios/proposals/gate80_cap150.yaml").plan
    together, alone = _statements(batch, plan, True), _statements(batch, plan, False)
    for mine, theirs in zip(together, alone, strict=True):
        assert len(theirs["statements"]) > 0
        pd.testing.assert_frame_equal(mine["statements"], theirs["statements"])
        pd.testing.assert_frame_equal(mine["reps"], theirs["reps"])
        pd.testing.assert_frame_equal(mine["runs"], theirs["runs"])
    amounts = [t["statements"].groupby("component", observed=True)["amount"].sum() for t in alone]
    assert not amounts[0].equals(amounts[1])  # the replications differ: they are not mixed up
    paid = pd.concat(amounts, axis=1).fillna(0.0)
    if variant in ("playbook_full", "tight_budget"):
        for contest in ("daily_champion", "squad_winner", "monthly_champion"):
            assert (paid.loc[contest] > 0).all()  # each replication's contests pay its own
    if variant == "tight_budget":
        cut = paid.loc[SCALE_LINE]
        assert (cut < 0).all()
        assert cut.nunique() == len(cut)  # each scaled by its own total
    if variant == "per_rep":
        assert (
            paid.loc["team_pool"] > 0
        ).any()  # the squad pool pays, per replication's own squads


def test_a_streamed_run_is_the_full_run_cut_past_its_sample_whatever_the_batch(batch, monkeypatch):
    """With `keep`, replications past the sample keep their runs and reps rows and their
    statements' totals per period and component, the big tables only the sample's: the full
    run's tables cut so, whether the sample ends inside a batch or between batches."""
    from simplan import runner, simulate
    from simplan.results import statement_totals

    monkeypatch.setattr(runner, "SAMPLE_REPLICATIONS", 2)
    scenario = batch[0]
    full = simulate(scenario, replications=5, seed=4, workers=1, engine="fast", batch=3)
    lines = full.statements
    expected = pd.concat(
        [lines[lines["replication"] < 2], statement_totals(lines[lines["replication"] >= 2])],
        ignore_index=True,
    )
    assert expected["rep_id"].isna().sum() == (expected["replication"] >= 2).sum() > 0
    for size in (1, 2, 3):
        streamed = simulate(
            scenario, replications=5, seed=4, workers=1, engine="fast", batch=size, keep=["deals"]
        )
        pd.testing.assert_frame_equal(streamed.statements, expected)
        for name in ("runs", "reps", "deals"):
            pd.testing.assert_frame_equal(getattr(streamed, name), getattr(full, name))
        for name in ("credits", "daily"):
            table = getattr(full, name)
            sample = table[table["replication"] < 2].reset_index(drop=True)
            pd.testing.assert_frame_equal(getattr(streamed, name), sample)

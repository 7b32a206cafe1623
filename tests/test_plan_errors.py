"""Bad plans and bad tables fail with one error naming the key, column or row and the fix."""

from __future__ import annotations

import pandas as pd
import pytest

from simplan.errors import ConfigError, SimplanError
from simplan.model.plan import COMPONENT_TYPES, Plan, compute_payouts
from simplan.scenario import load_config, register_union_tags
from tests.test_plan_support import FEB, flat_targets, ledger, plan, team

register_union_tags(COMPONENT_TYPES)  # the scenario loader does this for the real app

LINEAR = plan({"type": "base_commission", "rate": 0.1})


def problems(write_yaml, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_config(write_yaml("plan.yaml", text), Plan)
    return str(err.value)


def test_thresholds_out_of_order(write_yaml):
    message = problems(
        write_yaml,
        """
components:
  - type: tiered_commission
    tiers: [{threshold: 0, rate: 0.1}, {threshold: 1.5, rate: 0.15}, {threshold: 1.2, rate: 0.2}]
""",
    )
    assert "components[0].tiers" in message
    assert "thresholds must increase: 1.5 then 1.2" in message


def test_negative_rate_names_the_key_and_value(write_yaml):
    message = problems(
        write_yaml,
        "components:\n  - {type: tiered_commission, tiers: [{threshold: 0, rate: -0.1}]}\n",
    )
    assert "components[0].tiers[0].rate = -0.1: must be >= 0" in message


def test_retroactive_rates_must_not_fall(write_yaml):
    message = problems(
        write_yaml,
        """
components:
  - type: tiered_commission
    mode: retroactive
    tiers: [{threshold: 0, rate: 0.15}, {threshold: 1.2, rate: 0.1}]
""",
    )
    assert "must not fall: 0.15 then 0.1" in message
    assert "mode: marginal" in message


def test_project_pool_shares_not_summing_to_one(write_yaml):
    message = problems(
        write_yaml,
        "components:\n  - {type: project_pool, lead_share: 0.5, support_share: 0.3, fund_share: 0.3}\n",
    )
    assert "components[0]:" in message
    assert "= 1.1" in message
    assert "must sum to 1" in message


def test_unknown_component_type_names_the_nearest(write_yaml):
    message = problems(write_yaml, "components:\n  - {type: tiered_comission}\n")
    assert "components[0]: unknown component type 'tiered_comission'" in message
    assert "did you mean 'tiered_commission'?" in message


def test_misspelt_component_key(write_yaml):
    message = problems(write_yaml, "components:\n  - {type: gate, treshold: 0.8}\n")
    assert "components[0].treshold: unknown key 'treshold'; did you mean 'threshold'?" in message


def test_duplicate_names_and_dangling_references(write_yaml):
    message = problems(
        write_yaml,
        "components:\n  - {type: base_commission, rate: 0.1}\n  - {type: base_commission, rate: 0.2}\n",
    )
    assert "two components are named 'base_commission'" in message
    message = problems(
        write_yaml,
        "components:\n  - {type: base_commission, rate: 0.1}\n"
        "  - {type: gate, threshold: 0.8, applies_to: [bonus]}\n",
    )
    assert "applies_to 'bonus'" in message
    assert "choose from: base_commission" in message


def test_share_out_of_range(write_yaml):
    message = problems(write_yaml, "components:\n  - {type: team_pool, share_of_excess: 10}\n")
    assert "components[0].share_of_excess = 10" in message
    assert "write 10% as 0.1" in message


DEALS = ledger(
    {"deal_id": 1, "rep_id": "a", "date": "2024-01-10", "deal_amount": 100.0, "credit_share": 0.6},
    {"deal_id": 1, "rep_id": "b", "date": "2024-01-10", "deal_amount": 100.0, "credit_share": 0.4},
)
TARGETS = flat_targets(["a", "b"], 1e3)


def fails(deals=DEALS, targets=TARGETS, roster=None) -> str:
    with pytest.raises(SimplanError) as err:
        compute_payouts(deals, targets, roster, LINEAR)
    return str(err.value)


def test_misnamed_ledger_column():
    message = fails(DEALS.rename(columns={"amount": "amout"}))
    assert "ledger has no column 'amount' (found 'amout': rename it to 'amount')" in message


def test_missing_ledger_column():
    assert "ledger has no column 'credit_share' (add it)" in fails(
        DEALS.drop(columns="credit_share")
    )


def test_negative_amount_names_the_row():
    deals = DEALS.copy()
    deals.loc[1, ["amount", "deal_amount"]] = -40.0
    message = fails(deals)
    assert "ledger row 1, deal_id 1: amount = -40.0" in message
    assert "returned=True" in message


def test_split_shares_must_sum_to_one():
    deals = DEALS.copy()
    deals.loc[1, "credit_share"] = 0.3
    deals.loc[1, "amount"] = 30.0
    message = fails(deals)
    assert "deal 1: credit shares sum to 0.9 (rows 0, 1)" in message
    assert "must sum to 1" in message


def test_amount_must_match_the_credited_share():
    deals = DEALS.copy()
    deals.loc[0, "amount"] = 100.0
    assert "deal_amount * credit_share = 60.0" in fails(deals)


def test_unknown_role():
    deals = DEALS.assign(role=["lead", "helper"])
    assert "role = 'helper'; allowed: lead, support, mentor" in fails(deals)


def test_rep_without_targets_and_deal_outside_the_periods():
    assert "rep_id 'b' has no targets" in fails(targets=flat_targets(["a"], 1e3))
    deals = DEALS.assign(close_date=pd.Timestamp("2024-02-01"))
    assert "close_date 2024-02-01 falls in 2024-02, a period without targets" in fails(deals)


def test_bad_targets():
    quarterly = TARGETS.assign(period=pd.Period("2024Q1", "Q"))
    assert "period '2024Q1' is not a period of the plan clock, the periods 'month'" in fails(
        targets=quarterly
    )
    assert "target = 0.0; targets must be > 0" in fails(targets=TARGETS.assign(target=0.0))
    assert "no row for rep 'b' in 2024-02" in fails(
        targets=pd.concat([TARGETS, flat_targets(["a"], 1e3, (FEB,))])
    )


def test_bad_team():
    roster = team(("a", "veteran", None, None), ("b", "senior", None, None))
    assert "tenure = 'senior'; allowed: new_hire, ramping, veteran" in fails(roster=roster)
    assert "team has no row for rep(s) b" in fails(roster=roster.iloc[:1])
    batch = team(("a", "veteran", None, None), ("b", "veteran", None, None))
    message = fails(roster=batch.assign(replication=[0, None]))
    assert "team row 1, rep_id 'b': replication is missing; give every rep one" in message


def test_dates_that_are_not_dates():
    deals = DEALS.assign(close_date=["2024-01-10", "not a date"])
    assert "ledger.close_date must be dates" in fails(deals)


def test_rate_above_one_is_refused_with_the_key_and_the_fix(write_yaml):
    message = problems(
        write_yaml,
        """
components:
  - {type: tiered_commission, tiers: [{threshold: 0, rate: 0.1}, {threshold: 1.2, rate: 12.5}]}
  - {type: base_commission, rate: 1.5}
  - {type: project_pool, rate: 150}
""",
    )
    assert "components[0].tiers[1].rate = 12.5: must be a rate of at most 1" in message
    assert "if you meant 12.5%, write 0.125" in message
    assert "components[1].rate = 1.5" in message
    assert "components[2].rate = 150: must be a rate of at most 1" in message
    plan({"type": "base_commission", "rate": 1.0})  # exactly 1 (all of it) is allowed

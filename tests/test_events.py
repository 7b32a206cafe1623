"""The SimPy engine: invariants of the ledger, and the effects the scenario promises."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simplan import load_scenario, simulate
from simplan.scenario import Scenario, deep_merge

from .conftest import DATA

WORK_ALL_DAY = {
    "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
    "workday_start_hour": 0,
    "workday_hours": 24,
}


def scenario_with(**override) -> Scenario:
    base = load_scenario(DATA / "small.yaml").model_dump(by_alias=True, exclude_none=True)
    return Scenario.model_validate(deep_merge(base, override))


def test_a_lead_closes_at_most_once_and_after_it_was_created(small_results):
    deals = small_results.deals
    assert not deals.duplicated(["replication", "lead_id"]).any()
    closed = deals[deals["outcome"] != "open"]
    assert (closed["close_day"] >= closed["created_day"]).all()
    assert deals.loc[deals["outcome"] == "open", "close_day"].isna().all()
    assert (deals.loc[deals["outcome"] == "won", "stage"] == "won").all()
    assert (deals.loc[deals["outcome"] != "won", "amount"] == 0).all()


def test_touches_per_rep_day_never_exceed_capacity_times_effort(small_results):
    daily = small_results.daily
    capacity = small_results.reps.drop_duplicates("rep_id").set_index("rep_id")[
        "capacity_touches_per_day"
    ]
    limit = np.floor(daily["rep_id"].map(capacity) * daily["effort"] + 1e-9)
    assert (daily["touches"] <= limit).all()
    assert daily["touches"].sum() > 0


def test_credit_shares_sum_to_one_and_conserve_the_amount(small_results):
    credits = small_results.credits
    won = small_results.deals[small_results.deals["outcome"] == "won"]
    by_deal = credits.groupby(["replication", "lead_id"]).agg(
        share=("share", "sum"), credited=("amount", "sum")
    )
    joined = won.set_index(["replication", "lead_id"]).join(by_deal, how="left")
    np.testing.assert_allclose(joined["share"], 1.0)
    np.testing.assert_allclose(joined["credited"], joined["amount"])
    assert (credits.groupby(["replication", "lead_id"]).size() > 1).any(), (
        "relay or mentor splits expected"
    )


def test_bookings_add_up_across_tables(small_results):
    r = small_results
    won = r.deals[r.deals["outcome"] == "won"].groupby("replication")["amount"].sum()
    np.testing.assert_allclose(r.runs.set_index("replication")["bookings"], won)
    np.testing.assert_allclose(r.daily.groupby("replication")["bookings"].sum(), won)
    np.testing.assert_allclose(r.reps.groupby("replication")["bookings"].sum(), won)
    np.testing.assert_allclose(r.credits.groupby("replication")["amount"].sum(), won)


def test_first_response_past_24h_loses_60_percent_of_a_wins():
    """Step decay: A leads answered after 24 h win (1 - 0.6) as often as those answered sooner."""
    scenario = scenario_with(
        calendar={"days": 120, "warmup_days": 0},
        team={
            "size": 6,
            "skill": 1.0,
            "tenure_mix": {"new_hire": 0, "ramping": 0, "veteran": 1},
            "capacity_touches_per_day": 5,
        },
        leads={
            "tiers": [
                {
                    "name": "A",
                    "arrivals_per_day": 12,
                    "win_probability": 0.5,
                    "deal_size": 1000,
                    "response_decay": {"shape": "step", "after_hours": 24, "loss": 0.6},
                }
            ]
        },
        routing={"relay": {"enabled": False}, "mentor_pool": {"enabled": False}},
    )
    deals = simulate(scenario, replications=2, workers=1).deals
    closed = deals[(deals["outcome"] != "open") & deals["first_response_hours"].notna()]
    late = closed["first_response_hours"] > 24
    p_early = (closed.loc[~late, "outcome"] == "won").mean()
    p_late = (closed.loc[late, "outcome"] == "won").mean()
    n_early, n_late = (~late).sum(), late.sum()
    assert min(n_early, n_late) > 200, "the scenario must produce both early and late responses"
    # The ratio's standard error by the delta method; 4 SE leaves chance failures negligible.
    se = (0.4) * math.sqrt((1 - p_early) / (p_early * n_early) + (1 - p_late) / (p_late * n_late))
    assert p_late / p_early == pytest.approx(0.4, abs=4 * se)


def test_a_response_red_line_speeds_up_a_leads_under_load():
    common = {
        "calendar": {"days": 60, "warmup_days": 0},
        "team": {"size": 5, "capacity_touches_per_day": 6},
        "leads": {
            "tiers": [
                {"name": "A", "arrivals_per_day": 3, "win_probability": 0.4, "deal_size": 1000},
                {"name": "C", "arrivals_per_day": 12, "win_probability": 0.05, "deal_size": 100},
            ]
        },
        "routing": {"relay": {"enabled": False}, "priority_tiers": ["A"]},
    }
    plain = simulate(scenario_with(**common), replications=2, workers=1).deals
    red = simulate(
        scenario_with(**deep_merge(common, {"routing": {"response_red_line_hours": 2}})),
        replications=2,
        workers=1,
    ).deals
    hours = lambda d: d.loc[d["tier"] == "A", "first_response_hours"].median()  # noqa: E731
    assert hours(red) < 0.5 * hours(plain)


def test_new_hires_take_40_percent_longer_to_close():
    """With reps always free, a won deal's cycle is the customer delays times the tenure multiplier."""
    scenario = scenario_with(
        calendar={"days": 240, "warmup_days": 0, **WORK_ALL_DAY},
        team={
            "size": 10,
            "skill": 1.0,
            "capacity_touches_per_day": 200,
            "tenure_mix": {"new_hire": 0.5, "ramping": 0, "veteran": 0.5},
            "new_hire": {"ramp_days": 400, "cycle_multiplier": 1.4},
        },
        leads={
            "tiers": [
                {
                    "name": "A",
                    "arrivals_per_day": 6,
                    "win_probability": 0.6,
                    "deal_size": 1000,
                    "stage_delays_days": {
                        "contact": {"dist": "exponential", "mean": 5},
                        "proposal": {"dist": "gamma", "mean": 5, "cv": 0.5},
                        "negotiation": {"dist": "gamma", "mean": 5, "cv": 0.5},
                    },
                }
            ]
        },
        routing={"relay": {"enabled": False}, "mentor_pool": {"enabled": False}},
    )
    r = simulate(scenario, replications=1, workers=1)
    tenure = r.reps.drop_duplicates("rep_id").set_index("rep_id")["tenure"]
    won = r.deals[(r.deals["outcome"] == "won") & (r.deals["created_day"] < 150)]
    won = won.assign(tenure=won["rep_id"].map(tenure))
    new, vet = (
        won.loc[won.tenure == "new_hire", "cycle_days"],
        won.loc[won.tenure == "veteran", "cycle_days"],
    )
    ratio = new.mean() / vet.mean()
    se = ratio * math.sqrt(
        new.var() / (len(new) * new.mean() ** 2) + vet.var() / (len(vet) * vet.mean() ** 2)
    )
    assert min(len(new), len(vet)) > 100
    assert ratio == pytest.approx(1.4, abs=4 * se)


def test_relay_passes_idle_leads_and_splits_credit_60_40():
    scenario = scenario_with(team={"size": 4, "capacity_touches_per_day": 6})
    r = simulate(scenario, replications=1, workers=1)
    relayed = r.deals[
        (r.deals["relays"] > 0)
        & (r.deals["outcome"] == "won")
        & (r.deals["rep_id"] != r.deals["first_rep_id"])
    ]
    assert len(relayed) > 0
    deal = relayed.iloc[0]
    credits = r.credits[r.credits["lead_id"] == deal["lead_id"]].set_index("rep_id")["share"]
    assert credits.sum() == pytest.approx(1.0)
    assert credits[deal["first_rep_id"]] <= 0.4 + 1e-12
    assert credits.max() >= 0.6 * 0.8 - 1e-12  # the closer's 60 %, less a mentor's cut at most


def test_phases_modulate_arrivals():
    scenario = scenario_with(
        calendar={
            "days": 90,
            "warmup_days": 0,
            "period": "quarter",
            **WORK_ALL_DAY,
            "sprint": {
                "every": "quarter",
                "phases": {
                    "build": {"share": 0.3, "arrival_multiplier": 1.0},
                    "burst": {"share": 0.5, "arrival_multiplier": 2.0},
                    "close_out": {"share": 0.2, "arrival_multiplier": 0.5},
                },
            },
        },
        leads={
            "tiers": [
                {"name": "A", "arrivals_per_day": 20, "win_probability": 0.1, "deal_size": 10}
            ]
        },
    )
    r = simulate(scenario, replications=1, workers=1)
    phase_of_day = r.daily.drop_duplicates("day").set_index("day")["phase"]
    created = r.deals.loc[r.deals["created_day"] >= 0, "created_day"].astype(int)
    per_day = created.map(phase_of_day).value_counts() / phase_of_day.value_counts()
    for phase, expected in (("build", 20), ("burst", 40), ("close_out", 10)):
        days = (phase_of_day == phase).sum()
        assert per_day[phase] == pytest.approx(expected, abs=4 * math.sqrt(expected / days))


def test_same_seed_same_tables_whatever_the_workers(small_scenario):
    one = simulate(small_scenario, replications=4, workers=1)
    two = simulate(small_scenario, replications=4, workers=2)
    for name, table in one.tables().items():
        pd.testing.assert_frame_equal(table, two.tables()[name], obj=name)


def test_replication_i_does_not_depend_on_how_many_run(small_scenario):
    two = simulate(small_scenario, replications=2, workers=1).runs
    three = simulate(small_scenario, replications=3, workers=1).runs
    pd.testing.assert_frame_equal(two, three.iloc[:2])


def test_common_random_numbers_same_customers_when_only_effort_changes(small_scenario):
    """Two scenarios sharing a seed see the same routed arrivals; harder-working reps find
    the same self-sourced customers plus more (counts by inversion of one uniform each)."""
    other = scenario_with(behaviour={"effort": 1.5, "max_effort": 2.0})
    a = simulate(small_scenario, replications=1, workers=1).deals
    b = simulate(other, replications=1, workers=1).deals

    def routed(deals):
        new = deals[(deals["created_day"] >= 0) & (deals["source"] != "self_sourced")]
        return new[["created_day", "tier"]].reset_index(drop=True)

    pd.testing.assert_frame_equal(routed(a), routed(b))

    def own(deals):
        found = deals[(deals["source"] == "self_sourced") & (deals["created_day"] >= 0)]
        return found.groupby(["first_rep_id", "tier"], observed=True).size()

    own_a, own_b = own(a), own(b)
    assert (own_b.reindex(own_a.index, fill_value=0) >= own_a).all()
    # Effort 1.5 with elasticity 1: about 1.5x the self-sourced leads (Poisson, 3 s.e.).
    assert abs(own_b.sum() / own_a.sum() - 1.5) < 3 * 1.5 * np.sqrt(1 / own_a.sum())


@pytest.mark.parametrize(
    ("name", "override"),
    [
        ("proposals/gate80_cap150.yaml", {}),
        (
            "small",
            {
                "routing": {"response_red_line_hours": 2},
                "leads": {"dormant": {"after_days": 5, "reentry_probability": 0.5}},
            },
        ),
    ],
)
def test_the_benchmark_twin_replays_the_engine_s_run_event_for_event(name, override):
    """benchmarks/twin.py is a same-work twin: replaying the engine's decisions on bare SimPy
    gives the same touches per rep and day, first responses, alerts, events and processes
    (on small.yaml, whose day 0 is a working day, the processes once showed leads sourced on
    day 0 started twice)."""
    from benchmarks.twin import differences, engine_counts, replay, script_of
    from simplan.model.calendar import build_calendar
    from simplan.model.randomness import replication_seeds, team_seed
    from simplan.model.team import build_team

    scenario = (
        load_scenario(DATA.parent.parent / "scenarios" / name)
        if name.endswith(".yaml")
        else scenario_with(**override)
    )
    team = build_team(scenario.team, np.random.default_rng(team_seed(scenario.simulation.seed)))
    calendar = build_calendar(scenario.calendar)
    seq = replication_seeds(scenario.simulation.seed, 1)[0]
    script, records = script_of(scenario, team, calendar, seq)
    assert differences(engine_counts(records), replay(script)) == []
    assert script.relay_to
    assert any(script.sourced)
    if override:  # red-line touches jump the queue; lost customers come back
        assert min(script.first_class) == 0
        assert script.dormant
    else:  # plan-responsive reps time their deals
        assert script.pull_stage
        assert script.pushed


def test_the_scalar_loss_stage_and_deal_timing_agree_with_their_array_forms():
    """The event engine asks once per lead or deal in plain floats; the fast engine in arrays."""
    from simplan.engines.standing import Standing
    from simplan.model.calendar import build_calendar
    from simplan.model.day import day_context
    from simplan.model.leads import loss_stage, loss_stages
    from simplan.model.team import build_team

    rng = np.random.default_rng(3)
    p = rng.random(2000)
    u = np.concatenate([p + (1 - p) * rng.random(2000), [0.0, 1.0, 0.5]])
    p = np.concatenate([p, [0.0, 1.0, 1.0]])
    shares = load_scenario(DATA / "small.yaml").funnel.loss_stage_shares
    scalar = [loss_stage(a, b, shares) for a, b in zip(u.tolist(), p.tolist(), strict=True)]
    assert scalar == loss_stages(u, p, shares).tolist()
    assert set(scalar) == {0, 1, 2}

    scenario = load_scenario(DATA.parent.parent / "scenarios" / "proposals" / "gate80_cap150.yaml")
    team = build_team(scenario.team, np.random.default_rng(1))
    calendar = build_calendar(scenario.calendar)
    standing = Standing(scenario, team, calendar)
    end = int(calendar.plan_period.end_day[20])  # a period ending inside the run
    assert 14 < end < calendar.days
    for day in range(end - 14):
        standing.start_day(day, day_context(scenario.calendar.levers, calendar, day), None)
    target = standing._target(standing.period)
    standing.booked[:] = rng.random(team.size) * 2 * target  # below the gate to above the cap
    standing.run_rate[:] = rng.random(team.size) * target / 30
    n = 4000
    reps = rng.integers(0, team.size, n)
    amounts = rng.lognormal(10, 1, n)
    days = rng.integers(end - 14, end, n)
    closes_at = days + rng.random(n) * 20
    uniforms = rng.random(n)
    pushed = standing.push_many(reps, amounts, days, uniforms)
    pulled = standing.pull_many(reps, amounts, days, closes_at, uniforms)
    columns = (reps, amounts, days, closes_at, uniforms)
    for k, (rep, amount, day, close, draw) in enumerate(zip(*map(list, columns), strict=True)):
        assert standing.push(rep, amount, day, draw) == pushed[k]
        assert standing.pull(rep, amount, day, close, draw) == pulled[k]
    assert pushed.any()
    assert pulled.any()
    assert not pushed.all()
    assert not pulled.all()

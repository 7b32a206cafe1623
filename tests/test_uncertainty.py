"""Parameter uncertainty: draws checked at load, replication i under draw i mod D, and the
same draw in the same replication of every compared scenario."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simplan import ConfigError, SimplanError, load_scenario, simulate
from simplan.analysis.compare import compare
from simplan.model.uncertainty import drawn_scenarios
from simplan.scenario import Scenario, deep_merge

from .conftest import DATA, run_cli

SMALL = yaml.safe_load((DATA / "small.yaml").read_text())
PLAN = {"clock": "month", "components": [{"type": "base_commission", "rate": 0.1}]}
DRAWS = [
    {"leads.tiers[0].arrivals_per_day": 1.0},
    {"leads.tiers[0].arrivals_per_day": 6.0, "team.capacity_touches_per_day.mean": 9.0},
]


def small(**override) -> Scenario:
    return Scenario.model_validate(deep_merge(SMALL, override))


def test_replication_i_runs_under_draw_i_mod_the_number_of_draws():
    uncertain = simulate(
        small(uncertainty={"source": "two draws", "draws": DRAWS}), replications=4, workers=1
    )
    for k, draw in enumerate(DRAWS):
        rate = draw["leads.tiers[0].arrivals_per_day"]
        tier_a = [dict(SMALL["leads"]["tiers"][0], arrivals_per_day=rate)]
        fixed = small(
            leads={"tiers": tier_a + SMALL["leads"]["tiers"][1:]},
            team={
                "capacity_touches_per_day": {"dist": "gamma", "mean": 9.0 if k else 6, "cv": 0.25}
            },
        )
        alone = simulate(fixed, replications=4, workers=1)
        for name in ("runs", "reps", "deals"):
            mine = getattr(uncertain, name)
            theirs = getattr(alone, name)
            pd.testing.assert_frame_equal(
                mine[mine["replication"] % 2 == k].reset_index(drop=True),
                theirs[theirs["replication"] % 2 == k].reset_index(drop=True),
            )


def test_a_draw_rebuilds_the_team_only_when_it_touches_the_team():
    scenario = small(uncertainty={"draws": DRAWS})
    first, second = drawn_scenarios(scenario)
    assert first.team is scenario.team
    assert first.calendar is scenario.calendar
    assert second.team is not scenario.team
    assert second.team.capacity_touches_per_day.mean == 9
    assert first.leads.tiers[0].arrivals_per_day == 1.0
    assert drawn_scenarios(small()) == [small()]


def test_the_same_seed_gives_the_same_tables_whatever_the_workers():
    scenario = small(uncertainty={"draws": DRAWS})
    one = simulate(scenario, replications=4, workers=1)
    two = simulate(scenario, replications=4, workers=2)
    for name in ("runs", "reps", "deals", "daily"):
        pd.testing.assert_frame_equal(getattr(one, name), getattr(two, name))


def test_compared_scenarios_see_the_same_draw_in_the_same_replication():
    """Constant effort and the same customers: bookings match replication by replication although
    the draws make them differ fourfold between replications; payout differs by exactly 2 %."""
    uncertainty = {"source": "a prior", "draws": DRAWS}
    richer = {**PLAN, "components": [{"type": "base_commission", "rate": 0.12}]}
    base = small(name="base", plan=PLAN, uncertainty=uncertainty)
    other = small(name="richer", plan=richer, uncertainty=uncertainty)
    c = compare(base, other, replications=4, workers=1)
    k = c.kpis.pivot(index="replication", columns="scenario", values=["bookings", "payout"])
    np.testing.assert_array_equal(k["bookings"]["base"], k["bookings"]["richer"])
    np.testing.assert_allclose(
        k["payout"]["richer"] - k["payout"]["base"], 0.02 * k["bookings"]["base"]
    )
    assert k["bookings"]["base"].iloc[1::2].min() > 2 * k["bookings"]["base"].iloc[::2].max()
    assert c.parameter_draws == 2
    assert "2 parameter draws; a prior" in c.predictive_label()


def test_proposals_must_carry_the_same_draws():
    with pytest.raises(SimplanError, match="uncertainty differs"):
        compare(small(uncertainty={"draws": DRAWS}), small(name="b"), replications=2, workers=1)


@pytest.mark.parametrize(
    ("draw", "fragments"),
    [
        (
            {"leads.tiers[0].arival_per_day": 2},
            [
                "draws[1]",
                "'leads.tiers[0].arival_per_day' does not exist",
                "nearest valid path is leads.tiers[0].arrivals_per_day",
            ],
        ),
        ({"leads.tiers[3].win_probability": 0.2}, ["draws[1]", "leads.tiers has 2 items"]),
        (
            {"leads.tiers[0].win_probability": 1.5},
            [
                "draws[1]",
                "does not validate",
                "leads.tiers[0].win_probability",
                "less than or equal to 1",
            ],
        ),
        ({"plan.components[0].rate": 0.1}, ["draws[1]", "the scenario has no plan"]),
        ({"simulation.seed": 3}, ["draws[1]", "not 'simulation'"]),
        ({"leads.tiers": 3}, ["draws[1]", "names a whole block"]),
        ({"leads..tiers": 3}, ["draws[1]", "is not a key path"]),
    ],
)
def test_bad_draws_are_named_at_load(write_yaml, draw, fragments):
    path = write_yaml("u.yaml", deep_merge(SMALL, {"uncertainty": {"draws": [DRAWS[0], draw]}}))
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    for fragment in ["uncertainty", *fragments]:
        assert fragment in message


def test_a_draw_path_missing_from_a_proposal_is_an_error_at_load(write_yaml):
    """A draw on the baseline plan's second tier cannot apply to a proposal with one tier."""
    tiered = {
        "clock": "month",
        "components": [
            {
                "type": "tiered_commission",
                "tiers": [{"threshold": 0, "rate": 0.05}, {"threshold": 1, "rate": 0.1}],
            }
        ],
    }
    base = write_yaml(
        "base.yaml",
        deep_merge(
            SMALL,
            {
                "plan": tiered,
                "uncertainty": {"draws": [{"plan.components[0].tiers[1].rate": 0.12}]},
            },
        ),
    )
    flat = write_yaml("flat.yaml", {"extends": str(base), "name": "flat", "plan": PLAN})
    load_scenario(base)
    with pytest.raises(
        ConfigError,
        match=r"flat\.yaml.*\n.*'plan\.components\[0\]\.tiers\[1\]\.rate' does not exist",
    ):
        load_scenario(flat)


def test_the_cli_names_a_bad_draw_and_exits_2(capsys, write_yaml):
    path = write_yaml("u.yaml", deep_merge(SMALL, {"uncertainty": {"draws": [{"team.sise": 3}]}}))
    code, _, err = run_cli(capsys, "run", path, "--replications", "2", "--quiet")
    assert code == 2
    assert "team.sise' does not exist" in err
    assert "nearest valid path is team.size" in err
    assert "Traceback" not in err


def test_the_production_behaviour_and_tier_paths_a_fit_draws():
    draw = {
        "leads.tiers[0].arrivals_per_day": 3.9,
        "production.self_sourced_share": 0.31,
        "behaviour.cost_curvature": 2.2,
    }
    (drawn,) = drawn_scenarios(small(uncertainty={"source": "a fit", "draws": [draw]}))
    assert drawn.leads.tiers[0].arrivals_per_day == 3.9
    assert drawn.production.self_sourced_share == 0.31
    assert drawn.behaviour.cost_curvature == 2.2
    assert drawn.uncertainty is None

"""Scenario files: every class of bad input names the file and key; extends and rosters work."""

from __future__ import annotations

import pytest

from simplan import ConfigError, load_scenario, simulate
from simplan.scenario import deep_merge

from .conftest import DATA, MINIMAL, ROOT


def problems_of(path) -> str:
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    return message


def test_minimal_scenario_fills_defaults(write_yaml):
    scenario = load_scenario(write_yaml("s.yaml", MINIMAL))
    assert [t.name for t in scenario.leads.tiers] == ["A", "B", "C"]
    phases = scenario.calendar.sprint.phases
    assert (phases.build.share, phases.burst.share, phases.close_out.share) == (0.3, 0.5, 0.2)
    assert scenario.leads.tiers[0].response_decay.factor(24) == pytest.approx(0.4)
    assert scenario.team.new_hire.cycle_multiplier == 1.4


SHIPPED = sorted(
    p.relative_to(ROOT / "scenarios")
    for p in (ROOT / "scenarios").rglob("*.yaml")
    if p.parent.name != "plans"
)


def test_the_shipped_scenarios_are_all_here():
    names = {str(p) for p in SHIPPED}
    assert {"baseline_quarter.yaml", "retail_month.yaml"} <= names
    plans = {p.stem for p in (ROOT / "scenarios" / "plans").glob("*.yaml")}
    assert {f"proposals/{plan}.yaml" for plan in plans} <= names, "one proposal per shipped plan"


@pytest.mark.parametrize("name", SHIPPED, ids=str)
def test_shipped_scenarios_validate(name):
    scenario = load_scenario(ROOT / "scenarios" / name)
    assert scenario.name == name.stem


@pytest.mark.parametrize("name", [p for p in SHIPPED if p.parent.name == "proposals"], ids=str)
def test_each_proposal_runs_with_statements(name):
    scenario = load_scenario(ROOT / "scenarios" / name).with_simulation(replications=1, workers=1)
    scenario = scenario.model_copy(
        update={"calendar": scenario.calendar.model_copy(update={"warmup_days": 20})}
    )
    results = simulate(scenario)
    assert scenario.plan is not None
    assert scenario.behaviour.model == "plan_responsive"
    assert not results.statements.empty
    assert results.runs["payout"].iloc[0] > 0


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("", ["the file is empty"]),
        ("calendar: [1, 2\n", ["invalid YAML", "line"]),
        ("- 1\n- 2\n", ["top level must be a mapping", "list"]),
        ("calendar: [1, 2]\n", ["calendar", "valid dictionary"]),
    ],
)
def test_unreadable_files(write_yaml, content, fragments):
    message = problems_of(write_yaml("bad.yaml", content))
    for fragment in fragments:
        assert fragment in message


def test_missing_file_names_the_path(tmp_path):
    message = problems_of(tmp_path / "nope.yaml")
    assert "file not found" in message


@pytest.mark.parametrize(
    ("override", "fragments"),
    [
        ({"calendar": {"dayz": 3}}, ["calendar.dayz", "did you mean 'days'"]),
        ({"calender": {}}, ["calender", "did you mean 'calendar'"]),
        ({"team": {"size": "many"}}, ["team.size = 'many'", "integer"]),
        ({"team": {"size": -3}}, ["team.size = -3", "greater than or equal to 1"]),
        (
            {
                "leads": {
                    "tiers": [
                        {
                            "name": "A",
                            "arrivals_per_day": 1,
                            "win_probability": 0.5,
                            "deal_size": 10,
                        },
                        {
                            "name": "B",
                            "arrivals_per_day": 1,
                            "win_probability": 1.3,
                            "deal_size": 10,
                        },
                    ]
                }
            },
            ["leads.tiers[1].win_probability = 1.3", "less than or equal to 1"],
        ),
        (
            {
                "leads": {
                    "tiers": [
                        {
                            "name": "A",
                            "arrivals_per_day": -2,
                            "win_probability": 0.5,
                            "deal_size": 10,
                        }
                    ]
                }
            },
            ["leads.tiers[0].arrivals_per_day = -2", "greater than or equal to 0"],
        ),
        (
            {"calendar": {"sprint": {"phases": {"build": {"share": 0.5}}}}},
            ["calendar.sprint.phases", "must sum to 1", "0.5 + 0.5 + 0.2"],
        ),
        ({"team": {"tenure_mix": {"new_hire": 0.5}}}, ["team.tenure_mix", "sum to 1"]),
        ({"routing": {"priority_tiers": ["Z"]}}, ["routing.priority_tiers", "Z", "A, B, C"]),
        ({"routing": {"policy": "random"}}, ["routing.policy = 'random'", "round_robin"]),
        (
            {
                "leads": {
                    "tiers": [
                        {
                            "name": "A",
                            "arrivals_per_day": 1,
                            "win_probability": 0.5,
                            "deal_size": {"dist": "lognormal", "mean": 10, "cvv": 1},
                        }
                    ]
                }
            },
            ["leads.tiers[0].deal_size.cvv", "did you mean 'cv'"],
        ),
    ],
)
def test_bad_keys_and_values_name_the_key_path(write_yaml, override, fragments):
    message = problems_of(write_yaml("bad.yaml", deep_merge(MINIMAL, override)))
    for fragment in fragments:
        assert fragment in message, message


def test_every_problem_is_reported_at_once(write_yaml):
    message = problems_of(
        write_yaml("bad.yaml", deep_merge(MINIMAL, {"team": {"size": 0, "squad_size": 9}}))
    )
    assert "2 problems" in message
    assert "team.size" in message
    assert "team.squad_size" in message


def test_extends_deep_merges_and_lists_replace(write_yaml):
    write_yaml(
        "base.yaml",
        deep_merge(
            MINIMAL,
            {"team": {"size": 12, "squad_size": 4}, "routing": {"priority_tiers": ["A", "B"]}},
        ),
    )
    child = write_yaml(
        "child.yaml",
        {
            "extends": "base.yaml",
            "name": "child",
            "team": {"size": 20},
            "routing": {"priority_tiers": ["C"]},
        },
    )
    scenario = load_scenario(child)
    assert scenario.name == "child"
    assert scenario.team.size == 20
    assert scenario.team.squad_size == 4  # kept from the base
    assert scenario.routing.priority_tiers == ["C"]  # lists replace wholesale
    assert scenario.calendar.days == 30


def test_extends_chains(write_yaml):
    write_yaml("a.yaml", MINIMAL)
    write_yaml("b.yaml", {"extends": "a.yaml", "team": {"size": 7}})
    scenario = load_scenario(write_yaml("c.yaml", {"extends": "b.yaml", "simulation": {"seed": 3}}))
    assert (scenario.team.size, scenario.simulation.seed) == (7, 3)


def test_extends_cycle_is_refused(write_yaml):
    write_yaml("a.yaml", {"extends": "b.yaml", **MINIMAL})
    path = write_yaml("b.yaml", {"extends": "a.yaml"})
    assert "cycle" in problems_of(path)


def test_extends_missing_file(write_yaml):
    message = problems_of(write_yaml("c.yaml", {"extends": "gone.yaml"}))
    assert "gone.yaml" in message
    assert "relative to this file" in message


def test_roster_csv_is_read_relative_to_the_scenario(write_yaml, tmp_path):
    (tmp_path / "team.csv").write_text(
        "rep_id,tenure_days,capacity_touches_per_day,skill,squad,mentor_id\n"
        "ann,800,10,1.2,north,\nbob,30,8,0.9,north,ann\ncid,400,9,1.0,south,\n"
    )
    scenario = load_scenario(
        write_yaml("s.yaml", deep_merge(MINIMAL, {"team": {"roster": "team.csv"}}))
    )
    from simplan.model.team import build_team

    team = build_team(scenario.team, None)
    assert team.rep_id.tolist() == ["ann", "bob", "cid"]
    assert team.mentor.tolist() == [-1, 0, -1]
    assert team.tenure(0).tolist() == [2, 0, 2]


@pytest.mark.parametrize(
    ("csv", "fragments"),
    [
        ("rep_id,tenure_days\nann,3\n", ["missing column 'capacity_touches_per_day'"]),
        (
            "rep_id,tenure_days,capacity_touches_per_day,skil\nann,3,4,1\n",
            ["unknown column 'skil'", "did you mean 'skill'"],
        ),
        (
            "rep_id,tenure_days,capacity_touches_per_day\nann,3,-4\n",
            ["row 2", "capacity_touches_per_day", "-4"],
        ),
    ],
)
def test_bad_roster_names_file_row_and_column(write_yaml, tmp_path, csv, fragments):
    (tmp_path / "team.csv").write_text(csv)
    with pytest.raises(ConfigError) as info:
        load_scenario(write_yaml("s.yaml", deep_merge(MINIMAL, {"team": {"roster": "team.csv"}})))
    message = str(info.value)
    assert "team.csv" in message
    for fragment in fragments:
        assert fragment in message, message


def test_digest_is_stable_and_sensitive():
    a = load_scenario(DATA / "small.yaml")
    b = load_scenario(DATA / "small.yaml")
    assert a.digest() == b.digest()
    assert a.with_simulation(seed=8).digest() != a.digest()


ROSTER = [
    {"rep_id": f"R{i}", "tenure_days": 400, "capacity_touches_per_day": 10, "lead_share": 0.5}
    for i in (1, 2)
]


@pytest.mark.parametrize(
    ("override", "warning"),
    [
        (
            {"routing": {"priority_tiers": ["A"]}},
            "routing.priority_tiers (A) does nothing under policy least_loaded without "
            "response_red_line_hours",
        ),
        (
            {"routing": {"policy": "round_robin", "top_seller_overflow": 2}},
            "routing.top_seller_overflow does nothing under policy round_robin",
        ),
        ({"team": {"roster": ROSTER}}, "team.roster lead_share does nothing"),
        (
            {"behaviour": {"cost_curvature": 3, "timing": {"propensity": 0.2}}},
            "behaviour.cost_curvature, behaviour.timing does nothing under behaviour.model constant",
        ),
    ],
)
def test_a_setting_that_does_nothing_is_named(write_yaml, override, warning):
    scenario = load_scenario(write_yaml("s.yaml", deep_merge(MINIMAL, override)))
    assert len(scenario.inert_settings()) == 1
    assert scenario.inert_settings()[0].startswith(warning)


@pytest.mark.parametrize(
    "override",
    [
        {},  # the defaults (priority_tiers [A], top_seller_share) are not the file's settings
        {"routing": {"policy": "tier_priority", "priority_tiers": ["A", "B"]}},
        {"routing": {"priority_tiers": ["A"], "response_red_line_hours": 2}},
        {"routing": {"top_seller_share": 0.3, "strike_teams": {"enabled": True}}},
        {"routing": {"policy": "share"}, "team": {"roster": ROSTER}},
        {"routing": {"priority_tiers": []}},
        {"behaviour": {"effort": 1.2, "ratchet": {"enabled": True}}},
    ],
)
def test_settings_that_act_are_not_warned_about(write_yaml, override):
    assert load_scenario(write_yaml("s.yaml", deep_merge(MINIMAL, override))).inert_settings() == []


def test_validate_and_run_print_the_warning_and_go_ahead(write_yaml, capsys):
    from .conftest import run_cli

    path = write_yaml("s.yaml", deep_merge(MINIMAL, {"routing": {"priority_tiers": ["A"]}}))
    code, out, err = run_cli(capsys, "validate", path)
    assert code == 0
    assert f"ok {path}" in out
    assert f"warning {path}: routing.priority_tiers (A) does nothing" in " ".join(err.split())
    code, out, err = run_cli(capsys, "run", path, "--replications", "1", "--quiet")
    assert code == 0
    assert "routing.priority_tiers (A) does nothing" in " ".join(err.split())


@pytest.mark.parametrize("name", SHIPPED, ids=str)
def test_shipped_scenarios_set_nothing_that_does_nothing(name):
    assert load_scenario(ROOT / "scenarios" / name).inert_settings() == []

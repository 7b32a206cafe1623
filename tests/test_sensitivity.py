"""Sensitivity: known indices recovered, an unused parameter scores zero, ranges from draws."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from simplan.analysis.compare import compare
from simplan.analysis.plan_review import with_plan
from simplan.analysis.sensitivity import (
    Factor,
    at_point,
    draw_ranges,
    parse_factors,
    scenario_model,
    scenario_values,
    sensitivity,
)
from simplan.analysis.what_moves import hinge_sentence, what_moves
from simplan.errors import SimplanError
from simplan.report.sections import render_report
from simplan.report.source import as_source
from simplan.scenario import Scenario
from tests.conftest import ROOT, run_cli
from tests.test_optimise import design_team

ISHIGAMI = {"S1": (0.3139, 0.4424, 0.0), "ST": (0.5576, 0.4424, 0.2437)}
"""Analytic first-order and total indices of sin x1 + 7 sin^2 x2 + 0.1 x3^4 sin x1 on [-pi, pi]^3."""


def ishigami(values: dict[str, float]) -> float:
    x1, x2, x3 = values["x1"], values["x2"], values["x3"]
    return float(np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1))


def test_sobol_recovers_the_ishigami_indices_within_their_sampling_error():
    """Base sample 2048 (10,240 runs): each index within twice its own 95 % bootstrap
    half-width (about 4 standard errors), and those half-widths below 0.07."""
    factors = [Factor(name, -np.pi, np.pi) for name in ("x1", "x2", "x3")]
    centre = {"x1": 0.0, "x2": 0.0, "x3": 0.0}
    found = sensitivity(ishigami, factors, centre, method="sobol", samples=2048, seed=0)
    table = found.indices.set_index("parameter").loc[["x1", "x2", "x3"]]
    for index, truth in ISHIGAMI.items():
        conf = table[f"{index}_conf"].to_numpy()
        assert (conf < 0.07).all()
        assert (np.abs(table[index].to_numpy() - truth) <= 2 * conf).all(), (index, table)
    assert found.evaluations == 2048 * 5 + 7


def test_the_sobol_intervals_are_the_same_for_the_same_seed():
    """Seed 0 too: the bootstrap behind each index's interval is drawn from the seed, not from
    numpy's global generator (which SALib takes for a seed of 0)."""
    factors = [Factor(name, -np.pi, np.pi) for name in ("x1", "x2", "x3")]
    centre = {"x1": 0.0, "x2": 0.0, "x3": 0.0}
    first, second = (
        sensitivity(ishigami, factors, centre, method="sobol", samples=64, seed=0).indices
        for _ in range(2)
    )
    pd.testing.assert_frame_equal(first, second)


def test_morris_on_a_linear_answer_gives_slope_times_range_and_zero_for_the_unused():
    factors = [Factor("a", 0.0, 2.0), Factor("b", 10.0, 20.0), Factor("unused", 0.0, 1.0)]
    found = sensitivity(
        lambda v: 3 * v["a"] - 0.5 * v["b"], factors, {"a": 1, "b": 15, "unused": 0.5}, samples=6
    )
    table = found.indices.set_index("parameter")
    # an elementary effect is the change over a step of 2/3 of the range, scaled to the range
    assert table.loc["a", "mu_star"] == pytest.approx(3 * 2.0)
    assert table.loc["b", "mu_star"] == pytest.approx(0.5 * 10.0)
    assert table.loc["b", "mu"] == pytest.approx(-0.5 * 10.0)
    assert table.loc["unused", "mu_star"] == 0
    assert list(table.index) == ["a", "b", "unused"]
    tornado = found.tornado.set_index("parameter")
    assert tornado.loc["a", "at_high"] - tornado.loc["a", "at_low"] == pytest.approx(6.0)
    assert tornado.loc["unused", "swing"] == 0
    assert found.centre == pytest.approx(3 - 7.5)


@pytest.fixture(scope="module")
def constant_team() -> Scenario:
    """The design team with reps who work the same under any plan: bookings cannot depend
    on the commission rate, only on the win rate."""
    team = design_team()
    return team.model_copy(
        update={"behaviour": team.behaviour.model_copy(update={"model": "constant"})}
    )


def test_bookings_of_reps_who_ignore_the_plan_do_not_depend_on_its_rate(constant_team):
    """Common random numbers make the rate's elementary effects exactly zero, while the win
    rate's are large; payout depends on both."""
    factors = [
        Factor("leads.tiers[0].win_probability", 0.3, 0.6),
        Factor("plan.components[0].tiers[0].rate", 0.04, 0.2),
    ]
    centre = scenario_values(constant_team, [f.path for f in factors])
    assert centre == {factors[0].path: 0.45, factors[1].path: 0.08}
    bookings = scenario_model([constant_team], "bookings", replications=2, seed=3, workers=1)
    found = sensitivity(bookings, factors, centre, samples=2, seed=0)
    table = found.indices.set_index("parameter")
    assert table.loc[factors[1].path, "mu_star"] == 0
    assert table.loc[factors[0].path, "mu_star"] > 0.1 * found.centre
    tornado = found.tornado.set_index("parameter")
    assert tornado.loc[factors[0].path, "at_high"] > tornado.loc[factors[0].path, "at_low"]
    payout = scenario_model([constant_team], "payout", replications=2, seed=3, workers=1)
    rate_high = {factors[0].path: 0.45, factors[1].path: 0.16}
    assert payout(rate_high) == pytest.approx(2 * payout(centre), rel=1e-9)


def test_effect_of_plan_b_minus_a_is_paired_and_zero_for_the_same_plan(constant_team):
    effect = scenario_model(
        [constant_team, constant_team], "effect", "payout", replications=2, seed=3, workers=1
    )
    assert effect({"leads.tiers[0].win_probability": 0.5}) == 0


def test_an_answer_the_scenario_cannot_give_is_refused_before_simulating(constant_team):
    """Without a plan payout is NaN at every point, without quotas so is the share at target
    (SALib would rank the NaNs as zero indices); bookings need neither."""
    unpaid = constant_team.model_copy(update={"plan": None, "name": "unpaid"})
    with pytest.raises(SimplanError, match="'unpaid' has no plan"):
        scenario_model([unpaid], "payout")
    with pytest.raises(SimplanError, match="'unpaid' has no plan"):
        scenario_model([constant_team, unpaid], "effect", "payout")
    no_quota = unpaid.model_copy(update={"team": unpaid.team.model_copy(update={"quota": None})})
    with pytest.raises(SimplanError, match=r"no team\.quota"):
        scenario_model([no_quota], "share_at_target")
    assert scenario_model([no_quota], "bookings").metric == "bookings"


def test_ranges_default_to_the_draws_intervals(constant_team):
    draws = [
        {"behaviour.cost_curvature": 1.5 + 0.1 * i, "production.self_sourced_share": 0.2}
        for i in range(11)
    ]
    data = constant_team.model_dump(by_alias=True, exclude_none=True)
    drawn = Scenario.model_validate({**data, "uncertainty": {"source": "a test", "draws": draws}})
    ranges = draw_ranges(drawn)
    assert list(ranges) == ["behaviour.cost_curvature"]  # a constant draw has no range
    assert ranges["behaviour.cost_curvature"] == pytest.approx((1.55, 2.45))
    assert parse_factors([], drawn) == [Factor("behaviour.cost_curvature", 1.55, 2.45)]
    assert parse_factors(["behaviour.cost_curvature"], drawn)[0].low == pytest.approx(1.55)
    with pytest.raises(SimplanError, match="no `uncertainty:` draws"):
        parse_factors([], constant_team)
    with pytest.raises(SimplanError, match="not a drawn parameter"):
        parse_factors(["leads.tiers[0].win_probability"], drawn)
    point = at_point(drawn, {"behaviour.cost_curvature": 3.0})
    assert point.uncertainty is None
    assert point.behaviour.cost_curvature == 3.0


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--param", "leads.tiers[0].win_probability=0.3:0.6"], "at least two parameters"),
        (["--param", "leads.tiers[9].win_probability=0.3:0.6", "--param", "behaviour.effort=1:2"], "tiers has"),
        (["--param", "leads.tiers[0].win_probability=0.3:1.6", "--param", "behaviour.effort=1:2"], "does not validate"),
        (["--param", "behaviour.cost_curvature=1.5:3", "--param", "behaviour.effort=1:2", "--method", "sobol", "--samples", "6"], "power of 2"),
        (["--param", "behaviour.cost_curvature=1.5:3", "--param", "behaviour.effort=1:2", "--output", "effect"], "--plan A --plan B"),
        (["--param", "behaviour.cost_curvature"], "not a drawn parameter"),
    ],
)  # fmt: skip
def test_sensitivity_command_refuses_bad_input(capsys, constant_team, tmp_path, args, fragment):
    scenario = tmp_path / "team.yaml"
    scenario.write_text(yaml.safe_dump(constant_team.model_dump(mode="json", by_alias=True)))
    code, _, stderr = run_cli(capsys, "sensitivity", scenario, *args, "--out", tmp_path / "s")
    assert code == 2
    assert fragment in stderr
    assert "Traceback" not in stderr


def test_sensitivity_command_writes_the_table_and_tornado_of_a_plan_effect(
    capsys, constant_team, tmp_path
):
    """The payout effect of the shipped gate-and-cap plan against the shipped linear plan."""
    scenario = tmp_path / "team.yaml"
    scenario.write_text(yaml.safe_dump(constant_team.model_dump(mode="json", by_alias=True)))
    plans = ROOT / "scenarios" / "plans"
    out = tmp_path / "sens"
    code, stdout, stderr = run_cli(
        capsys, "sensitivity", scenario, "--plan", plans / "linear.yaml", "--plan", plans / "gate80_cap150.yaml",
        "--output", "effect", "--effect-on", "payout", "--param", "leads.tiers[0].win_probability=0.35:0.55",
        "--param", "leads.tiers[1].arrivals_per_day=2:5", "--samples", "2", "--replications", "2",
        "--workers", "1", "--out", out, "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    assert "what moves effect (payout, B - A)" in stdout
    table = pd.read_csv(out / "sensitivity.csv")
    paths = {"leads.tiers[0].win_probability", "leads.tiers[1].arrivals_per_day"}
    assert set(table["parameter"]) == paths
    assert {"mu_star", "mu_star_conf", "sigma"} <= set(table)
    tornado = pd.read_csv(out / "tornado.csv")
    assert (tornado["swing"] == (tornado["at_high"] - tornado["at_low"]).abs()).all()
    assert (tornado["swing"] > 0).all()
    assert (out / "tornado.png").stat().st_size > 1000


def test_sensitivity_command_names_a_parameter_the_scenario_does_not_use(capsys, tmp_path):
    """The shipped gate-and-cap proposal's reps are plan-responsive: the effort cost's
    curvature (the optimising reps' parameter) moves nothing, and the command says so rather
    than print a zero as if it were a finding."""
    scenario = ROOT / "scenarios" / "proposals" / "gate80_cap150.yaml"
    code, stdout, stderr = run_cli(
        capsys, "sensitivity", scenario, "--output", "payout",
        "--param", "leads.tiers[0].win_probability=0.36:0.54", "--param", "behaviour.cost_curvature=1.5:3",
        "--samples", "2", "--replications", "2", "--workers", "1", "--out", tmp_path / "s", "--quiet",
    )  # fmt: skip
    assert code == 0, stderr
    said = " ".join(stdout.split())
    assert "not at all at either end of its range: behaviour.cost_curvature." in said
    assert "win_probability" not in said.split("not at all")[1]


def test_what_moves_recovers_a_known_dependence_on_one_drawn_parameter():
    """Per-draw effects 1000 + 400 x (curvature - 2), none from the share: the tornado has the
    curvature's effect at its 5th / 95th percentile exactly, the share's swing within noise."""
    rng = np.random.default_rng(4)
    draws = [
        {"behaviour.cost_curvature": c, "production.self_sourced_share": s}
        for c, s in zip(rng.uniform(1.5, 2.5, 12), rng.uniform(0.1, 0.4, 12), strict=True)
    ]
    rows = []
    for replication in range(36):  # three replications of each draw
        draw = draws[replication % 12]
        base = 5000 + 100 * replication
        effect = 1000 + 400 * (draw["behaviour.cost_curvature"] - 2)
        rows += [("A", replication, base), ("B", replication, base + effect)]
    kpis = pd.DataFrame(rows, columns=["scenario", "replication", "bookings"])
    table = what_moves(kpis, "A", "B", draws).set_index("parameter")
    curvature = np.array([d["behaviour.cost_curvature"] for d in draws])
    low, high = np.percentile(curvature, [5, 95])
    row = table.loc["behaviour.cost_curvature"]
    assert row["at_low"] == pytest.approx(1000 + 400 * (low - 2))
    assert row["at_high"] == pytest.approx(1000 + 400 * (high - 2))
    assert table.loc["production.self_sourced_share", "swing"] == pytest.approx(0, abs=1e-6)
    assert table.index[0] == "behaviour.cost_curvature"
    assert "moves most with behaviour.cost_curvature" in hinge_sentence(
        table.reset_index(), "B", "bookings"
    )


def test_what_moves_leaves_the_reps_own_traits_out_of_the_regression():
    """A calibrated team draws three traits per rep, more parameters than draws: the
    team-wide parameter's effect is still found, the reps' traits are not rows."""
    rng = np.random.default_rng(5)
    draws = [
        {
            "behaviour.cost_curvature": float(c),
            **{f"team.roster[{r}].skill": float(rng.uniform(0.8, 1.2)) for r in range(30)},
        }
        for c in rng.uniform(1.5, 2.5, 20)
    ]
    rows = []
    for replication in range(40):
        effect = 1000 + 400 * (draws[replication % 20]["behaviour.cost_curvature"] - 2)
        rows += [("A", replication, 0.0), ("B", replication, effect)]
    kpis = pd.DataFrame(rows, columns=["scenario", "replication", "bookings"])
    table = what_moves(kpis, "A", "B", draws)
    assert table["parameter"].tolist() == ["behaviour.cost_curvature"]
    low, high = np.percentile([d["behaviour.cost_curvature"] for d in draws], [5, 95])
    assert table.loc[0, "at_high"] - table.loc[0, "at_low"] == pytest.approx(400 * (high - low))


def test_what_moves_says_when_the_sign_turns_and_when_too_few_draws_ran():
    draws = [{"production.self_sourced_share": s} for s in np.linspace(0.1, 0.4, 6)]
    rows = []
    for replication in range(6):
        share = draws[replication]["production.self_sourced_share"]
        rows += [("A", replication, 0.0), ("B", replication, 1000 * (share - 0.25))]
    kpis = pd.DataFrame(rows, columns=["scenario", "replication", "bookings"])
    table = what_moves(kpis, "A", "B", draws)
    assert "hangs on production.self_sourced_share" in hinge_sentence(table, "B", "bookings")
    few = what_moves(kpis[kpis["replication"] < 3], "A", "B", draws)
    assert few.empty
    assert "Too few" in hinge_sentence(few, "B", "bookings")


def test_the_comparison_report_shows_what_moves_the_answer(tmp_path):
    team = design_team()
    draws = [
        {
            "behaviour.cost_curvature": 1.6 + 0.15 * i,
            "production.self_sourced_share": 0.15 + 0.02 * (i % 4),
        }
        for i in range(6)
    ]
    data = team.model_dump(by_alias=True, exclude_none=True)
    drawn = Scenario.model_validate({**data, "uncertainty": {"source": "a test", "draws": draws}})
    plan = ROOT / "scenarios" / "plans" / "gate80_cap150.yaml"
    comparison = compare(drawn, with_plan(drawn, plan), replications=6, workers=1)
    page = render_report(as_source(comparison))
    assert "What moves this answer" in page
    assert "behaviour.cost_curvature" in page
    assert "regressed on the draws" in page
    plain = render_report(
        as_source(compare(team, with_plan(team, plan), replications=2, workers=1))
    )
    assert "ran without parameter draws" in plain

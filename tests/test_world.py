"""The ground-truth world of tests/worlds: its reps plan ahead as the research says they do,
its effort creates bookings with a lag, its exports read as a CRM's, and its truth separates
plans by far more than its Monte Carlo error."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from tests import worlds
from tests.worlds import calendar
from tests.worlds.effort import _FFT_CELLS, ATTAINMENT_STEP, _deal_cells, _expect, solve_policy
from tests.worlds.export import DEAL_COLUMNS, deals_table, write_world
from tests.worlds.plans import PLANS, get_plan
from tests.worlds.sales_world import make_world, true_outcome

SEED = 7
WORLDS = 400  # Monte Carlo worlds per truth: standard errors about 0.4 % of bookings


@pytest.fixture(scope="module")
def world():
    return make_world("current", seed=SEED)


@pytest.fixture(scope="module")
def policies(world):
    """Effort (reps, steps, attainment cells) of every plan for the predicted quarter."""
    return {name: world.policy(plan, calendar.NEXT).effort for name, plan in PLANS.items()}


@pytest.fixture(scope="module")
def truths(world):
    return {name: true_outcome(world, name, n_worlds=WORLDS, seed=1) for name in PLANS}


def cell(attainment: float) -> int:
    return round(attainment / ATTAINMENT_STEP)


def test_the_world_shares_no_code_with_simplan():
    """tests/worlds imports numpy, scipy, pandas, yaml and the standard library only."""
    allowed = {"numpy", "scipy", "pandas", "yaml", "tests", "__future__"} | set(
        sys.stdlib_module_names
    )
    for path in Path(worlds.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"


# --- the world's own payout --------------------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "attainment", "expected"),
    [
        ("current", 0.5, 0.05 * 50_000),
        ("current", 0.9999, 0.05 * 99_990),
        ("current", 1.0, 0.05 * 100_000 + 3000),
        ("current", 2.5, 0.05 * 250_000 + 3000),
        ("proposal", 0.4999, 0.0),
        ("proposal", 0.5, 0.04 * 50_000),
        ("proposal", 1.5, 0.04 * 100_000 + 0.10 * 50_000),
        ("proposal", 2.0, 0.04 * 100_000 + 0.10 * 100_000),
        ("proposal", 3.0, 0.04 * 100_000 + 0.10 * 100_000),
        ("linear", 1.7, 0.06 * 170_000),
    ],
)
def test_payout_by_hand(plan, attainment, expected):
    quota = 100_000.0
    assert PLANS[plan].payout(attainment * quota, quota) == pytest.approx(expected)


def test_plans_as_simplan_files():
    assert [c["type"] for c in PLANS["proposal"].simplan_plan()["components"]] == [
        "attainment_cap",
        "tiered_commission",
        "gate",
    ]
    current = PLANS["current"].simplan_plan()
    assert current["clock"] == "quarter"
    assert current["components"] == [
        {"type": "base_commission", "rate": 0.05},
        {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 3000.0}]},
    ]
    with pytest.raises(ValueError, match="known: current, proposal, linear"):
        get_plan("bonus_only")


# --- reps who plan ahead (the dynamic program) -------------------------------------------


def test_expected_value_is_exact_on_the_grid(world):
    """The FFT expectation equals the direct sum over win counts of the convolved deal-size
    pmf (a check of the dynamic program's transition, not of the plan)."""
    reps, quota = world.reps, world.quota(calendar.NEXT)
    deal = _deal_cells(reps, quota)[:1]
    wins = np.array([[0.0, 0.7, 2.5]])
    value = np.random.default_rng(3).random((1, 60)).cumsum(axis=1)
    got = _expect(value, wins, np.fft.rfft(deal, _FFT_CELLS))[0]
    cells = _FFT_CELLS
    extended = np.concatenate(
        [value[0], value[0, -1] + (value[0, -1] - value[0, -2]) * np.arange(1, cells)]
    )
    for column, rate in enumerate(wins[0]):
        pmf, total = np.zeros(cells), np.zeros(cells)
        pmf[0] = 1.0
        for count in range(40):
            total += stats.poisson.pmf(count, rate) * pmf
            pmf = np.convolve(pmf, deal[0])[:cells]
        want = [total @ extended[start : start + cells] for start in range(60)]
        np.testing.assert_allclose(got[:, column], want, rtol=1e-9)


@pytest.mark.parametrize("plan", ["current", "proposal"])
def test_the_policy_beats_every_constant_effort(world, plan):
    """The solved policy's expected reward is at least that of any fixed effort, in every
    starting state, and strictly better somewhere for a nonlinear plan."""
    team, period = world.team, calendar.NEXT
    best = world.policy(plan, period).value
    args = (world.reps, PLANS[plan], world.quota(period), calendar.quarter_steps(period))
    for level in (0.5, 1.0, 1.5, 2.0):
        fixed = solve_policy(*args, team.continuation[plan], np.array([level])).value
        assert np.all(best >= fixed - 1e-6)
        assert np.any(best > fixed + 50.0)


def test_speeding_up_near_the_bonus(policies):
    """Under the current plan, with 3-5 weeks left, every rep just short of 100 % works
    harder than one far below it, one past it, and itself under the linear plan."""
    current, linear = policies["current"], policies["linear"]
    for step in (8, 9, 10):
        near = current[:, step, cell(0.8) : cell(1.0)].max(axis=1)
        assert np.all(near >= current[:, step, cell(0.4)] + 0.25)
        assert np.all(near >= current[:, step, cell(1.1)] + 0.25)
        assert np.all(near >= linear[:, step, cell(0.9)] + 0.25)


def test_giving_up_below_an_unreachable_gate(policies):
    """Under the proposal, with 4-6 weeks left, a rep with nothing booked does less than
    one within reach of the 50 % gate, and less than under the linear plan."""
    proposal, linear = policies["proposal"], policies["linear"]
    for step in (7, 8, 9):
        assert np.all(proposal[:, step, 0] <= proposal[:, step, cell(0.4)] - 0.25)
        assert np.all(proposal[:, step, 0] <= linear[:, step, 0] - 0.05)
        assert np.mean(linear[:, step, 0] - proposal[:, step, 0]) > 0.25


def test_coasting_above_the_cap(policies):
    """Past the 200 % cap effort no longer depends on attainment (only next quarter pays
    for it) and is well below the effort at 150 %."""
    proposal = policies["proposal"]
    for step in (3, 6, 9):
        above = proposal[:, step, cell(2.05) :]
        assert np.all(above == above[:, :1])
        assert np.all(above[:, 0] <= proposal[:, step, cell(1.5)] - 0.25)


def test_harder_work_above_quota_under_the_accelerator(policies):
    """Mid-quarter at 120 %, every rep works harder at the proposal's 10 % than at the
    current 5 % (bonus already won) or the linear 6 %."""
    above = cell(1.2)
    assert np.all(policies["proposal"][:, 6, above] >= policies["current"][:, 6, above] + 0.15)
    assert np.all(policies["proposal"][:, 6, above] >= policies["linear"][:, 6, above] + 0.15)


def test_linear_plan_effort_ignores_attainment(policies):
    """With a flat rate there is nothing to aim at: effort depends on the week only."""
    linear = policies["linear"]
    assert np.all(linear == linear[:, :, :1])


def test_history_shows_the_push_before_the_bonus(world):
    """In the simulated history (current plan), rep-weeks in the last month just short of
    quota carry more effort than those already past it."""
    late = world.weekly[world.weekly["days_left"] < 28]
    short = late[late["attainment"].between(0.8, 1.0, inclusive="left")]["effort"]
    past = late[late["attainment"] >= 1.0]["effort"]
    assert len(short) > 30
    assert len(past) > 30
    assert short.mean() > past.mean() + 0.3


# --- effort creates bookings, weeks later ------------------------------------------------


def test_effort_books_weeks_later(world):
    """Opportunities sourced in a quarter's last two weeks mostly close next quarter."""
    deals = world.deals[world.deals["won"].notna()]
    late = []
    for period in calendar.HISTORY[:-1]:
        first, days = calendar.quarter_days(period)
        end = first + days
        created = deals[(deals["created"] >= end - 14) & (deals["created"] < end)]
        late.append((created["closes"] >= end).mean())
    assert min(late) > 0.7


def test_more_effort_books_more(truths):
    """The current plan draws more effort than the linear one, and books more."""
    current, linear = truths["current"].summary, truths["linear"].summary
    assert current.loc["mean_effort", "mean"] > linear.loc["mean_effort", "mean"] + 0.2
    gap = current.loc["bookings", "mean"] - linear.loc["bookings", "mean"]
    assert gap > 5 * np.hypot(current.loc["bookings", "se"], linear.loc["bookings", "se"])


# --- the truth ---------------------------------------------------------------------------


@pytest.mark.parametrize("metric", ["bookings", "payout", "share_at_target", "mean_effort"])
def test_plans_differ_far_beyond_the_monte_carlo_error(truths, metric):
    current, proposal = truths["current"].summary, truths["proposal"].summary
    effect = proposal.loc[metric, "mean"] - current.loc[metric, "mean"]
    error = np.hypot(current.loc[metric, "se"], proposal.loc[metric, "se"])
    assert abs(effect) > 8 * error


def test_truth_tables_agree(truths, world):
    truth = truths["proposal"]
    assert list(truth.summary.index) == ["bookings", "payout", "share_at_target", "mean_effort"]
    assert len(truth.runs) == WORLDS
    assert truth.summary.loc["bookings", "mean"] == pytest.approx(truth.reps["bookings"].sum())
    assert truth.summary.loc["payout", "mean"] == pytest.approx(truth.reps["payout"].sum())
    np.testing.assert_array_equal(truth.reps["target"], world.quota(calendar.NEXT))
    se = truth.runs["bookings"].std() / np.sqrt(WORLDS)
    assert truth.summary.loc["bookings", "se"] == pytest.approx(se)


def test_standard_errors_match_the_spread_between_seeds(world, truths):
    """Two independent truths of the same plan differ by no more than their errors allow."""
    first, second = truths["current"].summary, true_outcome(world, "current", WORLDS, 5).summary
    gap = (first["mean"] - second["mean"]).abs()
    assert np.all(gap <= 4 * np.hypot(first["se"], second["se"]) + 1e-9)


def test_truth_is_determined_by_its_seed(world, truths):
    again = true_outcome(world, "current", n_worlds=WORLDS, seed=1)
    pd.testing.assert_frame_equal(again.runs, truths["current"].runs)
    other = true_outcome(world, "current", n_worlds=WORLDS, seed=2)
    assert not other.runs["bookings"].equals(truths["current"].runs["bookings"])


# --- the history and its exports ---------------------------------------------------------


def test_history_is_determined_by_its_seed(world):
    pd.testing.assert_frame_equal(make_world("current", seed=SEED).deals, world.deals)
    assert not make_world("current", seed=SEED + 1).deals.equals(world.deals)


def test_team_spans_the_abilities_asked_for(world):
    reps = world.reps
    assert reps.size == 30
    assert reps.deal_mean.min() == pytest.approx(3500)
    assert reps.deal_mean.max() == pytest.approx(14000)
    assert reps.cycle_mean_days.min() >= 21
    assert reps.cycle_mean_days.max() <= 35
    attainment = world.weekly.groupby(["period", "rep"])["attainment"].max()
    assert (attainment < 0.7).mean() > 0.05
    assert (attainment > 1.3).mean() > 0.05


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    directory = tmp_path_factory.mktemp("world")
    return directory, write_world(directory, plan="proposal", seed=SEED, include_open=True)


def test_write_world_files(exported):
    directory, world = exported
    assert world.plan.name == "proposal"
    names = {path.name for path in directory.iterdir()}
    assert names == {
        "deals.csv", "reps.csv", "quotas.csv", "next_quotas.csv", "periods.csv",
        "current.yaml", "proposal.yaml", "linear.yaml",
    }  # fmt: skip
    reps = pd.read_csv(directory / "reps.csv")
    assert list(reps.columns) == ["rep_id", "tenure_days", "team"]
    assert reps["rep_id"].is_unique
    assert len(reps) == 30
    assert (reps["tenure_days"] > 0).all()
    quotas = pd.read_csv(directory / "quotas.csv")
    assert list(quotas.columns) == ["rep_id", "period", "target"]
    assert sorted(quotas["period"].unique()) == list(calendar.HISTORY)
    assert len(quotas) == 4 * 30
    assert (quotas["target"] > 0).all()
    upcoming = pd.read_csv(directory / "next_quotas.csv")
    assert set(upcoming["period"]) == {"2026Q1"}
    assert set(upcoming["rep_id"]) == set(reps["rep_id"])
    periods = pd.read_csv(directory / "periods.csv")
    assert periods.to_dict("records")[0] == {
        "period": "2025Q1",
        "start": "2025-01-01",
        "end": "2025-03-31",
    }
    assert list(periods["period"]) == [*calendar.HISTORY, calendar.NEXT]
    for name, plan in PLANS.items():
        assert yaml.safe_load((directory / f"{name}.yaml").read_text()) == plan.simplan_plan()


def test_deals_export_schema(exported):
    directory, world = exported
    deals = pd.read_csv(directory / "deals.csv", keep_default_na=False)
    assert tuple(deals.columns) == DEAL_COLUMNS
    assert deals["opportunity_id"].is_unique
    assert set(deals["outcome"]) == {"won", "lost", "open"}
    closed = deals[deals["outcome"] != "open"]
    close_date = pd.to_datetime(closed["close_date"])
    assert close_date.min() >= pd.Timestamp("2025-01-01")
    assert close_date.max() <= pd.Timestamp("2025-12-31")
    assert (close_date >= pd.to_datetime(closed["created_date"])).all()
    assert (closed.loc[closed["outcome"] == "lost", "amount"] == 0).all()
    assert (closed.loc[closed["outcome"] == "won", "amount"] > 0).all()
    still_open = deals[deals["outcome"] == "open"]
    assert (still_open["close_date"] == "").all()
    assert (still_open["amount"] > 0).all()
    assert len(still_open) == len(world.pipeline)
    assert pd.to_datetime(deals["created_date"]).max() <= pd.Timestamp("2025-12-31")
    won = closed[closed["outcome"] == "won"]
    assert 0.15 < len(won) / len(closed) < 0.4


def test_deals_export_matches_the_world(world):
    """Won amounts per rep and quarter in the export are the bookings the world paid on."""
    deals = deals_table(world)
    assert set(deals["outcome"]) == {"won", "lost"}
    won = deals[deals["outcome"] == "won"]
    quarter = pd.PeriodIndex(pd.to_datetime(won["close_date"]), freq="Q").astype(str)
    booked = won.groupby([quarter, won["owner"]])["amount"].sum()
    history = world.quarters[world.quarters["period"].isin(calendar.HISTORY)]
    expected = history.set_index(["period", world.reps.rep_id[history["rep"]]])["bookings"]
    expected = expected[expected > 0]
    pd.testing.assert_series_equal(booked, expected, check_names=False)

"""One pool for a design run: setup sent once per worker, and the same numbers on any count."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from simplan.analysis.design_goal import Goal
from simplan.analysis.kpis import RUN_KPIS, replication_kpis
from simplan.analysis.optimise import candidate_scenario, optimise, plan_evaluator
from simplan.execution import ProcessPool, SerialExecutor, worker_pool
from simplan.runner import replication_runs, simulate
from simplan.scenario import Scenario
from tests.test_optimise import RATE, design_team


def _note_pid(path: str) -> None:
    with open(path, "a") as file:
        file.write(f"{os.getpid()}\n")


def _pid_and_square(x: int) -> tuple[int, int]:
    return os.getpid(), x * x


def test_a_process_pool_runs_its_setup_once_in_each_worker_for_many_maps(tmp_path):
    started = tmp_path / "started.txt"
    with ProcessPool(2, _note_pid, (str(started),)) as pool:
        first = list(pool.map(_pid_and_square, range(20)))
        second = list(pool.map(_pid_and_square, range(5)))
    assert [square for _, square in first] == [x * x for x in range(20)]
    assert [square for _, square in second] == [x * x for x in range(5)]
    setups = [int(line) for line in started.read_text().split()]
    assert 1 <= len(setups) <= 2
    assert len(set(setups)) == len(setups)
    assert os.getpid() not in setups
    assert {pid for pid, _ in first + second} <= set(setups)


def test_a_pool_of_one_worker_runs_setup_and_tasks_here(tmp_path):
    started = tmp_path / "started.txt"
    with worker_pool(1, _note_pid, (str(started),)) as executor:
        assert isinstance(executor, SerialExecutor)
        assert list(executor.map(_pid_and_square, [3])) == [(os.getpid(), 9)]
    assert started.read_text().split() == [str(os.getpid())]


@pytest.fixture(scope="module")
def team():
    return design_team()


def test_candidates_give_a_plain_runs_numbers_on_one_or_two_workers(team):
    settings = [{RATE.name: rate} for rate in (0.04, 0.12, 0.2)]
    tables = {}
    for workers in (1, 2):
        with plan_evaluator(team, [RATE], replications=3, seed=5, workers=workers) as evaluate:
            tables[workers] = list(evaluate(settings))
    for one, two in zip(tables[1], tables[2], strict=True):
        pd.testing.assert_frame_equal(one, two)
    plain = simulate(
        candidate_scenario(team, [RATE], settings[1], team.name),
        replications=3,
        seed=5,
        workers=1,
        engine="fast",
    )
    expected = replication_kpis(plain)[["replication", *RUN_KPIS]]
    pd.testing.assert_frame_equal(tables[2][1], expected)
    assert tables[1][2]["payout"].sum() > 2 * tables[1][0]["payout"].sum()


def test_a_candidates_runs_rows_are_a_plain_runs_under_parameter_draws_and_any_batch(team):
    """`replication_runs` builds only the runs rows (no statements, no reps' payouts), yet
    they are exactly `simulate`'s, in replication order, also when replications alternate
    between two parameter draws and run in batches of 2 (tasks of interleaved draws)."""
    draws = [
        {"leads.tiers[0].win_probability": low, "leads.tiers[1].win_probability": high}
        for low, high in ((0.05, 0.02), (0.9, 0.6))
    ]
    data = team.model_dump(by_alias=True, exclude_none=True)
    drawn = Scenario.model_validate({**data, "uncertainty": {"source": "a test", "draws": draws}})
    plain = simulate(drawn, replications=5, seed=3, workers=1, engine="fast").runs
    runs = replication_runs(drawn, replications=5, seed=3, engine="fast", batch=2)
    pd.testing.assert_frame_equal(runs, plain)
    assert runs["replication"].tolist() == list(range(5))
    assert runs["payout"].gt(0).all()
    won = runs["win_rate"].to_numpy()  # odd replications run under the winning draw
    assert won[1::2].min() > 2 * won[0::2].max()


def test_an_optimisation_is_the_same_on_one_or_two_workers_and_counts_its_progress(team):
    goal = Goal("profit", margin=0.3)
    calls = []
    runs = {
        workers: optimise(
            team,
            [RATE],
            goal,
            candidates=5,
            replications=2,
            finalists=2,
            workers=workers,
            progress=(lambda *call: calls.append(call)) if workers == 2 else None,
        )
        for workers in (1, 2)
    }
    pd.testing.assert_frame_equal(runs[1].candidates, runs[2].candidates)
    pd.testing.assert_frame_equal(runs[1].finalists, runs[2].finalists)
    assert runs[1].candidates[RATE.name].nunique() == 5
    searched = [call for call in calls if call[2] == "candidates"]
    assert searched == [(done, 5, "candidates") for done in range(1, 6)]
    rerun = [call[:2] for call in calls if call[2] == "finalists on fresh seeds"]
    assert rerun[-1] == (2 * 3, 2 * 3)  # the starting plan and 2 finalists, 2 replications each
    assert [done for done, _ in rerun] == sorted(done for done, _ in rerun)

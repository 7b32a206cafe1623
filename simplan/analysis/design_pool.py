"""Candidates run on one pool of workers for a whole design run (optimise, sensitivity).

The workers start once and receive the base scenarios once; a task is one candidate's values
(plan settings, or assumptions at key paths) and runs all of that candidate's replications in
its worker. A candidate's main price is its effort policies (one dynamic program per plan
period, see benchmarks/PROFILE.md, "Design"), so they are solved once per candidate, not once
in every worker its replications were spread over; and a worker keeps what does not depend on
the plan (the reps' effort costs, each step's bookings transforms) from one candidate to the
next. Every candidate runs on the
same seed with the same replications, so its numbers do not depend on the number of workers
or on which worker ran it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from simplan.analysis.kpis import run_kpis
from simplan.execution import Executor, worker_pool
from simplan.runner import replication_runs
from simplan.scenario import Scenario

Values = dict[str, float]
Vary = Callable[[Scenario, Values], Scenario]
"""A base scenario and a candidate's values in, the candidate's scenario out (picklable)."""
Task = tuple[int, Values]
"""Which base scenario (its index) and the candidate's values."""


@dataclass(frozen=True)
class Bench:
    """What every task of a run shares, sent once to each worker."""

    scenarios: tuple[Scenario, ...]
    vary: Vary
    replications: int
    seed: int


_bench: Bench | None = None
"""This process's bench, installed as its worker starts (or here, for one worker)."""


def _install(bench: Bench | None) -> None:
    global _bench
    _bench = bench


def run_candidate(task: Task) -> pd.DataFrame:
    """One candidate's replications, simulated in this worker on the bench's seed with the
    fast engine: per replication its runs row's KPIs (`run_kpis`: bookings, payout, cost of
    sales, share at target), all an objective, a constraint or a Morris point reads. Only
    the runs rows are built (`replication_runs`), not the tables nobody reads."""
    if _bench is None:
        raise RuntimeError("run_candidate runs on a candidate_pool's workers")
    index, values = task
    scenario = _bench.vary(_bench.scenarios[index], values)
    runs = replication_runs(
        scenario, replications=_bench.replications, seed=_bench.seed, engine="fast"
    )
    return run_kpis(runs).reset_index()


@dataclass(frozen=True)
class CandidatePool:
    """A running pool: `run` maps tasks to their KPI tables in order; `executor` runs other
    work (a comparison's simulations) on the same workers."""

    executor: Executor

    def run(self, tasks: Sequence[Task]) -> Iterator[pd.DataFrame]:
        """Each task's KPIs, yielded in order as they finish."""
        return self.executor.map(run_candidate, list(tasks))


@contextmanager
def candidate_pool(
    scenarios: Sequence[Scenario],
    vary: Vary,
    replications: int,
    seed: int,
    workers: int | None = None,
) -> Iterator[CandidatePool]:
    """Workers started once for the run, each sent `scenarios` and `vary` once."""
    bench = Bench(tuple(scenarios), vary, replications, seed)
    try:
        with worker_pool(workers, _install, (bench,)) as executor:
            yield CandidatePool(executor)
    finally:
        _install(None)  # one worker ran here: do not keep the scenarios past the run

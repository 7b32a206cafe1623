"""Where a fast-engine replication's CPU goes, without a profiler's per-call inflation.

`python benchmarks/profile_fast.py gate|big N` runs `simulate` on one worker in this process
(gate: proposals/gate80_cap150; big: baseline_quarter with 4x the team and the leads) after
a warm-up run, with each engine method, the effort rule, the tables and the payouts wrapped
in a CPU timer (`time.process_time`, each step's own time without the wrapped steps it
calls; a wrap costs about a microsecond, against hundreds for a step). Prints each step's
CPU seconds, share and milliseconds per replication. cProfile, by contrast, inflates the
engine's thousands of small numpy calls several times over.
"""

from __future__ import annotations

import functools
import sys
import time
from typing import Any

from bench_engine import BASELINE, PROPOSAL, scaled

from simplan import load_scenario, runner, simulate
from simplan.engines.fast import book, engine, funnel, serving
from simplan.engines.standing import Standing

ENGINE_STEPS = (
    "__init__", "_arrive", "_sourced", "_relay", "_passes", "_close_won",
    "_start_answers", "_touches", "_records",
)  # fmt: skip
COMPILED_PASSES = ("day_passes",)
"""The compiled passes, as `funnel` calls them (their own time: the touch and answer rules
and the owners' timing decisions; `day_passes` holds a day's serving and answer passes)."""

spent: dict[str, float] = {}
_inner: list[float] = []


def timed(owner: Any, name: str, label: str) -> None:
    """Replace `owner.name` by a wrapper adding its own CPU time to `spent[label]`."""
    fn = getattr(owner, name)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        _inner.append(0.0)
        try:
            return fn(*args, **kwargs)
        finally:
            total = time.process_time() - start
            spent[label] = spent.get(label, 0.0) + total - _inner.pop()
            if _inner:
                _inner[-1] += total

    setattr(owner, name, wrapper)


def main() -> None:
    which, n = sys.argv[1], int(sys.argv[2])
    for step in ENGINE_STEPS:
        timed(engine.FastEngine, step, f"engine {step}")
    for name in COMPILED_PASSES:
        timed(funnel, name, f"engine {name} (compiled)")
    timed(serving.Queues, "join", "engine Queues.join (compiled insert)")
    timed(book.Waits, "before", "engine Waits.before")
    timed(engine, "route_day", "engine route_day")
    timed(engine, "arrive", "engine arrive (compiled)")
    timed(Standing, "start_day", "effort rule (Standing.start_day)")
    timed(runner, "batch_tables", "tables: batch_tables")
    timed(runner, "statement_totals", "tables: statement_totals")
    timed(runner, "attach_payouts", "payouts: attach_payouts")
    timed(runner, "combine", "combine (results)")
    scenario = load_scenario(PROPOSAL) if which == "gate" else scaled(load_scenario(BASELINE), 4)
    simulate(scenario, replications=4, workers=1, engine="fast", keep=())  # compile, warm caches
    spent.clear()
    start = time.process_time()
    simulate(scenario, replications=n, workers=1, engine="fast", keep=())
    total = time.process_time() - start
    print(f"{scenario.name}: {n} replications on one worker, {total:.2f} CPU s, "
          f"{total / n * 1000:.1f} ms a replication (timers included)")  # fmt: skip
    spent["(the rest: run loop, simulate, pandas stacking)"] = total - sum(spent.values())
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        share = 100 * seconds / total
        print(f"  {label:48s} {seconds:7.3f} s {share:5.1f} % {seconds / n * 1000:7.2f} ms")


if __name__ == "__main__":
    main()

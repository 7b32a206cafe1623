"""Where a design candidate's CPU goes, step by step, as a design worker runs it.

`python benchmarks/profile_design.py CANDIDATES REPLICATIONS [DRAWS]` runs CANDIDATES
candidates of `bench_design.py` (the baseline quarter, 50 reps who plan ahead, random settings
of its three levers, seeded) one after the other in this process through
`design_pool.run_candidate`, each with REPLICATIONS replications, and prints each candidate's
CPU seconds by step (`profile_fast.timed`: each step's own time, without the wrapped steps it
calls); "lead draws" is the fast engine's set-up (`FastEngine.__init__`: the batch's leads,
sourcing draws and customers), the same for every candidate on the seed, "engine" the rest.
The first candidate also pays numba's cache load and the plan-free work a worker keeps (the
reps' effort costs, the steps' bookings transforms), and the first two draw the batches'
leads (`fast.drawn` keeps them from the second time a batch is asked for), so read the
later ones.

With DRAWS, the team carries that many parameter draws (the tiers' win probabilities within
10 %) and the plan in force as a calibrated team does (`simplan calibrate` writes 20 draws and
`behaviour.plan_in_force`): every draw is a world of its own, with its own effort costs and
policies for each plan period.
"""

from __future__ import annotations

import functools
import sys
import time

import numpy as np
from bench_design import LEVERS, team
from profile_fast import spent, timed

from simplan import runner
from simplan.analysis import design_pool
from simplan.analysis.optimise import with_settings
from simplan.engines.fast.engine import FastEngine
from simplan.engines.standing import Standing
from simplan.scenario import Scenario

STEPS = {
    "effort costs": (Standing, "_effort_cost"),
    "policies": (Standing, "_policy"),
    "lead draws": (FastEngine, "__init__"),
    "engine": (runner.fast, "run_batch"),
    "runs rows": (runner, "runs_table"),
    "payouts": (runner, "pay_runs"),
    "KPIs": (design_pool, "run_kpis"),
}


def drawn_team(draws: int) -> Scenario:
    """The bench's team with `draws` parameter draws and its plan as the plan in force."""
    data = team().model_dump(by_alias=True, exclude_none=True, mode="json")
    rng = np.random.default_rng(3)
    data["behaviour"]["plan_in_force"] = data["plan"]
    data["uncertainty"] = {
        "source": "win probabilities within 10 % (profile_design)",
        "draws": [
            {
                f"leads.tiers[{i}].win_probability": round(float(w * rng.uniform(0.9, 1.1)), 4)
                for i, w in enumerate(t["win_probability"] for t in data["leads"]["tiers"])
            }
            for _ in range(draws)
        ],
    }
    return Scenario.model_validate(data)


def main() -> None:
    candidates, replications = int(sys.argv[1]), int(sys.argv[2])
    draws = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    for label, (owner, name) in STEPS.items():
        timed(owner, name, label)
    scenario = drawn_team(draws) if draws else team()
    vary = functools.partial(with_settings, levers=tuple(LEVERS))
    design_pool._install(design_pool.Bench((scenario,), vary, replications, 2025))
    rng = np.random.default_rng(7)
    print(f"CPU seconds a candidate, {replications} replications, {draws or 'no'} draws")
    print(f"{'candidate':>9} " + " ".join(f"{label:>12}" for label in STEPS) + f" {'rest':>8}"
          f" {'total':>8}")  # fmt: skip
    for candidate in range(candidates):
        settings = {lever.name: float(rng.uniform(lever.low, lever.high)) for lever in LEVERS}
        spent.clear()
        start = time.process_time()
        design_pool.run_candidate((0, settings))
        total = time.process_time() - start
        steps = [spent.get(label, 0.0) for label in STEPS]
        print(f"{candidate:>9} " + " ".join(f"{s:12.2f}" for s in steps)
              + f" {total - sum(steps):8.2f} {total:8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()

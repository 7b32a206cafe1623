"""Ground-truth worlds for testing simplan's plan predictions; they share no code with it.

    world = make_world("current", seed=0)          # 30 reps, history 2025Q1-Q4 under a plan
    truth = true_outcome(world, "proposal")         # 2026Q1 under another plan: mean and se
    write_world("runs/world", "current", seed=0)    # deals.csv, reps.csv, quotas.csv, ...

The mechanism is described in `sales_world`; the reps' effort choice in `effort`.
"""

from tests.worlds.export import SIMPLAN_MAP, write_world
from tests.worlds.plans import PLANS, WorldPlan
from tests.worlds.sales_world import Truth, World, make_world, true_outcome

__all__ = [
    "PLANS",
    "SIMPLAN_MAP",
    "Truth",
    "World",
    "WorldPlan",
    "make_world",
    "true_outcome",
    "write_world",
]

"""World B: a second ground-truth sales world for simplan's plan predictions (issue 10).

    world = make_world("current", seed=0)       # 34 reps, four fiscal quarters under a plan
    truth = true_outcome(world, "proposal")      # FY2026-Q1 under another plan: mean and se
    write_world("runs/world_b", "current")       # a Salesforce report export and side tables
    python -m tests.world_b.check runs/world_b   # calibrate, compare, report; against truth

Written independently of simplan and of `tests/worlds` (world A) and built differently:

| | world A (`tests/worlds`) | world B (here) |
|---|---|---|
| team | 30 reps, calendar quarters | 34 reps, 13-week fiscal quarters from a Monday |
| leads | one inbound stream | inbound graded A/B/C (win 42/26/12 %), routed by ability |
| effort acts on | self-sourced flow (elasticity 0.85), win rate a little | win rate through touches over a deal's whole life, discount at signing (deal size), speed of decision, a small self-sourced flow (elasticity 0.6) |
| cycles | gamma, 3-5 weeks | geometric: a weekly chance of decision by grade |
| effort choice | a dynamic program, quadratic cost | myopic-but-forward: this week's best effort assuming habit later, normal projection of the quarter, exponential cost |
| history plan | 5 % + a bonus at 100 % | gate 60 %, 4 % to quota, 9 % above, cap 160 % |
| proposal | gate, 4 % / 10 %, cap 200 % | 2 % to 80 %, 6 % to 120 %, 12 % above, 2,500 bonus at 100 % |
| export | canonical columns with `--map` | Salesforce report (`--preset salesforce`), US dates, lead grade as the tier, amounts on lost and open deals, open deals with an expected close date |

Mechanism: `team` (reps and the production function), `choice` (the effort rule), `market`
(a quarter week by week), `world` (history and truth), `plans` (the payout rule),
`export` (the files). The linear plan (5 % of all bookings) is the second history.
"""

from tests.world_b.export import READ_ARGS, write_world
from tests.world_b.plans import PLANS, Plan
from tests.world_b.world import Truth, World, make_world, true_outcome

__all__ = ["PLANS", "READ_ARGS", "Plan", "Truth", "World", "make_world", "true_outcome",
           "write_world"]  # fmt: skip

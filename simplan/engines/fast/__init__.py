"""The fast engine: every lead and rep of a batch of replications advanced a day at a time
with numpy.

A batch of B replications is one table of leads (with a `replication` column) and one row
of B x n reps (replication r's rep i is rep i + r n, a tiled team), so each day's numpy work
is paid once per batch. Leads are routed only to their own replication's reps, and each
replication draws from its own streams by purpose, so its tables do not depend on the batch
size. Same model rules as the reference engine (`simplan.model`, and `Standing` for effort and
deal timing), same common random numbers for routed leads and self-sourced counts, same
records. What it approximates (see the README, "The fast engine"): each rep serves its
queue first-in first-out as a single server in working hours, computed for the whole day
at once; a follow-up requested during the day waits for the day's next pass; routing sees
the loads at the day's start plus the day's own assignments; self-sourced customers are
drawn ahead from one stream per replication and tier.

Modules, one concept each: `engine` (the day loop, relays, records), `arrivals` (a day's
new leads written in one compiled pass), `table` (the leads' columns and the tiled team),
`funnel` (touch and answer rules; a day's passes
compiled in `passes`, calling `touches` and `answers`), `book` (waiting lists,
pipelines, bookings and credits), `serving` (each rep's queue) and `relay` (stale touches
moved), both compiled with numba, `sourcing` (the self-sourced customers, drawn ahead), `drawn`
(a batch's plan-free draws, kept per worker for the next plan on the same seeds).
"""

from __future__ import annotations

import numpy as np

from simplan.engines.fast.engine import FastEngine
from simplan.model.calendar import Calendar
from simplan.model.records import Records
from simplan.model.team import Team
from simplan.scenario import Scenario

__all__ = ["FastEngine", "run_batch", "run_replication"]


def run_batch(
    scenario: Scenario, team: Team, calendar: Calendar, seqs: list[np.random.SeedSequence]
) -> list[Records]:
    """Simulate a batch of replications together, a day at a time; one Records each, the
    same as each would get alone."""
    return FastEngine(scenario, team, calendar, seqs).run()


def run_replication(
    scenario: Scenario, team: Team, calendar: Calendar, seq: np.random.SeedSequence
) -> Records:
    """Simulate one replication a day at a time and return its flat records."""
    return run_batch(scenario, team, calendar, [seq])[0]

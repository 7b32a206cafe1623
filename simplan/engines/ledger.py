"""Every lead of a replication: the customer drawn up front and what happens to it.

Plain Python lists indexed by lead id, because the engine reads and writes single entries
far more often than whole columns; `deal_columns` turns them into arrays once, at the end.
"""

from __future__ import annotations

import math

import numpy as np

from simplan.model.leads import Leads, TierParams
from simplan.model.records import ON_TIME, OPEN
from simplan.model.routing import Assignment


class LeadBook:
    """Customer attributes (time, tier, source, win probability, size, uniforms, delays) and
    run state (owner, stage, outcome, close time, amount, alerts, relays, costs, timing)."""

    def __init__(self, leads: Leads) -> None:
        self.source_names = list(leads.source_names)
        self.time = leads.time.tolist()
        self.tier = leads.tier.tolist()
        self.source = leads.source.tolist()
        self.p = leads.win_probability.tolist()
        self.size = leads.base_size.tolist()
        self.u_win = leads.u_win.tolist()
        self.u_route = leads.u_route.tolist()
        self.u_timing = leads.u_timing.tolist()
        self.delay = leads.delay.tolist()
        n = len(leads)
        self.owner = [-1] * n
        self.first_owner = [-1] * n
        self.assignment: list[Assignment | None] = [None] * n
        self.response_h = [math.nan] * n
        self.stage = [-1] * n
        self.outcome = [OPEN] * n
        self.close_time = [math.nan] * n
        self.amount = [0.0] * n
        self.alerts = [0] * n
        self.relays = [0] * n
        self.lever_cost = [0.0] * n
        self.value = [0.0] * n
        self.expected = [0.0] * n
        self.timing = [ON_TIME] * n

    def __len__(self) -> int:
        return len(self.time)

    def add(
        self,
        tier: int,
        params: TierParams,
        source: str,
        p: float | None,
        at: float,
        rng: np.random.Generator,
        owner: int = -1,
    ) -> int:
        """Append a lead created during the run (dormant re-entry, prospecting); returns its id."""
        if source not in self.source_names:
            self.source_names.append(source)
        d = params.stage_delays_days
        self.time.append(at)
        self.tier.append(tier)
        self.source.append(self.source_names.index(source))
        self.p.append(params.win_probability if p is None else p)
        self.size.append(params.deal_size.draw(rng))
        u_win, u_route, u_timing = rng.random(3).tolist()  # the same draws as three calls
        self.u_win.append(u_win)
        self.u_route.append(u_route)
        self.u_timing.append(u_timing)
        self.delay.append([d.contact.draw(rng), d.proposal.draw(rng), d.negotiation.draw(rng)])
        for column, empty in (
            (self.owner, owner),
            (self.first_owner, -1),
            (self.assignment, None),
            (self.response_h, math.nan),
            (self.stage, -1),
            (self.outcome, OPEN),
            (self.close_time, math.nan),
            (self.amount, 0.0),
            (self.alerts, 0),
            (self.relays, 0),
            (self.lever_cost, 0.0),
            (self.value, 0.0),
            (self.expected, 0.0),
            (self.timing, ON_TIME),
        ):
            column.append(empty)
        return len(self.time) - 1

    def deal_columns(self) -> dict[str, np.ndarray]:
        """One array per column of the `deals` records."""
        return {
            "lead_id": np.arange(len(self.time)),
            "tier": np.array(self.tier),
            "source": np.array(self.source),
            "rep": np.array(self.owner),
            "first_rep": np.array(self.first_owner),
            "created_day": np.array(self.time),
            "first_response_hours": np.array(self.response_h),
            "stage": np.array(self.stage),
            "outcome": np.array(self.outcome),
            "close_day": np.array(self.close_time),
            "amount": np.array(self.amount),
            "alerts": np.array(self.alerts),
            "relays": np.array(self.relays),
            "lever_cost": np.array(self.lever_cost),
            "timing": np.array(self.timing),
        }

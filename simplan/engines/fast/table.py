"""The fast engine's table of leads (growable numpy columns, one row per lead of a batch)
and the tiled team (a batch's copies of the team side by side), with the states a lead waits in."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from simplan.model.records import ON_TIME, OPEN
from simplan.model.team import Team

# What a lead waits for: a touch of its owner (of a kind), a customer (until `due`), or nothing.
TOUCH, CUSTOMER, DONE = 0, 1, 2
# Touch kinds: first contact, proposal, proposal follow-up after an alert, negotiation, signature.
CONTACT, PROPOSAL, FOLLOW_UP, NEGOTIATION, SIGN = range(5)
# What happens when the customer's wait ends.
CONTACTED, ALERT, ANSWERED, NEGOTIATED, SIGNS = range(5)


class LeadTable:
    """Every lead of the batch as growable numpy columns, indexed by lead id."""

    FLOAT = ("time", "p", "size", "u_win", "u_route", "u_timing", "value", "expected",
             "response_h", "close_time", "amount", "lever_cost", "requested", "due", "answer",
             "p_won", "cycle")  # fmt: skip
    INT = ("owner", "first_owner", "rank")
    """Columns of rep or lead numbers (int64, as the compiled loops index with them)."""
    SMALL = {"replication": np.int32, "tier": np.int8, "source": np.int8, "stage": np.int8,
             "outcome": np.int8, "alerts": np.int16, "relays": np.int16, "timing": np.int8,
             "mode": np.int8, "kind": np.int8, "then": np.int8, "fate": np.int8}  # fmt: skip
    """Codes and counts, narrow: a batch holds millions of leads (the records widen them)."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.cols: dict[str, np.ndarray] = {k: np.zeros(capacity) for k in self.FLOAT}
        self.cols |= {k: np.zeros(capacity, dtype=np.int64) for k in self.INT}
        self.cols |= {k: np.zeros(capacity, dtype=t) for k, t in self.SMALL.items()}
        self.cols["delay"] = np.zeros((capacity, 3))
        self.cols["mentored"] = np.zeros(capacity, dtype=bool)
        # Columns as plain attributes: each is read thousands of times a day.
        self.__dict__.update(self.cols)

    def add(self, **columns: np.ndarray) -> np.ndarray:
        """Append leads (missing columns start at their empty value); returns their ids."""
        k = len(columns["time"])
        if self.n + k > len(self.cols["time"]):
            size = max(2 * len(self.cols["time"]), self.n + k)
            for name, col in self.cols.items():
                grown = np.zeros((size, *col.shape[1:]), dtype=col.dtype)
                grown[: self.n] = col[: self.n]
                self.cols[name] = grown
            self.__dict__.update(self.cols)
        ids = slice(self.n, self.n + k)  # written as a slice: a copy, not a scatter
        c = self.cols
        for name in ("owner", "first_owner", "stage"):
            c[name][ids] = -1
        c["outcome"][ids], c["timing"][ids], c["mode"][ids] = OPEN, ON_TIME, DONE
        c["response_h"][ids] = c["close_time"][ids] = np.nan
        for name, values in columns.items():
            c[name][ids] = values
        self.n += k
        return np.arange(ids.start, ids.stop)


def tiled(team: Team, copies: int) -> Team:
    """`copies` independent copies of the team as one: copy r's rep i is rep i + r n, and
    mentors point inside their own copy."""
    n = team.size
    shift = np.repeat(np.arange(copies) * n, n)
    mentor = np.tile(team.mentor, copies)
    return replace(
        team,
        rep_id=np.tile(team.rep_id, copies),
        tenure_days=np.tile(team.tenure_days, copies),
        capacity=np.tile(team.capacity, copies),
        skill=np.tile(team.skill, copies),
        squad=np.tile(team.squad, copies),
        mentor=np.where(mentor >= 0, mentor + shift, -1),
        quota=np.tile(team.quota, copies),
        deal_size_multiplier=np.tile(team.deal_size_multiplier, copies),
        lead_share=None if team.lead_share is None else np.tile(team.lead_share, copies),
    )

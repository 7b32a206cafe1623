"""The fast engine's table of leads (growable numpy columns, one row per lead of a batch)
and the tiled team (a batch's copies of the team side by side), with the states a lead waits in."""

from __future__ import annotations

from dataclasses import replace

import numba
import numpy as np

from simplan.model.records import ON_TIME, OPEN
from simplan.model.team import Team

# What a lead waits for: a touch of its owner (of a kind), a customer (until `due`), or nothing.
TOUCH, CUSTOMER, DONE = 0, 1, 2
# Touch kinds: first contact, proposal, proposal follow-up after an alert, negotiation, signature.
CONTACT, PROPOSAL, FOLLOW_UP, NEGOTIATION, SIGN = range(5)
# What happens when the customer's wait ends.
CONTACTED, ALERT, ANSWERED, NEGOTIATED, SIGNS = range(5)


FLOATS = ("time", "p", "size", "u_win", "u_route", "u_timing", "value", "expected",
          "response_h", "close_time", "amount", "lever_cost", "requested", "answer", "p_won",
          "cycle")  # fmt: skip
"""The leads' float columns, in the order of their places in `LeadTable.floats`."""
(TIME, P, SIZE, U_WIN, U_ROUTE, U_TIMING, VALUE, EXPECTED, RESPONSE_H, CLOSE_TIME, AMOUNT,
 LEVER_COST, REQUESTED, ANSWER, P_WON, CYCLE) = range(len(FLOATS))  # fmt: skip
INTS = ("owner", "first_owner", "rank")
"""Columns of rep or lead numbers (int64, as the compiled loops index with them)."""
OWNER, FIRST_OWNER, RANK = range(len(INTS))
CODES = ("tier", "source", "stage", "outcome", "timing", "mode", "kind", "then", "fate")
"""Codes, int8: a batch holds millions of leads (the records widen them)."""
TIER, SOURCE, STAGE, OUTCOME, TIMING, MODE, KIND, THEN, FATE = range(len(CODES))
COUNTS = ("alerts", "relays")
"""Counts, int16."""
ALERTS, RELAYS = range(len(COUNTS))


class LeadTable:
    """Every lead of the batch, indexed by lead id: a block of columns per type (`floats`,
    `ints`, `codes`, `counts`: one column per name of FLOATS, INTS, CODES, COUNTS, each
    contiguous), `replication`, `delay` (three per lead) and `mentored`. Each column is also
    a plain attribute (a view of its block): the day loop reads them thousands of times a
    day, and the compiled passes take the blocks whole."""

    BLOCKS = ((FLOATS, "floats", np.float64), (INTS, "ints", np.int64),
              (CODES, "codes", np.int8), (COUNTS, "counts", np.int16))  # fmt: skip

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        """Blocks with room for `capacity` leads, the first `n` kept."""
        old = {name: getattr(self, name) for name in self._names()} if self.n else {}
        for names, block, dtype in self.BLOCKS:
            # Row-major: a lead's columns side by side, as the compiled passes read them.
            setattr(self, block, np.zeros((capacity, len(names)), dtype=dtype))
        self.replication = np.zeros(capacity, dtype=np.int32)
        self.delay = np.zeros((capacity, 3))
        self.mentored = np.zeros(capacity, dtype=bool)
        for names, block, _ in self.BLOCKS:
            for k, name in enumerate(names):
                setattr(self, name, getattr(self, block)[:, k])
        for name, column in old.items():
            getattr(self, name)[: self.n] = column[: self.n]

    def _names(self) -> list[str]:
        return [*(name for names, _, _ in self.BLOCKS for name in names),
                "replication", "delay", "mentored"]  # fmt: skip

    def room(self, k: int) -> None:
        """Make room for `k` more leads."""
        if self.n + k > len(self.replication):
            self._allocate(max(2 * len(self.replication), self.n + k))

    def add(
        self,
        replication: np.ndarray,
        time: np.ndarray,
        tier: np.ndarray,
        source: np.ndarray,
        p: np.ndarray,
        size: np.ndarray,
        u_win: np.ndarray,
        u_route: np.ndarray,
        u_timing: np.ndarray,
        delay: np.ndarray,
    ) -> np.ndarray:
        """Append drawn leads (the other columns at their empty values); returns their ids."""
        k = len(time)
        self.room(k)
        new_rows(
            self.n, self.floats, self.ints, self.codes, self.replication, self.delay,
            replication, time, tier, source, p, size, u_win, u_route, u_timing, delay,
        )  # fmt: skip
        self.n += k
        return np.arange(self.n - k, self.n)


@numba.njit(cache=True, inline="always")
def new_row(i: int, floats: np.ndarray, ints: np.ndarray, codes: np.ndarray) -> None:
    """Lead row `i` as it arrives, before its drawn columns: no owner or stage yet, open, on
    time, waiting for nothing, no response or close time (in place)."""
    ints[i, OWNER] = ints[i, FIRST_OWNER] = -1
    codes[i, STAGE] = -1
    codes[i, OUTCOME], codes[i, TIMING], codes[i, MODE] = OPEN, ON_TIME, DONE
    floats[i, RESPONSE_H] = floats[i, CLOSE_TIME] = np.nan


@numba.njit(cache=True, inline="always")
def request_touch(i, kind, at, floats, codes, pending, place):  # fmt: skip
    """Lead `i` asks its owner for a touch of `kind` from `at`: it waits in `pending` at
    `place` (joining the queues at the next pass). Returns the next place."""
    codes[i, MODE], codes[i, KIND], floats[i, REQUESTED] = TOUCH, kind, at
    pending[place] = i
    return place + 1


@numba.njit(cache=True)
def new_rows(start, floats, ints, codes, rep_column, delays, replication, time, tier, source, p,
             size, u_win, u_route, u_timing, delay):  # fmt: skip
    """Write drawn leads into the blocks from row `start` on, row by row (each row's cache
    lines once, where column by column would pass over them a dozen times): their drawn
    columns, no owner or stage yet, open, on time, waiting for nothing, no response or
    close time (in place)."""
    for k in range(len(time)):
        i = start + k
        new_row(i, floats, ints, codes)
        codes[i, TIER], codes[i, SOURCE] = tier[k], source[k]
        floats[i, TIME], floats[i, P], floats[i, SIZE] = time[k], p[k], size[k]
        floats[i, U_WIN], floats[i, U_ROUTE], floats[i, U_TIMING] = (
            u_win[k],
            u_route[k],
            u_timing[k],
        )
        rep_column[i] = replication[k]
        for d in range(3):
            delays[i, d] = delay[k, d]


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

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


CACHE_LINE = 64
"""Bytes (numpy's large arrays start 16 bytes past a page: a row would span a line more)."""
ROW_BYTES = 192
"""A lead's row: three cache lines, the columns a wait, a request and a touch read in the
first (a pass over scattered leads pays for the lines it touches, not the bytes)."""
COLUMNS = {
    # line 0: every wait, request and touch
    "requested": ("f8", 0), "cycle": ("f8", 8), "answer": ("f8", 16), "delay": ("f8", 24),
    "owner": ("i4", 48), "rank": ("i4", 52), "mode": ("i1", 56), "kind": ("i1", 57),
    "then": ("i1", 58), "fate": ("i1", 59), "stage": ("i1", 60), "tier": ("i1", 61),
    "alerts": ("i2", 62),
    # line 1: the first response and the closes
    "value": ("f8", 64), "expected": ("f8", 72), "p_won": ("f8", 80), "u_win": ("f8", 88),
    "p": ("f8", 96), "time": ("f8", 104), "response_h": ("f8", 112), "close_time": ("f8", 120),
    # line 2: drawn or written once
    "amount": ("f8", 128), "lever_cost": ("f8", 136), "size": ("f8", 144),
    "u_route": ("f8", 152), "u_timing": ("f8", 160), "first_owner": ("i4", 168),
    "replication": ("i4", 172), "source": ("i1", 176), "outcome": ("i1", 177),
    "timing": ("i1", 178), "mentored": ("?", 179), "relays": ("i2", 180),
}  # fmt: skip
"""Each column's type and byte offset in a lead's row; `delay` is three floats (the
customer's delays after contact, proposal and negotiation)."""
BLOCKS = {"f8": "floats", "i4": "ints", "i1": "codes", "i2": "counts", "?": "flags"}
"""The row viewed as one type: a column's place in its view is its offset over its size."""


def _place(name: str) -> int:
    """A column's place in the view of its type."""
    dtype, offset = COLUMNS[name]
    return offset // np.dtype(dtype).itemsize


# Places in `LeadTable.floats` (float64), `ints` (int32: rep and lead numbers), `codes`
# (int8: a batch holds millions of leads, the records widen them) and `counts` (int16).
TIME, P, SIZE, U_WIN, U_ROUTE, U_TIMING = map(_place, ("time", "p", "size", "u_win", "u_route",
                                                      "u_timing"))  # fmt: skip
VALUE, EXPECTED, RESPONSE_H, CLOSE_TIME, AMOUNT, LEVER_COST = map(
    _place, ("value", "expected", "response_h", "close_time", "amount", "lever_cost")
)
REQUESTED, ANSWER, P_WON, CYCLE, DELAY = map(_place, ("requested", "answer", "p_won", "cycle",
                                                     "delay"))  # fmt: skip
OWNER, FIRST_OWNER, RANK, REPLICATION = map(_place, ("owner", "first_owner", "rank",
                                                    "replication"))  # fmt: skip
TIER, SOURCE, STAGE, OUTCOME, TIMING, MODE, KIND, THEN, FATE = map(
    _place, ("tier", "source", "stage", "outcome", "timing", "mode", "kind", "then", "fate")
)
ALERTS, RELAYS = _place("alerts"), _place("relays")
MENTORED = _place("mentored")


class LeadTable:
    """Every lead of the batch, indexed by lead id: one row of ROW_BYTES a lead, starting on
    a cache line, seen as `floats`, `ints`, `codes`, `counts` and `flags` (each column at its
    place in the view of its type, COLUMNS), as the compiled passes take them. Each column is
    also a plain attribute (a view: `delay` three wide), which the day loop reads."""

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        """Rows for `capacity` leads, the first `n` kept."""
        old = self.rows[: self.n] if self.n else None
        raw = np.zeros(capacity * ROW_BYTES + CACHE_LINE, dtype=np.uint8)
        skip = -raw.ctypes.data % CACHE_LINE
        self.rows = raw[skip : skip + capacity * ROW_BYTES].reshape(capacity, ROW_BYTES)
        for dtype, block in BLOCKS.items():
            setattr(self, block, self.rows.view(dtype))
        for name, (dtype, _) in COLUMNS.items():
            setattr(self, name, getattr(self, BLOCKS[dtype])[:, _place(name)])
        self.delay = self.floats[:, DELAY : DELAY + 3]
        if old is not None:
            self.rows[: self.n] = old

    def room(self, k: int) -> None:
        """Make room for `k` more leads."""
        if self.n + k > len(self.rows):
            self._allocate(max(2 * len(self.rows), self.n + k))

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
            self.n, self.floats, self.ints, self.codes, replication, time, tier, source, p,
            size, u_win, u_route, u_timing, delay,
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
def new_rows(start, floats, ints, codes, replication, time, tier, source, p, size, u_win,
             u_route, u_timing, delay):  # fmt: skip
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
        ints[i, REPLICATION] = replication[k]
        for d in range(3):
            floats[i, DELAY + d] = delay[k, d]


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
        targets={label: np.tile(given, copies) for label, given in team.targets.items()},
    )

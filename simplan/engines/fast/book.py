"""What the fast engine keeps as leads move: who waits for a customer, each rep's pipeline
and expected pipeline, and the bookings and credits of closed deals; the compiled steps a
pass takes on them (wait, request a touch, close a deal), each for a pass's leads at once.

A compiled pass gathers what it does lead by lead in order and applies it once at its end
(`wait_all`, `request_all`, `close_all`): a helper taking the lead table's arrays for each
lead pays numba's reference counting on every call (about 100 ns, 15x the work itself)."""

from __future__ import annotations

import hashlib
import pickle

import numba
import numpy as np

from simplan.engines.fast.serving import Queues, join_pending
from simplan.engines.fast.table import (
    AMOUNT,
    CLOSE_TIME,
    CUSTOMER,
    DONE,
    EXPECTED,
    FIRST_OWNER,
    LEVER_COST,
    MODE,
    OUTCOME,
    OWNER,
    SOURCE,
    THEN,
    VALUE,
    request_touch,
)
from simplan.model.records import WON
from simplan.model.routing import Assignment, RoutingParams, credit_shares
from simplan.model.team import Team


class Waits:
    """Customers waiting: their leads and when each wait ends, side by side in buffers (so
    picking out those due reads two arrays in order rather than the leads' column at random).
    `fill` holds how many (an array, so the compiled passes append in place)."""

    def __init__(self, room: int = 1024) -> None:
        """Room for `room` customers from the start: fresh zeros cost only the pages written,
        where growing them copies every page (a batch's buffers doubled ten times)."""
        self.ids, self.due = np.zeros(room, dtype=np.int64), np.zeros(room)
        self.fill = np.zeros(1, dtype=np.int64)

    def room(self, k: int) -> None:
        """Make room for `k` customers in all (each lead waits at most once)."""
        if k > len(self.ids):
            n = int(self.fill[0])
            size = max(2 * len(self.ids), k)
            self.ids = np.concatenate([self.ids[:n], np.zeros(size - n, dtype=np.int64)])
            self.due = np.concatenate([self.due[:n], np.zeros(size - n)])

    def add(self, ids: np.ndarray, due: np.ndarray) -> None:
        """Customers whose waits end at `due`."""
        n = int(self.fill[0])
        self.room(n + len(ids))
        self.ids[n : n + len(ids)], self.due[n : n + len(ids)] = ids, due
        self.fill[0] = n + len(ids)

    def before(self, until: float) -> tuple[np.ndarray, np.ndarray]:
        """Take out the customers whose wait ends before `until` (leads, ends), in order."""
        ids, due, self.fill[0] = take_due(self.ids, self.due, int(self.fill[0]), until)
        return ids, due


LEARN_ALL_UP_TO = 64
"""A team of at most this many reps has every split worked out at once (the 50-rep quarter's
5,000 in 18 ms, once a worker), where learning them as closes meet them took gate80's
batches of 48 about 10 ms each, and a compiled pass's return to Python each time; a larger
team's are learned as met (a 200-rep team's 80,000 would take 0.3 s, and few occur)."""


class Splits:
    """The split credits (`credit_shares`) of each (closer, first owner, mentor pool) within a
    copy of the team, worked out once and kept where the compiled closes read them."""

    def __init__(self, team: Team, routing: RoutingParams) -> None:
        self.team, self.routing, self.n = team, routing, team.size
        # span[key] = (first, last + 1) of the key's shares in rep/share; -1 while unknown.
        self.span = np.full((team.size * team.size * 2, 2), -1, dtype=np.int64)
        self.rep, self.share, self.known = np.zeros(64, dtype=np.int64), np.zeros(64), 0
        if team.size <= LEARN_ALL_UP_TO:
            for closer in range(team.size):
                for first in range(team.size):
                    self.learn(closer, first, False)
                    self.learn(closer, first, True)

    def learn(self, closer: int, first: int, mentored: bool) -> None:
        """Work out the split of a deal closed by `closer` (reps of copy 0 of the team)."""
        key = split_key(closer, first, mentored, self.n)
        shares = credit_shares(
            closer, first, Assignment(first, mentor_pool=mentored), self.team, self.routing
        )
        if self.known + len(shares) > len(self.rep):
            self.rep = np.concatenate([self.rep, np.zeros(len(self.rep), dtype=np.int64)])
            self.share = np.concatenate([self.share, np.zeros(len(self.share))])
        for rep, share in shares.items():
            self.rep[self.known], self.share[self.known] = rep, share
            self.known += 1
        self.span[key] = self.known - len(shares), self.known


_SPLITS: dict[bytes, Splits] = {}
"""Splits by (team, routing): every batch of a run (and every plan tried on a team) closes
deals between the same reps, so a worker works each split out once."""
SPLITS_KEPT = 16


def team_splits(team: Team, routing: RoutingParams) -> Splits:
    """The kept `Splits` of this team under these routing parameters (new if none is kept)."""
    key = hashlib.sha256(pickle.dumps((team, routing))).digest()
    if key not in _SPLITS:
        while len(_SPLITS) >= SPLITS_KEPT:
            del _SPLITS[next(iter(_SPLITS))]
        _SPLITS[key] = Splits(team, routing)
    return _SPLITS[key]


class Credits:
    """Won deals' credit rows (lead, rep, share, amount, close day) in a growable buffer, and
    the team's `Splits` they are shared out by."""

    def __init__(self, splits: Splits) -> None:
        self.rows, self.fill = np.zeros((1024, 5)), np.zeros(1, dtype=np.int64)
        self.splits = splits

    def room(self, k: int) -> None:
        """Make room for `k` more rows."""
        n = int(self.fill[0])
        if n + k > len(self.rows):
            rows = np.zeros((max(2 * len(self.rows), n + k), 5))
            rows[:n] = self.rows[:n]
            self.rows = rows

    def tables(self) -> tuple:
        """What the compiled closes take: rows, fill, spans, reps, shares."""
        splits = self.splits
        return self.rows, self.fill, splits.span, splits.rep, splits.share


class Bookkeeping:
    """The waiting lists and books of `FastEngine`."""

    @property
    def credit_rows(self) -> np.ndarray:
        """The credit rows so far, one a row: (lead, rep, share, amount, close day)."""
        return self.credits.rows[: int(self.credits.fill[0])]

    @credit_rows.setter
    def credit_rows(self, rows: list[tuple[int, int, float, float, float]]) -> None:
        """Start the credits from `rows` (the engine starts them empty)."""
        self.credits = Credits(team_splits(self.router.team, self.scenario.routing))
        self.credits.room(len(rows))
        self.credits.rows[: len(rows)] = np.array(rows, dtype=float).reshape(-1, 5)
        self.credits.fill[0] = len(rows)

    def _touches(self) -> Queues:
        """The touches waiting for their owner, the requests made since last asked included
        (joined compiled, as a pass joins them; in Python when a row must grow first)."""
        queues, L = self.queues, self.leads
        rows = queues.lead, queues.requested, queues.start, queues.count
        if queues.fill[0] and not join_pending(
            queues.pending, queues.fill, L.requested, L.owner, *rows
        ):
            ids = queues.pending[: int(queues.fill[0])].copy()
            queues.fill[0] = 0
            queues.join(ids, L.requested[ids], L.owner[ids])
        return queues

    def _start_answers(self, day: int) -> None:
        """Start a day: move the customers who answer on `day` among those who may answer
        today, and ask whether deals decided today may be timed (held or pulled: only near a
        period's end), so the passes of a day far from it never ask the owners."""
        self.today = day
        self.due_today.add(*self.due_later.before(day + 1.0))
        self.may_push, self.may_pull = self.pushable[day], self.pullable[day]

    def _lists(self) -> tuple:
        """The buffers the compiled passes append to (waits today and later, requests), each
        with room for every lead (a lead waits or is requested at most once at a time)."""
        today, later, queues, n = self.due_today, self.due_later, self.queues, self.leads.n
        today.room(n)
        later.room(n)
        queues.room(n)
        return (today.ids, today.due, today.fill, later.ids, later.due, later.fill,
                queues.pending, queues.fill, self.today + 1.0)  # fmt: skip

    def _books(self) -> tuple:
        """The per-rep books the compiled passes move (pipelines, open leads, bookings)."""
        return (self.pipeline, self.standing.expected_pipeline, self.state.open_leads,
                self.won_count, self.bookings, self.standing.booked)  # fmt: skip

    def _close_won(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Close won deals whose split credits may not be known yet or whose rows may not fit:
        work those out, make room, then close them (compiled)."""
        L, credits, n = self.leads, self.credits, self.n
        credits.room(3 * len(ids))
        splits = credits.splits
        for closer, by, pool in unknown_splits(ids, L.ints, L.mentored, splits.span, n).tolist():
            if splits.span[split_key(closer, by, pool, n), 0] < 0:  # not learned just before
                splits.learn(closer, by, bool(pool))
        closed = close_won(ids, t, self._leads(), self._books(), credits.tables(), self.rules)
        assert closed, "every split known and room made"

    def _leads(self) -> tuple:
        """The lead table's blocks, as the compiled passes take them."""
        L = self.leads
        return L.floats, L.ints, L.codes, L.counts, L.delay, L.mentored


@numba.njit(cache=True)
def unknown_splits(ids: np.ndarray, ints: np.ndarray, mentored: np.ndarray, span: np.ndarray,
                   team_size: int) -> np.ndarray:  # fmt: skip
    """The split deals among leads `ids` whose shares are not known yet, in order, as rows of
    (closer, first owner, mentor pool) within their copy of the team (repeats kept)."""
    out = np.empty((len(ids), 3), dtype=np.int64)
    k = 0
    for i in ids:
        closer, first, pool = ints[i, OWNER], ints[i, FIRST_OWNER], mentored[i]
        if (closer != first or pool) and span[split_key(closer, first, pool, team_size), 0] < 0:
            base = closer - closer % team_size
            out[k, 0], out[k, 1], out[k, 2] = closer - base, first - base, pool
            k += 1
    return out[:k]


@numba.njit(cache=True)
def split_key(closer: int, first: int, mentored: bool, team_size: int) -> int:
    """Where a split deal's shares are kept: its closer and first owner within their copy of
    the team (the copies are alike), and whether it came from the mentor pool."""
    base = closer - closer % team_size
    return ((closer - base) * team_size + first - base) * 2 + int(mentored)


@numba.njit(cache=True)
def moves(n: int) -> tuple:
    """Room for a pass's `n` leads' waits (lead, until, then) and requests (lead, kind, at)."""
    return (np.empty(n, dtype=np.int64), np.empty(n), np.empty(n, dtype=np.int64),
            np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n))  # fmt: skip


@numba.njit(cache=True)
def wait_all(ids: np.ndarray, until: np.ndarray, then: np.ndarray, k: int, codes, lists):
    """Leads ids[:k] wait for their customers until `until`, then `then` happens: each
    appended to today's waits (ending before tomorrow) or the later ones."""
    today_ids, today_due, today_fill, later_ids, later_due, later_fill, _, _, tomorrow = lists
    a, b = today_fill[0], later_fill[0]
    for j in range(k):
        i = ids[j]
        codes[i, MODE], codes[i, THEN] = CUSTOMER, then[j]
        if until[j] < tomorrow:
            today_ids[a], today_due[a] = i, until[j]
            a += 1
        else:
            later_ids[b], later_due[b] = i, until[j]
            b += 1
    today_fill[0], later_fill[0] = a, b


@numba.njit(cache=True)
def request_all(ids: np.ndarray, kind: np.ndarray, at: np.ndarray, k: int, floats, codes, lists):
    """Leads ids[:k] ask their owners for a touch of `kind` from `at` (joining the queues at
    the next pass)."""
    pending, fill = lists[6], lists[7]
    n = fill[0]
    for j in range(k):
        n = request_touch(ids[j], kind[j], at[j], floats, codes, pending, n)
    fill[0] = n


@numba.njit(cache=True)
def close_all(ids: np.ndarray, t: np.ndarray, k: int, outcome: int, leads: tuple, books: tuple):
    """Close leads ids[:k] at `t`, in order: out of their owners' pipelines, expected
    pipelines and open leads."""
    floats, ints, codes = leads[0], leads[1], leads[2]
    pipeline, expected_pipeline, open_leads = books[0], books[1], books[2]
    for j in range(k):
        i = ids[j]
        codes[i, OUTCOME], floats[i, CLOSE_TIME], codes[i, MODE] = outcome, t[j], DONE
        o = ints[i, OWNER]
        pipeline[o] -= floats[i, VALUE]
        expected_pipeline[o] += 0.0 - floats[i, EXPECTED]
        floats[i, EXPECTED] = 0.0
        open_leads[o] -= 1.0


@numba.njit(cache=True)
def close_won(ids: np.ndarray, t: np.ndarray, leads: tuple, books: tuple, credits: tuple, rules):
    """Close won deals (lead ids[k] at t[k]) and book them: each counted for its owner on its
    close day; one its first owner closed alone booked in full to that owner, then the split
    ones shared out (`Credits`), each with its credit rows. Returns False, having closed
    none, when a split's shares are not known yet or the rows do not fit (see `_close_won`)."""
    floats, ints, codes, mentored = leads[0], leads[1], leads[2], leads[5]
    won_count, bookings, booked = books[3], books[4], books[5]
    rows, fill, span, share_rep, share = credits
    n, referral, reward = rules.team_size, rules.referral, rules.referral_reward
    for k in range(len(ids)):
        i = ids[k]
        o, first = ints[i, OWNER], ints[i, FIRST_OWNER]
        if (o != first or mentored[i]) and span[split_key(o, first, mentored[i], n), 0] < 0:
            return False
    if fill[0] + 3 * len(ids) > len(rows):
        return False
    close_all(ids, t, len(ids), WON, leads, books)
    r = fill[0]
    for k in range(len(ids)):
        i, day = ids[k], int(t[k])
        amount = floats[i, AMOUNT] = floats[i, VALUE]
        if codes[i, SOURCE] == referral:
            floats[i, LEVER_COST] += reward
        o = ints[i, OWNER]
        won_count[day, o] += 1
        if o == ints[i, FIRST_OWNER] and not mentored[i]:
            bookings[day, o] += amount
            booked[o] += amount
            rows[r, 0], rows[r, 1], rows[r, 2], rows[r, 3], rows[r, 4] = i, o, 1.0, amount, t[k]
            r += 1
    for k in range(len(ids)):  # the split deals after every deal closed alone
        i, day = ids[k], int(t[k])
        o, first = ints[i, OWNER], ints[i, FIRST_OWNER]
        if o == first and not mentored[i]:
            continue
        base = o - o % n
        key = split_key(o, first, mentored[i], n)
        for s in range(span[key, 0], span[key, 1]):
            rep, credit = share_rep[s] + base, floats[i, AMOUNT] * share[s]
            bookings[day, rep] += credit
            booked[rep] += credit
            rows[r, 0], rows[r, 1], rows[r, 2], rows[r, 3], rows[r, 4] = (
                i,
                rep,
                share[s],
                credit,
                t[k],
            )
            r += 1
    fill[0] = r
    return True


@numba.njit(cache=True)
def take_due(
    ids: np.ndarray, due: np.ndarray, n: int, until: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Of the first `n` waiting customers (`ids`, `due`), those whose wait ends before
    `until`, in order; the others are kept in order at the front. Returns the taken leads,
    their ends and how many are kept (one pass over the waits)."""
    out_ids, out_due = np.empty(n, dtype=np.int64), np.empty(n)
    t = kept = 0
    for k in range(n):
        if due[k] < until:
            out_ids[t], out_due[t] = ids[k], due[k]
            t += 1
        else:
            ids[kept], due[kept] = ids[k], due[k]
            kept += 1
    return out_ids[:t], out_due[:t], kept

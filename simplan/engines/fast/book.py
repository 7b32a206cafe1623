"""What the fast engine keeps as leads move: who waits for a touch or for a customer, each
rep's pipeline and expected pipeline, and the bookings and credits of closed deals."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.serving import Queues
from simplan.engines.fast.table import CUSTOMER, DONE, TOUCH
from simplan.model.records import LOST
from simplan.model.routing import Assignment, credit_shares


class Waits:
    """Customers waiting: their leads and when each wait ends, side by side in buffers (so
    picking out those due reads two arrays in order rather than the leads' column at random)."""

    def __init__(self) -> None:
        self.ids, self.due, self.n = np.zeros(1024, dtype=np.int64), np.zeros(1024), 0

    def room(self, k: int) -> None:
        """Make room for `k` more customers."""
        if self.n + k > len(self.ids):
            size = max(2 * len(self.ids), self.n + k)
            self.ids = np.concatenate([self.ids[: self.n], np.zeros(size - self.n, dtype=np.int64)])
            self.due = np.concatenate([self.due[: self.n], np.zeros(size - self.n)])

    def add(self, ids: np.ndarray, due: np.ndarray) -> None:
        """Customers whose waits end at `due`."""
        self.room(len(ids))
        self.ids[self.n : self.n + len(ids)], self.due[self.n : self.n + len(ids)] = ids, due
        self.n += len(ids)

    def before(self, until: float) -> tuple[np.ndarray, np.ndarray]:
        """Take out the customers whose wait ends before `until` (leads, ends), in order."""
        ids, due, self.n = take_due(self.ids, self.due, self.n, until)
        return ids, due


class Bookkeeping:
    """The waiting lists and books of `FastEngine`."""

    def _touches(self) -> Queues:
        """The touches waiting for their owner, the requests made since last asked included."""
        if self.requests:
            ids = np.concatenate(self.requests)
            self.requests = []
            self.queues.join(ids, self.leads.requested[ids], self.leads.owner[ids])
        return self.queues

    def _start_answers(self, day: int) -> None:
        """Move the customers who answer on `day` among those who may answer today."""
        self.today = day
        self.due_today.add(*self.due_later.before(day + 1.0))

    def _request(self, ids: np.ndarray, kind: int, at: np.ndarray) -> None:
        L = self.leads
        L.mode[ids], L.kind[ids], L.requested[ids] = TOUCH, kind, at
        self.requests.append(ids)

    def _wait(self, ids: np.ndarray, until: np.ndarray, then: int) -> None:
        L, today, later = self.leads, self.due_today, self.due_later
        today.room(len(ids))
        later.room(len(ids))
        today.n, later.n = wait_for(
            ids, until, then, L.mode, L.due, L.then, self.today + 1.0,
            today.ids, today.due, today.n, later.ids, later.due, later.n,
        )  # fmt: skip

    def _expect(self, ids: np.ndarray, expected: np.ndarray) -> None:
        """Set the leads' expected values in their owners' pipelines (what reps project from)."""
        L = self.leads
        expect(ids, expected, L.owner, L.expected, self.standing.expected_pipeline)

    def _close(self, ids: np.ndarray, t: np.ndarray, outcome: int) -> None:
        if not len(ids):
            return
        L = self.leads
        L.outcome[ids], L.close_time[ids], L.mode[ids] = outcome, t, DONE
        close_books(
            ids, L.owner, L.value, L.expected, self.pipeline, self.standing.expected_pipeline,
            self.state.open_leads,
        )  # fmt: skip
        if outcome == LOST:
            return
        L.amount[ids] = L.value[ids]
        if "referral" in self.source_names:
            referral = L.source[ids] == self.source_names.index("referral")
            reward = self.scenario.calendar.levers.referral_contest.reward_per_referral
            L.lever_cost[ids[referral]] += reward
        day = t.astype(np.int64)
        # A deal its first owner closed alone credits that owner in full; others split.
        alone = book_won(
            ids, day, L.owner, L.first_owner, L.mentored, L.amount, self.won_count,
            self.bookings, self.standing.booked,
        )  # fmt: skip
        owner = L.owner[ids]
        self.credit_rows.extend(
            zip(ids[alone].tolist(), owner[alone].tolist(), [1.0] * int(alone.sum()),
                L.amount[ids[alone]].tolist(), t[alone].tolist(), strict=True)
        )  # fmt: skip
        split = ~alone
        ids, t, day = ids[split], t[split], day[split]
        for i, now, d in zip(ids.tolist(), t.tolist(), day.tolist(), strict=True):
            amount = float(L.amount[i])
            for rep, share in self._shares(
                int(L.owner[i]), int(L.first_owner[i]), bool(L.mentored[i])
            ):
                self.bookings[d, rep] += amount * share
                self.standing.book(rep, amount * share)
                self.credit_rows.append((i, rep, share, amount * share, now))

    def _shares(self, closer: int, first: int, mentored: bool) -> list[tuple[int, float]]:
        """`credit_shares` of a deal on the tiled team: the team's own split (the copies are
        alike), worked out once per closer, first owner and mentor pool within a copy."""
        n = self.n
        base = closer - closer % n
        key = (closer - base, first - base, mentored)
        if key not in self.split_credits:
            shares = credit_shares(
                key[0], key[1], Assignment(key[1], mentor_pool=mentored), self.router.team,
                self.scenario.routing,
            )  # fmt: skip
            self.split_credits[key] = list(shares.items())
        return [(rep + base, share) for rep, share in self.split_credits[key]]


@numba.njit(cache=True)
def expect(
    ids: np.ndarray,
    expected: np.ndarray,
    owner: np.ndarray,
    lead_expected: np.ndarray,
    expected_pipeline: np.ndarray,
) -> None:
    """Set the leads' `expected` values (the leads' column `lead_expected`) and move each
    owner's `expected_pipeline` by the change, lead by lead (in place)."""
    for k in range(len(ids)):
        i = ids[k]
        expected_pipeline[owner[i]] += expected[k] - lead_expected[i]
        lead_expected[i] = expected[k]


@numba.njit(cache=True)
def close_books(
    ids: np.ndarray,
    owner: np.ndarray,
    value: np.ndarray,
    lead_expected: np.ndarray,
    pipeline: np.ndarray,
    expected_pipeline: np.ndarray,
    open_leads: np.ndarray,
) -> None:
    """Take closed leads out of their owners' pipelines, expected pipelines and open leads
    (in place; the leads' expected values set to 0)."""
    for k in range(len(ids)):
        i = ids[k]
        o = owner[i]
        pipeline[o] -= value[i]
        expected_pipeline[o] += 0.0 - lead_expected[i]
        lead_expected[i] = 0.0
        open_leads[o] -= 1.0


@numba.njit(cache=True)
def book_won(
    ids: np.ndarray,
    day: np.ndarray,
    owner: np.ndarray,
    first_owner: np.ndarray,
    mentored: np.ndarray,
    amount: np.ndarray,
    won_count: np.ndarray,
    bookings: np.ndarray,
    booked: np.ndarray,
) -> np.ndarray:
    """Count won leads on their close `day` for their owners; book those their first owner
    closed alone (not mentored) in full to that owner's day and period (in place). Returns
    which were closed alone (the others' credit is split)."""
    alone = np.empty(len(ids), dtype=np.bool_)
    for k in range(len(ids)):
        i = ids[k]
        o = owner[i]
        won_count[day[k], o] += 1
        alone[k] = o == first_owner[i] and not mentored[i]
        if alone[k]:
            bookings[day[k], o] += amount[i]
            booked[o] += amount[i]
    return alone


@numba.njit(cache=True)
def take_due(
    ids: np.ndarray, due: np.ndarray, n: int, until: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Of the first `n` waiting customers (`ids`, `due`), those whose wait ends before
    `until`, in order; the others are kept in order at the front. Returns the taken leads,
    their ends and how many are kept."""
    taken = 0
    for k in range(n):
        taken += due[k] < until
    out_ids, out_due = np.empty(taken, dtype=np.int64), np.empty(taken)
    t = kept = 0
    for k in range(n):
        if due[k] < until:
            out_ids[t], out_due[t] = ids[k], due[k]
            t += 1
        else:
            ids[kept], due[kept] = ids[k], due[k]
            kept += 1
    return out_ids, out_due, kept


@numba.njit(cache=True)
def wait_for(
    ids: np.ndarray,
    until: np.ndarray,
    then: int,
    mode: np.ndarray,
    lead_due: np.ndarray,
    lead_then: np.ndarray,
    tomorrow: float,
    today_ids: np.ndarray,
    today_due: np.ndarray,
    today_n: int,
    later_ids: np.ndarray,
    later_due: np.ndarray,
    later_n: int,
) -> tuple[int, int]:
    """Leads wait for their customers until `until`, then `then` happens: their columns
    set (`mode`, `lead_due`, `lead_then`) and each appended to today's waits (ending before
    `tomorrow`) or the later ones (buffers with room). Returns both counts."""
    for k in range(len(ids)):
        i = ids[k]
        mode[i], lead_due[i], lead_then[i] = CUSTOMER, until[k], then
        if until[k] < tomorrow:
            today_ids[today_n], today_due[today_n] = i, until[k]
            today_n += 1
        else:
            later_ids[later_n], later_due[later_n] = i, until[k]
            later_n += 1
    return today_n, later_n

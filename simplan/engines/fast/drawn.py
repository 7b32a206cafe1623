"""A batch's plan-free draws, kept per worker: its routed leads, the reps' sourcing uniforms
and their self-sourced customers.

They depend on the scenario's leads, the calendar's days, the team's size, the self-sourced
shares and the replications' seeds, never on the plan or the reps' behaviour: every
candidate of a design (common random numbers), every point of a sweep and every plan a
budget tries on the same seed draws the same ones. So a worker keys them by a digest of
exactly those inputs and keeps a batch's draws from the second time it is asked for (a
long run asks for each batch once: keeping them would only hold memory), the last few
batches, bounded in bytes. A run copies the leads into its own table and reads the rest,
so the records are the same bits as when drawn afresh.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
from dataclasses import dataclass

import numpy as np

from simplan.engines.fast.sourcing import CustomerDraws
from simplan.model.calendar import Calendar, ReferralContestParams
from simplan.model.leads import (
    LeadsParams,
    arrival_times,
    customer_columns,
    draw_customers,
    lead_streams,
    source_names,
    tier_arrivals,
)
from simplan.model.randomness import stream

DRAWN_AS = {"tier": "tier", "source": "source", "p": "win_probability", "size": "base_size",
            "u_win": "u_win", "u_route": "u_route", "u_timing": "u_timing", "delay": "delay"}  # fmt: skip
"""The lead table's drawn columns and the model's names for them (`Leads`)."""

KEPT_BYTES = 256 * 2**20
"""At most this many bytes of draws kept by a worker (a 200-replication candidate of the
50-rep quarter is five batches of about 36 MB)."""


@dataclass(frozen=True)
class BatchDraws:
    """A batch's draws: the routed leads by arrival day, then replication, each
    replication's in its own order (`replication`, `time` and the DRAWN_AS columns, read
    only), each day's reps' sourcing uniforms (days, reps of the batch, tiers) and the
    self-sourced customers (shared: they grow as runs need more)."""

    source_names: tuple[str, ...]
    replication: np.ndarray
    time: np.ndarray
    columns: dict[str, np.ndarray]
    source_u: np.ndarray
    customers: CustomerDraws

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        arrays = (self.replication, self.time, self.source_u, *self.columns.values())
        return sum(a.nbytes for a in arrays) + self.customers.nbytes


_KEPT: dict[bytes, BatchDraws] = {}
_SEEN: dict[bytes, None] = {}
"""Keys asked for once (the last SEEN_KEPT): asked for again, their draws are kept."""
SEEN_KEPT = 4096
_LOCK = threading.Lock()


def batch_draws(
    leads: LeadsParams,
    referral: ReferralContestParams,
    calendar: Calendar,
    team_size: int,
    sourced_shares: np.ndarray,
    seqs: list[np.random.SeedSequence],
) -> BatchDraws:
    """The batch's draws for these inputs: the kept ones if kept, else drawn now (and kept if
    asked for before, the least recently used dropped past KEPT_BYTES)."""
    key = _key(leads, referral, calendar, team_size, sourced_shares, seqs)
    with _LOCK:
        if key in _KEPT:
            _KEPT[key] = _KEPT.pop(key)  # the most recently used last
            return _KEPT[key]
        again = key in _SEEN
        if not again:
            while len(_SEEN) >= SEEN_KEPT:
                del _SEEN[next(iter(_SEEN))]
            _SEEN[key] = None
    drawn = _draw(leads, referral, calendar, team_size, sourced_shares, seqs)
    if again and drawn.nbytes <= KEPT_BYTES:
        with _LOCK:
            while _KEPT and sum(d.nbytes for d in _KEPT.values()) + drawn.nbytes > KEPT_BYTES:
                del _KEPT[next(iter(_KEPT))]
            _KEPT[key] = drawn
    return drawn


def _draw(
    leads: LeadsParams,
    referral: ReferralContestParams,
    calendar: Calendar,
    team_size: int,
    sourced_shares: np.ndarray,
    seqs: list[np.random.SeedSequence],
) -> BatchDraws:
    """Draw the batch: each replication's leads from its own streams by purpose."""
    tiers = leads.tiers
    streams = lead_streams(leads, calendar, referral, 1.0 - sourced_shares)
    rngs = [functools.partial(stream, seq) for seq in seqs]
    times = [arrival_times(streams, rng_for) for rng_for in rngs]
    arrived = [np.concatenate(t) for t in times]
    orders = [np.argsort(t, kind="stable") for t in arrived]  # by time, as `draw_leads`
    ordered = [t[order] for t, order in zip(arrived, orders, strict=True)]
    # By arrival day, then replication, each replication's leads in their own (time) order:
    # replication r's leads of day t go to the batch's place of (t, r), in order (a day
    # after the last holds a lead whose day plus its uniform rounded up to the run's end).
    days = np.arange(calendar.days + 2)
    bounds = np.stack([np.searchsorted(t, days) for t in ordered])  # (replications, days)
    counts = np.diff(bounds, axis=1)
    starts = (np.cumsum(counts.T.ravel()) - counts.T.ravel()).reshape(-1, len(seqs))
    size = int(counts.sum())
    replication, time = np.empty(size, dtype=np.int32), np.empty(size)
    drawn = customer_columns(size)
    for r, rng_for in enumerate(rngs):  # each replication's customers straight to their places
        at = np.repeat(starts[:, r] - bounds[r, :-1], counts[r]) + np.arange(bounds[r, -1])
        replication[at], time[at] = r, ordered[r]
        place = np.empty_like(at)
        place[orders[r]] = at
        draw_customers(streams, tiers, rng_for, [len(t) for t in times[r]], place, drawn)
    columns = {column: drawn[name] for column, name in DRAWN_AS.items()}
    source_u = np.concatenate(
        [stream(seq, "sourcing").random((calendar.days, team_size, len(tiers))) for seq in seqs],
        axis=1,
    )
    expected = tier_arrivals(leads, calendar).sum(axis=0) * sourced_shares
    out = BatchDraws(
        source_names=source_names(streams),
        replication=replication,
        time=time,
        columns=columns,
        source_u=source_u,
        customers=CustomerDraws(list(tiers), seqs, expected),
    )
    for array in (out.replication, out.time, out.source_u, *columns.values()):
        array.flags.writeable = False
    return out


def _key(
    leads: LeadsParams,
    referral: ReferralContestParams,
    calendar: Calendar,
    team_size: int,
    sourced_shares: np.ndarray,
    seqs: list[np.random.SeedSequence],
) -> bytes:
    """A digest of everything the draws depend on."""
    h = hashlib.blake2b(digest_size=16)
    for params in (leads, referral):
        data = params.model_dump(mode="json", by_alias=True)
        h.update(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    for array in (calendar.arrival_multiplier, calendar.phase, calendar.is_working, sourced_shares):
        h.update(repr((array.dtype.str, array.shape)).encode())
        h.update(np.ascontiguousarray(array).tobytes())
    h.update(repr((calendar.days, team_size)).encode())
    h.update(repr([(seq.entropy, tuple(seq.spawn_key)) for seq in seqs]).encode())
    return h.digest()

"""The customers reps find themselves, drawn in advance: one stream per replication and tier.

How many leads a rep sources on a day depends on its effort (`simplan.model.production`),
so it is known only as the run goes; who those customers are (size, delays, uniforms) is
not, so each replication's tier draws them in chunks ahead and hands them out in order.
The i-th customer a replication sources in a tier is the same whatever the batch.
"""

from __future__ import annotations

import threading

import numba
import numpy as np

from simplan.model.leads import TierParams
from simplan.model.randomness import stream

COLUMNS = ("clock", "size", "u_win", "u_route", "u_timing", "delay")
"""What a customer carries, in this order (`delay`: its three stage delays); `clock` places
it in the working day (0..1)."""
WIDTH = 8
"""A customer's numbers: the five first columns, then the three delays."""


class CustomerDraws:
    """Each replication's self-sourced customers by tier, drawn a chunk at a time; plan-free,
    so every run of a batch on these seeds can share one (each taking them with its own
    `SourcedCustomers`)."""

    def __init__(
        self, tiers: list[TierParams], seqs: list[np.random.SeedSequence], expected: np.ndarray
    ) -> None:
        """`expected` is each tier's expected count per replication over the run at effort
        1: a chunk is a quarter more, so a run usually draws once."""
        self.tiers = tiers
        self.chunk = np.ceil(1.25 * expected).astype(np.int64) + 32
        self.rngs = [[stream(s, "sourcing", "customers", t.name) for t in tiers] for s in seqs]
        self.drawn = np.zeros(len(tiers), dtype=np.int64)
        """Customers drawn so far per tier (for every replication alike)."""
        self.pool = np.zeros((len(seqs), len(tiers), WIDTH, int(self.chunk.max())))
        """(replications, tiers, WIDTH, customers): every tier's drawn customers, side by side."""
        self.lock = threading.Lock()  # runs in threads sharing these draw chunks one at a time

    def cover(self, need: np.ndarray) -> np.ndarray:
        """Draw until every replication has at least `need` (replications, tiers) customers;
        returns the pool."""
        with self.lock:
            for tier in np.flatnonzero((need > self.drawn).any(axis=0)):
                while (need[:, tier] > self.drawn[tier]).any():
                    self._grow(tier)
            return self.pool

    def _grow(self, tier: int) -> None:
        """Draw the next chunk of every replication's customers of `tier` (each from its own
        stream, in a fixed order of columns, so chunk j is the same numbers whenever drawn)."""
        params, k = self.tiers[tier], int(self.chunk[tier])
        start, stop = int(self.drawn[tier]), int(self.drawn[tier]) + k
        if stop > self.pool.shape[3]:  # room for every tier, as the largest needs
            room = np.zeros((*self.pool.shape[:3], max(stop, 2 * self.pool.shape[3])))
            room[..., : self.pool.shape[3]] = self.pool
            self.pool = room
        d = params.stage_delays_days
        for r, rngs in enumerate(self.rngs):
            rng, chunk = rngs[tier], self.pool[r, tier, :, start:stop]
            rng.random(out=chunk[0])
            chunk[1] = params.deal_size.sample(rng, k)
            for c in (2, 3, 4):  # u_win, u_route, u_timing
                rng.random(out=chunk[c])
            for c, stage in zip((5, 6, 7), (d.contact, d.proposal, d.negotiation), strict=True):
                chunk[c] = stage.sample(rng, k)
        self.drawn[tier] = stop

    @property
    def nbytes(self) -> int:
        """Bytes of the customers drawn."""
        return self.pool.nbytes


class SourcedCustomers:
    """One run's self-sourced customers: each replication's next ones of each tier, in order."""

    def __init__(self, draws: CustomerDraws) -> None:
        self.draws = draws
        self.used = np.zeros(draws.pool.shape[:2], dtype=np.int64)

    def take(self, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Take the next customers for `counts` (replications, reps, tiers) found today: the
        pool holding them (`CustomerDraws.pool`) and where each replication's tier starts in
        it (replications, tiers); they are handed out in order of replication, tier, rep
        (`arrivals.arrive`)."""
        per = found_by_tier(counts)  # (replications, tiers)
        taken = self.used
        self.used = taken + per
        return self.draws.cover(self.used), taken


@numba.njit(cache=True)
def found_by_tier(counts: np.ndarray) -> np.ndarray:
    """`counts` (replications, reps, tiers) summed over the reps (numpy's sum over a middle
    axis costs 31 us a day at 2,400 reps; this loop 6, its call included)."""
    out = np.zeros((counts.shape[0], counts.shape[2]), dtype=np.int64)
    for r in range(counts.shape[0]):
        for rep in range(counts.shape[1]):
            for tier in range(counts.shape[2]):
                out[r, tier] += counts[r, rep, tier]
    return out

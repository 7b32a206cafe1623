"""The customers reps find themselves, drawn in advance: one stream per replication and tier.

How many leads a rep sources on a day depends on its effort (`simplan.model.production`),
so it is known only as the run goes; who those customers are (size, delays, uniforms) is
not, so each replication's tier draws them in chunks ahead and hands them out in order.
The i-th customer a replication sources in a tier is the same whatever the batch.
"""

from __future__ import annotations

import numpy as np

from simplan.model.leads import TierParams
from simplan.model.randomness import stream

COLUMNS = ("clock", "size", "u_win", "u_route", "u_timing")
"""What a customer carries besides its three stage delays; `clock` places it in the day."""


class SourcedCustomers:
    """Each replication's self-sourced customers by tier, drawn a chunk at a time."""

    def __init__(
        self, tiers: list[TierParams], seqs: list[np.random.SeedSequence], expected: np.ndarray
    ) -> None:
        """`expected` is each tier's expected count per replication over the run at effort
        1: a chunk is a quarter more, so a run usually draws once."""
        self.tiers = tiers
        self.chunk = np.ceil(1.25 * expected).astype(np.int64) + 32
        self.rngs = [[stream(s, "sourcing", "customers", t.name) for t in tiers] for s in seqs]
        self.used = np.zeros((len(seqs), len(tiers)), dtype=np.int64)
        self.pools: list[dict[str, np.ndarray]] = [
            {k: np.zeros((len(seqs), 0)) for k in COLUMNS} | {"delay": np.zeros((len(seqs), 0, 3))}
            for _ in tiers
        ]

    def _grow(self, tier: int) -> None:
        """Draw the next chunk of every replication's customers of `tier` (each from its own
        stream, in a fixed order of columns, so chunk j is the same numbers whenever drawn)."""
        params, k = self.tiers[tier], int(self.chunk[tier])
        d = params.stage_delays_days
        drawn = []
        for rngs in self.rngs:
            rng = rngs[tier]
            columns = {
                "clock": rng.random(k),
                "size": params.deal_size.sample(rng, k),
                "u_win": rng.random(k),
                "u_route": rng.random(k),
                "u_timing": rng.random(k),
            }
            stages = (d.contact, d.proposal, d.negotiation)
            columns["delay"] = np.column_stack([s.sample(rng, k) for s in stages])
            drawn.append(columns)
        pool = self.pools[tier]
        for key in pool:
            pool[key] = np.concatenate([pool[key], np.stack([c[key] for c in drawn])], axis=1)

    def take(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        """The next customers for `counts` (replications, reps, tiers) found today: columns
        per lead (`replication`, `rep` within it, `tier`, and the drawn ones), ordered by
        replication, then tier, then rep."""
        batch, n, _ = counts.shape
        parts = []
        for tier in range(len(self.tiers)):
            per_rep = counts[:, :, tier].ravel()
            if not per_rep.any():
                continue
            slot = np.repeat(np.arange(batch * n), per_rep)
            replication = slot // n
            per = counts[:, :, tier].sum(axis=1)
            while (self.used[:, tier] + per > self.pools[tier]["clock"].shape[1]).any():
                self._grow(tier)
            start = np.cumsum(per) - per
            place = self.used[replication, tier] + np.arange(len(slot)) - start[replication]
            self.used[:, tier] += per
            pool = self.pools[tier]
            part = {key: value[replication, place] for key, value in pool.items()}
            part |= {"replication": replication, "rep": slot % n, "tier": np.full(len(slot), tier)}
            parts.append(part)
        if not parts:
            return {}
        merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
        order = np.argsort(merged["replication"], kind="stable")
        return {key: value[order] for key, value in merged.items()}

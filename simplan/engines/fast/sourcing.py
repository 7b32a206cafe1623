"""The customers reps find themselves, drawn in advance: one stream per replication and tier.

How many leads a rep sources on a day depends on its effort (`simplan.model.production`),
so it is known only as the run goes; who those customers are (size, delays, uniforms) is
not, so each replication's tier draws them in chunks ahead and hands them out in order.
The i-th customer a replication sources in a tier is the same whatever the batch.
"""

from __future__ import annotations

import numba
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
        per = counts.sum(axis=1)  # (replications, tiers)
        total = int(per.sum())
        if not total:
            return {}
        offsets = (np.cumsum(per.ravel()) - per.ravel()).reshape(per.shape)
        found = {k: np.empty(total) for k in COLUMNS} | {"delay": np.empty((total, 3))}
        found |= {k: np.empty(total, dtype=np.int64) for k in ("replication", "rep", "tier")}
        for tier in range(len(self.tiers)):
            if not per[:, tier].any():
                continue
            while (self.used[:, tier] + per[:, tier] > self.pools[tier]["clock"].shape[1]).any():
                self._grow(tier)
            pool = self.pools[tier]
            hand_out(
                counts[:, :, tier], self.used[:, tier], offsets[:, tier], tier,
                tuple(pool[k] for k in COLUMNS), pool["delay"],
                tuple(found[k] for k in COLUMNS), found["delay"],
                found["replication"], found["rep"], found["tier"],
            )  # fmt: skip
            self.used[:, tier] += per[:, tier]
        return found


@numba.njit(cache=True)
def hand_out(
    counts: np.ndarray,
    used: np.ndarray,
    offsets: np.ndarray,
    tier: int,
    pool: tuple,
    pool_delay: np.ndarray,
    out: tuple,
    out_delay: np.ndarray,
    out_replication: np.ndarray,
    out_rep: np.ndarray,
    out_tier: np.ndarray,
) -> None:
    """Copy one tier's next customers out of its pool (columns `pool`, replications x
    customers, and `pool_delay`): replication r's from its `used[r]`-th on, rep by rep as
    many as `counts[r, rep]`, into the output columns from `offsets[r]` on (in place)."""
    for r in range(counts.shape[0]):
        place, source = offsets[r], used[r]
        for rep in range(counts.shape[1]):
            for _ in range(counts[r, rep]):
                for c in range(len(pool)):
                    out[c][place] = pool[c][r, source]
                out_delay[place] = pool_delay[r, source]
                out_replication[place], out_rep[place], out_tier[place] = r, rep, tier
                place += 1
                source += 1

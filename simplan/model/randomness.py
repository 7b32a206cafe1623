"""Random streams by purpose and key, so two scenarios see the same world (common random numbers).

A replication's SeedSequence is split by a stable key (a purpose such as `arrivals`, and an
entity such as a tier name), never by the order streams happen to be asked for.
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seq: np.random.SeedSequence, *keys: str) -> np.random.Generator:
    """An independent Generator for `keys` under `seq`, stable across scenarios and runs."""
    spawn_key = tuple(seq.spawn_key) + tuple(zlib.crc32(k.encode()) for k in keys)
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=spawn_key))


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """One SeedSequence per replication; replication i's is the same whatever the count."""
    return [np.random.SeedSequence(seed, spawn_key=(_REPLICATION, i)) for i in range(replications)]


_REPLICATION = zlib.crc32(b"replication")
_TEAM = zlib.crc32(b"team")


def team_seed(seed: int) -> np.random.SeedSequence:
    """The stream that draws a generated team: one team for every replication of a run."""
    return np.random.SeedSequence(seed, spawn_key=(_TEAM,))

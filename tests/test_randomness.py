"""Random streams by purpose: independent across purposes and replications, identical for the
same purpose, so two scenarios share a world without one purpose echoing another."""

from __future__ import annotations

import math

import numpy as np

from simplan.model.randomness import replication_seeds, stream, team_seed

N = 20_000


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_the_same_purpose_gives_the_same_numbers_and_others_do_not():
    seq = replication_seeds(7, 2)[1]
    again = replication_seeds(7, 5)[1]
    np.testing.assert_array_equal(stream(seq, "arrivals", "A").random(8), stream(again, "arrivals", "A").random(8))  # fmt: skip
    draws = {
        keys: stream(seq, *keys).random(N)
        for keys in [("arrivals", "A"), ("arrivals", "B"), ("outcomes", "A"), ("sourcing",)]
    }
    draws["other replication"] = stream(replication_seeds(7, 2)[0], "arrivals", "A").random(N)
    first = draws.pop(("arrivals", "A"))
    # independent uniforms: correlation ~ N(0, 1 / N); 4.5 sd leaves chance failures negligible
    for keys, values in draws.items():
        assert abs(correlation(first, values)) < 4.5 / math.sqrt(N), keys
        assert not np.array_equal(first[:8], values[:8]), keys


def test_the_team_stream_is_not_a_replication_stream():
    team = np.random.default_rng(team_seed(7)).random(N)
    first = np.random.default_rng(replication_seeds(7, 1)[0]).random(N)
    assert abs(correlation(team, first)) < 4.5 / math.sqrt(N)

"""A small scenario whose summary is pinned: any change to the engine's numbers shows up here.

If a change is meant to alter results, re-pin with:
    python -c "from simplan import simulate; print(simulate('tests/data/small.yaml', replications=2, workers=1).summary())"
and say why in the commit message.
"""

from __future__ import annotations

import pytest

from simplan import simulate

from .conftest import DATA

PINNED = [
    ("bookings P10", 608578.6042726337),
    ("bookings P50", 656156.1243752951),
    ("bookings P90", 703733.6444779566),
    ("deals won per replication", 34.5),
    ("win rate (closed leads)", 0.09387755102040816),
    ("win rate A", 0.2826086956521739),
    ("win rate C", 0.030852994555353903),
    ("median first response hours A", 10.276906518091039),
    ("median first response hours C", 10.961284900676617),
    ("median cycle days (won)", 14.053630424514019),
    ("proposal alerts per replication", 382.5),
    ("relays per replication", 75.0),
    ("share of reps at target", 0.425),
    ("lever cost per replication", 0.0),
]


def test_small_scenario_summary_is_pinned():
    summary = simulate(DATA / "small.yaml", replications=2, workers=1).summary()["value"]
    assert list(summary.index) == [m for m, _ in PINNED]
    for metric, value in PINNED:
        assert summary[metric] == pytest.approx(value, rel=1e-9), metric

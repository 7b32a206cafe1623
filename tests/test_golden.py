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
    ("bookings P10", 690004.9525427085),
    ("bookings P50", 701564.7824203817),
    ("bookings P90", 713124.6122980549),
    ("deals won per replication", 35.0),
    ("win rate (closed leads)", 0.09510869565217392),
    ("win rate A", 0.2978723404255319),
    ("win rate C", 0.025547445255474453),
    ("median first response hours A", 10.90959553432939),
    ("median first response hours C", 11.599526267935545),
    ("median cycle days (won)", 14.439794036627394),
    ("proposal alerts per replication", 379.0),
    ("relays per replication", 80.5),
    ("share of reps at target", 0.35),
    ("lever cost per replication", 0.0),
]


def test_small_scenario_summary_is_pinned():
    summary = simulate(DATA / "small.yaml", replications=2, workers=1).summary()["value"]
    assert list(summary.index) == [m for m, _ in PINNED]
    for metric, value in PINNED:
        assert summary[metric] == pytest.approx(value, rel=1e-9), metric

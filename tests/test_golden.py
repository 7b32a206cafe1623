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
    ("bookings P10", 550341.1348624913),
    ("bookings P50", 703450.8265139399),
    ("bookings P90", 856560.5181653886),
    ("deals won per replication", 36.0),
    ("win rate (closed leads)", 0.09473684210526316),
    ("win rate A", 0.2742857142857143),
    ("win rate C", 0.041025641025641026),
    ("median first response hours A", 9.771997348220282),
    ("median first response hours C", 8.538329085863552),
    ("median cycle days (won)", 15.540305233450434),
    ("proposal alerts per replication", 371.5),
    ("relays per replication", 65.5),
    ("share of reps at target", 0.25),
    ("lever cost per replication", 0.0),
]


def test_small_scenario_summary_is_pinned():
    summary = simulate(DATA / "small.yaml", replications=2, workers=1).summary()["value"]
    assert list(summary.index) == [m for m, _ in PINNED]
    for metric, value in PINNED:
        assert summary[metric] == pytest.approx(value, rel=1e-9), metric

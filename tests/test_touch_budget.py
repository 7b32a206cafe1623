"""A rep's day holds capacity x effort touches, in both engines: never more, and all of it
when the queue is long. This budget is what turns effort into speed and overload into delay."""

from __future__ import annotations

import numpy as np
import pytest

from simplan import simulate

from .test_levers import variant


@pytest.fixture(scope="module", params=["events", "fast"])
def overloaded(request):
    """The small team at 2 touches a day against its usual flow of leads, at effort 2."""
    scenario = variant(
        team={"capacity_touches_per_day": {"dist": "gamma", "mean": 2, "cv": 0.25}},
        behaviour={"effort": 2.0},
        simulation={"engine": request.param},
    )
    return simulate(scenario, replications=1, workers=1)


def test_touches_never_exceed_capacity_times_effort_and_fill_it_under_load(overloaded):
    daily = overloaded.daily
    capacity = overloaded.reps.drop_duplicates("rep_id").set_index("rep_id")[
        "capacity_touches_per_day"
    ]
    budget = daily["rep_id"].map(capacity) * daily["effort"]
    assert (daily["touches"] <= np.floor(budget + 1e-9)).all()
    working = daily[daily["touches"] > 0]
    # with a queue all day, a rep does the whole budget (less the touch that would run past
    # closing): at least floor(budget) - 1 on most working days
    full = working["touches"] >= np.floor(budget[working.index] + 1e-9) - 1
    assert full.mean() > 0.8, full.mean()
    np.testing.assert_allclose(daily["effort"], 2.0)

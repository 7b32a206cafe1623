"""Key paths: parsed, set in place, and a missing one answered with the nearest valid path."""

from __future__ import annotations

import pytest

from simplan import SimplanError
from simplan.model.keypaths import key_path, leaf_paths, parse_path, set_path

DATA = {"leads": {"tiers": [{"rate": 3.0, "p": 0.2}, {"rate": 1.0}]}, "team": {"size": 5}}


def test_parse_and_print_are_inverse():
    parts = ("leads", "tiers", 1, "rate")
    assert parse_path("leads.tiers[1].rate") == parts
    assert key_path(parts) == "leads.tiers[1].rate"
    assert leaf_paths(DATA) == [
        "leads.tiers[0].rate",
        "leads.tiers[0].p",
        "leads.tiers[1].rate",
        "team.size",
    ]


def test_set_path_changes_only_that_value():
    data = {"leads": {"tiers": [{"rate": 3.0, "p": 0.2}, {"rate": 1.0}]}, "team": {"size": 5}}
    set_path(data, "leads.tiers[1].rate", 2.5)
    assert data == {
        "leads": {"tiers": [{"rate": 3.0, "p": 0.2}, {"rate": 2.5}]},
        "team": {"size": 5},
    }


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("leads.tiers[0].rat", "nearest valid path is leads.tiers[0].rate"),
        ("lead.tiers[1].rate", "nearest valid path is leads.tiers[1].rate"),
        ("leads.tiers[2].rate", "leads.tiers has 2 items: [0] to [1]"),
        ("team.size.max", "team.size holds a value, not keys"),
        ("leads.tiers[0]", "names a whole block; name one value, e.g. leads.tiers[0].rate"),
        ("leads.tiers.[0]", "is not a key path"),
    ],
)
def test_a_bad_path_names_the_fix(path, fragment):
    with pytest.raises(SimplanError) as caught:
        set_path({**DATA}, path, 1.0)
    assert fragment in str(caught.value)

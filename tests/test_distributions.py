"""Distributions: means within sampling error, readable repr, YAML forms, bad parameters."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import TypeAdapter, ValidationError

from simplan.model.distributions import Distribution

ADAPTER = TypeAdapter(Distribution)
N = 200_000

CASES = [
    ({"dist": "constant", "value": 3.5}, 3.5, 0.0),
    ({"dist": "poisson", "rate": 3.2}, 3.2, 3.2**0.5),
    ({"dist": "exponential", "mean": 2.0}, 2.0, 2.0),
    ({"dist": "lognormal", "mean": 12000, "cv": 0.8}, 12000, 12000 * 0.8),
    ({"dist": "gamma", "mean": 7, "cv": 0.5}, 7, 3.5),
    ({"dist": "empirical", "values": [1, 2, 10]}, 13 / 3, np.std([1, 2, 10])),
    ({"dist": "empirical", "values": [1, 2, 10], "weights": [1, 1, 2]}, 23 / 4, 18.1875**0.5),
]


@pytest.mark.parametrize(("spec", "mean", "sd"), CASES)
def test_sample_mean_within_sampling_error(spec, mean, sd):
    dist = ADAPTER.validate_python(spec)
    assert dist.mean == pytest.approx(mean)
    sample = dist.sample(np.random.default_rng(1), N)
    assert sample.shape == (N,)
    # 4 standard errors: fails by chance about once in 16,000 runs (and the seed is fixed).
    assert abs(sample.mean() - mean) <= 4 * sd / N**0.5 + 1e-12


@pytest.mark.parametrize(("spec", "mean", "sd"), [*CASES, ({"dist": "poisson", "rate": 0}, 0, 0)])
def test_draw_is_sample_of_one_from_the_same_state(spec, mean, sd):
    # The event engine draws a lead's size and delays one value at a time; they must be the
    # values (and leave the generator where) sample(rng, 1) would, so tables do not move.
    dist = ADAPTER.validate_python(spec)
    for seed in range(300):
        one, other = np.random.default_rng(seed), np.random.default_rng(seed)
        for _ in range(3):
            drawn = dist.draw(other)
            assert type(drawn) is float
            assert drawn == dist.sample(one, 1)[0]
        assert one.bit_generator.state == other.bit_generator.state


@pytest.mark.parametrize(("spec", "mean", "sd"), CASES)
def test_repr_reads_back_as_the_same_distribution(spec, mean, sd):
    import yaml

    dist = ADAPTER.validate_python(spec)
    again = ADAPTER.validate_python(yaml.safe_load(repr(dist)))
    assert again == dist
    assert repr(dist).startswith("{dist: " + spec["dist"])


def test_bare_number_is_a_constant():
    dist = ADAPTER.validate_python(5)
    assert repr(dist) == "{dist: constant, value: 5}"
    assert dist.sample(np.random.default_rng(0), 3).tolist() == [5.0, 5.0, 5.0]


def test_lognormal_cv_is_the_coefficient_of_variation():
    sample = ADAPTER.validate_python({"dist": "lognormal", "mean": 100, "cv": 0.5}).sample(
        np.random.default_rng(2), N
    )
    assert sample.std() / sample.mean() == pytest.approx(0.5, rel=0.03)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"dist": "lognormal", "mean": -1, "cv": 0.5}, "greater than 0"),
        ({"dist": "lognormal", "mean": 1, "cvv": 0.5}, "did you mean 'cv'"),
        ({"dist": "normalish", "mean": 1}, "normalish"),
        ({"dist": "empirical", "values": [1, 2], "weights": [1]}, "one weight per value"),
        ({"dist": "poisson", "rate": -2}, "greater than or equal to 0"),
    ],
)
def test_bad_parameters_are_refused_with_a_reason(spec, fragment):
    with pytest.raises(ValidationError, match=fragment):
        ADAPTER.validate_python(spec)

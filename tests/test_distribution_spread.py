"""Distributions keep their stated spread, not only their mean: a gamma or lognormal with the
right mean but the wrong cv would make every deal-size and cycle-time answer too sure or too
unsure, and the mean tests in test_distributions.py cannot see it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from .test_distributions import ADAPTER, CASES, N


@pytest.mark.parametrize(("spec", "mean", "sd"), [c for c in CASES if c[2] > 0])
def test_sample_sd_within_sampling_error(spec, mean, sd):
    """The sample sd against the stated one, within 4 standard errors of a sample sd:
    sd x sqrt((kurtosis - 1) / (4 N)) by the delta method, kurtosis from the sample."""
    sample = ADAPTER.validate_python(spec).sample(np.random.default_rng(2), N)
    kurtosis = stats.kurtosis(sample, fisher=False)
    se = sd * math.sqrt((kurtosis - 1) / (4 * N))
    assert abs(sample.std() - sd) <= 4 * se, (sample.std(), sd, se)

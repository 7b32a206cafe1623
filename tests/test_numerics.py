"""The compiled library numerics are the libraries' to the bit: scipy's ndtr, numpy's sum."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from scipy.special import ndtr as scipy_ndtr

from simplan.model.numerics import ndtr, ndtr_many, numpy_sum

SPECIAL = np.array([
    0.0, -0.0, 1.0, -1.0, np.sqrt(2), -np.sqrt(2), np.nextafter(np.sqrt(2), 0),
    np.nextafter(np.sqrt(2), 2), 8 * np.sqrt(2), -8 * np.sqrt(2), np.nextafter(8 * np.sqrt(2), 0),
    37.5, -37.5, 38.5, -38.5, 1e-300, -1e-300, 1e308, -1e308, np.inf, -np.inf, np.nan,
])  # fmt: skip


def arguments() -> np.ndarray:
    """Values over every branch of the approximation: erf's range, erfc's two, underflow."""
    rng = np.random.default_rng(12)
    return np.concatenate([
        rng.normal(0, 3, 200_000), rng.uniform(-40, 40, 100_000), rng.uniform(-1.5, 1.5, 100_000),
        rng.uniform(10, 13, 50_000) * rng.choice([-1, 1], 50_000), rng.normal(0, 1e-3, 10_000),
        SPECIAL,
    ])  # fmt: skip


def same_bits(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a.view(np.int64) == b.view(np.int64)) | (np.isnan(a) & np.isnan(b))


@numba.njit
def _each(values: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    for i in range(len(values)):
        out[i] = ndtr(values[i])
    return out


def test_ndtr_is_scipys_bit_for_bit():
    x = arguments()
    assert same_bits(_each(x), scipy_ndtr(x)).all()


def test_ndtr_many_is_scipys_bit_for_bit_and_leaves_the_rest():
    x = arguments()
    got = np.append(x, 7.0)
    ndtr_many(got, len(x))
    assert same_bits(got[:-1], scipy_ndtr(x)).all()
    assert got[-1] == 7.0


@pytest.mark.parametrize("n", [0, 1, 5, 7, 8, 9, 15, 16, 17, 127, 128, 129, 200, 399, 1000, 4099])
def test_numpy_sum_adds_in_numpys_order(n):
    """Values of mixed magnitudes, where any other order of the additions shows in the bits."""
    rng = np.random.default_rng(n)
    rows = rng.normal(size=(40, n + 3)) * 10.0 ** rng.integers(-8, 8, (40, n + 3))
    want = rows[:, 3:].sum(axis=1)
    got = np.array([numpy_sum(row, 3, n) for row in rows])
    assert same_bits(got, want).all()


def test_numpy_sum_of_negative_zeros_is_numpys():
    zeros = -np.zeros((1, 5))
    assert same_bits(np.array([numpy_sum(zeros[0], 0, 5)]), zeros.sum(axis=1)).all()

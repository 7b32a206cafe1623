"""Group-by on integer keys without pandas and, where the key space allows, without sorting.

The payout engine groups ledger rows by small integer keys (rep x day, squad x week, ...).
``np.unique`` sorts, which dominates a million-row statement run; when the key space is at most
a few times the number of rows a dense table gives the same answer in linear time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

DENSE_PER_ROW = 8
"""Use a dense table when the key space is at most this many times the rows (or 2^20)."""


def distinct(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``keys`` (ints in 0..size-1) and each key's position among them.

    The same as ``np.unique(keys, return_inverse=True)``, in O(rows + size) when dense.
    """
    if size > max(DENSE_PER_ROW * len(keys), 1 << 20):
        values, inverse = np.unique(keys, return_inverse=True)
        return values, inverse.ravel()
    seen = np.zeros(size, dtype=bool)
    seen[keys] = True
    small = np.int32 if size < 1 << 31 else np.int64  # a narrower table gathers faster
    position = np.cumsum(seen, dtype=small) - 1
    return np.flatnonzero(seen), np.take(position, keys)


def codes(values: pd.Series) -> np.ndarray:
    """An integer code per value (-1 where missing), equal values sharing a code.

    Integer ids spanning a small range are their own codes (offset from the smallest), which
    needs no hashing; anything else is factorized.
    """
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "iu" and len(values):
        raw = values.to_numpy()
        low = int(raw.min())
        if int(raw.max()) - low <= max(DENSE_PER_ROW * len(raw), 1 << 20):
            return raw - low
    return pd.factorize(values, use_na_sentinel=True)[0]


def count_distinct(group: np.ndarray, member: np.ndarray, n_groups: int) -> np.ndarray:
    """How many distinct ``member`` codes (>= 0, dense) each of ``n_groups`` groups has.

    A member on one row only is distinct wherever it is; only members on several rows are
    hashed as (group, member) pairs. No sorting.
    """
    counts = np.zeros(n_groups, dtype=np.int64)
    if len(group) == 0:
        return counts
    once = np.bincount(member)[member] == 1
    counts += np.bincount(group[once], minlength=n_groups)
    width = int(member.max()) + 1
    pairs = pd.unique(group[~once].astype(np.int64) * width + member[~once])
    return counts + np.bincount(pairs // width, minlength=n_groups)


def first_max(group: np.ndarray, value: np.ndarray) -> np.ndarray:
    """Index of the largest ``value`` in each run of equal ``group`` (ties: the first).

    ``group`` must be sorted (as the keys from :func:`distinct` are), so "first" means the
    smallest member code within the group.
    """
    if len(group) == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    top = np.maximum.reduceat(value, starts)
    at_top = np.flatnonzero(value == np.repeat(top, np.diff(np.r_[starts, len(value)])))
    run = group[at_top]
    return at_top[np.r_[True, run[1:] != run[:-1]]]


def leaders(
    group: np.ndarray, member: np.ndarray, value: np.ndarray, n_groups: int, n_members: int
) -> tuple[np.ndarray, np.ndarray]:
    """(groups, their leader): per group (0..n_groups-1) the member (0..n_members-1) with the
    largest summed ``value`` (ties: the smallest member code), for groups whose top sum is > 0.

    The same sums in the same row order either way: a dense group x member table with an
    argmax when the key space allows it, else the distinct keys and :func:`first_max`.
    """
    size = n_groups * n_members
    if size <= max(DENSE_PER_ROW * len(group), 1 << 20):
        total = np.bincount(group * n_members + member, weights=value, minlength=size)
        total = total.reshape(n_groups, n_members)
        top = total.argmax(axis=1)
        won = np.flatnonzero(total[np.arange(n_groups), top] > 0)
        return won, top[won]
    keys, inverse = distinct(group * n_members + member, size)
    total = np.bincount(inverse, weights=value)
    best = first_max(keys // n_members, total)
    best = best[total[best] > 0]
    return keys[best] // n_members, keys[best] % n_members


def per_day(day: np.ndarray, of_days: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``of_days(days)`` for every row's ``day`` (int days since 1970-01-01), computed once per
    calendar day in the range rather than once per row (calendar arithmetic is slow)."""
    if len(day) == 0:
        return np.zeros(0, dtype=np.int64)
    first = int(day.min())
    days = np.arange(first, int(day.max()) + 1).astype("datetime64[D]")
    return np.asarray(of_days(days)).astype(np.int64)[day - first]

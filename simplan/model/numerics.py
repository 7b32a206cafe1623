"""Two library numerics compiled to the bit, for rules that run inside numba loops: scipy's
normal distribution function and numpy's summation order.

`ndtr` is `scipy.special.ndtr` bit for bit (the Cephes rational approximations SciPy
evaluates, with the same coefficients, the same Horner order and the C library's `exp`), and
`numpy_sum` adds a row as `numpy.sum` does (pairwise, eight accumulators per block), so a rule
compiled with them gives the tables its numpy form gave (`tests/test_numerics.py` checks both
against the libraries).
"""

from __future__ import annotations

import math

import numba
import numpy as np

# Cephes' erfc on [1, 8): P / Q; on [8, inf): R / S; erf on [0, 1]: x T(x^2) / U(x^2). Q, S
# and U leave out their leading coefficient 1.
_P = (
    2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
    4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
    9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2,
)  # fmt: skip
_Q = (
    1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
    9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
    1.65666309194161350182e3, 5.57535340817727675546e2,
)  # fmt: skip
_R = (
    5.64189583547755073984e-1, 1.27536670759978104416e0, 5.01905042251180477414e0,
    6.16021097993053585195e0, 7.40974269950448939160e0, 2.97886665372100240670e0,
)  # fmt: skip
_S = (
    2.26052863220117276590e0, 9.39603524938001434673e0, 1.20489539808096656605e1,
    1.70814450747565897222e1, 9.60896809063285878198e0, 3.36907645100081516050e0,
)  # fmt: skip
_T = (
    9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
    7.00332514112805075473e3, 5.55923013010394962768e4,
)  # fmt: skip
_U = (
    3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
    2.26290000613890934246e4, 4.92673942608635921086e4,
)  # fmt: skip
_MAXLOG = 7.09782712893383996843e2
"""log of the largest double: erfc underflows to 0 beyond exp(-MAXLOG)."""
_SQRT1_2 = 0.70710678118654752440


@numba.njit(cache=True, inline="always")
def _polevl(x: float, coef: tuple) -> float:
    """coef[0] x^N + ... + coef[N], by Horner's rule from the leading coefficient."""
    result = 0.0
    for i, c in enumerate(coef):
        result = c if i == 0 else result * x + c
    return result


@numba.njit(cache=True, inline="always")
def _p1evl(x: float, coef: tuple) -> float:
    """`_polevl` with a leading coefficient 1 left out of `coef`."""
    result = 0.0
    for i, c in enumerate(coef):
        result = x + c if i == 0 else result * x + c
    return result


@numba.njit(cache=True, inline="always")
def _small(a: float) -> float:
    """ndtr(a) for |a / sqrt 2| < 1: (1 + erf) / 2, erf odd and rational on the positive side."""
    x = a * _SQRT1_2
    z = abs(x)
    erf = z * _polevl(z * z, _T) / _p1evl(z * z, _U)
    return 0.5 + 0.5 * (erf if x >= 0.0 else -erf)


@numba.njit(cache=True, inline="always")
def _exp_part(a: float) -> float:
    """exp(-z^2) for z = |a / sqrt 2| >= 1, the C library's (0 once it underflows; unused, 0,
    below 1)."""
    z = abs(a * _SQRT1_2)
    if z < 1.0 or -z * z < -_MAXLOG:
        return 0.0
    return math.exp(-z * z)


@numba.njit(cache=True, inline="always")
def _large(a: float, e: float, p_coef: tuple, q_coef: tuple) -> float:
    """ndtr(a) for z = |a / sqrt 2| >= 1 from e = exp(-z^2): erfc(z) / 2 (its complement above
    0), erfc(z) = e P(z) / Q(z) with Cephes' coefficients for z's range."""
    x = a * _SQRT1_2
    z = abs(x)
    y = 0.0 if e == 0.0 else 0.5 * ((e * _polevl(z, p_coef)) / _p1evl(z, q_coef))
    return 1.0 - y if x > 0 else y


@numba.njit(cache=True)
def ndtr(a: float) -> float:
    """P(Z <= a) for a standard normal Z: scipy.special.ndtr's value, bit for bit."""
    if math.isnan(a):
        return math.nan
    z = abs(a * _SQRT1_2)
    if z < 1.0:
        return _small(a)
    if z < 8.0:
        return _large(a, _exp_part(a), _P, _Q)
    return _large(a, _exp_part(a), _R, _S)


@numba.njit(cache=True, error_model="numpy")
def ndtr_many(values: np.ndarray, n: int) -> None:
    """`ndtr` of `values[:n]` in place, in two passes so the compiler vectorises the second:
    the C library's exp (and the rare values beyond 8 sqrt 2, with their own coefficients)
    one by one, then both rational forms for every value, each kept where it applies (numpy's
    error model: a division is not checked for zero, which would stop the vectorising)."""
    e, far = np.empty(n), np.empty(n)
    for m in range(n):
        a = values[m]
        e[m] = _exp_part(a)
        far[m] = _large(a, e[m], _R, _S) if abs(a * _SQRT1_2) >= 8.0 else math.nan
    for m in range(n):
        a = values[m]
        z = abs(a * _SQRT1_2)
        small, large = _small(a), _large(a, e[m], _P, _Q)
        values[m] = small if z < 1.0 else far[m] if z >= 8.0 else large


PAIRWISE_BLOCK = 128
"""numpy's pairwise summation adds blocks of up to this many values with eight accumulators."""


@numba.njit(cache=True)
def numpy_sum(values: np.ndarray, start: int, n: int) -> float:
    """The sum of `values[start:start + n]` as `numpy.sum` adds a row of a reduction: 0 plus
    its pairwise sum. The halves are split as numpy splits them, from an explicit stack
    (numba's cache cannot load a recursive function)."""
    if n <= PAIRWISE_BLOCK:
        return 0.0 + _block_sum(values, start, n)
    starts, counts = np.empty(128, dtype=np.int64), np.empty(128, dtype=np.int64)
    sums = np.empty(64)
    starts[0], counts[0], top, done = start, n, 1, 0
    while top:  # a count of -1 adds the last two sums done (the halves of a split)
        top -= 1
        first, count = starts[top], counts[top]
        if count < 0:
            done -= 1
            sums[done - 1] = sums[done - 1] + sums[done]
        elif count <= PAIRWISE_BLOCK:
            sums[done] = _block_sum(values, first, count)
            done += 1
        else:
            half = count // 2
            half -= half % 8
            starts[top], counts[top] = 0, -1
            starts[top + 1], counts[top + 1] = first + half, count - half
            starts[top + 2], counts[top + 2] = first, half
            top += 3
    return 0.0 + sums[0]


@numba.njit(cache=True, inline="always")
def _block_sum(values: np.ndarray, start: int, n: int) -> float:
    """numpy's pairwise sum of `n` <= PAIRWISE_BLOCK values from `start`: one by one under 8,
    else eight running sums added as a tree, then the remainder one by one."""
    if n < 8:
        total = -0.0
        for i in range(start, start + n):
            total += values[i]
        return total
    r = values[start : start + 8].copy()
    i = 8
    while i < n - n % 8:
        for j in range(8):
            r[j] += values[start + i + j]
        i += 8
    total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        total += values[start + i]
        i += 1
    return total

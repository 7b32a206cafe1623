"""The one rule every threshold test of a plan uses: "reaches" (at or above) and "exceeds" (more than).

Bookings are sums of floats and a line is usually a threshold times a target, so two honest
ways of computing the same amount can differ in the last bits (80,000 may come out as
79,999.99999999999, and 0.8 x 100,000 as 80,000.00000000001). A value within
``RELATIVE_TOLERANCE`` of its line (one part in 10^9 of the line) is *on* the line: it reaches
an at-or-above threshold and does not exceed a more-than one. The tolerance is relative, so the
rule is the same in any currency unit; at a line of 10 million it is one cent.

Each component says in its docstring which test it applies: gates, tiers, bonus steps,
qualifying minimums and the manager's team attainment are at or above; the team pool
threshold, the big-deal size and the manager's new-hire growth are more than.
"""

from __future__ import annotations

import numpy as np

RELATIVE_TOLERANCE = 1e-9
"""Values within this share of a line count as exactly on it."""


def _slack(line: np.ndarray | float) -> np.ndarray:
    return RELATIVE_TOLERANCE * np.abs(line)


def reaches(value: np.ndarray | float, line: np.ndarray | float) -> np.ndarray:
    """``value >= line``, a value on the line counting as reaching it."""
    return np.asarray(value) >= line - _slack(line)


def exceeds(value: np.ndarray | float, line: np.ndarray | float) -> np.ndarray:
    """``value > line``, a value on the line counting as not exceeding it."""
    return np.asarray(value) > line + _slack(line)


def steps_reached(value: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Index of the highest of the increasing ``thresholds`` (all >= 0) that ``value`` reaches.

    -1 where none is reached. The same test as :func:`reaches`, for a list of steps at once.
    """
    return np.searchsorted(thresholds - _slack(thresholds), value, side="right") - 1

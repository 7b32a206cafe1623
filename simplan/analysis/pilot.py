"""Plan a pilot: a share of the team tries the proposal, the rest stays on the baseline.

The estimate a pilot gives is a difference in differences: each rep's bookings per period
during the pilot minus the same rep's bookings in the first plan period (before the pilot,
everyone on the baseline), pilot group against control group. Taking each rep's change
removes the large, lasting differences between reps, which a plain comparison of levels
cannot see past. Tested with Welch's t (on squad means when whole squads are randomised,
since reps in a squad share a fate). Two questions:

- `pilot_study`: what would this pilot show for this proposal? Pilot reps take their
  bookings from the proposal's run and control reps from the baseline's, on the same
  customers (common random numbers). Assumes no spillover between the groups through the
  shared lead pool.
- `pilot_power`: how likely is a pilot of a given size and length to detect a given uplift?
  Random assignments on the baseline's runs, with the uplift added to the pilot group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from simplan.analysis.compare import compare
from simplan.errors import SimplanError
from simplan.results import Results
from simplan.scenario import Scenario

Unit = Literal["rep", "squad"]
ASSIGNMENT_SEED = 20_260_101
"""Seed of the random pilot assignments (fixed: the same table on every run)."""


@dataclass(frozen=True)
class PilotStudy:
    """What a pilot of this proposal would show, across replications and assignments."""

    true_effect: float  # per rep per period, whole team on the proposal vs on the baseline
    estimates: pd.DataFrame  # replication, assignment, estimate, ci_low, ci_high, p_value
    alpha: float
    baseline: Results = field(repr=False)  # the baseline's run, for sizing pilots with pilot_power

    @property
    def power(self) -> float:
        """Share of pilots that find a significant effect in the true effect's direction."""
        e = self.estimates
        right_way = np.sign(e["estimate"]) == np.sign(self.true_effect)
        return float(((e["p_value"] < self.alpha) & right_way).mean())

    @property
    def coverage(self) -> float:
        """Share of pilots whose interval contains the true effect."""
        e = self.estimates
        return float(
            ((e["ci_low"] <= self.true_effect) & (self.true_effect <= e["ci_high"])).mean()
        )


def before_during(results: Results, periods: int | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """replication x rep: bookings in the first (pre-pilot) plan period, and per period over
    the `periods` plan periods after it."""
    reps = results.reps
    order = sorted(reps["period"].unique())
    available = len(order) - 1
    if available < 1:
        raise SimplanError(
            "a pilot needs at least two plan periods: the first is the pre-pilot baseline; "
            "lengthen calendar.days or use a monthly period"
        )
    periods = available if periods is None else periods
    if not 1 <= periods <= available:
        raise SimplanError(
            f"pilot length {periods}: the run has {available} periods after the first; choose 1 to {available}"
        )
    table = reps.pivot_table(
        index="replication", columns=["period", "rep_id"], values="bookings", aggfunc="sum"
    )
    before = table[order[0]]
    during = sum(table[p] for p in order[1 : 1 + periods]) / periods
    return before, during


def _squads(results: Results) -> pd.Series:
    return results.reps.drop_duplicates("rep_id").set_index("rep_id")["squad"]


def _assignments(
    reps: pd.Index, squads: pd.Series, share: float, unit: Unit, count: int
) -> np.ndarray:
    """`count` random pilot groups as boolean rows over `reps` (whole squads when unit=squad)."""
    if not 0 < share < 1:
        raise SimplanError(f"pilot share {share}: must lie strictly between 0 and 1, e.g. 0.2")
    rng = np.random.default_rng(ASSIGNMENT_SEED)
    if unit == "rep":
        k = max(1, round(share * len(reps)))
        if k >= len(reps):
            raise SimplanError(f"a pilot of {share:.0%} takes every rep; leave a control group")
        rows = np.zeros((count, len(reps)), dtype=bool)
        for row in rows:
            row[rng.choice(len(reps), k, replace=False)] = True
        return rows
    groups = squads.reindex(reps).to_numpy()
    names = np.unique(groups)
    k = max(1, round(share * len(names)))
    if k >= len(names):
        raise SimplanError(
            f"a pilot of {share:.0%} of {len(names)} squads takes them all; use unit rep"
        )
    return np.array([np.isin(groups, rng.choice(names, k, replace=False)) for _ in range(count)])


def _test(
    pilot: np.ndarray, control: np.ndarray, alpha: float
) -> tuple[float, float, float, float]:
    """Difference in means with a Welch interval and p-value."""
    result = stats.ttest_ind(pilot, control, equal_var=False)
    diff = float(pilot.mean() - control.mean())
    ci = result.confidence_interval(1 - alpha)
    return diff, float(ci.low), float(ci.high), float(result.pvalue)


def _unit_means(values: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
    if groups is None:
        return values
    frame = pd.Series(values).groupby(groups).mean()
    return frame.to_numpy()


def pilot_study(
    baseline: Scenario,
    proposal: Scenario,
    *,
    share: float = 0.2,
    unit: Unit = "rep",
    periods: int | None = None,
    assignments: int = 50,
    alpha: float = 0.05,
    **run: object,
) -> PilotStudy:
    """Simulate a pilot of `proposal` on `share` of the team against the rest on `baseline`."""
    comparison = compare(baseline, proposal, **run)
    base_name, proposal_name = comparison.scenarios
    before, base = before_during(comparison.results[base_name], periods)
    prop = before_during(comparison.results[proposal_name], periods)[1][base.columns]
    true_effect = float((prop - base).to_numpy().mean())
    squads = _squads(comparison.results[base_name])
    groups = _assignments(base.columns, squads, share, unit, assignments)
    squad_of = squads.reindex(base.columns).to_numpy()
    rows = []
    for replication in base.index:
        pre = before.loc[replication].to_numpy()
        b, p = base.loc[replication].to_numpy(), prop.loc[replication].to_numpy()
        for a, in_pilot in enumerate(groups):
            mixed = np.where(in_pilot, p, b) - pre
            by = None if unit == "rep" else squad_of
            pilot_values = _unit_means(mixed[in_pilot], None if by is None else by[in_pilot])
            control_values = _unit_means(mixed[~in_pilot], None if by is None else by[~in_pilot])
            rows.append((replication, a, *_test(pilot_values, control_values, alpha)))
    estimates = pd.DataFrame(
        rows, columns=["replication", "assignment", "estimate", "ci_low", "ci_high", "p_value"]
    )
    return PilotStudy(
        true_effect=true_effect,
        estimates=estimates,
        alpha=alpha,
        baseline=comparison.results[base_name],
    )


def pilot_power(
    baseline_results: Results,
    *,
    shares: Sequence[float] = (0.1, 0.2, 0.3, 0.5),
    periods: Sequence[int] | None = None,
    uplifts: Sequence[float] = (0.05, 0.1, 0.2),
    unit: Unit = "rep",
    alpha: float = 0.05,
    assignments: int = 50,
) -> pd.DataFrame:
    """Power to detect each relative uplift in bookings per rep, by pilot share and length."""
    if not shares or not uplifts:
        raise SimplanError("pilot power needs at least one share and one uplift")
    n_periods = baseline_results.reps["period"].nunique()
    periods = list(periods) if periods else list(range(1, n_periods))
    squads = _squads(baseline_results)
    rows = []
    for length in periods:
        before, table = before_during(baseline_results, length)
        squad_of = squads.reindex(table.columns).to_numpy()
        for share in shares:
            groups = _assignments(table.columns, squads, share, unit, assignments)
            for uplift in uplifts:
                hits = 0
                for replication in table.index:
                    values = table.loc[replication].to_numpy()
                    pre = before.loc[replication].to_numpy()
                    for in_pilot in groups:
                        lifted = np.where(in_pilot, values * (1 + uplift), values) - pre
                        by = None if unit == "rep" else squad_of
                        pilot_values = _unit_means(
                            lifted[in_pilot], None if by is None else by[in_pilot]
                        )
                        control_values = _unit_means(
                            lifted[~in_pilot], None if by is None else by[~in_pilot]
                        )
                        diff, _, _, p = _test(pilot_values, control_values, alpha)
                        hits += (p < alpha) and diff > 0
                power = hits / (len(table.index) * len(groups))
                rows.append((length, share, uplift, power))
    return pd.DataFrame(rows, columns=["periods", "share", "uplift", "power"])


def required_pilot(
    power_table: pd.DataFrame, uplift: float, power: float = 0.8
) -> pd.Series | None:
    """The smallest (share, then length) pilot reaching `power` for `uplift`, or None."""
    ok = power_table[(power_table["uplift"] == uplift) & (power_table["power"] >= power)]
    if ok.empty:
        return None
    return ok.sort_values(["share", "periods"]).iloc[0]

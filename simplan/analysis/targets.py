"""Setting targets: the playbooks' three-way model and its decomposition down to each rep.

Three ways in:
- history: the baseline is the mean of the last `cycles` cycles' bookings (anomalous cycles
  removed by an explicit rule: more than `outlier_factor` times the median, or below its
  reciprocal);
- market: a top-down growth rate planners set from market room and competitor moves;
- team capability: when new hires exceed `new_hire_limit` (40 %) of the team, a buffer takes
  a share of the increase back, and the report says how much.

`target_plan` puts the three together for a scenario: the baseline from a won ledger's
quarters (or, without history, from what the scenario simulates per quarter), the team's
new-hire share, and the annual target (4 x the quarterly target) decomposed.

Decomposition splits the annual target into quarters and months (by seasonal weights, equal
by default), then each month into squads and reps in proportion to each rep's expected
output (capacity x skill x ramp share). Every level is rounded to whole currency units by
largest remainders, so each level sums exactly to the one above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simplan.errors import SimplanError
from simplan.model.randomness import team_seed
from simplan.model.team import build_team
from simplan.runner import simulate
from simplan.scenario import Scenario


@dataclass(frozen=True)
class TargetProposal:
    """The three-way target and how it was reached."""

    baseline: float
    cycles_used: list[str]
    cycles_removed: list[str]
    market_growth: float
    new_hire_share: float
    buffer: float  # share of the increase taken back for team capability
    target: float

    def explain(self) -> pd.DataFrame:
        rows = [
            ("history baseline (mean of cycles used)", self.baseline),
            ("cycles used", ", ".join(self.cycles_used)),
            ("cycles removed as anomalies", ", ".join(self.cycles_removed) or "none"),
            ("market growth", self.market_growth),
            ("new-hire share of the team", self.new_hire_share),
            ("buffer taken from the increase", self.buffer),
            ("target", self.target),
        ]
        return pd.DataFrame(rows, columns=["step", "value"])


def three_way_target(
    cycle_bookings: pd.Series,
    market_growth: float,
    new_hire_share: float,
    *,
    cycles: int = 3,
    outlier_factor: float = 2.0,
    new_hire_limit: float = 0.4,
    buffer_share: float = 0.5,
) -> TargetProposal:
    """Target for the next cycle from history (indexed by cycle label), market and team."""
    if cycle_bookings.empty:
        raise SimplanError(
            "no past cycles to set a baseline from; give a history with closed deals"
        )
    if not -1 < market_growth < 5:
        raise SimplanError(f"market growth {market_growth}: give a share, e.g. 0.1 for +10 %")
    recent = cycle_bookings.sort_index().iloc[-cycles:]
    median = float(recent.median())
    anomalous = (recent > outlier_factor * median) | (recent < median / outlier_factor)
    used = recent[~anomalous]
    baseline = float(used.mean())
    buffer = buffer_share if new_hire_share > new_hire_limit else 0.0
    target = baseline * (1 + market_growth * (1 - buffer))
    return TargetProposal(
        baseline=baseline,
        cycles_used=[str(c) for c in used.index],
        cycles_removed=[str(c) for c in recent[anomalous].index],
        market_growth=market_growth,
        new_hire_share=new_hire_share,
        buffer=buffer,
        target=target,
    )


def split_exactly(total: float, weights: np.ndarray) -> np.ndarray:
    """Split a whole-currency `total` by `weights` into whole units that sum to it exactly."""
    weights = np.asarray(weights, dtype=float)
    if weights.sum() <= 0 or (weights < 0).any():
        raise SimplanError("weights to split a target must be non-negative with a positive sum")
    units = int(np.rint(total))
    raw = units * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    short = units - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:short]] += 1
    return base


def decompose(
    annual: float,
    reps: pd.DataFrame,
    year: int,
    quarter_weights: tuple[float, float, float, float] = (1, 1, 1, 1),
) -> pd.DataFrame:
    """annual -> quarter -> month -> squad -> rep; `reps` has rep_id, squad, capacity, skill, ramp.

    Returns one row per rep and month with the target at every level above it.
    """
    reps = reps.reset_index(drop=True)
    missing = {"rep_id", "squad", "capacity", "skill", "ramp"} - set(reps.columns)
    if missing:
        raise SimplanError(f"decompose needs rep columns {', '.join(sorted(missing))}")
    weight = (reps["capacity"] * reps["skill"] * reps["ramp"]).to_numpy(dtype=float)
    squads = reps.assign(weight=weight).groupby("squad", sort=True)["weight"].sum()
    rows = []
    quarters = split_exactly(annual, np.asarray(quarter_weights))
    for q, quarter_total in enumerate(quarters, start=1):
        months = split_exactly(quarter_total, np.ones(3))
        for m, month_total in enumerate(months):
            month = pd.Period(year=year, month=3 * (q - 1) + m + 1, freq="M")
            squad_totals = split_exactly(month_total, squads.to_numpy())
            for squad, squad_total in zip(squads.index, squad_totals, strict=True):
                members = reps[reps["squad"] == squad]
                shares = split_exactly(squad_total, weight[members.index])
                for rep_id, rep_total in zip(members["rep_id"], shares, strict=True):
                    rows.append(
                        (
                            f"{year}Q{q}",
                            str(month),
                            squad,
                            rep_id,
                            int(quarter_total),
                            int(month_total),
                            int(squad_total),
                            int(rep_total),
                        )
                    )
    columns = [
        "quarter",
        "month",
        "squad",
        "rep_id",
        "quarter_target",
        "month_target",
        "squad_target",
        "target",
    ]
    return pd.DataFrame(rows, columns=columns)


def quarterly_bookings(ledger: pd.DataFrame) -> pd.Series:
    """Won bookings per calendar quarter of a ledger (close_date, amount), in date order."""
    quarters = pd.PeriodIndex(ledger["close_date"], freq="Q")
    return ledger.groupby(quarters)["amount"].sum().sort_index().rename(index=str)


def team_weights(scenario: Scenario) -> tuple[pd.DataFrame, float]:
    """The scenario's team as decomposition weights, and its share of new hires at the start."""
    team = build_team(scenario.team, np.random.default_rng(team_seed(scenario.simulation.seed)))
    tenure = team.tenure(0)
    quota = scenario.team.quota
    ramp_by_tenure = (
        np.array([quota.new_hire_share, quota.ramping_share, 1.0]) if quota else np.ones(3)
    )
    reps = pd.DataFrame(
        {
            "rep_id": team.rep_id,
            "squad": team.squad.astype(str),
            "capacity": team.capacity,
            "skill": team.skill,
            "ramp": ramp_by_tenure[tenure],
        }
    )
    return reps, float((tenure == 0).mean())


def target_plan(
    scenario: Scenario,
    growth: float,
    year: int,
    history: pd.DataFrame | None = None,
    **run: Any,
) -> tuple[TargetProposal, pd.DataFrame]:
    """The three-way target for `year` and its decomposition to each rep of the scenario's team.

    The history baseline is the won ledger's quarters when `history` is given, else the
    quarterly bookings the scenario simulates (the team as it is today).
    """
    if history is not None:
        cycles = quarterly_bookings(history)
    else:
        daily = simulate(scenario, **run).daily
        quarter = daily["date"].dt.to_period("Q").astype(str)
        per_run = daily.groupby(["replication", quarter])["bookings"].sum()
        cycles = per_run.groupby(level=1).mean()
    reps, new_hires = team_weights(scenario)
    proposal = three_way_target(cycles, growth, new_hires)
    return proposal, decompose(4 * proposal.target, reps, year)

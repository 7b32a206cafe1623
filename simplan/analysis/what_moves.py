"""What moves a comparison's answer: the plan effect at the low and high end of each drawn
parameter's interval, from the replications the comparison already ran.

A scenario with `uncertainty:` draws runs replication i under draw i mod the number of draws,
in every plan, so each draw has its own paired plan effect. Regressing those per-draw effects
on the draws' (standardised) parameters gives each parameter's partial effect, holding the
others at their mean; evaluated at the parameter's 5th and 95th percentile it is the effect
at each end of the interval. No new simulation is needed, and an effect whose sign turns
within one parameter's interval says that the answer hangs on that parameter.

The regression takes the team-wide parameters (arrivals, win rates, the behaviour and
production parameters), not the reps' own drawn traits (`team.roster[i]...`): a calibrated
team draws three per rep (87 parameters for 26 reps against 20 draws), which no 20 draws can
separate, and what a planner must see is which shared assumption the answer rests on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

COVERAGE = (5.0, 95.0)
"""The ends of a parameter's interval, as percentiles of its draws."""
PER_REP = "team."
"""Key paths of the reps' own drawn traits, left out of the regression."""


def draw_effects(
    kpis: pd.DataFrame, baseline: str, proposal: str, metric: str, draws: int
) -> pd.Series:
    """The mean paired effect (proposal - baseline) of `metric` per parameter draw."""
    base = kpis[kpis["scenario"] == baseline].set_index("replication")[metric]
    other = kpis[kpis["scenario"] == proposal].set_index("replication")[metric]
    diff = (other - base.reindex(other.index)).dropna()
    return diff.groupby(diff.index.to_numpy() % draws).mean()


def what_moves(
    kpis: pd.DataFrame,
    baseline: str,
    proposal: str,
    draws: list[dict[str, float]],
    metric: str = "bookings",
) -> pd.DataFrame:
    """Per drawn team-wide parameter: its interval (low, high), the effect at each end
    (at_low, at_high), the swing and its standard error; widest swing first. Empty when fewer
    draws were run than the regression needs (parameters + 3)."""
    table = pd.DataFrame(draws)
    table = table.loc[:, (table.nunique() > 1) & ~table.columns.str.startswith(PER_REP)]
    effects = draw_effects(kpis, baseline, proposal, metric, len(draws))
    columns = ["parameter", "low", "high", "at_low", "at_high", "swing", "swing_se"]
    if table.shape[1] == 0 or len(effects) < table.shape[1] + 3:
        return pd.DataFrame(columns=columns)
    params = table.loc[effects.index]
    mean, spread = params.mean(), params.std(ddof=0).replace(0, 1)
    design = np.column_stack([np.ones(len(params)), ((params - mean) / spread).to_numpy()])
    y = effects.to_numpy(float)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coef
    dof = len(y) - design.shape[1]
    sigma2 = float(residual @ residual) / dof
    cov = sigma2 * np.linalg.pinv(design.T @ design)
    rows = []
    for j, path in enumerate(params.columns, start=1):
        low, high = np.percentile(table[path].to_numpy(float), COVERAGE)
        z_low, z_high = (low - mean[path]) / spread[path], (high - mean[path]) / spread[path]
        at_low, at_high = coef[0] + coef[j] * z_low, coef[0] + coef[j] * z_high
        se = float(np.sqrt(cov[j, j]) * abs(z_high - z_low))
        rows.append((path, low, high, at_low, at_high, abs(at_high - at_low), se))
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("swing", ascending=False).reset_index(drop=True)


def hinge_sentence(table: pd.DataFrame, proposal: str, metric: str) -> str:
    """One sentence naming the parameter the answer hangs on (or saying none does)."""
    if table.empty:
        return "Too few parameter draws were run to re-estimate the effect at their ends."
    top = table.iloc[0]
    name = metric.replace("_", " ")
    ends = (
        f"{proposal}'s {name} effect is {top['at_low']:,.0f} at the low end of "
        f"{top['parameter']} ({top['low']:.3g}) and {top['at_high']:,.0f} at its high end "
        f"({top['high']:.3g})"
    )
    if top["swing"] <= 2 * top["swing_se"]:
        return (
            f"No parameter moves the answer beyond the noise of the draws: the widest swing, "
            f"{top['parameter']}, is within two standard errors ({ends})."
        )
    if np.sign(top["at_low"]) != np.sign(top["at_high"]):
        return (
            f"The answer hangs on {top['parameter']}: {ends}, so even the sign of the effect "
            "depends on a parameter the history pins down only to this interval."
        )
    return f"The answer moves most with {top['parameter']}: {ends}; its sign holds across the interval."

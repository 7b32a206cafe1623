"""The calibration report: tables of fitted against actual, the parameter table with 95 %
intervals, the rules and assumptions in words, and one plot; written as CSV + PNG + notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simplan.analysis.outcomes import family_dist
from simplan.model.calendar import PHASES, WEEKDAYS

PARAM_COLUMNS = ["parameter", "value", "ci_low", "ci_high", "unit"]


def params_table(
    arrivals, outcomes, sizes, shrinkage, skills, lead_rates, size_shrinkage
) -> pd.DataFrame:
    """One row per fitted parameter: value and 95 % interval (NaN where none is computed)."""
    rows = []
    nan = float("nan")
    for _, r in arrivals.rates.iterrows():
        tier = r["tier"]
        fit = outcomes[tier]
        rows.append((f"tier.{tier}.leads_per_working_day", r["per_working_day"], r["ci_low"],
                     r["ci_high"], "leads per working day (all, stale included)"))  # fmt: skip
        active = 1 - fit.stale_share
        rows.append((f"tier.{tier}.arrivals_per_day", r["per_working_day"] * active,
                     r["ci_low"] * (1 - fit.stale_ci[1]), r["ci_high"] * (1 - fit.stale_ci[0]),
                     "leads per working day that reach an outcome"))  # fmt: skip
        rows.append((f"tier.{tier}.win_probability", fit.win_probability, *fit.win_ci, "share"))
        rows.append((f"tier.{tier}.stale_share", fit.stale_share, *fit.stale_ci, "share"))
        rows.append((f"tier.{tier}.won_cycle_mean", fit.won_mean, *fit.won_mean_ci, "days"))
        rows.append((f"tier.{tier}.won_cycle_cv", fit.won_cv, *fit.won_cv_ci, "ratio"))
        rows.append((f"tier.{tier}.lost_cycle_mean", fit.lost_mean, nan, nan, "days"))
        size = sizes[tier]["fit"]
        rows.append((f"tier.{tier}.deal_size_mean", size.mean, *size.mean_ci, "currency"))
        rows.append((f"tier.{tier}.deal_size_cv", size.cv, *size.cv_ci, "ratio"))
    for code, value in arrivals.weekday.items():
        rows.append((f"weekday.{WEEKDAYS[code]}", value, nan, nan, "multiplier"))
    for code, value in arrivals.phase.items():
        rows.append((f"phase.{PHASES[code]}", value, nan, nan, "multiplier"))
    prior = shrinkage.prior_mean
    table = shrinkage.table.set_index("rep_id")
    for rep, fitted in skills.items():
        scale = fitted["shrunk_skill"] / table.loc[rep, "shrunk_rate"]
        rows.append((f"rep.{rep}.skill", fitted["shrunk_skill"], table.loc[rep, "ci_low"] * scale,
                     table.loc[rep, "ci_high"] * scale, "multiplier on win probability"))  # fmt: skip
    total = lead_rates.table["shrunk_per_day"].sum()
    for _, r in lead_rates.table.iterrows():
        rows.append((f"rep.{r['rep_id']}.lead_share", r["lead_share"], r["ci_low"] / total,
                     r["ci_high"] / total, "share of routed leads"))  # fmt: skip
    for _, r in size_shrinkage.table.iterrows():
        rows.append((f"rep.{r['rep_id']}.deal_size_multiplier", r["multiplier"], r["ci_low"],
                     r["ci_high"], "multiplier on the tier's deal size"))  # fmt: skip
    rows.append(("team.win_rate_prior_mean", prior, nan, nan, "share"))
    rows.append(("team.prior_strength", shrinkage.alpha + shrinkage.beta, nan, nan, "deals"))
    rows.append(("team.lead_rate_prior_shape", lead_rates.shape, nan, nan, "gamma shape"))
    rows.append(("team.deal_size_between_sd", size_shrinkage.between_sd, nan, nan, "log sd"))
    rows.append(("team.deal_size_within_sd", size_shrinkage.within_sd, nan, nan, "log sd"))
    frame = pd.DataFrame(rows, columns=PARAM_COLUMNS)
    for column in ("value", "ci_low", "ci_high"):
        frame[column] = frame[column].astype(float)
    return frame


@dataclass
class CalibrationReport:
    """Everything a reader needs to judge a calibration: tables, notes, the plot's data."""

    tables: dict[str, pd.DataFrame]
    notes: list[str]
    sizes: dict = field(default_factory=dict, repr=False)
    fits: dict = field(default_factory=dict, repr=False)
    plot_error: str = ""
    """Why fit.png could not be drawn (empty when it was)."""

    @classmethod
    def build(cls, *, history, prepared, window, arrivals, outcomes, sizes, shrinkage,
              skills, lead_rates, size_shrinkage, capacity, overhead, fit_deals, notes,
              params) -> CalibrationReport:  # fmt: skip
        """Assemble the report tables from the fits."""
        tiers = []
        for tier, fit in outcomes.items():
            counts = fit_deals[fit_deals["tier"] == tier]["outcome"].value_counts()
            closed = counts.get("won", 0) + counts.get("lost", 0)
            size = sizes[tier]["fit"]
            tiers.append(
                {
                    "tier": tier,
                    "won": counts.get("won", 0),
                    "lost": counts.get("lost", 0),
                    "open": counts.get("open", 0),
                    "raw_win_rate": counts.get("won", 0) / max(closed, 1),
                    "win_probability": fit.win_probability,
                    "stale_share": fit.stale_share,
                    "cycle_family": fit.family,
                    "cycle_parametric_best": fit.parametric,
                    "cycle_aic_gamma": fit.aic["gamma"],
                    "cycle_aic_lognormal": fit.aic["lognormal"],
                    "won_cycle_mean": fit.won_mean,
                    "won_cycle_cv": fit.won_cv,
                    "won_cycle_ks": fit.ks,
                    "lost_cycle_mean": fit.lost_mean,
                    "size_family": "empirical" if sizes[tier]["empirical"] else size.family,
                    "size_loglik_lognormal": size.loglik["lognormal"],
                    "size_loglik_gamma": size.loglik["gamma"],
                    "size_mean": size.mean,
                    "size_cv": size.cv,
                    "size_ks": size.ks,
                    "won_deals_sized": size.n,
                }
            )
        reps = shrinkage.table.copy()
        reps["skill"] = reps["rep_id"].map({r: v["skill"] for r, v in skills.items()})
        reps["ramp_share"] = reps["rep_id"].map({r: v["ramp_share"] for r, v in skills.items()})
        reps["tenure_days"] = reps["rep_id"].map({r: v["tenure_days"] for r, v in skills.items()})
        reps["leads"] = reps["rep_id"].map(fit_deals.groupby("rep_id").size()).fillna(0)
        reps["capacity_touches_per_day"] = reps["rep_id"].map(capacity)
        rates = lead_rates.table.set_index("rep_id")
        reps["leads_per_day"] = reps["rep_id"].map(rates["raw_per_day"])
        reps["leads_per_day_shrunk"] = reps["rep_id"].map(rates["shrunk_per_day"])
        reps["lead_share"] = reps["rep_id"].map(rates["lead_share"])
        multipliers = size_shrinkage.table.set_index("rep_id")
        reps["won_sized"] = reps["rep_id"].map(multipliers["won"])
        reps["raw_size_multiplier"] = reps["rep_id"].map(multipliers["raw_multiplier"])
        reps["deal_size_multiplier"] = reps["rep_id"].map(multipliers["multiplier"])
        weekly = (
            arrivals.daily.assign(week=pd.to_datetime(arrivals.daily["date"]).dt.to_period("W"))
            .groupby("week")[["actual", "fitted"]]
            .sum()
            .reset_index()
        )
        weekly["week"] = weekly["week"].astype(str)
        rules = [
            f"history: {history.source}, as of {history.as_of:%Y-%m-%d}",
            f"baseline window: {window[0]:%Y-%m-%d} .. {window[1]:%Y-%m-%d}",
            f"tier rule: {prepared.tier_rule}",
            f"anomaly rule: {prepared.anomaly_rule}; removed {len(prepared.removed):,} deals",
            "open deals: right-censored at the history's date (not counted as lost); stale "
            "leads (never closing) are a fitted share, left out of the simulated arrivals",
            f"engine overhead: {overhead:.2f} days of waiting for working hours per won deal, "
            "taken off the fitted cycle; contact and proposal delays 0.25 days each (the "
            "history has no stage dates), the rest of the cycle is the negotiation delay",
            "capacity: not in a CRM export; set to 3x the touches each rep's share of leads "
            "needs, scaled by how long their leads stay open, so queues stay short",
            "skill: shrunk win rate over the team's (beta-binomial), a multiplier on win "
            "probability only; deal sizes are fitted on amount / owner's deal_size_multiplier",
            "routing: share (each routed lead to a rep with probability proportional to the "
            "rep's fitted lead_share); leads without an owner in the history count in the "
            "arrivals and are routed the same way",
            "per-rep opportunity rate: leads created per day in the window, shrunk toward the "
            f"team by gamma-Poisson empirical Bayes (prior shape {lead_rates.shape:,.1f}: a rep "
            f"with E days of data keeps E / (E + {lead_rates.rate:,.0f}) of their own rate); "
            "lead_share is each rep's share of the shrunk rates",
            "per-rep deal size: each rep's mean log amount over their tier's, shrunk toward the "
            f"team (normal-normal on the log scale: between-rep sd {size_shrinkage.between_sd:.2f}"
            f", within-rep sd {size_shrinkage.within_sd:.2f}); deal_size_multiplier is exp of "
            "the shrunk mean",
            "not fitted: response-time decay (no response times in the export), relays, "
            "mentor pools; behaviour is constant effort unless the plan in force is given "
            "(then reps who plan ahead, their self-sourced share, closing elasticity, effort "
            "cost curvature and pipeline sight by simulated method of moments)",
        ]
        return cls(
            tables={
                "params": params,
                "tiers": pd.DataFrame(tiers),
                "arrivals": arrivals.rates,
                "weekly_arrivals": weekly,
                "reps": reps,
                "removed": prepared.removed,
                "tier_rule": prepared.tier_table,
            },
            notes=rules + notes,
            sizes=sizes,
            fits=outcomes,
        )

    def write(self, directory: Path) -> None:
        """CSV per table, notes.md, fit.png into an existing directory."""
        for name, table in self.tables.items():
            table.to_csv(directory / f"{name}.csv", index=False)
        text = "# Calibration notes\n\n" + "\n".join(f"- {n}" for n in self.notes) + "\n"
        (directory / "notes.md").write_text(text)
        try:
            self.plot(directory / "fit.png")
        except (ValueError, OverflowError, RuntimeError) as err:  # the tables stand without it
            self.plot_error = (
                f"fit.png not drawn ({type(err).__name__}: {err}); the tables are complete"
            )

    def plot(self, path: Path) -> None:
        """Four panels of fitted against actual: weekly leads, won cycles, deal sizes, reps."""
        fig = Figure(figsize=(11, 8))  # no pyplot: the caller's backend is left alone
        axes = fig.subplots(2, 2)
        weekly = self.tables["weekly_arrivals"]
        ax = axes[0, 0]
        ax.plot(range(len(weekly)), weekly["actual"], "o", ms=3, label="actual")
        ax.plot(range(len(weekly)), weekly["fitted"], "-", label="fitted")
        ax.set_title("Leads per week")
        ax.set_xlabel("week of the baseline window")
        ax.legend(fontsize=8)
        ax = axes[0, 1]
        for i, (tier, fit) in enumerate(self.fits.items()):
            order = np.argsort(fit.won_values)
            x = fit.won_values[order]
            ax.step(x, np.cumsum(fit.won_weights[order]), where="post", color=f"C{i}",
                    label=f"{tier} nonparametric")  # fmt: skip
            grid = np.linspace(0, max(x.max(), 1), 200)
            best = fit.parametric
            dist = family_dist(best, fit.won_mean, fit.won_cv)
            ax.plot(grid, dist.cdf(grid), "--", color=f"C{i}",
                    label=f"{tier} {best} (KS {fit.ks:.2f})")  # fmt: skip
        ax.set_title("Won cycle (days): nonparametric vs best family")
        ax.legend(fontsize=7)
        ax = axes[1, 0]
        for i, (tier, size) in enumerate(self.sizes.items()):
            amounts = np.sort(size["amounts"])
            q = (np.arange(len(amounts)) + 0.5) / len(amounts)
            fit = size["fit"]
            model = family_dist(fit.family, fit.mean, fit.cv).ppf(q)
            ax.loglog(model, amounts, ".", ms=2, color=f"C{i}", label=f"{tier} ({fit.family})")
        low, high = ax.get_xlim()
        ax.plot([low, high], [low, high], "k:", lw=1)
        ax.set_title("Deal size: observed against fitted quantiles")
        ax.set_xlabel("fitted quantile")
        ax.set_ylabel("observed")
        ax.legend(fontsize=7)
        ax = axes[1, 1]
        reps = self.tables["reps"]
        ax.errorbar(reps["raw_rate"], reps["shrunk_rate"],
                    yerr=[reps["shrunk_rate"] - reps["ci_low"], reps["ci_high"] - reps["shrunk_rate"]],
                    fmt="o", ms=3, alpha=0.7)  # fmt: skip
        lo = float(np.nanmin([reps["raw_rate"].min(), reps["ci_low"].min()]))
        hi = float(np.nanmax([reps["raw_rate"].max(), reps["ci_high"].max()]))
        ax.plot([lo, hi], [lo, hi], "k:", lw=1)
        ax.set_title("Rep win rate: raw vs shrunk toward the team (95 %)")
        ax.set_xlabel("raw win rate")
        ax.set_ylabel("shrunk win rate")
        fig.tight_layout()
        fig.savefig(path, dpi=110)

""" "What this means": a few sentences written from a run's or a comparison's numbers, so a
report opens with its conclusions (the effect with its interval, who gains and who loses by
attainment band and tenure, budget risk, what the answer hangs on).

Two intervals are named for what they are: a confidence interval of the mean (how well the
replications pin the average down) and, when the comparison carries `pi_low`/`pi_high`, a
predictive interval (where one period will land).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from simplan.analysis.budget import plan_budget, size_budget
from simplan.analysis.compare import Comparison
from simplan.report.formats import metric_name, text
from simplan.results import Results

PREDICTIVE_LEVEL = 0.9
"""Coverage of the comparison's predictive interval (`pi_low`, `pi_high`)."""
BANDS = (0.8, 1.0, 1.2)
"""Attainment band edges: below 80 %, 80-100 %, 100-120 %, above 120 %."""
BAND_NAMES = ("below 80%", "80-100%", "100-120%", "above 120%")
SELF_SOURCED = "self_sourced"
"""The `source` of the leads reps find themselves (the engines' name)."""


def run_conclusions(results: Results) -> list[str]:
    """Sentences about one run: bookings, reps at target, pay and budget risk, assumptions."""
    runs = results.runs
    n = len(runs)
    bookings = runs["bookings"]
    attainment = results.reps["attainment"].dropna()
    points = [
        f"The team books {text('bookings', bookings.median())} in a typical replication; "
        f"8 in 10 replications land between {text('bookings', bookings.quantile(0.1))} and "
        f"{text('bookings', bookings.quantile(0.9))} (P10-P90 over {n} replications)."
    ]
    if len(attainment):
        points.append(
            f"{(attainment >= 1).mean():.0%} of rep-periods reach target (median attainment "
            f"{attainment.median():.0%}); {(attainment < BANDS[0]).mean():.0%} end below 80%."
        )
    if "payout" in runs:
        points += _pay_points(results)
    else:
        points.append(
            "The scenario has no plan, so nothing is paid: run a proposal "
            "(scenarios/proposals/) to see payouts."
        )
    points.append(_assumptions(results))
    return points


def _pay_points(results: Results) -> list[str]:
    runs = results.runs
    payout = runs["payout"]
    cost = payout.sum() / runs["bookings"].sum()
    points = [
        f"The plan pays {text('payout', payout.median())} in a typical replication (P90 "
        f"{text('payout', payout.quantile(0.9))}), {cost:.1%} of bookings."
    ]
    budget = plan_budget(results)
    sizing = size_budget(results, budget)
    if budget is None:
        points.append(
            f"The plan sets no budget; one that covers payout in 9 replications out of 10 "
            f"is {text('budget', sizing.needed)}."
        )
    else:
        over = float((payout > budget).mean())
        verdict = "holds" if over <= 0.1 else "is at risk"
        points.append(
            f"The budget of {text('budget', budget)} {verdict}: payout exceeds it in "
            f"{over:.0%} of replications; {text('budget', sizing.needed)} covers 9 in 10."
        )
    by_band = _by_band(results.reps)
    if by_band:
        points.append("Pay per rep-period by attainment: " + by_band + ".")
    return points


def _by_band(reps: pd.DataFrame) -> str:
    """Median pay per rep-period in each attainment band with the band's share."""
    paid = reps.dropna(subset=["attainment"])
    if paid.empty:
        return ""
    band = pd.cut(paid["attainment"], [-np.inf, *BANDS, np.inf], labels=BAND_NAMES, right=False)
    parts = []
    for name, group in paid.groupby(band, observed=True):
        parts.append(
            f"{name} ({len(group) / len(paid):.0%} of rep-periods) median "
            f"{text('payout', group['payout'].median())}"
        )
    return "; ".join(parts)


def _assumptions(results: Results) -> str:
    scenario = results.manifest.get("scenario", {})
    model = scenario.get("behaviour", {}).get("model", "constant")
    n = results.runs["replication"].nunique()
    if model == "constant":
        behaviour = "reps keep the same effort whatever the plan pays"
    else:
        behaviour = (
            f"reps respond to the plan ({model}) with the effort cost and elasticity the "
            "scenario states"
        )
    return f"What this hangs on: {behaviour}; {n} replications of one seed."


def comparison_conclusions(comparison: Comparison) -> list[str]:
    """Sentences about each proposal against the baseline: bookings and payout with their
    intervals, who gains and who loses (attainment band, tenure), budget risk."""
    base = comparison.scenarios[0]
    differences = comparison.differences.set_index(["scenario", "metric"])
    level = f"{comparison.confidence:.0%}"
    points = []
    for name in comparison.scenarios[1:]:
        for metric in ("bookings", "payout"):
            if (name, metric) not in differences.index:
                continue
            row = differences.loc[(name, metric)]
            if not np.isfinite(row["difference"]):
                continue
            points.append(_effect(name, base, metric, row, level))
        points += _budget_risk(comparison, name)
        gains = gains_and_losses(comparison.results[base], comparison.results[name])
        if gains:
            points.append(f"Against {base}, {name}: {gains}.")
    points.append(_assumptions(comparison.results[comparison.scenarios[-1]]))
    return points


def _effect(name: str, base: str, metric: str, row: pd.Series, level: str) -> str:
    difference = float(row["difference"])
    low, high = float(row["ci_low"]), float(row["ci_high"])
    word = "more" if difference >= 0 else "less"
    if low > 0 or high < 0:
        verdict = "a real difference"
    else:
        verdict = "not distinguishable from no change at this number of replications"
    sentence = (
        f"{name} {'books' if metric == 'bookings' else 'pays'} "
        f"{text(metric, abs(difference))} {word} than {base} per replication "
        f"({metric_name(metric)}; {level} confidence interval of the mean difference "
        f"{text(metric, low)} to {text(metric, high)}: {verdict})"
    )
    if "pi_low" in row and np.isfinite(row["pi_low"]):
        sentence += (
            f"; one period's difference lands between {text(metric, row['pi_low'])} and "
            f"{text(metric, row['pi_high'])} ({PREDICTIVE_LEVEL:.0%} predictive interval)"
        )
    return sentence + "."


def _budget_risk(comparison: Comparison, name: str) -> list[str]:
    summary = comparison.summary.set_index(["scenario", "metric"])
    if (name, "over_budget") not in summary.index:
        return []
    risk = float(summary.loc[(name, "over_budget"), "mean"])
    if not np.isfinite(risk):
        return []
    return [f"{name} exceeds its budget in {risk:.0%} of replications."]


def gains_and_losses(base: Results, proposal: Results) -> str:
    """Who gains and who loses, rep by rep on the same customers (common random numbers):
    the mean change in pay (bookings, when either run has no plan) per rep over the run, by
    the rep's attainment band under the baseline and by tenure."""
    measure = "payout" if "payout" in base.reps and "payout" in proposal.reps else "bookings"
    keys = ["replication", "rep_id"]
    before = base.reps.groupby(keys, observed=True).agg(
        tenure=("tenure", "first"),
        target=("target", "sum"),
        bookings=("bookings", "sum"),
        value=(measure, "sum"),
    )
    after = proposal.reps.groupby(keys, observed=True)[measure].sum()
    paired = before.join(after.rename("after"), how="inner")
    if paired.empty:
        return ""
    paired["change"] = paired["after"] - paired["value"]
    attainment = paired["bookings"] / paired["target"].where(paired["target"] > 0)
    band = pd.cut(attainment, [-np.inf, *BANDS, np.inf], labels=BAND_NAMES, right=False)
    by_band = paired.groupby(band, observed=True)["change"].mean()
    by_tenure = paired.groupby("tenure", observed=True)["change"].mean()
    unit = "pay" if measure == "payout" else "bookings"

    def signed(value: float) -> str:
        return ("+" if value >= 0 else "-") + text(measure, abs(value))

    bands = ", ".join(f"{b} {signed(v)}" for b, v in by_band.items())
    tenures = ", ".join(f"{t.replace('_', ' ')} {signed(v)}" for t, v in by_tenure.items())
    return (
        f"mean change in {unit} per rep over the run, by the rep's attainment under the "
        f"baseline: {bands}; by tenure: {tenures}"
    )


def funnel_notes(results: Results) -> list[str]:
    """Why proposal alerts and relays come out as they do (each follows the rule the
    scenario states; these say which rule and how often it bit)."""
    deals, runs = results.deals, results.runs
    scenario = results.manifest.get("scenario", {})
    funnel, routing = scenario.get("funnel", {}), scenario.get("routing", {})
    n = max(runs["replication"].nunique(), 1)
    proposals = int((deals["stage"].cat.codes >= 2).sum())
    alerts = float(deals["alerts"].sum())
    timeout = funnel.get("proposal_timeout_days", 3)
    notes = [
        f"Proposal alerts ({alerts / n:,.0f} per replication against "
        f"{runs['deals_won'].mean():,.0f} deals won): an alert fires each time a proposal "
        f"has waited {timeout:g} days for the customer's answer, and again after each "
        f"follow-up, on every proposal including those later lost; {proposals / n:,.0f} "
        f"proposals per replication raised {alerts / max(proposals, 1):.1f} each on average."
    ]
    relay = routing.get("relay", {})
    if relay.get("enabled"):
        waited = deals["first_response_hours"].max() / 24
        notes.append(
            f"Relays ({runs['relays'].mean():,.1f} per replication): a touch that has waited "
            f"{relay.get('idle_days', 7):g} days in its owner's queue passes to another rep. "
            f"The longest wait for a first response here was {waited:.1f} days; relays happen "
            "only when reps fall that far behind (time the lead spends waiting on the customer "
            "does not count)."
        )
    return notes


def response_notes(results: Results) -> list[str]:
    """Why a priority tier can be answered later than another: what the routing gives it,
    and how self-sourced leads (answered at once) pull their tier's median down."""
    deals = results.deals
    routing = results.manifest.get("scenario", {}).get("routing", {})
    notes = []
    priority = routing.get("priority_tiers") or []
    if (
        priority
        and routing.get("policy") != "tier_priority"
        and not routing.get("response_red_line_hours")
    ):
        notes.append(
            f"Priority tiers ({', '.join(priority)}) get no precedence here: the routing "
            f"policy is {routing.get('policy')} (only tier_priority sends them to top sellers) "
            "and there is no response red line (which puts their first contact at the front "
            "of the queue), so every first contact waits its turn behind follow-ups."
        )
    sourced = deals["source"].astype(str) == SELF_SOURCED
    if sourced.any():
        mine = deals.loc[sourced, "first_response_hours"].median()
        inbound = deals.loc[deals["source"].astype(str) == "new", "first_response_hours"].median()
        tiers = ", ".join(sorted(deals.loc[sourced, "tier"].astype(str).unique()))
        notes.append(
            f"Leads reps find themselves (tiers {tiers}; {sourced.mean():.0%} of leads) are "
            f"answered in a median {mine:.1f} hours by the rep who found them, against "
            f"{inbound:.1f} hours for routed new leads, which pulls each tier's median down; "
            "the table splits first response by source."
        )
    return notes

"""What each marked block of the README must quote (tests/test_readme.py checks it).

BLOCKS[NAME] is the producer of the block marked `<!-- figures: NAME -->`: from the scenario
files, the code's constants and defaults, and the figures file (`figures`, the code's output
written by `python -m tests.readme_figures`), the texts the block must contain. Every number
in the block must come from one of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import simplan
from simplan.scenario import Scenario

from .conftest import ROOT
from .readme_figures import SCENARIOS


def about(value: float, digits: int = 2) -> str:
    """A value rounded to `digits` significant figures, as the README writes 'about' ones."""
    if value == 0:
        return "0"
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, decimals)
    return f"{rounded:,.{max(decimals, 0)}f}"


def pct(share: float, decimals: int = 0) -> str:
    return f"{100 * share:.{decimals}f} %"


def millions(amount: float, decimals: int = 1) -> str:
    return f"{amount / 1e6:.{decimals}f} million"


def share_list(*shares: float) -> str:
    return "/".join(f"{100 * s:.0f}" for s in shares)


def scenario(name: str) -> Scenario:
    return simplan.load_scenario(ROOT / SCENARIOS[name])


def component(plan, kind: str):
    return next(c for c in plan.components if c.type == kind)


def demo_plan(figures: dict) -> list[str]:
    """`make demo`: the plan's lines and the run's replications, from the files."""
    demo = scenario("demo")
    plan = demo.plan
    tiers = component(plan, "tiered_commission").tiers
    step = component(plan, "attainment_bonus").steps[0]
    return [
        f"{pct(tiers[0].rate)} commission",
        f"a {step.amount:,.0f} bonus at {pct(step.threshold)}",
        f"{pct(tiers[1].rate)} above {pct(tiers[1].threshold)}",
        f"nothing variable below {pct(component(plan, 'gate').threshold)}",
        f"no credit above {pct(component(plan, 'attainment_cap').max_attainment)}",
        f"{demo.simulation.replications} replications",
    ]


def shipped(figures: dict) -> list[str]:
    """What the shipped scenarios produce: their inputs from the files, their figures from
    the figures file."""
    base, retail = scenario("baseline"), scenario("retail")
    b, d, r = (figures[k]["values"] for k in ("baseline", "demo", "retail"))
    assert base.simulation.replications == retail.simulation.replications
    phases = base.calendar.sprint.phases
    relay = base.routing.relay
    contest = retail.calendar.levers.referral_contest
    return [
        f"team of {base.team.size}",
        f"Q4 {base.calendar.start.year}",
        f"{base.calendar.days / 7:.0f} weeks",
        f"{base.calendar.warmup_days} warm-up days",
        f"phases {share_list(phases.build.share, phases.burst.share, phases.close_out.share)}",
        f"{pct(base.team.tenure_mix.new_hire)} new hires",
        f"relay after {relay.idle_days:.0f} idle days",
        f"{share_list(relay.closer_share, 1 - relay.closer_share)} split",
        f"about {millions(b['bookings P50'])} a quarter (P50)",
        f"win rates about {pct(b['win rate A'])} (A), {pct(b['win rate B'])} (B), "
        f"{pct(b['win rate C'])} (C)",
        f"median won cycle about {b['median cycle days (won)'] / 7:.1f} weeks",
        f"about {pct(b['share of reps at target'])} of reps at a "
        f"{base.team.quota.per_period:,.0f} target",
        f"(median attainment {b['attainment P50']:.2f}, P10 {b['attainment P10']:.2f}, "
        f"P90 {b['attainment P90']:.2f})",
        f"about {pct(b['top tenth share of bookings'])} of bookings",
        f"about {millions(d['bookings P50'])} (P50)",
        f"pays {millions(d['payout P50'], 2)} (P50; P90 {millions(d['payout P90'], 2)})",
        f"{pct(d['cost of sales (payout share)'], 1)} of bookings",
        f"{pct(d['share of reps at target'])} of reps",
        f"team of {retail.team.size}",
        f"March {retail.calendar.start.year}",
        f"from the {retail.calendar.sprint.opens_on_day}th",
        f"({contest.reward_per_referral:.0f} per won referral)",
        f"around {about(r['bookings P50'])} booked",
        f"about {pct(r['share of reps at target'])} of the reps at target",
        f"({base.simulation.replications} replications",
    ]


def odd_numbers(figures: dict) -> list[str]:
    """The three numbers that look odd: each figure, and each claim the text makes."""
    base = scenario("baseline")
    b, d = figures["baseline"]["values"], figures["demo"]["values"]
    answers = [t.stage_delays_days.proposal.mean for t in base.leads.tiers]
    a_hours, b_hours = b["median first response hours A"], b["median first response hours B"]
    inbound = [b[f"median first response hours {t.name} new"] for t in base.leads.tiers]
    assert a_hours > b_hours - 0.5, "the README says tier A is answered no sooner than B"
    assert max(inbound) - min(inbound) < 1.5, "the README says inbound leads wait alike"
    sourced = [v for k, v in b.items() if k.endswith(" self_sourced")]
    assert max(sourced) < 1, "the README says self-sourced leads are answered within the hour"
    routing = base.routing
    assert routing.policy == "least_loaded"
    assert routing.response_red_line_hours is None
    assert "priority_tiers" not in routing.model_fields_set, "the README: the baseline omits it"
    relay_days = base.routing.relay.idle_days
    return [
        f"about {about(b['proposal alerts per replication'])} a replication",
        f"about {about(b['deals won per replication'])} wins",
        f"`funnel.proposal_timeout_days` ({base.funnel.proposal_timeout_days:.0f})",
        f"take {min(answers):.0f}-{max(answers):.0f} days on average",
        f"~{about(b['proposals per replication'])} proposals",
        f"about {b['alerts per proposal']:.0f} alerts each",
        f"(median about {a_hours:.1f} h for A, {b_hours:.1f} h for B)",
        f"wait about {b['median first response hours A+B new']:.0f} h",
        f"**{b['relays per replication']:.0f} relays",
        f"relays after {relay_days:.0f} days",
        f"`routing.relay.idle_days` ({relay_days:.0f})",
        f"under {math.ceil(b['longest first response days'])} days",
        f"about {about(d['relays per replication'])} leads a replication relay",
    ]


def bounds(model, field: str) -> tuple[float, float]:
    """The (ge, le) a pydantic field allows."""
    metadata = model.model_fields[field].metadata
    low = next(m.ge for m in metadata if getattr(m, "ge", None) is not None)
    return low, next(m.le for m in metadata if getattr(m, "le", None) is not None)


CITATIONS = ("Misra & Nair 2011", "Chung, Steenburgh & Sudhir 2014")
"""Texts with numbers that are not figures: the papers the behaviour model follows."""


def model(figures: dict) -> list[str]:
    """How the model works: the defaults and the baseline's settings it quotes."""
    from simplan.model.behaviour import BehaviourParams
    from simplan.model.leads import DormantParams, FunnelParams
    from simplan.model.production import ProductionParams
    from simplan.model.team import NewHireParams, TeamParams

    hire, decay = NewHireParams(), scenario("baseline").leads.tiers[0].response_decay
    low, high = bounds(TeamParams, "squad_size")
    share = ProductionParams().self_sourced_share
    effort = f"effort {BehaviourParams().effort:g}"
    return [
        f"squads of {low}-{high}",
        f"are {pct(hire.cycle_multiplier - 1)} longer",
        f"ramps from {pct(hire.initial_share)} to {pct(hire.target_share)} of their mentor's "
        f"over {hire.ramp_days} days",
        f"(A: answered after {decay.after_hours:g} h loses {pct(decay.loss)} of the wins)",
        f"dormant leads after {DormantParams().after_days} days",
        f"without an answer for {FunnelParams().proposal_timeout_days:g} days",
        "default 1/3" if math.isclose(share, 1 / 3) else f"default {share:g}",
        f"at {effort} (",
        f"At {effort} the team's volume",
        f"says what {effort} means",
        *CITATIONS,
    ]


def option_defaults(*path: str) -> dict[str, object]:
    """A `simplan` command's options with their defaults, e.g. option_defaults("history", "check")."""
    import typer

    from simplan.cli import app

    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return {o: p.default for p in command.params for o in p.opts}


def payout(figures: dict) -> list[str]:
    """`simplan payout`: the anomaly rule's defaults, the same as `history check`'s."""
    defaults = option_defaults("payout")
    multiple, quantile = defaults["--amount-multiple"], defaults["--amount-quantile"]
    checks = option_defaults("history", "check")
    assert (checks["--amount-multiple"], checks["--amount-quantile"]) == (multiple, quantile)
    return [f"{multiple:g} x the {pct(quantile, 1)} quantile by default", "`share` as 0..1"]


def report(figures: dict) -> list[str]:
    """The report and workbook: the bands, levels and page width the code uses."""
    import inspect

    from simplan.analysis.budget import size_budget
    from simplan.report.conclusions import BANDS, PREDICTIVE_LEVEL

    from .test_browser import WIDTH

    confidence = inspect.signature(size_budget).parameters["confidence"].default
    low, mid, high = (round(100 * b) for b in BANDS)
    return [
        f"covers {confidence * 10:.0f} replications in 10",
        f"(below {low} %, {low}-{mid} %, {mid}-{high} %, above {high} %)",
        f"({pct(PREDICTIVE_LEVEL)} predictive",
        f"at {WIDTH:,} px",
        f"the budget a {pct(confidence)} confidence needs",
    ]


def keep(figures: dict) -> list[str]:
    """Streaming: the sample that keeps every table, and when `simplan run` streams."""
    from simplan.runner import KEEP_ALL_UP_TO, SAMPLE_REPLICATIONS

    return [f"past a sample of {SAMPLE_REPLICATIONS}", f"above {KEEP_ALL_UP_TO} replications"]


def prior(figures: dict) -> list[str]:
    """The prior calibrate uses when the plan in force cannot identify the response."""
    from simplan.analysis.behaviour_fit import (
        PRIOR_CLOSING,
        PRIOR_CURVATURES,
        PRIOR_SHARES,
        PRIOR_SIGHTS,
    )

    return [
        f"(self-sourced share {min(PRIOR_SHARES):g}–{max(PRIOR_SHARES):g}, closing elasticity "
        f"{min(PRIOR_CLOSING):g}–{max(PRIOR_CLOSING):g}, cost curvature "
        f"{min(PRIOR_CURVATURES):g}–{max(PRIOR_CURVATURES):g}, pipeline sight "
        f"{min(PRIOR_SIGHTS):g}–{max(PRIOR_SIGHTS):g})"
    ]


def intervals(figures: dict) -> list[str]:
    """The two intervals of `simplan compare`: the predictive level, its percentiles and how
    many replications it needs."""
    level = option_defaults("compare")["--predictive"]
    tail = round(50 * (1 - level))
    assert level * 99 / 101 >= level - 0.02, "100 replications give a faithful interval"
    return [
        f"the **{pct(level)} predictive interval**",
        f"the {tail}th to {100 - tail}th percentile",
        f"about {level:g} (n − 1)/(n + 1), so run 100 or more for a faithful {pct(level)};",
    ]


def world(figures: dict) -> list[str]:
    """The ground-truth world's predicted-vs-truth rows, from the file `bench_world` writes
    (`tests/data/world_predictions.json`: the three commands run on the world's export)."""
    import json

    record = json.loads((ROOT / "tests" / "data" / "world_predictions.json").read_text())
    texts = []
    for row in record["table"]:
        if row["metric"] == "share_at_target":
            continue
        texts.append(
            f"| {row['plan']} {row['metric']} | {row['predicted']:,.0f} ({row['pi_low']:,.0f} .. "
            f"{row['pi_high']:,.0f}) | {row['truth']:,.0f} |"
        )
    return texts


def walkthrough(figures: dict) -> list[str]:
    """The calibrate walkthrough: the corpus truth, then what the three commands print and
    write on its closed-only export, run here (`tests.corpus.walkthrough.run_walkthrough`,
    about 20 s of one core)."""
    import tempfile
    from pathlib import Path

    from simplan.analysis.fit_check import shown

    from .corpus import AS_OF, TRUTH
    from .corpus.walkthrough import PERIODS, PLANS, run_walkthrough

    with tempfile.TemporaryDirectory() as folder:
        run = run_walkthrough(Path(folder))
    a, b = TRUTH["leads"]["tiers"]
    outcomes, params, fit = run["outcomes"], run["params"], run["fit_check"]
    texts = [
        f"{len(TRUTH['team']['roster'])} reps; tier A {a['arrivals_per_day']} leads a day, win "
        f"probability {a['win_probability']}, deals of {a['deal_size']['mean']:,}; tier B "
        f"{b['arrivals_per_day']} a day, {b['win_probability']}, {b['deal_size']['mean']:,};",
        f"two quarters to {AS_OF}.",
        f"--as-of {AS_OF} --periods {PERIODS}",
        f"reads {sum(outcomes.values()):,} opportunities ({outcomes.get('won', 0):,} won, "
        f"{outcomes.get('lost', 0):,} lost, {outcomes.get('open', 0):,} open)",
        f"opened shortly before {AS_OF} are missing unless they closed",
    ]
    note = next(line for line in run["notes"].splitlines() if "closed-only correction:" in line)
    counted = note.split("closed-only correction: ")[1].split(": a deal opened")[0]
    within = note.split("Lynden-Bell estimate; ")[1].split(")")[0]
    texts += [counted, within, note.split("); ")[1]]

    def win(tier: str) -> str:
        value, low, high = params.loc[
            f"tier.{tier}.win_probability", ["value", "ci_low", "ci_high"]
        ]
        return f"{pct(value, 1)} [{pct(low, 1)}, {pct(high, 1)}] ({tier})"

    size = [f"{params.loc[f'tier.{t}.deal_size_mean', 'value']:,.0f}" for t in "AB"]
    texts += [f"{win('A')} and {win('B')}", f"deals of {size[0]} and {size[1]}"]
    texts.append(f"{option_defaults('calibrate')['--fit-check']} replications), as it printed it:")
    texts += [
        f"{row.metric} {row.key} {shown(row.metric, row.history)} {shown(row.metric, row.low)} .. "
        f"{shown(row.metric, row.high)} {'yes' if row.inside else 'MISS'}"
        for row in fit.itertuples()
    ]
    draws = len(run["scenario"]["uncertainty"]["draws"])
    differences = run["differences"].set_index("metric")
    paid = differences.loc["payout"]
    summary = run["summary"].set_index(["scenario", "metric"])["mean"]
    assert differences.loc["bookings", "difference"] == 0, "constant effort: the same bookings"
    level = option_defaults("compare")["--predictive"]
    texts += [
        f"the same {draws} parameter draws",
        f"{paid['scenario']} pays {abs(paid['difference']):,.0f} "
        f"{'less' if paid['difference'] < 0 else 'more'} ({pct(level)} predictive interval "
        f"{paid['pi_low']:,.0f} .. {paid['pi_high']:,.0f}) for the same "
        f"{summary[(Path(PLANS[0]).stem, 'bookings')]:,.0f} of bookings",
    ]
    return texts


BLOCKS: dict[str, Callable[[dict], list[str]]] = {
    "walkthrough": walkthrough,
    "world": world,
    "prior": prior,
    "intervals": intervals,
    "keep": keep,
    "report": report,
    "payout": payout,
    "model": model,
    "demo-plan": demo_plan,
    "shipped": shipped,
    "odd-numbers": odd_numbers,
}

"""The README cannot drift from the code.

Figures: a line `<!-- figures: NAME -->` marks the block that follows it (up to the next blank
line). BLOCKS[NAME] writes, from the scenario files and tests/data/readme_figures.json (the
code's output, written by `python -m tests.readme_figures`), every text the block must
quote; the block must contain each, and every number in it (outside `code`) must be one of
theirs, so a figure typed by hand or left stale fails here. The figures file is checked
against the code by re-simulating replication 0 of each scenario.

Tree: `<!-- tree: NAME -->` marks a list the code or the tree holds, checked both ways: the
layout (every path exists; every module, package and top-level folder listed), the notebooks
table, the commands table (every command listed, every option quoted exists), the plan example
(the shipped file), the component types (the registered ones) and the tables' columns.

Blocks in other engineers' sections carry markers only (keep, prior).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable

import numpy as np
import pytest

import simplan
from simplan.scenario import Scenario

from .conftest import ROOT
from .readme_figures import FIGURES, SCENARIOS

README = ROOT / "README.md"
MARKER = re.compile(r"^<!-- (figures|tree): ([\w-]+) -->\s*$")
CODE = re.compile(r"`[^`]*`")
NUMBER = re.compile(r"(?<![\w.,])\d+(?:,\d{3})*(?:\.\d+)?")


def marked_blocks() -> dict[tuple[str, str], str]:
    """Each marked block of the README by (kind, name): the lines after the marker up to a
    blank line (a fenced block runs to its closing fence)."""
    lines = README.read_text().splitlines()
    blocks = {}
    for i, line in enumerate(lines):
        match = MARKER.match(line)
        if not match:
            continue
        body, fenced = [], False
        for text in lines[i + 1 :]:
            if text.startswith("```"):
                fenced = not fenced
            if not text.strip() and not fenced:
                break
            body.append(text)
        blocks[(match[1], match[2])] = "\n".join(body)
    return blocks


def numbers(text: str) -> set[str]:
    """The numbers written in a text, outside `code` spans."""
    return set(NUMBER.findall(CODE.sub(" ", text)))


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


@pytest.fixture(scope="module")
def figures() -> dict:
    return json.loads(FIGURES.read_text())["scenarios"]


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
    """`--keep`: how many replications keep every table."""
    from simplan.runner import SAMPLE_REPLICATIONS

    return [f"for the first {SAMPLE_REPLICATIONS}"]


def prior(figures: dict) -> list[str]:
    """The prior calibrate uses when the plan in force cannot identify the response."""
    from simplan.analysis.behaviour_fit import PRIOR_CURVATURES, PRIOR_SHARES

    return [
        f"(self-sourced share {min(PRIOR_SHARES):g}–{max(PRIOR_SHARES):g}, cost curvature "
        f"{min(PRIOR_CURVATURES):g}–{max(PRIOR_CURVATURES):g})"
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


BLOCKS: dict[str, Callable[[dict], list[str]]] = {
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


def test_every_figures_marker_has_a_producer():
    marked = {name for kind, name in marked_blocks() if kind == "figures"}
    assert marked == set(BLOCKS), f"markers {sorted(marked)} against producers {sorted(BLOCKS)}"
    trees = {name for kind, name in marked_blocks() if kind == "tree"}
    assert trees == {"layout", "notebooks", "commands", "plan-example", "components", "tables"}


@pytest.mark.parametrize("name", sorted(BLOCKS))
def test_marked_figures_are_the_codes(name, figures):
    block = " ".join(marked_blocks()[("figures", name)].split())  # line breaks as spaces
    expected = BLOCKS[name](figures)
    missing = [text for text in expected if text not in block]
    typed = sorted(numbers(block) - numbers(" ".join(expected)))
    quote = "The block must quote: " + " | ".join(expected)
    assert not missing, f"README block {name!r} misses {missing}. {quote}"
    assert not typed, f"README block {name!r}: numbers no producer writes: {typed}. {quote}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_figures_file_is_what_the_code_produces(name, figures):
    """Same scenario, same replication 0, same quoted runs figures: else re-run
    `python -m tests.readme_figures` and update the README from the failures above."""
    stored = figures[name]
    loaded = scenario(name)
    stale = "tests/data/readme_figures.json is stale: run python -m tests.readme_figures"
    assert stored["digest"] == loaded.digest(), f"{stored['path']} changed; {stale}"
    assert len(stored["runs"]) == loaded.simulation.replications
    first = simplan.simulate(loaded, replications=1, workers=1).runs.iloc[0]
    row = stored["runs"][0]
    for column, value in row.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            assert np.isclose(first[column], value, rtol=1e-9), f"{name} {column}: {stale}"
        else:
            assert first[column] == value, f"{name} {column}: {stale}"
    bookings = np.array([r["bookings"] for r in stored["runs"]])
    assert np.isclose(np.quantile(bookings, 0.5), stored["values"]["bookings P50"])


def layout_entries() -> dict[str, str]:
    """The layout block's paths with the description on their line and the lines under it."""
    entries: dict[str, str] = {}
    current = None
    for line in marked_blocks()[("tree", "layout")].splitlines():
        if line.startswith("```"):
            continue
        if line and not line.startswith(" "):
            current, _, rest = line.partition(" ")
            entries[current] = rest
        elif current is not None:
            entries[current] += " " + line.strip()
    return entries


def test_the_layout_lists_the_tree():
    entries = layout_entries()
    missing = [path for path in entries if not (ROOT / path).exists()]
    assert not missing, f"README layout lists paths that do not exist: {missing}"
    for path, text in entries.items():
        if path.endswith("/"):
            named = re.findall(r"\b(\w+\.py)\b", text)
            absent = [n for n in named if not (ROOT / path / n).exists()]
            assert not absent, f"README layout: {path} names {absent}, which are not there"
    package = ROOT / "simplan"
    modules = {
        f"simplan/{p.name}" + ("/" if p.is_dir() else "")
        for p in package.iterdir()
        if (p.suffix == ".py" and p.name != "__init__.py") or (p / "__init__.py").is_file()
    }
    folders = {
        f"{p.name}/"
        for p in ROOT.iterdir()
        if p.is_dir() and not p.name.startswith(".") and p.name != "runs"
        and not p.name.endswith(".egg-info")
    }  # fmt: skip
    unlisted = sorted(modules - set(entries)) + sorted(
        folder for folder in folders if not any(path.startswith(folder) for path in entries)
    )
    assert not unlisted, f"README layout does not list {unlisted}"


def test_the_notebooks_table_lists_every_notebook():
    table = marked_blocks()[("tree", "notebooks")]
    listed = re.findall(r"^\| `([^`]+\.ipynb)` \|", table, flags=re.MULTILINE)
    present = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(listed) == present, f"README notebooks table {listed} against {present}"


def cli_commands() -> dict[str, set[str]]:
    """Every `simplan` command path (e.g. "history check") with the options it takes."""
    import typer

    from simplan.cli import app

    found = {}

    def walk(command, path: str) -> None:
        if hasattr(command, "commands"):  # a group
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}

    walk(typer.main.get_command(app), "")
    return found


def test_the_commands_table_lists_every_command_with_real_options():
    commands = cli_commands()
    table = marked_blocks()[("tree", "commands")]
    listed = set()
    for row in table.splitlines()[2:]:
        first = row.split(" | ")[0]
        for span in re.findall(r"`(simplan [^`]*)`", first):
            words = span.split()[1:]
            path = " ".join(w for w in words[:2] if re.fullmatch(r"[a-z]+", w))
            while path and path not in commands:  # "history check FILE": the longest prefix
                path = path.rsplit(" ", 1)[0] if " " in path else ""
            options = set(re.findall(r"--[a-z][\w-]*", span))
            named = re.search(r"\(on ([a-z, ]+)\)", row)
            targets = [path] if path else [n.strip() for n in named[1].split(",")] if named else []
            assert targets, f"README commands table: {span!r} names no command of simplan"
            for command in targets:
                unknown = sorted(options - commands[command])
                assert not unknown, f"README: simplan {command} has no option {unknown}"
                listed.add(command)
    assert listed == set(commands), f"README commands table misses {set(commands) - listed}"


def test_the_plan_example_is_the_shipped_plan():
    import yaml

    block = marked_blocks()[("tree", "plan-example")]
    example = yaml.safe_load(block.strip().removeprefix("```yaml").removesuffix("```"))
    shipped = yaml.safe_load((ROOT / "scenarios/plans" / f"{example['name']}.yaml").read_text())
    shipped.pop("description", None)
    assert example == shipped, "README plan example differs from its file in scenarios/plans"


def test_the_component_types_listed_are_the_registered_ones():
    from simplan.model.plan import COMPONENT_TYPES

    text = " ".join(marked_blocks()[("tree", "components")].split())
    listed = text.removeprefix("Component types:").split(";")[0]
    assert sorted(n.strip() for n in listed.split(",")) == sorted(COMPONENT_TYPES)


def test_the_tables_section_lists_every_column(small_scenario, tmp_path):
    """Each table's columns as the README lists them (after `replication`), with and without
    a plan: checked on the small scenario, a day's run under the demo's plan."""
    rows = re.findall(
        r"^\| `(\w+)` \| [^|]+ \| ([^|]+) \|$", marked_blocks()[("tree", "tables")], re.M
    )
    listed = {}
    for table, text in rows:
        always, _, planned = text.replace("(empty without a plan)", "").partition("; with a plan:")
        listed[table] = (
            [c.strip() for c in always.split(",")],
            [c.strip() for c in planned.split(",") if c.strip()],
        )
    plan = scenario("demo").plan
    runs = {
        "without": simplan.simulate(small_scenario, replications=1, workers=1),
        "with": simplan.simulate(
            small_scenario.model_copy(update={"plan": plan}), replications=1, workers=1
        ),
    }
    for name, results in runs.items():
        tables = results.tables()
        assert sorted(listed) == sorted(tables), f"README tables {sorted(listed)}"
        for table, (always, planned) in listed.items():
            expected = ["replication", *always, *(planned if name == "with" else [])]
            assert list(tables[table].columns) == expected, f"README table {table} ({name} a plan)"

"""What the report says about a run or a comparison: its sections, in reading order."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from simplan import __version__
from simplan.analysis.budget import plan_budget
from simplan.analysis.compare import Comparison, narrowing_text
from simplan.model.plan import Plan
from simplan.report import conclusions, figures, statements, tables
from simplan.report.formats import metric_name, shown_as, text, unit_kind
from simplan.report.html import Section, Table, render_page
from simplan.report.source import Source, run_plan
from simplan.report.what_moves import what_moves_section
from simplan.results import Results


def render_report(source: Source) -> str:
    """The report of a saved run or comparison as one self-contained HTML document."""
    if source.comparison is None:
        name, results = next(iter(source.runs.items()))
        sections = run_sections(name, results)
        title = f"simplan report: {name}"
    else:
        sections = comparison_sections(source, source.comparison)
        title = f"simplan comparison: {source.title}"
    created = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return render_page(
        title, _meta(source), sections, f"written by simplan {__version__} on {created}"
    )


def _meta(source: Source) -> list[tuple[str, str]]:
    rows = [("from", str(source.path) if source.path else "tables in memory (not saved)")]
    for name, results in source.runs.items():
        manifest = results.manifest
        scenario = manifest.get("scenario", {})
        described = scenario.get("description") or ""
        rows.append(
            (
                f"scenario {name}",
                f"{manifest.get('replications', '?')} replications, seed {manifest.get('seed', '?')}, "
                f"run {manifest.get('created', '?')}" + (f"; {described}" if described else ""),
            )
        )
    if source.comparison is not None:
        rows.append(("baseline", source.names[0]))
    return rows


def run_sections(name: str, results: Results) -> list[Section]:
    """What this means, summary, attainment, per rep; with a plan: payout and budget, the
    payout curve, statements of a typical replication; bookings by date, funnel, response."""
    plan = run_plan(results)
    sections = [
        Section(
            "What this means",
            "Read from the numbers below.",
            points=conclusions.run_conclusions(results),
        ),
        Section(
            "Summary",
            f"The numbers a planner looks at first, over {results.runs['replication'].nunique()} "
            "replications (each one equally likely version of the period).",
            tables=[
                Table("", tables.summary_table({name: results}).rename(columns={name: "value"}))
            ],
        ),
        Section(
            "Attainment",
            "Bookings over target for every rep and plan period; the dashed line is target.",
            figures.png_data_uri(figures.attainment_figure(results)),
            "histogram of attainment across reps and periods",
            [Table("attainment", tables.attainment_table(results))],
        ),
        Section(
            "Per rep",
            "Each rep and plan period over the replications: the spread of bookings, how "
            "often the rep reaches target and, under a plan, what the rep is paid.",
            tables=[Table("", statements.rep_table(results))],
        ),
    ]
    if plan is None:
        sections.append(
            Section(
                "Payout",
                "This run has no plan, so nothing is paid: give the scenario a `plan:` to see "
                "the payout distribution, the budget line and the payout curve.",
            )
        )
    else:
        sections += _payout_sections(name, results, plan)
    days = tables.bookings_by_day(results)
    sections += [
        Section(
            "Bookings by day",
            "Team bookings per day across replications, on the sprint phases' background.",
            figures.png_data_uri(figures.bookings_figure(results)),
            "team bookings per day with the sprint phases shaded",
            [Table("by phase", tables.phase_table(days))],
        ),
        Section(
            "Funnel by tier",
            "Share of each tier's leads that reached each stage (open leads included).",
            figures.png_data_uri(figures.funnel_figure(results)),
            "bar chart of the share of leads reaching each stage, by tier",
            [Table("funnel", tables.funnel_by_tier(results))],
            points=conclusions.funnel_notes(results),
        ),
        Section(
            "First response by tier",
            "Hours from a lead's arrival to its first touch; the dashed line is 24 hours.",
            figures.png_data_uri(figures.response_figure(results)),
            "box plot of first-response hours by tier",
            [Table("first response, by tier and source", tables.response_by_tier(results))],
            points=conclusions.response_notes(results),
        ),
    ]
    return sections


def _payout_sections(name: str, results: Results, plan: Plan) -> list[Section]:
    from simplan.analysis.budget import size_budget  # only runs with a plan are sized

    budget = plan_budget(results)
    sizing = size_budget(results, budget)
    target = tables.curve_target(results)
    budget_text = (
        f"The red line is the plan's budget of {budget:,.0f}."
        if budget is not None
        else "The plan sets no budget."
    )
    return [
        Section(
            "Payout and budget",
            f"Total incentive payout in each replication. {budget_text}",
            figures.png_data_uri(figures.payout_figure(results, budget)),
            "histogram of total payout per replication with the budget line",
            [
                Table("budget", sizing.overview),
                Table("per component, per replication", tables.component_totals(results)),
            ],
        ),
        Section(
            "The plan's payout curve",
            f"What {name}'s plan pays a rep for one period at each attainment, at the median "
            f"target of {target:,.0f}; salary, pools, contests and deal bonuses are left out.",
            figures.png_data_uri(figures.payout_curve_figure({name: (plan, target)})),
            "the plan's pay for one period against attainment",
            [Table("components", _components(plan))],
        ),
        _typical_section(results, plan),
    ]


def _typical_section(results: Results, plan: Plan) -> Section:
    """Three whole statements of the typical replication (all of them are in the workbook)."""
    replication, table = statements.typical_statements(results, plan)
    shown = [
        Table(caption, _statement_text(one))
        for caption, one in statements.statement_examples(table)
    ]
    return Section(
        "Statements of a typical replication",
        f"Replication {replication} paid the total nearest the median, so its statements are "
        "ones a rep could get (no averages of lines). Shown: the rep-periods at the lowest, "
        "the median and the highest attainment; the workbook has every statement.",
        tables=shown,
    )


def _statement_text(lines: pd.DataFrame) -> pd.DataFrame:
    """A statement as shown: the basis in its unit, amounts to the cent."""
    return pd.DataFrame(
        {
            "component": lines["component"],
            "basis": lines["basis"],
            "basis value": [
                "" if u == "" else shown_as(unit_kind(u), v)
                for v, u in zip(lines["basis value"], lines["unit"], strict=True)
            ],
            "amount": [f"{a:,.2f}" for a in lines["amount"]],
        }
    )


def _components(plan: object) -> pd.DataFrame:
    rows = [
        (c.label, c.type, "yes" if c.in_curve else "no")
        for c in plan.components  # type: ignore[attr-defined]
    ]
    return pd.DataFrame(rows, columns=["component", "type", "in the curve"])


def comparison_sections(source: Source, comparison: Comparison) -> list[Section]:
    """KPIs with intervals, paired differences, payouts and curves, summaries side by side."""
    level = f"{comparison.confidence:.0%}"
    sections = [
        Section(
            "What this means",
            f"Each proposal against {comparison.scenarios[0]}, read from the numbers below.",
            points=conclusions.comparison_conclusions(comparison),
        ),
        Section(
            "Plans compared",
            f"Each scenario ran on the same seed, so replication i of each saw the same "
            f"customers; bars are means with their {level} interval.",
            figures.png_data_uri(figures.comparison_figure(comparison)),
            "bar charts of each KPI per scenario with confidence intervals",
            [Table(_interval_caption(comparison), _intervals(comparison))],
            wide=True,
        ),
        Section(
            f"Differences against {comparison.scenarios[0]}",
            "Proposal minus baseline, paired by replication (common random numbers); "
            "'narrower by' is how much wider the interval would be from independent runs.",
            figures.png_data_uri(figures.differences_figure(comparison)),
            "paired differences with confidence intervals",
            [Table("differences", _differences(comparison))],
            wide=True,
        ),
        what_moves_section(source, comparison),
    ]
    plans = source.plans()
    if plans:
        budgets = {name: plan_budget(source.runs[name]) for name in plans}
        curves = {
            name: (plan, tables.curve_target(source.runs[name])) for name, plan in plans.items()
        }
        sections += [
            Section(
                "Payout by scenario",
                "Total payout per replication; red lines are budgets where a plan sets one.",
                figures.png_data_uri(figures.payouts_figure(source.runs, budgets)),
                "payout per replication by scenario",
            ),
            Section(
                "Payout curves",
                "What each plan pays a rep for one period at each attainment, at its median target.",
                figures.png_data_uri(figures.payout_curve_figure(curves)),
                "payout curves of the plans",
            ),
        ]
    sections.append(
        Section(
            "Summaries side by side",
            "Each scenario's run summary.",
            tables=[Table("", tables.summary_table(source.runs))],
        )
    )
    return sections


def _interval_caption(comparison: Comparison) -> str:
    caption = f"mean [{comparison.confidence:.0%} confidence interval of the mean]"
    if "pi_low" in comparison.summary:
        caption += (
            f"; {conclusions.PREDICTIVE_LEVEL:.0%} predictive interval (where one period "
            "will land) after 'period'"
        )
    return caption


def _intervals(comparison: Comparison) -> pd.DataFrame:
    s = comparison.summary.dropna(subset=["mean"])  # e.g. over_budget without a budget
    predictive = "pi_low" in s
    shown = s.assign(
        value=[
            f"{text(r.metric, r.mean)} [{text(r.metric, r.ci_low)}, {text(r.metric, r.ci_high)}]"
            + (
                f"; period {text(r.metric, r.pi_low)} to {text(r.metric, r.pi_high)}"
                if predictive
                else ""
            )
            for r in s.itertuples(index=False)
        ]
    )
    wide = shown.pivot(index="metric", columns="scenario", values="value")
    order = list(dict.fromkeys(s["metric"]))
    table = wide.reindex(order)[comparison.scenarios]
    table.index = [metric_name(m) for m in table.index]
    return table.rename_axis("KPI").reset_index()


def _differences(comparison: Comparison) -> pd.DataFrame:
    d = comparison.differences
    level = f"{comparison.confidence:.0%}"
    table = pd.DataFrame(
        {
            "proposal": d["scenario"],
            "KPI": [metric_name(m) for m in d["metric"]],
            "difference": [text(m, v) for m, v in zip(d["metric"], d["difference"], strict=True)],
            f"{level} confidence interval of the mean": [
                f"[{text(r.metric, r.ci_low)}, {text(r.metric, r.ci_high)}]"
                for r in d.itertuples(index=False)
            ],
        }
    )
    if "pi_low" in d:
        table[f"{conclusions.PREDICTIVE_LEVEL:.0%} predictive interval (one period)"] = [
            f"[{text(r.metric, r.pi_low)}, {text(r.metric, r.pi_high)}]"
            for r in d.itertuples(index=False)
        ]
    table["paired ±"] = [
        text(m, v) for m, v in zip(d["metric"], d["paired_half_width"], strict=True)
    ]
    table["independent ±"] = [
        text(m, v) for m, v in zip(d["metric"], d["independent_half_width"], strict=True)
    ]
    table["narrower by"] = [narrowing_text(v) for v in d["narrowing"]]
    return table.reset_index(drop=True)

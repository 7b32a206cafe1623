"""The HTML report: valid, self-contained HTML with every plot embedded and the numbers shown."""

from __future__ import annotations

import base64
import dataclasses
from html import escape as html_escape
from html.parser import HTMLParser

import matplotlib.dates as mdates
import pytest

from simplan import SimplanError, load_results, simulate
from simplan.analysis.compare import compare
from simplan.report import figures, load_source, write_report
from simplan.report.conclusions import (
    comparison_conclusions,
    funnel_notes,
    gains_and_losses,
    response_notes,
    run_conclusions,
)
from simplan.report.formats import METRIC_NAMES, text
from simplan.report.html import write_text_atomically
from simplan.report.source import run_plan
from simplan.report.statements import typical_replication, typical_statements
from simplan.report.tables import response_by_tier

from .conftest import DATA
from .test_behaviour import scenario
from .test_cli import simplan

BUDGET = 150_000.0
PLAN = {
    "clock": "month",
    "components": [
        {"type": "base_salary", "amount": 1000},
        {"type": "attainment_cap", "max_attainment": 1.8},
        {
            "type": "tiered_commission",
            "mode": "marginal",
            "tiers": [{"threshold": 0.0, "rate": 0.08}, {"threshold": 1.2, "rate": 0.12}],
        },
        {"type": "attainment_bonus", "steps": [{"threshold": 1.0, "amount": 500}]},
        {"type": "gate", "threshold": 0.5},
    ],
    "budget": {"total": BUDGET},
}
RICHER = {"clock": "month", "components": [{"type": "base_commission", "rate": 0.12}]}
RUN_PLOTS = {
    "Attainment",
    "Payout and budget",
    "The plan's payout curve",
    "Bookings by day",
    "Funnel by tier",
    "First response by tier",
}
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A run with a plan and a budget, a run without a plan, and a comparison, saved."""
    root = tmp_path_factory.mktemp("saved")
    simulate(scenario(name="budgeted", plan=PLAN), replications=4, workers=1).save(root / "plan")
    simulate(DATA / "small.yaml", replications=2, workers=1).save(root / "noplan")
    compare(
        scenario(name="base"), scenario(name="richer", plan=RICHER), replications=3, workers=1
    ).save(root / "compare")
    return root


class Page(HTMLParser):
    """Checks nesting and collects sections, images, table cells and links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.images: list[dict[str, str]] = []
        self.headings: list[str] = []
        self.cells: list[str] = []
        self.tags: set[str] = set()
        self.links: list[str] = []
        self._text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attributes = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(attributes)
        for key in ("href", "src"):
            if key in attributes:
                self.links.append(attributes[key])
        if tag not in VOID:
            self.stack.append(tag)
        if tag in ("h2", "td", "th"):
            self._text = []

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag in ("h2", "td", "th") and self._text is not None:
            content = "".join(self._text).strip()
            (self.headings if tag == "h2" else self.cells).append(content)
            self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def parse(html: str) -> Page:
    assert html.startswith("<!DOCTYPE html>")
    page = Page()
    page.feed(html)
    page.close()
    assert not page.errors, page.errors[:3]
    assert page.stack == [], f"unclosed: {page.stack}"
    assert {"html", "head", "title", "body", "main"} <= page.tags
    return page


def assert_self_contained(html: str, page: Page) -> None:
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html
    assert "<link" not in html
    for link in page.links:
        assert link.startswith("data:"), link[:60]


def assert_pngs(page: Page) -> None:
    for image in page.images:
        prefix = "data:image/png;base64,"
        assert image["src"].startswith(prefix)
        assert base64.b64decode(image["src"][len(prefix) :])[:8] == b"\x89PNG\r\n\x1a\n"
        assert image["alt"]


def plotted_sections(html: str) -> set[str]:
    """Headings of sections that hold an image."""
    found = set()
    for chunk in html.split("<section>")[1:]:
        heading = Page()
        heading.feed(chunk.split("</h2>")[0] + "</h2>")
        if "<img " in chunk.split("</section>")[0]:
            found.add(heading.headings[0])
    return found


def test_run_report_has_every_plot_and_the_summary(saved, tmp_path):
    out = write_report(saved / "plan", tmp_path / "report.html")
    html = out.read_text()
    page = parse(html)
    assert_self_contained(html, page)
    assert_pngs(page)
    assert plotted_sections(html) == RUN_PLOTS
    assert len(page.images) == len(RUN_PLOTS)
    summary = load_results(saved / "plan").summary()["value"]
    cells = page.cells
    for metric, value in summary.items():
        at = cells.index(metric)
        assert cells[at + 1] == text(metric, value), metric
    assert f"budget of {BUDGET:,.0f}" in html
    assert "payout P99" in cells


def test_run_without_plan_leaves_payout_out(saved, tmp_path):
    html = write_report(saved / "noplan", tmp_path / "r.html").read_text()
    page = parse(html)
    assert_self_contained(html, page)
    assert_pngs(page)
    assert plotted_sections(html) == RUN_PLOTS - {"Payout and budget", "The plan's payout curve"}
    assert "This run has no plan" in html


def test_comparison_report_has_bars_differences_and_tables(saved, tmp_path):
    html = write_report(saved / "compare", tmp_path / "c.html").read_text()
    page = parse(html)
    assert_self_contained(html, page)
    assert_pngs(page)
    assert plotted_sections(html) == {
        "Plans compared",
        "Differences against base",
        "Payout by scenario",
        "Payout curves",
    }
    comparison = load_source(saved / "compare").comparison
    assert {"base", "richer", "narrower by"} <= set(page.cells)
    bookings = comparison.differences.set_index("metric").loc["bookings", "difference"]
    assert text("bookings", bookings) in page.cells


def test_cli_report_writes_the_file_and_prints_its_path(saved, tmp_path):
    out = tmp_path / "deep" / "report.html"
    done = simplan("report", saved / "plan", "--out", out)
    assert done.returncode == 0, done.stderr
    assert f"report written to {out}" in done.stdout
    parse(out.read_text())
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary left


def test_cli_report_refuses_a_directory_that_is_not_a_run(tmp_path):
    done = simplan("report", tmp_path, "--out", tmp_path / "r.html")
    assert done.returncode == 2
    assert "neither a run" in done.stderr
    assert not (tmp_path / "r.html").exists()
    with pytest.raises(SimplanError, match="no such directory"):
        load_source(tmp_path / "missing")


def test_atomic_write_replaces_and_refuses_a_directory(tmp_path):
    target = tmp_path / "page.html"
    target.write_text("old")
    write_text_atomically(target, "new")
    assert target.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]
    with pytest.raises(SimplanError, match="is a directory"):
        write_text_atomically(tmp_path, "x")


def test_time_axis_in_dates_and_budget_label_says_what_it_means(saved):
    results = load_results(saved / "plan")
    figure = figures.bookings_figure(results)
    figures.png_data_uri(figure)  # draws the figure, so the tick labels exist
    axes = figure.axes[0]
    first, last = results.daily["date"].min(), results.daily["date"].max()
    low, high = (mdates.num2date(x).date() for x in axes.get_xlim())
    assert low <= first.date() <= last.date() <= high
    assert (high - low).days <= (last - first).days + 2  # the axis spans the run, in days
    labels = " ".join(t.get_text() for t in axes.get_xticklabels())
    assert any(month in labels for month in ("Jan", "Feb", "Mar", "Apr", "May", "Jun"))
    legend = figures.payout_figure(results, BUDGET).axes[0].get_legend()
    budget_label = [t.get_text() for t in legend.get_texts()][-1]
    over = float((results.runs["payout"] > BUDGET).mean())
    assert budget_label == f"budget {BUDGET:,.0f}: payout above it in {over:.0%} of replications"


def test_comparison_shows_metrics_in_words(saved, tmp_path):
    page = parse(write_report(saved / "compare", tmp_path / "c.html").read_text())
    for raw, words in METRIC_NAMES.items():
        assert raw not in page.cells
        if raw != "over_budget":  # no plan in the comparison sets a budget
            assert words in page.cells, words


def test_run_report_has_per_rep_table_and_typical_statements(saved, tmp_path):
    results = load_results(saved / "plan")
    html = write_report(results, tmp_path / "r.html").read_text()
    page = parse(html)
    assert {"Per rep", "Statements of a typical replication"} <= set(page.headings)
    replication = typical_replication(results)
    assert f"Replication {replication} paid the total nearest the median" in html
    reps = results.reps.assign(rep_id=results.reps["rep_id"].astype(str))
    first = reps[reps["rep_id"] == reps["rep_id"].min()]
    p50 = first[first["period"] == first["period"].min()]["bookings"].quantile(0.5)
    assert text("bookings P50", p50) in page.cells
    for words in ("bookings above the cap", "credited bookings", "attainment", "total"):
        assert words in page.cells
    _, table = typical_statements(results, run_plan(results))
    highest = table[table["component"] == "total"].sort_values("attainment").iloc[-1]
    assert f"{highest['rep_id']}, {highest['period']}: attainment" in html
    assert f"{highest['amount']:,.2f}" in page.cells


def test_run_report_opens_with_what_it_means(saved, tmp_path):
    results = load_results(saved / "plan")
    html = write_report(results, tmp_path / "r.html").read_text()
    assert parse(html).headings[0] == "What this means"
    points = run_conclusions(results)
    bookings, payout = results.runs["bookings"], results.runs["payout"]
    assert points[0].startswith(f"The team books {text('bookings', bookings.median())}")
    over = float((payout > BUDGET).mean())
    verdict = "holds" if over <= 0.1 else "is at risk"
    budget = f"The budget of {BUDGET:,.0f} {verdict}: payout exceeds it in {over:.0%}"
    assert any(p.startswith(budget) for p in points), points
    assert any(p.startswith("Pay per rep-period by attainment: below 80%") for p in points)
    for point in points:
        assert html_escape(point) in html
    no_plan = run_conclusions(load_results(saved / "noplan"))
    assert any("no plan, so nothing is paid" in p for p in no_plan)


def test_comparison_opens_with_the_effect_and_who_gains(saved, tmp_path):
    source = load_source(saved / "compare")
    comparison = source.comparison
    html = write_report(saved / "compare", tmp_path / "c.html").read_text()
    assert parse(html).headings[0] == "What this means"
    points = comparison_conclusions(comparison)
    row = comparison.differences.set_index(["scenario", "metric"]).loc[("richer", "bookings")]
    effect = next(p for p in points if p.startswith("richer books"))
    assert text("bookings", abs(row["difference"])) in effect
    assert f"{text('bookings', row['ci_low'])} to {text('bookings', row['ci_high'])}" in effect
    assert "confidence interval of the mean difference" in effect
    # compare's tables carry the predictive interval too: it is quoted and labelled.
    assert f"{text('bookings', row['pi_low'])} and {text('bookings', row['pi_high'])}" in effect
    assert "predictive interval" in effect
    base, richer = source.runs["base"], source.runs["richer"]
    gains = gains_and_losses(base, richer)
    assert gains in " ".join(points)
    # the tenure means, weighted by reps per tenure, give the mean change over all reps
    keys = ["replication", "rep_id"]
    measure = "payout" if "payout" in base.reps else "bookings"
    change = richer.reps.groupby(keys)[measure].sum() - base.reps.groupby(keys)[measure].sum()
    tenure = base.reps.groupby(keys)["tenure"].first()
    for name, value in change.groupby(tenure).mean().items():
        shown = ("+" if value >= 0 else "-") + text(measure, abs(value))
        assert f"{name.replace('_', ' ')} {shown}" in gains


def test_predictive_intervals_are_used_and_labelled_when_present(saved, tmp_path):
    comparison = load_source(saved / "compare").comparison
    d, s = comparison.differences, comparison.summary
    widened = dataclasses.replace(
        comparison,
        differences=d.assign(
            pi_low=d["difference"] - 3 * d["paired_half_width"],
            pi_high=d["difference"] + 3 * d["paired_half_width"],
        ),
        summary=s.assign(pi_low=s["mean"] * 0.8, pi_high=s["mean"] * 1.2),
    )
    html = write_report(widened, tmp_path / "c.html").read_text()
    page = parse(html)
    row = widened.differences.set_index(["scenario", "metric"]).loc[("richer", "bookings")]
    band = f"[{text('bookings', row['pi_low'])}, {text('bookings', row['pi_high'])}]"
    assert band in page.cells
    assert "90% predictive interval (one period)" in page.cells
    level = f"{comparison.confidence:.0%}"
    assert f"{level} confidence interval of the mean" in page.cells
    effect = next(p for p in comparison_conclusions(widened) if p.startswith("richer books"))
    assert "(90% predictive interval)" in effect
    assert text("bookings", row["pi_high"]) in effect


def with_routing(results, **routing):
    """The run with its manifest's routing replaced (what the notes read)."""
    scenario = {**results.manifest["scenario"], "routing": routing}
    return dataclasses.replace(results, manifest={**results.manifest, "scenario": scenario})


def test_notes_say_why_alerts_relays_and_response_times_are_what_they_are(saved):
    results = load_results(saved / "plan")
    deals, runs = results.deals, results.runs
    n = runs["replication"].nunique()
    proposals = int((deals["stage"].cat.codes >= 2).sum())
    relaying = with_routing(
        results, policy="least_loaded", priority_tiers=["A"], relay={"enabled": True}
    )
    alerts, relays = funnel_notes(relaying)
    assert alerts.startswith(f"Proposal alerts ({deals['alerts'].sum() / n:,.0f} per replication")
    assert f"{proposals / n:,.0f} proposals per replication" in alerts
    assert f"raised {deals['alerts'].sum() / proposals:.1f} each" in alerts
    assert relays.startswith(f"Relays ({runs['relays'].mean():,.1f} per replication)")
    longest = deals["first_response_hours"].max() / 24
    assert f"longest wait for a first response here was {longest:.1f} days" in relays
    assert len(funnel_notes(with_routing(results, relay={"enabled": False}))) == 1
    inert = response_notes(relaying)
    assert inert[0].startswith("Priority tiers (A) get no precedence here")
    sourced = deals[deals["source"] == "self_sourced"]
    assert len(sourced), "the test run has self-sourced leads"
    assert (
        f"{len(sourced) / len(deals):.0%} of leads) are answered in a median "
        f"{sourced['first_response_hours'].median():.1f} hours" in inert[1]
    )
    for routing in ({"policy": "tier_priority"}, {"response_red_line_hours": 2}):
        notes = response_notes(with_routing(results, priority_tiers=["A"], **routing))
        assert not any(p.startswith("Priority tiers") for p in notes)
    table = response_by_tier(results)
    assert set(table["source"]) == set(deals["source"].astype(str))
    assert table["leads per replication"].sum() == pytest.approx(len(deals) / n)

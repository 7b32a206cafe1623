"""The comparison report's "What moves this answer" section: the plan effect at the ends of
each drawn parameter's interval, as a tornado and a table, with the parameter it hangs on."""

from __future__ import annotations

import pandas as pd

from simplan.analysis.compare import Comparison
from simplan.analysis.design_plots import tornado_figure
from simplan.analysis.what_moves import hinge_sentence, what_moves
from simplan.report.figures import png_data_uri
from simplan.report.html import Section, Table
from simplan.report.source import Source

METRICS = ("bookings", "payout")
TITLE = "What moves this answer"


def what_moves_section(source: Source, comparison: Comparison) -> Section:
    """Each proposal's bookings and payout effect at the low and high end of every drawn
    parameter (5th and 95th percentile of its draws); the first proposal's bookings tornado."""
    baseline = comparison.scenarios[0]
    scenario = source.runs[baseline].manifest.get("scenario", {})
    draws = (scenario.get("uncertainty") or {}).get("draws") or []
    if not draws:
        return Section(
            TITLE,
            "This comparison ran without parameter draws (the scenario has no `uncertainty:` "
            "block, as `simplan calibrate` writes), so there is no interval to test here. To see "
            "which assumption (arrivals, win rates, the effort response) moves the effect, run "
            "`simplan sensitivity BASE --plan A --plan B --output effect --param KEY=LOW:HIGH`.",
        )
    frames = []
    for proposal in comparison.scenarios[1:]:
        for metric in METRICS:
            table = what_moves(comparison.kpis, baseline, proposal, draws, metric)
            frames.append(table.assign(proposal=proposal, KPI=metric))
    first = comparison.scenarios[1]
    tornado = frames[0]
    lead = (
        f"Replication i ran under parameter draw i mod {len(draws)} in every plan, so each draw "
        "has its own paired effect; regressed on the draws' parameters, the effect is shown at "
        "each parameter's 5th and 95th percentile with the others at their mean. "
        + hinge_sentence(tornado, first, "bookings")
    )
    shown = pd.concat(frames, ignore_index=True)
    columns = ["proposal", "KPI", "parameter", "low", "high", "at_low", "at_high", "swing"]
    if tornado.empty:
        return Section(TITLE, lead)
    image = png_data_uri(tornado_figure(tornado, f"{first} − {baseline}, bookings"))
    alt = f"tornado of the bookings effect of {first} at the ends of each parameter's interval"
    return Section(
        TITLE, lead, image, alt, [Table("the effect at each end", _shown(shown[columns]))]
    )


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """Money as whole units, parameter ends to three figures (as text, so the table's
    formatter by column name does not read them as money)."""
    out = table.copy()
    for column in ("low", "high"):
        out[column] = [f"{v:.3g}" for v in out[column]]
    for column in ("at_low", "at_high", "swing"):
        out[column] = [f"{v:,.0f}" for v in out[column]]
    return out

"""One self-contained HTML page: sections of a plot (an embedded PNG) and its tables.

No scripts, no stylesheets or fonts from the internet: the file opens the same offline,
attached to an email, years later.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from simplan.errors import SimplanError
from simplan.report.formats import text

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
p.lead, p.note { color: #555; margin: 0.3rem 0 0.8rem; }
.section { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
.section figure { margin: 0; flex: 0 1 700px; }
.section figure.wide { flex: 1 1 100%; }
.section figure img { max-width: 100%; height: auto; }
.tables { flex: 1 1 auto; min-width: 0; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.85rem; margin-bottom: 1rem; max-width: 100%; }
caption { text-align: left; font-weight: 600; padding-bottom: 0.3rem; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #eee; }
th { text-align: left; background: #f5f5f5; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 0.1rem 1rem; font-size: 0.9rem; }
dl.meta dt { color: #666; }
ul.points { max-width: 70rem; line-height: 1.45; }
ul.points li { margin-bottom: 0.4rem; }
footer { margin-top: 3rem; color: #888; font-size: 0.8rem; }
"""


@dataclass
class Table:
    """A table to show: numbers are formatted by their row's `metric` when the frame has one,
    else by their column's name (see `simplan.report.formats`)."""

    caption: str
    frame: pd.DataFrame


@dataclass
class Section:
    """A heading, a sentence of what it shows, an optional figure and the tables beside it."""

    title: str
    lead: str = ""
    image: str | None = None  # a data: URI
    alt: str = ""
    tables: list[Table] = field(default_factory=list)
    wide: bool = False  # the figure takes the whole width, the tables go below it
    points: list[str] = field(default_factory=list)  # sentences shown as a list under the lead


def render_table(table: Table) -> str:
    frame = table.frame
    by_row = "metric" in frame.columns
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column, value in row.items():
            if isinstance(value, str) or value is None or column == "metric":
                shown = "" if value is None else str(value)
                cells.append(f"<td>{html.escape(shown)}</td>")
                continue
            label = str(row["metric"]) if by_row else str(column)
            cells.append(f'<td class="number">{html.escape(text(label, value))}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    caption = f"<caption>{html.escape(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_section(section: Section) -> str:
    parts = [f"<section><h2>{html.escape(section.title)}</h2>"]
    if section.lead:
        parts.append(f'<p class="lead">{html.escape(section.lead)}</p>')
    if section.points:
        items = "".join(f"<li>{html.escape(p)}</li>" for p in section.points)
        parts.append(f'<ul class="points">{items}</ul>')
    parts.append('<div class="section">')
    if section.image is not None:
        wide = ' class="wide"' if section.wide else ""
        parts.append(
            f'<figure{wide}><img src="{section.image}" alt="{html.escape(section.alt)}"></figure>'
        )
    if section.tables:
        parts.append('<div class="tables">')
        parts += [render_table(t) for t in section.tables]
        parts.append("</div>")
    parts.append("</div></section>")
    return "\n".join(parts)


def render_page(
    title: str, meta: list[tuple[str, str]], sections: list[Section], footer: str
) -> str:
    """The whole document: a heading, what it was made from, the sections."""
    facts = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in meta)
    body = "\n".join(render_section(s) for s in sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<header><h1>{html.escape(title)}</h1><dl class="meta">{facts}</dl></header>\n'
        f"<main>\n{body}\n</main>\n"
        f"<footer>{html.escape(footer)}</footer>\n</body>\n</html>\n"
    )


def write_text_atomically(path: str | Path, content: str | bytes) -> Path:
    """Write a file through a temporary beside it, so a reader never sees half of it."""
    target = Path(path)
    if target.is_dir():
        raise SimplanError(f"{target}: is a directory; give a file name, e.g. {target}/report.html")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target

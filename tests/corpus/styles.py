"""Exports in the styles of CRMs the rest of the corpus does not imitate, each written from
a clean export of the corpus truth (`truth_export()`: 8 reps, tiers A and B, two quarters
to 2024-06-30):

- `pipedrive`: a Pipedrive deals export: `Deal - ...` columns, owners by full name, a value
  on lost and open deals too (the value hoped for), timestamps with a time of day, and a rep
  who left at the end of April (her later leads went to the others).
- `dynamics`: a Dynamics 365 opportunity export saved by Excel on a German-locale machine:
  `;`-separated, Windows-1252 text, dates `15.01.2024 09:30`, revenue `12.345,67 €`, Status
  `Gewonnen` / `Verloren` / `Offen`, and 12 rows exported twice.
- `sales_ops`: a sheet kept by hand by sales ops: Excel serial dates, `$12,345` values, its
  own stage names, a rep renamed in April (`Jen Park` -> `Jennifer Park`) and a TOTAL line.
- `zoho`: a Zoho CRM report of closed deals only (written from `fiscal_export("13-week")`,
  a team on 13-week fiscal quarters): owners by e-mail, `Jan 30, 2024` dates (created with
  a time, `03:03 PM`), `$4,270.93` amounts, the deal type as the tier.

`STYLES` maps each to how it is written and what a user passes to read it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

NAMES = {
    "rep0": "Alex Moreau", "rep1": "Ben Okafor", "rep2": "Chloé Martin", "rep3": "Dev Patel",
    "rep4": "Jen Park", "rep5": "Lars Nilsson", "rep6": "Maria Rossi", "rep7": "Priya Nair",
}  # fmt: skip
LEFT_REP, LEFT_ON = "rep7", pd.Timestamp("2024-04-30")
"""In the Pipedrive export the rep who left, and her last day (later leads go to others)."""
RENAMED_REP, RENAMED_ON, RENAMED_TO = "rep4", pd.Timestamp("2024-04-01"), "Jennifer Park"
"""In the sales-ops sheet the rep written under a new name from RENAMED_ON."""
TIER_LABELS = {"A": "Enterprise", "B": "SMB"}


def _dates(text: pd.Series) -> pd.Series:
    return pd.to_datetime(text.replace("", None), format="%Y-%m-%d")


def _clock(dates: pd.Series, rng: np.random.Generator) -> pd.Series:
    """The dates with a time of day during working hours."""
    minutes = rng.integers(8 * 60, 18 * 60, len(dates))
    return dates + pd.to_timedelta(minutes, unit="min")


def _hoped_for(frame: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """A value on every deal: the won amount, else a won amount of the same tier drawn at
    random (what the rep hoped for on a lost or open deal)."""
    value = frame["amount"].astype(float).copy()
    for _, group in frame.groupby("tier"):
        pool = group.loc[group["outcome"] == "won", "amount"].to_numpy(float)
        empty = group.index[group["outcome"] != "won"]
        value[empty] = rng.choice(pool, len(empty)).round(0)
    return value


def pipedrive(frame: pd.DataFrame, rng: np.random.Generator, path: Path) -> None:
    owner = frame["rep_id"].copy()
    created, closed = _dates(frame["created_date"]), _dates(frame["close_date"])
    later = (owner == LEFT_REP) & (created > LEFT_ON)
    others = sorted(set(NAMES) - {LEFT_REP})
    owner[later] = rng.choice(others, int(later.sum()))
    status = frame["outcome"].map({"won": "Won", "lost": "Lost", "open": "Open"})
    stamp = _clock(closed, rng)
    expected = created + pd.to_timedelta(rng.integers(20, 60, len(frame)), unit="D")
    out = pd.DataFrame(
        {
            "Deal - ID": np.arange(1001, 1001 + len(frame)),
            "Deal - Title": [f"Deal {i}" for i in range(len(frame))],
            "Deal - Owner": owner.map(NAMES),
            "Deal - Value": _hoped_for(frame, rng),
            "Deal - Currency": "EUR",
            "Deal - Status": status,
            "Deal - Label": frame["tier"].map(TIER_LABELS),
            "Deal - Deal created": _clock(created, rng).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "Deal - Deal closed on": stamp.dt.strftime("%Y-%m-%d %H:%M:%S"),
            "Deal - Won time": stamp.dt.strftime("%Y-%m-%d %H:%M:%S").where(status == "Won"),
            "Deal - Lost time": stamp.dt.strftime("%Y-%m-%d %H:%M:%S").where(status == "Lost"),
            "Deal - Expected close date": expected.dt.strftime("%Y-%m-%d"),
        }
    )
    out.to_csv(path, index=False)


def _german_money(value: float) -> str:
    text = f"{value:,.2f}".replace(",", "x").replace(".", ",").replace("x", ".")
    return f"{text} €"


def dynamics(frame: pd.DataFrame, rng: np.random.Generator, path: Path) -> None:
    created, closed = _dates(frame["created_date"]), _dates(frame["close_date"])
    status = frame["outcome"].map({"won": "Gewonnen", "lost": "Verloren", "open": "Offen"})
    reason = frame["outcome"].map(
        {"won": "Gewonnen", "lost": "Abgebrochen", "open": "In Bearbeitung"}
    )
    ids = [f"{rng.integers(16**8):08x}-{rng.integers(16**4):04x}-4{rng.integers(16**3):03x}-"
           f"a{rng.integers(16**3):03x}-{rng.integers(16**12):012x}" for _ in range(len(frame))]  # fmt: skip
    names = {rep: ", ".join(reversed(name.split(" "))) for rep, name in NAMES.items()}
    out = pd.DataFrame(
        {
            "(Nicht ändern) Verkaufschance": ids,
            "(Nicht ändern) Geändert am": _clock(closed.fillna(created), rng).dt.strftime(
                "%d.%m.%Y %H:%M"
            ),
            "Thema": [f"Angebot {i}" for i in range(len(frame))],
            "Besitzer": frame["rep_id"].map(names),
            "Status": status,
            "Statusgrund": reason,
            "Bewertung": frame["tier"].map({"A": "Heiß", "B": "Warm"}),
            "Erstellt am": _clock(created, rng).dt.strftime("%d.%m.%Y %H:%M"),
            "Tatsächliches Abschlussdatum": closed.dt.strftime("%d.%m.%Y").fillna(""),
            "Tatsächlicher Umsatz": frame["amount"].astype(float).map(_german_money),
            "Geschätzter Umsatz": _hoped_for(frame, rng).map(_german_money),
        }
    )
    twice = out.iloc[rng.choice(len(out), 12, replace=False)]
    out = pd.concat([out, twice]).sort_values("Erstellt am", kind="stable")
    text = out.to_csv(index=False, sep=";", lineterminator="\r\n")
    path.write_bytes(text.encode("cp1252"))


EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def sales_ops(frame: pd.DataFrame, rng: np.random.Generator, path: Path) -> None:
    created, closed = _dates(frame["created_date"]), _dates(frame["close_date"])
    rep = frame["rep_id"].map(NAMES)
    rep[(frame["rep_id"] == RENAMED_REP) & (created >= RENAMED_ON)] = RENAMED_TO
    open_stage = rng.choice(["Discovery", "Demo booked", "Negotiating"], len(frame))
    stage = frame["outcome"].map({"won": "Closed Won", "lost": "Closed Lost"})
    stage = stage.fillna(pd.Series(open_stage, index=frame.index))
    serial = (created - EXCEL_EPOCH).dt.days
    shut = (closed - EXCEL_EPOCH).dt.days
    out = pd.DataFrame(
        {
            "Opp #": np.arange(1, len(frame) + 1),
            "Rep": rep,
            "Segment": frame["tier"].map({"A": "Mid-Market", "B": "SMB"}),
            "Opened": serial.astype(str),
            "Closed": shut.astype("Int64").astype(str).replace("<NA>", ""),
            "Stage": stage,
            "Value": [f"${v:,.0f}" if v else "" for v in frame["amount"]],
        }
    )
    total = f"${frame['amount'].sum():,.0f}"
    tail = pd.DataFrame([{"Opp #": "", "Rep": "TOTAL", "Value": total}, {}], columns=out.columns)
    pd.concat([out, tail]).to_csv(path, index=False)


def zoho(frame: pd.DataFrame, rng: np.random.Generator, path: Path) -> None:
    """A Zoho CRM report of closed deals only, dates as the user's locale shows them."""
    frame = frame[frame["outcome"] != "open"]
    created, closed = _dates(frame["created_date"]), _dates(frame["close_date"])
    owners = {rep: name.lower().replace(" ", ".") + "@example.com" for rep, name in NAMES.items()}
    out = pd.DataFrame(
        {
            "Record Id": [f"zcrm_54048480000{i:08d}" for i in range(len(frame))],
            "Deal Name": [f"Deal {i}" for i in range(len(frame))],
            "Deal Owner": frame["rep_id"].map(owners),
            "Type": frame["tier"].map({"A": "New Business", "B": "Existing Business"}),
            "Stage": frame["outcome"].map({"won": "Closed Won", "lost": "Closed Lost"}),
            "Created Time": _clock(created, rng).dt.strftime("%b %d, %Y %I:%M %p"),
            "Closing Date": closed.dt.strftime("%b %d, %Y"),
            "Amount": [f"${v:,.2f}" for v in frame["amount"]],
        }
    )
    out.to_csv(path, index=False)


@dataclass(frozen=True)
class Style:
    """An export in one CRM's style: how it is written and what a user passes to read it."""

    write: Callable[[pd.DataFrame, np.random.Generator, Path], None]
    options: tuple[str, ...] = ()
    """The command-line options a user passes (a preset, --map, --date-format)."""
    read: dict = field(default_factory=dict)
    """The same as `read_opportunities` keywords."""


SALES_OPS_MAP = {
    "deal_id": "Opp #", "rep_id": "Rep", "created_date": "Opened", "close_date": "Closed",
    "amount": "Value", "outcome": "Stage", "tier": "Segment", "open": "Negotiating,Demo booked",
}  # fmt: skip
"""What a user maps to read the sales-ops sheet (its two open stages simplan cannot guess)."""
STYLES = {
    "pipedrive": Style(pipedrive, ("--preset", "pipedrive"), {"preset": "pipedrive"}),
    "dynamics": Style(dynamics, ("--preset", "dynamics"), {"preset": "dynamics"}),
    "zoho": Style(
        zoho,
        ("--preset", "zoho", "--map", "tier=Type", "--date-format", "%b %d, %Y"),
        {"preset": "zoho", "mapping": {"tier": "Type"}, "date_format": "%b %d, %Y"},
    ),
    "sales_ops": Style(
        sales_ops,
        tuple(arg for key, value in SALES_OPS_MAP.items() for arg in ("--map", f"{key}={value}")),
        {"mapping": SALES_OPS_MAP},
    ),
}


def write_style(name: str, folder: Path, clean: pd.DataFrame) -> Path:
    """The export `name` of STYLES written into `folder` from the clean export `clean`."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.csv"
    STYLES[name].write(clean, np.random.default_rng([13, len(name)]), path)
    return path

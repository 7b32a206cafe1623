"""Presets: the column names and stage labels of common CRM exports, so `--preset salesforce`
replaces a row of `--map` flags. A preset lists, per canonical column, the names that export
uses (API names and the report labels people export by hand); the first present is taken.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from simplan.errors import SimplanError
from simplan.history.checks import HUBSPOT_OPEN as _HUBSPOT_OPEN
from simplan.history.checks import SALESFORCE_OPEN as _SALESFORCE_OPEN
from simplan.history.columns import REQUIRED


@dataclass(frozen=True)
class Preset:
    """One CRM export's names: deal columns, stage labels, date format, roster and products."""

    name: str
    description: str
    columns: dict[str, tuple[str, ...]]
    labels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_format: str | None = None
    roster: dict[str, tuple[str, ...]] = field(default_factory=dict)
    products: dict[str, tuple[str, ...]] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="maven_crm",
            description="Maven Analytics' CRM Sales Opportunities sample (../shared/data/maven_crm)",
            columns={
                "deal_id": ("opportunity_id",),
                "rep_id": ("sales_agent",),
                "created_date": ("engage_date",),
                "close_date": ("close_date",),
                "amount": ("close_value",),
                "outcome": ("deal_stage",),
                "product": ("product",),
                "customer_id": ("account",),
            },
            labels={"open": ("Engaging", "Prospecting")},
            date_format="%m/%d/%Y",
            roster={
                "rep_id": ("sales_agent",),
                "team": ("manager",),
                "region": ("regional_office",),
            },
            products={"product": ("product",), "price": ("sales_price",)},
        ),
        Preset(
            name="salesforce",
            description="Salesforce opportunities: API field names or report labels",
            columns={
                "deal_id": ("Id", "Opportunity ID", "Opportunity Id", "OpportunityId"),
                "rep_id": ("Owner Name", "Opportunity Owner", "Owner.Name", "OwnerId", "Owner ID"),
                "created_date": ("CreatedDate", "Created Date"),
                "close_date": ("CloseDate", "Close Date"),
                "amount": ("Amount", "Amount (converted)"),
                "outcome": ("StageName", "Stage"),
                "is_won": ("IsWon", "Won"),
                "is_closed": ("IsClosed", "Closed"),
                "customer_id": ("AccountId", "Account Name", "Account ID", "Account.Name"),
                "product": ("Product Name", "Product2.Name"),
            },
            labels={
                "won": ("Closed Won",),
                "lost": ("Closed Lost",),
                "open": _SALESFORCE_OPEN,
            },
            roster={
                "rep_id": ("Name", "Full Name", "Id", "User ID"),
                "team": ("Manager", "Manager.Name", "Role", "UserRole.Name"),
                "hire_date": ("Hire Date", "HireDate__c", "CreatedDate", "Created Date"),
            },
        ),
        Preset(
            name="hubspot",
            description="HubSpot deals export",
            columns={
                "deal_id": ("Deal ID", "Record ID", "hs_object_id"),
                "rep_id": ("Deal owner", "Deal Owner", "hubspot_owner_id"),
                "created_date": ("Create date", "Create Date", "createdate"),
                "close_date": ("Close date", "Close Date", "closedate"),
                "amount": ("Amount", "amount"),
                "outcome": ("Deal stage", "Deal Stage", "dealstage"),
                "customer_id": (
                    "Associated Company",
                    "Company name",
                    "Associated Company (Primary)",
                ),
            },
            labels={
                "won": ("Closed won", "closedwon"),
                "lost": ("Closed lost", "closedlost"),
                "open": _HUBSPOT_OPEN,
            },
            roster={"rep_id": ("Name", "Owner", "Email"), "team": ("Team", "Teams")},
        ),
        Preset(
            name="zoho",
            description="Zoho CRM deals module export",
            columns={
                "deal_id": ("Record Id", "Deal Id", "Id", "Deal ID"),
                "rep_id": ("Deal Owner", "Deal Owner Name", "Owner"),
                "created_date": ("Created Time", "Created Date"),
                "close_date": ("Closing Date", "Close Date"),
                "amount": ("Amount",),
                "outcome": ("Stage",),
                "customer_id": ("Account Name", "Account Id"),
            },
            labels={
                "won": ("Closed Won",),
                "lost": ("Closed Lost", "Closed-Lost to Competition", "Closed Lost to Competition"),
                "open": (*_SALESFORCE_OPEN, "Identify Decision Makers"),
            },
            roster={"rep_id": ("User Name", "Full Name", "Name"), "team": ("Role", "Profile")},
        ),
        Preset(
            name="pipedrive",
            description="Pipedrive deals export ('Deal - ...' columns, or the bare field names)",
            columns={
                "deal_id": ("Deal - ID", "ID", "Deal ID"),
                "rep_id": ("Deal - Owner", "Owner", "Deal - Owner name", "Owner name"),
                "created_date": ("Deal - Deal created", "Deal created", "Deal - Add time"),
                "close_date": ("Deal - Deal closed on", "Deal closed on", "Deal - Close time"),
                "amount": ("Deal - Value", "Value"),
                "outcome": ("Deal - Status", "Status"),
                "tier": ("Deal - Label", "Label"),
                "customer_id": ("Deal - Organization", "Organization", "Deal - Organisation"),
            },
            labels={"won": ("Won",), "lost": ("Lost",), "open": ("Open",)},
        ),
        Preset(
            name="dynamics",
            description="Dynamics 365 opportunities exported to CSV (English or German labels)",
            columns={
                "deal_id": (
                    "(Do Not Modify) Opportunity",
                    "Opportunity ID",
                    "opportunityid",
                    "(Nicht ändern) Verkaufschance",
                ),
                "rep_id": ("Owner", "Besitzer"),
                "created_date": ("Created On", "Erstellt am"),
                "close_date": ("Actual Close Date", "Tatsächliches Abschlussdatum"),
                "amount": ("Actual Revenue", "Tatsächlicher Umsatz"),
                "outcome": ("Status", "statecode"),
                "tier": ("Rating", "Bewertung"),
                "customer_id": ("Potential Customer", "Potenzieller Kunde", "Account"),
            },
            labels={
                "won": ("Won", "Gewonnen"),
                "lost": ("Lost", "Verloren"),
                "open": ("Open", "Offen"),
            },
        ),
    )
}
"""The presets `--preset NAME` knows."""


def get_preset(name: str) -> Preset:
    """The preset called `name`; an unknown name lists the known ones."""
    if name in PRESETS:
        return PRESETS[name]
    near = difflib.get_close_matches(name, list(PRESETS), n=1, cutoff=0.5)
    hint = f"did you mean '{near[0]}'? " if near else ""
    raise SimplanError(
        f"--preset {name!r} is not a preset; {hint}presets: {', '.join(PRESETS)} (or map the "
        "columns yourself with --map canonical=source)"
    )


def pick(candidates: dict[str, tuple[str, ...]], present: list[str]) -> dict[str, str]:
    """Canonical -> the first candidate column present (names compared case-insensitively)."""
    lower = {c.lower().strip(): c for c in present}
    found = {}
    for canonical, names in candidates.items():
        for name in names:
            if name.lower() in lower:
                found[canonical] = lower[name.lower()]
                break
    return found


def preset_mapping(
    preset: Preset, present: list[str], given: dict[str, str], source: str
) -> dict[str, str]:
    """The preset's columns found in the file, stage labels added, `given` (--map) on top.

    A required column neither found nor given is an error naming what the preset looked for.
    """
    mapping = pick(preset.columns, present)
    problems = []
    for canonical in REQUIRED:
        if canonical not in mapping and canonical not in given:
            looked = ", ".join(repr(n) for n in preset.columns.get(canonical, ()))
            problems.append(
                f"preset {preset.name}: no {canonical} column (looked for {looked}); pass "
                f"--map {canonical}=<column>"
            )
    if problems:
        shown = ", ".join(present[:20]) + (", ..." if len(present) > 20 else "")
        problems.append(f"columns in the file: {shown}")
        lines = "\n".join(f"  - {p}" for p in problems)
        noun = "problem" if len(problems) == 1 else "problems"
        raise SimplanError(f"{source}: {len(problems)} {noun}:\n{lines}")
    for outcome, labels in preset.labels.items():
        mapping[outcome] = ",".join(labels)
    for key, value in given.items():
        if key in preset.labels:
            mapping[key] = f"{mapping[key]},{value}"
        else:
            mapping[key] = value
    return mapping

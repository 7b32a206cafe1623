"""Scenario files: YAML in, a validated immutable Scenario out, with `extends:` overrides.

Every problem is reported as one ConfigError naming the file, the key path, the value
given, what is allowed and (for a misspelt key) the nearest valid key.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, model_validator

from simplan.errors import ConfigError, SimplanError
from simplan.model.behaviour import BehaviourParams
from simplan.model.calendar import CalendarParams, reporting_periods
from simplan.model.distributions import DISTRIBUTION_NAMES
from simplan.model.keypaths import key_path
from simplan.model.leads import FunnelParams, LeadsParams
from simplan.model.params import Params
from simplan.model.periods import (
    RULE_HELP,
    Periods,
    PeriodsError,
    is_rule,
    parse_periods,
    period_table,
    resolve_window,
)
from simplan.model.plan import COMPONENT_TYPES, Plan
from simplan.model.production import ProductionParams
from simplan.model.routing import RoutingParams
from simplan.model.team import RosterRow, TeamParams
from simplan.model.uncertainty import Uncertainty
from simplan.reader import CHECK_PATH, parse_csv, read_text, read_yaml_data

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: str | Path, missing: str = CHECK_PATH) -> dict[str, Any]:
    """Read one YAML file that must hold a mapping; errors name the file and the fix.

    `missing` is the hint given when there is no such file (where its path is relative to).
    """
    data = read_yaml_data(path, missing=missing)
    if data is None:
        raise ConfigError(str(path), ["the file is empty; a scenario is a YAML mapping of keys"])
    if not isinstance(data, dict):
        raise ConfigError(
            str(path), [f"the top level must be a mapping of keys, not a {type(data).__name__}"]
        )
    return data


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
    value = error.get("input")
    if error["type"] in ("unknown_key", "bool_not_number"):  # raised for one key of a block
        loc = (*loc, error["ctx"]["key"])
        if error["type"] == "unknown_key":
            return f"{key_path(loc)}: {error['msg']}"
        value = error["ctx"]["value"]
    shown = "" if isinstance(value, dict) else f" = {shorten(value)}"
    msg = error["msg"].removeprefix("Value error, ")
    return f"{key_path(loc)}{shown}: {msg}"


def shorten(value: Any, width: int = 80) -> str:
    """A value's repr cut to `width` characters, so a huge value cannot flood a message."""
    text = repr(value)
    return text if len(text) <= width else f"{text[: width - 20]}... ({len(text):,} characters)"


def _is_union_tag(part: Any) -> bool:
    # pydantic puts the chosen member of a tagged union (e.g. 'lognormal') into the location.
    return isinstance(part, str) and (part.startswith("function-") or part in _union_tags)


_union_tags: set[str] = set()


def register_union_tags(tags: set[str]) -> None:
    """Tell the error formatter which location parts are union tags, not keys."""
    _union_tags.update(tags)


def validate(model: type[M], data: dict[str, Any], source: str) -> M:
    """Validate `data` as `model`; every problem becomes one line of a ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(source, [_describe(e) for e in err.errors(include_url=False)]) from None


def load_config(path: str | Path, model: type[M]) -> M:
    """Read and validate one YAML file (no `extends:`) as `model`, e.g. a plan file."""
    return validate(model, read_yaml(path), str(path))


class SimulationParams(Params):
    """How many replications, from which root seed, on how many worker processes, and which
    engine: `events` (the SimPy reference) or `fast` (a day at a time, for volume)."""

    replications: int = Field(default=20, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0)
    workers: int | None = Field(default=None, ge=1)
    engine: Literal["events", "fast"] = "events"


CONSTANT_BEHAVIOUR = frozenset({"model", "effort", "min_effort", "max_effort", "ratchet"})
"""The behaviour keys constant effort reads; the others shape how reps respond to a plan."""


class Scenario(Params):
    """Everything one run needs: calendar, team, leads, funnel, routing, behaviour, settings."""

    name: str = "scenario"
    description: str = ""
    calendar: CalendarParams
    team: TeamParams = TeamParams()
    leads: LeadsParams = LeadsParams()
    funnel: FunnelParams = FunnelParams()
    production: ProductionParams = ProductionParams()
    routing: RoutingParams = RoutingParams()
    behaviour: BehaviourParams = BehaviourParams()
    plan: Plan | None = None
    simulation: SimulationParams = SimulationParams()
    uncertainty: Uncertainty | None = None  # parameter draws, checked against the fields above

    @model_validator(mode="after")
    def _plan_fits(self) -> Scenario:
        if self.behaviour.model != "constant" and self.plan is None:
            raise ValueError(
                f"behaviour.model is '{self.behaviour.model}' but the scenario has no plan; "
                "add `plan:` (reps respond to a plan) or use model: constant"
            )
        if self.plan is not None and self.team.quota is None and self.team.roster is None:
            raise ValueError(
                "a plan pays against targets: set team.quota (e.g. per_period: 200000)"
            )
        return self

    @model_validator(mode="after")
    def _tiers_resolve(self) -> Scenario:
        names = [t.name for t in self.leads.tiers]
        levers = self.calendar.levers
        refs = {
            "routing.priority_tiers": self.routing.priority_tiers,
            "routing.squad_first_pick.tiers": self.routing.squad_first_pick.tiers,
            "calendar.levers.close_out_offer.tiers": levers.close_out_offer.tiers,
        }
        if levers.referral_contest.enabled:
            refs["calendar.levers.referral_contest.tier"] = [levers.referral_contest.tier]
        for key, used in refs.items():
            unknown = [t for t in used if t not in names]
            if unknown:
                raise ValueError(
                    f"{key} names tier(s) {', '.join(unknown)} that are not in leads.tiers "
                    f"({', '.join(names)}); use one of those names"
                )
        return self

    def inert_settings(self) -> list[str]:
        """Settings the file gives that change nothing under the rest of the scenario, each as
        a warning naming the key, why, and the fix: so no one reads an effect into them."""
        routing, behaviour = self.routing, self.behaviour
        given = routing.model_fields_set
        warnings = []
        precedence = routing.policy == "tier_priority" or routing.response_red_line_hours
        if "priority_tiers" in given and routing.priority_tiers and not precedence:
            warnings.append(
                f"routing.priority_tiers ({', '.join(routing.priority_tiers)}) does nothing "
                f"under policy {routing.policy} without response_red_line_hours: set policy: "
                "tier_priority (priority tiers to the top sellers first) or "
                "response_red_line_hours (their first contact jumps the queue), or remove it"
            )
        tops = {"top_seller_share", "top_seller_overflow"} & given
        if routing.strike_teams.enabled:
            tops.discard("top_seller_share")  # strike teams are led by the top sellers
        if tops and routing.policy != "tier_priority":
            warnings.append(
                f"routing.{' and routing.'.join(sorted(tops))} does nothing under policy "
                f"{routing.policy}: only tier_priority (and strike teams, for the share) uses "
                "the top sellers; remove it or set policy: tier_priority"
            )
        roster = self.team.roster or []
        if routing.policy != "share" and any(r.lead_share is not None for r in roster):
            warnings.append(
                f"team.roster lead_share does nothing under routing.policy {routing.policy}: "
                "only policy: share routes leads in proportion to it; set it or drop the column"
            )
        unused = sorted(behaviour.model_fields_set - CONSTANT_BEHAVIOUR)
        if behaviour.model == "constant" and unused:
            warnings.append(
                f"behaviour.{', behaviour.'.join(unused)} does nothing under behaviour.model "
                "constant (reps keep their effort whatever the plan pays): set model: "
                "plan_responsive or optimising, or remove it"
            )
        return warnings

    def resolved(self) -> dict[str, Any]:
        """The full scenario with every default filled in, as plain YAML-able data."""
        return self.model_dump(mode="json", by_alias=True)

    def digest(self) -> str:
        """A short hash of the resolved scenario: equal scenarios, equal digests."""
        text = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def with_calendar(self, **changes: Any) -> Scenario:
        """A copy with calendar keys changed (e.g. periods, start, days; None values ignored)."""
        updates = {k: v for k, v in changes.items() if v is not None}
        if not updates:
            return self
        data = {**self.calendar.model_dump(), **updates}
        calendar = validate(CalendarParams, data, f"{self.name}: --calendar/--window")
        return self.model_copy(update={"calendar": calendar})

    def with_window(
        self, label: str | None = None, start: dt.date | None = None, days: int | None = None
    ) -> Scenario:
        """A copy simulating one window: a reporting-period label, or a first day and days."""
        span = resolve_window(reporting_periods(self.calendar), label, start, days)
        return self if span is None else self.with_calendar(start=span[0], days=span[1])

    def with_simulation(self, **changes: Any) -> Scenario:
        """A copy with simulation settings changed (None values are ignored)."""
        updates = {k: v for k, v in changes.items() if v is not None}
        if not updates:
            return self
        given = ", ".join(f"--{key} {value}" for key, value in updates.items())
        sim = validate(
            SimulationParams, {**self.simulation.model_dump(), **updates}, f"run settings ({given})"
        )
        return self.model_copy(update={"simulation": sim})


register_union_tags(DISTRIBUTION_NAMES | COMPONENT_TYPES)


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario YAML file, following `extends:` chains and reading a roster CSV."""
    path = Path(path)
    data = _merged(path, ())
    if is_plan(data):
        raise ConfigError(
            str(path),
            [
                "this is a plan file (it has `components:` and no `calendar:`), not a scenario; "
                "a scenario names it with `plan: <path>`, and `simplan validate` checks it alone"
            ],
        )
    roster = data.get("team", {}).get("roster") if isinstance(data.get("team"), dict) else None
    if isinstance(roster, str):
        data["team"]["roster"] = read_roster(Path(roster))
    periods = (
        data.get("calendar", {}).get("periods") if isinstance(data.get("calendar"), dict) else None
    )
    if isinstance(periods, str) and not is_rule(periods):
        data["calendar"]["periods"] = read_period_rows(Path(periods))
    if isinstance(data.get("plan"), str):
        data["plan"] = load_config(data["plan"], Plan)
    return validate(Scenario, data, str(path))


def is_plan(data: dict[str, Any]) -> bool:
    """Whether a file's mapping is a plan (components, no calendar) rather than a scenario."""
    return "components" in data and "calendar" not in data


def load_file(path: str | Path) -> Scenario | Plan:
    """A scenario, or a plan file validated as a plan: what `simplan validate` checks."""
    data = read_yaml(path)
    if is_plan(data):
        return validate(Plan, data, str(path))
    return load_scenario(path)


def _merged(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The file's data deep-merged over its `extends:` base (recursively)."""
    resolved = path.resolve()
    if resolved in chain:
        loop = " -> ".join(str(p) for p in (*chain, resolved))
        raise ConfigError(str(path), [f"extends: forms a cycle ({loop}); remove one of the links"])
    data = read_yaml(path)
    base = data.pop("extends", None)
    if base is None:
        return _relative_paths(data, path)
    if not isinstance(base, str):
        raise ConfigError(str(path), [f"extends = {base!r}: must be the path of one YAML file"])
    base_path = _reference(path, "extends", base)
    return deep_merge(_merged(base_path, (*chain, resolved)), _relative_paths(data, path))


def _reference(path: Path, key: str, ref: str) -> Path:
    """The file that key `key` of scenario `path` names: relative to the scenario, and present."""
    ref_path = Path(ref)
    target = ref_path if ref_path.is_absolute() else path.parent / ref_path
    if not target.exists():
        raise ConfigError(
            str(path),
            [
                f"{key} = {ref!r}: no such file {target.resolve()}; the path is relative to "
                f"this file's folder ({path.parent.resolve()}), not to the current directory"
            ],
        )
    return target


def _relative_paths(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Make file references (team.roster, plan) relative to the file that names them."""
    team = data.get("team")
    if isinstance(team, dict) and isinstance(team.get("roster"), str):
        team = {**team, "roster": str(_reference(path, "team.roster", team["roster"]))}
        data = {**data, "team": team}
    if isinstance(data.get("plan"), str):
        data = {**data, "plan": str(_reference(path, "plan", data["plan"]))}
    calendar = data.get("calendar")
    periods = calendar.get("periods") if isinstance(calendar, dict) else None
    if isinstance(periods, str) and not is_rule(periods):
        data = {
            **data,
            "calendar": {**calendar, "periods": str(_reference(path, "calendar.periods", periods))},
        }
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; lists and values in `override` replace the base's."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


ROSTER_COLUMNS = set(RosterRow.model_fields)


def read_roster(path: Path) -> list[dict[str, Any]]:
    """Read a roster CSV into row mappings; errors name the file, row and column."""
    table = parse_csv(read_text(path), str(path))
    unknown = [c for c in table.header if c not in ROSTER_COLUMNS]
    missing = [
        c for c in ("rep_id", "tenure_days", "capacity_touches_per_day") if c not in table.header
    ]
    if unknown or missing:
        problems = [f"missing column '{c}'" for c in missing]
        for c in unknown:
            near = difflib.get_close_matches(c, sorted(ROSTER_COLUMNS), n=1)
            problems.append(
                f"unknown column '{c}'" + (f"; did you mean '{near[0]}'?" if near else "")
            )
        problems.append("columns are: " + ", ".join(sorted(ROSTER_COLUMNS)))
        raise ConfigError(str(path), problems)
    if not table.records:
        raise ConfigError(str(path), ["has a header but no rows; add one row per rep"])
    rows = [  # an empty cell takes the column's default
        {
            name: value.strip()
            for name, value in zip(table.header, record, strict=False)
            if value.strip()
        }
        for record in table.records
    ]
    problems = []
    for line, row in zip(table.lines, rows, strict=True):
        try:
            RosterRow.model_validate(row)
        except ValidationError as err:
            for e in err.errors(include_url=False):
                problems.append(
                    f"row {line}, column {key_path(e['loc'])} = {shorten(e.get('input'))}: {e['msg']}"
                )
    if problems:
        raise ConfigError(str(path), problems)
    return rows


PERIOD_COLUMNS = ("period", "start", "end")


def read_period_rows(path: Path) -> list[dict[str, Any]]:
    """Read a period table CSV (period,start,end; end inclusive); errors name the file and row."""
    table = parse_csv(read_text(path), str(path))
    header = [c.strip().lower() for c in table.header]
    missing = [c for c in PERIOD_COLUMNS if c not in header]
    if missing:
        raise ConfigError(
            str(path),
            [
                f"missing column(s) {', '.join(missing)}; a period table has columns period,start,end"
            ],
        )
    rows = [
        {
            k: (v.strip() or None)
            for k, v in zip(header, record, strict=False)
            if k in PERIOD_COLUMNS
        }
        for record in table.records
    ]
    try:
        period_table(rows, first_row=2)
    except PeriodsError as err:
        raise ConfigError(str(path), err.problems) from None
    return rows


def period_spec(text: str) -> str | list[dict[str, Any]]:
    """What `--calendar FILE|RULE` says: a checked rule string, or the rows of a period table."""
    if is_rule(text):
        parse_periods(text)
        return text.strip()
    if not Path(text).is_file():
        raise SimplanError(f"--calendar {text!r}: not a file, nor a known rule; {RULE_HELP}")
    return read_period_rows(Path(text))


def load_periods(text: str) -> Periods:
    """Periods from a rule (month, 4-4-5:2025-01-06, ...) or a period table CSV (--calendar)."""
    return parse_periods(period_spec(text))

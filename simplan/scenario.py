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
from typing import Any, TypeVar

import pandas as pd
import yaml
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

M = TypeVar("M", bound=BaseModel)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read one YAML file that must hold a mapping; errors name the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(
            str(path),
            ["file not found; check the path (relative paths start at the current directory)"],
        )
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        raise ConfigError(str(path), ["the file is empty; a scenario is a YAML mapping of keys"])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(err, "problem", None) or str(err)
        raise ConfigError(str(path), [f"invalid YAML at {where}{problem}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(
            str(path), [f"the top level must be a mapping of keys, not a {type(data).__name__}"]
        )
    return data


def _describe(error: dict[str, Any]) -> str:
    loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
    if error["type"] == "unknown_key":
        loc = (*loc, error["ctx"]["key"])
        return f"{key_path(loc)}: {error['msg']}"
    value = error.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    msg = error["msg"].removeprefix("Value error, ")
    return f"{key_path(loc)}{shown}: {msg}"


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
    """How many replications, from which root seed, on how many worker processes."""

    replications: int = Field(default=20, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0)
    workers: int | None = Field(default=None, ge=1)


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
        sim = SimulationParams.model_validate({**self.simulation.model_dump(), **updates})
        return self.model_copy(update={"simulation": sim})


register_union_tags(DISTRIBUTION_NAMES | COMPONENT_TYPES)


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario YAML file, following `extends:` chains and reading a roster CSV."""
    path = Path(path)
    data = _merged(path, ())
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
    base_path = _relative(path, base)
    if not base_path.is_file():
        raise ConfigError(
            str(path),
            [f"extends = {base!r}: no such file {base_path}; the path is relative to this file"],
        )
    return deep_merge(_merged(base_path, (*chain, resolved)), _relative_paths(data, path))


def _relative(path: Path, ref: str) -> Path:
    ref_path = Path(ref)
    return ref_path if ref_path.is_absolute() else path.parent / ref_path


def _relative_paths(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """Make file references (team.roster, plan) relative to the file that names them."""
    team = data.get("team")
    if isinstance(team, dict) and isinstance(team.get("roster"), str):
        team = {**team, "roster": str(_relative(path, team["roster"]))}
        data = {**data, "team": team}
    if isinstance(data.get("plan"), str):
        data = {**data, "plan": str(_relative(path, data["plan"]))}
    calendar = data.get("calendar")
    periods = calendar.get("periods") if isinstance(calendar, dict) else None
    if isinstance(periods, str) and not is_rule(periods):
        data = {**data, "calendar": {**calendar, "periods": str(_relative(path, periods))}}
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
    if not path.is_file():
        raise ConfigError(
            str(path), ["roster file not found; team.roster is relative to the scenario file"]
        )
    try:
        frame = pd.read_csv(path, dtype={"rep_id": str, "squad": str, "mentor_id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ConfigError(str(path), [f"cannot read the roster as CSV: {err}"]) from None
    unknown = [c for c in frame.columns if c not in ROSTER_COLUMNS]
    missing = [
        c for c in ("rep_id", "tenure_days", "capacity_touches_per_day") if c not in frame.columns
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
    frame = frame.astype(object).where(frame.notna(), None)
    rows = frame.to_dict(orient="records")
    problems = []
    for i, row in enumerate(rows):
        try:
            RosterRow.model_validate(row)
        except ValidationError as err:
            for e in err.errors(include_url=False):
                problems.append(
                    f"row {i + 2}, column {key_path(e['loc'])} = {e.get('input')!r}: {e['msg']}"
                )
    if problems:
        raise ConfigError(str(path), problems)
    return rows


PERIOD_COLUMNS = ("period", "start", "end")


def read_period_rows(path: Path) -> list[dict[str, Any]]:
    """Read a period table CSV (period,start,end; end inclusive); errors name the file and row."""
    if not path.is_file():
        raise ConfigError(
            str(path),
            [
                "period table not found; calendar.periods is a rule (e.g. 4-4-5:2025-01-06) or "
                "a CSV path relative to the scenario file"
            ],
        )
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise ConfigError(str(path), [f"cannot read the period table as CSV: {err}"]) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in PERIOD_COLUMNS if c not in frame.columns]
    if missing:
        raise ConfigError(
            str(path),
            [
                f"missing column(s) {', '.join(missing)}; a period table has columns period,start,end"
            ],
        )
    rows = [
        {k: str(v).strip() or None for k, v in row.items()}
        for row in frame[list(PERIOD_COLUMNS)].to_dict(orient="records")
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

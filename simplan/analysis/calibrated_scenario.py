"""The calibrated scenario as plain data: fitted tiers, the team as a roster, the calendar
with fitted weekday and phase multipliers, the funnel's loss stages, routing and settings
(what `simplan calibrate` writes as YAML and validates as a Scenario), and the draws of its
fitted numbers that its `uncertainty` block carries into every prediction made with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

from simplan.analysis import engine_fit
from simplan.analysis.fit import compress
from simplan.history import History
from simplan.model.calendar import PERIOD_FREQ, PHASES, WEEKDAYS
from simplan.model.periods import TABLE, Periods, clock_periods, parse_periods


def scenario_data(
    calibrator, history, clock, as_of, arrivals, outcomes, sizes, skills, capacity,
    working_weekdays, overhead, roster, plan,
) -> dict:  # fmt: skip
    """The scenario as plain data (what `simplan calibrate` writes as YAML); `calibrator`
    gives the window (start, days, warmup_days), name, periods and seed."""
    spec, every = calendar_periods(calibrator.calendar, clock)
    on = calibrator.calendar or parse_periods(clock)  # the window follows the business's periods
    if calibrator.start is not None:
        start = pd.Timestamp(calibrator.start)
        last = on.last_day(int(on.index([start])[0]))
        days = calibrator.days or (pd.Timestamp(last) - start).days + 1
    else:
        first, length = on.following(as_of.date())
        start, days = pd.Timestamp(first), calibrator.days or length
    longest = max(_quantile(o.won_values, o.won_weights, 0.99) for o in outcomes.values())
    warmup = calibrator.warmup_days
    if warmup is None:
        warmup = int(min(730, max(np.ceil(longest) + 14, (start - as_of).days)))
    tiers = []
    for _, row in arrivals.rates.iterrows():
        tier = row["tier"]
        fit, size = outcomes[tier], sizes[tier]
        if fit.family == "empirical":
            values, weights = compress(fit.won_values, fit.won_weights)
            negotiation = engine_fit.empirical_delay(values, weights, overhead)
        else:
            negotiation = engine_fit.negotiation_delay(
                fit.family, fit.won_mean, fit.won_cv, overhead
            )
        if size["empirical"]:
            values, weights = compress(size["amounts"], np.ones(len(size["amounts"])))
            deal_size = {"dist": "empirical", "values": values, "weights": weights}
        else:
            s = size["fit"]
            deal_size = {"dist": s.family, "mean": round(s.mean, 2), "cv": round(s.cv, 4)}
        tiers.append(
            {
                "name": str(tier),
                "arrivals_per_day": round(row["per_working_day"] * (1 - fit.stale_share), 4),
                "win_probability": round(fit.win_probability, 4),
                "deal_size": deal_size,
                "stage_delays_days": {
                    "contact": engine_fit.SHORT_STAGE_DAYS,
                    "proposal": engine_fit.SHORT_STAGE_DAYS,
                    "negotiation": _plain(negotiation),
                },
                "response_decay": {"shape": "none"},
            }
        )
    won_mean = float(np.nanmean([o.won_mean for o in outcomes.values()]))
    lost = [o.lost_mean for o in outcomes.values() if np.isfinite(o.lost_mean)]
    lost_mean = float(np.mean(lost)) if lost else won_mean  # no losses: where they drop is moot
    team_of = {}
    if roster is not None:
        team_of = roster.dropna(subset=["team"]).set_index("rep_id")["team"].to_dict()
    paid_per = clock_periods(clock, calibrator.calendar)
    own_quota = rep_quotas(history, paid_per, start)
    rows = []
    for rep, fitted in skills.items():
        row = {
            "rep_id": str(rep),
            "tenure_days": fitted["tenure_days"] + (start - as_of).days,
            "capacity_touches_per_day": capacity[rep],
            "skill": round(fitted["skill"], 4),
            "lead_share": round(fitted["lead_share"], 6),
            "deal_size_multiplier": round(fitted["deal_size_multiplier"], 4),
        }
        if rep in team_of:
            row["squad"] = str(team_of[rep])
        if rep in own_quota:
            row["quota"] = round(own_quota[rep], 2)
        rows.append(row)
    first_tier = str(tiers[0]["name"])
    phases = {PHASES[code]: round(m, 4) for code, m in arrivals.phase.items() if code > 0}
    data = {
        "name": calibrator.name or f"calibrated_{Path(history.source).stem}",
        "description": (
            f"Calibrated from {history.source} as of {as_of:%Y-%m-%d} "
            f"(last {calibrator.periods} {'period' if calibrator.calendar else clock}s); "
            "constant effort, behaviour not fitted."
        ),
        "calendar": {
            "start": start.date().isoformat(),
            "days": days,
            "warmup_days": warmup,
            "period": reporting(clock),
            "working_days": [WEEKDAYS[d] for d in working_weekdays],
            **({"periods": spec} if spec is not None else {}),
            "sprint": {
                "every": every,
                "opens_on_day": 1,
                "phases": {
                    name: {"share": share, "arrival_multiplier": phases.get(name, 1.0)}
                    for name, share in (("build", 0.3), ("burst", 0.5), ("close_out", 0.2))
                },
            },
            "weekday_arrival_multipliers": {
                WEEKDAYS[d]: round(m, 4) for d, m in arrivals.weekday.items()
            },
            "levers": {"close_out_offer": {"tiers": [first_tier]}},
        },
        "team": {"roster": rows, "quota": quota(history, paid_per)},
        "leads": {"tiers": tiers},
        "funnel": {
            "loss_stage_shares": engine_fit.loss_stage_shares(lost_mean, won_mean, quick_days=1.0)
        },
        "routing": {
            "policy": "share",
            "priority_tiers": [],
            "squad_first_pick": {"tiers": [first_tier]},
        },
        "behaviour": {"model": "constant"},
        "simulation": {"replications": 20, "seed": calibrator.seed},
    }
    if plan is not None:
        data["plan"] = plan.model_dump(mode="json", by_alias=True)
    return data


def calendar_periods(periods: Periods | None, clock: str) -> tuple[str | list | None, str]:
    """What the scenario's calendar says of the business's periods: `periods` (the rule, or
    the table's rows; None without them) and what sprints follow ('period', else `clock`)."""
    if periods is None:
        return None, clock
    if periods.spec != TABLE:
        return periods.spec, "period"
    rows = [
        {"period": label, "start": periods.first_day(i), "end": periods.last_day(i)}
        for i, label in enumerate(periods.labels)
    ]
    return rows, "period"


def history_calendar(calendar: dict, start: pd.Timestamp, days: int) -> dict:
    """The calibrated calendar moved onto the history window (for the fit check and the
    behaviour fit). A periods table stays only if it covers the warm-up before the history:
    a business's table often starts with its history, and those runs then keep the plan's
    clock; a rule covers every date."""
    moved = {**calendar, "start": start.date().isoformat(), "days": int(days)}
    periods = calendar.get("periods")
    if isinstance(periods, list) and periods:
        first = start - pd.Timedelta(days=int(calendar.get("warmup_days", 0)))
        if pd.Timestamp(min(row["start"] for row in periods)) > first:
            moved.pop("periods")
    return moved


def history_roster(data: dict, start: pd.Timestamp) -> list[dict]:
    """The calibrated roster with each rep's tenure on `start`, the history window's first day
    (the calibrated tenure is at the forecast's start): a rep hired inside the window starts it
    new (0 days), so runs over the history (the fit check, the behaviour fit) ramp them as the
    history saw them ramp."""
    shift = (start - pd.Timestamp(data["calendar"]["start"])).days
    return [
        {**row, "tenure_days": max(int(row["tenure_days"]) + shift, 0)}
        for row in data["team"]["roster"]
    ]


def reporting(clock: str) -> str:
    """The scenario's `calendar.period` for a plan `clock`: the clock itself, or quarter when
    the plan pays per the business's periods (`calendar.periods`, which wins over it)."""
    return clock if clock in PERIOD_FREQ else "quarter"


def quota(history: History, paid_per: Periods) -> dict:
    """Each rep's target per plan period (`paid_per`): the targets table's median, else the
    median rep's bookings per period over the periods the history holds whole (from its first
    close to the export: a week of a quarter is not a quarter's bookings), else over all."""
    if history.targets is not None and len(history.targets):
        return {"per_period": float(history.targets["target"].median()),
                "new_hire_share": 1.0, "ramping_share": 1.0}  # fmt: skip
    won = history.deals[history.deals["outcome"] == "won"]
    periods = paid_per.index(won["close_date"])
    whole = [i for i in np.unique(periods[periods >= 0])
             if pd.Timestamp(paid_per.first_day(i)) >= history.observed_from
             and pd.Timestamp(paid_per.last_day(i)) <= history.as_of]  # fmt: skip
    if whole:
        won, periods = won[np.isin(periods, whole)], periods[np.isin(periods, whole)]
    per_rep = won.groupby([won["rep_id"], periods])["amount"].sum().groupby(level=0).mean()
    return {"per_period": round(float(max(per_rep.median(), 1.0)), 2),
            "new_hire_share": 1.0, "ramping_share": 1.0}  # fmt: skip


def rep_quotas(history: History, paid_per: Periods, start: pd.Timestamp) -> dict[str, float]:
    """Each rep's own target for the plan period (of `paid_per`) the scenario starts in, from
    the targets table, keyed by period labels (a rep without a row for that period keeps their
    latest earlier target)."""
    if history.targets is None or not len(history.targets):
        return {}
    targets = history.targets.assign(at=paid_per.positions(history.targets["period"]))
    known = targets[(targets["at"] >= 0) & (targets["at"] <= paid_per.index([start])[0])]
    latest = known.sort_values("at").groupby("rep_id")["target"].last()
    return {str(rep): float(value) for rep, value in latest.items()}


Z95 = 1.959963984540054


def parameter_draws(data: dict, params: pd.DataFrame, count: int, seed: int) -> list[dict]:
    """`count` draws of the tiers' and reps' fitted numbers from their sampling distributions
    (stratified normals on the logit scale for probabilities, on the log scale otherwise,
    with the spread of the 95 % interval; log-scale draws are mean-preserving,
    exp(s z - s^2 / 2), so the draws average the fitted rate and a product of several is not
    biased upward), as key paths of `data` -> value: each tier's arrivals, win probability,
    deal-size mean and negotiation-delay mean (when the distribution has a mean), each rep's
    skill, lead share and deal-size multiplier. A draw moves a fitted value's scenario number
    by the drawn value's ratio to the fitted one; arrivals and win probabilities also take the
    forecast period's own effect (the `team.*_period_sd` rows)."""
    rng = np.random.default_rng([seed, 4099])
    fitted = params.set_index("parameter")

    def normal() -> np.ndarray:
        """`count` standard normals, one from each of `count` equal-probability strata in a
        random order (a Latin hypercube across parameters): 20 draws then average what the
        fit says, where 20 plain normals put a rate's mean several per cent off."""
        return special.ndtri((rng.permutation(count) + rng.random(count)) / count)

    def ratio(name: str, logit: bool = False) -> np.ndarray:
        """Drawn over fitted value of parameter `name`, one per draw (1 without an interval)."""
        if name not in fitted.index:
            return np.ones(count)
        value, low, high = fitted.loc[name, ["value", "ci_low", "ci_high"]].astype(float)
        if not (np.isfinite([value, low, high]).all() and low < high and value > 0):
            return np.ones(count)
        z = normal()
        if logit:
            lo, hi, mid = special.logit(np.clip([low, high, value], 1e-6, 1 - 1e-6))
            return special.expit(mid + z * (hi - lo) / (2 * Z95)) / value
        spread = (np.log(high) - np.log(max(low, 1e-9))) / (2 * Z95)
        return np.exp(z * spread - spread**2 / 2)

    def period_sd(name: str) -> float:
        return float(fitted.loc[name, "value"]) if name in fitted.index else 0.0

    # The forecast period's own effect, shared by the tiers (`Calibrator._period_effects`).
    arrivals_sd = period_sd("team.arrivals_period_sd")
    arrivals_effect = np.exp(normal() * arrivals_sd - arrivals_sd**2 / 2)
    win_shift = normal() * period_sd("team.win_probability_period_sd")
    paths: dict[str, np.ndarray] = {}
    for i, tier in enumerate(data["leads"]["tiers"]):
        name, at = tier["name"], f"leads.tiers[{i}]"
        paths[f"{at}.arrivals_per_day"] = (
            tier["arrivals_per_day"] * ratio(f"tier.{name}.arrivals_per_day") * arrivals_effect
        )
        drawn = tier["win_probability"] * ratio(f"tier.{name}.win_probability", logit=True)
        paths[f"{at}.win_probability"] = special.expit(
            special.logit(np.clip(drawn, 1e-6, 0.999)) + win_shift
        )
        if isinstance(tier["deal_size"], dict) and "mean" in tier["deal_size"]:
            paths[f"{at}.deal_size.mean"] = tier["deal_size"]["mean"] * ratio(
                f"tier.{name}.deal_size_mean"
            )
        negotiation = tier["stage_delays_days"]["negotiation"]
        if isinstance(negotiation, dict) and "mean" in negotiation:
            paths[f"{at}.stage_delays_days.negotiation.mean"] = negotiation["mean"] * ratio(
                f"tier.{name}.won_cycle_mean"
            )
    for i, row in enumerate(data["team"]["roster"]):
        for key in ("skill", "lead_share", "deal_size_multiplier"):
            if key in row:
                paths[f"team.roster[{i}].{key}"] = row[key] * ratio(f"rep.{row['rep_id']}.{key}")
    return [
        {path: round(float(values[j]), 6) for path, values in paths.items()} for j in range(count)
    ]


def with_parameter_draws(data: dict, params: pd.DataFrame, count: int, seed: int) -> dict:
    """`data` whose `uncertainty` block holds `count` draws of its fitted tier and rep
    numbers, each joined with the behaviour fit's draw of the same index when there is one
    (then there are as many draws as the behaviour fit made, at least `count`)."""
    if count < 1:
        return data
    uncertainty = data.get("uncertainty") or {"source": "", "draws": []}
    behaviour = uncertainty["draws"]
    count = max(count, len(behaviour))
    draws = parameter_draws(data, params, count, seed)
    if behaviour:
        draws = [{**draw, **behaviour[j % len(behaviour)]} for j, draw in enumerate(draws)]
    source = "tier and rep numbers drawn from the fit's 95 % intervals"
    if uncertainty["source"]:
        source += f"; {uncertainty['source']}"
    return {**data, "uncertainty": {"source": source, "draws": draws}}


def _quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The q-quantile of a weighted sample (30 days when empty)."""
    if values is None or len(values) == 0:
        return 30.0
    order = np.argsort(values)
    cdf = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(values)[order][min(np.searchsorted(cdf, q * cdf[-1]), len(cdf) - 1)])


def plain_data(value):
    """Nested data with numpy scalars turned into Python numbers (YAML-safe)."""
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _plain(dist) -> dict:
    """A distribution object as the plain mapping a scenario file holds."""
    return dist.model_dump(mode="json", by_alias=True, exclude_none=True)

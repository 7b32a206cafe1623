"""How reps respond to the plan, fitted from history by simulated method of moments.

A history under a *nonlinear* plan (a bonus, a gate, an accelerator) identifies how much
effort moves bookings: reps' booking pace varies with their distance to the plan's lines and
the time left. The fit simulates the baseline window under the plan in force for each point
of a grid over the four parameters that decide a plan's effect on bookings,

- `production.self_sourced_share`: how much of a rep's volume effort creates (with a lag:
  a deal sourced now closes a sales cycle later),
- `production.closing_elasticity`: how much effort lifts the win chance of the deals closing
  now (the lever a rep still has in a period's last weeks), and
- `behaviour.cost_curvature` (gamma): how far effort moves with pay (elasticity ~ 1/(gamma-1)),
- `behaviour.pipeline_sight`: how much of their open pipeline reps count when they plan (where
  in a period they push: a rep who does not count it feels behind mid-period and pushes
  nearer a line; the same rep's effort moves more between plans),

with reps who plan ahead (`behaviour.model: optimising`), and weighs the points by how near
their simulated moments are to the history's (`behaviour_moments`: attainment quantiles, share
at target, end-of-period share, and pace, opportunities created and win rate by band of
attainment x weeks left, each rep against its own target and its own mean).

Distance: the Mahalanobis distance of the history's moments from the simulated ones, under
their covariance pooled over the replications (one replication is one possible history),
shrunk and scaled to an unbiased precision (`moment_covariance`), plus the response
surface's own error (below). Weights exp(-distance / 2) over a fine grid are the posterior
(a uniform prior over the grid's ranges); the fitted values are its means, the notes' 90 %
ranges its quantiles, and the draws for predictive intervals come from it.
`benchmarks/recover_fit.py` checks it on histories simulated at known values: the ranges
hold the truth about 90 % of the time. What one year of 30 reps pins: the self-sourced share
and the closing elasticity, roughly (90 % ranges about 60-70 % of the prior's); the cost
curvature hardly (about 70-75 % of its prior: a range, not a value).

When the plan in force is linear (one marginal rate everywhere), pace does not depend on the
distance to any line, the history cannot identify the response, and the prior is used without
simulating the grid (`prior_fit`: its points could not be told apart): uniform over the grid's
ranges (`PRIOR_SHARES` x `PRIOR_CLOSING` x `PRIOR_CURVATURES` x
`PRIOR_SIGHTS`, see
`PRIOR_SOURCE`), its draws a Latin hypercube so that a few of them span every range. Every
comparison then carries that range.

Effort 1 is normalised to the plan in force (`behaviour.plan_in_force`): under it each rep
books on average the flow of effort 1 (`effort_policy.normalised_cost`), so the history's
volume is what the calibrated team books under the old plan, and a new plan moves effort,
and volume, from there.

Each moment's simulated mean is smoothed across the grid by a quadratic response surface in
the share, the closing elasticity and the effort elasticity 1/(gamma - 1) before the distance
is taken, so the simulation noise of a few replications per point does not pick the winner;
the surface's remaining error, measured from its replications, widens the posterior.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simplan.analysis.behaviour_moments import (
    mahalanobis,
    moment_covariance,
    moments,
    simulated_moments,
    usable,
)
from simplan.analysis.calibrated_scenario import history_calendar, history_roster
from simplan.analysis.fit import fit_arrivals
from simplan.execution import local_executor
from simplan.model.calendar import PHASES, CalendarParams, build_calendar, reporting_periods
from simplan.model.periods import Periods, parse_periods
from simplan.model.plan import Plan
from simplan.runner import simulate
from simplan.scenario import Scenario, validate

PRIOR_SHARES = (0.1, 0.4, 0.7)
"""Self-sourced share of volume: from mostly inbound teams to mostly outbound ones (the
moments move nearly in proportion to it, so three levels carry it)."""
PRIOR_CLOSING = (0.0, 0.2, 0.4)
"""Closing elasticity: from effort that does not touch a deal's close to effort 1.2 winning
8 % more of the deals closing now."""
PRIOR_CURVATURES = (1.6, 2.0, 2.6, 3.6)
"""Effort cost curvature: effort elasticities to pay of about 1.7, 1, 0.6 and 0.4, from reps
whose effort follows pay closely to reps whose effort hardly moves with it. Four levels: the
plan effect turns on it most and the moments bend in it, and three noisy levels, which the
quadratic surface only interpolates, left the posterior's mass where the noise bent the
surface (README, "How simplan predicts a plan change")."""
PRIOR_SIGHTS = (0.0, 1.0)
"""Pipeline sight: from reps who plan on booked deals and what they source (as if it booked at
once) to reps who count their whole open pipeline, as a forecast does."""
PARAMETERS = {
    "self_sourced_share": "production.self_sourced_share",
    "closing_elasticity": "production.closing_elasticity",
    "cost_curvature": "behaviour.cost_curvature",
    "pipeline_sight": "behaviour.pipeline_sight",
}
"""The fitted parameters: grid column -> scenario key."""
PRODUCTION = ("self_sourced_share", "closing_elasticity")
"""The fitted parameters that live in the scenario's `production` block (the others live in
`behaviour`)."""
FINE = {"self_sourced_share": 25, "closing_elasticity": 9, "cost_curvature": 13,
        "pipeline_sight": 5}  # fmt: skip
"""Points of the fine grid the surface is evaluated on, per parameter."""
WEAK = 0.7
"""A fitted parameter whose 90 % range spans this share of its prior's is named as hardly
pinned by the history (the cost curvature on a year of 30 reps: 0.74 on average in
benchmarks/recover_fit.py)."""
PRIOR_SOURCE = (
    "simplan's planning prior, wide enough to hold the plan responses of the structural "
    "salesforce studies (Misra & Nair 2011, where a redesigned plan moved revenue 9 %; Chung, "
    "Steenburgh & Sudhir 2014, where bonuses and overachievement rates moved effort), not an "
    "estimate from them"
)
"""Where the prior's ranges come from, as the calibration report states it."""


@dataclass
class BehaviourFit:
    """The fitted behaviour and production blocks, the grid, and draws for uncertainty."""

    behaviour: dict
    production: dict
    grid: pd.DataFrame  # the simulated points: parameters and mean moments
    surface: pd.DataFrame  # the smoothed distance and weight on a fine grid
    actual: dict
    identified: bool
    draws: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    phases: dict = field(default_factory=dict)  # arrival multiplier by sprint phase, net


def plan_is_linear(plan: Plan) -> bool:
    """True when the plan pays one marginal rate at every attainment (no lines to respond to)."""
    grid = np.linspace(0.0, 3.0, 301)
    rate = plan.marginal_rate(grid, 1.0)
    return bool(np.ptp(rate) < 1e-9)


def period_table(window: tuple[pd.Timestamp, pd.Timestamp], clock: str | Periods) -> pd.DataFrame:
    """The full periods of `clock` (a rule such as quarter, or the business's periods) inside
    the window: period label, start, end (inclusive)."""
    periods = parse_periods(clock) if isinstance(clock, str) else clock
    start = pd.to_datetime(periods.start)
    end = pd.to_datetime(periods.stop - np.timedelta64(1, "D"))
    inside = np.flatnonzero((start >= window[0]) & (end <= window[1]))
    if not len(inside):
        raise ValueError("no full plan period in the baseline window")
    return pd.DataFrame(
        {
            "period": np.asarray(periods.labels, dtype=object)[inside],
            "start": start[inside],
            "end": end[inside],
        }
    )


@dataclass(frozen=True)
class FitWindow:
    """What the fit measures on: the history window's scenario data (each rep's target in each
    period its own, as the moments read them; its quota the mean of them; its tenure on the
    window's first day), the plan periods and each rep's targets."""

    base: dict
    start: pd.Timestamp
    end: pd.Timestamp
    targets: pd.Series  # by (rep_id, period)
    periods: pd.DataFrame  # period, start, end
    in_force: dict  # the plan in force, as scenario data
    identified: bool  # False when the plan is linear: the prior is used
    closed_only: bool = False  # the history holds closed deals only: simulations are seen so
    phases: dict = field(default_factory=dict)  # the history's arrival multiplier by phase


def fit_window(
    data: dict,
    targets: pd.DataFrame | None,
    window: tuple[pd.Timestamp, pd.Timestamp],
    plan: Plan,
    closed_only: bool = False,
) -> FitWindow:
    """The fit's window on the calibrated scenario `data` (see `fit_behaviour`). Its sprint
    phases bring no arrival multipliers of their own: the history's (`phases`) were fitted
    with the reps' effort in them, and the effort simulated on top would count it twice, so
    the reps' effort under the plan in force is what shapes arrivals within a period here
    (`net_phases` then keeps what it does not explain)."""
    business = reporting_periods(CalendarParams.model_validate(data["calendar"]))
    periods = period_table(window, plan.clock_periods(business))  # where targets are met
    reps = [str(r["rep_id"]) for r in data["team"]["roster"]]
    targets = _targets_for(targets, data, reps, periods)
    start, end = periods["start"].iloc[0], periods["end"].iloc[-1]
    roster = [{**r, "quota": float(own.mean()), "targets": own.to_dict()}
              for r in history_roster(data, start)
              for own in [targets.xs(str(r["rep_id"]), level="rep_id")]]  # fmt: skip
    calendar = history_calendar(data["calendar"], start, (end - start).days + 1)
    given = calendar.get("sprint", {}).get("phases", {})
    phases = {name: float(phase.get("arrival_multiplier", 1.0)) for name, phase in given.items()}
    base = {
        **data,
        "team": {**data["team"], "roster": roster},
        "calendar": with_phase_multipliers(calendar, dict.fromkeys(phases, 1.0)),
    }  # fmt: skip
    in_force = plan.model_dump(mode="json", by_alias=True)
    return FitWindow(base, start, end, targets, periods, in_force, not plan_is_linear(plan),
                     closed_only, phases)  # fmt: skip


def with_phase_multipliers(calendar: dict, multipliers: dict) -> dict:
    """`calendar` (scenario data) with its sprint phases' arrival multipliers set from
    `multipliers` (phase name -> multiplier; a phase it does not name gets 1); unchanged when
    `multipliers` is empty."""
    if not multipliers:
        return calendar
    sprint = calendar["sprint"]
    phases = {name: {**phase, "arrival_multiplier": multipliers.get(name, 1.0)}
              for name, phase in sprint["phases"].items()}  # fmt: skip
    return {**calendar, "sprint": {**sprint, "phases": phases}}


def history_moments(deals: pd.DataFrame, window: FitWindow) -> dict:
    """The moments of the history: `deals` holds its deals (rep_id, created_date, close_date,
    outcome, amount)."""
    day = pd.Timedelta(days=1)
    inside = deals[deals["close_date"].between(window.start, window.end + day, inclusive="left")]
    won = inside[inside["outcome"] == "won"]
    bookings = pd.DataFrame({"rep_id": won["rep_id"].astype(str).to_numpy(),
                             "date": won["close_date"].dt.normalize().to_numpy(),
                             "amount": won["amount"].to_numpy(float)})  # fmt: skip
    closed = deals["outcome"].isin(["won", "lost"])
    frame = pd.DataFrame({"rep_id": deals["rep_id"].astype(str).to_numpy(),
                          "created": deals["created_date"].dt.normalize().to_numpy(),
                          "closed": deals["close_date"].dt.normalize().where(closed).to_numpy(),
                          "won": (deals["outcome"] == "won").to_numpy()})  # fmt: skip
    return moments(bookings, frame, window.targets, window.periods)


def grid_points(ranges: dict[str, tuple[float, ...]]) -> list[dict]:
    """Every combination of `ranges` (parameter -> its grid values)."""
    return [
        dict(zip(ranges, values, strict=True)) for values in itertools.product(*ranges.values())
    ]


def simulate_points(
    window: FitWindow,
    points: list[dict],
    replications: int,
    seed: int,
    workers: int | None = None,
    progress=None,
) -> list[pd.DataFrame]:
    """Each point's moments, one row per replication (one replication is one possible history)."""
    tasks = [
        _GridPoint(
            validate(Scenario, _point_data(window.base, point, window.in_force), "behaviour grid point"),
            replications, seed, window.start, window.targets, window.periods, window.closed_only,
        )
        for point in points
    ]  # fmt: skip
    simulated = []
    for k, moments_of_point in enumerate(local_executor(workers).map(_point_moments, tasks)):
        simulated.append(moments_of_point)
        if progress:
            progress(k + 1, len(points))
    return simulated


def fit_behaviour(
    data: dict,
    deals: pd.DataFrame,
    targets: pd.DataFrame | None,
    window: tuple[pd.Timestamp, pd.Timestamp],
    plan: Plan,
    replications: int = 4,
    seed: int = 0,
    workers: int | None = None,
    draws: int = 20,
    shares: tuple[float, ...] = PRIOR_SHARES,
    curvatures: tuple[float, ...] = PRIOR_CURVATURES,
    closings: tuple[float, ...] = PRIOR_CLOSING,
    sights: tuple[float, ...] = PRIOR_SIGHTS,
    progress=None,
    closed_only: bool = False,
) -> BehaviourFit:
    """Fit the effort response on the baseline window (see the module docstring).

    `data` is the calibrated scenario (with the plan); `deals` the history's deals (rep_id,
    created_date, close_date, outcome, amount); `targets` the targets table (rep_id, period,
    target) or None; `closed_only` when the export holds closed deals only.
    """
    if replications < 2:
        raise ValueError(
            "the behaviour fit needs 2 or more replications per grid point to measure each "
            "moment's spread; use --behaviour-replications 2"
        )
    setting = fit_window(data, targets, window, plan, closed_only)
    ranges = dict(zip(PARAMETERS, (shares, closings, curvatures, sights), strict=True))
    points = grid_points(ranges)
    actual = history_moments(deals, setting)
    if setting.identified:
        simulated = simulate_points(setting, points, replications, seed, workers, progress)
        fit = fit_moments(actual, points, simulated, ranges, setting, draws, seed)
    else:
        fit = prior_fit(actual, points, ranges, setting, draws, seed)
    fit.phases = net_phases(setting, {**fit.production, **fit.behaviour}, replications, seed)
    fit.notes.append(_phase_note(setting.phases, fit.phases))
    return fit


def fit_moments(
    actual: dict,
    points: list[dict],
    simulated: list[pd.DataFrame],
    ranges: dict[str, tuple[float, ...]],
    window: FitWindow,
    draws: int = 20,
    seed: int = 0,
) -> BehaviourFit:
    """The fit of the history's moments `actual` to the points' simulated moments (a plan in
    force with lines: see `prior_fit` for one without)."""
    replications = min(len(frame) for frame in simulated)
    grid = pd.DataFrame([{**point, **frame.mean().to_dict()}
                         for point, frame in zip(points, simulated, strict=True)])  # fmt: skip
    used = usable(actual, grid)
    covariance = moment_covariance(simulated, used)
    surface = _surface(grid, simulated, used, actual, covariance, ranges)
    best = posterior_mean(surface)
    gap = grid[used].to_numpy() - pd.Series(actual)[used].to_numpy()
    grid["distance"] = mahalanobis(gap, covariance)
    fit = BehaviourFit(
        behaviour=_behaviour(best, window.in_force),
        production={name: round(float(best[name]), 4) for name in PRODUCTION},
        grid=grid,
        surface=surface,
        actual=actual,
        identified=True,
        draws=_draws(surface, draws, seed),
    )
    fit.notes = _notes(fit, len(used), replications)
    return fit


def prior_fit(
    actual: dict, points: list[dict], ranges: dict[str, tuple[float, ...]], window: FitWindow,
    draws: int = 20, seed: int = 0,
) -> BehaviourFit:  # fmt: skip
    """The behaviour when the plan in force is linear: the history cannot tell the grid's
    points apart, so none is simulated (under a linear plan that was most of calibrate's
    time); the prior's centre is the fitted value and its Latin hypercube the draws."""
    fine = fine_grid(ranges)
    surface = fine.assign(distance=np.nan, weight=1.0 / len(fine))
    best = _prior_centre(surface)
    fit = BehaviourFit(
        behaviour=_behaviour(best, window.in_force),
        production={name: round(float(best[name]), 4) for name in PRODUCTION},
        grid=pd.DataFrame(points),
        surface=surface,
        actual=actual,
        identified=False,
        draws=_prior_draws(surface, draws, seed),
    )
    fit.notes = _prior_notes(fit)
    return fit


@dataclass(frozen=True)
class _GridPoint:
    """One grid point's simulation: its scenario and what its moments are measured on."""

    scenario: Scenario
    replications: int
    seed: int
    start: pd.Timestamp
    targets: pd.Series
    periods: pd.DataFrame
    closed_only: bool


def _point_moments(point: _GridPoint) -> pd.DataFrame:
    """One row of moments per replication of a grid point. The points run on the workers, each
    point's replications in one process, so each rep's dynamic program is solved once per
    point (replications spread over workers would each solve it)."""
    results = simulate(
        point.scenario, replications=point.replications, seed=point.seed, workers=1,
        engine="fast",
    )  # fmt: skip
    return simulated_moments(results, point.start, point.targets, point.periods, point.closed_only)


def _features(points: pd.DataFrame, varying: list[str]) -> np.ndarray:
    """Response-surface terms in the `varying` parameters (the share, the closing elasticity and
    the effort elasticity 1/(gamma - 1)): a constant, the linear terms, then the squares and
    the cross products."""
    x = [np.asarray(points[name], dtype=float) for name in varying]
    x = [1.0 / (v - 1.0) if name == "cost_curvature" else v
         for name, v in zip(varying, x, strict=True)]  # fmt: skip
    quadratic = [a * b for i, a in enumerate(x) for b in x[i:]]
    return np.column_stack([np.ones(len(points)), *x, *quadratic])


def fine_grid(ranges: dict[str, tuple[float, ...]]) -> pd.DataFrame:
    """The fine grid the posterior lives on: `FINE` points over each parameter's range (one
    where `ranges`, parameter -> its grid values, holds it fixed)."""
    axes = [np.linspace(min(v), max(v), FINE[name] if len(set(v)) > 1 else 1)
            for name, v in ranges.items()]  # fmt: skip
    mesh = np.meshgrid(*axes, indexing="ij")
    return pd.DataFrame({name: a.ravel() for name, a in zip(ranges, mesh, strict=True)})


def _surface(grid, simulated, used, actual, covariance, ranges: dict) -> pd.DataFrame:
    """Each moment smoothed over the grid by a quadratic response surface (linear, or a level,
    when the grid has too few points; so simulation noise does not pick the winner), then the
    distance and weight on a fine grid over `ranges` (parameter -> its grid values).

    The weight is the synthetic likelihood of the history's moments: normal around the
    surface, with `covariance` (one history's) plus the surface's own error. That error is
    measured, not assumed: replication k of every grid point shares its random numbers (one
    seed), so the surfaces fitted to each replication alone are independent draws whose
    spread, over their number, is the error of their mean, the surface used; it is large in
    the directions the history is most sensitive to, and ignoring it made the 90 % ranges
    cover the truth about 75 % of the time (benchmarks/recover_fit.py)."""
    varying = [name for name, values in ranges.items() if len(set(values)) > 1]
    x = _features(grid, varying)
    k = len(varying)
    terms = next(t for t in ((k + 1) * (k + 2) // 2, k + 1, 1) if len(grid) >= t)
    replications = min(len(frame) for frame in simulated)
    means = grid[used].to_numpy()
    each = np.stack([frame[used].to_numpy(float)[:replications] for frame in simulated], axis=1)
    each = np.where(np.isnan(each), means[None, :, :], each)  # replication, point, moment
    fine = fine_grid(ranges)
    features = _features(fine, varying)[:, :terms]
    solve = np.linalg.pinv(x[:, :terms])
    predicted = features @ solve @ means
    apart = np.stack([features @ solve @ one for one in each], axis=-1) - predicted[..., None]
    apart /= np.sqrt(replications * max(replications - 1, 1))  # fine point, moment, replication
    root = np.linalg.cholesky(covariance)
    target = pd.Series(actual)[used].to_numpy()
    gap = np.linalg.solve(root, (predicted - target).T).T
    spread = np.linalg.solve(root, apart.transpose(1, 0, 2).reshape(len(used), -1))
    spread = spread.reshape(len(used), len(fine), replications).transpose(1, 0, 2)
    inner = np.eye(replications) + np.einsum("fpr,fps->frs", spread, spread)
    along = np.einsum("fpr,fp->fr", spread, gap)
    distance = (gap**2).sum(axis=1) - np.einsum(
        "fr,fr->f", along, np.linalg.solve(inner, along[..., None])[..., 0]
    )  # gap' (covariance + surface error)^-1 gap, by Woodbury
    distance += np.linalg.slogdet(inner)[1]  # -2 log likelihood, up to a constant
    weight = np.exp(-(distance - distance.min()) / 2)
    return fine.assign(distance=distance, weight=weight / weight.sum())


def posterior_mean(surface: pd.DataFrame) -> pd.Series:
    """Each parameter's mean under the surface's weights: the fitted value. Where the history
    pins a parameter weakly the most likely point wanders to the grid's edges; the mean does
    not (root mean square error 0.15 / 0.10 / 0.35 against the most likely point's 0.18 /
    0.12 / 0.54 for share / closing / curvature in benchmarks/recover_fit.py)."""
    weight = surface["weight"].to_numpy()
    return pd.Series({name: float(surface[name].to_numpy() @ weight) for name in PARAMETERS})


def posterior_range(surface: pd.DataFrame, name: str, level: float = 0.9) -> tuple[float, float]:
    """The central `level` range of parameter `name` under the surface's weights (its
    marginal over the fine grid): the smallest values holding (1 - level) / 2 and
    (1 + level) / 2 of the weight."""
    marginal = surface.groupby(name)["weight"].sum().sort_index()
    cumulative = marginal.cumsum().to_numpy() / marginal.sum()
    tail = (1 - level) / 2
    values = marginal.index.to_numpy(float)
    low = values[np.searchsorted(cumulative, tail - 1e-12)]
    high = values[min(np.searchsorted(cumulative, 1 - tail - 1e-12), len(values) - 1)]
    return float(low), float(high)


def net_phases(window: FitWindow, point: dict, replications: int, seed: int) -> dict:
    """The sprint phases' arrival multipliers net of the fitted effort: the history's
    (`window.phases`, fitted with the reps' effort in them) over what the reps' effort at
    `point` makes of a period by itself (the same fit, `fit.fit_arrivals`, on the leads of
    `replications` simulated histories with neutral phases), scaled to mean 1 over the
    window's working days again. What is left is what the plan in force does not explain (a
    market's own seasonality within a period), and stays for every plan tried."""
    if not window.phases:
        return {}
    scenario = validate(
        Scenario, _point_data(window.base, point, window.in_force), "fitted behaviour"
    )
    leads = simulate(scenario, replications=replications, seed=seed, workers=1, engine="fast").deals
    calendar = build_calendar(scenario.calendar)
    days = calendar.dates[calendar.first_day :]
    phase = calendar.phase[calendar.first_day :]
    working = calendar.is_working[calendar.first_day :]
    seen = leads[leads["created_day"] >= 0]
    created = pd.Series(
        days[0] + pd.to_timedelta(np.floor(seen["created_day"].to_numpy()), unit="D")
    )
    made = fit_arrivals(created, seen["tier"].reset_index(drop=True), days,
                        days.day_of_week.to_numpy(), phase, working).phase  # fmt: skip
    codes = np.unique(phase[working])
    left = {code: window.phases[PHASES[code]] / made[code] for code in codes if code > 0}
    scale = np.mean([left.get(code, 1.0) for code in phase[working]])
    return {PHASES[code]: round(float(value / scale), 4) for code, value in left.items()}


def _phase_note(history: dict, net: dict) -> str:
    """The calibration note on the sprint phases' arrival multipliers."""
    if not net:
        return "behaviour: no sprint phases in the calendar: arrivals have no within-period shape"
    pairs = ", ".join(f"{name} {history[name]:.3g} -> {net[name]:.3g}" for name in net)
    return (
        "behaviour: sprint phases' arrival multipliers net of the fitted effort (the history's "
        "hold the reps' own within-period pattern, which the simulated effort makes again): "
        f"{pairs}"
    )


def _point_data(base: dict, point: dict, in_force: dict) -> dict:
    """The scenario data of one grid point: `base` with the point's parameters."""
    production = {**base.get("production", {}), **{name: point[name] for name in PRODUCTION}}
    return {**base, "production": production,
            "behaviour": _behaviour(point, in_force)}  # fmt: skip


def _behaviour(point, in_force: dict) -> dict:
    """The behaviour block of the fitted parameters `point` (a mapping holding them)."""
    fitted = {name: round(float(point[name]), 4) for name in PARAMETERS if name not in PRODUCTION}
    return {"model": "optimising", **fitted, "plan_in_force": in_force}


def _targets_for(
    targets: pd.DataFrame | None, data: dict, reps: list[str], periods: pd.DataFrame
) -> pd.Series:
    """Each rep's target in each period of the window, by (rep_id, period): the targets table
    (rep_id, period, target) where it has the rep and period, else the scenario's quota."""
    index = pd.MultiIndex.from_product([reps, periods["period"]], names=["rep_id", "period"])
    quota = data["team"].get("quota") or {}
    fallback = {str(r["rep_id"]): r.get("quota") or quota.get("per_period")
                for r in data["team"]["roster"]}  # fmt: skip
    out = pd.Series([fallback[rep] for rep, _ in index], index=index, dtype=float)
    if targets is not None and len(targets):
        given = pd.Series(
            targets["target"].to_numpy(float),
            index=pd.MultiIndex.from_arrays(
                [targets["rep_id"].astype(str), targets["period"].astype(str)],
                names=["rep_id", "period"],
            ),
        )
        out = given.reindex(index).fillna(out)
    if out.isna().any():
        raise ValueError("no target for some reps in the baseline window; give --targets")
    return out


def _prior_centre(grid: pd.DataFrame) -> pd.Series:
    """The grid point nearest the middle of the prior ranges (used when not identified)."""
    gap = sum((grid[name] - np.median(grid[name].unique())).abs() for name in PARAMETERS)
    return grid.loc[gap.idxmin()]


def _draws(surface: pd.DataFrame, count: int, seed: int) -> list[dict]:
    """`count` parameter draws from the surface's weights by systematic resampling (one draw in
    each of `count` equal slices of the cumulative weight, deterministic for a seed), in a
    shuffled order. Why: a comparison's prediction is the mean over its draws, and `count`
    independent draws from a wide posterior leave that mean a draw's noise away from the
    posterior's (20 draws put world A's mean curvature at 2.72 against the posterior's 2.51);
    slices hold every part of the posterior in proportion. Shuffled, so that the first
    replications (replication i runs under draw i mod `count`) are not one end of the grid."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x6265,)))
    cumulative = np.cumsum(surface["weight"].to_numpy())
    slices = (np.arange(count) + rng.random()) / count * cumulative[-1]
    picked = rng.permutation(np.minimum(np.searchsorted(cumulative, slices), len(surface) - 1))
    return [{path: round(float(surface[name].iloc[k]), 4) for name, path in PARAMETERS.items()}
            for k in picked]  # fmt: skip


def _prior_draws(surface: pd.DataFrame, count: int, seed: int) -> list[dict]:
    """`count` draws from the uniform prior over the surface's ranges, as a Latin hypercube:
    each of `count` equal slices of each range holds one draw, so 20 draws reach both ends of
    every range (random draws leave gaps) and the interval shows the whole prior."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0x7072,)))
    draws = {}
    for name, path in PARAMETERS.items():
        low, high = surface[name].min(), surface[name].max()
        slices = (rng.permutation(count) + rng.random(count)) / count
        draws[path] = low + slices * (high - low)
    return [{path: round(float(values[k]), 4) for path, values in draws.items()}
            for k in range(count)]  # fmt: skip


def _prior_notes(fit: BehaviourFit) -> list[str]:
    """The calibration notes of a fit from the prior (a linear plan in force)."""
    surface = fit.surface
    share, curvature = surface["self_sourced_share"], surface["cost_curvature"]
    closing, sight = surface["closing_elasticity"], surface["pipeline_sight"]
    return [
        "behaviour: reps who plan ahead (optimising); effort 1 books each rep's history under "
        "the plan in force; no grid point simulated (a linear plan in force cannot tell them "
        "apart)",
        "behaviour NOT IDENTIFIED: the plan in force pays one marginal rate everywhere, so "
        "the history cannot show how effort responds to a plan's lines. The prior is used: "
        f"self-sourced share {share.min():g}..{share.max():g}, closing elasticity "
        f"{closing.min():g}..{closing.max():g} and cost curvature "
        f"{curvature.min():g}..{curvature.max():g} (effort elasticity to pay "
        f"{1 / (curvature.max() - 1):.2g}..{1 / (curvature.min() - 1):.2g}), pipeline "
        f"sight {sight.min():g}..{sight.max():g}, uniform; "
        f"{PRIOR_SOURCE}. Its {len(fit.draws)} draws are carried into every comparison's "
        "predictive interval: expect a wide interval on a plan's effect. A history under "
        "a plan with lines (a bonus, a gate, an accelerator) identifies them",
    ]


def _notes(fit: BehaviourFit, moments_used: int, replications: int) -> list[str]:
    """The calibration notes of a fit to the history's moments."""
    best = posterior_mean(fit.surface)
    nearest = float(fit.surface["distance"].min())
    notes = [
        "behaviour: reps who plan ahead (optimising); effort 1 books each rep's history under "
        f"the plan in force; simulated method of moments over {len(fit.grid)} grid points x "
        f"{replications} replications, {moments_used} moments against each rep's own target, "
        "smoothed by a quadratic response surface"
    ]
    fitted, weak = [], []
    for name in PARAMETERS:
        low, high = posterior_range(fit.surface, name)
        fitted.append(f"{name.replace('_', ' ')} {best[name]:.2f} (90 %: {low:.2f}..{high:.2f})")
        prior = fit.surface[name].max() - fit.surface[name].min()
        if prior > 0 and high - low >= WEAK * prior:
            weak.append(name.replace("_", " "))
    notes.append(
        f"behaviour fitted (posterior means): {', '.join(fitted)}; distance {nearest:.1f} over "
        f"{moments_used} moments"
    )
    if weak:
        notes.append(
            f"behaviour: the history hardly pins the {' and the '.join(weak)} (90 % range "
            f"{WEAK:.0%} or more of the prior's): a range, not a value; every comparison "
            "carries it through the draws"
        )
    if nearest > 3 * moments_used:
        notes.append(
            f"behaviour: poor fit (distance {nearest:.0f} for {moments_used} "
            "moments, about 1 each when the model reproduces the history): check the targets "
            "(--targets) and whether the baseline is stationary"
        )
    return notes


def behaviour_params(fit: BehaviourFit, columns) -> pd.DataFrame:
    """Rows for the calibration's parameter table: the fitted values with 95 % intervals
    from the draws (the prior's range when not identified)."""
    draws = pd.DataFrame(fit.draws)
    rows = []
    fitted = {**fit.production, **fit.behaviour}
    for name, path in PARAMETERS.items():
        low, high = np.percentile(draws[path], [2.5, 97.5]) if len(draws) else (np.nan, np.nan)
        kind = "share" if name in ("self_sourced_share", "pipeline_sight") else "exponent"
        rows.append((path, fitted[name], low, high, kind))
    return pd.DataFrame(rows, columns=columns)

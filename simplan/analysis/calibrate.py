"""Calibration: a CRM history in, a Scenario that behaves like the team did, with every
fitted number, its 95 % interval and the rule that produced it.

`Calibrator(periods=3).fit(history)` (the estimator pattern) sets `scenario_` (a validated
Scenario), `params_` (one row per fitted parameter: value, ci_low, ci_high) and `report_`
(tables of fitted against actual, the rules applied, the assumptions made).

What is fitted, on the baseline window (the last `periods` plan periods up to the history's
date, from the first close date on; playbooks take the last 3 cycles):
- leads per working day by tier, with weekday and sprint-phase multipliers (Poisson);
- per tier: the win probability of deals that close, the share of stale leads that never
  close, and won / lost cycle times, with open deals censored (`fit.fit_outcomes`);
- deal size per tier, lognormal or gamma by likelihood (an empirical distribution when
  neither fits the observed sizes within a KS distance of `ks_limit`);
- each rep's skill: the win rate shrunk toward the team (beta-binomial empirical Bayes)
  over the team's; each rep's share of the leads (gamma-Poisson) and deal-size multiplier
  (normal-normal on log amounts), both shrunk toward the team; leads routed by share.
With the plan in force (`fit(history, plan=...)`), behaviour under it (timing propensity and
reference rate) by simulated method of moments (`behaviour_fit`); without one, constant effort.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import special

from simplan.analysis import engine_fit
from simplan.analysis.behaviour_fit import (
    behaviour_params,
    fit_behaviour,
    with_phase_multipliers,
)
from simplan.analysis.calibrated_scenario import (
    calendar_periods,
    plain_data,
    reporting,
    scenario_data,
    with_parameter_draws,
)
from simplan.analysis.calibration_report import CalibrationReport, params_table
from simplan.analysis.fit import (
    CORRELATION_REPS,
    RateShrinkage,
    Shrinkage,
    SizeShrinkage,
    borrow_across_traits,
    closing_cdf,
    fit_arrivals,
    fit_size,
    period_effect_sd,
    shrink_counts,
    shrink_log_means,
    shrink_rates,
)
from simplan.analysis.fit_check import run_fit_check
from simplan.analysis.outcomes import FAMILIES, fit_outcomes
from simplan.errors import SimplanError
from simplan.history import AnomalyRule, History, TierRule, prepare
from simplan.history.readiness import departed_reps, findings, owners_only_on_won
from simplan.model.calendar import PERIOD_FREQ, CalendarParams, build_calendar
from simplan.model.periods import Periods, clock_periods, parse_periods
from simplan.model.plan import Plan
from simplan.model.team import NewHireParams
from simplan.scenario import Scenario, validate


class Calibrator:
    """Fits a scenario to a history: `Calibrator(periods=3).fit(history)`.

    periods: plan periods in the baseline window (>= 1). period: 'month' or 'quarter' (a
    plan's clock overrides it). start, days: the scenario's window (default: the period
    after the history). min_reps: fewer reps is an error (a rep column mapped wrongly?).
    capacity_headroom: capacity = headroom x the touches a rep's share of leads needs.
    ks_limit: above this distance a parametric fit gives way to the observed distribution.
    fit_behaviour, behaviour_replications, workers, behaviour_grid: with a plan, fit behaviour
    on a grid (`{"propensity": (...), "reference_rate": (...)}` overrides the default), each
    point simulated this many times on these worker processes. impute_amounts: won deals
    without an amount get one drawn from known amounts of the same tier and rep (else they
    are left out of the size fit). `findings_` lists what the history check names.
    fit_check_replications: replications of the fit check (`fit_check_`; 0 skips it).
    parameter_draws: draws of the fitted tier and rep numbers the scenario's `uncertainty`
    carries (joined with the behaviour fit's draws), so every prediction made with it is a
    predictive interval; 0 gives a plug-in scenario. calendar: the business's periods (4-4-5,
    13-week, a table): the baseline window is the last `periods` of them, sprint phases and the
    scenario's reporting periods follow them, and the default window is the one after.
    """

    def __init__(
        self,
        periods: int = 3,
        period: str = "quarter",
        anomalies: AnomalyRule | None = None,
        tiers: TierRule | None = None,
        start: str | pd.Timestamp | None = None,
        days: int | None = None,
        warmup_days: int | None = None,
        stale: bool = True,
        min_reps: int = 2,
        capacity_headroom: float = 3.0,
        ks_limit: float = 0.1,
        name: str | None = None,
        seed: int = 0,
        fit_behaviour: bool = True,
        behaviour_replications: int = 4,
        workers: int | None = None,
        behaviour_grid: dict | None = None,
        impute_amounts: bool = False,
        fit_check_replications: int = 5,
        parameter_draws: int = 20,
        calendar: Periods | None = None,
    ) -> None:
        self.periods = periods
        self.period = period
        self.anomalies = anomalies
        self.tiers = tiers
        self.start = start
        self.days = days
        self.warmup_days = warmup_days
        self.stale = stale
        self.min_reps = min_reps
        self.capacity_headroom = capacity_headroom
        self.ks_limit = ks_limit
        self.name = name
        self.seed = seed
        self.fit_behaviour = fit_behaviour
        self.behaviour_replications = behaviour_replications
        self.workers = workers
        self.behaviour_grid = behaviour_grid
        self.impute_amounts = impute_amounts
        self.fit_check_replications = fit_check_replications
        self.parameter_draws = parameter_draws
        self.calendar = calendar

    def _check(self, plan: Plan | None) -> str:
        """The plan clock (the plan's, else `period`): month, quarter, or `period` (the
        business's periods, which then must be given as `calendar`)."""
        if not (isinstance(self.periods, int) and self.periods >= 1):
            raise SimplanError(f"periods = {self.periods!r}: the baseline needs >= 1 period")
        clock = plan.clock if plan is not None else self.period
        if clock not in (*PERIOD_FREQ, "period"):
            raise SimplanError(
                f"period = {clock!r}: allowed are {', '.join(PERIOD_FREQ)} or period (the "
                "business's periods, --calendar)"
            )
        clock_periods(clock, self.calendar)  # a `period` clock without a calendar: the fix
        if self.capacity_headroom < 1 or not 0 < self.ks_limit <= 1:
            raise SimplanError(
                f"capacity_headroom = {self.capacity_headroom} (>= 1) or ks_limit = "
                f"{self.ks_limit} (0 < ks_limit <= 1) out of range"
            )
        return clock

    def fit(
        self,
        history: History,
        plan: Plan | None = None,
        roster: pd.DataFrame | None = None,
        progress: Callable[[str, int, int | None], None] | None = None,
    ) -> Calibrator:
        """Fit every parameter on the baseline window, build the scenario and check its fit
        to the history; returns self. `progress(step, done, total)` is told how each long step
        (the behaviour grid, the fit check) advances."""
        step = progress or (lambda _text, _done, _total: None)
        clock = self._check(plan)
        prepared = prepare(history, self.anomalies, self.tiers, self.impute_amounts, self.seed)
        deals = prepared.deals
        roster = roster if roster is not None else history.roster
        self.findings_ = findings(history, prepared, imputed=self.impute_amounts)
        notes = [*prepared.notes, *(f"{f.item}: {f.text}" for f in self.findings_)]
        gone = departed_reps(deals, history.as_of)  # named by the findings
        reps = sorted(set(deals["rep_id"].dropna().unique()) - set(gone))
        if len(reps) < self.min_reps:
            column = "rep_id"
            raise SimplanError(
                f"{history.source}: column {column!r} names {len(reps)} rep(s) "
                f"({', '.join(map(str, reps[:3]))}) on lines {deals.index[0]}..{deals.index[-1]}; "
                f"calibration needs at least {self.min_reps} to tell a rep's skill from the "
                "team's: check the rep column (--map rep_id=<owner column>)"
            )
        as_of = history.as_of
        if self.calendar is not None:
            first = pd.Timestamp(self.calendar.trailing(as_of.date(), self.periods)[0])
            unit = f"periods of {self.calendar.spec}"
        else:
            first = pd.Timestamp(parse_periods(clock).trailing(as_of.date(), self.periods)[0])
            unit = f"{clock}s"
        window_start = max(first, history.observed_from)
        window = pd.date_range(window_start, as_of, freq="D")
        if len(window) < 28:
            raise SimplanError(
                f"{history.source}: the baseline window {window_start:%Y-%m-%d}..{as_of:%Y-%m-%d}"
                f" is {len(window)} days; calibration needs at least 4 weeks of closes"
            )
        notes.append(
            f"baseline: the last {self.periods} {unit} up to {as_of:%Y-%m-%d}, from "
            f"{window_start:%Y-%m-%d} ({len(window)} days)"
        )
        in_window = deals["created_date"].between(window_start, as_of)
        fit_deals = deals[in_window].copy()
        fit_deals["cycle"] = (fit_deals["close_date"] - fit_deals["created_date"]).dt.days
        fit_deals["age"] = (as_of - fit_deals["created_date"]).dt.days

        spec, every = calendar_periods(self.calendar, clock)
        calendar = build_calendar(
            CalendarParams(start=window_start.date(), days=len(window), period=reporting(clock),
                           periods=spec, sprint={"every": every})
        )  # fmt: skip
        weekday = calendar.dates.day_of_week.to_numpy()
        per_weekday = np.bincount(
            fit_deals["created_date"].dt.day_of_week, minlength=7
        ) / np.maximum(np.bincount(weekday, minlength=7), 1)
        working_weekdays = [d for d in range(7) if per_weekday[d] >= 0.25 * per_weekday.max()]
        weights, settled = (
            self._truncation(fit_deals, notes) if history.closed_only else (None, fit_deals)
        )
        arrivals = fit_arrivals(
            fit_deals["created_date"],
            fit_deals["tier"],
            calendar.dates,
            weekday,
            calendar.phase,
            np.isin(weekday, working_weekdays),
            weights=weights,
        )
        tier_names = list(arrivals.rates["tier"])
        outcomes = self._outcomes(settled, tier_names, notes)
        shrinkage, lead_rates, size_shrinkage, borrowing = self._traits(
            fit_deals, deals, reps, (window_start, as_of), notes
        )
        skills = self._skills(shrinkage, fit_deals, reps, roster, as_of, notes)
        for table, column, key in (
            (lead_rates.table, "lead_share", "lead_share"),
            (size_shrinkage.table, "multiplier", "deal_size_multiplier"),
        ):
            for rep, value in zip(table["rep_id"], table[column], strict=True):
                skills[rep][key] = float(value)
        sizes = self._sizes(deals, window_start, as_of, skills, tier_names, notes)
        self._tier_mix(deals, (window_start, as_of), sizes, skills, size_shrinkage, notes)
        capacity = self._capacity(fit_deals, reps, arrivals.rates["working_days"].iloc[0], outcomes)
        overhead = engine_fit.engine_overhead_days(
            working_weekdays, 9.0, 8.0, float(np.median(list(capacity.values()))), seed=self.seed
        )
        data = scenario_data(
            self,
            history, clock, as_of, arrivals, outcomes, sizes, skills, capacity,
            working_weekdays, overhead, roster, plan,
        )  # fmt: skip
        data = plain_data(data)
        validate(Scenario, data, "calibrated scenario")
        behaviour = None
        if plan is not None and self.fit_behaviour:
            text = "behaviour: grid points of effort responses"
            step(text, 0, None)
            data, behaviour = self._behaviour(
                data, history, deals, (window_start, as_of), plan, notes,
                lambda done, total: step(text, done, total),
            )  # fmt: skip
        self.params_ = params_table(
            arrivals, outcomes, sizes, shrinkage, skills, lead_rates, size_shrinkage
        )
        names, r = borrowing.names, borrowing.correlation
        together = pd.DataFrame(
            [(f"team.correlation.{names[j]}.{names[k]}", r[j, k], np.nan, np.nan, "between reps")
             for j in range(len(names)) for k in range(j + 1, len(names))],
            columns=self.params_.columns,
        )  # fmt: skip
        self.params_ = pd.concat([self.params_, together], ignore_index=True)
        if behaviour is not None:
            self.params_ = pd.concat(
                [self.params_, behaviour_params(behaviour, self.params_.columns)],
                ignore_index=True,
            )
        # a closed-only export's recent months lack the deals still open: not a period effect
        complete_until = settled["created_date"].max() if history.closed_only else as_of
        self.params_ = pd.concat(
            [
                self.params_,
                self._period_effects(fit_deals, (window_start, complete_until), data, notes),
            ],
            ignore_index=True,
        )
        checked = data  # the fit check holds the fit to its own history: no forecast draws
        data = with_parameter_draws(data, self.params_, self.parameter_draws, self.seed)
        self.scenario_ = validate(Scenario, data, "calibrated scenario")
        self.scenario_data_ = data
        self.outcomes_ = outcomes
        self.deals_ = deals
        self.window_ = (window_start, as_of)
        self.report_ = CalibrationReport.build(
            history=history,
            prepared=prepared,
            window=(window_start, as_of),
            arrivals=arrivals,
            outcomes=outcomes,
            sizes=sizes,
            shrinkage=shrinkage,
            skills=skills,
            lead_rates=lead_rates,
            size_shrinkage=size_shrinkage,
            capacity=capacity,
            overhead=overhead,
            fit_deals=fit_deals,
            notes=notes,
            params=self.params_,
        )
        self.behaviour_ = behaviour  # the behaviour fit (None without a plan): moments, grid
        if behaviour is not None:
            self.report_.tables["behaviour"] = behaviour.grid
        self.fit_check_ = None
        if self.fit_check_replications:
            text = "fit check: replications over the baseline window"
            step(text, 0, self.fit_check_replications)
            self.fit_check_ = run_fit_check(
                checked, deals, (window_start, as_of), bool(history.closed_only),
                {tier: fit.stale_share for tier, fit in outcomes.items()},
                replications=self.fit_check_replications, seed=self.seed, workers=self.workers,
                progress=lambda done, total: step(text, done, total),
            )  # fmt: skip
            self.report_.tables["fit_check"] = self.fit_check_.table
            warning = self.fit_check_.warning()
            self.report_.notes.append(warning or "fit check: every history value is inside the "
                                      "simulated 90 % interval")  # fmt: skip
        return self

    def _behaviour(
        self, data: dict, history: History, deals: pd.DataFrame, window, plan, notes, progress
    ):
        """Fit how effort responds to the plan (see `behaviour_fit`); None when it cannot."""
        try:
            fit = fit_behaviour(
                data, deals, history.targets, window, plan,
                replications=self.behaviour_replications, seed=self.seed, workers=self.workers,
                progress=progress, closed_only=bool(history.closed_only),
                **(self.behaviour_grid or {}),
            )  # fmt: skip
        except ValueError as err:
            notes.append(f"behaviour not fitted: {err}")
            return data, None
        notes.extend(fit.notes)
        description = data["description"].replace(
            "constant effort, behaviour not fitted.",
            "reps who plan ahead, fitted to the plan in force."
            if fit.identified
            else "reps who plan ahead; effort response from the prior (the plan in force is linear).",
        )
        production = {**data.get("production", {}), **fit.production}
        source = (
            "the effort response fitted to the history under the plan in force"
            if fit.identified
            else "the effort response from the prior: the plan in force is linear"
        )
        calendar = with_phase_multipliers(data["calendar"], fit.phases)
        fitted = {**data, "behaviour": fit.behaviour, "production": production,
                  "calendar": calendar, "description": description,
                  "uncertainty": {"source": source, "draws": fit.draws}}  # fmt: skip
        return fitted, fit

    # -- pieces ---------------------------------------------------------------------------

    def _truncation(self, fit_deals: pd.DataFrame, notes) -> tuple[np.ndarray, pd.DataFrame]:
        """For an export of closed deals only: per lead, 1 / the chance that a deal opened
        that long before the export had closed by then (Lynden-Bell, floored at 0.05), and
        the deals old enough (that chance >= 0.95) to fit outcomes without the bias toward
        quick closes."""
        cycle = fit_deals["cycle"].clip(lower=0).to_numpy(float)
        age = fit_deals["age"].clip(lower=0).to_numpy(float)
        grid, cdf = closing_cdf(cycle, age)
        seen = cdf[np.minimum(age.astype(int), grid[-1])]
        weights = 1.0 / np.maximum(seen, 0.05)
        settled_after = int(grid[np.searchsorted(cdf, 0.95)]) if (cdf >= 0.95).any() else 0
        settled = fit_deals[fit_deals["age"] >= settled_after]
        if len(settled) < 30:
            settled = fit_deals
        notes.append(
            f"closed-only correction: {len(fit_deals):,} deals in the window count as "
            f"{weights.sum():,.0f} opportunities (+{weights.sum() / len(fit_deals) - 1:.1%}): a "
            "deal opened t days before the export is in it only if it closed within t days "
            f"(Lynden-Bell estimate; 95 % close within {settled_after} days); win "
            f"probability and cycles fitted on the {len(settled):,} deals opened at least "
            f"{settled_after} days before the export"
        )
        return weights, settled

    def _outcomes(self, fit_deals: pd.DataFrame, tiers: list[str], notes):
        """Per tier: the competing-risks fit (parametric, or nonparametric with the observed
        won-cycle distribution when no family fits)."""

        def data(frame: pd.DataFrame):
            won = frame.loc[frame["outcome"] == "won", "cycle"].to_numpy(float)
            lost = frame.loc[frame["outcome"] == "lost", "cycle"].to_numpy(float)
            ages = frame.loc[frame["outcome"] == "open", "age"].to_numpy(float)
            return won, lost, ages

        options = {"stale": self.stale, "ks_limit": self.ks_limit, "seed": self.seed}
        pooled = None
        outcomes = {}
        for tier in tiers:
            won, lost, ages = data(fit_deals[fit_deals["tier"] == tier])
            if len(won) + len(lost) >= 30 and len(won) >= 10:
                fit = fit_outcomes(won, lost, ages, **options)
            else:
                pooled = pooled or fit_outcomes(*data(fit_deals), **options)
                fit = pooled
                notes.append(f"tier {tier}: {len(won) + len(lost)} closed deals; pooled fit used")
            outcomes[tier] = fit
            if fit.family == "empirical":
                notes.append(
                    f"tier {tier}: won cycles fit neither {' nor '.join(FAMILIES)} (KS "
                    f"{fit.ks:.2f} > {self.ks_limit}): win probability, stale share and the "
                    "won-cycle distribution are the nonparametric (Aalen-Johansen) estimates"
                )
        return outcomes

    def _traits(self, fit_deals, deals, reps, window, notes):
        """Each rep's win rate, leads per day and deal size, each shrunk toward the team by its
        own empirical Bayes fit, then moved by what the other two say about it
        (`borrow_across_traits`: shrunk apart, the covariance of the traits is lost and the
        team's bookings come out low)."""
        fits = {
            "win_rate": self._win_rates(fit_deals, reps),
            "leads_per_day": self._lead_rates(fit_deals, reps, window),
            "deal_size": self._size_multipliers(deals, reps, window),
        }
        views = [fit.normal_view() for fit in fits.values()]
        borrowing = borrow_across_traits(
            tuple(fits), np.column_stack([v[0] for v in views]),
            np.column_stack([v[1] for v in views]), np.array([v[2] for v in views]),
            np.array([v[3] for v in views]),
        )  # fmt: skip
        moved = [fit.shifted(borrowing.shift[:, j]) for j, fit in enumerate(fits.values())]
        r = borrowing.correlation
        if np.any(borrowing.shift):
            notes.append(
                "per-rep traits shrunk together, not one at a time: between-rep correlation of "
                f"win rate and deal size {r[0, 2]:+.2f}, win rate and leads per day {r[0, 1]:+.2f}"
                f", leads per day and deal size {r[1, 2]:+.2f} (log scales; each rep's estimate "
                "moved by what its other traits say: at most "
                f"x{np.exp(np.abs(borrowing.shift)).max():.2f})"
            )
        else:
            notes.append(
                "per-rep traits each shrunk on their own: no between-rep correlation of win "
                f"rate, leads per day and deal size beyond chance (or under {CORRELATION_REPS} "
                "reps with all three measured)"
            )
        return (*moved, borrowing)

    @staticmethod
    def _closed(fit_deals) -> pd.DataFrame:
        """The closed deals whose owners' win rates are measurable."""
        closed = fit_deals[fit_deals["outcome"].isin(["won", "lost"])]
        if owners_only_on_won(fit_deals):  # every owned deal is a win: rates not measurable
            closed = closed.iloc[:0]
        return closed

    def _win_rates(self, fit_deals, reps) -> Shrinkage:
        """Each rep's win rate on closed deals, shrunk toward the team (beta-binomial)."""
        closed = self._closed(fit_deals)
        n = closed.groupby("rep_id").size().reindex(reps, fill_value=0)
        k = (closed["outcome"] == "won").groupby(closed["rep_id"]).sum().reindex(reps, fill_value=0)
        return shrink_rates(np.array(reps), n.to_numpy(), k.to_numpy())

    def _skills(self, shrinkage, fit_deals, reps, roster, as_of, notes):
        """Each rep's multiplier on win probability: shrunk win rate over the team's,
        averaging 1 over closed deals, divided by the ramp share the engine will apply."""
        closed = self._closed(fit_deals)
        table = shrinkage.table.set_index("rep_id")
        skill = table["shrunk_rate"] / shrinkage.prior_mean
        weight = table["closed"].clip(lower=1)
        skill = skill / np.average(skill, weights=weight)
        tenure = self._tenure(fit_deals, reps, roster, as_of, notes)
        ramp = NewHireParams()
        slope = (ramp.target_share - ramp.initial_share) / ramp.ramp_days
        rows = {}
        for rep in reps:
            days = tenure[rep]
            # The engine ramps new hires' win rates; the rep's observed rate already has it.
            seen = closed.loc[closed["rep_id"] == rep, "created_date"]
            age = days - (as_of - seen).dt.days.to_numpy() if len(seen) else np.array([days])
            share = np.minimum(1.0, ramp.initial_share + slope * np.maximum(age, 0)).mean()
            rows[rep] = {
                "skill": float(skill[rep] / share),
                "shrunk_skill": float(skill[rep]),
                "ramp_share": float(share),
                "tenure_days": int(days),
            }
        return rows

    def _lead_rates(self, fit_deals, reps, window) -> RateShrinkage:
        """Each rep's opportunities per day in the window, shrunk toward the team
        (gamma-Poisson); a rep first seen more than 30 days in is exposed from then."""
        start, end = window
        counts = fit_deals.groupby("rep_id").size().reindex(reps, fill_value=0)
        first = fit_deals.groupby("rep_id")["created_date"].min().reindex(reps)
        late = (first - start).dt.days > 30
        since = first.where(late, start).fillna(start)
        exposure = ((end - since).dt.days + 1).clip(lower=1)
        return shrink_counts(np.array(reps), counts.to_numpy(), exposure.to_numpy())

    def _size_multipliers(self, deals, reps, window) -> SizeShrinkage:
        """Each rep's deal size over their tier's (log scale), shrunk toward the team, on won
        deals closed in the window."""
        won = deals[(deals["outcome"] == "won") & deals["close_date"].between(*window)]
        won = won[won["amount"] > 0]
        logs = np.log(won["amount"].astype(float))
        residual = logs - logs.groupby(won["tier"]).transform("mean")
        return shrink_log_means(won["rep_id"].to_numpy(), residual.to_numpy(), reps)

    def _period_effects(self, fit_deals, window, data, notes) -> pd.DataFrame:
        """Rows for the parameter table: how much the team's lead rate (log scale) and win
        share (logit scale) move between months beyond count noise, as the sd of their
        average over the scenario's months (`period_effect_sd`); the draws carry them. Only
        the full months of `window` count (for a closed-only export it ends where the deals
        opened are all settled: later months miss the deals still open)."""
        start, end = window
        months = pd.period_range(start, end, freq="M")
        full = months[(months.start_time >= start) & (months.end_time.normalize() <= end)]
        created = fit_deals["created_date"].dt.to_period("M").value_counts()
        counts = created.reindex(full, fill_value=0).to_numpy(float)
        days = np.array([m.days_in_month for m in full], float)
        closed = fit_deals[fit_deals["outcome"].isin(["won", "lost"])]
        by_month = closed.groupby(closed["close_date"].dt.to_period("M"))["outcome"]
        n = by_month.size().reindex(full, fill_value=0).to_numpy(float)
        k = by_month.apply(lambda o: (o == "won").sum()).reindex(full, fill_value=0).to_numpy(float)
        ahead = max(1, round(data["calendar"]["days"] / 30.4))
        use = counts > 0
        arrivals = period_effect_sd(np.log(counts[use] / days[use]), 1 / counts[use], ahead)
        share = (k + 0.5) / (n + 1)
        use = n > 0
        wins = period_effect_sd(
            special.logit(share[use]), 1 / (n[use] * share[use] * (1 - share[use])), ahead
        )
        notes.append(
            f"period effects over {len(full)} full months: the lead rate moves by a log sd of "
            f"{arrivals:.3f} and the win share by a logit sd of {wins:.3f} over {ahead} "
            "month(s) beyond count noise; the parameter draws carry them"
        )
        nan = float("nan")
        return pd.DataFrame(
            [("team.arrivals_period_sd", arrivals, nan, nan, "log sd"),
             ("team.win_probability_period_sd", wins, nan, nan, "logit sd")],
            columns=self.params_.columns,
        )  # fmt: skip

    def _tier_mix(self, deals, window, sizes, skills, size_shrinkage, notes) -> None:
        """Fold each rep's tier mix into their deal-size multiplier: their won deals' share per
        tier (shrunk toward the team's by 10 pseudo-deals) priced at the tiers' mean sizes,
        over the team's. Share routing hands every rep the team's tier mix, so a rep who
        sells mostly the cheap tier would otherwise book like one who sells the dear one."""
        won = deals[(deals["outcome"] == "won") & deals["close_date"].between(*window)]
        counts = pd.crosstab(won["rep_id"], won["tier"]).reindex(columns=list(sizes), fill_value=0)
        team = counts.sum() / max(counts.to_numpy().sum(), 1)
        price = pd.Series({tier: float(np.mean(size["amounts"])) for tier, size in sizes.items()})
        mix = (counts + 10 * team).div(counts.sum(axis=1) + 10, axis=0)
        factor = (mix @ price) / float(team @ price)
        table = size_shrinkage.table
        table["tier_mix"] = table["rep_id"].map(factor).fillna(1.0)
        for column in ("multiplier", "ci_low", "ci_high"):
            table[column] = table[column] * table["tier_mix"]
        for rep, value in zip(table["rep_id"], table["multiplier"], strict=True):
            skills[rep]["deal_size_multiplier"] = float(value)
        low, high = table["tier_mix"].min(), table["tier_mix"].max()
        notes.append(
            f"deal-size multipliers include each rep's tier mix ({low:.2f} .. {high:.2f} of the "
            "team's value per win): leads are routed without regard to tier"
        )

    def _tenure(self, fit_deals, reps, roster, as_of, notes) -> dict[str, int]:
        """Tenure at the history's date: from the roster's hire date, else veteran (10 years)
        for reps present from the window's start, else days since their first deal."""
        hired = {}
        if roster is not None and roster["hire_date"].notna().any():
            hired = roster.dropna(subset=["hire_date"]).set_index("rep_id")["hire_date"].to_dict()
        first = fit_deals.groupby("rep_id")["created_date"].min()
        start = fit_deals["created_date"].min()
        tenure, late = {}, []
        for rep in reps:
            if rep in hired:
                tenure[rep] = max(int((as_of - hired[rep]).days), 0)
            elif rep in first and (first[rep] - start).days > 30:
                tenure[rep] = int((as_of - first[rep]).days)
                late.append(rep)
            else:
                tenure[rep] = 3650
        if late:
            notes.append(
                f"{len(late)} rep(s) first appear after the window opens ({', '.join(late[:5])}): "
                "tenure counted from their first deal (a lower bound)"
            )
        return tenure

    def _sizes(self, deals, window_start, as_of, skills, tiers, notes):
        """Deal size per tier on won deals closed in the window, divided by the owner's deal
        size multiplier (the engine multiplies a lead's size by its owner's)."""
        won = deals[(deals["outcome"] == "won") & deals["close_date"].between(window_start, as_of)]
        won = won[won["amount"].notna()]
        multiplier = {r: v["deal_size_multiplier"] for r, v in skills.items()}
        base = won["amount"] / won["rep_id"].map(multiplier).fillna(1.0)
        sizes = {}
        for tier in tiers:
            amounts = base[won["tier"] == tier].to_numpy(float)
            if len(amounts) < 10:
                notes.append(f"tier {tier}: {len(amounts)} won deals; deal size pooled over tiers")
                amounts = base.to_numpy(float)
            fit = fit_size(amounts)
            # Many deals tell a family's misfit apart from noise: the KS test's 1 % critical
            # value 1.63 / sqrt(n) then decides (the tails gates and accelerators act on).
            limit = (
                min(self.ks_limit, 1.63 / np.sqrt(len(amounts)))
                if len(amounts) >= 200
                else (self.ks_limit)
            )
            empirical = fit.ks > limit
            if empirical:
                notes.append(
                    f"tier {tier}: deal sizes fit neither lognormal nor gamma (KS {fit.ks:.2f} > "
                    f"{limit:.2f}): the observed sizes are used"
                )
            sizes[tier] = {"fit": fit, "amounts": amounts, "empirical": empirical}
        return sizes

    def _capacity(self, fit_deals, reps, working_days: int, outcomes) -> dict[str, float]:
        """Touches per day: headroom x the touches the rep's leads need (at least 4), scaled
        by how long the rep's leads stay open, so least-loaded routing (which fills the rep
        with the fewest open leads per touch of capacity) gives each rep their share."""
        leads = fit_deals.groupby("rep_id").size().reindex(reps, fill_value=0)
        closed = fit_deals[fit_deals["outcome"].isin(["won", "lost"])]
        rate = (closed["outcome"] == "won").groupby(closed["rep_id"]).mean().reindex(reps)
        won_days = float(np.mean([o.won_mean for o in outcomes.values()]))
        lost = [o.lost_mean for o in outcomes.values() if np.isfinite(o.lost_mean)]
        lost_days = float(np.mean(lost)) if lost else won_days  # an all-won history
        rate = rate.fillna(rate.mean())
        open_days = rate * won_days + (1 - rate) * lost_days
        need = leads / max(working_days, 1) * engine_fit.TOUCHES_PER_WON_DEAL
        scaled = need * open_days / open_days.mean()
        return {rep: round(max(4.0, self.capacity_headroom * scaled[rep]), 2) for rep in reps}

"""Design a plan: search plan settings (rates, lines, caps, bonus amounts) for an objective
under constraints held at a confidence, then re-check the best few on fresh seeds.

Every candidate runs on the same seed (common random numbers), so candidates differ by their
settings, not by which customers happened to arrive. Searching many candidates on one seed
rewards plans that are lucky on that seed (the winner's curse), so the best few are run again
on a seed none of them was chosen on and compared, paired, with the starting plan: the winner
is the best there, and its interval against the starting plan says whether it really is better.

The search is optuna's TPE sampler (seeded). A candidate's objective is a simulation: it is
noisy, flat in places and jumps where a gate or a bonus line moves past reps' attainment, and
its derivatives are unknown, so gradient and simplex methods (scipy's) stall or chase noise.
TPE needs only the values, spends a budget of a few hundred evaluations well in a handful of
dimensions, handles constraints (a candidate that breaks one is not imitated) and, seeded,
proposes the same candidates every time.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from simplan.analysis.compare import Comparison, compare, mean_interval, predictive_interval
from simplan.analysis.design_plots import pareto_figure, save_figure
from simplan.analysis.kpis import replication_kpis
from simplan.analysis.plan_review import with_plan
from simplan.analysis.sweep import plan_override
from simplan.errors import SimplanError
from simplan.model.plan import Plan
from simplan.results import save_atomically
from simplan.runner import simulate
from simplan.scenario import Scenario, deep_merge

Objective = Literal["bookings", "profit", "cost_at_target"]
OBJECTIVES: tuple[str, ...] = ("bookings", "profit", "cost_at_target")
Evaluate = Callable[[dict[str, float]], pd.DataFrame]
"""Plan settings in, one row per replication out (columns bookings, payout, share_at_target)."""

_LEVER = re.compile(r"^\s*([A-Za-z_]\w*)\.(.+?)\s*=\s*([^:]+):([^:]+)$")


@dataclass(frozen=True)
class Lever:
    """A plan setting the optimiser may move: `field` (a key path) of the plan component
    called `component` (its name, or its type when the plan has one of that type)."""

    component: str
    field: str
    low: float
    high: float

    @property
    def name(self) -> str:
        return f"{self.component}.{self.field}"


def parse_lever(text: str) -> Lever:
    """`tiered_commission.tiers[1].rate=0.08:0.25` -> Lever; a clear error otherwise."""
    match = _LEVER.match(text)
    example = "e.g. --vary tiered_commission.tiers[1].rate=0.08:0.25"
    if match is None:
        raise SimplanError(f"--vary {text!r}: write component.field=LOW:HIGH, {example}")
    component, path, low, high = match.groups()
    bounds = parse_range(f"{low}:{high}", f"--vary {component}.{path}")
    return Lever(component, path, *bounds)


def parse_range(text: str, option: str) -> tuple[float, float]:
    """`0.05:0.2` -> (0.05, 0.2), with LOW < HIGH; a clear error naming `option` otherwise."""
    low, sep, high = text.partition(":")
    try:
        bounds = float(low), float(high)
    except ValueError:
        bounds = None
    if not sep or bounds is None or not np.all(np.isfinite(bounds)):
        raise SimplanError(f"{option} {text!r}: give the range as LOW:HIGH, e.g. 0.05:0.2")
    if not bounds[0] < bounds[1]:
        raise SimplanError(f"{option} {text!r}: LOW must be below HIGH, e.g. 0.05:0.2")
    return bounds


@dataclass(frozen=True)
class Goal:
    """What a candidate is judged by: the objective and the constraints it must meet.

    `profit` is bookings x `margin` - payout (means over replications); `cost_at_target` is
    the mean payout, to be minimised, with mean bookings at least `target_bookings`. The budget
    holds at `confidence` when that quantile of payout is within it; the cost of sales (payout
    over bookings) must lie in `cost_of_sales`; the mean share of reps at target must be at
    least `min_share_at_target`.
    """

    objective: Objective = "profit"
    margin: float = 1.0
    target_bookings: float | None = None
    budget: float | None = None
    confidence: float = 0.9
    cost_of_sales: tuple[float, float] | None = None
    min_share_at_target: float | None = None

    def __post_init__(self) -> None:
        if self.objective not in OBJECTIVES:
            raise SimplanError(f"--objective {self.objective!r}: choose {', '.join(OBJECTIVES)}")
        if self.objective == "cost_at_target" and self.target_bookings is None:
            raise SimplanError(
                "--objective cost_at_target needs --target-bookings, the bookings to reach, "
                "e.g. --target-bookings 15000000"
            )
        if not 0 < self.margin <= 1:
            raise SimplanError(f"--margin {self.margin}: a share of bookings, 0 < M <= 1, e.g. 0.3")
        if not 0 < self.confidence < 1:
            raise SimplanError(
                f"--confidence {self.confidence}: strictly between 0 and 1, e.g. 0.9"
            )
        if self.budget is not None and self.budget <= 0:
            raise SimplanError(f"--budget {self.budget}: give a positive amount")
        if self.min_share_at_target is not None and not 0 <= self.min_share_at_target <= 1:
            raise SimplanError(
                f"--min-share-at-target {self.min_share_at_target}: a share 0..1, e.g. 0.6"
            )

    @property
    def maximise(self) -> bool:
        return self.objective != "cost_at_target"

    def per_replication(self, kpis: pd.DataFrame) -> np.ndarray:
        """The objective in each replication (its mean is the candidate's objective)."""
        bookings = kpis["bookings"].to_numpy(dtype=float)
        payout = kpis["payout"].to_numpy(dtype=float)
        if self.objective == "bookings":
            return bookings
        if self.objective == "profit":
            return bookings * self.margin - payout
        return payout

    def measure(self, kpis: pd.DataFrame) -> dict[str, float]:
        """The objective, the numbers the constraints read and each constraint's violation
        (`violates_*`: <= 0 when met, as a share of its limit)."""
        bookings = float(kpis["bookings"].mean())
        payout = kpis["payout"].to_numpy(dtype=float)
        measured = {
            "objective": float(self.per_replication(kpis).mean()),
            "bookings": bookings,
            "payout": float(payout.mean()),
            "payout_at_confidence": float(np.quantile(payout, self.confidence)),
            "cost_of_sales": float(payout.sum() / kpis["bookings"].sum()),
            "share_at_target": float(kpis["share_at_target"].mean()),
        }
        limits = {}
        if self.budget is not None:
            limits["budget"] = (measured["payout_at_confidence"] - self.budget) / self.budget
        if self.cost_of_sales is not None:
            low, high = self.cost_of_sales
            cos = measured["cost_of_sales"]
            limits["cost_of_sales"] = max(low - cos, cos - high) / high
        if self.min_share_at_target is not None:
            limits["share_at_target"] = self.min_share_at_target - measured["share_at_target"]
        if self.target_bookings is not None:
            limits["target_bookings"] = (self.target_bookings - bookings) / self.target_bookings
        measured |= {f"violates_{k}": v for k, v in limits.items()}
        measured["feasible"] = float(all(v <= 0 for v in limits.values()))
        return measured


def search(
    evaluate: Evaluate,
    levers: Sequence[Lever],
    goal: Goal,
    candidates: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Try `candidates` settings of the levers proposed by seeded TPE; one row per candidate:
    its settings, objective, constraint numbers and whether it meets them."""
    with warnings.catch_warnings():  # optuna's progress helper asks notebooks for ipywidgets
        warnings.filterwarnings("ignore", message="IProgress not found")
        import optuna  # loads in about a second: only when a plan is designed

    if candidates < 1:
        raise SimplanError(f"--candidates {candidates}: give at least 1, e.g. 200")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # multivariate TPE is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed, n_startup_trials=min(candidates, max(5, candidates // 10)), multivariate=True
        )
    study = optuna.create_study(
        direction="maximize" if goal.maximise else "minimize", sampler=sampler
    )
    space = {
        lever.name: optuna.distributions.FloatDistribution(lever.low, lever.high)
        for lever in levers
    }
    rows = []
    for number in range(candidates):
        trial = study.ask(space)
        settings = {lever.name: trial.params[lever.name] for lever in levers}
        measured = goal.measure(evaluate(settings))
        for key, value in measured.items():
            if key.startswith("violates_"):
                trial.set_constraint(key, value)
        study.tell(trial, measured["objective"])
        rows.append({"candidate": number, **settings, **measured})
        if progress is not None:
            progress(number + 1, candidates)
    table = pd.DataFrame(rows)
    table["feasible"] = table["feasible"].astype(bool)
    return table


def candidate_scenario(
    scenario: Scenario, levers: Sequence[Lever], settings: dict[str, float], name: str
) -> Scenario:
    """`scenario` with its plan's levers set to `settings`, named `name`; errors name the lever."""
    values = {(lever.component, lever.field): settings[lever.name] for lever in levers}
    override = plan_override(scenario, values)
    override["name"] = name
    base = scenario.model_dump(by_alias=True, exclude_none=True)
    try:
        return Scenario.model_validate(deep_merge(base, override))
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        shown = ", ".join(f"{k}={v:g}" for k, v in settings.items())
        raise SimplanError(
            f"the plan with {shown} does not validate: {first['msg']} (at {first['loc']}); "
            "narrow the --vary ranges"
        ) from None


def plan_evaluator(
    scenario: Scenario,
    levers: Sequence[Lever],
    replications: int,
    seed: int,
    workers: int | None = None,
) -> Evaluate:
    """Each candidate simulated on `seed` (the same customers for all) with the fast engine."""
    budget = scenario.plan.budget.total if scenario.plan and scenario.plan.budget else None

    def evaluate(settings: dict[str, float]) -> pd.DataFrame:
        variant = candidate_scenario(scenario, levers, settings, scenario.name)
        results = simulate(
            variant, replications=replications, seed=seed, workers=workers, engine="fast", keep=()
        )
        return replication_kpis(results, budget)

    return evaluate


@dataclass
class Design:
    """The search and the re-check: every candidate, the finalists on fresh seeds against the
    starting plan, and the plan chosen."""

    goal: Goal
    levers: list[Lever]
    candidates: pd.DataFrame  # one row per candidate (see `search`)
    finalists: pd.DataFrame  # one row per finalist, measured on fresh seeds, with paired intervals
    comparison: Comparison  # the starting plan and the finalists on fresh seeds
    best_plan: Plan
    best_name: str
    seed: int
    fresh_seed: int
    notes: list[str] = field(default_factory=list)

    def save(self, directory: str | Path, force: bool = False) -> Path:
        """best_plan.yaml, candidates.csv, finalists.csv, pareto.png and the final comparison
        in `simplan compare --out`'s layout (so `simplan report DIR` reads it), atomically."""

        def write(tmp: Path) -> None:
            self.comparison.save(tmp, force=True)
            plan = self.best_plan.model_dump(mode="json", by_alias=True, exclude_none=True)
            (tmp / "best_plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
            self.candidates.to_csv(tmp / "candidates.csv", index=False)
            self.finalists.to_csv(tmp / "finalists.csv", index=False)
            save_figure(pareto_figure(self.candidates, self.goal.budget), tmp / "pareto.png")

        return save_atomically(directory, force, write)


def fresh_seed_for(seed: int) -> int:
    """A seed for the re-check that no candidate was chosen on, fixed by `seed`."""
    return int(np.random.SeedSequence([seed, 1]).generate_state(1)[0])


def optimise(
    scenario: Scenario,
    levers: Sequence[Lever],
    goal: Goal,
    *,
    plan: str | Path | None = None,
    candidates: int = 200,
    replications: int = 200,
    finalists: int = 3,
    check_replications: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Design:
    """Search the levers of the scenario's plan (or of `plan`, a plan file) for `goal`.

    Candidates run on one seed (common random numbers); the best `finalists` (those meeting
    the constraints first) run again on a fresh seed with `check_replications` (default
    `replications`) against the starting plan, and the best of them there is chosen.
    """
    start = with_plan(scenario, plan) if plan is not None else scenario
    _check_designable(start, levers)
    seed = start.simulation.seed if seed is None else seed
    evaluate = plan_evaluator(start, levers, replications, seed, workers)
    table = search(evaluate, levers, goal, candidates, seed, progress)
    ranked = table.sort_values(["feasible", "objective"], ascending=[False, not goal.maximise])
    chosen = ranked.head(finalists)
    scenarios = [
        candidate_scenario(start, levers, row, f"candidate_{int(row['candidate'])}")
        for row in chosen.to_dict("records")
    ]
    fresh = fresh_seed_for(seed)
    comparison = compare(
        start.with_simulation(engine="fast"),
        *[s.with_simulation(engine="fast") for s in scenarios],
        replications=check_replications or replications,
        seed=fresh,
        workers=workers,
        predictive=goal.confidence,
    )
    checked = recheck_table(comparison, goal, chosen, levers)
    best = checked.iloc[0]
    notes = []
    if not table["feasible"].any():
        notes.append(
            "no candidate met the constraints on the search seed: loosen them or widen --vary"
        )
    if not best["feasible"]:
        notes.append(f"{best['scenario']} does not meet the constraints on fresh seeds")
    beats_start = best["diff_ci_low"] > 0 if goal.maximise else best["diff_ci_high"] < 0
    if not beats_start:
        notes.append(
            f"{best['scenario']} is not better than the starting plan beyond doubt on fresh seeds "
            "(the interval of the mean difference includes zero)"
        )
    winner = scenarios[[s.name for s in scenarios].index(best["scenario"])]
    return Design(
        goal=goal,
        levers=list(levers),
        candidates=table,
        finalists=checked,
        comparison=comparison,
        best_plan=winner.plan,
        best_name=best["scenario"],
        seed=seed,
        fresh_seed=fresh,
        notes=notes,
    )


def recheck_table(
    comparison: Comparison, goal: Goal, chosen: pd.DataFrame, levers: Sequence[Lever]
) -> pd.DataFrame:
    """Each finalist on the fresh seeds: its settings, objective and constraints, and the
    objective's paired difference to the starting plan (mean, CI of the mean, predictive
    interval); best first, finalists meeting the constraints before the others."""
    kpis = comparison.kpis
    start = kpis[kpis["scenario"] == comparison.scenarios[0]].set_index("replication")
    base = goal.per_replication(start)
    rows = []
    for name, settings in zip(comparison.scenarios[1:], chosen.to_dict("records"), strict=True):
        own = kpis[kpis["scenario"] == name].set_index("replication").loc[start.index]
        diff = goal.per_replication(own) - base
        mean, half = mean_interval(diff, comparison.confidence)
        low, high = predictive_interval(diff, comparison.predictive)
        rows.append(
            {
                "scenario": name,
                **{lever.name: settings[lever.name] for lever in levers},
                "search_objective": settings["objective"],
                **goal.measure(own),
                "difference": mean,
                "diff_ci_low": mean - half,
                "diff_ci_high": mean + half,
                "diff_pi_low": low,
                "diff_pi_high": high,
            }
        )
    table = pd.DataFrame(rows)
    table["feasible"] = table["feasible"].astype(bool)
    return table.sort_values(
        ["feasible", "objective"], ascending=[False, not goal.maximise]
    ).reset_index(drop=True)


def _check_designable(scenario: Scenario, levers: Sequence[Lever]) -> None:
    """Before any simulation: reps respond to the plan, it has the levers, each range validates."""
    if scenario.plan is None:
        raise SimplanError(
            f"'{scenario.name}' has no plan to design; give --plan FILE (a plan to start from)"
        )
    if scenario.behaviour.model == "constant":
        raise SimplanError(
            f"'{scenario.name}': behaviour.model is constant, so reps work the same under any "
            "plan and the optimiser would only learn to pay less; set behaviour.model: "
            "optimising (reps who plan ahead against the plan), as `simplan calibrate` writes"
        )
    if not levers:
        raise SimplanError("nothing to vary: give --vary component.field=LOW:HIGH at least once")
    names = [lever.name for lever in levers]
    if len(set(names)) != len(names):
        raise SimplanError(f"--vary names a setting twice: {', '.join(names)}")
    for corner in ("low", "high"):
        settings = {lever.name: getattr(lever, corner) for lever in levers}
        candidate_scenario(scenario, levers, settings, scenario.name)

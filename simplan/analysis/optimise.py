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

import functools
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from pydantic import ValidationError

from simplan.analysis.compare import Comparison, compare, mean_interval, predictive_interval
from simplan.analysis.design_goal import Goal, Lever
from simplan.analysis.design_plots import pareto_figure, save_figure
from simplan.analysis.design_pool import CandidatePool, candidate_pool
from simplan.analysis.plan_review import with_plan
from simplan.analysis.sweep import plan_override
from simplan.errors import SimplanError
from simplan.model.plan import Plan
from simplan.results import save_atomically
from simplan.scenario import Scenario, deep_merge

Evaluate = Callable[[list[dict[str, float]]], Iterable[pd.DataFrame]]
"""Candidates' plan settings in, for each one row per replication out (columns bookings,
payout, share_at_target), in order."""
BATCH = 4
"""Candidates proposed together and run in parallel. Fixed, not the worker count, so a seed
proposes the same candidates on any machine; small, so the search learns from most of what
it tried before it proposes more."""


def search(
    evaluate: Evaluate,
    levers: Sequence[Lever],
    goal: Goal,
    candidates: int,
    seed: int,
    progress: Callable[..., None] | None = None,
    batch: int = BATCH,
) -> pd.DataFrame:
    """Try `candidates` settings of the levers proposed by seeded TPE, `batch` at a time; one
    row per candidate: its settings, objective, constraint numbers and whether it meets them.

    Within a batch TPE proposes as if the candidates still running were as bad as the worst
    seen (optuna's constant liar), so it does not propose the same point `batch` times.
    """
    with warnings.catch_warnings():  # optuna's progress helper asks notebooks for ipywidgets
        warnings.filterwarnings("ignore", message="IProgress not found")
        import optuna  # loads in about a second: only when a plan is designed

    if candidates < 1:
        raise SimplanError(f"--candidates {candidates}: give at least 1, e.g. 200")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():  # multivariate TPE and the constant liar are experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=seed,
            n_startup_trials=min(candidates, max(5, candidates // 10)),
            multivariate=True,
            constant_liar=True,
        )
    study = optuna.create_study(
        direction="maximize" if goal.maximise else "minimize", sampler=sampler
    )
    space = {
        lever.name: optuna.distributions.FloatDistribution(lever.low, lever.high)
        for lever in levers
    }
    rows: list[dict[str, float]] = []
    while len(rows) < candidates:
        trials = [study.ask(space) for _ in range(min(batch, candidates - len(rows)))]
        settings = [{lever.name: trial.params[lever.name] for lever in levers} for trial in trials]
        for trial, setting, kpis in zip(trials, settings, evaluate(settings), strict=True):
            measured = goal.measure(kpis)
            for key, value in measured.items():
                if key.startswith("violates_"):
                    trial.set_constraint(key, value)
            study.tell(trial, measured["objective"])
            rows.append({"candidate": len(rows), **setting, **measured})
            if progress is not None:
                progress(len(rows), candidates, "candidates")
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


def with_settings(
    scenario: Scenario, settings: dict[str, float], levers: Sequence[Lever]
) -> Scenario:
    """A candidate's scenario under the search's name (the `Vary` of its pool)."""
    return candidate_scenario(scenario, levers, settings, scenario.name)


@dataclass(frozen=True)
class PlanEvaluator:
    """Candidates' settings in, their KPI tables out (an `Evaluate`), on a running pool."""

    pool: CandidatePool

    def __call__(self, many: list[dict[str, float]]) -> Iterator[pd.DataFrame]:
        return self.pool.run([(0, settings) for settings in many])


@contextmanager
def plan_evaluator(
    scenario: Scenario,
    levers: Sequence[Lever],
    replications: int,
    seed: int,
    workers: int | None = None,
) -> Iterator[PlanEvaluator]:
    """Candidates simulated on `seed` (the same customers for all) with the fast engine, on
    one pool of workers kept while the evaluator is open (`candidate_pool`)."""
    vary = functools.partial(with_settings, levers=tuple(levers))
    with candidate_pool([scenario], vary, replications, seed, workers) as pool:
        yield PlanEvaluator(pool)


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
    progress: Callable[..., None] | None = None,
    batch: int = BATCH,
) -> Design:
    """Search the levers of the scenario's plan (or of `plan`, a plan file) for `goal`.

    Candidates run on one seed (common random numbers), `batch` at a time in parallel on one
    pool of workers kept for the whole run; the best `finalists` (those meeting the
    constraints first) run again on a fresh seed with `check_replications` (default
    `replications`) against the starting plan, on the same pool, and the best of them there
    is chosen. `progress(done, total, step)` follows the candidates, then the re-run.
    """
    start = with_plan(scenario, plan) if plan is not None else scenario
    _check_designable(start, levers)
    seed = start.simulation.seed if seed is None else seed
    with plan_evaluator(start, levers, replications, seed, workers) as evaluate:
        table = search(evaluate, levers, goal, candidates, seed, progress, batch)
        ranked = table.sort_values(["feasible", "objective"], ascending=[False, not goal.maximise])
        chosen = ranked.head(finalists)
        scenarios = [
            candidate_scenario(start, levers, row, f"candidate_{int(row['candidate'])}")
            for row in chosen.to_dict("records")
        ]
        fresh = fresh_seed_for(seed)
        check = check_replications or replications
        counted = None if progress is None else _one_count(progress, check * (1 + len(scenarios)))
        comparison = compare(
            start.with_simulation(engine="fast"),
            *[s.with_simulation(engine="fast") for s in scenarios],
            replications=check,
            seed=fresh,
            workers=workers,
            predictive=goal.confidence,
            executor=evaluate.pool.executor,
            progress=counted,
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
    for lever in levers:
        if min(best[lever.name] - lever.low, lever.high - best[lever.name]) < 0.02 * (
            lever.high - lever.low
        ):
            notes.append(
                f"{lever.name} = {best[lever.name]:.4g} is at the edge of its range "
                f"{lever.low:g}:{lever.high:g}; the best may lie beyond it: widen --vary"
            )
    winner = scenarios[[s.name for s in scenarios].index(best["scenario"])].plan
    settings = ", ".join(f"{lever.name} = {best[lever.name]:.4g}" for lever in levers)
    named = {
        "name": f"{winner.name}_{best['scenario']}",
        "description": f"{winner.name} with {settings} (simplan optimise, {goal.objective})",
    }
    return Design(
        goal=goal,
        levers=list(levers),
        candidates=table,
        finalists=checked,
        comparison=comparison,
        best_plan=winner.model_copy(update=named),
        best_name=best["scenario"],
        seed=seed,
        fresh_seed=fresh,
        notes=notes,
    )


def _one_count(progress: Callable[..., None], total: int) -> Callable[[int, int], None]:
    """`compare`'s progress (replications done in the run now going, its runs one after the
    other) as one count of every replication of the re-run."""
    counted = {"before": 0, "last": 0}

    def update(done: int, _run_total: int) -> None:
        if done <= counted["last"]:  # the next run started
            counted["before"] += counted["last"]
        counted["last"] = done
        progress(counted["before"] + done, total, "finalists on fresh seeds")

    return update


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

"""Which assumption moves an answer: Morris screening, Sobol indices and a tornado.

An answer (bookings, payout, share at target, or a plan's effect B - A) rests on numbers the
scenario assumes: the effort response, arrivals, win rates. Each is given a range (by default
the 5th to 95th percentile of the calibrated parameter's draws, its `uncertainty:` block);
SALib then varies them together. Morris screening (elementary effects along a few paths)
ranks many parameters in few runs; Sobol indices split the output's variance into each
parameter's share, alone (S1) and with its interactions (ST), in more runs. The tornado shows
the answer with one parameter at each end of its range, the others at the scenario's values.

Every point runs on the same seed (common random numbers), so points differ by their
parameters, not by which customers arrived, and a plan's effect is paired within a point.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError

from simplan.analysis.design_goal import parse_range
from simplan.analysis.design_plots import save_figure, tornado_figure
from simplan.analysis.design_pool import candidate_pool
from simplan.errors import SimplanError
from simplan.model.keypaths import nearest_path, parse_path, set_path
from simplan.results import save_atomically
from simplan.scenario import Scenario

OUTPUTS = ("bookings", "payout", "share_at_target", "effect")
METHODS = ("morris", "sobol")
Method = Literal["morris", "sobol"]
Model = Callable[[dict[str, float]], float]
"""Parameter values (key path -> number) in, the answer out; one with a `many(points,
progress)` method (`ScenarioModel`) is asked for every point at once."""

_FACTOR = re.compile(r"^\s*([^=\s]+)\s*(?:=\s*(.+))?$")


@dataclass(frozen=True)
class Factor:
    """An assumption and the range it is varied over: a key path into the scenario."""

    path: str
    low: float
    high: float


def draw_ranges(scenario: Scenario, coverage: float = 0.9) -> dict[str, tuple[float, float]]:
    """Each drawn parameter's central `coverage` range over the scenario's `uncertainty:` draws
    (the calibrated parameters' intervals); empty when the scenario has none."""
    if scenario.uncertainty is None:
        return {}
    draws = pd.DataFrame(scenario.uncertainty.draws)
    tail = (1 - coverage) / 2 * 100
    ranges = {}
    for path in draws.columns:
        low, high = np.nanpercentile(draws[path].to_numpy(float), [tail, 100 - tail])
        if high > low:
            ranges[path] = (float(low), float(high))
    return ranges


def parse_factors(texts: Sequence[str], scenario: Scenario) -> list[Factor]:
    """`--param KEY=LOW:HIGH` (or `--param KEY` for a drawn parameter's interval); with no
    --param, every drawn parameter over its interval."""
    drawn = draw_ranges(scenario)
    if not texts:
        if not drawn:
            raise SimplanError(
                f"'{scenario.name}' has no `uncertainty:` draws to take ranges from; give "
                "--param KEY=LOW:HIGH, e.g. --param leads.tiers[0].win_probability=0.35:0.55"
            )
        return [Factor(path, *bounds) for path, bounds in drawn.items()]
    factors = []
    for text in texts:
        match = _FACTOR.match(text)
        if match is None:
            raise SimplanError(
                f"--param {text!r}: write KEY=LOW:HIGH, e.g. behaviour.cost_curvature=1.5:3"
            )
        path, bounds = match.groups()
        parse_path(path)
        if bounds is not None:
            factors.append(Factor(path, *parse_range(bounds, f"--param {path}")))
        elif path in drawn:
            factors.append(Factor(path, *drawn[path]))
        else:
            have = ", ".join(drawn) or "none"
            raise SimplanError(
                f"--param {path}: no range given and it is not a drawn parameter (drawn: {have}); "
                f"write {path}=LOW:HIGH"
            )
    paths = [f.path for f in factors]
    if len(set(paths)) != len(paths):
        raise SimplanError(f"--param names a parameter twice: {', '.join(paths)}")
    return factors


def at_point(scenario: Scenario, values: dict[str, float]) -> Scenario:
    """`scenario` with each key path set to its value and no parameter draws (the point is the
    parameters); errors name the path and the value."""
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    data.pop("uncertainty", None)
    for path, value in values.items():
        set_path(data, path, float(value))
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        shown = ", ".join(f"{k}={v:g}" for k, v in values.items())
        raise SimplanError(
            f"'{scenario.name}' with {shown} does not validate: {first['msg']} (at "
            f"{first['loc']}); narrow the --param ranges"
        ) from None


@dataclass(frozen=True)
class ScenarioModel:
    """The answer as a function of the parameters (a `Model`), simulated: one scenario's mean
    `metric`, or with two scenarios (`effect`) the paired mean difference of the second minus
    the first; every point on the same seed with the fast engine. `many` answers a list of
    points on one pool of workers, a point's replications in one worker."""

    scenarios: tuple[Scenario, ...]
    metric: str
    replications: int
    seed: int
    workers: int | None = None

    def __call__(self, values: dict[str, float]) -> float:
        return self.many([values])[0]

    def many(
        self,
        points: Sequence[dict[str, float]],
        progress: Callable[[int, int], None] | None = None,
    ) -> list[float]:
        """Each point's answer, in order; `progress(done, total)` as points finish."""
        runs = len(self.scenarios)
        tasks = [(i, values) for values in points for i in range(runs)]
        answers: list[float] = []
        means: list[np.ndarray] = []
        with candidate_pool(
            self.scenarios, at_point, self.replications, self.seed, self.workers
        ) as pool:
            for kpis in pool.run(tasks):
                means.append(kpis[self.metric].to_numpy(float))
                if len(means) < runs:
                    continue
                answers.append(float(np.mean(means[-1] - means[0] if runs == 2 else means[0])))
                means = []
                if progress is not None:
                    progress(len(answers), len(points))
        return answers


def scenario_model(
    scenarios: Sequence[Scenario],
    output: str,
    effect_metric: str = "bookings",
    replications: int = 20,
    seed: int = 0,
    workers: int | None = None,
) -> ScenarioModel:
    """The answer as a function of the parameters: one scenario's mean `output`, or for
    `effect` the paired mean difference in `effect_metric` of the second scenario minus the
    first; every point on the same seed with the fast engine."""
    if output not in OUTPUTS:
        raise SimplanError(f"--output {output!r}: choose {', '.join(OUTPUTS)}")
    if (output == "effect") != (len(scenarios) == 2):
        raise SimplanError(
            "--output effect compares two plans: give --plan A --plan B (and no --plan otherwise)"
        )
    metric = effect_metric if output == "effect" else output
    if metric not in ("bookings", "payout", "share_at_target"):
        raise SimplanError(f"--effect-on {metric!r}: choose bookings, payout, share_at_target")
    for one in scenarios:  # else every point's answer is NaN, and SALib ranks NaNs as zeros
        if metric == "payout" and one.plan is None:
            raise SimplanError(
                f"'{one.name}' has no plan, so it pays nothing at any point; give --plan FILE"
            )
        if metric == "share_at_target" and one.team.quota is None and one.team.roster is None:
            raise SimplanError(
                f"'{one.name}' has no team.quota, so no rep has a target to reach; set one"
            )
    return ScenarioModel(tuple(scenarios), metric, replications, seed, workers)


@dataclass
class Sensitivity:
    """The indices (one row per parameter) and the tornado (the answer at each end)."""

    output: str
    method: str
    indices: pd.DataFrame  # parameter, low, high, then mu_star, mu_star_conf, sigma | S1, ST, ...
    tornado: pd.DataFrame  # parameter, low, high, at_low, at_high, swing
    centre: float  # the answer at the scenario's own values
    evaluations: int

    def save(self, directory: str | Path, force: bool = False) -> Path:
        """sensitivity.csv, tornado.csv and tornado.png, atomically."""

        def write(tmp: Path) -> None:
            self.indices.to_csv(tmp / "sensitivity.csv", index=False)
            self.tornado.to_csv(tmp / "tornado.csv", index=False)
            save_figure(tornado_figure(self.tornado, self.output, self.centre), tmp / "tornado.png")

        return save_atomically(directory, force, write)


def sensitivity(
    model: Model,
    factors: Sequence[Factor],
    centre: dict[str, float],
    *,
    output: str = "answer",
    method: Method = "morris",
    samples: int = 8,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> Sensitivity:
    """Indices of `model` over the factors' ranges, and its tornado around `centre`.

    `samples` is Morris' number of trajectories ((k + 1) runs each, k parameters) or Sobol's
    base sample (a power of 2; (k + 2) runs each); the tornado adds 2 k + 1 runs.
    """
    from SALib.analyze import morris as morris_analyse  # loaded only for a sensitivity run
    from SALib.analyze import sobol as sobol_analyse
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method not in METHODS:
        raise SimplanError(f"--method {method!r}: choose {', '.join(METHODS)}")
    if len(factors) < 2:
        raise SimplanError("sensitivity needs at least two parameters to rank; give --param twice")
    if method == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise SimplanError(f"--samples {samples}: Sobol needs a power of 2, e.g. 64")
    if method == "morris" and samples < 2:
        raise SimplanError(f"--samples {samples}: Morris needs at least 2 trajectories, e.g. 10")
    problem = {
        "num_vars": len(factors),
        "names": [f.path for f in factors],
        "bounds": [[f.low, f.high] for f in factors],
    }
    with warnings.catch_warnings():  # SALib's notes on sample sizes, not errors
        warnings.simplefilter("ignore")
        if method == "morris":
            points = morris_sample.sample(problem, samples, num_levels=4, seed=seed)
        else:
            points = sobol_sample.sample(problem, samples, calc_second_order=False, seed=seed)
    everything = [dict(zip(problem["names"], row, strict=True)) for row in points]
    everything += _one_at_a_time(factors, centre)
    total = len(everything)
    answers = _answers(model, everything, progress)
    y = np.asarray(answers[: len(points)], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "morris":
            found = morris_analyse.analyze(problem, points, y, num_levels=4, seed=seed)
            columns = ["mu_star", "mu_star_conf", "mu", "sigma"]
        else:
            # a Generator, not the int: SALib's Sobol bootstrap takes numpy's global generator
            # for a seed of 0 (`if seed:`), so the intervals of seed 0 changed from run to run
            found = sobol_analyse.analyze(problem, y, calc_second_order=False,
                                          seed=np.random.default_rng(seed))  # fmt: skip
            columns = ["S1", "S1_conf", "ST", "ST_conf"]
    indices = pd.DataFrame(
        {
            "parameter": problem["names"],
            "low": [f.low for f in factors],
            "high": [f.high for f in factors],
            **{c: np.asarray(found[c], dtype=float) for c in columns},
        }
    )
    rank = "mu_star" if method == "morris" else "ST"
    indices = indices.sort_values(rank, ascending=False).reset_index(drop=True)
    centre_answer, ends = answers[len(points)], np.asarray(answers[len(points) + 1 :])
    tornado = pd.DataFrame(
        {
            "parameter": [f.path for f in factors],
            "low": [f.low for f in factors],
            "high": [f.high for f in factors],
            "at_low": ends[0::2],
            "at_high": ends[1::2],
        }
    )
    tornado["swing"] = (tornado["at_high"] - tornado["at_low"]).abs()
    tornado = tornado.sort_values("swing", ascending=False).reset_index(drop=True)
    return Sensitivity(output, method, indices, tornado, float(centre_answer), total)


def _answers(
    model: Model,
    points: list[dict[str, float]],
    progress: Callable[[int, int], None] | None,
) -> list[float]:
    """The model at every point: all at once when it can (`ScenarioModel.many`, in parallel),
    else one after the other."""
    many = getattr(model, "many", None)
    if many is not None:
        return many(points, progress)
    answers = []
    for i, values in enumerate(points):
        answers.append(model(values))
        if progress is not None:
            progress(i + 1, len(points))
    return answers


def _one_at_a_time(factors: Sequence[Factor], centre: dict[str, float]) -> list[dict[str, float]]:
    """The centre, then each factor at its low and its high end with the others at the centre."""
    base = {f.path: float(np.clip(centre[f.path], f.low, f.high)) for f in factors}
    points: list[dict[str, float]] = [dict(base)]
    for f in factors:
        points += [{**base, f.path: f.low}, {**base, f.path: f.high}]
    return points


def scenario_values(scenario: Scenario, paths: Sequence[str]) -> dict[str, float]:
    """The scenario's own value at each key path (the tornado's centre)."""
    data: Any = scenario.model_dump(by_alias=True)
    values = {}
    for path in paths:
        node = data
        for part in parse_path(path):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                raise SimplanError(
                    f"--param {path}: does not exist in '{scenario.name}'; {nearest_path(data, path)}"
                ) from None
        if not isinstance(node, int | float) or isinstance(node, bool):
            raise SimplanError(f"--param {path}: names {type(node).__name__}, not a number")
        values[path] = float(node)
    return values

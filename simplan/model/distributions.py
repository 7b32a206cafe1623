"""Distributions as small objects: parameters, `sample(rng, n)`, `draw(rng)` (one value, the
same as `sample(rng, 1)[0]`), `mean`, and a readable repr.

In YAML each is a mapping with a `dist` key, e.g. `{dist: lognormal, mean: 12000, cv: 0.8}`;
a bare number means a constant. `repr` prints the same form a planner can paste back.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BeforeValidator, Field, model_validator

from simplan.model.params import Params


class _Distribution(Params):
    """Common behaviour: sample n values with a given numpy Generator."""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise NotImplementedError

    def draw(self, rng: np.random.Generator) -> float:
        """One value, the same as ``sample(rng, 1)[0]`` from the same generator state, without
        building an array (the event engine draws a lead at a time)."""
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    def __repr__(self) -> str:
        items = self.model_dump(exclude_none=True).items()
        fields = ", ".join(f"{k}: {_num(v)}" for k, v in items if k != "dist")
        return "{dist: " + self.dist + (", " + fields if fields else "") + "}"

    __str__ = __repr__


def _num(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + ", ".join(_num(v) for v in value) + "]"
    return str(value)


class Constant(_Distribution):
    """Always the same value."""

    dist: Literal["constant"] = "constant"
    value: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.value, dtype=float)

    def draw(self, rng: np.random.Generator) -> float:
        return float(self.value)

    @property
    def mean(self) -> float:
        return self.value


class Poisson(_Distribution):
    """Counts with a given mean rate."""

    dist: Literal["poisson"] = "poisson"
    rate: float = Field(ge=0)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.poisson(self.rate, n).astype(float)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.poisson(self.rate))

    @property
    def mean(self) -> float:
        return self.rate


class Exponential(_Distribution):
    """Memoryless waiting times, by their mean."""

    dist: Literal["exponential"] = "exponential"
    mean_: float = Field(alias="mean", gt=0)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(self.mean_, n)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.exponential(self.mean_))

    @property
    def mean(self) -> float:
        return self.mean_

    def __repr__(self) -> str:
        return "{dist: exponential, mean: " + _num(self.mean_) + "}"

    __str__ = __repr__


class LogNormal(_Distribution):
    """Right-skewed positive values (deal sizes), by mean and coefficient of variation."""

    dist: Literal["lognormal"] = "lognormal"
    mean_: float = Field(alias="mean", gt=0)
    cv: float = Field(gt=0)

    def _log_params(self) -> tuple[float, float]:
        """(mu, sigma) of the underlying normal."""
        sigma2 = np.log1p(self.cv**2)
        return np.log(self.mean_) - sigma2 / 2, np.sqrt(sigma2)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.lognormal(*self._log_params(), n)

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(*self._log_params()))

    @property
    def mean(self) -> float:
        return self.mean_

    def __repr__(self) -> str:
        return "{dist: lognormal, mean: " + _num(self.mean_) + ", cv: " + _num(self.cv) + "}"

    __str__ = __repr__


class Gamma(_Distribution):
    """Positive durations or sizes, by mean and coefficient of variation."""

    dist: Literal["gamma"] = "gamma"
    mean_: float = Field(alias="mean", gt=0)
    cv: float = Field(gt=0)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shape = 1.0 / self.cv**2
        return rng.gamma(shape, self.mean_ / shape, n)

    def draw(self, rng: np.random.Generator) -> float:
        shape = 1.0 / self.cv**2
        return float(rng.gamma(shape, self.mean_ / shape))

    @property
    def mean(self) -> float:
        return self.mean_

    def __repr__(self) -> str:
        return "{dist: gamma, mean: " + _num(self.mean_) + ", cv: " + _num(self.cv) + "}"

    __str__ = __repr__


class Empirical(_Distribution):
    """Resample observed values, or a histogram: `values` with optional `weights`."""

    dist: Literal["empirical"] = "empirical"
    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None

    @model_validator(mode="after")
    def _check_weights(self) -> Empirical:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}; "
                    "give one weight per value"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be non-negative with a positive sum")
        return self

    def _probabilities(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=self._probabilities())

    def draw(self, rng: np.random.Generator) -> float:
        return float(rng.choice(np.asarray(self.values, dtype=float), p=self._probabilities()))

    @property
    def mean(self) -> float:
        p = self._probabilities()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else v @ p)


def _number_is_constant(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"dist": "constant", "value": value}
    return value


Distribution = Annotated[
    Constant | Poisson | Exponential | LogNormal | Gamma | Empirical,
    Field(discriminator="dist"),
    BeforeValidator(_number_is_constant),
]
"""Any distribution; in YAML a mapping with `dist:` or a bare number (a constant)."""

DISTRIBUTION_NAMES = {"constant", "poisson", "exponential", "lognormal", "gamma", "empirical"}

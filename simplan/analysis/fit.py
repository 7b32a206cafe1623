"""Statistical fits behind calibration: each a pure function of arrays, returning estimates
with 95 % confidence intervals so a recovery test (and a reader) can judge them.

- `fit_arrivals`: a Poisson log-linear model (tier x weekday x sprint phase) by iterative
  proportional fitting, the maximum-likelihood fit of main effects.
- `simplan.analysis.outcomes.fit_outcomes`: win probability, stale leads, cycle times.
- `fit_size`: deal size, lognormal against gamma by likelihood.
- `shrink_rates`: per-rep win rates shrunk toward the team by empirical Bayes
  (beta-binomial, prior fitted by marginal likelihood).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from simplan.analysis.outcomes import Z95, family_dist, ks_distance


def poisson_interval(count: float, exposure: float) -> tuple[float, float]:
    """Exact (Garwood) 95 % interval of a Poisson rate: `count` events over `exposure`."""
    low = stats.chi2.ppf(0.025, 2 * count) / 2 if count > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * count + 2) / 2
    return low / exposure, high / exposure


# -- arrivals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArrivalFit:
    """Leads per working day by tier (at multipliers 1), weekday and phase multipliers."""

    rates: pd.DataFrame  # tier, leads, working_days, per_working_day, ci_low, ci_high
    weekday: dict[int, float]  # weekday number (0 = Monday) -> multiplier, working days only
    phase: dict[int, float]  # phase code -> multiplier (mean 1 over the window's days)
    daily: pd.DataFrame  # date, tier, actual, fitted: for plots and checks


def fit_arrivals(
    created: pd.Series,
    tier: pd.Series,
    days: pd.DatetimeIndex,
    weekday: np.ndarray,
    phase: np.ndarray,
    working: np.ndarray,
    iterations: int = 200,
    weights: np.ndarray | None = None,
) -> ArrivalFit:
    """Fit counts of leads created per working day of `days` (leads created on a non-working
    day count on the next working day) as rate(tier) x weekday(d) x phase(d); `weights`
    (one per lead, default 1) count a lead as more than one (a truncation correction)."""
    day_index = pd.Index(days.normalize())
    working_days = np.flatnonzero(working)
    # Move each lead to the first working day on or after its date.
    position = day_index.get_indexer(created.dt.normalize())
    nxt = np.searchsorted(working_days, position)
    keep = (position >= 0) & (nxt < len(working_days))
    slot = working_days[nxt[keep]]
    tiers = sorted(tier.unique())
    t_code = pd.Categorical(tier[keep], categories=tiers).codes
    counts = np.zeros((len(tiers), len(days)))
    lead_weight = np.ones(keep.sum()) if weights is None else np.asarray(weights, float)[keep]
    np.add.at(counts, (t_code, slot), lead_weight)
    counts = counts[:, working_days]
    w, ph = weekday[working_days], phase[working_days]
    w_levels, ph_levels = np.unique(w), np.unique(ph)
    w_idx, ph_idx = np.searchsorted(w_levels, w), np.searchsorted(ph_levels, ph)
    rate = counts.sum(axis=1) / len(working_days)
    a, b = np.ones(len(w_levels)), np.ones(len(ph_levels))
    total_w = np.bincount(w_idx, weights=counts.sum(axis=0), minlength=len(w_levels))
    total_ph = np.bincount(ph_idx, weights=counts.sum(axis=0), minlength=len(ph_levels))
    for _ in range(iterations):
        day_mult = a[w_idx] * b[ph_idx]
        rate = counts.sum(axis=1) / day_mult.sum()
        a = total_w / (rate.sum() * np.bincount(w_idx, weights=b[ph_idx], minlength=len(a)))
        b = total_ph / (rate.sum() * np.bincount(ph_idx, weights=a[w_idx], minlength=len(b)))
        a_scale, b_scale = a.mean(), (b[ph_idx]).mean()
        a, b = a / a_scale, b / b_scale
    day_mult = a[w_idx] * b[ph_idx]
    rate = counts.sum(axis=1) / day_mult.sum()
    exposure = day_mult.sum()
    rows = []
    for i, name in enumerate(tiers):
        n = counts[i].sum()
        low, high = poisson_interval(n, exposure)
        rows.append((name, int(n), len(working_days), rate[i], low, high))
    rates = pd.DataFrame(
        rows, columns=["tier", "leads", "working_days", "per_working_day", "ci_low", "ci_high"]
    )
    daily = pd.DataFrame(
        {
            "date": np.repeat(days[working_days].to_numpy(), len(tiers)),
            "tier": np.tile(tiers, len(working_days)),
            "actual": counts.T.ravel(),
            "fitted": (rate[None, :] * day_mult[:, None]).ravel(),
        }
    )
    return ArrivalFit(
        rates=rates,
        weekday=dict(zip(w_levels.tolist(), a.tolist(), strict=True)),
        phase=dict(zip(ph_levels.tolist(), b.tolist(), strict=True)),
        daily=daily,
    )


def closing_cdf(cycle: np.ndarray, room: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distribution of days from opening to close under right truncation (a deal is seen
    only if its cycle is at most its `room`, the days from opening to the export): the
    Lynden-Bell product-limit estimate F(t) = prod over s > t of (1 - d(s) / R(s)), R(s) the
    deals with cycle <= s <= room. Returns (days, F at each day) on 0..max cycle."""
    x, tau = np.asarray(cycle, float), np.asarray(room, float)
    grid = np.arange(int(x.max()) + 1) if len(x) else np.zeros(1, int)
    d = np.bincount(x.astype(int), minlength=len(grid)).astype(float)
    starts = np.bincount(x.astype(int), minlength=len(grid))  # deals whose cycle is s
    ends = np.bincount(np.minimum(tau, grid[-1]).astype(int), minlength=len(grid))
    # R(s) = #{cycle <= s} - #{room < s}
    at_risk = np.cumsum(starts) - np.concatenate([[0], np.cumsum(ends)[:-1]])
    factor = np.where(at_risk > 0, 1 - d / np.maximum(at_risk, 1), 1.0)
    # F(t) = prod_{s > t} factor(s): a reversed cumulative product, shifted by one.
    tail = np.cumprod(factor[::-1])[::-1]
    cdf = np.concatenate([tail[1:], [1.0]])
    return grid, np.clip(cdf, 0.0, 1.0)


def compress(values: np.ndarray, weights: np.ndarray, points: int = 200) -> tuple[list, list]:
    """A weighted sample as at most `points` values and weights (its weighted quantiles)."""
    order = np.argsort(values)
    x, w = np.asarray(values)[order], np.asarray(weights)[order]
    if len(np.unique(x)) <= points:
        frame = pd.DataFrame({"x": x, "w": w}).groupby("x")["w"].sum()
        return [round(float(v), 3) for v in frame.index], [
            round(float(v), 8) for v in frame / frame.sum()
        ]
    cdf = (np.cumsum(w) - w / 2) / w.sum()
    grid = (np.arange(points) + 0.5) / points
    return [round(float(v), 3) for v in np.interp(grid, cdf, x)], [round(1 / points, 8)] * points


# -- deal size --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SizeFit:
    """Deal size of one tier: the family chosen by likelihood, mean and cv with intervals."""

    family: str
    mean: float
    mean_ci: tuple[float, float]
    cv: float
    cv_ci: tuple[float, float]
    loglik: dict[str, float]
    n: int
    ks: float


def fit_size(amounts: np.ndarray) -> SizeFit:
    """Lognormal against gamma by maximum likelihood (same number of parameters)."""
    x = np.asarray(amounts, float)
    n = len(x)
    logs = np.log(x)
    mu, sigma = logs.mean(), max(logs.std(), 1e-6)
    ll_lognormal = float(stats.norm.logpdf(logs, mu, sigma).sum() - logs.sum())
    k, _, theta = stats.gamma.fit(x, floc=0) if n >= 2 and np.ptp(x) > 0 else (1e6, 0, x[0] / 1e6)
    ll_gamma = float(stats.gamma.logpdf(x, k, scale=theta).sum())
    if ll_lognormal >= ll_gamma:
        mean = float(np.exp(mu + sigma**2 / 2))
        cv = float(np.sqrt(np.expm1(sigma**2)))
        se_mean = mean * sigma * np.sqrt((1 + sigma**2 / 2) / n)
        se_cv = sigma * np.exp(sigma**2) / cv * sigma / np.sqrt(2 * n)
        family = "lognormal"
    else:
        mean, cv = float(k * theta), float(1 / np.sqrt(k))
        info = n * np.array([[special.polygamma(1, k), 1 / theta], [1 / theta, k / theta**2]])
        cov = np.linalg.inv(info)
        grad = np.array([theta, k])
        se_mean = float(np.sqrt(grad @ cov @ grad))
        se_cv = float(0.5 * k**-1.5 * np.sqrt(cov[0, 0]))
        family = "gamma"
    ks = ks_distance(x, np.ones(n), family_dist(family, mean, cv))
    return SizeFit(
        family=family,
        mean=mean,
        mean_ci=(mean - Z95 * se_mean, mean + Z95 * se_mean),
        cv=cv,
        cv_ci=(max(cv - Z95 * se_cv, 0.0), cv + Z95 * se_cv),
        loglik={"lognormal": ll_lognormal, "gamma": ll_gamma},
        n=n,
        ks=ks,
    )


# -- per-rep win rates ------------------------------------------------------------------------


@dataclass(frozen=True)
class Shrinkage:
    """Each rep's win rate shrunk toward the team (beta-binomial empirical Bayes)."""

    alpha: float
    beta: float
    table: pd.DataFrame  # rep_id, closed, won, raw_rate, shrunk_rate, ci_low, ci_high, weight

    @property
    def prior_mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def normal_view(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        """The reps' raw win rates on the logit scale with their sampling variance, and the
        prior's mean and variance there (for `borrow_across_traits`)."""
        n, k = self.table["closed"].to_numpy(float), self.table["won"].to_numpy(float)
        p = (k + 0.5) / (n + 1)
        raw = np.where(n > 0, special.logit(p), np.nan)
        mean = float(special.digamma(self.alpha) - special.digamma(self.beta))
        spread = float(special.polygamma(1, self.alpha) + special.polygamma(1, self.beta))
        return raw, 1 / ((n + 1) * p * (1 - p)), mean, spread

    def shifted(self, shift: np.ndarray) -> Shrinkage:
        """The same fit with each rep's rate and interval moved by `shift` on the logit scale."""
        table = self.table.copy()
        for column in ("shrunk_rate", "ci_low", "ci_high"):
            table[column] = special.expit(special.logit(table[column]) + shift)
        return Shrinkage(alpha=self.alpha, beta=self.beta, table=table)


def shrink_rates(rep_id: np.ndarray, closed: np.ndarray, won: np.ndarray) -> Shrinkage:
    """Fit Beta(alpha, beta) to the reps' win counts by the beta-binomial marginal likelihood,
    then each rep's posterior mean (k + alpha) / (n + alpha + beta) and 95 % interval.

    With no spread beyond binomial noise the prior is tight (alpha + beta up to 1e5) and
    every rep sits at the team rate; `weight` is the rep's own data's share n / (n + a + b).
    """
    n, k = np.asarray(closed, float), np.asarray(won, float)
    pooled = (k.sum() + 0.5) / (n.sum() + 1)

    def nll(theta: np.ndarray) -> float:
        m, log_size = special.expit(theta[0]), theta[1]
        size = np.exp(log_size)
        return -float(stats.betabinom.logpmf(k, n, m * size, (1 - m) * size).sum())

    best = optimize.minimize(
        nll,
        np.array([special.logit(pooled), np.log(20.0)]),
        method="L-BFGS-B",
        bounds=[(-10, 10), (np.log(0.5), np.log(1e5))],
    )
    m, size = special.expit(best.x[0]), np.exp(best.x[1])
    a, b = m * size, (1 - m) * size
    post_a, post_b = k + a, n - k + b
    table = pd.DataFrame(
        {
            "rep_id": rep_id,
            "closed": n.astype(int),
            "won": k.astype(int),
            "raw_rate": np.where(n > 0, k / np.maximum(n, 1), np.nan),
            "shrunk_rate": post_a / (post_a + post_b),
            "ci_low": stats.beta.ppf(0.025, post_a, post_b),
            "ci_high": stats.beta.ppf(0.975, post_a, post_b),
            "weight": n / (n + size),
        }
    )
    return Shrinkage(alpha=float(a), beta=float(b), table=table)


# -- per-rep opportunity rates and deal sizes --------------------------------------------------


@dataclass(frozen=True)
class RateShrinkage:
    """Each rep's opportunities per day shrunk toward the team (gamma-Poisson empirical Bayes)."""

    shape: float
    rate: float
    table: pd.DataFrame  # rep_id, leads, exposure_days, raw_per_day, shrunk_per_day, ci_low,
    # ci_high, weight, lead_share

    @property
    def prior_mean(self) -> float:
        return self.shape / self.rate

    def normal_view(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        """The reps' raw rates on the log scale with their sampling variance, and the prior's
        mean and variance there (for `borrow_across_traits`)."""
        n = self.table["leads"].to_numpy(float)
        raw = np.log((n + 0.5) / self.table["exposure_days"].to_numpy(float))
        mean = float(special.digamma(self.shape) - np.log(self.rate))
        return raw, 1 / (n + 0.5), mean, float(special.polygamma(1, self.shape))

    def shifted(self, shift: np.ndarray) -> RateShrinkage:
        """The same fit with each rep's rate and interval scaled by exp(`shift`)."""
        table = self.table.copy()
        for column in ("shrunk_per_day", "ci_low", "ci_high"):
            table[column] = table[column] * np.exp(shift)
        table["lead_share"] = table["shrunk_per_day"] / table["shrunk_per_day"].sum()
        return RateShrinkage(shape=self.shape, rate=self.rate, table=table)


def shrink_counts(rep_id: np.ndarray, counts: np.ndarray, exposure: np.ndarray) -> RateShrinkage:
    """Fit Gamma(shape, rate) to the reps' rates by the negative-binomial marginal likelihood
    of counts ~ Poisson(rate_r x exposure_r), then each rep's posterior mean (n + shape) /
    (exposure + rate) with its 95 % interval; `lead_share` is the rep's share of the team's
    shrunk rates (what `share` routing gives each rep).

    With no spread beyond Poisson noise the shape runs to its bound (1e5) and every rep sits
    at the team's rate; `weight` is the rep's own data's share exposure / (exposure + rate).
    """
    n, e = np.asarray(counts, float), np.maximum(np.asarray(exposure, float), 1e-9)
    pooled = max(n.sum(), 0.5) / e.sum()

    def nll(theta: np.ndarray) -> float:
        mean, shape = np.exp(theta[0]), np.exp(theta[1])
        rate = shape / mean
        return -float(
            (
                special.gammaln(n + shape)
                - special.gammaln(shape)
                + shape * np.log(rate / (rate + e))
                + n * np.log(e / (rate + e))
            ).sum()
        )

    best = optimize.minimize(
        nll,
        np.array([np.log(pooled), np.log(5.0)]),
        method="L-BFGS-B",
        bounds=[(np.log(pooled) - 10, np.log(pooled) + 10), (np.log(0.05), np.log(1e5))],
    )
    mean, shape = np.exp(best.x[0]), np.exp(best.x[1])
    rate = shape / mean
    post_shape, post_rate = n + shape, e + rate
    shrunk = post_shape / post_rate
    table = pd.DataFrame(
        {
            "rep_id": rep_id,
            "leads": n.astype(int),
            "exposure_days": e,
            "raw_per_day": n / e,
            "shrunk_per_day": shrunk,
            "ci_low": stats.gamma.ppf(0.025, post_shape, scale=1 / post_rate),
            "ci_high": stats.gamma.ppf(0.975, post_shape, scale=1 / post_rate),
            "weight": e / (e + rate),
            "lead_share": shrunk / shrunk.sum(),
        }
    )
    return RateShrinkage(shape=float(shape), rate=float(rate), table=table)


@dataclass(frozen=True)
class SizeShrinkage:
    """Each rep's deal-size multiplier shrunk toward the team (normal-normal on log amounts)."""

    between_sd: float
    within_sd: float
    table: pd.DataFrame  # rep_id, won, raw_multiplier, multiplier, ci_low, ci_high, weight

    def normal_view(self) -> tuple[np.ndarray, np.ndarray, float, float]:
        """The reps' raw log multipliers with their sampling variance, and the prior's mean and
        variance (for `borrow_across_traits`)."""
        n = self.table["won"].to_numpy(float)
        raw = np.log(self.table["raw_multiplier"].to_numpy(float))
        variance = self.within_sd**2 / np.maximum(n, 1)
        return raw, np.where(n > 0, variance, np.inf), 0.0, self.between_sd**2

    def shifted(self, shift: np.ndarray) -> SizeShrinkage:
        """The same fit with each rep's multiplier and interval scaled by exp(`shift`)."""
        table = self.table.copy()
        for column in ("multiplier", "ci_low", "ci_high"):
            table[column] = table[column] * np.exp(shift)
        return SizeShrinkage(between_sd=self.between_sd, within_sd=self.within_sd, table=table)


def shrink_log_means(rep_id: np.ndarray, residual: np.ndarray, reps: list) -> SizeShrinkage:
    """Per rep, exp of the posterior mean of their deals' log-size residuals (log amount minus
    the tier's mean log amount): residual ~ N(mu_r, within^2), mu_r ~ N(0, between^2), with
    `within` pooled inside reps and `between` by maximum likelihood of the reps' means.

    A rep with few deals keeps the team's size (multiplier near 1); `weight` is the share of
    the rep's own mean in their estimate. Reps in `reps` without won deals get 1.
    """
    frame = pd.DataFrame({"rep_id": rep_id, "r": np.asarray(residual, float)})
    groups = frame.groupby("rep_id")["r"]
    n = groups.size().reindex(reps, fill_value=0).to_numpy(float)
    mean = groups.mean().reindex(reps).fillna(0.0).to_numpy(float)
    dev = frame["r"] - groups.transform("mean")
    dof = max(len(frame) - int((n > 0).sum()), 1)
    within2 = max(float((dev**2).sum()) / dof, 1e-12)
    seen = n > 0

    def nll(log_between: float) -> float:
        var = np.exp(2 * log_between) + within2 / n[seen]
        return float(0.5 * (np.log(var) + mean[seen] ** 2 / var).sum())

    if seen.sum() >= 2:
        between = float(np.exp(optimize.minimize_scalar(nll, bounds=(-12, 3), method="bounded").x))
    else:
        between = 0.0
    weight = np.where(seen, between**2 / (between**2 + within2 / np.maximum(n, 1)), 0.0)
    post = weight * mean
    post_sd = np.where(seen, np.sqrt(weight * within2 / np.maximum(n, 1)), between)
    table = pd.DataFrame(
        {
            "rep_id": reps,
            "won": n.astype(int),
            "raw_multiplier": np.where(seen, np.exp(mean), np.nan),
            "multiplier": np.exp(post),
            "ci_low": np.exp(post - Z95 * post_sd),
            "ci_high": np.exp(post + Z95 * post_sd),
            "weight": weight,
        }
    )
    return SizeShrinkage(between_sd=between, within_sd=float(np.sqrt(within2)), table=table)


def period_effect_sd(values: np.ndarray, noise_var: np.ndarray, periods: int) -> float:
    """The sd of the average of the next `periods` period effects on one scale (log rate,
    logit share): the spread of `values` (one per past month) beyond their sampling noise
    (`noise_var`), with the lag-1 autocorrelation of the months (AR(1)) carried into the
    average. A forecast of a new period draws its effect from this, since rates move
    between months beyond what their counts' noise explains; 0 with fewer than 4 months."""
    values = np.asarray(values, float)
    if len(values) < 4:
        return 0.0
    centred = values - values.mean()
    var = max(float(centred.var(ddof=1) - np.mean(noise_var)), 0.0)
    rho = float(np.clip((centred[1:] @ centred[:-1]) / max(centred @ centred, 1e-12), -0.5, 0.95))
    lags = np.abs(np.subtract.outer(np.arange(periods), np.arange(periods)))
    return float(np.sqrt(var * (rho**lags).sum() / periods**2))


# -- traits together ---------------------------------------------------------------------------


CORRELATION_REPS = 15
"""Reps with every trait measured that the between-rep correlations need: from fewer, a
correlation's standard error (about (1 - r^2) / sqrt(n)) passes 0.25, and chance correlations
of a handful of reps would move every rep."""


@dataclass(frozen=True)
class TraitBorrowing:
    """What each rep's traits say about each other: the shift of every trait (on its own
    scale) from its one-trait estimate, and the between-rep correlations behind it."""

    names: tuple[str, ...]
    shift: np.ndarray  # (reps, traits): joint minus one-trait posterior mean
    correlation: np.ndarray  # (traits, traits): between-rep correlation used


def borrow_across_traits(
    names: tuple[str, ...], raw: np.ndarray, variance: np.ndarray, prior_mean: np.ndarray,
    prior_var: np.ndarray,
) -> TraitBorrowing:  # fmt: skip
    """Each rep's traits shrunk jointly instead of one at a time.

    Shrinking each trait toward the team on its own (win rate, leads per day, deal size)
    drops what they share: reps who win more also sell bigger deals, so a rep's big deals
    say their win rate is likely above the team's too. Shrunk apart, the products the team's
    bookings are made of (leads x win rate x size) come out low (the covariance is lost) and
    the reps' spread too narrow. Here the traits are a normal-normal model on their log
    scales: `raw` (reps, traits) a rep's own estimate with sampling `variance` (NaN / inf
    where the rep has no data on that trait), the prior N(`prior_mean`, Sigma) with each
    trait's variance from its own fit (`prior_var`) and the between-rep correlations by
    maximum likelihood of the reps' raw estimates, N(prior mean, Sigma + V_rep) (each rep
    counts by its own precision; a rep's sampling errors are independent across traits).
    The result is the joint posterior mean minus the one-trait posterior mean of
    the same normal model: the part the other traits add, to be put on top of each trait's
    own (exact) fit. The correlations are fitted from `CORRELATION_REPS` reps up and kept only
    when a likelihood-ratio test rejects independent traits at 5 %; otherwise every shift is 0.
    """
    raw, variance = np.asarray(raw, float), np.asarray(variance, float)
    traits = raw.shape[1]
    seen = np.isfinite(raw) & np.isfinite(variance)
    sd = np.sqrt(np.maximum(prior_var, 1e-12))
    x = np.where(seen, raw, prior_mean) - prior_mean
    v = np.where(seen, variance, 1e12)  # no data: a variance that carries no information
    pairs = [(j, k) for j in range(traits) for k in range(j + 1, traits)]

    def correlation_of(theta: np.ndarray) -> np.ndarray:
        r = np.eye(traits)
        for (j, k), t in zip(pairs, theta, strict=True):
            r[j, k] = r[k, j] = 0.95 * np.tanh(t)
        return r

    def covariances(correlation: np.ndarray) -> np.ndarray:
        """Each rep's Sigma + V_rep, stacked (reps, traits, traits)."""
        return (correlation * np.outer(sd, sd))[None] + v[:, :, None] * np.eye(traits)

    def nll(theta: np.ndarray) -> float:
        """The reps' raw estimates' marginal likelihood, N(prior mean, Sigma + V_i)."""
        correlation = correlation_of(theta)
        if np.linalg.eigvalsh(correlation)[0] <= 1e-6:
            return 1e12
        cov = covariances(correlation)
        spread = np.linalg.solve(cov, x[:, :, None])[:, :, 0]
        return float(0.5 * (np.linalg.slogdet(cov)[1] + (x * spread).sum(axis=1)).sum())

    theta = np.zeros(len(pairs))
    if pairs and seen.all(axis=1).sum() >= CORRELATION_REPS:
        fitted = optimize.minimize(nll, theta, method="Nelder-Mead")
        # kept only where the data reject independent traits (likelihood ratio at 5 %)
        if 2 * (nll(theta) - fitted.fun) > stats.chi2.ppf(0.95, len(pairs)):
            theta = fitted.x
    correlation = correlation_of(theta)
    sigma = correlation * np.outer(sd, sd)
    joint = (sigma @ np.linalg.solve(covariances(correlation), x[:, :, None]))[:, :, 0]
    shift = joint - sd**2 / (sd**2 + v) * x
    return TraitBorrowing(names=tuple(names), shift=shift, correlation=correlation)

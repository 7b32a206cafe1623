"""Statistical fits behind calibration: each a pure function of arrays, returning estimates
with 95 % confidence intervals so a recovery test (and a reader) can judge them.

- `fit_arrivals`: a Poisson log-linear model (tier x weekday x sprint phase) by iterative
  proportional fitting, the maximum-likelihood fit of main effects.
- `fit_outcomes`: win probability, the share of stale leads that never close, and won and
  lost cycle times, jointly by maximum likelihood with open deals right-censored (a
  competing-risks mixture cure model); gamma against lognormal by likelihood.
- `fit_size`: deal size, lognormal against gamma by likelihood.
- `shrink_rates`: per-rep win rates shrunk toward the team by empirical Bayes
  (beta-binomial, prior fitted by marginal likelihood).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

Z95 = 1.959963984540054
FAMILIES = ("gamma", "lognormal")


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
) -> ArrivalFit:
    """Fit counts of leads created per working day of `days` (leads created on a non-working
    day count on the next working day) as rate(tier) x weekday(d) x phase(d)."""
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
    np.add.at(counts, (t_code, slot), 1)
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


# -- outcomes and cycle times -----------------------------------------------------------------


def _dist(family: str, mean: float, cv: float) -> stats.rv_continuous:
    if family == "gamma":
        shape = 1.0 / cv**2
        return stats.gamma(shape, scale=mean / shape)
    sigma2 = np.log1p(cv**2)
    return stats.lognorm(np.sqrt(sigma2), scale=mean * np.exp(-sigma2 / 2))


def _logpdf(family: str, x: np.ndarray, mean: float, cv: float) -> np.ndarray:
    if family == "gamma":
        k = 1.0 / cv**2
        theta = mean / k
        return (k - 1) * np.log(x) - x / theta - special.gammaln(k) - k * np.log(theta)
    s2 = np.log1p(cv**2)
    mu = np.log(mean) - s2 / 2
    lx = np.log(x)
    return -lx - 0.5 * np.log(2 * np.pi * s2) - (lx - mu) ** 2 / (2 * s2)


def _logsf(family: str, x: np.ndarray, mean: float, cv: float) -> np.ndarray:
    if family == "gamma":
        k = 1.0 / cv**2
        return np.log(np.clip(special.gammaincc(k, x * k / mean), 1e-300, None))
    s2 = np.log1p(cv**2)
    mu = np.log(mean) - s2 / 2
    return special.log_ndtr(-(np.log(x) - mu) / np.sqrt(s2))


@dataclass(frozen=True)
class OutcomeFit:
    """Win probability (of deals that close), stale share and cycle times of one tier.

    `family` is 'gamma' or 'lognormal' when that family fits the won cycles (KS distance
    to the nonparametric estimate at most the limit), else 'empirical': then the estimates
    are the nonparametric ones and `won_values` / `won_weights` the won-cycle distribution.
    """

    family: str
    win_probability: float
    win_ci: tuple[float, float]
    stale_share: float
    stale_ci: tuple[float, float]
    won_mean: float
    won_mean_ci: tuple[float, float]
    won_cv: float
    won_cv_ci: tuple[float, float]
    lost_mean: float
    lost_cv: float
    aic: dict[str, float]
    counts: dict[str, int]
    ks: float
    parametric: str
    won_values: np.ndarray = field(repr=False, default=None)
    won_weights: np.ndarray = field(repr=False, default=None)


def fit_outcomes(
    won: np.ndarray,
    lost: np.ndarray,
    open_age: np.ndarray,
    stale: bool = True,
    ks_limit: float = 0.1,
    boot: int = 200,
    seed: int = 0,
) -> OutcomeFit:
    """Jointly fit P(won | closes), the stale share and won / lost cycle distributions.

    `won`, `lost`: cycle days of closed deals; `open_age`: days each open deal has been open
    (right-censored). A deal is stale (never closes) with probability s; otherwise it is won
    with probability p after a won cycle, else lost after a lost cycle. Parametric: both
    families by maximum likelihood (closed cycles at the middle of their last day), the lower
    AIC chosen, intervals from the Hessian. Nonparametric: the Aalen-Johansen cumulative
    incidences (p and s from their plateaus, intervals by bootstrap); used when the chosen
    family's won-cycle CDF is further than `ks_limit` from the nonparametric one.
    """
    won, lost = np.asarray(won, float), np.asarray(lost, float)
    open_age = np.asarray(open_age, float)
    fits = {
        family: _fit_family(family, won + 0.5, lost + 0.5, open_age + 0.5, stale)
        for family in FAMILIES
    }
    aic = {family: 2 * fit[0] + 2 * len(fit[1]) for family, fit in fits.items()}
    best = min(aic, key=aic.get)
    _, x, cov = fits[best]
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    nonparametric = aalen_johansen(won, lost, open_age)
    values, weights = nonparametric["won_values"], nonparametric["won_weights"]
    ks = ks_distance(values + 0.5, weights, _dist(best, np.exp(x[2]), np.exp(x[3])))
    counts = {"won": len(won), "lost": len(lost), "open": len(open_age)}

    def interval(i: int, transform) -> tuple[float, float]:
        return float(transform(x[i] - Z95 * se[i])), float(transform(x[i] + Z95 * se[i]))

    draws = _bootstrap(won, lost, open_age, boot, seed)

    def boot_ci(key: str) -> tuple[float, float]:
        sample = np.array([d[key] for d in draws])
        return float(np.quantile(sample, 0.025)), float(np.quantile(sample, 0.975))

    if ks <= ks_limit:
        stale_ci = interval(1, special.expit) if stale else (0.0, 0.0)
        if stale and (special.expit(x[1]) < 0.005 or stale_ci[1] - stale_ci[0] > 0.5):
            stale_ci = (0.0, max(boot_ci("stale_share")[1], float(special.expit(x[1]))))
        return OutcomeFit(
            family=best,
            win_probability=float(special.expit(x[0])),
            win_ci=interval(0, special.expit),
            stale_share=float(special.expit(x[1])) if stale else 0.0,
            stale_ci=stale_ci,
            won_mean=float(np.exp(x[2])),
            won_mean_ci=interval(2, np.exp),
            won_cv=float(np.exp(x[3])),
            won_cv_ci=interval(3, np.exp),
            lost_mean=float(np.exp(x[4])),
            lost_cv=float(np.exp(x[5])),
            aic=aic,
            counts=counts,
            ks=ks,
            parametric=best,
            won_values=values + 0.5,
            won_weights=weights,
        )
    return OutcomeFit(
        family="empirical",
        win_probability=nonparametric["win_probability"],
        win_ci=boot_ci("win_probability"),
        stale_share=nonparametric["stale_share"] if stale else 0.0,
        stale_ci=boot_ci("stale_share") if stale else (0.0, 0.0),
        won_mean=nonparametric["won_mean"],
        won_mean_ci=boot_ci("won_mean"),
        won_cv=nonparametric["won_cv"],
        won_cv_ci=boot_ci("won_cv"),
        lost_mean=nonparametric["lost_mean"],
        lost_cv=nonparametric["lost_cv"],
        aic=aic,
        counts=counts,
        ks=ks,
        parametric=best,
        won_values=values + 0.5,
        won_weights=weights,
    )


def _bootstrap(won, lost, open_age, boot: int, seed: int) -> list[dict]:
    """Nonparametric estimates on `boot` resamples of the deals (outcome counts vary too)."""
    rng = np.random.default_rng(seed)
    times = np.concatenate([won, lost, open_age])
    kind = np.repeat([0, 1, 2], [len(won), len(lost), len(open_age)])
    draws = []
    for _ in range(boot):
        pick = rng.integers(0, len(times), len(times))
        t, k = times[pick], kind[pick]
        draws.append(aalen_johansen(t[k == 0], t[k == 1], t[k == 2]))
    return draws


def aalen_johansen(won: np.ndarray, lost: np.ndarray, open_age: np.ndarray) -> dict:
    """Nonparametric competing risks with censoring, on whole days: the cumulative incidence
    of winning and losing; their plateaus give P(won | closes) and the stale share (deals
    still open after the last close seen), their increments the cycle distributions."""
    times = np.concatenate([won, lost, open_age])
    grid = np.unique(np.concatenate([won, lost]))
    # At risk at day t: deals whose time is >= t (censored on day t still at risk).
    order = np.sort(times)
    at_risk = len(times) - np.searchsorted(order, grid, side="left")
    d_won = np.bincount(np.searchsorted(grid, won).astype(np.int64), minlength=len(grid))
    d_lost = np.bincount(np.searchsorted(grid, lost).astype(np.int64), minlength=len(grid))
    hazard = (d_won + d_lost) / np.maximum(at_risk, 1)
    survival = np.cumprod(1 - hazard)
    before = np.concatenate([[1.0], survival[:-1]])
    inc_won = before * d_won / np.maximum(at_risk, 1)
    inc_lost = before * d_lost / np.maximum(at_risk, 1)
    total_won, total_lost = inc_won.sum(), inc_lost.sum()

    def moments(increments: np.ndarray, total: float) -> tuple[float, float]:
        if total <= 0:
            return float("nan"), float("nan")
        w = increments / total
        mean = float((grid + 0.5) @ w)
        sd = float(np.sqrt(max(((grid + 0.5 - mean) ** 2) @ w, 0.0)))
        return mean, sd / mean

    won_mean, won_cv = moments(inc_won, total_won)
    lost_mean, lost_cv = moments(inc_lost, total_lost)
    keep = inc_won > 0
    return {
        "win_probability": float(total_won / max(total_won + total_lost, 1e-12)),
        "stale_share": float(max(survival[-1], 0.0)) if len(grid) else 1.0,
        "won_mean": won_mean,
        "won_cv": won_cv,
        "lost_mean": lost_mean,
        "lost_cv": lost_cv,
        "won_values": grid[keep],
        "won_weights": inc_won[keep] / max(total_won, 1e-12),
    }


def _fit_family(
    family: str, won: np.ndarray, lost: np.ndarray, open_age: np.ndarray, stale: bool
) -> tuple[float, np.ndarray, np.ndarray]:
    """Negative log-likelihood at the optimum, the optimum and its covariance (inverse
    Hessian) in the working parameters (logit p, logit s, log means, log cvs)."""

    def moments(x: np.ndarray, fallback: np.ndarray) -> tuple[float, float]:
        x = x if len(x) >= 2 else fallback
        return float(np.mean(x)), float(max(np.std(x) / np.mean(x), 0.2))

    closed = np.concatenate([won, lost])
    m_w, c_w = moments(won, closed)
    m_l, c_l = moments(lost, closed)
    p0 = (len(won) + 0.5) / (len(won) + len(lost) + 1)
    start = np.array(
        [special.logit(p0), special.logit(0.05), np.log(m_w), np.log(c_w), np.log(m_l), np.log(c_l)]
    )

    def nll(theta: np.ndarray) -> float:
        lp, ls, lmw, lcw, lml, lcl = theta
        log_p, log_q = -np.logaddexp(0, -lp), -np.logaddexp(0, lp)
        log_s, log_ns = (-np.logaddexp(0, -ls), -np.logaddexp(0, ls)) if stale else (-np.inf, 0.0)
        mw, cw, ml, cl = np.exp([lmw, lcw, lml, lcl])
        total = len(won) * (log_ns + log_p) + _logpdf(family, won, mw, cw).sum()
        total += len(lost) * (log_ns + log_q) + _logpdf(family, lost, ml, cl).sum()
        if len(open_age):
            active = np.logaddexp(
                log_p + _logsf(family, open_age, mw, cw), log_q + _logsf(family, open_age, ml, cl)
            )
            total += np.logaddexp(log_s, log_ns + active).sum()
        return -float(total) if np.isfinite(total) else 1e300

    free = np.ones(6, dtype=bool)
    if not stale:
        free[1] = False
    bounds = [(-12, 12), (-12, 12), (-5, 9), (-4, 2.5), (-5, 9), (-4, 2.5)]

    def reduced(theta_free: np.ndarray) -> float:
        theta = start.copy()
        theta[free] = theta_free
        return nll(theta)

    best = optimize.minimize(
        reduced,
        start[free],
        method="L-BFGS-B",
        bounds=[b for b, f in zip(bounds, free, strict=True) if f],
    )
    theta = start.copy()
    theta[free] = best.x
    cov = np.zeros((6, 6))
    cov[np.ix_(free, free)] = _inverse_hessian(reduced, best.x)
    return float(best.fun), theta, cov


def _inverse_hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Covariance of a maximum-likelihood estimate: the inverse of the negative
    log-likelihood's Hessian by central differences (pseudo-inverse when singular)."""
    n = len(x)
    h = np.zeros((n, n))
    f0 = f(x)
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = step
        h[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / step**2
        for j in range(i + 1, n):
            ej = np.zeros(n)
            ej[j] = step
            h[i, j] = h[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * step**2)
    return np.linalg.pinv(h)


def ks_distance(
    values: np.ndarray, weights: np.ndarray, dist: stats.rv_continuous, shift: float = 0.0
) -> float:
    """Largest gap between a weighted empirical CDF and a fitted CDF."""
    order = np.argsort(values)
    x, w = values[order], weights[order]
    ecdf = np.cumsum(w) / w.sum()
    model = dist.cdf(x + shift)
    before = np.concatenate([[0.0], ecdf[:-1]])
    return float(max(np.max(np.abs(ecdf - model)), np.max(np.abs(before - model))))


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


def family_dist(family: str, mean: float, cv: float) -> stats.rv_continuous:
    """The scipy distribution of a family by mean and coefficient of variation."""
    return _dist(family, mean, cv)


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
    ks = ks_distance(x, np.ones(n), _dist(family, mean, cv))
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

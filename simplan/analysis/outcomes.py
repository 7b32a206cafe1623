"""Win probability, stale leads and cycle times with open deals censored: a competing-risks
mixture cure model fitted by maximum likelihood (gamma or lognormal cycles, the lower AIC),
checked against the nonparametric Aalen-Johansen estimate, which replaces it when the family
does not fit the won cycles (KS distance above a limit); intervals from the Hessian or a
bootstrap of deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special, stats

Z95 = 1.959963984540054
FAMILIES = ("gamma", "lognormal")


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


def family_dist(family: str, mean: float, cv: float) -> stats.rv_continuous:
    """The scipy distribution of a family by mean and coefficient of variation."""
    return _dist(family, mean, cv)

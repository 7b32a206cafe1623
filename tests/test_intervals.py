"""Every interval simplan prints, checked for width and coverage.

Each interval is computed by hand on known numbers (a t interval, a Welch interval, an
empirical quantile, an exact Poisson interval), then its coverage is measured over many seeds
of a model whose truth is known; the tolerance is three binomial standard errors of the
number of seeds, so a test fails when an interval is too narrow or too wide, not only when
it is missing.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simplan.analysis.budget import size_budget
from simplan.analysis.compare import compare, mean_interval, narrowing_text, paired_differences
from simplan.analysis.fit import fit_arrivals, poisson_interval
from simplan.analysis.outcomes import fit_outcomes
from simplan.results import Results

from .test_behaviour import scenario
from .test_compare import synthetic_kpis

T_975_4 = 2.7764451051977987  # t(0.975, 4 degrees of freedom), from a table


def binomial_tolerance(p: float, trials: int) -> float:
    """Three standard errors of a share p measured over `trials` independent seeds."""
    return 3 * math.sqrt(p * (1 - p) / trials)


# -- compare: paired and independent intervals of the mean difference ----------------------


def test_paired_and_independent_half_widths_by_hand():
    base = np.array([10.0, 12, 15, 11, 17])
    other = base + np.array([2.0, 3, 1, 4, 2])  # gaps: mean 2.4, variance 1.3
    row = paired_differences(synthetic_kpis(base, other), ["base", "other"], 0.95, 0.9).iloc[0]
    paired = T_975_4 * math.sqrt(1.3) / math.sqrt(5)
    assert row["difference"] == pytest.approx(2.4, rel=1e-12)
    assert row["paired_half_width"] == pytest.approx(paired, rel=1e-9)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((2.4 - paired, 2.4 + paired))
    # Welch: variances 8.5 (base) and 6.3 (other) over 5 runs each; df by Welch-Satterthwaite.
    va, vb = 6.3 / 5, 8.5 / 5
    df = (va + vb) ** 2 / (va**2 / 4 + vb**2 / 4)
    assert df == pytest.approx(7.827, abs=1e-3)
    independent = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    assert row["independent_half_width"] == pytest.approx(independent, rel=1e-9)
    assert row["narrowing"] == pytest.approx(independent / paired, rel=1e-9)


def test_pairing_that_leaves_no_width_says_so_instead_of_an_infinite_ratio():
    """Identical runs (both intervals of zero width) show "-"; a constant gap over varying runs
    (only the paired one is zero) shows "all"; otherwise the ratio, one decimal."""
    base = np.array([10.0, 12, 15, 11, 17])
    same = paired_differences(synthetic_kpis(base, base.copy()), ["base", "other"], 0.95, 0.9)
    shifted = paired_differences(synthetic_kpis(base, base + 2), ["base", "other"], 0.95, 0.9)
    flat = np.full(5, 10.0)
    equal = paired_differences(synthetic_kpis(flat, flat.copy()), ["base", "other"], 0.95, 0.9)
    assert np.isinf(shifted["narrowing"].iloc[0])
    assert np.isnan(equal["narrowing"].iloc[0])
    assert [narrowing_text(v) for v in (equal["narrowing"].iloc[0], shifted["narrowing"].iloc[0],
                                        3.04)] == ["-", "all", "3.0x"]  # fmt: skip
    assert same["difference"].iloc[0] == 0


def test_paired_interval_covers_the_true_difference_at_95_percent():
    """Pairs sharing a large common part (the same customers) and differing by 5 plus noise
    of sd 2: the paired t interval over 8 replications holds 5 in 95 % of 3000 seeds, and its
    mean half-width is t(0.975, 7) x 2 x c4(8) / sqrt(8). The Welch interval, which ignores
    the pairing, covers nearly always and is about ten times wider."""
    rng = np.random.default_rng(16)
    trials, n = 3000, 8
    common = rng.normal(100, 20, size=(trials, n))
    other = common + 5 + rng.normal(0, 2, size=(trials, n))
    hits, widths = 0, []
    for a, b in zip(other, common, strict=True):
        diff, half = mean_interval(a - b, 0.95)
        hits += abs(diff - 5) <= half
        widths.append(half)
    assert hits / trials == pytest.approx(0.95, abs=binomial_tolerance(0.95, trials))
    c4 = math.sqrt(2 / (n - 1)) * math.gamma(n / 2) / math.gamma((n - 1) / 2)
    expected = stats.t.ppf(0.975, n - 1) * 2 * c4 / math.sqrt(n)
    # half-widths vary with the sample sd (cv about 0.27 for 8 values): 3 SE of their mean
    assert np.mean(widths) == pytest.approx(expected, rel=3 * 0.27 / math.sqrt(trials))
    table = paired_differences(synthetic_kpis(common[0], other[0]), ["base", "other"], 0.95, 0.9)
    assert table["narrowing"].iloc[0] > 5


@pytest.fixture(scope="module")
def commission_comparison():
    """10 % vs 12 % commission on the behaviour scenario, 6 replications of the fast engine."""
    richer = {"clock": "month", "components": [{"type": "base_commission", "rate": 0.12}]}
    fast = {"engine": "fast"}
    return compare(
        scenario(name="base", simulation=fast),
        scenario(name="richer", plan=richer, simulation=fast),
        replications=6,
        workers=1,
    )


def test_compares_printed_intervals_are_the_hand_intervals_of_its_kpis(commission_comparison):
    """What `simplan compare` prints for each metric is the t interval and the empirical
    5-95 % range of the replications it ran, and the paired interval of their gaps."""
    c = commission_comparison
    kpis = c.kpis.set_index(["scenario", "replication"])
    t5 = stats.t.ppf(0.975, 5)
    for metric in ("bookings", "payout"):
        base, richer = kpis.loc["base", metric], kpis.loc["richer", metric]
        row = c.summary.set_index(["scenario", "metric"]).loc[("base", metric)]
        half = t5 * base.std(ddof=1) / math.sqrt(6)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(
            (base.mean() - half, base.mean() + half), rel=1e-9
        )
        ordered = np.sort(base.to_numpy())  # 5 % at position 0.25, 95 % at 4.75
        low = ordered[0] + 0.25 * (ordered[1] - ordered[0])
        high = ordered[4] + 0.75 * (ordered[5] - ordered[4])
        assert (row["pi_low"], row["pi_high"]) == pytest.approx((low, high), rel=1e-9)
        gaps = (richer - base).to_numpy()
        diff = c.differences.set_index("metric").loc[metric]
        paired = t5 * gaps.std(ddof=1) / math.sqrt(6)
        assert diff["paired_half_width"] == pytest.approx(paired, rel=1e-9)
        assert diff["ci_high"] - diff["ci_low"] == pytest.approx(2 * paired, rel=1e-9)
    assert c.differences.set_index("metric").loc["payout", "ci_low"] > 0


# -- calibration: arrival rates and outcome parameters -------------------------------------


def test_poisson_interval_is_garwoods_exact_interval_by_hand():
    # Garwood's table: 10 events -> (4.7954, 18.3904); 0 events -> (0, 3.6889).
    assert poisson_interval(10, 1.0) == pytest.approx((4.795389, 18.390356), rel=1e-6)
    assert poisson_interval(10, 5.0) == pytest.approx((4.795389 / 5, 18.390356 / 5), rel=1e-6)
    assert poisson_interval(0, 2.0) == pytest.approx((0.0, 3.688879 / 2), rel=1e-6)


def _arrival_fit(rng: np.random.Generator, rate: float, days: int):
    """fit_arrivals on one tier with Poisson(rate) leads on each of `days` working days."""
    dates = pd.date_range("2024-01-01", periods=days, freq="D")
    counts = rng.poisson(rate, days)
    created = pd.Series(np.repeat(dates.to_numpy(), counts))
    return fit_arrivals(
        created,
        pd.Series(["A"] * len(created)),
        dates,
        weekday=np.zeros(days, dtype=int),
        phase=np.zeros(days, dtype=int),
        working=np.ones(days, dtype=bool),
        iterations=2,  # one weekday and one phase: nothing for the iterations to fit
    ).rates.iloc[0]


def test_arrival_rate_interval_is_right_sized_and_covers():
    """3 leads a day over 60 days, 300 seeds: the exact interval holds 3 at least 95 % of the
    time (Garwood is conservative by construction), and its width is 2 x 1.96 x sqrt(n) / 60
    within a few per cent, so an interval ten times too wide (or too narrow) fails."""
    rng = np.random.default_rng(3)
    trials, hits = 300, 0
    for _ in range(trials):
        row = _arrival_fit(rng, 3.0, 60)
        hits += row["ci_low"] <= 3.0 <= row["ci_high"]
        normal_width = 2 * 1.959964 * math.sqrt(row["leads"]) / 60
        assert row["ci_high"] - row["ci_low"] == pytest.approx(normal_width, rel=0.03)
        assert row["per_working_day"] == pytest.approx(row["leads"] / 60, rel=1e-9)
    assert hits / trials >= 0.95 - binomial_tolerance(0.95, trials)
    assert hits / trials <= 0.975


def _outcome_sample(rng: np.random.Generator, n: int, p: float):
    """n closed deals won with probability p: won cycles gamma(mean 30, cv 0.5), lost
    cycles gamma(mean 20, cv 0.6), in whole days, no open deals."""
    won = rng.random(n) < p
    won_cycles = np.floor(rng.gamma(4.0, 30 / 4, won.sum()))
    lost_cycles = np.floor(rng.gamma(1 / 0.36, 20 * 0.36, (~won).sum()))
    return won_cycles, lost_cycles, np.zeros(0)


def test_outcome_intervals_are_the_sampling_error_of_the_data():
    """The win-probability interval is p +- 1.96 sqrt(p (1 - p) / n) (delta method through
    the logit), the won-cycle mean's is mean +- 1.96 mean cv / sqrt(n_won) (the gamma MLE),
    each within a few per cent."""
    won, lost, open_age = _outcome_sample(np.random.default_rng(5), 600, 0.3)
    fit = fit_outcomes(won, lost, open_age, stale=False, boot=20)
    assert fit.family == "gamma"
    n, p = len(won) + len(lost), len(won) / (len(won) + len(lost))
    assert fit.win_probability == pytest.approx(p, abs=1e-4)
    assert fit.win_ci[1] - fit.win_ci[0] == pytest.approx(
        2 * 1.959964 * math.sqrt(p * (1 - p) / n), rel=0.03
    )
    # the won cycles sit at the middle of their day: mean about 30, cv about 0.5
    assert fit.won_mean_ci[1] - fit.won_mean_ci[0] == pytest.approx(
        2 * 1.959964 * fit.won_mean * fit.won_cv / math.sqrt(len(won)), rel=0.08
    )


def test_outcome_intervals_cover_the_truth_over_seeds():
    """60 histories of 300 deals (p = 0.3): the 95 % intervals of the win probability and of
    the won cycles' mean each hold the truth within 3 binomial standard errors of 95 %."""
    rng = np.random.default_rng(2026)
    trials = 60
    win_hits = mean_hits = 0
    for _ in range(trials):
        fit = fit_outcomes(*_outcome_sample(rng, 300, 0.3), stale=False, boot=5)
        win_hits += fit.win_ci[0] <= 0.3 <= fit.win_ci[1]
        # whole-day cycles are fitted at the middle of their day: the true mean is 30
        mean_hits += fit.won_mean_ci[0] <= 30.0 <= fit.won_mean_ci[1]
    tolerance = binomial_tolerance(0.95, trials)
    assert win_hits / trials == pytest.approx(0.95, abs=tolerance)
    assert mean_hits / trials == pytest.approx(0.95, abs=tolerance)


# -- budget: quantiles of payout across replications ---------------------------------------


def budget_results(payout: np.ndarray, bookings: float = 100.0) -> Results:
    """A run of len(payout) replications with those total payouts (one component each)."""
    n = len(payout)
    replication = np.arange(n)
    empty = pd.DataFrame()
    return Results(
        deals=empty,
        credits=empty,
        daily=empty,
        reps=empty,
        runs=pd.DataFrame({"replication": replication, "payout": payout, "bookings": bookings}),
        statements=pd.DataFrame(
            {"replication": replication, "component": "base_commission", "amount": payout}
        ),
    )


def test_budget_quantiles_by_hand():
    """Payouts 1..10: quantile q sits at position 9 q between order statistics, so P50 = 5.5,
    P90 = 9.1, P95 = 9.55, P99 = 9.91; 2 of 10 exceed a budget of 8; cost of sales 55 / 1000."""
    sizing = size_budget(budget_results(np.arange(1.0, 11.0)), budget=8.0, confidence=0.9)
    overview = sizing.overview.set_index("metric")["value"]
    expected = {"payout P50": 5.5, "payout P90": 9.1, "payout P95": 9.55, "payout P99": 9.91}
    for metric, value in expected.items():
        assert overview[metric] == pytest.approx(value, rel=1e-12), metric
    assert sizing.needed == pytest.approx(9.1)
    assert overview["budget needed at 90% confidence"] == pytest.approx(9.1)
    assert overview["probability of exceeding the budget"] == pytest.approx(0.2)
    assert overview["reserve (10%)"] == pytest.approx(0.8)
    assert overview["cost of sales"] == pytest.approx(0.055)
    assert overview["cost of sales within 3%-9%"] == 1.0
    assert overview["payout mean"] == pytest.approx(5.5)
    components = sizing.components.set_index("component")
    assert components.loc["base_commission", "p90"] == pytest.approx(9.1)


def test_budget_at_90_percent_covers_a_fresh_period_at_its_stated_rate():
    """The budget needed at 90 % from n = 20 replications is the linear-interpolated 90th
    percentile, at position 1 + 0.9 x 19 = 18.1 of 20; for continuous payouts a fresh
    period's payout stays under it with probability about 18.1 / 21 = 0.862 (just under 90 %
    with so few replications). 200 seeds of lognormal payouts, 3 binomial SE."""
    rng = np.random.default_rng(90)
    trials, n = 200, 20
    hits = 0
    for _ in range(trials):
        payout = rng.lognormal(12, 0.3, n)
        needed = size_budget(budget_results(payout), confidence=0.9).needed
        hits += rng.lognormal(12, 0.3) <= needed
    expected = 18.1 / 21
    assert hits / trials == pytest.approx(expected, abs=binomial_tolerance(expected, trials))

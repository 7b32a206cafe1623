"""The behaviour fit's moments on hand-computed histories (each rep against its own target
and its own pace) and their covariance on replications of known correlation."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from simplan.analysis.behaviour_moments import FLOOR, moment_covariance, moments, simulated_moments

PERIODS = pd.DataFrame(
    {
        "period": ["2025Q1"],
        "start": [pd.Timestamp("2025-01-01")],
        "end": [pd.Timestamp("2025-03-31")],
    }
)


def _deals(rows) -> pd.DataFrame:
    """A deals frame (rep_id, created, closed, won) from (rep, created, closed, won) rows."""
    rep, created, closed, won = zip(*rows, strict=True)
    return pd.DataFrame({"rep_id": list(rep), "created": pd.to_datetime(list(created)),
                         "closed": pd.to_datetime(list(closed)), "won": list(won)})  # fmt: skip


def test_moments_measure_each_rep_against_its_own_target_and_own_pace():
    """Two reps with targets 100 and 400 both book 200: one is at 200 %, the other at 50 %.
    Their paces, creation and win rates are read against their own means."""
    bookings = pd.DataFrame(
        {
            "rep_id": ["a", "a", "b", "b"],
            "date": pd.to_datetime(["2025-01-06", "2025-03-27", "2025-01-06", "2025-03-27"]),
            "amount": [100.0, 100.0, 100.0, 100.0],
        }
    )
    deals = _deals(
        [("a", "2025-01-02", "2025-01-06", True), ("a", "2025-03-17", "2025-03-27", True),
         ("b", "2025-01-02", "2025-01-06", True), ("b", "2025-03-17", "2025-03-27", True),
         ("b", "2025-03-18", "2025-03-26", False), ("b", "2025-03-19", None, False)]
    )  # fmt: skip
    targets = pd.Series(
        [100.0, 400.0],
        index=pd.MultiIndex.from_tuples(
            [("a", "2025Q1"), ("b", "2025Q1")], names=["rep_id", "period"]
        ),
    )
    m = moments(bookings, deals, targets, PERIODS)
    assert m["share_at_target"] == 0.5
    assert m["attainment_p50"] == pytest.approx((2.0 + 0.5) / 2)
    # 13 weeks; the last two weeks hold one deal of each rep: half of all bookings.
    assert m["last_weeks_share"] == pytest.approx(0.5)
    # After week 0, rep a stands at 100 % (band 3: 0.9-1.1), rep b at 25 % (band 0). Weeks
    # 1-6 have 7 or more weeks left (band w2) and book nothing in the next two weeks; at week
    # 11 (2 left, band w0) the next two weeks hold the deal of week 12: 100 of each rep's 200
    # in 13 weeks, 6.5 times half its mean two weeks' pace.
    assert m["count[a3,w2]"] == m["count[a0,w2]"] == 6
    assert m["pace[a3,w2]"] == m["pace[a0,w2]"] == 0.0
    assert m["pace[a3,w0]"] == m["pace[a0,w0]"] == pytest.approx(13 / 4)
    assert np.isnan(m["pace[a5,w0]"])
    assert sum(v for k, v in m.items() if k.startswith("count[")) == 2 * (13 - 2)
    # Creation in the next two weeks at weeks 7-10 (3-6 weeks left, band w1): a creates 1 in
    # week 10 of its 2 (a two weeks' mean of 4/13); b 2 in week 10 and 1 in week 11 of its 4
    # (8/13): seen from weeks 9 and 10.
    assert m["created[a3,w1]"] == pytest.approx((0 + 0 + 13 / 4 + 13 / 4) / 4)
    assert m["created[a0,w1]"] == pytest.approx((0 + 0 + 2 * 13 / 8 + 3 * 13 / 8) / 4)
    # Closes in weeks 11-12: a wins its one (own rate 1), b one of two (own rate 2/3; the
    # open deal does not count): 1 / (2 x 2/3).
    assert m["win[a3,w0]"] == pytest.approx(1.0)
    assert m["win[a0,w0]"] == pytest.approx(0.75)


def test_a_rep_with_no_bookings_counts_at_zero_attainment():
    bookings = pd.DataFrame(
        {"rep_id": ["a"], "date": [pd.Timestamp("2025-02-03")], "amount": [50.0]}
    )
    deals = _deals([("a", "2025-01-20", "2025-02-03", True)])
    targets = pd.Series(
        [100.0, 100.0],
        index=pd.MultiIndex.from_tuples(
            [("a", "2025Q1"), ("b", "2025Q1")], names=["rep_id", "period"]
        ),
    )
    m = moments(bookings, deals, targets, PERIODS)
    assert m["attainment_p10"] == pytest.approx(0.05)  # 10th percentile between 0 and 0.5
    assert m["share_at_target"] == 0.0
    # Band a0 with 7+ weeks left: a at weeks 1-4 (it stands at 50 % after week 4), b at 1-6.
    # b has no pace of its own to read against: its cells count but add no pace; a's deal of
    # week 4 is 6.5 times its two weeks' mean, seen from weeks 3 and 4.
    assert m["count[a0,w2]"] == 4 + 6
    assert m["pace[a0,w2]"] == pytest.approx((0 + 0 + 6.5 + 6.5) / 4)


def test_the_moments_covariance_keeps_a_real_correlation_and_shrinks_noise():
    """Replications of 36 points, 4 each: moments a and b correlate 0.6 (their spreads 0.1 and
    0.3), c is independent noise, d barely varies. The pooled estimate keeps the spreads, d's
    floored (all scaled to an unbiased precision), and a-b's correlation; among independent moments only, the correlations the
    sample shows by chance are shrunk most of the way to 0."""
    rng = np.random.default_rng(0)
    mixing = np.array([[0.1, 0.0], [0.3 * 0.6, 0.3 * 0.8]])
    frames, noise = [], []
    for level in np.linspace(0, 1, 36):
        ab = rng.standard_normal((4, 2)) @ mixing.T + level
        frames.append(pd.DataFrame({"a": ab[:, 0], "b": ab[:, 1], "c": rng.normal(level, 0.2, 4),
                                    "d": rng.normal(level, 1e-4, 4)}))  # fmt: skip
        noise.append(pd.DataFrame(rng.normal(level, 0.2, (4, 6)), columns=list("uvwxyz")))
    covariance = moment_covariance(frames, ["a", "b", "c", "d"])
    unbiased = 108 / (108 - 4 - 1)  # 144 replications of 36 points; 4 moments jointly
    sd = np.sqrt(np.diag(covariance) / unbiased)
    assert sd[:3] == pytest.approx([0.1, 0.3, 0.2], rel=0.15)  # 108 degrees of freedom
    assert sd[3] == pytest.approx(FLOOR)
    correlation = covariance / np.outer(sd, sd)
    assert correlation[0, 1] == pytest.approx(0.6, abs=0.1)
    assert abs(correlation[0, 2]) < 0.15
    assert abs(correlation[1, 2]) < 0.15
    assert np.all(np.linalg.eigvalsh(covariance) > 0)
    shrunk = moment_covariance(noise, list("uvwxyz"))
    off = ~np.eye(6, dtype=bool)
    deviations = np.vstack([f.to_numpy() - f.to_numpy().mean(axis=0) for f in noise])
    raw = np.corrcoef(deviations.T)
    shrunk = shrunk / np.sqrt(np.outer(np.diag(shrunk), np.diag(shrunk)))
    assert np.abs(shrunk[off]).max() < 0.5 * np.abs(raw[off]).max()


def test_a_closed_only_history_is_simulated_as_its_export_saw_it():
    """An export of closed deals holds no deal still open at its date: with `closed_only` a
    simulated history leaves its open deals out of the opportunities created too, as the
    export did; without it they count."""
    start = pd.Timestamp("2025-01-01")
    credits = pd.DataFrame({"replication": [0, 0], "rep_id": ["a", "a"],
                            "close_day": [5.0, 85.0], "amount": [100.0, 100.0]})  # fmt: skip
    deals = pd.DataFrame({"replication": [0, 0, 0], "rep_id": ["a", "a", "a"],
                          "created_day": [1.0, 75.0, 80.0], "close_day": [5.0, 85.0, np.nan],
                          "outcome": ["won", "won", "open"]})  # fmt: skip
    results = SimpleNamespace(credits=credits, deals=deals)
    targets = pd.Series([100.0], index=pd.MultiIndex.from_tuples([("a", "2025Q1")],
                                                                 names=["rep_id", "period"]))  # fmt: skip
    seen = simulated_moments(results, start, targets, PERIODS, closed_only=True).iloc[0]
    every = simulated_moments(results, start, targets, PERIODS).iloc[0]
    exported = _deals(
        [("a", "2025-01-02", "2025-01-06", True), ("a", "2025-03-17", "2025-03-27", True)]
    )
    bookings = pd.DataFrame({"rep_id": ["a", "a"], "amount": [100.0, 100.0],
                             "date": pd.to_datetime(["2025-01-06", "2025-03-27"])})  # fmt: skip
    expected = moments(bookings, exported, targets, PERIODS)
    created = [k for k in expected if k.startswith("created[") and np.isfinite(expected[k])]
    assert created
    assert all(seen[k] == pytest.approx(expected[k]) for k in created)
    assert any(every[k] != pytest.approx(expected[k]) for k in created)

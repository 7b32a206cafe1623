"""Every shipped lever and routing policy simulated against a paired baseline.

Each lever runs on the small scenario (relay and mentor pool off unless they are the lever)
on the same seed as the baseline, so the same customers arrive in both runs (common random
numbers) and what differs is the lever's doing. Each test asserts the size of the effect,
not only that the run finishes: the share of leads a policy moves, the lift it puts on
effort, the wins an offer saves, the cost it books.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from simplan import load_scenario, simulate
from simplan.scenario import Scenario, deep_merge

from .conftest import DATA

REPLICATIONS = 3
OFF = {"relay": {"enabled": False}, "mentor_pool": {"enabled": False}}


def variant(**override) -> Scenario:
    """The small scenario without relay and mentor pool, with `override` merged in."""
    base = load_scenario(DATA / "small.yaml").model_dump(by_alias=True, exclude_none=True)
    merged = deep_merge(base, {"routing": OFF})
    return Scenario.model_validate(deep_merge(merged, override))


def run(scenario: Scenario, replications: int = REPLICATIONS):
    return simulate(scenario, replications=replications, workers=1)


@pytest.fixture(scope="module")
def baseline():
    return run(variant())


def routed(results) -> pd.DataFrame:
    """Leads routed to the team (not self-sourced, referred or re-entering) in the window."""
    d = results.deals
    return d[(d["source"] == "new") & (d["created_day"] >= 0)]


def per_replication(frame: pd.DataFrame, column: str = "lead_id") -> pd.Series:
    return frame.groupby("replication")[column].count()


def window_days(results, phase: str) -> np.ndarray:
    """The window's day numbers in `phase` (from the daily table)."""
    daily = results.daily
    return np.sort(daily.loc[daily["phase"] == phase, "day"].unique())


def test_the_same_customers_arrive_under_every_lever(baseline):
    """The premise of the paired comparisons below: routed leads are identical across levers."""
    other = run(variant(routing={"policy": "round_robin"}))
    columns = ["replication", "lead_id", "tier", "created_day"]
    pd.testing.assert_frame_equal(
        routed(other)[columns].reset_index(drop=True),
        routed(baseline)[columns].reset_index(drop=True),
    )


# -- routing policies ------------------------------------------------------------------------


def test_round_robin_deals_new_leads_to_each_rep_in_turn(baseline):
    """Round robin: in order of arrival, each new lead goes to the rep after the previous
    lead's, so the counts per rep differ by at most one; least-loaded routing does not."""

    def steps(res) -> np.ndarray:
        leads = routed(res).sort_values(["replication", "created_day"])
        index = leads["first_rep_id"].str[1:].astype(int).to_numpy()
        same = leads["replication"].to_numpy()[1:] == leads["replication"].to_numpy()[:-1]
        return (np.diff(index) % 10)[same]

    assert (steps(run(variant(routing={"policy": "round_robin"}))) == 1).all()
    assert (steps(baseline) != 1).mean() > 0.5


def test_tier_priority_sends_a_leads_to_the_top_sellers(baseline):
    """Top 20 % by skill x capacity (2 of 10 reps) take A leads unless overloaded: far more than
    the 20 % least-loaded routing gives them."""
    results = run(variant(routing={"policy": "tier_priority", "top_seller_share": 0.2}))

    def top_share(res) -> pd.Series:
        reps = res.reps.drop_duplicates(["replication", "rep_id"])
        reps = reps.assign(power=reps["skill"] * reps["capacity_touches_per_day"])
        top = reps.sort_values("power", ascending=False).groupby("replication").head(2)
        a = routed(res)
        a = a[a["tier"] == "A"]
        is_top = a.set_index(["replication", "first_rep_id"]).index.isin(
            top.set_index(["replication", "rep_id"]).index
        )
        return pd.Series(is_top, index=a.index).groupby(a["replication"]).mean()

    assert (top_share(results) > 0.6).all(), top_share(results)
    assert (top_share(baseline) < 0.4).all(), top_share(baseline)


def test_share_routing_draws_leads_in_proportion_to_capacity():
    """Without a roster's lead shares, `share` routing draws each lead's owner with probability
    capacity / total capacity: each rep's count within 4 binomial standard errors."""
    results = run(variant(routing={"policy": "share"}), replications=2)
    reps = results.reps.drop_duplicates(["replication", "rep_id"]).set_index(
        ["replication", "rep_id"]
    )["capacity_touches_per_day"]
    d = results.deals[results.deals["source"] == "new"]
    counts = d.groupby(["replication", "first_rep_id"]).size()
    for replication, group in counts.groupby(level="replication"):
        capacity = reps.loc[replication]
        p = capacity / capacity.sum()
        n = group.sum()
        observed = group.droplevel(0).reindex(p.index, fill_value=0)
        z = (observed - n * p) / np.sqrt(n * p * (1 - p))
        assert z.abs().max() < 4, z


def test_a_response_red_line_answers_a_leads_first():
    """A 4-hour red line on A leads jumps them to the front of the queue under load: their
    median first response falls against the same customers without it."""
    loaded = {"team": {"capacity_touches_per_day": {"dist": "gamma", "mean": 3, "cv": 0.25}}}
    free = run(variant(**loaded))
    red = run(variant(**loaded, routing={"response_red_line_hours": 4}))

    def median_a(res) -> pd.Series:
        a = routed(res)
        return a[a["tier"] == "A"].groupby("replication")["first_response_hours"].median()

    assert (median_a(red) < 0.7 * median_a(free)).all(), (median_a(red), median_a(free))


# -- relay and mentor pool -----------------------------------------------------------------


def test_relay_moves_idle_leads_and_splits_their_credit():
    """After 2 idle days a lead relays to another rep; won relayed deals credit the closer 60 %
    and the first owner 40 %. Without the relay no lead changes hands."""
    loaded = {"team": {"capacity_touches_per_day": {"dist": "gamma", "mean": 3, "cv": 0.25}}}
    base = run(variant(**loaded))
    relay = run(variant(**loaded, routing={"relay": {"enabled": True, "idle_days": 2}}))
    assert (base.deals["rep_id"] == base.deals["first_rep_id"]).all()
    moved = relay.deals[relay.deals["rep_id"] != relay.deals["first_rep_id"]]
    assert (per_replication(moved) > 10).all()
    won = moved[moved["outcome"] == "won"][["replication", "lead_id", "rep_id", "first_rep_id"]]
    credits = relay.credits.merge(won.rename(columns={"rep_id": "closer"}))
    assert len(credits) > 0
    closer = credits[credits["rep_id"] == credits["closer"]]
    first = credits[credits["rep_id"] == credits["first_rep_id"]]
    assert len(closer) + len(first) == len(credits)
    np.testing.assert_allclose(closer["share"], 0.6)
    np.testing.assert_allclose(first["share"], 0.4)


def test_mentor_pool_routes_a_share_of_leads_to_new_hires_and_credits_their_mentors(baseline):
    """20 % of routed leads go to a mentored new hire; each such deal, once won, credits the
    mentor 20 % and the new hire 80 %. So about 20 % of won routed deals carry a mentor's
    credit (3 binomial standard errors over the replications' wins), and none do without
    the pool."""
    pooled = run(variant(routing={"mentor_pool": {"enabled": True, "share_of_leads": 0.2}}))

    def mentored(res) -> pd.DataFrame:
        reps = res.reps.drop_duplicates(["replication", "rep_id"])
        mentor_of = reps.dropna(subset=["mentor_id"])[["replication", "rep_id", "mentor_id"]]
        won = routed(res)
        won = won[won["outcome"] == "won"][["replication", "lead_id", "rep_id"]]
        owner_mentor = won.merge(mentor_of)[["replication", "lead_id", "mentor_id"]]
        credits = res.credits.merge(owner_mentor)
        return credits[credits["rep_id"] == credits["mentor_id"]], len(won)

    credited, won = mentored(pooled)
    np.testing.assert_allclose(credited["share"], 0.2)
    share = credited["lead_id"].count() / won
    assert abs(share - 0.2) < 3 * math.sqrt(0.2 * 0.8 / won), (share, won)
    assert len(mentored(baseline)[0]) == 0


# -- strike teams and squad first pick -------------------------------------------------------


def test_strike_teams_put_a_top_seller_and_a_supporter_on_big_leads():
    """A leads of 25,000 or more go to a top seller with a supporter: won ones credit the
    supporter 30 %, the owner 70 %, and the owner is one of the two top sellers."""
    strike = {
        "strike_teams": {"enabled": True, "min_deal_size": 25000, "support_credit_share": 0.3}
    }
    results = run(variant(routing=strike))
    credits = results.credits
    split = credits[credits.groupby(["replication", "lead_id"])["rep_id"].transform("size") == 2]
    assert split["lead_id"].nunique() > 5
    np.testing.assert_allclose(np.sort(split["share"].unique()), [0.3, 0.7])
    reps = results.reps.drop_duplicates(["replication", "rep_id"])
    reps = reps.assign(power=reps["skill"] * reps["capacity_touches_per_day"])
    top = reps.sort_values("power", ascending=False).groupby("replication").head(2)
    owners = split[np.isclose(split["share"], 0.7)]
    assert (
        owners.set_index(["replication", "rep_id"])
        .index.isin(top.set_index(["replication", "rep_id"]).index)
        .all()
    )


def test_strike_teams_win_more_big_deals():
    """The strike team's win uplift (+50 % here) against the same strike teams without it. With
    every rep's deal-size multiplier 1 a won deal books its lead's own size, so the big leads
    (15,000 and up) are the same customers in both runs: their wins rise by close to half (less
    where p x 1.5 would pass 1): more than 3 standard errors of the paired replications above
    none, and not above half."""

    def big_wins(uplift: float) -> pd.Series:
        teams = {"enabled": True, "min_deal_size": 15000, "win_uplift": uplift}
        res = run(variant(team={"skill": 1.0}, routing={"strike_teams": teams}), replications=6)
        won = routed(res)
        won = won[(won["outcome"] == "won") & (won["amount"] >= 15000)]
        return per_replication(won)

    ratio = big_wins(0.5) / big_wins(0.0)
    mean, se = ratio.mean(), ratio.std(ddof=1) / math.sqrt(len(ratio))
    assert mean - 3 * se > 1.0, ratio
    assert mean < 1.5 + 3 * se, ratio


def test_squad_first_pick_gives_the_weeks_winning_squad_the_a_leads(baseline):
    """From day 7 on, A leads created in a week go to the squad that booked most in the week
    before (when one booked anything): nearly all of them, against half without the lever."""
    pick = run(variant(team={"squad_size": 5}, routing={"squad_first_pick": {"enabled": True}}))

    def winner_share(res) -> float:
        squads = res.reps.drop_duplicates(["replication", "rep_id"])[
            ["replication", "rep_id", "squad"]
        ]
        daily = res.daily.merge(squads)
        leads = routed(res)
        leads = leads[leads["tier"] == "A"].merge(squads.rename(columns={"rep_id": "first_rep_id"}))
        hits = total = 0
        for (replication, week), group in leads.groupby(
            [leads["replication"], (leads["created_day"] // 7).astype(int)]
        ):
            before = daily[(daily["replication"] == replication) & (daily["day"] // 7 == week - 1)]
            by_squad = before.groupby("squad")["bookings"].sum()
            if week < 1 or by_squad.max() <= 0:
                continue
            hits += (group["squad"] == by_squad.idxmax()).sum()
            total += len(group)
        return hits / total

    assert winner_share(pick) > 0.95
    assert 0.3 < winner_share(baseline) < 0.7


# -- phase levers ------------------------------------------------------------------------------


def test_close_out_offer_saves_late_losses_at_its_cost():
    """In a close-out half the sprint long, A and C leads lost at negotiation are saved with probability the uplift
    buys; each saved deal costs 3,000. The extra wins against the baseline match the count
    of saved deals within 3 standard errors, and the lever cost is exactly 3,000 each."""
    long_close = {"sprint": {"phases": {"build": {"share": 0.2}, "burst": {"share": 0.3},
                                        "close_out": {"share": 0.5}}}}  # fmt: skip
    offer = {"close_out_offer": {"enabled": True, "tiers": ["A", "C"], "win_uplift": 1.0}}
    baseline = run(variant(calendar=long_close))
    results = run(variant(calendar={**long_close, "levers": offer}))
    d = results.deals
    saved = d[d["lever_cost"] > 0]
    assert saved["tier"].isin(["A", "C"]).all()
    assert (saved["outcome"] == "won").all()
    np.testing.assert_allclose(saved["lever_cost"], 3000.0)
    close_out = window_days(results, "close_out")
    assert np.isin(np.floor(saved["close_day"]).astype(int), close_out).mean() > 0.9
    n_saved = per_replication(saved).reindex(range(REPLICATIONS), fill_value=0)
    assert (n_saved > 0).all()

    def wins(res) -> pd.Series:
        w = res.deals[res.deals["outcome"] == "won"]
        return per_replication(w).reindex(range(REPLICATIONS), fill_value=0)

    extra = wins(results) - wins(baseline) - n_saved
    # the saved deals shift loads and so owners a little: the rest is noise of whole deals
    se = max(extra.std(ddof=1), 1.0) / math.sqrt(REPLICATIONS)
    assert abs(extra.mean()) < 3 * se, (extra, n_saved)
    window_cost = (
        d[(d["close_day"] >= 0) & (d["lever_cost"] > 0)].groupby("replication")["lever_cost"].sum()
    )
    assert results.runs.set_index("replication")["lever_cost"].to_numpy() == pytest.approx(
        window_cost.reindex(range(REPLICATIONS), fill_value=0).to_numpy()
    )


def test_referral_contest_adds_leads_in_the_close_out_and_pays_per_won_referral(baseline):
    """10 extra C leads a working close-out day: the referral count is Poisson around 10 x the
    working close-out days (within 4 sd), only in the close-out, and each won one pays 200."""
    contest = {"referral_contest": {"enabled": True, "tier": "C", "extra_leads_per_day": 10}}
    results = run(variant(calendar={"levers": contest}))
    d = results.deals
    referred = d[(d["source"] == "referral") & (d["created_day"] >= 0)]
    days = results.daily.drop_duplicates("day")
    working = days[(days["phase"] == "close_out") & (days["date"].dt.day_of_week < 5)]["day"]
    assert np.isin(np.floor(referred["created_day"]).astype(int), working).all()
    expected = 10 * len(working)
    counts = per_replication(referred).reindex(range(REPLICATIONS), fill_value=0)
    assert (abs(counts - expected) < 4 * math.sqrt(expected)).all(), (counts, expected)
    assert (referred["tier"] == "C").all()
    won = d[(d["source"] == "referral") & (d["outcome"] == "won")]
    np.testing.assert_allclose(won["lever_cost"], 200.0)
    assert (d.loc[d["source"] != "referral", "lever_cost"] == 0).all()
    pd.testing.assert_series_equal(
        per_replication(routed(results)), per_replication(routed(baseline))
    )


@pytest.mark.parametrize("engine", ["events", "fast"])
def test_leaderboard_lifts_burst_effort_by_its_multiplier_and_costs_its_prizes(engine):
    """Constant effort 1: with the leaderboard, effort is 1.05 on every burst day and 1
    elsewhere; its cost is 100 a working burst day of the window, on top of the baseline's."""
    fast = {"simulation": {"engine": engine}}
    board = {"leaderboard": {"enabled": True, "effort_multiplier": 1.05, "prize_per_day": 100}}
    base = run(variant(**fast), replications=2)
    lifted = run(variant(**fast, calendar={"levers": board}), replications=2)
    daily = lifted.daily
    burst = daily["phase"] == "burst"
    np.testing.assert_allclose(daily.loc[burst, "effort"], 1.05 * base.daily.loc[burst, "effort"])
    np.testing.assert_allclose(daily.loc[~burst, "effort"], base.daily.loc[~burst, "effort"])
    burst_working = daily[burst & (daily["replication"] == 0)].drop_duplicates("day")
    working = burst_working["date"].dt.day_of_week < 5
    cost = lifted.runs["lever_cost"] - base.runs["lever_cost"]
    np.testing.assert_allclose(cost, 100.0 * working.sum())


# -- every shipped scenario against its paired baseline --------------------------------------

SCENARIOS = DATA.parent.parent / "scenarios"
PROPOSALS = sorted(p.stem for p in (SCENARIOS / "proposals").glob("*.yaml"))


def fast(path) -> Scenario:
    scenario = load_scenario(path)
    return scenario.model_copy(
        update={"simulation": scenario.simulation.model_copy(update={"engine": "fast"})}
    )


@pytest.fixture(scope="module")
def quarter():
    return simulate(fast(SCENARIOS / "baseline_quarter.yaml"), replications=1, workers=1)


def sourced_by_rep_day(results) -> pd.Series:
    d = results.deals
    d = d[(d["source"] == "self_sourced") & (d["created_day"] >= 0)]
    day = np.floor(d["created_day"]).astype(int)
    return d.groupby([d["first_rep_id"], day]).size()


@pytest.mark.parametrize("name", PROPOSALS)
def test_each_proposal_moves_effort_and_effort_moves_its_pipeline(quarter, name):
    """Each shipped proposal against the baseline quarter on the same seed: the same routed
    customers; reps' effort moves with the plan; and the self-sourced leads follow that effort
    at the scenario's elasticity. The baseline's self-sourced leads per rep and day, scaled by
    (proposal effort / baseline effort) ** elasticity, predict the proposal's total within 3
    standard errors of the coupled counts (the extra or missing leads are Poisson in the gap
    between the two rates, and the scaling adds the baseline counts' own noise)."""
    scenario = fast(SCENARIOS / "proposals" / f"{name}.yaml")
    results = simulate(scenario, replications=1, workers=1)
    columns = ["lead_id", "tier", "created_day"]
    pd.testing.assert_frame_equal(
        routed(results)[columns].reset_index(drop=True),
        routed(quarter)[columns].reset_index(drop=True),
    )
    effort = lambda r: r.daily.set_index(["rep_id", "day"])["effort"]  # noqa: E731
    ratio = (effort(results) / effort(quarter)) ** scenario.production.sourcing_elasticity
    assert (ratio - 1).abs().mean() > 0.05, "the plan moves effort away from the baseline's"
    base = sourced_by_rep_day(quarter).reindex(ratio.index, fill_value=0)
    predicted = float((base * ratio).sum())
    observed = float(sourced_by_rep_day(results).sum())
    variance = float((base * (ratio - 1).abs()).sum() + (base * (ratio - 1) ** 2).sum())
    assert abs(observed - predicted) < 3 * math.sqrt(variance), (observed, predicted)
    assert results.runs["payout"].iloc[0] > 0


def test_retail_month_levers_against_the_same_month_without_them():
    """The retail month's referral contest and leaderboard against the same month with both
    off: 3 referred B leads a working close-out day (Poisson, 4 sd), 200 a won referral, effort
    1.05 times the baseline's on burst days and equal elsewhere, prizes of 150 a working burst
    day."""
    with_levers = fast(SCENARIOS / "retail_month.yaml")
    levers = with_levers.calendar.levers
    off = with_levers.calendar.model_copy(
        update={
            "levers": levers.model_copy(
                update={
                    "referral_contest": levers.referral_contest.model_copy(
                        update={"enabled": False}
                    ),
                    "leaderboard": levers.leaderboard.model_copy(update={"enabled": False}),
                }
            )
        }
    )
    results = simulate(with_levers, replications=2, workers=1)
    base = simulate(with_levers.model_copy(update={"calendar": off}), replications=2, workers=1)
    daily = results.daily
    burst = (daily["phase"] == "burst").to_numpy()
    np.testing.assert_allclose(daily["effort"][burst], 1.05 * base.daily["effort"][burst])
    np.testing.assert_allclose(daily["effort"][~burst], base.daily["effort"][~burst])
    days = daily[daily["replication"] == 0].drop_duplicates("day")
    working = days["date"].dt.day_of_week < 6  # Monday to Saturday
    close_out = days[(days["phase"] == "close_out") & working]["day"].to_numpy()
    burst_days = int(((days["phase"] == "burst") & working).sum())
    d = results.deals
    referred = d[(d["source"] == "referral") & (d["created_day"] >= 0)]
    assert np.isin(np.floor(referred["created_day"]).astype(int), close_out).all()
    expected = 3 * len(close_out)
    counts = per_replication(referred).reindex([0, 1], fill_value=0)
    assert (abs(counts - expected) < 4 * math.sqrt(expected)).all(), (counts, expected)
    assert (counts > 0).all(), "no referral at all, where about 3 x the close-out days are expected"
    won = referred[referred["outcome"] == "won"]
    np.testing.assert_allclose(won["lever_cost"], 200.0)
    in_window = d[(d["close_day"] >= 0) & (d["close_day"] < with_levers.calendar.days)]
    rewards = in_window.groupby("replication")["lever_cost"].sum().reindex([0, 1], fill_value=0)
    np.testing.assert_allclose(
        results.runs["lever_cost"].to_numpy(), rewards.to_numpy() + 150.0 * burst_days
    )
    assert (base.runs["lever_cost"] == 0).all()

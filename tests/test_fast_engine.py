"""The fast engine: the same records as the reference, its shared rules, and statistical
equality with the event engine on every shipped scenario and a calibrated-style one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, poisson

from simplan import load_results, load_scenario, simulate
from simplan.engines import events, fast
from simplan.engines.fast.answers import ANSWER_GROUPS, answers_by_outcome
from simplan.engines.fast.relay import relay_owners, relay_stale
from simplan.engines.fast.serving import Queues
from simplan.engines.fast.sourcing import CustomerDraws, SourcedCustomers
from simplan.engines.fast.table import ANSWERED, COLUMNS, CONTACTED, ROW_BYTES, LeadTable
from simplan.errors import SimplanError
from simplan.model.calendar import build_calendar
from simplan.model.day import fill_least_loaded, route_day
from simplan.model.production import sourced_counts
from simplan.model.randomness import replication_seeds, team_seed
from simplan.model.routing import Router, RoutingState, least_loaded
from simplan.model.team import build_team
from simplan.scenario import Scenario
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(
    str(p.relative_to(ROOT / "scenarios"))
    for p in [*ROOT.glob("scenarios/*.yaml"), *ROOT.glob("scenarios/proposals/*.yaml")]
)
EVENT_REPLICATIONS, FAST_REPLICATIONS = 10, 30
"""Per scenario: the 3-standard-error check then flags a gap in means of about 1.1 standard
deviations of a replication's figure (3 x sqrt(1/10 + 1/30)), and the KS test at 1 % a
shift of about 1.6 (critical D 0.59). The cost is the event engine's replications and
the fast engine's payouts (about 60 ms a replication)."""
REFERENCE_REPLICATIONS = {"retail_month.yaml": 30}
"""Scenarios cheap enough for a larger reference (retail_month: 24 reps over a month). Its
first ten event replications alone sit 3 standard errors below the engine's mean on the
last-two-weeks share (0.435 against 0.463 +- 0.003 over 80 event replications; the fast
engine 0.465 +- 0.002 over 300)."""
SHORT = {"calendar": {"days": 31, "warmup_days": 30}}
"""Quarter scenarios are run over one month after a month of warm-up, with half the team
and half the leads (the same leads per rep), to keep the file under a minute."""


def _override(scenario: Scenario, changes: dict) -> Scenario:
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    for key, value in changes.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return Scenario.model_validate(data)


def _calibrated_style() -> Scenario:
    """What `simplan calibrate` produces: a roster with lead shares, share routing, and reps
    who plan ahead under the plan in force."""
    base = load_scenario(ROOT / "scenarios/proposals/gate80_cap150.yaml")
    rng = np.random.default_rng(4)
    roster = [
        {
            "rep_id": f"r{i:02d}",
            "tenure_days": int(rng.integers(30, 2000)),
            "capacity_touches_per_day": float(rng.gamma(16, 10 / 16)),
            "skill": float(rng.lognormal(0, 0.15)),
            "quota": 93000.0,
            "lead_share": float(rng.lognormal(0, 0.4)),
        }
        for i in range(50)
    ]
    team = {"roster": roster, "quota": {"per_period": 93000}}
    return _override(
        base,
        {
            "name": "calibrated_style",
            "team": team,
            "routing": {"policy": "share", "mentor_pool": {"enabled": False}},
            "behaviour": {"model": "optimising"},
            **SHORT,
        },
    )


def _halved(scenario: Scenario) -> Scenario:
    """The scenario over one month with half the team and half of every lead stream."""
    data = scenario.model_dump(by_alias=True, exclude_none=True)
    data["calendar"] |= SHORT["calendar"]
    if "roster" in data["team"]:
        data["team"]["roster"] = data["team"]["roster"][::2]
    else:
        data["team"]["size"] //= 2
    for stream in [*data["leads"]["tiers"], *data["leads"]["sources"]]:
        stream["arrivals_per_day"] /= 2
    return Scenario.model_validate(data)


def _scenario(name: str) -> Scenario:
    if name == "calibrated_style":
        return _halved(_calibrated_style())
    scenario = load_scenario(ROOT / "scenarios" / name)
    return _halved(scenario) if scenario.calendar.days > 31 else scenario


def replication_figures(results, scenario: Scenario) -> pd.DataFrame:
    """One row per replication: the figures a planner reads, from the tables alone."""
    cal = build_calendar(scenario.calendar)
    runs = results.runs.set_index("replication")
    out = pd.DataFrame(
        {
            "bookings": runs["bookings"],
            "median_first_response_hours": runs["median_first_response_hours"],
            "share_at_target": runs["share_at_target"],
        }
    )
    if "payout" in runs:
        out["payout"] = runs["payout"]
    deals = results.deals
    closed = deals[deals["outcome"] != "open"]
    win = closed.assign(won=closed["outcome"] == "won")
    by_tier = win.groupby(["replication", "tier"], observed=True)["won"].mean().unstack()
    for tier in by_tier:
        out[f"win_rate_{tier}"] = by_tier[tier]
    won = deals[deals["outcome"] == "won"]
    out["won_cycle_days"] = won.groupby("replication")["cycle_days"].median()
    daily = results.daily
    day = daily["day"].to_numpy() + cal.first_day
    late = np.where(cal.plan_period.end_day[day] - day <= 14, daily["bookings"], 0.0)
    sums = daily.assign(late=late).groupby("replication")[["late", "bookings"]].sum()
    out["last_two_weeks_share"] = sums["late"] / sums["bookings"]
    return out


@pytest.fixture(scope="module", params=[*SHIPPED, "calibrated_style"])
def both_engines(request) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """Both engines on the same team (one seed), on different customers: the fast engine's
    first replications (the reference's customers) are left out."""
    scenario = _scenario(request.param)
    events_n = REFERENCE_REPLICATIONS.get(request.param, EVENT_REPLICATIONS)
    reference = simulate(scenario, replications=events_n, seed=101, workers=1)
    quick = simulate(
        scenario,
        replications=events_n + FAST_REPLICATIONS,
        seed=101,
        workers=1,
        engine="fast",
    )
    figures = replication_figures(quick, scenario)
    return (
        request.param,
        replication_figures(reference, scenario),
        figures[figures.index >= events_n],
    )


def test_engines_agree_in_distribution(both_engines):
    """Means within 3 standard errors, and a two-sample KS test not rejecting at 1 %."""
    name, reference, quick = both_engines
    assert list(reference.columns) == list(quick.columns)
    misses = []
    for figure in reference:
        a, b = reference[figure].dropna(), quick[figure].dropna()
        se = np.sqrt(a.var() / len(a) + b.var() / len(b))
        gap = abs(b.mean() - a.mean())
        p = ks_2samp(a, b).pvalue
        if gap > 3 * se + 1e-12 or p < 0.01:
            misses.append(f"{figure}: events {a.mean():.4g}, fast {b.mean():.4g}, KS p {p:.3f}")
    assert not misses, f"{name}: " + "; ".join(misses)


# -- the records and the shared rules ------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    scenario = _scenario("retail_month.yaml")
    team = build_team(scenario.team, np.random.default_rng(team_seed(scenario.simulation.seed)))
    calendar = build_calendar(scenario.calendar)
    seq = replication_seeds(7, 1)[0]
    return scenario, team, calendar, seq


def test_same_records_schema_and_routed_customers(small):
    ref = events.run_replication(*small)
    got = fast.run_replication(*small)
    for part in ("deals", "credits", "daily"):
        mine, theirs = getattr(got, part), getattr(ref, part)
        assert mine.keys() == theirs.keys()
        for key in mine:
            assert mine[key].dtype.kind == theirs[key].dtype.kind, (part, key)
    assert got.daily["touches"].shape == ref.daily["touches"].shape
    # Common random numbers: the routed customers are the same leads in both engines.
    routed = ref.source_names.index("new")
    same = ref.deals["source"] == routed
    mine = got.deals["source"] == got.source_names.index("new")
    np.testing.assert_array_equal(got.deals["created_day"][mine], ref.deals["created_day"][same])


def test_fast_replication_invariants(small):
    rec = fast.run_replication(*small)
    d, c = rec.deals, rec.credits
    won = d["outcome"] == 2
    assert won.any()
    assert (d["amount"][won] > 0).all()
    assert (d["amount"][~won] == 0).all()
    # Credit shares sum to 1 per won deal, and credited amounts to the deal amount.
    shares = np.bincount(c["lead_id"], weights=c["share"], minlength=len(d["lead_id"]))
    np.testing.assert_allclose(shares[won], 1.0)
    np.testing.assert_allclose(rec.daily["bookings"].sum(), d["amount"][won].sum())
    closed = ~np.isnan(d["close_day"])
    assert (d["close_day"][closed] >= d["created_day"][closed]).all()
    # A rep never touches more than its day's budget of touches.
    _, team, calendar, _ = small
    budget = np.floor(team.capacity[None, :] * rec.daily["effort"] + 1e-9)
    assert (rec.daily["touches"] <= budget * calendar.is_working[:, None]).all()


def test_same_seed_same_tables():
    scenario = _scenario("retail_month.yaml")
    a = simulate(scenario, replications=2, seed=3, workers=1, engine="fast")
    b = simulate(scenario, replications=2, seed=3, workers=1, engine="fast")
    pd.testing.assert_frame_equal(a.deals, b.deals)
    pd.testing.assert_frame_equal(a.daily, b.daily)


@pytest.mark.parametrize("name", ["proposals/gate80_cap150.yaml", "calibrated_style"])
def test_tables_do_not_depend_on_batch_or_workers(name):
    """A batch advances its replications together, each on its own streams and reps: batch
    1, batch 7 and two workers give identical tables (myopic reps with relays, the mentor
    pool and deal timing; reps who plan ahead, routed by share)."""
    scenario = _scenario(name)
    one = simulate(scenario, replications=9, seed=3, workers=1, engine="fast", batch=1)
    seven = simulate(scenario, replications=9, seed=3, workers=1, engine="fast", batch=7)
    two = simulate(scenario, replications=9, seed=3, workers=2, engine="fast")
    assert seven.manifest["batch"] == 7
    assert one.runs["bookings"].nunique() == 9
    if name != "calibrated_style":
        assert one.runs["relays"].sum() > 0
        assert (one.deals["timing"] != "on_time").any()
    for other in (seven, two):
        for name, table in one.tables().items():
            pd.testing.assert_frame_equal(table, getattr(other, name), obj=name)


def test_kept_draws_give_the_records_of_fresh_ones(monkeypatch):
    """A worker keeps a batch's plan-free draws: plans run one after the other on the same
    seed (a design's candidates) reuse them and get the records they get with fresh draws,
    however many customers an earlier plan's reps sourced; a change to the leads draws anew."""
    from simplan.engines.fast import drawn

    base = _scenario("proposals/gate80_cap150.yaml")
    plan = base.model_dump(by_alias=True, exclude_none=True)["plan"]
    for component in plan["components"]:
        if component["type"] == "tiered_commission":
            component["tiers"][0]["rate"] = 0.2  # reps respond: more effort, more sourcing
    cheap = _override(base, {"plan": plan})
    team = build_team(base.team, np.random.default_rng(team_seed(3)))
    calendar = build_calendar(base.calendar)
    seqs = replication_seeds(3, 4)
    fresh = {}
    for name, scenario in (("base", base), ("cheap", cheap)):
        monkeypatch.setattr(drawn, "_KEPT", {})
        monkeypatch.setattr(drawn, "_SEEN", {})
        fresh[name] = fast.run_batch(scenario, team, calendar, seqs)
    assert not np.array_equal(fresh["base"][0].daily["effort"], fresh["cheap"][0].daily["effort"])
    monkeypatch.setattr(drawn, "_KEPT", {})
    monkeypatch.setattr(drawn, "_SEEN", {})
    for k, name in enumerate(("cheap", "base", "cheap", "base")):
        kept = fast.run_batch(base if name == "base" else cheap, team, calendar, seqs)
        assert len(drawn._KEPT) == min(k, 1)  # kept from the second time on
        for a, b in zip(kept, fresh[name], strict=True):
            for key, column in a.deals.items():
                np.testing.assert_array_equal(column, b.deals[key], err_msg=key)
            for key, column in a.daily.items():
                np.testing.assert_array_equal(column, b.daily[key], err_msg=key)
    more = _override(base, {"leads": {"tiers": [
        {**t, "arrivals_per_day": t["arrivals_per_day"] * 1.1}
        for t in base.model_dump(by_alias=True)["leads"]["tiers"]
    ]}})  # fmt: skip
    for k in (1, 2):
        fast.run_batch(more, team, calendar, seqs)
        assert len(drawn._KEPT) == k


def test_batches_keep_one_parameter_draw_each():
    from simplan.runner import batches

    assert batches(7, 1, 3) == [[0, 1, 2], [3, 4, 5], [6]]
    assert batches(7, 2, 3) == [[0, 2, 4], [1, 3, 5], [6]]


def test_fill_least_loaded_is_the_greedy_rule():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n, k = int(rng.integers(2, 12)), int(rng.integers(1, 40))
        state = RoutingState(rng.integers(0, 20, n).astype(float), rng.uniform(5, 15, n))
        pool = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
        expected, greedy = [], RoutingState(state.open_leads.copy(), state.capacity)
        for _ in range(k):
            rep = least_loaded(greedy, pool)
            expected.append(rep)
            greedy.open_leads[rep] += 1
        got = fill_least_loaded(state.open_leads[None, :], state.capacity, pool, np.array([k]))
        np.testing.assert_array_equal(got, expected)


def test_fill_least_loaded_ties_go_to_the_lower_slot():
    """With tied next loads (equal capacities) the k smallest are taken in slot order (rep,
    then its j-th next lead): the same owners as a full stable sort of the slots."""
    rng = np.random.default_rng(5)
    for _ in range(200):
        n, k = int(rng.integers(1, 12)), int(rng.integers(1, 40))
        state = RoutingState(rng.integers(0, 6, n).astype(float), rng.choice([5.0, 10.0], n))
        pool = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
        slots = (state.open_leads[pool][:, None] + np.arange(k)) / state.capacity[pool][:, None]
        expected = pool[np.argsort(slots, axis=None, kind="stable")[:k] // k]
        got = fill_least_loaded(state.open_leads[None, :], state.capacity, pool, np.array([k]))
        np.testing.assert_array_equal(got, expected)


def test_serve_queues_is_each_reps_first_in_first_out_queue():
    """The compiled serving loop against the rule written plainly: per rep, touches in
    order of request (then lead id), each starting when the rep is free, started before
    `until` and ended by `close`; the touches joined in any order, some in a second batch,
    and those not served left in the queue for the next pass."""
    rng = np.random.default_rng(2)
    for _ in range(50):
        reps, k = int(rng.integers(1, 6)), int(rng.integers(0, 40))
        requested = np.round(rng.uniform(0.0, 1.0, k), 1)  # ties in request times
        owner = rng.integers(0, reps, k)
        lead = rng.permutation(k)
        free = rng.uniform(0.0, 0.6, reps)
        duration = rng.uniform(0.02, 0.2, reps)
        until, close = 0.7, 0.9
        expected_free, expected = free.copy(), []
        for rep in range(reps):
            mine = [i for i in range(k) if owner[i] == rep and requested[i] < until]
            end = free[rep]
            for i in sorted(mine, key=lambda i: (requested[i], lead[i])):
                start = max(requested[i], end)
                if free[rep] >= until or start >= until or start + duration[rep] > close:
                    break
                end = start + duration[rep]
                expected.append((lead[i], end))
            expected_free[rep] = end
        queues, half = Queues(), k // 2
        queues.join(lead[:half], requested[:half], owner[:half])
        queues.join(lead[half:], requested[half:], owner[half:])
        mode = np.zeros(k, dtype=np.int64)
        served, ends = queues.serve(free, duration, until, close, mode, 2)
        assert [int(i) for i in served] == [i for i, _ in expected]
        np.testing.assert_array_equal(ends, [e for _, e in expected])
        np.testing.assert_array_equal(free, expected_free)
        assert sorted(mode.nonzero()[0]) == sorted(served)
        assert (mode[served] == 2).all()
        left = sorted(set(range(k)) - set(served.tolist()))
        waiting, at, _ = queues.waiting()
        assert sorted(waiting.tolist()) == left
        position = np.argsort(lead)[waiting]  # the queue stays in service order
        keys = list(zip(owner[position], requested[position], waiting, strict=True))
        assert keys == sorted(keys)
        np.testing.assert_array_equal(at, requested[position])


def test_queues_over_many_passes_are_each_reps_queue():
    """Passes with touches joined between them (rows that shift back and grow their room,
    some touches a relay takes out): each pass serves what a plain per-rep queue, kept
    sorted, serves, and the queues wait in service order."""
    rng = np.random.default_rng(3)
    for trial in range(20):
        reps, leads = int(rng.integers(1, 8)), 3000
        queues, plain = Queues(), {}  # plain: rep -> [(requested, lead)]
        free, duration = np.zeros(reps), rng.uniform(0.002, 0.02, reps)
        mode, next_lead = np.zeros(leads, dtype=np.int8), 0
        for p in range(40):
            k = int(rng.integers(0, 120))
            lead = np.arange(next_lead, next_lead + k)[rng.permutation(k)]
            next_lead += k
            at, owner = np.round(rng.uniform(0, (p + 1) / 40, k), 2), rng.integers(0, reps, k)
            queues.join(lead, at, owner)
            for i, a, o in zip(lead.tolist(), at.tolist(), owner.tolist(), strict=True):
                plain.setdefault(o, []).append((a, i))
            until, expected, expected_free = (p + 1) / 40, [], free.copy()
            for rep in range(reps):
                end, queue = free[rep], sorted(plain.get(rep, []))
                while queue:
                    start = max(queue[0][0], end)
                    if start >= until or start + duration[rep] > 1.0:
                        break
                    end = start + duration[rep]
                    expected.append((queue.pop(0)[1], end))
                plain[rep], expected_free[rep] = queue, end
            served, ends = queues.serve(free, duration, until, 1.0, mode, 2)
            assert served.tolist() == [i for i, _ in expected]
            np.testing.assert_array_equal(ends, [e for _, e in expected])
            np.testing.assert_array_equal(free, expected_free)
            if trial % 2 and p % 10 == 9:  # a relay: take out the oldest waiting touches
                day, idle = until, until / 2  # stale: day - requested >= idle
                stale = [
                    i for _, q in sorted(plain.items()) for a, i in q if day - a >= idle
                ]  # rep by rep in service order
                taken = queues.take_stale(day, idle)
                for rep in plain:
                    plain[rep] = [(a, i) for a, i in plain[rep] if day - a < idle]
                assert taken.tolist() == stale
            lead_w, at_w, owner_w = queues.waiting()
            keys = list(zip(owner_w.tolist(), at_w.tolist(), lead_w.tolist(), strict=True))
            assert keys == sorted((o, a, i) for o, q in plain.items() for a, i in q)


def test_answers_by_outcome_groups_the_plain_masks():
    """The compiled grouping of a pass's answers against the masks written plainly: lost
    after contact or proposal first, then each wait's next step; the lost and the
    negotiations' ends (whose closes are summed in order) in order of arrival."""
    rng = np.random.default_rng(4)
    for _ in range(30):
        leads, k = 60, int(rng.integers(0, 40))
        rank = rng.permutation(leads)
        then = rng.integers(0, 5, leads).astype(np.int8)
        fate = rng.integers(0, 4, leads).astype(np.int8)
        mode = np.zeros(leads, dtype=np.int8)
        ids = rng.choice(leads, k, replace=False)
        due = rng.uniform(0, 1, k)
        got, at, bounds = answers_by_outcome(ids, due, rank, then, fate, mode, 2)
        order = np.argsort(rank[ids])
        ids, due = ids[order], due[order]
        t, f = then[ids], fate[ids]
        lost = ((t == CONTACTED) & (f == 0)) | ((t == ANSWERED) & (f == 1))
        groups = [lost] + [(t == step) & ~lost for step in ANSWER_GROUPS]
        for g, mask in enumerate(groups):
            mine, when = got[bounds[g] : bounds[g + 1]], at[bounds[g] : bounds[g + 1]]
            if g not in (0, len(groups) - 1):  # a request: any order
                mine, when = mine[np.argsort(rank[mine])], when[np.argsort(rank[mine])]
            np.testing.assert_array_equal(mine, ids[mask])
            np.testing.assert_array_equal(when, due[mask])
        assert bounds[-1] == k
        assert sorted(np.flatnonzero(mode)) == sorted(ids)


def test_sourced_customers_do_not_depend_on_the_batch():
    """A replication's i-th customer of a tier is the same alone or beside others, however
    the days' counts fall and however often its pool had to grow."""
    tiers = load_scenario(ROOT / "scenarios/baseline_quarter.yaml").leads.tiers
    seqs = replication_seeds(5, 3)
    rng = np.random.default_rng(0)
    days = [rng.poisson(0.8, (3, 4, len(tiers))) for _ in range(30)]
    expected = np.full(len(tiers), 5.0)  # small: the pools grow several times
    together, alone = (
        SourcedCustomers(CustomerDraws(tiers, seqs, expected)),
        SourcedCustomers(CustomerDraws(tiers, seqs[1:2], expected)),
    )
    handed = np.zeros(len(tiers), dtype=np.int64)
    for counts in days:
        (pool, taken), (mine, mine_taken) = together.take(counts), alone.take(counts[1:2])
        np.testing.assert_array_equal(taken[1], handed)
        np.testing.assert_array_equal(mine_taken[0], handed)
        for tier, k in enumerate(counts[1].sum(axis=0)):
            today = slice(handed[tier], handed[tier] + k)
            np.testing.assert_array_equal(pool[1, tier, :, today], mine[0, tier, :, today])
            assert pool.shape[3] >= handed[tier] + k
        handed += counts[1].sum(axis=0)
    assert together.draws.drawn[0] > together.draws.chunk[0]  # it grew


@pytest.mark.parametrize("policy", ["least_loaded", "share", "round_robin"])
def test_route_day_routes_each_replication_as_alone(policy):
    """A batch's day of leads is routed row by row: each replication's owners (mentor pool
    included) are those it gets routed alone, from its own loads and round-robin turn."""
    scenario = _override(
        _scenario("proposals/gate80_cap150.yaml"),
        {"routing": {"policy": policy, "mentor_pool": {"enabled": True, "share_of_leads": 0.3}}},
    )
    team = build_team(scenario.team, np.random.default_rng(team_seed(scenario.simulation.seed)))
    router = Router(team, scenario.routing, [t.name for t in scenario.leads.tiers])
    hires = (team.tenure(0.0) == 0) & (team.mentor >= 0)
    assert hires.any()
    rng = np.random.default_rng(3)
    loads = rng.integers(0, 9, (3, team.size)).astype(float)
    replication = np.sort(rng.integers(0, 3, 60))
    u, turn = rng.random(60), np.array([0, 5, team.size - 1])
    owners, mentored = route_day(router, loads, u, replication, 0.0, turn.copy())
    assert mentored.any()
    assert (owners < team.size).all()
    for r in range(3):
        mine = replication == r
        alone, flags = route_day(
            router, loads[r : r + 1], u[mine], replication[mine] * 0, 0.0, turn[r : r + 1].copy()
        )
        np.testing.assert_array_equal(owners[mine], alone)
        np.testing.assert_array_equal(mentored[mine], flags)


def test_relays_go_one_by_one_to_the_least_loaded_other_rep_of_the_replication():
    """Each stale lead moves to the other rep of its own replication with the least open
    leads per capacity (ties to the lower rep), seeing the moves before it; its value and
    expected value move with it."""
    rng = np.random.default_rng(4)
    n, batch = 4, 3
    open_leads = rng.integers(0, 5, n * batch).astype(float)
    capacity = rng.choice([5.0, 10.0], n * batch)
    pipeline, expected_pipeline = rng.uniform(0, 1e5, (2, n * batch))
    owner = rng.integers(0, n * batch, 25)
    value, expected = rng.uniform(1e3, 1e4, (2, 25))
    loads, money = open_leads.copy(), pipeline.copy()
    want = []
    for old, amount in zip(owner, value, strict=True):
        reps = [rep for rep in range(old - old % n, old - old % n + n) if rep != old]
        new = min(reps, key=lambda rep: (loads[rep] / capacity[rep], rep))
        loads[old], loads[new] = loads[old] - 1, loads[new] + 1
        money[old], money[new] = money[old] - amount, money[new] + amount
        want.append(new)
    got = relay_owners(owner, n, open_leads, capacity, pipeline, expected_pipeline, value, expected)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(open_leads, loads)
    np.testing.assert_allclose(pipeline, money)
    assert (got // n == owner // n).all()
    assert (got != owner).all()


def test_a_lead_row_holds_every_column_once_and_the_hot_ones_in_its_first_line():
    """The lead table's columns do not overlap, fit the row, sit at multiples of their size,
    and each reads back what was written (the views of the row agree)."""
    taken = np.zeros(ROW_BYTES, dtype=int)
    for name, (dtype, offset) in COLUMNS.items():
        size = np.dtype(dtype).itemsize * (3 if name == "delay" else 1)
        assert offset % np.dtype(dtype).itemsize == 0, name
        taken[offset : offset + size] += 1
    assert taken.max() == 1
    assert ROW_BYTES % 64 == 0
    hot = ("requested", "cycle", "answer", "delay", "owner", "rank", "mode", "kind", "then")
    assert all(COLUMNS[name][1] < 64 for name in hot)
    table = LeadTable(10)
    assert table.rows.ctypes.data % 64 == 0
    for k, name in enumerate(COLUMNS):
        getattr(table, name)[3] = k + 1
    for k, name in enumerate(COLUMNS):
        assert (getattr(table, name)[3] == (k + 1 if name != "mentored" else True)).all(), name
    table.n = 10
    table.room(20)  # grown: the rows kept
    assert table.rank[3] == list(COLUMNS).index("rank") + 1


def test_relay_stale_relays_in_order_of_owner_request_and_rank():
    """The stale leads move in order of owner, request time, then rank (whatever order they
    come in), each as `relay_owners` moves it, counted and requested anew on the day."""
    rng = np.random.default_rng(5)
    n, batch, k = 4, 2, 30
    table = LeadTable(k)
    table.n = k
    table.owner[:] = rng.integers(0, n * batch, k)
    table.requested[:] = rng.integers(0, 3, k).astype(float)  # ties within an owner
    table.rank[:] = rng.permutation(k)
    table.value[:], table.expected[:] = rng.uniform(1e3, 1e4, (2, k))
    open_leads, capacity = rng.integers(0, 5, n * batch).astype(float), np.full(n * batch, 5.0)
    pipeline, expected_pipeline = rng.uniform(0, 1e5, (2, n * batch))
    stale = rng.permutation(k)[:20]
    order = stale[np.lexsort((table.rank[stale], table.requested[stale], table.owner[stale]))]
    books = [a.copy() for a in (open_leads, capacity, pipeline, expected_pipeline)]
    want = relay_owners(
        table.owner[order], n, *books, table.value[order], table.expected[order]
    )  # fmt: skip
    got, requested, owners = relay_stale(
        stale, 9.0, n, table.floats, table.ints, table.counts, open_leads, capacity, pipeline,
        expected_pipeline,
    )  # fmt: skip
    np.testing.assert_array_equal(got, order)
    np.testing.assert_array_equal(owners, want)
    np.testing.assert_array_equal(table.owner[got], want)
    np.testing.assert_array_equal(open_leads, books[0])
    assert (requested == 9.0).all()
    assert (table.requested[got] == 9.0).all()
    assert table.relays[got].tolist() == [1] * len(got)
    assert table.relays.sum() == len(got)


def test_sourced_counts_invert_the_poisson_cdf():
    rng = np.random.default_rng(1)
    u, rates = rng.random(50_000), rng.gamma(1.0, 0.6, 50_000)
    np.testing.assert_array_equal(sourced_counts(u, rates), poisson.ppf(u, rates).astype(int))


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"routing": {"policy": "tier_priority"}}, "routing.policy"),
        ({"routing": {"strike_teams": {"enabled": True}}}, "routing.strike_teams"),
        ({"leads": {"dormant": {"reentry_probability": 0.1}}}, "reentry_probability"),
    ],
)
def test_unsupported_features_are_named(small, changes, key):
    scenario, team, calendar, seq = small
    with pytest.raises(SimplanError, match=key):
        fast.run_replication(_override(scenario, changes), team, calendar, seq)


def test_cli_engine_option(capsys):
    path = ROOT / "scenarios/retail_month.yaml"
    code, _, err = run_cli(capsys, "run", path, "--engine", "quick", "--replications", "1")
    assert code == 2
    assert "--engine 'quick'" in err
    code, out, _ = run_cli(
        capsys, "run", path, "--engine", "fast", "--replications", "2", "--workers", "1"
    )
    assert code == 0
    assert "bookings P50" in out


def test_keep_bounds_the_big_tables(monkeypatch):
    """With `keep`, replications past the sample reduce to runs, reps and statements rows,
    keeping only the big tables asked for."""
    import simplan.runner as runner

    monkeypatch.setattr(runner, "SAMPLE_REPLICATIONS", 1)
    scenario = _scenario("proposals/gate80_cap150.yaml")
    full = simulate(scenario, replications=3, seed=3, workers=1, engine="fast")
    lean = simulate(scenario, replications=3, seed=3, workers=1, engine="fast", keep=["deals"])
    pd.testing.assert_frame_equal(lean.runs, full.runs)
    pd.testing.assert_frame_equal(lean.deals, full.deals)
    assert set(lean.daily["replication"]) == {0}
    assert set(lean.credits["replication"]) == {0}
    assert lean.manifest["kept"] == {"tables": ["deals"], "sample": 1}
    # Past the sample, statements are totals per period and component, the same sums.
    keys = ["replication", "period", "component"]
    pd.testing.assert_series_equal(
        lean.statements.groupby(keys, observed=True)["amount"].sum(),
        full.statements.groupby(keys, observed=True)["amount"].sum(),
    )
    past = lean.statements[lean.statements["replication"] > 0]
    assert past["rep_id"].isna().all()
    assert not past.duplicated(keys).any()
    assert lean.statements[lean.statements["replication"] == 0]["rep_id"].notna().all()
    with pytest.raises(SimplanError, match="choose from deals, credits, daily"):
        simulate(scenario, replications=1, workers=1, engine="fast", keep=["ledger"])


def test_long_runs_stream_by_default(monkeypatch, capsys, tmp_path):
    """`simplan run` past KEEP_ALL_UP_TO replications keeps the big tables for the sample."""
    import simplan.runner as runner

    assert runner.default_keep(runner.KEEP_ALL_UP_TO) is None
    assert runner.default_keep(runner.KEEP_ALL_UP_TO + 1) == ()
    monkeypatch.setattr(runner, "SAMPLE_REPLICATIONS", 1)
    monkeypatch.setattr(runner, "KEEP_ALL_UP_TO", 2)
    path = ROOT / "scenarios/retail_month.yaml"
    for n in (2, 3):
        code, _, _ = run_cli(
            capsys, "run", path, "--engine", "fast", "--replications", n, "--workers", "1",
            "--out", tmp_path / str(n), "--quiet",
        )  # fmt: skip
        assert code == 0
    short, long = load_results(tmp_path / "2"), load_results(tmp_path / "3")
    assert short.manifest["kept"] == "all"
    assert set(short.deals["replication"]) == {0, 1}
    assert long.manifest["kept"] == {"tables": [], "sample": 1}
    assert set(long.deals["replication"]) == {0}
    assert list(long.runs["replication"]) == [0, 1, 2]
    assert set(long.reps["replication"]) == {0, 1, 2}


def test_the_compiled_model_rules_give_each_lead_what_the_event_engine_gets():
    """Response decay, loss stage and closing lift over arrays (what the fast engine's
    passes compute lead by lead) equal the one-lead forms the event engine calls, to the
    bit: numpy's vectorised power differed from the scalar one in the last bit for about
    one lead in twenty."""
    from simplan.model.leads import DECAY_SHAPES, ResponseDecay
    from simplan.model.production import closing_lift, lift_at_close

    rng = np.random.default_rng(11)
    hours = np.concatenate([rng.exponential(30.0, 5000), [0.0, 24.0, 72.0]])
    for shape in DECAY_SHAPES:
        decay = ResponseDecay(shape=shape, after_hours=24.0, loss=0.6)
        one_by_one = np.array([decay.factor(h) for h in hours.tolist()])
        assert decay.factors(hours).tobytes() == one_by_one.tobytes()
    effort = rng.uniform(0.0, 3.0, 2000)
    one_by_one = np.array([lift_at_close(e, 0.7) for e in effort.tolist()])
    assert closing_lift(effort, 0.7).tobytes() == one_by_one.tobytes()
    assert closing_lift(-1.0, 0.7) == 0.0

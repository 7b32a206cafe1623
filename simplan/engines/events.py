"""The reference engine: leads and reps as SimPy processes, rep time as the scarce resource.

A lead waits in its owner's queue for each touch; a rep works its queue only in working
hours, one touch taking `workday_length / (capacity x effort)`, so first-response times,
queues and relays come from load rather than being assumed. Customer-side delays sit
between stages. The engine emits flat records; `simplan.results` builds the tables.
"""

from __future__ import annotations

import heapq
from collections.abc import Generator

import numpy as np
import simpy

from simplan.engines.ledger import LeadBook
from simplan.engines.standing import Standing
from simplan.model.calendar import PHASES, Calendar
from simplan.model.day import day_context, leaderboard_cost
from simplan.model.leads import draw_leads, lead_streams, loss_stage, tier_arrivals
from simplan.model.production import (
    closing_chance,
    self_sourced_rate,
    sourced_counts,
    sourcing_weights,
    tier_shares,
)
from simplan.model.randomness import stream
from simplan.model.records import LOST, PULLED, PUSHED, WON, Records, credit_columns
from simplan.model.routing import Assignment, Router, RoutingState, credit_shares
from simplan.model.team import Team
from simplan.scenario import Scenario

CLOSE_OUT = PHASES.index("close_out")
# A queued touch: [priority class, sequence, lead, event, requested at, cancelled]
CLASS, SEQ, LEAD, EVENT, REQUESTED, CANCELLED = range(6)


class EventEngine:
    """One replication of a scenario on SimPy."""

    def __init__(
        self, scenario: Scenario, team: Team, calendar: Calendar, seq: np.random.SeedSequence
    ) -> None:
        self.scenario = scenario
        self.team = team
        self.cal = calendar
        self.seq = seq
        self.env = simpy.Environment()
        levers = scenario.calendar.levers
        tier_names = [t.name for t in scenario.leads.tiers]
        self.tier_names = tier_names
        self.sourced_shares = tier_shares(
            [t.self_sourced_share for t in scenario.leads.tiers], scenario.production
        )
        streams = lead_streams(
            scenario.leads, calendar, levers.referral_contest, 1.0 - self.sourced_shares
        )
        leads = draw_leads(streams, scenario.leads.tiers, lambda p, k: stream(seq, p, k))
        self.book = LeadBook(leads)
        self.dormant_rng = stream(seq, "dormant")
        self.standing = Standing(scenario, team, calendar)
        # Common random numbers for self-sourced leads: one uniform per day, rep and tier sets
        # the count (by inversion, so more effort finds the same leads plus more), and each
        # rep's k-th lead of a tier comes from that rep's own stream: the same customer in
        # every scenario.
        self.tier_rates = tier_arrivals(scenario.leads, calendar)
        self.source_weights = sourcing_weights(
            team.capacity, team.lead_share if scenario.routing.policy == "share" else None
        )
        self.source_u = stream(seq, "sourcing").random((calendar.days, team.size, len(tier_names)))
        self.source_rngs = [
            [stream(seq, "sourcing", rep, tier) for tier in tier_names]
            for rep in team.rep_id.tolist()
        ]
        self.router = Router(team, scenario.routing, tier_names)
        n, days = team.size, calendar.days
        self.routing_state = RoutingState(np.zeros(n), team.capacity.astype(float))
        self.queues: list[list[list]] = [[] for _ in range(n)]
        self.idle: list[simpy.Event | None] = [None] * n
        self.touch_list = (calendar.workday_length / team.capacity).tolist()
        self.pipeline = [0.0] * n  # open pipeline value per rep (a list: updated a lead at a time)
        self.touches = np.zeros((days, n), dtype=np.int64)
        self.effort = np.zeros((days, n))
        self.effort_today: list[float] = []
        self.bookings = np.zeros((days, n))
        self.won_count = np.zeros((days, n), dtype=np.int64)
        self.open_pipeline = np.zeros((days, n))
        every_day = np.arange(days)[:, None]  # each day's ramp for every rep, in one call
        self.win_skills = team.win_skill(every_day).tolist()
        self.cycle_mults = team.cycle_multiplier(every_day).tolist()
        self.win_skill = self.win_skills[0]
        self.cycle_mult = self.cycle_mults[0]
        self.seq_counter = 0
        red_line = scenario.routing.response_red_line_hours is not None
        self.red_line_tiers = (
            {tier_names.index(t) for t in scenario.routing.priority_tiers} if red_line else set()
        )
        self.priority_tiers = {tier_names.index(t) for t in scenario.routing.priority_tiers}
        self.decay = [t.response_decay.factor for t in scenario.leads.tiers]
        self.strike_uplift = 1 + scenario.routing.strike_teams.win_uplift
        self.loss_shares = scenario.funnel.loss_stage_shares
        self.closing_elasticity = scenario.production.closing_elasticity
        self.proposal_timeout = scenario.funnel.proposal_timeout_days
        offer = levers.close_out_offer
        self.offer_tiers = {tier_names.index(t) for t in offer.tiers} if offer.enabled else set()
        self.offer = offer
        self.horizon = calendar.days
        self.working = calendar.is_working.tolist()
        self.period_end = calendar.plan_period.end_day.astype(float).tolist()
        self.size_multiplier = team.deal_size_multiplier.tolist()
        self.credit_rows: list[tuple[int, int, float, float, float]] = []
        self.processes = 0
        # Per-rep numbers changed a lead at a time, written through memoryviews of their
        # arrays: plain floats in and out, the same IEEE sums as numpy scalars at a third of
        # the cost, and Standing and routing read the arrays as ever.
        self.expected_pipeline = memoryview(self.standing.expected_pipeline)
        self.open_leads = memoryview(self.routing_state.open_leads)
        self.booked_by_day = memoryview(self.bookings)
        self.won_by_day = memoryview(self.won_count)
        dormant = scenario.leads.dormant
        self.reentry, self.dormant_after = dormant.reentry_probability, dormant.after_days
        everyone = np.arange(n)
        self.relay_pools = [everyone[everyone != r] if n > 1 else everyone for r in range(n)]
        """Per rep, the reps its stale touches may go to (everyone else)."""

    # -- processes ---------------------------------------------------------------------------

    def run(self) -> Records:
        env = self.env
        for r in range(self.team.size):
            env.process(self._rep(r))
        env.process(self._day_ticks())
        env.process(self._arrivals(len(self.book)))
        self.processes = self.team.size + 2
        env.run(until=self.horizon)
        return self._records()

    def _arrivals(self, drawn: int) -> Generator:
        """Start each of the `drawn` pre-drawn leads at its arrival time. Leads added during
        the run (self-sourced, dormant re-entries) start their own processes: counted before
        the first midnight's sourcing, so a lead found on day 0 is not started twice."""
        env = self.env
        for i, t in enumerate(self.book.time[:drawn]):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(self._lead(i))
        self.processes += drawn

    def _day_ticks(self) -> Generator:
        """At each midnight: snapshot yesterday, set today's effort, relay idle leads, squads."""
        env, cal, team = self.env, self.cal, self.team
        levers = self.scenario.calendar.levers
        for day in range(cal.days):
            if day:
                self.open_pipeline[day - 1] = self.pipeline
            context = day_context(levers, cal, day)
            effort = self.standing.start_day(day, context, self.bookings[day - 1] if day else None)
            self.effort[day] = effort
            self.effort_today = effort.tolist()  # read a lead at a time, at its first response
            self._source(day, effort)
            self.touch_list = (cal.workday_length / (team.capacity * effort)).tolist()
            self.win_skill = self.win_skills[day]
            self.cycle_mult = self.cycle_mults[day]
            if self.scenario.routing.relay.enabled:
                self._relay_idle(day)
            if self.scenario.routing.squad_first_pick.enabled and day and day % 7 == 0:
                week = self.bookings[day - 7 : day].sum(axis=0)
                by_squad = np.bincount(team.squad, weights=week)
                self.routing_state.squad_winner = (
                    int(np.argmax(by_squad)) if by_squad.max() > 0 else -1
                )
            yield env.timeout(1)
        self.open_pipeline[cal.days - 1] = self.pipeline

    def _rep(self, r: int) -> Generator:
        """Work the queue: one touch at a time, only inside working hours."""
        env, cal = self.env, self.cal
        queue = self.queues[r]
        is_working = self.working
        start_frac, length = cal.workday_start, cal.workday_length
        horizon = cal.days
        touches = self.touches
        while True:
            if not queue:
                self.idle[r] = ev = env.event()
                yield ev
                continue
            now = env.now
            duration = self.touch_list[r]
            day = int(now)
            opens = day + start_frac
            if is_working[day] and now < opens:
                yield env.timeout(opens - now)
                continue
            if not (is_working[day] and now + duration <= opens + length + 1e-9):
                nxt = day + 1
                while nxt < horizon and not is_working[nxt]:
                    nxt += 1
                yield env.timeout(min(nxt + start_frac, horizon) - now)
                continue
            task = heapq.heappop(queue)
            if task[CANCELLED]:
                continue
            yield env.timeout(duration)
            touches[day, r] += 1
            task[EVENT].succeed()

    def _request(self, lead: int, cls: int) -> simpy.Event:
        """Queue a touch of `lead` with its owner; the event fires when the touch is done."""
        ev = self.env.event()
        self._enqueue(self.book.owner[lead], [cls, self.seq_counter, lead, ev, self.env.now, False])
        return ev

    def _enqueue(self, rep: int, task: list) -> None:
        self.seq_counter += 1
        task[SEQ] = self.seq_counter
        heapq.heappush(self.queues[rep], task)
        waiting = self.idle[rep]
        if waiting is not None:
            self.idle[rep] = None
            waiting.succeed()

    def _relay_idle(self, day: int) -> None:
        """Pass every touch waiting longer than the relay threshold to the least-loaded other rep."""
        idle_days = self.scenario.routing.relay.idle_days
        for r, queue in enumerate(self.queues):
            stale = [t for t in queue if not t[CANCELLED] and day - t[REQUESTED] >= idle_days]
            for task in stale:
                task[CANCELLED] = True
                lead = task[LEAD]
                new = self._least_loaded(self.relay_pools[r])
                self._move(lead, r, new)
                self.book.relays[lead] += 1
                self._enqueue(new, [task[CLASS], 0, lead, task[EVENT], self.env.now, False])
            if stale:
                queue[:] = [t for t in queue if not t[CANCELLED]]
                heapq.heapify(queue)

    def _least_loaded(self, pool: np.ndarray) -> int:
        load = self.routing_state.load()[pool]
        return int(pool[int(np.argmin(load))])

    def _move(self, lead: int, old: int, new: int) -> None:
        value, expected = self.book.value[lead], self.book.expected[lead]
        self.pipeline[old] -= value
        self.pipeline[new] += value
        self.expected_pipeline[old] -= expected
        self.expected_pipeline[new] += expected
        self.open_leads[old] -= 1
        self.open_leads[new] += 1
        self.book.owner[lead] = new

    def _lead(self, i: int, wait: float | None = None) -> Generator:
        """One lead's way through the funnel, from `wait` days on when it is not due yet."""
        env, book = self.env, self.book
        if wait is not None:
            yield env.timeout(wait)
        tier = book.tier[i]
        if book.owner[i] >= 0:  # sourced by the rep: theirs, no routing
            a = Assignment(book.owner[i])
        else:
            dormant = book.source_names[book.source[i]] == "dormant"
            priority = tier in self.priority_tiers or dormant
            a = self.router.assign(
                self.routing_state, tier, priority, book.size[i], book.u_route[i], env.now
            )
        owner = a.owner
        book.assignment[i] = a
        book.owner[i] = book.first_owner[i] = owner
        value = book.value[i] = book.size[i] * self.size_multiplier[owner]
        self.pipeline[owner] += value
        self._expect(i, owner, book.p[i] * value)
        self.open_leads[owner] += 1

        yield self._request(i, 0 if tier in self.red_line_tiers else 1)
        now = env.now
        hours = (now - book.time[i]) * 24
        book.response_h[i] = hours
        book.stage[i] = 0
        owner = book.owner[i]
        uplift = self.strike_uplift if a.support >= 0 else 1.0
        p = min(1.0, book.p[i] * self.decay[tier](hours) * self.win_skill[owner] * uplift)
        u = book.u_win[i]
        fate = 3 if u < p else loss_stage(u, p, self.loss_shares)
        self._expect(i, owner, p * book.value[i])
        cycle = self.cycle_mult[owner]
        delay = book.delay[i]

        if fate == 3 and self._pull(i, now + sum(delay) * cycle):
            return (yield from self._sign_early(i))
        yield env.timeout(delay[0] * cycle)
        if fate == 0:
            return self._close(i, LOST)
        yield self._request(i, 1)
        book.stage[i] = 1
        if fate == 3 and self._pull(i, env.now + (delay[1] + delay[2]) * cycle):
            return (yield from self._sign_early(i))
        answer = env.now + delay[1] * cycle
        timeout = self.proposal_timeout
        while answer - env.now > timeout:
            yield env.timeout(timeout)
            book.alerts[i] += 1
            yield self._request(i, 1)
        if answer > env.now:
            yield env.timeout(answer - env.now)
        if fate == 1:
            return self._close(i, LOST)
        yield self._request(i, 1)
        book.stage[i] = 2
        if fate == 3 and self._pull(i, env.now + delay[2] * cycle):
            return (yield from self._sign_early(i))
        yield env.timeout(delay[2] * cycle)
        closing = closing_chance(
            p,
            self.effort_today[book.owner[i]],
            self.closing_elasticity,
            self.loss_shares.negotiation,
        )
        if u >= closing:
            if tier in self.offer_tiers and self._offer_wins(u, p):
                book.lever_cost[i] += self.offer.cost_per_deal
            else:
                return self._close(i, LOST)
        now = env.now
        if self.standing.push(book.owner[i], book.value[i], int(now), book.u_timing[i]):
            book.timing[i] = PUSHED
            yield env.timeout(self.period_end[int(now)] - now)
        yield self._request(i, 1)
        book.stage[i] = 3
        return self._close(i, WON)

    def _pull(self, i: int, signs_at: float) -> bool:
        """Would the owner offer a discount to have this winning deal sign before the period end?"""
        return self.standing.pull(
            self.book.owner[i],
            self.book.value[i],
            int(self.env.now),
            signs_at,
            self.book.u_timing[i],
        )

    def _sign_early(self, i: int) -> Generator:
        """The customer signs at a discount, two days before the period end at the latest."""
        env = self.env
        self.book.timing[i] = PULLED
        self.book.value[i] *= 1 - self.scenario.behaviour.timing.pull_discount
        end = self.period_end[int(env.now)]
        if end - 2.0 > env.now:
            yield env.timeout(end - 2.0 - env.now)
        yield self._request(i, 1)
        self.book.stage[i] = 3
        self._close(i, WON)

    def _expect(self, i: int, owner: int, expected: float) -> None:
        """Set lead i's expected value in its owner's pipeline (what reps project from)."""
        book = self.book
        self.expected_pipeline[owner] += expected - book.expected[i]
        book.expected[i] = expected

    def _offer_wins(self, u: float, p: float) -> bool:
        """In close-out, the offer lifts p; the band just above p (late losses) turns into wins."""
        day = min(int(self.env.now), self.horizon - 1)
        if self.cal.phase[day] != CLOSE_OUT:
            return False
        lifted = min(p * (1 + self.offer.win_uplift), p + (1 - p) * self.loss_shares.negotiation)
        return u < lifted

    def _close(self, i: int, outcome: int) -> None:
        book, now = self.book, self.env.now
        owner = book.owner[i]
        book.outcome[i] = outcome
        book.close_time[i] = now
        self.pipeline[owner] -= book.value[i]
        self._expect(i, owner, 0.0)
        self.open_leads[owner] -= 1
        if outcome == LOST:
            self._maybe_go_dormant(i)
            return
        day = int(now)
        amount = book.amount[i] = book.value[i]
        if book.source_names[book.source[i]] == "referral":
            book.lever_cost[i] += self.scenario.calendar.levers.referral_contest.reward_per_referral
        self.won_by_day[day, owner] += 1
        shares = credit_shares(
            owner, book.first_owner[i], book.assignment[i], self.team, self.scenario.routing
        )
        for rep, share in shares.items():
            self.booked_by_day[day, rep] += amount * share
            self.standing.book(rep, amount * share)
            self.credit_rows.append((i, rep, share, amount * share, now))

    def _maybe_go_dormant(self, i: int) -> None:
        """A lost customer may come back as a dormant lead after `after_days` of silence."""
        if self.reentry <= 0:
            return
        back = self.env.now + self.dormant_after
        if back >= self.horizon or self.dormant_rng.random() >= self.reentry:
            return
        j = self._add_dormant_lead(i, back)
        self.env.process(self._lead(j, back - self.env.now))
        self.processes += 1

    def _add_dormant_lead(self, i: int, at: float) -> int:
        dormant_name = self.scenario.leads.dormant.source
        src = next((s for s in self.scenario.leads.sources if s.name == dormant_name), None)
        tier = self.book.tier[i]
        p = src.win_probability if src and src.win_probability is not None else None
        return self.book.add(
            tier, self.scenario.leads.tiers[tier], dormant_name, p, at, self.dormant_rng
        )

    def _source(self, day: int, effort: np.ndarray) -> None:
        """Reps source their own leads in working hours, more of them the harder they work."""
        rates = self_sourced_rate(
            self.tier_rates[day],
            self.source_weights,
            effort,
            self.sourced_shares,
            self.scenario.production.sourcing_elasticity,
        )
        if not rates.any():
            return
        counts = sourced_counts(self.source_u[day], rates)
        reps, tiers = np.nonzero(counts)
        found = zip(reps.tolist(), tiers.tolist(), counts[reps, tiers].tolist(), strict=True)
        params = self.scenario.leads.tiers
        opens, length = self.cal.workday_start, self.cal.workday_length
        for rep, tier, count in found:
            rng = self.source_rngs[rep][tier]
            for _ in range(count):
                at = day + opens + rng.random() * length
                j = self.book.add(tier, params[tier], "self_sourced", None, at, rng, owner=rep)
                self.env.process(self._lead(j, at - self.env.now))
            self.processes += count

    # -- output --------------------------------------------------------------------------------

    def _records(self) -> Records:
        return Records(
            deals=self.book.deal_columns(),
            credits=credit_columns(self.credit_rows),
            daily={
                "touches": self.touches,
                "effort": self.effort,
                "open_pipeline_value": self.open_pipeline,
                "bookings": self.bookings,
                "deals_won": self.won_count,
            },
            totals={"leaderboard_cost": leaderboard_cost(self.scenario.calendar.levers, self.cal)},
            targets=self.standing.targets,
            source_names=self.book.source_names,
            events=_events_scheduled(self.env),
            processes=self.processes,
        )


def _events_scheduled(env: simpy.Environment) -> int:
    """How many events the kernel scheduled (SimPy numbers each one it queues)."""
    return next(env._eid)


def run_replication(
    scenario: Scenario, team: Team, calendar: Calendar, seq: np.random.SeedSequence
) -> Records:
    """Simulate one replication and return its flat records."""
    return EventEngine(scenario, team, calendar, seq).run()

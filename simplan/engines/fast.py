"""The fast engine: every lead and rep of a batch of replications advanced a day at a time
with numpy.

A batch of B replications is one table of leads (with a `replication` column) and one row
of B x n reps (replication r's rep i is rep i + r n, a tiled team), so each day's numpy work
is paid once per batch. Leads are routed only to their own replication's reps, and each
replication draws from its own streams by purpose, so its tables do not depend on the batch
size. Same model rules as the reference engine (`simplan.model`, and `Standing` for effort and
deal timing), same common random numbers for routed leads and self-sourced counts, same
records. What it approximates (see the README, "The fast engine"): each rep serves its
queue first-in first-out as a single server in working hours, computed for the whole day
at once; a follow-up requested during the day waits for the day's next pass; routing sees
the loads at the day's start plus the day's own assignments; self-sourced customers are
drawn ahead from one stream per replication and tier.
"""

from __future__ import annotations

import functools
from dataclasses import replace

import numpy as np

from simplan.engines.serving import serve_queues
from simplan.engines.sourcing import SourcedCustomers
from simplan.engines.standing import Standing
from simplan.errors import SimplanError
from simplan.model.calendar import PHASES, Calendar
from simplan.model.day import check_day_routing, day_context, leaderboard_cost, route_day
from simplan.model.leads import draw_leads, lead_streams, loss_stages, tier_arrivals
from simplan.model.production import (
    follow_up_factors,
    self_sourced_rate,
    sourced_counts,
    sourcing_weights,
    tier_shares,
)
from simplan.model.randomness import stream
from simplan.model.records import LOST, ON_TIME, OPEN, PULLED, PUSHED, WON, Records, credit_columns
from simplan.model.routing import Assignment, Router, RoutingState, credit_shares, least_loaded
from simplan.model.team import Team
from simplan.scenario import Scenario

CLOSE_OUT = PHASES.index("close_out")
# What a lead waits for: a touch of its owner (of a kind), a customer (until `due`), or nothing.
TOUCH, CUSTOMER, DONE = 0, 1, 2
# Touch kinds: first contact, proposal, proposal follow-up after an alert, negotiation, signature.
CONTACT, PROPOSAL, FOLLOW_UP, NEGOTIATION, SIGN = range(5)
# What happens when the customer's wait ends.
CONTACTED, ALERT, ANSWERED, NEGOTIATED, SIGNS = range(5)
SLICES = 4
"""Working hours are served in this many slices, so a follow-up requested early in the day
can take a rep's idle time later that day."""
PASSES = 6
"""Passes over a slice's queues: a touch's follow-up due in the slice is served in the next."""


class _Leads:
    """Every lead of the replication as growable numpy columns, indexed by lead id."""

    FLOAT = ("time", "p", "size", "u_win", "u_route", "u_timing", "value", "expected",
             "response_h", "close_time", "amount", "lever_cost", "requested", "due", "answer",
             "p_won", "cycle")  # fmt: skip
    INT = ("replication", "tier", "source", "owner", "first_owner", "stage", "outcome",
           "alerts", "relays", "timing", "mode", "kind", "then", "fate", "rank")  # fmt: skip

    def __init__(self, capacity: int) -> None:
        self.n = 0
        self.cols: dict[str, np.ndarray] = {k: np.zeros(capacity) for k in self.FLOAT}
        self.cols |= {k: np.zeros(capacity, dtype=np.int64) for k in self.INT}
        self.cols["delay"] = np.zeros((capacity, 3))
        self.cols["mentored"] = np.zeros(capacity, dtype=bool)

    def add(self, **columns: np.ndarray) -> np.ndarray:
        """Append leads (missing columns start at their empty value); returns their ids."""
        k = len(columns["time"])
        if self.n + k > len(self.cols["time"]):
            size = max(2 * len(self.cols["time"]), self.n + k)
            for name, col in self.cols.items():
                grown = np.zeros((size, *col.shape[1:]), dtype=col.dtype)
                grown[: self.n] = col[: self.n]
                self.cols[name] = grown
        ids = np.arange(self.n, self.n + k)
        c = self.cols
        for name in ("owner", "first_owner", "stage"):
            c[name][ids] = -1
        c["outcome"][ids], c["timing"][ids], c["mode"][ids] = OPEN, ON_TIME, DONE
        c["response_h"][ids] = c["close_time"][ids] = np.nan
        for name, values in columns.items():
            c[name][ids] = values
        self.n += k
        return ids

    def __getattr__(self, name: str) -> np.ndarray:
        try:
            return self.__dict__["cols"][name]
        except KeyError:
            raise AttributeError(name) from None


def tiled(team: Team, copies: int) -> Team:
    """`copies` independent copies of the team as one: copy r's rep i is rep i + r n, and
    mentors point inside their own copy."""
    n = team.size
    shift = np.repeat(np.arange(copies) * n, n)
    mentor = np.tile(team.mentor, copies)
    return replace(
        team,
        rep_id=np.tile(team.rep_id, copies),
        tenure_days=np.tile(team.tenure_days, copies),
        capacity=np.tile(team.capacity, copies),
        skill=np.tile(team.skill, copies),
        squad=np.tile(team.squad, copies),
        mentor=np.where(mentor >= 0, mentor + shift, -1),
        quota=np.tile(team.quota, copies),
        deal_size_multiplier=np.tile(team.deal_size_multiplier, copies),
        lead_share=None if team.lead_share is None else np.tile(team.lead_share, copies),
    )


class FastEngine:
    """A batch of replications of a scenario, a day at a time (one per SeedSequence)."""

    def __init__(
        self,
        scenario: Scenario,
        team: Team,
        calendar: Calendar,
        seqs: list[np.random.SeedSequence],
    ) -> None:
        if scenario.leads.dormant.reentry_probability > 0:
            raise SimplanError(
                "leads.dormant.reentry_probability: dormant re-entry is not modelled by the fast "
                "engine; use `engine: events` (or --engine events), or set it to 0"
            )
        self.scenario, self.cal = scenario, calendar
        self.n, self.batch = team.size, len(seqs)
        self.team = tiled(team, self.batch)
        tiers = scenario.leads.tiers
        self.router = Router(team, scenario.routing, [t.name for t in tiers])
        check_day_routing(self.router)
        self.turn = np.zeros(self.batch, dtype=np.int64)  # each replication's round robin
        self.sourced_shares = tier_shares(
            [t.self_sourced_share for t in tiers], scenario.production
        )
        streams = lead_streams(
            scenario.leads, calendar, scenario.calendar.levers.referral_contest,
            1.0 - self.sourced_shares,
        )  # fmt: skip
        drawn = [draw_leads(streams, tiers, functools.partial(stream, seq)) for seq in seqs]
        self.source_names = [*drawn[0].source_names, "self_sourced"]
        self.self_sourced = len(self.source_names) - 1
        columns = {
            name: np.concatenate([getattr(d, name) for d in drawn])
            for name in ("time", "tier", "source", "win_probability", "base_size", "u_win",
                         "u_route", "u_timing", "delay")
        }  # fmt: skip
        replication = np.repeat(np.arange(self.batch), [len(d) for d in drawn])
        # By arrival day, then replication, each replication's leads in their own order.
        day_of = np.floor(columns["time"])
        order = np.lexsort((np.arange(len(replication)), replication, day_of))
        self.arrival_day = day_of[order]
        self.leads = _Leads(len(order) + len(order) // 2 + 64)  # room for self-sourced
        self.leads.add(
            replication=replication[order], time=columns["time"][order],
            tier=columns["tier"][order], source=columns["source"][order],
            p=columns["win_probability"][order], size=columns["base_size"][order],
            u_win=columns["u_win"][order], u_route=columns["u_route"][order],
            u_timing=columns["u_timing"][order], delay=columns["delay"][order],
        )  # fmt: skip
        self.drawn = len(order)
        self.next_drawn = 0
        self.arrived = 0  # leads routed or sourced so far: the next one's rank
        self.today = 0
        # Leads waiting for a touch, each once (new requests join at the next pass); leads
        # waiting for a customer who may answer today, and those who answer on a later day.
        self.waiting = np.zeros(0, dtype=np.int64)
        self.requests: list[np.ndarray] = []
        self.due_today = np.zeros(0, dtype=np.int64)
        self.answers: list[np.ndarray] = []
        self.due_later = np.zeros(0, dtype=np.int64)
        self.waits: list[np.ndarray] = []
        self.standing = Standing(scenario, team, calendar, copies=self.batch)
        self.tier_rates = tier_arrivals(scenario.leads, calendar)
        weights = sourcing_weights(
            team.capacity, team.lead_share if scenario.routing.policy == "share" else None
        )
        self.source_weights = np.tile(weights, self.batch)
        size, days = self.team.size, calendar.days
        # (days, reps of the batch, tiers): each replication's own sourcing stream.
        self.source_u = np.concatenate(
            [stream(seq, "sourcing").random((days, self.n, len(tiers))) for seq in seqs], axis=1
        )
        expected = self.tier_rates.sum(axis=0) * self.sourced_shares
        self.customers = SourcedCustomers(list(tiers), seqs, expected)
        self.state = RoutingState(np.zeros(size), self.team.capacity.astype(float))
        # Relays pick one rep at a time: one routing state (a view on the loads) per replication.
        self.states = [
            RoutingState(self.state.open_leads[r * self.n : (r + 1) * self.n], team.capacity)
            for r in range(self.batch)
        ]
        self.pipeline = np.zeros(size)
        self.touches = np.zeros((days, size), dtype=np.int64)
        self.effort = np.zeros((days, size))
        self.bookings = np.zeros((days, size))
        self.won_count = np.zeros((days, size), dtype=np.int64)
        self.open_pipeline = np.zeros((days, size))
        self.credit_rows: list[tuple[int, int, float, float, float]] = []
        offer = scenario.calendar.levers.close_out_offer
        self.offer = offer
        names = [t.name for t in tiers]
        chosen = [names.index(x) for x in offer.tiers] if offer.enabled else []
        self.offer_tier = np.isin(np.arange(len(tiers)), chosen)

    # -- the day loop --------------------------------------------------------------------------

    def run(self) -> list[Records]:
        cal, team = self.cal, self.team
        levers = self.scenario.calendar.levers
        for day in range(cal.days):
            if day:
                self.open_pipeline[day - 1] = self.pipeline
            yesterday = self.bookings[day - 1] if day else None
            effort = self.standing.start_day(day, day_context(levers, cal, day), yesterday)
            self.effort[day] = effort
            self.win_skill = team.win_skill(day)
            self.cycle_mult = team.cycle_multiplier(day)
            self._start_answers(day)
            self._arrive(day, effort)
            if self.scenario.routing.relay.enabled:
                self._relay(day)
            free = np.full(team.size, day + cal.workday_start)
            duration = cal.workday_length / (team.capacity * effort)
            if cal.is_working[day]:
                for s in range(1, SLICES + 1):
                    until = day + cal.workday_start + cal.workday_length * s / SLICES
                    for _ in range(PASSES):
                        self._wake(until)
                        if not self._serve(day, until, free, duration):
                            break
            self._wake(day + 1.0)
        self.open_pipeline[cal.days - 1] = self.pipeline
        credits = credit_columns(self.credit_rows)
        return [self._records(r, credits) for r in range(self.batch)]

    def _arrive(self, day: int, effort: np.ndarray) -> None:
        """Route the day's drawn leads, add the reps' self-sourced ones; all wait for a contact."""
        L = self.leads
        end = int(np.searchsorted(self.arrival_day, day + 1.0, side="left"))
        routed = np.arange(self.next_drawn, end)
        self.next_drawn = end
        replication = L.replication[routed]
        local, L.mentored[routed] = route_day(
            self.router, self.state.open_leads.reshape(self.batch, self.n), L.u_route[routed],
            replication, float(day), self.turn,
        )  # fmt: skip
        owners = local + replication * self.n
        sourced, sourced_owners = self._source(day, effort)
        ids = np.concatenate([routed, sourced])
        owners = np.concatenate([owners, sourced_owners])
        L.owner[ids] = L.first_owner[ids] = owners
        L.value[ids] = L.size[ids] * self.team.deal_size_multiplier[owners]
        np.add.at(self.pipeline, owners, L.value[ids])
        np.add.at(self.state.open_leads, owners, 1.0)
        self._expect(ids, L.p[ids] * L.value[ids])
        L.rank[ids] = self.arrived + np.arange(len(ids))
        self.arrived += len(ids)
        self._request(ids, CONTACT, L.time[ids])

    def _source(self, day: int, effort: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Reps source their own leads in working hours, more of them the harder they work;
        each replication's customers come from its own stream, tier by tier."""
        rates = self_sourced_rate(
            self.tier_rates[day], self.source_weights, effort, self.sourced_shares,
            self.scenario.production.sourcing_elasticity,
        )  # fmt: skip
        counts = sourced_counts(self.source_u[day], rates).reshape(self.batch, self.n, -1)
        found = self.customers.take(counts)
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        cal, tiers = self.cal, self.scenario.leads.tiers
        k = len(found["tier"])
        ids = self.leads.add(
            replication=found["replication"],
            time=day + cal.workday_start + found["clock"] * cal.workday_length,
            tier=found["tier"],
            source=np.full(k, self.self_sourced),
            p=np.array([t.win_probability for t in tiers])[found["tier"]],
            size=found["size"],
            u_win=found["u_win"],
            u_route=found["u_route"],
            u_timing=found["u_timing"],
            delay=found["delay"],
        )
        return ids, found["replication"] * self.n + found["rep"]

    def _relay(self, day: int) -> None:
        """Pass every touch waiting longer than the relay threshold to the least-loaded other
        rep of its replication."""
        L, n = self.leads, self.n
        waiting = self._touches()
        stale = waiting[day - L.requested[waiting] >= self.scenario.routing.relay.idle_days]
        stale = stale[np.lexsort((L.rank[stale], L.requested[stale], L.owner[stale]))]
        everyone = np.arange(n)
        for i in stale.tolist():
            old = int(L.owner[i])
            r, local = divmod(old, n)
            others = everyone[everyone != local] if n > 1 else everyone
            new = least_loaded(self.states[r], others) + r * n
            self.pipeline[old] -= L.value[i]
            self.pipeline[new] += L.value[i]
            self.standing.expected_pipeline[old] -= L.expected[i]
            self.standing.expected_pipeline[new] += L.expected[i]
            self.state.open_leads[old] -= 1
            self.state.open_leads[new] += 1
            L.owner[i] = new
            L.relays[i] += 1
            L.requested[i] = day

    # -- touches -------------------------------------------------------------------------------

    def _serve(self, day: int, until: float, free: np.ndarray, duration: np.ndarray) -> int:
        """Each rep works the touches requested before `until` first-in first-out, one after
        another, starting them before `until` while they still end inside working hours;
        returns how many were done."""
        L, cal = self.leads, self.cal
        everyone = self._touches()
        close = day + cal.workday_start + cal.workday_length + 1e-9
        served, t = serve_queues(
            L.requested[everyone], L.owner[everyone], everyone, free, duration, until, close
        )
        if not len(served):
            return 0
        done = everyone[served]
        self.touches[day] += np.bincount(L.owner[done], minlength=self.team.size)
        L.mode[done] = DONE
        left = np.ones(len(everyone), dtype=bool)
        left[served] = False
        self.waiting = everyone[left]
        kinds = L.kind[done]
        for kind, act in (
            (CONTACT, self._contacted),
            (PROPOSAL, self._proposed),
            (FOLLOW_UP, self._await_answer),
            (NEGOTIATION, self._negotiating),
            (SIGN, self._signed),
        ):
            mask = kinds == kind
            if mask.any():
                act(done[mask], t[mask])
        return len(done)

    def _contacted(self, ids: np.ndarray, t: np.ndarray) -> None:
        """First response: the win chance decays with the hours it took; the customer's fate."""
        L = self.leads
        owner = L.owner[ids]
        hours = (t - L.time[ids]) * 24
        L.response_h[ids] = hours
        L.stage[ids] = 0
        decay = np.ones(len(ids))
        for k, tier in enumerate(self.scenario.leads.tiers):
            mask = L.tier[ids] == k
            decay[mask] = tier.response_decay.factors(hours[mask])
        quality = follow_up_factors(
            self.effort[np.minimum(t.astype(np.int64), self.cal.days - 1), owner],
            self.scenario.production,
        )
        p = np.minimum(1.0, L.p[ids] * decay * self.win_skill[owner] * quality)
        u = L.u_win[ids]
        L.fate[ids] = np.where(u < p, 3, loss_stages(u, p, self.scenario.funnel.loss_stage_shares))
        L.p_won[ids] = p
        self._expect(ids, p * L.value[ids])
        L.cycle[ids] = self.cycle_mult[owner]
        rest = self._pull(ids, t, t + L.delay[ids].sum(axis=1) * L.cycle[ids])
        self._wait(ids[rest], t[rest] + L.delay[ids[rest], 0] * L.cycle[ids[rest]], CONTACTED)

    def _proposed(self, ids: np.ndarray, t: np.ndarray) -> None:
        L = self.leads
        L.stage[ids] = 1
        delay, cycle = L.delay[ids], L.cycle[ids]
        rest = self._pull(ids, t, t + (delay[:, 1] + delay[:, 2]) * cycle)
        ids, t = ids[rest], t[rest]
        L.answer[ids] = t + L.delay[ids, 1] * L.cycle[ids]
        self._await_answer(ids, t)

    def _await_answer(self, ids: np.ndarray, t: np.ndarray) -> None:
        """Wait for the customer's answer to a proposal; each silent `proposal_timeout_days`
        raise an alert that needs a follow-up touch."""
        L = self.leads
        timeout = self.scenario.funnel.proposal_timeout_days
        late = L.answer[ids] - t > timeout
        self._wait(ids[late], t[late] + timeout, ALERT)
        self._wait(ids[~late], np.maximum(L.answer[ids[~late]], t[~late]), ANSWERED)

    def _negotiating(self, ids: np.ndarray, t: np.ndarray) -> None:
        L = self.leads
        L.stage[ids] = 2
        rest = self._pull(ids, t, t + L.delay[ids, 2] * L.cycle[ids])
        ids, t = ids[rest], t[rest]
        self._wait(ids, t + L.delay[ids, 2] * L.cycle[ids], NEGOTIATED)

    def _signed(self, ids: np.ndarray, t: np.ndarray) -> None:
        self.leads.stage[ids] = 3
        self._close(ids, t, WON)

    # -- the customer's side -------------------------------------------------------------------

    def _wake(self, until: float) -> None:
        """Every customer whose wait ends before `until` answers: lost, or the next touch."""
        L = self.leads
        due = np.concatenate([self.due_today, *self.answers])
        self.answers = []
        answers = L.due[due] < until
        self.due_today = due[~answers]
        ids = due[answers]
        if not len(ids):
            return
        ids = ids[np.argsort(L.rank[ids])]  # in their order of arrival, as the reference
        L.mode[ids] = DONE
        then, due, fate = L.then[ids], L.due[ids], L.fate[ids]
        lost = ((then == CONTACTED) & (fate == 0)) | ((then == ANSWERED) & (fate == 1))
        self._close(ids[lost], due[lost], LOST)
        for step, kind in ((CONTACTED, PROPOSAL), (ANSWERED, NEGOTIATION), (SIGNS, SIGN)):
            go = (then == step) & ~lost
            self._request(ids[go], kind, due[go])
        alert = then == ALERT
        L.alerts[ids[alert]] += 1
        self._request(ids[alert], FOLLOW_UP, due[alert])
        negotiated = then == NEGOTIATED
        if negotiated.any():
            self._negotiated(ids[negotiated], due[negotiated])

    def _negotiated(self, ids: np.ndarray, t: np.ndarray) -> None:
        """The negotiation ends: late losses may be saved by the close-out offer; a winner may
        be held for next period; the rest are signed with one more touch."""
        L = self.leads
        losing = L.fate[ids] == 2
        saved = losing & self._offer_wins(ids, t)
        L.lever_cost[ids[saved]] += self.offer.cost_per_deal
        lost = losing & ~saved
        self._close(ids[lost], t[lost], LOST)
        ids, t = ids[~lost], t[~lost]
        pushed = self._timing(ids, t, None)
        L.timing[ids[pushed]] = PUSHED
        ends = self.cal.plan_period.end_day[t[pushed].astype(np.int64)].astype(float)
        self._wait(ids[pushed], ends, SIGNS)
        self._request(ids[~pushed], SIGN, t[~pushed])

    def _offer_wins(self, ids: np.ndarray, t: np.ndarray) -> np.ndarray:
        """In close-out, the offer lifts p; the band just above p (late losses) turns into wins."""
        L = self.leads
        if not self.offer.enabled:
            return np.zeros(len(ids), dtype=bool)
        day = np.minimum(t.astype(np.int64), self.cal.days - 1)
        p = L.p_won[ids]
        negotiation = self.scenario.funnel.loss_stage_shares.negotiation
        lifted = np.minimum(p * (1 + self.offer.win_uplift), p + (1 - p) * negotiation)
        return (
            self.offer_tier[L.tier[ids]]
            & (self.cal.phase[day] == CLOSE_OUT)
            & (L.u_win[ids] < lifted)
        )

    # -- deal timing (the reps' own rules in Standing, for the deals at once) -----------------

    def _timing(self, ids: np.ndarray, t: np.ndarray, signs_at: np.ndarray | None) -> np.ndarray:
        """Which deals the owner pulls forward (`signs_at` given) or pushes (None)."""
        L, day = self.leads, t.astype(np.int64)
        if signs_at is None:
            return self.standing.push_many(L.owner[ids], L.value[ids], day, L.u_timing[ids])
        return self.standing.pull_many(L.owner[ids], L.value[ids], day, signs_at, L.u_timing[ids])

    def _pull(self, ids: np.ndarray, t: np.ndarray, signs_at: np.ndarray) -> np.ndarray:
        """Winners whose owner has them sign early at a discount; returns the others' mask."""
        L = self.leads
        winners = L.fate[ids] == 3
        pulled = np.zeros(len(ids), dtype=bool)
        pulled[winners] = self._timing(ids[winners], t[winners], signs_at[winners])
        if pulled.any():
            i, now = ids[pulled], t[pulled]
            L.timing[i] = PULLED
            L.value[i] *= 1 - self.scenario.behaviour.timing.pull_discount
            end = self.cal.plan_period.end_day[now.astype(np.int64)] - 2.0
            later = end > now
            self._wait(i[later], end[later], SIGNS)
            self._request(i[~later], SIGN, now[~later])
        return ~pulled

    # -- bookkeeping ---------------------------------------------------------------------------

    def _touches(self) -> np.ndarray:
        """The leads waiting for a touch of their owner."""
        if self.requests:
            self.waiting = np.concatenate([self.waiting, *self.requests])
            self.requests = []
        return self.waiting

    def _start_answers(self, day: int) -> None:
        """Move the customers who answer on `day` among those who may answer today."""
        self.today = day
        later = np.concatenate([self.due_later, *self.waits])
        self.waits = []
        today = self.leads.due[later] < day + 1.0
        self.answers.append(later[today])
        self.due_later = later[~today]

    def _request(self, ids: np.ndarray, kind: int, at: np.ndarray) -> None:
        L = self.leads
        L.mode[ids], L.kind[ids], L.requested[ids] = TOUCH, kind, at
        self.requests.append(ids)

    def _wait(self, ids: np.ndarray, until: np.ndarray, then: int) -> None:
        L = self.leads
        L.mode[ids], L.due[ids], L.then[ids] = CUSTOMER, until, then
        today = until < self.today + 1.0
        self.answers.append(ids[today])
        self.waits.append(ids[~today])

    def _expect(self, ids: np.ndarray, expected: np.ndarray) -> None:
        """Set the leads' expected values in their owners' pipelines (what reps project from)."""
        L = self.leads
        np.add.at(self.standing.expected_pipeline, L.owner[ids], expected - L.expected[ids])
        L.expected[ids] = expected

    def _close(self, ids: np.ndarray, t: np.ndarray, outcome: int) -> None:
        if not len(ids):
            return
        L = self.leads
        owner = L.owner[ids]
        L.outcome[ids], L.close_time[ids], L.mode[ids] = outcome, t, DONE
        np.subtract.at(self.pipeline, owner, L.value[ids])
        self._expect(ids, np.zeros(len(ids)))
        np.subtract.at(self.state.open_leads, owner, 1.0)
        if outcome == LOST:
            return
        L.amount[ids] = L.value[ids]
        if "referral" in self.source_names:
            referral = L.source[ids] == self.source_names.index("referral")
            reward = self.scenario.calendar.levers.referral_contest.reward_per_referral
            L.lever_cost[ids[referral]] += reward
        day = t.astype(np.int64)
        np.add.at(self.won_count, (day, owner), 1)
        # A deal its first owner closed alone credits that owner in full; others split.
        alone = (owner == L.first_owner[ids]) & ~L.mentored[ids]
        np.add.at(self.bookings, (day[alone], owner[alone]), L.amount[ids[alone]])
        np.add.at(self.standing.booked, owner[alone], L.amount[ids[alone]])
        self.credit_rows.extend(
            zip(ids[alone].tolist(), owner[alone].tolist(), [1.0] * int(alone.sum()),
                L.amount[ids[alone]].tolist(), t[alone].tolist(), strict=True)
        )  # fmt: skip
        split = ~alone
        ids, t, day = ids[split], t[split], day[split]
        routing = self.scenario.routing
        for i, now, d in zip(ids.tolist(), t.tolist(), day.tolist(), strict=True):
            first = int(L.first_owner[i])
            shares = credit_shares(
                int(L.owner[i]), first, Assignment(first, mentor_pool=bool(L.mentored[i])),
                self.team, routing,
            )  # fmt: skip
            amount = float(L.amount[i])
            for rep, share in shares.items():
                self.bookings[d, rep] += amount * share
                self.standing.book(rep, amount * share)
                self.credit_rows.append((i, rep, share, amount * share, now))

    def _records(self, r: int, credits: dict[str, np.ndarray]) -> Records:
        """Replication r's records: its leads (numbered in their order of arrival), its reps."""
        L, n = self.leads, self.leads.n
        mine = np.flatnonzero(L.replication[:n] == r)
        lead_id = np.full(n, -1, dtype=np.int64)
        lead_id[mine] = np.arange(len(mine))
        reps = slice(r * self.n, (r + 1) * self.n)
        owned = credits["rep"] // self.n == r
        credits = {key: value[owned] for key, value in credits.items()}
        credits["lead_id"] = lead_id[credits["lead_id"]]
        credits["rep"] = credits["rep"] - r * self.n
        sourced = (L.source[mine] == self.self_sourced).any()
        return Records(
            deals={
                "lead_id": np.arange(len(mine)),
                "tier": L.tier[mine],
                "source": L.source[mine],
                "rep": L.owner[mine] - r * self.n,
                "first_rep": L.first_owner[mine] - r * self.n,
                "created_day": L.time[mine],
                "first_response_hours": L.response_h[mine],
                "stage": L.stage[mine],
                "outcome": L.outcome[mine],
                "close_day": L.close_time[mine],
                "amount": L.amount[mine],
                "alerts": L.alerts[mine],
                "relays": L.relays[mine],
                "lever_cost": L.lever_cost[mine],
                "timing": L.timing[mine],
            },
            credits=credits,
            daily={
                "touches": self.touches[:, reps].copy(),
                "effort": self.effort[:, reps].copy(),
                "open_pipeline_value": self.open_pipeline[:, reps].copy(),
                "bookings": self.bookings[:, reps].copy(),
                "deals_won": self.won_count[:, reps].copy(),
            },
            totals={"leaderboard_cost": leaderboard_cost(self.scenario.calendar.levers, self.cal)},
            targets=self.standing.targets[:, reps].copy(),
            source_names=self.source_names if sourced else self.source_names[:-1],
            events=0,
            processes=0,
        )


def run_batch(
    scenario: Scenario, team: Team, calendar: Calendar, seqs: list[np.random.SeedSequence]
) -> list[Records]:
    """Simulate a batch of replications together, a day at a time; one Records each, the
    same as each would get alone."""
    return FastEngine(scenario, team, calendar, seqs).run()


def run_replication(
    scenario: Scenario, team: Team, calendar: Calendar, seq: np.random.SeedSequence
) -> Records:
    """Simulate one replication a day at a time and return its flat records."""
    return run_batch(scenario, team, calendar, [seq])[0]

"""The fast engine's day loop: a batch of replications set up side by side, then each day
effort, arrivals (routed and self-sourced), relays, the day's queues slice by slice and the
customers' answers; each replication's records at the end."""

from __future__ import annotations

import numba
import numpy as np

from simplan.engines.fast.arrivals import arrive
from simplan.engines.fast.book import Bookkeeping, Waits
from simplan.engines.fast.drawn import batch_draws
from simplan.engines.fast.funnel import Funnel
from simplan.engines.fast.relay import relay_stale
from simplan.engines.fast.serving import Queues
from simplan.engines.fast.sourcing import SourcedCustomers
from simplan.engines.fast.table import (
    ALERTS,
    AMOUNT,
    CLOSE_TIME,
    FIRST_OWNER,
    LEVER_COST,
    OUTCOME,
    OWNER,
    RELAYS,
    RESPONSE_H,
    SOURCE,
    STAGE,
    TIER,
    TIME,
    TIMING,
    LeadTable,
    tiled,
)
from simplan.engines.standing import Standing
from simplan.errors import SimplanError
from simplan.model.calendar import Calendar
from simplan.model.day import check_day_routing, day_context, leaderboard_cost, route_day
from simplan.model.leads import tier_arrivals
from simplan.model.production import (
    self_sourced_rate,
    sourced_counts,
    sourcing_weights,
    tier_shares,
)
from simplan.model.records import Records, credit_columns
from simplan.model.routing import Router, RoutingState
from simplan.model.team import Team
from simplan.scenario import Scenario


class FastEngine(Funnel, Bookkeeping):
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
        drawn = batch_draws(
            scenario.leads, scenario.calendar.levers.referral_contest, calendar, self.n,
            self.sourced_shares, seqs,
        )  # fmt: skip
        self.source_names = [*drawn.source_names, "self_sourced"]
        self.self_sourced = len(self.source_names) - 1
        self.drawn = len(drawn.time)
        self.arrival_day = np.floor(drawn.time)
        self.leads = LeadTable(self.drawn + self.drawn // 2 + 64)  # room for self-sourced
        self.leads.add(replication=drawn.replication, time=drawn.time, **drawn.columns)
        self.next_drawn = 0
        self.arrived = 0  # leads routed or sourced so far: the next one's rank
        self.today = 0
        # Leads waiting for a touch, each once (new requests join at the next pass); leads
        # waiting for a customer who may answer today, and those who answer on a later day.
        room = len(self.leads.replication)  # a lead waits or is requested once at a time
        self.queues = Queues(room)
        self.due_today, self.due_later = Waits(room), Waits(room)
        self.standing = Standing(scenario, team, calendar, copies=self.batch)
        every_day = np.arange(calendar.days)
        self.win_skills = team.win_skill(every_day[:, None])  # each day's ramp, the team's once
        self.cycle_mults = team.cycle_multiplier(every_day[:, None])
        levers = scenario.calendar.levers
        self.contexts = [day_context(levers, calendar, day) for day in range(calendar.days)]
        self.pushable = self.standing.movable(every_day).tolist()
        # A deal due to sign as late as can be is the likeliest to be pulled.
        self.pullable = self.standing.movable(every_day, np.full(calendar.days, np.inf)).tolist()
        """Per day, whether a deal decided then may be held or pulled (only near a period's
        end: the passes of another day never ask the owners)."""
        self.tier_rates = tier_arrivals(scenario.leads, calendar)
        weights = sourcing_weights(
            team.capacity, team.lead_share if scenario.routing.policy == "share" else None
        )
        self.source_weights = np.tile(weights, self.batch)
        size, days = self.team.size, calendar.days
        self.source_u = drawn.source_u  # (days, reps of the batch, tiers): read only
        self.customers = SourcedCustomers(drawn.customers)
        self.state = RoutingState(np.zeros(size), self.team.capacity.astype(float))
        self.pipeline = np.zeros(size)
        self.touches = np.zeros((days, size), dtype=np.int64)
        self.effort = np.zeros((days, size))
        self.bookings = np.zeros((days, size))
        self.won_count = np.zeros((days, size), dtype=np.int64)
        self.open_pipeline = np.zeros((days, size))
        self.credit_rows: list[tuple[int, int, float, float, float]] = []
        self.credits.room(len(self.leads.replication))  # zeros: only rows written cost
        self.tier_p = np.array([t.win_probability for t in tiers])
        offer = scenario.calendar.levers.close_out_offer
        self.offer = offer
        names = [t.name for t in tiers]
        chosen = [names.index(x) for x in offer.tiers] if offer.enabled else []
        self.offer_tier = np.isin(np.arange(len(tiers)), chosen)

    # -- the day loop --------------------------------------------------------------------------

    def run(self) -> list[Records]:
        cal, team = self.cal, self.team
        for day in range(cal.days):
            if day:
                self.open_pipeline[day - 1] = self.pipeline
            yesterday = self.bookings[day - 1] if day else None
            effort = self.standing.start_day(day, self.contexts[day], yesterday)
            self.effort[day] = effort
            # The copies' reps ramp alike: each day's row of the team's, once per copy.
            self.win_skill = np.tile(self.win_skills[day], self.batch)
            self.cycle_mult = np.tile(self.cycle_mults[day], self.batch)
            self._start_answers(day)
            self._arrive(day, effort)
            if self.scenario.routing.relay.enabled:
                self._relay(day)
            free = np.full(team.size, day + cal.workday_start)
            duration = cal.workday_length / (team.capacity * effort)
            self._passes(day, free, duration)
        self.open_pipeline[cal.days - 1] = self.pipeline
        return self._records()

    def _arrive(self, day: int, effort: np.ndarray) -> None:
        """Route the day's drawn leads, add the reps' self-sourced ones; all wait for a contact
        (their rows, owners and books written in one compiled pass, `arrivals.arrive`)."""
        L, cal = self.leads, self.cal
        end = int(np.searchsorted(self.arrival_day, day + 1.0, side="left"))
        routed = np.arange(self.next_drawn, end)
        self.next_drawn = end
        replication = L.replication[routed]
        local, L.mentored[routed] = route_day(
            self.router, self.state.open_leads.reshape(self.batch, self.n), L.u_route[routed],
            replication, float(day), self.turn,
        )  # fmt: skip
        counts = self._sourced(day, effort)
        pool, taken = self.customers.take(counts)
        k = int(counts.sum())
        L.room(k)
        self.queues.room(max(L.n + k, int(self.queues.fill[0]) + len(routed) + k))
        sourced = arrive(
            routed, local + replication * self.n, counts, taken, pool, L.n, self.arrived,
            L.floats, L.ints, L.codes, L.replication, L.delay, day + cal.workday_start,
            cal.workday_length, self.self_sourced, self.tier_p, self.team.deal_size_multiplier,
            self.pipeline, self.standing.expected_pipeline, self.state.open_leads,
            self.queues.pending, self.queues.fill,
        )  # fmt: skip
        L.n += sourced
        self.arrived += len(routed) + sourced

    def _sourced(self, day: int, effort: np.ndarray) -> np.ndarray:
        """How many leads each rep sources today by tier (replications, reps, tiers), in
        working hours, more of them the harder it works; each replication's customers come
        from its own stream, tier by tier (`SourcedCustomers`)."""
        rates = self_sourced_rate(
            self.tier_rates[day], self.source_weights, effort, self.sourced_shares,
            self.scenario.production.sourcing_elasticity,
        )  # fmt: skip
        return sourced_counts(self.source_u[day], rates).reshape(self.batch, self.n, -1)

    def _relay(self, day: int) -> None:
        """Pass every touch waiting longer than the relay threshold to the least-loaded other
        rep of its replication (`relay_stale`, compiled)."""
        L, queues = self.leads, self._touches()
        stale = queues.take_stale(float(day), self.scenario.routing.relay.idle_days)
        queues.join(
            *relay_stale(
                stale, float(day), self.n, L.floats, L.ints, L.counts, self.state.open_leads,
                self.state.capacity, self.pipeline, self.standing.expected_pipeline,
            )
        )  # fmt: skip

    def _records(self) -> list[Records]:
        """Each replication's records: its leads (numbered in their order of arrival), its
        credits and its reps. Every column is put in replication order once for the batch
        (the leads and the credits each grouped once, `_grouped`), and each replication's
        records are slices of it."""
        L, n, batch = self.leads, self.n, self.batch
        leads, lead_starts = _grouped(L.replication[: L.n], batch)
        within, lead_id = np.empty(L.n, dtype=np.int64), np.empty(L.n, dtype=np.int64)
        whole = np.empty((len(DEAL_INTS) + len(DEAL_CODES) + len(DEAL_COUNTS), L.n), np.int64)
        real = np.empty((len(DEAL_FLOATS), L.n))
        sourced = np.zeros(batch, dtype=bool)
        deal_rows(
            leads, lead_starts, n, L.ints, L.codes, L.counts, L.floats, *DEAL_COLUMNS, whole,
            real, within, lead_id, self.self_sourced, sourced,
        )  # fmt: skip
        deals = {"lead_id": within}
        deals |= dict(zip((*DEAL_INTS, *DEAL_CODES, *DEAL_COUNTS), whole, strict=True))
        deals |= dict(zip(DEAL_FLOATS, real, strict=True))
        deals = {name: deals[name] for name in DEAL_ORDER}
        credits = credit_columns(self.credit_rows)
        rows, credit_starts = _grouped(credits["rep"] // n, batch)
        credits = {k: v[rows] for k, v in credits.items()}
        credits["lead_id"] = lead_id[credits["lead_id"]]
        credits["rep"] = credits["rep"] - credits["rep"] // n * n
        # (replications, days, reps): each replication's daily records one contiguous block.
        daily = {
            name: np.ascontiguousarray(values.reshape(len(values), batch, n).transpose(1, 0, 2))
            for name, values in (
                ("touches", self.touches), ("effort", self.effort),
                ("open_pipeline_value", self.open_pipeline), ("bookings", self.bookings),
                ("deals_won", self.won_count),
            )
        }  # fmt: skip
        targets = self.standing.targets
        targets = np.ascontiguousarray(targets.reshape(len(targets), batch, n).transpose(1, 0, 2))
        totals = {"leaderboard_cost": leaderboard_cost(self.scenario.calendar.levers, self.cal)}
        out = []
        for r in range(batch):
            mine = slice(lead_starts[r], lead_starts[r + 1])
            theirs = slice(credit_starts[r], credit_starts[r + 1])
            out.append(
                Records(
                    deals={k: v[mine] for k, v in deals.items()},
                    credits={k: v[theirs] for k, v in credits.items()},
                    daily={k: v[r] for k, v in daily.items()},
                    totals=dict(totals),
                    targets=targets[r],
                    source_names=self.source_names if sourced[r] else self.source_names[:-1],
                    events=0,
                    processes=0,
                )
            )
        return out


DEAL_INTS = {"rep": OWNER, "first_rep": FIRST_OWNER}
"""The deals records read from each block of the lead table (their columns there)."""
DEAL_FLOATS = {"created_day": TIME, "first_response_hours": RESPONSE_H, "close_day": CLOSE_TIME,
               "amount": AMOUNT, "lever_cost": LEVER_COST}  # fmt: skip
DEAL_CODES = {"tier": TIER, "source": SOURCE, "stage": STAGE, "outcome": OUTCOME, "timing": TIMING}
DEAL_COUNTS = {"alerts": ALERTS, "relays": RELAYS}
DEAL_ORDER = ("lead_id", "tier", "source", "rep", "first_rep", "created_day",
              "first_response_hours", "stage", "outcome", "close_day", "amount", "alerts",
              "relays", "lever_cost", "timing")  # fmt: skip
"""The deals records, in their order."""


DEAL_COLUMNS = tuple(
    np.array(list(names.values())) for names in (DEAL_INTS, DEAL_CODES, DEAL_COUNTS, DEAL_FLOATS)
)


@numba.njit(cache=True)
def deal_rows(leads, starts, team_size, ints, codes, counts, floats, of_ints, of_codes, of_counts,
              of_floats, whole, real, within, lead_id, self_sourced, sourced):  # fmt: skip
    """The deals records of `leads` (replication r's from `starts[r]` to `starts[r + 1]`)
    from the lead table's blocks (ints, codes, counts: their columns `of_ints`, ... in turn
    down `whole`, the reps numbered within their replication; floats down `real`), each
    lead's rows read once; with each lead's number within its replication (`within`, in
    `leads` order; `lead_id`, by lead) and whether a replication has self-sourced leads
    (`sourced`), in place."""
    for r in range(len(starts) - 1):
        first_rep = r * team_size
        for a in range(starts[r], starts[r + 1]):
            i, j = leads[a], 0
            within[a] = lead_id[i] = a - starts[r]
            for c in of_ints:
                whole[j, a] = ints[i, c] - first_rep
                j += 1
            for c in of_codes:
                whole[j, a] = codes[i, c]
                j += 1
            for c in of_counts:
                whole[j, a] = counts[i, c]
                j += 1
            for j in range(len(of_floats)):
                real[j, a] = floats[i, of_floats[j]]
            if codes[i, SOURCE] == self_sourced:
                sourced[r] = True


@numba.njit(cache=True)
def _grouped(group: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions in `group` (values 0..groups-1) in group order, each group's in increasing
    order (a counting sort: numpy's stable argsort of 350,000 leads took 4.5 ms), and where
    each group starts among them (groups + 1 bounds)."""
    starts = np.zeros(groups + 1, dtype=np.int64)
    for g in group:
        starts[g + 1] += 1
    for g in range(groups):
        starts[g + 1] += starts[g]
    place, order = starts[:-1].copy(), np.empty(len(group), dtype=np.int64)
    for i in range(len(group)):
        order[place[group[i]]] = i
        place[group[i]] += 1
    return order, starts

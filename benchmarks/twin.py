"""A bare-SimPy twin of the event engine: the same events, none of the model.

The twin replays one replication. `script_of` runs the event engine once (untimed) and
writes down every decision its model took: when each lead arrives (routed, self-sourced,
dormant re-entry), who owns it, how far it goes, which deals are pulled forward or pushed,
where each relay goes, each rep's touch time on each day (from its effort) and each rep's
cycle multiplier. `replay` then runs those on bare SimPy with the engine's own mechanics: a
heap queue per rep (priority class, then arrival order), touches only inside working hours,
the customer delays, proposal alerts every `proposal_timeout_days`, period-end waits, and a
midnight scan that relays touches idle for `idle_days`. So the twin schedules the same
events and does the same touches at the same instants (`Counts` says so), and events / twin
is what the model costs on top of the kernel.

    .venv/bin/python benchmarks/twin.py [--pairs 7] [--scenario PATH]

times the event engine and its twin interleaved (events, twin, events, twin, ...) on one
replication each, in CPU seconds of this process (a shared machine's load moves wall time
far more), and prints the counts beside the times, each pair's ratio, their median and
spread. Target (issue 12): events <= 2 x twin.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import simpy

from simplan import load_scenario
from simplan.engines.events import CANCELLED, LEAD, REQUESTED, EventEngine
from simplan.model.calendar import Calendar, build_calendar
from simplan.model.randomness import replication_seeds, team_seed
from simplan.model.records import LOST, PUSHED, Records
from simplan.model.team import Team, build_team
from simplan.scenario import Scenario

PROPOSAL = Path(__file__).parent.parent / "scenarios" / "proposals" / "gate80_cap150.yaml"
WON_FATE = 3
"""A fate is the stage a lost lead is lost after (0 contact, 1 proposal, 2 negotiation) or 3."""


@dataclass(frozen=True)
class Script:
    """One replication's decisions, per lead (by lead id) and per day, and the mechanics'
    constants; everything `replay` needs and nothing it would have to compute."""

    drawn: int  # leads 0..drawn-1 arrive in order; later ids are sourced or dormant
    arrival: list[float]
    owner: list[int]  # the routed (or sourcing) owner
    first_class: list[int]  # the first touch's priority class (0 = red line)
    fate: list[int]
    delay: list[list[float]]  # customer days after contact, proposal, negotiation
    pull_stage: dict[int, int]  # pulled deals: the stage after which the owner pulled
    pushed: set[int]
    relay_to: dict[int, list[int]]  # each relay's new owner, in order
    dormant: dict[int, int]  # lost lead -> the lead it comes back as
    sourced: list[list[int]]  # per day: the leads reps found that day
    touch_days: list[list[float]]  # per day and rep: days one touch takes
    cycle: list[list[float]]  # per day and rep: multiplier on customer delays
    period_end: list[float]  # per day: the day after its plan period ends
    working: list[bool]
    opens: float
    length: float
    horizon: int
    timeout_days: float
    relay_days: float | None
    dormant_after: float


@dataclass(frozen=True)
class Counts:
    """What a run did: touches per day and rep, first-response hours and proposal alerts per
    lead, events scheduled and processes started."""

    touches: np.ndarray
    response_hours: np.ndarray
    alerts: np.ndarray
    events: int
    processes: int


class _Recorder(EventEngine):
    """The event engine, noting the decisions its records do not keep."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.pull_stage: dict[int, int] = {}
        self.relay_to: dict[int, list[int]] = {}
        self.dormant: dict[int, int] = {}
        self.sourced: list[list[int]] = []

    def _pull(self, i: int, signs_at: float) -> bool:
        pulled = super()._pull(i, signs_at)
        if pulled:
            self.pull_stage[i] = self.book.stage[i]
        return pulled

    def _move(self, lead: int, old: int, new: int) -> None:
        super()._move(lead, old, new)
        self.relay_to.setdefault(lead, []).append(new)

    def _add_dormant_lead(self, i: int, at: float) -> int:
        self.dormant[i] = j = super()._add_dormant_lead(i, at)
        return j

    def _source(self, day: int, effort: np.ndarray) -> None:
        before = len(self.book)
        super()._source(day, effort)
        self.sourced.append(list(range(before, len(self.book))))


def script_of(
    scenario: Scenario, team: Team, calendar: Calendar, seq: np.random.SeedSequence
) -> tuple[Script, Records]:
    """Run the event engine on `seq` and write down its decisions; also its records."""
    engine = _Recorder(scenario, team, calendar, seq)
    drawn = len(engine.book)
    records = engine.run()
    deals, book = records.deals, engine.book
    lost = deals["outcome"] == LOST
    fate = np.where(lost, deals["stage"], WON_FATE)  # an open lead's fate is past the horizon
    touch_days = calendar.workday_length / (team.capacity * records.daily["effort"])
    relay = scenario.routing.relay
    script = Script(
        drawn=drawn,
        arrival=book.time,
        owner=deals["first_rep"].tolist(),
        first_class=[0 if t in engine.red_line_tiers else 1 for t in book.tier],
        fate=fate.tolist(),
        delay=book.delay,
        pull_stage=engine.pull_stage,
        pushed=set(np.flatnonzero(deals["timing"] == PUSHED).tolist()),
        relay_to=engine.relay_to,
        dormant=engine.dormant,
        sourced=engine.sourced,
        touch_days=touch_days.tolist(),
        cycle=[team.cycle_multiplier(day).tolist() for day in range(calendar.days)],
        period_end=calendar.plan_period.end_day.astype(float).tolist(),
        working=calendar.is_working.tolist(),
        opens=calendar.workday_start,
        length=calendar.workday_length,
        horizon=calendar.days,
        timeout_days=scenario.funnel.proposal_timeout_days,
        relay_days=relay.idle_days if relay.enabled else None,
        dormant_after=scenario.leads.dormant.after_days,
    )
    return script, records


def engine_counts(records: Records) -> Counts:
    """The event engine's `Counts`, from its records."""
    return Counts(
        touches=records.daily["touches"],
        response_hours=records.deals["first_response_hours"],
        alerts=records.deals["alerts"],
        events=records.events,
        processes=records.processes,
    )


def differences(engine: Counts, twin: Counts) -> list[str]:
    """Where the twin's run differs from the engine's (empty: the same work)."""
    said = []
    for name in ("touches", "response_hours", "alerts"):
        a, b = getattr(engine, name), getattr(twin, name)
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            said.append(f"{name} differ")
    for name in ("events", "processes"):
        if getattr(engine, name) != getattr(twin, name):
            said.append(f"{name}: engine {getattr(engine, name)}, twin {getattr(twin, name)}")
    return said


def summary(counts: Counts) -> str:
    """The counts in one line: leads, touches, alerts, events, processes."""
    return (
        f"{len(counts.alerts)} leads, {int(counts.touches.sum())} touches, "
        f"{int(counts.alerts.sum())} alerts, {counts.events} events, {counts.processes} processes"
    )


def replay(script: Script) -> Counts:
    """Run the script on bare SimPy; the same queues, touch budgets and waits as the engine."""
    s = script
    env = simpy.Environment()
    n = len(s.touch_days[0])
    queues: list[list[list]] = [[] for _ in range(n)]
    idle: list[simpy.Event | None] = [None] * n
    owner = list(s.owner)
    touches = np.zeros((s.horizon, n), dtype=np.int64)
    response = [np.nan] * len(s.arrival)
    alerts = [0] * len(s.arrival)
    relays = {lead: iter(to) for lead, to in s.relay_to.items()}
    today = {"touch": s.touch_days[0], "cycle": s.cycle[0]}
    counter = [0, n + 2]  # queue sequence, processes started

    def rep(r: int):
        queue, working, opens_at, length, horizon = (
            queues[r],
            s.working,
            s.opens,
            s.length,
            s.horizon,
        )
        while True:
            if not queue:
                idle[r] = ev = env.event()
                yield ev
                continue
            now = env.now
            duration = today["touch"][r]
            day = int(now)
            opens = day + opens_at
            if working[day] and now < opens:
                yield env.timeout(opens - now)
                continue
            if not (working[day] and now + duration <= opens + length + 1e-9):
                nxt = day + 1
                while nxt < horizon and not working[nxt]:
                    nxt += 1
                yield env.timeout(min(nxt + opens_at, horizon) - now)
                continue
            task = heapq.heappop(queue)
            if task[CANCELLED]:
                continue
            yield env.timeout(duration)
            touches[day, r] += 1
            task[3].succeed()

    def enqueue(r: int, task: list) -> None:
        counter[0] += 1
        task[1] = counter[0]
        heapq.heappush(queues[r], task)
        waiting = idle[r]
        if waiting is not None:
            idle[r] = None
            waiting.succeed()

    def touch(i: int, cls: int) -> simpy.Event:
        ev = env.event()
        enqueue(owner[i], [cls, 0, i, ev, env.now, False])
        return ev

    def relay(day: int) -> None:
        idle_days = s.relay_days
        for queue in queues:
            stale = [t for t in queue if not t[CANCELLED] and day - t[REQUESTED] >= idle_days]
            for task in stale:
                task[CANCELLED] = True
                lead = task[LEAD]
                owner[lead] = new = next(relays[lead])
                enqueue(new, [task[0], 0, lead, task[3], env.now, False])
            if stale:
                queue[:] = [t for t in queue if not t[CANCELLED]]
                heapq.heapify(queue)

    def close_lost(i: int) -> None:
        if i in s.dormant:
            back = env.now + s.dormant_after
            env.process(lead(s.dormant[i], back - env.now))
            counter[1] += 1

    def sign_early(i: int):
        end = s.period_end[int(env.now)]
        if end - 2.0 > env.now:
            yield env.timeout(end - 2.0 - env.now)
        yield touch(i, 1)

    def lead(i: int, wait: float | None = None):
        if wait is not None:
            yield env.timeout(wait)
        yield touch(i, s.first_class[i])
        response[i] = (env.now - s.arrival[i]) * 24
        fate, delay, pull = s.fate[i], s.delay[i], s.pull_stage.get(i, -1)
        cycle = today["cycle"][owner[i]]
        if pull == 0:
            return (yield from sign_early(i))
        yield env.timeout(delay[0] * cycle)
        if fate == 0:
            return close_lost(i)
        yield touch(i, 1)
        if pull == 1:
            return (yield from sign_early(i))
        answer = env.now + delay[1] * cycle
        while answer - env.now > s.timeout_days:
            yield env.timeout(s.timeout_days)
            alerts[i] += 1
            yield touch(i, 1)
        if answer > env.now:
            yield env.timeout(answer - env.now)
        if fate == 1:
            return close_lost(i)
        yield touch(i, 1)
        if pull == 2:
            return (yield from sign_early(i))
        yield env.timeout(delay[2] * cycle)
        if fate == 2:
            return close_lost(i)
        if i in s.pushed:
            yield env.timeout(s.period_end[int(env.now)] - env.now)
        yield touch(i, 1)

    def day_ticks():
        for day in range(s.horizon):
            today["touch"], today["cycle"] = s.touch_days[day], s.cycle[day]
            for j in s.sourced[day]:
                env.process(lead(j, s.arrival[j] - env.now))
            counter[1] += len(s.sourced[day])
            if s.relay_days is not None:
                relay(day)
            yield env.timeout(1)

    def arrivals():
        for i in range(s.drawn):
            t = s.arrival[i]
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(lead(i))
        counter[1] += s.drawn

    for r in range(n):
        env.process(rep(r))
    env.process(day_ticks())
    env.process(arrivals())
    env.run(until=s.horizon)
    return Counts(touches, np.array(response), np.array(alerts), next(env._eid), counter[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=7, help="interleaved (events, twin) pairs")
    parser.add_argument("--scenario", type=Path, default=PROPOSAL)
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    team = build_team(scenario.team, np.random.default_rng(team_seed(scenario.simulation.seed)))
    calendar = build_calendar(scenario.calendar)
    seqs = replication_seeds(scenario.simulation.seed, args.pairs)
    scripts = [script_of(scenario, team, calendar, seq) for seq in seqs]  # untimed; warms up
    replay(scripts[0][0])
    events_s, twin_s = [], []
    for seq, (script, records) in zip(seqs, scripts, strict=True):
        gc.collect()  # the previous run's garbage is collected here, not inside a timing
        start = time.process_time()
        EventEngine(scenario, team, calendar, seq).run()
        events_s.append(time.process_time() - start)
        gc.collect()
        start = time.process_time()
        counts = replay(script)
        twin_s.append(time.process_time() - start)
        wrong = differences(engine_counts(records), counts)
        if wrong:
            raise SystemExit(f"the twin did not do the engine's work: {'; '.join(wrong)}")
    ratios = [e / t for e, t in zip(events_s, twin_s, strict=True)]
    print(f"== events vs its same-work SimPy twin, {scenario.name}, {args.pairs} pairs interleaved")
    print(f"   same work, both (last pair): {summary(counts)}")
    print(f"   event engine   median {statistics.median(events_s):7.3f} s CPU")
    print(f"   twin           median {statistics.median(twin_s):7.3f} s CPU")
    print("   ratios         " + " ".join(f"{r:.2f}" for r in ratios))
    print(
        f"   events / twin  median {statistics.median(ratios):7.2f} x "
        f"(range {min(ratios):.2f}-{max(ratios):.2f}; fastest / fastest "
        f"{min(events_s) / min(twin_s):.2f} x)   target <= 2 x"
    )


if __name__ == "__main__":
    main()

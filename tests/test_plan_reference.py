"""The fast grouping paths of the payout engine against plain reference implementations.

The contests and the qualifying rule group a million rows with dense tables and hashing
(``simplan.model.plan.groups``); here the same answers are computed the slow, obvious way
(Python dictionaries, in ledger order, so float sums add up in the same order) on random
ledgers, and must match exactly.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from simplan.model.plan import compute_payouts, read_book
from simplan.model.plan.groups import codes, count_distinct, distinct, first_max, leaders
from simplan.model.plan.sheet import Sheet
from tests.test_plan_properties import books
from tests.test_plan_support import flat_targets, ledger, plan

REFERENCE = settings(max_examples=40, deadline=None, derandomize=True)
EPOCH = np.datetime64("1970-01-01", "D")


def lines_of(statements, component: str) -> dict[tuple[str, str], float]:
    lines = statements.lines[statements.lines["component"] == component]
    return {
        (str(r), str(p)): a
        for r, p, a in zip(lines["rep_id"], lines["period"], lines["amount"], strict=True)
        if a != 0
    }


def month(date: pd.Timestamp) -> str:
    return str(pd.Period(date, "M"))


def reference_daily_champion(ledger: pd.DataFrame) -> dict[tuple[str, str], float]:
    totals: dict = defaultdict(lambda: defaultdict(float))
    for rep, date, amount in zip(
        ledger["rep_id"], ledger["close_date"], ledger["amount"], strict=True
    ):
        totals[date.normalize()][str(rep)] += amount
    wins: dict = defaultdict(float)
    for day, by_rep in totals.items():
        best = max(by_rep.values())
        if best > 0:
            winner = min(rep for rep, total in by_rep.items() if total == best)
            wins[(winner, month(day))] += 1.0
    return wins


def reference_deal_streak(ledger: pd.DataFrame, days: int) -> dict[tuple[str, str], float]:
    first_row: dict = {}
    for rep, date, role in zip(ledger["rep_id"], ledger["close_date"], ledger["role"], strict=True):
        if role == "lead":
            workday = int(np.busday_count(EPOCH, np.datetime64(date.date(), "D")))
            first_row.setdefault((str(rep), workday), date)
    streaks: dict = defaultdict(float)
    position, previous = 0, None
    for rep, workday in sorted(first_row):
        position = position + 1 if previous == (rep, workday - 1) else 1
        previous = (rep, workday)
        if position % days == 0:
            streaks[(rep, month(first_row[(rep, workday)]))] += 1.0
    return streaks


def reference_squad_winner(ledger: pd.DataFrame, roster: pd.DataFrame) -> dict:
    sorted_roster = roster.assign(rep_id=roster["rep_id"].astype(str)).sort_values("rep_id")
    squads = [None if pd.isna(s) else s for s in sorted_roster["squad"]]
    squad_of = dict(zip(sorted_roster["rep_id"], squads, strict=True))
    order = {s: i for i, s in enumerate(dict.fromkeys(s for s in squads if s is not None))}
    totals: dict = defaultdict(lambda: defaultdict(float))
    last: dict = {}
    for rep, date, amount in zip(
        ledger["rep_id"], ledger["close_date"], ledger["amount"], strict=True
    ):
        squad = squad_of[str(rep)]
        if squad is None:
            continue
        week = (int(np.datetime64(date.date(), "D").astype(np.int64)) + 3) // 7
        totals[week][squad] += amount
        last[week] = max(last.get(week, ""), month(date))
    wins: dict = defaultdict(float)
    for week, by_squad in totals.items():
        best = max(by_squad.values())
        if best > 0:
            winner = min((s for s, t in by_squad.items() if t == best), key=order.__getitem__)
            for rep, squad in squad_of.items():
                if squad == winner:
                    wins[(rep, last[week])] += 1.0
    return wins


@REFERENCE
@given(books(), st.integers(1, 3))
def test_contests_match_the_reference(book, days):
    ledger, targets, roster = book
    contests = plan(
        {"type": "daily_champion", "amount": 1.0},
        {"type": "deal_streak", "amount": 1.0, "days": days},
        {"type": "squad_winner", "amount": 1.0},
    )
    statements = compute_payouts(ledger, targets, roster, contests)
    assert lines_of(statements, "daily_champion") == reference_daily_champion(ledger)
    assert lines_of(statements, "deal_streak") == reference_deal_streak(ledger, days)
    assert lines_of(statements, "squad_winner") == reference_squad_winner(ledger, roster)


@REFERENCE
@given(books(), st.integers(1, 3))
def test_new_customer_counts_match_the_reference(book, minimum):
    ledger, targets, roster = book
    rule = plan(
        {"type": "base_commission", "rate": 0.1},
        {"type": "qualifying", "min_new_customers": minimum},
    )
    statements = compute_payouts(ledger, targets, roster, rule)
    seen: dict = defaultdict(set)
    for rep, date, customer, new in zip(
        ledger["rep_id"],
        ledger["close_date"],
        ledger["customer_id"],
        ledger["new_customer"],
        strict=True,
    ):
        if new:
            seen[(str(rep), month(date))].add(customer)
    paid = {key for key, amount in lines_of(statements, "base_commission").items() if amount}
    forfeited = {key for key, amount in lines_of(statements, "qualifying").items() if amount}
    assert forfeited == {key for key in paid if len(seen[key]) < minimum}


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.integers(0, 40), max_size=60),
    st.sampled_from([41, 1 << 22]),  # a dense table, or a key space too big for one (sort)
    st.lists(st.integers(-5, 5), min_size=60, max_size=60),
)
def test_grouping_helpers_match_numpy(raw, size, values):
    keys = np.asarray(raw, dtype=np.int64) * (size // 41)
    unique, inverse = distinct(keys, size)
    expected, expected_inverse = np.unique(keys, return_inverse=True)
    assert unique.tolist() == expected.tolist()
    assert inverse.tolist() == expected_inverse.ravel().tolist()
    value = np.asarray(values[: len(unique)], dtype=float)
    group = unique // (size // 4 + 1)
    best = first_max(group, value)
    for g, b in zip(np.unique(group), best, strict=True):
        members = np.flatnonzero(group == g)
        assert b == members[np.argmax(value[members])]  # the first of the largest
    member = np.asarray(values[: len(keys)], dtype=np.int64) + 5
    cells = keys % 7
    counts = count_distinct(cells, member, 7)
    assert counts.tolist() == [len(set(member[cells == c].tolist())) for c in range(7)]
    ids = pd.Series(keys)
    assert (pd.factorize(codes(ids))[0] == pd.factorize(ids)[0]).all()
    named = pd.Series([f"c{k}" if k % 3 else None for k in raw], dtype=object)
    assert (codes(named) == pd.factorize(named)[0]).all()


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 5), st.integers(0, 6), st.sampled_from([-2.0, 0.0, 0.5, 1.0, 3.0])
        ),
        max_size=50,
    ),
    st.sampled_from([7, 1 << 20]),  # members: a dense group x member table, or distinct keys
)
def test_leaders_match_a_plain_loop(rows, n_members):
    group = np.array([g for g, _, _ in rows], dtype=np.int64)
    member = np.array([m for _, m, _ in rows], dtype=np.int64) * (n_members // 7)
    value = np.array([v for _, _, v in rows], dtype=float)
    totals: dict[int, dict[int, float]] = defaultdict(dict)
    for g, m, v in zip(group.tolist(), member.tolist(), value.tolist(), strict=True):
        totals[g][m] = totals[g].get(m, 0.0) + v  # in ledger order, as bincount adds
    expected = {}
    for g, by_member in totals.items():
        top = max(by_member.values())
        if top > 0:  # the leader: the largest sum, ties to the smallest member code
            expected[g] = min(m for m, total in by_member.items() if total == top)
    groups, leader = leaders(group, member, value, 6, n_members)
    assert dict(zip(groups.tolist(), leader.tolist(), strict=True)) == expected
    assert groups.tolist() == sorted(expected)


def test_codes_of_nullable_and_widely_spread_ids():
    assert codes(pd.Series([3, None, 5], dtype="Int64")).tolist() == [0, -1, 1]
    assert codes(pd.Series([10**12, 0, 10**12])).tolist() == [0, 1, 0]  # factorized
    assert codes(pd.Series([7, 9, 7])).tolist() == [0, 2, 0]  # offsets from the smallest


def test_counted_columns_follow_rows_roles_and_exclusions():
    rows = [
        {"deal_id": 1, "rep_id": "a", "date": "2024-01-03", "deal_amount": 10.0},
        {"deal_id": 2, "rep_id": "b", "date": "2024-01-04", "deal_amount": 20.0},
        {"deal_id": 3, "rep_id": "a", "date": "2024-02-05", "deal_amount": 30.0},
    ]
    targets = flat_targets(["a", "b"], 100.0, periods=["2024-01", "2024-02"])
    plain = Sheet(read_book(ledger(*rows), targets, None))
    assert plain.counted("amount") is plain.book.amount  # every row counts: no copy
    assert plain.counted("day", ["lead"]) is plain.book.day  # no role column: all are leads
    roles = ["lead", "support", "lead"]
    sheet = Sheet(
        read_book(
            ledger(*[r | {"role": x} for r, x in zip(rows, roles, strict=True)]), targets, None
        )
    )
    assert sheet.counted("amount", ["lead"]).tolist() == [10.0, 30.0]
    sheet.exclude_rows(np.array([True, False, False]))
    for column in ("amount", "day", "rep", "cell"):
        for wanted in (None, ["lead"], ["support"]):
            expected = getattr(sheet.book, column)[sheet.rows(wanted)]
            assert sheet.counted(column, wanted).tolist() == expected.tolist()
    assert sheet.counted("amount", ["lead"]).tolist() == [30.0]


@REFERENCE
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["x", "y", "z", None])),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["str", "object", "category", "int", "none"]),
)
def test_two_new_customers_by_comparison_match_the_count(rows, kind):
    # min_new_customers 2 compares each row's customer with its cell's first (no hashing);
    # it must agree with the distinct count, a missing customer being its own customer.
    reps = [f"r{r}" for r, _ in rows]
    names = [c for _, c in rows]
    frame = ledger(
        *[
            {"deal_id": k, "rep_id": rep, "date": "2024-01-05", "deal_amount": 1.0}
            for k, rep in enumerate(reps)
        ]
    )
    if kind == "int":
        frame["customer_id"] = pd.array([None if c is None else ord(c) for c in names], "Int64")
    elif kind != "none":
        frame["customer_id"] = pd.Series(names, dtype={"object": object}.get(kind, kind))
    book = read_book(frame, flat_targets([f"r{r}" for r in range(4)], 1.0), None)
    picked = np.arange(len(rows))
    cell = book.cell[picked]
    counts = count_distinct(cell, book.customers(picked), book.n_cells)
    assert book.several_customers(picked, cell).tolist() == (counts >= 2).tolist()

"""A day's arrivals written into the lead table in one compiled pass: the reps' self-sourced
customers as new rows, then every arrival (routed and sourced, in that order) given its
owner, rank, value and expected value, its owner's pipelines and open leads, and its
request for a first contact.

One pass over the day's leads, where numpy would take a dozen strided gathers and scatters
over the table's row-major blocks and a dict of columns a day."""

from __future__ import annotations

import numba

from simplan.engines.fast.table import (
    CONTACT,
    EXPECTED,
    FIRST_OWNER,
    OWNER,
    RANK,
    SIZE,
    SOURCE,
    TIER,
    TIME,
    U_ROUTE,
    U_TIMING,
    U_WIN,
    VALUE,
    P,
    new_row,
    request_touch,
)


@numba.njit(cache=True)
def arrive(routed, routed_owners, counts, taken, pool, start, rank, floats, ints, codes,
           replication, delays, day_start, workday_length, self_sourced, p_of_tier,
           deal_size_multiplier, pipeline, expected_pipeline, open_leads, pending, fill):  # fmt: skip
    """The day's arrivals, in place: `routed` leads (ids) with their `routed_owners`, then
    the self-sourced customers of `counts` (replications, reps, tiers) as rows from
    `start` on, each replication's tier from its `taken`-th customer of `pool`
    (replications, tiers, WIDTH, customers: `sourcing.CustomerDraws`), in order of
    replication, tier, rep, timed `day_start` plus its clock in the `workday_length` and
    owned by its rep. Each arrival, ranked from `rank` on, is owned, valued (its size times
    its owner's multiplier) and added to its owner's pipeline, expected pipeline (win
    chance times value) and open leads, and waits for a first contact (in `pending`,
    `fill[0]` of them). Returns the number of sourced rows."""
    team_size = counts.shape[1]
    i = start
    for r in range(counts.shape[0]):
        for tier in range(counts.shape[2]):
            customer = taken[r, tier]
            for rep in range(team_size):
                for _ in range(counts[r, rep, tier]):
                    new_row(i, floats, ints, codes)
                    drawn = pool[r, tier, :, customer]
                    floats[i, TIME] = day_start + drawn[0] * workday_length
                    floats[i, SIZE], floats[i, P] = drawn[1], p_of_tier[tier]
                    floats[i, U_WIN], floats[i, U_ROUTE], floats[i, U_TIMING] = (
                        drawn[2],
                        drawn[3],
                        drawn[4],
                    )
                    codes[i, TIER], codes[i, SOURCE] = tier, self_sourced
                    replication[i] = r
                    ints[i, OWNER] = r * team_size + rep  # read below, as a routed lead's
                    for d in range(3):
                        delays[i, d] = drawn[5 + d]
                    customer += 1
                    i += 1
    sourced, place = i - start, fill[0]
    for k in range(len(routed) + sourced):
        lead = routed[k] if k < len(routed) else start + k - len(routed)
        o = routed_owners[k] if k < len(routed) else ints[lead, OWNER]
        ints[lead, OWNER] = ints[lead, FIRST_OWNER] = o
        ints[lead, RANK] = rank + k
        value = floats[lead, VALUE] = floats[lead, SIZE] * deal_size_multiplier[o]
        pipeline[o] += value
        open_leads[o] += 1.0
        expected = floats[lead, P] * value
        expected_pipeline[o] += expected - floats[lead, EXPECTED]
        floats[lead, EXPECTED] = expected
        place = request_touch(lead, CONTACT, floats[lead, TIME], floats, codes, pending, place)
    fill[0] = place
    return sourced

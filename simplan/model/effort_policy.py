"""Reps who plan ahead: each rep's effort policy from a finite-horizon dynamic program.

Each rep solves, once per plan period, the program of the structural salesforce-compensation
literature (Misra & Nair 2011; Chung, Steenburgh & Sudhir 2014):

- state: attainment so far (bookings / the rep's own target, on a grid of `GRID_STEP`) and
  the decision step (`decision_days` each) of the period;
- control: effort, on a grid from `min_effort` to `max_effort`;
- reward: the plan's pay for the period-end attainment (`Plan.payout_curve`, the same pure
  engine that writes the statements), minus a convex cost of effort per day
  `c e^gamma / gamma` (`gamma` = `cost_curvature`);
- transition: the rep's own bookings in a step, a compound Poisson of deals (the rep's deal
  rate and deal-size distribution, from the scenario). Effort moves the win chance of the
  deals closing that step (closing effort) and the self-sourced part of the rep's volume (both
  in `production`); of the deals it sources, only the share that closes before the period
  ends (`landing`, from the sales cycle) counts this period; the rest books next period and
  is valued at what starting next period that much ahead is worth: the slope of the period's
  own start value over its first `CARRY_SPAN` of target (the plan repeats), times
  `next_period_discount`: a fixed point (`PeriodProgram.stationary`), as in the structural
  literature's infinite-horizon programs. Under a gate, early bookings of next period are
  worth little, so reps ease off as the period ends; under a flat rate they are worth it.

The cost is scaled so that a rep facing `reference_rate` on every extra unit of bookings
works at effort 1; without a plan-dependent reason to do otherwise, effort stays there.
That one rule makes reps speed up near a threshold, give up below a gate out of reach, coast
above a cap and work harder above quota under an accelerator.

A rep plans on the flow it expects (`planned_volume`): all of it for a rep who counts its open
pipeline (`pipeline_sight` 1); for one who does not (0), each step brings what closes then from
the pipeline the period started with plus, credited when sourced, what the step sources and
will close by the period's end: as much over the period, but early, so mid-period such a rep
reckons it is behind and pushes nearer a line. Closing effort lifts the deals that close in the
step, and only those the rep counts (not what it has already credited when it sourced it). Its
states still move by the flow it gets (`mean_lift`).

The expectation over a step's bookings is exact for a compound Poisson on the grid: the
step's distribution has the discrete Fourier transform exp(lambda (S - 1)), S being that of
one deal's size, so one FFT per effort level gives E[V(a + X)] for every state at once. The
transforms depend on the reps and the period, not on the plan, so they are kept across programs
(`_KERNELS`): every candidate plan of a design run solves on the same reps and periods.
"""

from __future__ import annotations

import cmath
import hashlib
from dataclasses import dataclass

import numba
import numpy as np
import scipy.fft

from simplan.model.production import closing_lift, effort_lift

GRID_STEP = 0.01
"""Attainment grid step (1 % of target)."""
GRID_TOP = 4.0
"""Top of the attainment grid; values beyond it are extrapolated linearly."""
MAX_SPREAD_CELLS = 30_000
"""Bound on a step's bookings, in cells, that the FFT must hold without wrapping round."""
KERNEL_CACHE_BYTES = 512 * 2**20
"""The steps' bookings transforms kept in a process (the least recently used go first): enough
for the five monthly periods of a 50-rep quarter with its warm-up (about 350 MB), so each
candidate plan of a design run finds them solved."""
LIFT_TOLERANCE = 5e-3
"""The normalisation stops once every rep's mean volume multiplier is within 0.5 % of 1."""
CARRY_SPAN = 0.2
"""Next period's value of bookings carried into it: the mean slope of the period's start
value over its first 20 % of target (what a spill of a few weeks' deals spans)."""
CONTINUATION_ROUNDS = 2
"""Rounds of the continuation fixed point (the slope moves little after the first)."""


@dataclass(frozen=True)
class RepOutlook:
    """What each rep knows about its own bookings in a plan period (arrays over reps)."""

    target: np.ndarray  # the rep's target for the period (currency)
    deals_per_day: np.ndarray  # expected won deals closing per day at effort 1
    size_pmf: np.ndarray  # (reps, cells): one deal's size in attainment units on the grid
    self_sourced_share: np.ndarray  # share of the deal flow that effort moves
    elasticity: float  # self-sourced volume ~ effort ** elasticity
    landing: np.ndarray  # (reps, steps): chance that effort in step k closes this period
    next_rate: np.ndarray  # next period's expected pay per unit of bookings (first guess)
    ratchet_share: float = 0.0  # next target rises by this share of bookings above target
    closing: float = 0.0  # a deal closing at effort e wins 1 + closing (e - 1) times as often
    sight: float = 1.0  # how much of the pipeline in the works the rep counts when it plans
    from_before: np.ndarray | None = None  # (reps, steps): share of step k's closes that were
    # sourced before the period (None: none were)


@dataclass(frozen=True)
class EffortPolicy:
    """Effort by rep, decision step and attainment cell, and the value of each state."""

    effort: np.ndarray  # (reps, steps, cells)
    choice: np.ndarray  # (reps, steps, cells): index of the effort level chosen
    value: np.ndarray  # (reps, cells): expected pay minus effort cost at the period start
    step_days: float

    def effort_at(self, attainment: np.ndarray, days_in: float) -> np.ndarray:
        """Each rep's effort at its attainment (reps,) or (copies of the team, reps), `days_in`
        days into the period."""
        step = min(int(days_in // self.step_days), self.effort.shape[1] - 1)
        cell = np.clip(np.rint(attainment / GRID_STEP), 0, self.effort.shape[2] - 1)
        return self.effort[np.arange(attainment.shape[-1]), step, cell.astype(np.int64)]


def volume_lift(efforts: np.ndarray, share: np.ndarray, elasticity: float) -> np.ndarray:
    """The relative change in a rep's deal flow from a step worked at each effort level,
    (reps, efforts): the self-sourced `share` scales with effort ** elasticity (0 at effort 1)."""
    return share[:, None] * (effort_lift(efforts, elasticity)[None, :] - 1.0)


def planned_volume(
    lift: np.ndarray, closing: np.ndarray, land: np.ndarray, sight: float,
    from_before: np.ndarray,
) -> np.ndarray:  # fmt: skip
    """A step's deal flow, over that of effort 1, that a rep plans on at each effort level
    (reps, efforts), from the sourcing `lift` (reps, efforts), the `closing` lift of the win
    chance (efforts,), the share `land` (reps, 1) of what the step sources that closes this
    period, the rep's `sight` and the share `from_before` (reps, 1) of the step's closes
    sourced before the period.

    What the step sources and will close this period counts when it is sourced (`lift` x
    `land`); closing effort lifts only the deals that close now, and of those only the ones
    the rep counts: all of its pipeline with sight 1, with sight 0 only what the period
    started with (what it sourced since was credited when sourced, at effort 1's chance)."""
    counted = from_before + sight * (1.0 - from_before)  # of the closes now, those it counts
    seen = 1.0 - (1.0 - sight) * (1.0 - from_before - land)  # the flow it plans on at effort 1
    return seen + lift * land + counted * (closing[None, :] - 1.0)


def size_pmf_on_grid(values: np.ndarray, weights: np.ndarray, target: np.ndarray) -> np.ndarray:
    """One deal's size as a pmf over attainment cells per rep, splitting each value between
    its two neighbouring cells so the mean is exact.

    `values` (reps, samples) are deal sizes in currency with `weights` (reps, samples).
    """
    cells = values / target[:, None] / GRID_STEP
    low = np.floor(cells).astype(np.int64)
    frac = cells - low
    width = int(low.max()) + 2
    pmf = np.zeros((len(target), width))
    rows = np.repeat(np.arange(len(target)), values.shape[1])
    np.add.at(pmf, (rows, low.ravel()), (weights * (1 - frac)).ravel())
    np.add.at(pmf, (rows, low.ravel() + 1), (weights * frac).ravel())
    return pmf / pmf.sum(axis=1, keepdims=True)


class PeriodProgram:
    """One plan period's dynamic program for every rep: the effort grid, the decision steps
    and each step's bookings distribution, ready to be solved for any pay and effort cost."""

    def __init__(
        self, outlook: RepOutlook, period_days: float, step_days: float, efforts: np.ndarray,
        cost_curvature: float,
    ) -> None:  # fmt: skip
        o = outlook
        self.outlook, self.period_days, self.step_days = o, period_days, step_days
        self.efforts, self.curvature = efforts, cost_curvature
        self.steps = max(1, int(np.ceil(period_days / step_days)))
        self.lift = volume_lift(efforts, o.self_sourced_share, o.elasticity)  # (R, E)
        self.closing = closing_lift(efforts, o.closing)  # (E,): the closing deals' win chance
        self.cells = grid_cells()
        most = (1 + np.maximum(self.lift, 0.0)) * self.closing[None, :]
        max_rate = o.deals_per_day * most.max(axis=1) * step_days
        positions = np.arange(o.size_pmf.shape[1])
        mean_cells = (o.size_pmf * positions).sum(axis=1)
        second = (o.size_pmf * positions**2).sum(axis=1)
        # A step's bookings stay below mean + 10 sd (+ one largest deal) but for ~1e-12 of mass.
        spread = max_rate * mean_cells + 10 * np.sqrt(max_rate * second) + o.size_pmf.shape[1]
        self.length = _fft_length(self.cells + int(np.ceil(min(spread.max(), MAX_SPREAD_CELLS))))
        self.size_hat = np.fft.rfft(o.size_pmf, n=self.length, axis=1)  # (R, F)
        self.mean_size = mean_cells * GRID_STEP * o.target  # currency per deal
        self._key = _digest(
            self.lift, self.closing, o.deals_per_day, o.landing, o.size_pmf, o.target,
            np.array([self.length, step_days, period_days]),
        )  # fmt: skip
        """What the steps' transforms depend on (the reps' flow and the period, not the plan)."""
        self._planned_key = _digest(
            np.array([o.sight]), *(() if o.from_before is None else (o.from_before,))
        )
        """What the flow the reps plan on depends on besides (the flow they get does not)."""

    def _step(
        self, k: int, rows: np.ndarray | None = None, planned: bool = True
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Step k's length in days, the conjugate DFT of its bookings per effort level
        (R, E, F; (R, 1, F) when effort moves nothing this period, so every level books alike)
        and the extra bookings that effort puts into next period (R, E, currency), for all reps
        or `rows`: the flow the reps plan on, or (not `planned`) the flow they get; the same
        for every solve on these reps, so kept (`_KERNELS`)."""
        if rows is not None and not np.array_equal(rows, np.arange(len(self.outlook.target))):
            days, kernel_conj, spill = self._step(k, planned=planned)
            return days, kernel_conj[rows], spill[rows]
        o = self.outlook
        key = (self._key, k, self._planned_key if planned else None)
        if key in _KERNELS:
            _KERNELS[key] = _KERNELS.pop(key)  # the most recently used last
            return _KERNELS[key]
        days = min(self.step_days, self.period_days - k * self.step_days)
        land = o.landing[:, min(k, o.landing.shape[1] - 1), None]
        if planned:
            volume = planned_volume(self.lift, self.closing, land, o.sight, self._from_before(k))
        else:
            volume = (1.0 + self.lift * land) * self.closing[None, :]
        rate = np.maximum(o.deals_per_day[:, None] * days * volume, 0.0)
        spill = (o.deals_per_day * self.mean_size * days)[:, None] * (1 - land) * self.lift
        if np.all(rate == rate[:, :1]):
            rate = rate[:, :1]
        kernel_conj = _conj_step_kernel(np.ascontiguousarray(rate), self.size_hat)
        _keep(key, (days, kernel_conj, spill), kernel_conj.nbytes)
        return days, kernel_conj, spill

    def _from_before(self, k: int) -> np.ndarray:
        """The share of step k's closes sourced before the period, per rep (R, 1)."""
        before = self.outlook.from_before
        if before is None:
            return np.zeros((len(self.outlook.target), 1))
        return before[:, min(k, before.shape[1] - 1), None]

    def solve(
        self, pay: np.ndarray, cost_scale: np.ndarray, next_rate: np.ndarray,
        rows: np.ndarray | None = None,
    ) -> EffortPolicy:  # fmt: skip
        """Backward induction. `pay` (reps, cells) is the period pay on the attainment grid;
        `cost_scale` c per rep (currency per day at effort 1); `next_rate` what a unit booked
        next period is worth now, per rep. With `rows`, only those reps (the arguments and the
        policy are theirs).

        The expectations are transformed in single precision (`scipy.fft`, which keeps it on any
        numpy): values carry a relative error of about 1e-5, far below the grid's own (a cell
        is 1 % of target, an effort level 0.09), for under half the cost of double precision,
        the transforms being most of a design candidate's policies (45 % less CPU on the
        baseline quarter's). Where two effort levels are worth the same to 1e-5, the choice
        between them is arbitrary in either precision."""
        o, cells = self.outlook, self.cells
        target = o.target if rows is None else o.target[rows]
        day_cost = cost_scale[:, None] * np.power(self.efforts, self.curvature) / self.curvature
        unit = next_rate * target  # pay per unit of attainment next period
        value = pay - o.ratchet_share * unit[:, None] * np.maximum(_grid(cells) - 1.0, 0.0)
        choice = np.empty((len(target), self.steps, cells), dtype=np.int16)
        product = np.empty(
            (len(target), len(self.efforts), self.length // 2 + 1), dtype=np.complex64
        )
        for k in range(self.steps - 1, -1, -1):
            days, kernel_conj, spill = self._step(k, rows)
            padded = scipy.fft.rfft(_extend(value, self.length), axis=1)
            step_product = product[:, : kernel_conj.shape[1]]
            np.multiply(padded[:, None, :], kernel_conj, out=step_product)
            expected = scipy.fft.irfft(step_product, n=self.length, axis=2)
            offset = spill * next_rate[:, None] - days * day_cost  # (R, E) currency
            value = np.empty((len(target), cells))
            _best_effort(expected, offset, choice, k, value)
        effort = self.efforts[choice].astype(np.float32)
        return EffortPolicy(effort=effort, choice=choice, value=value, step_days=self.step_days)

    def first_carry_rate(self, discount: float, next_rate: np.ndarray | None = None) -> np.ndarray:
        """The continuation fixed point's start: the expected rate of the plan being solved
        (`next_rate`, by default the outlook's), discounted."""
        rate = self.outlook.next_rate if next_rate is None else next_rate
        return discount * np.asarray(rate, dtype=float)

    def carry_rate(
        self, policy: EffortPolicy, discount: float, rows: np.ndarray | None = None
    ) -> np.ndarray:
        """What a unit booked early next period is worth now, per rep (of `rows`): the slope of
        the start value over its first `CARRY_SPAN` of target, discounted (never below 0)."""
        span = round(CARRY_SPAN / GRID_STEP)
        target = self.outlook.target if rows is None else self.outlook.target[rows]
        slope = (policy.value[:, span] - policy.value[:, 0]) / (CARRY_SPAN * target)
        return discount * np.maximum(slope, 0.0)

    def stationary(
        self, pay: np.ndarray, cost_scale: np.ndarray, discount: float,
        next_rate: np.ndarray | None = None, rounds: int = CONTINUATION_ROUNDS,
    ) -> EffortPolicy:  # fmt: skip
        """The policy when the plan repeats: next period's bookings valued at the slope of this
        period's own start value (a fixed point from the plan's expected rate `next_rate`, by
        default the outlook's: one program serves every plan on the same reps)."""
        rate = self.first_carry_rate(discount, next_rate)
        for _ in range(rounds):
            rate = self.carry_rate(self.solve(pay, cost_scale, rate), discount)
        return self.solve(pay, cost_scale, rate)

    def mean_effort(self, policy: EffortPolicy, rows: np.ndarray | None = None) -> np.ndarray:
        """Each rep's (of `rows`) expected effort over the period under `policy`."""
        reps = policy.value.shape[0]
        return self._time_mean(policy, np.broadcast_to(self.efforts, (reps, len(self.efforts))),
                               rows)  # fmt: skip

    def mean_lift(self, policy: EffortPolicy, rows: np.ndarray | None = None) -> np.ndarray:
        """Each rep's (of `rows`) expected volume multiplier over the period under `policy`:
        the deals it sources and wins, (1 + sourcing lift) x closing lift, over those at
        effort 1; 1 when it books, on average, the flow of effort 1."""
        lift = self.lift if rows is None else self.lift[rows]
        return self._time_mean(policy, (1 + lift) * self.closing[None, :], rows)

    def _time_mean(
        self, policy: EffortPolicy, per_level: np.ndarray, rows: np.ndarray | None
    ) -> np.ndarray:
        """Each rep's time-weighted expected value of `per_level` (reps, effort levels) at the
        levels `policy` chooses, starting from nothing booked: the state distribution carried
        forward step by step."""
        reps, cells = policy.value.shape[0], self.cells
        mass = np.zeros((reps, cells))
        mass[:, 0] = 1.0
        total = np.zeros(reps)
        for k in range(self.steps):
            days, kernel_conj, _ = self._step(k, rows, planned=False)
            chosen = np.take_along_axis(per_level, policy.choice[:, k, :].astype(np.int64), axis=1)
            total += days * (mass * chosen).sum(axis=1)
            levels = len(self.efforts)
            split = np.zeros((reps, levels, cells))
            np.put_along_axis(split, policy.choice[:, k, None, :].astype(np.int64), mass[:, None, :],
                              axis=1)  # fmt: skip
            # each effort level's mass moves by its own kernel, summed (in level order) before
            # the one inverse; only the levels some mass is at, the others adding nothing
            split = split.reshape(reps * levels, cells)
            active = np.flatnonzero(split.any(axis=1))
            rep, level = np.divmod(active, levels)
            kernel = kernel_conj[rep, 0 if kernel_conj.shape[1] == 1 else level]
            moved_hat = np.zeros((reps, self.length // 2 + 1), dtype=complex)
            first = np.flatnonzero(np.r_[True, rep[1:] != rep[:-1]])  # each rep's first level
            moved_hat[rep[first]] = np.add.reduceat(
                np.fft.rfft(split[active], n=self.length) * np.conj(kernel), first, axis=0
            )
            moved = np.fft.irfft(moved_hat, n=self.length, axis=1)
            mass = moved[:, :cells]
            mass[:, -1] += moved[:, cells:].sum(axis=1)
            mass = np.maximum(mass, 0.0)
            mass /= mass.sum(axis=1, keepdims=True)
        return total / self.period_days


def normalised_cost(
    program: PeriodProgram, reference_pay: np.ndarray, cost_scale: np.ndarray, discount: float,
    rounds: int = 8,
) -> tuple[np.ndarray, EffortPolicy]:  # fmt: skip
    """Effort costs per rep such that under `reference_pay` (the plan in force when the
    history was recorded, repeating) each rep books, on average, the flow of effort 1
    (`PeriodProgram.mean_lift` is 1): effort 1 then means "as in the history", and the
    calibrated flows are what the team books under the old plan; and the policy under that
    plan at those costs (each rep's row from its best round), which is the reps' policy
    wherever that plan pays. (Mean effort 1 would not do: effort varies within the period and
    sourcing is concave in it, so a rep at mean effort 1 books less than at effort 1 always.)

    The mean lift falls as the cost rises, in small steps (effort levels are discrete), so the
    root of its log in log(cost) is bracketed: a first step exact for a static rep (c x
    effort^(gamma - 1), the lift's elasticity to effort at 1), then secant steps kept inside
    the bracket (bisection where a secant leaves it), until every rep is within
    `LIFT_TOLERANCE`; each rep keeps its best cost. Each round also carries the continuation
    fixed point one step (`PeriodProgram.carry_rate`).
    """
    power = program.curvature - 1
    o = program.outlook
    # d log(lift) / d log(effort) at effort 1, floored: where effort moves little, any cost will do
    sensitivity = np.maximum(o.self_sourced_share * o.elasticity + o.closing, 0.05)
    reps = len(cost_scale)
    rate = program.first_carry_rate(discount).copy()
    x = np.log(cost_scale)
    low, high = np.full(reps, -np.inf), np.full(reps, np.inf)  # f > 0 at low, < 0 at high
    best_x, best_f = x.copy(), np.full(reps, np.inf)
    x_prev, f_prev = np.full(reps, np.nan), np.full(reps, np.nan)
    best: EffortPolicy | None = None
    rows = np.arange(reps)  # the reps not yet within tolerance: only they are solved again
    for _ in range(rounds):
        xs = x[rows]
        policy = program.solve(reference_pay[rows], np.exp(xs), rate[rows], rows)
        rate[rows] = program.carry_rate(policy, discount, rows)
        f = np.log(np.maximum(program.mean_lift(policy, rows), 1e-6))
        better = np.abs(f) < np.abs(best_f[rows])
        best_x[rows[better]], best_f[rows[better]] = xs[better], f[better]
        best = policy if best is None else _with_rows(best, rows[better], policy, better)
        low[rows] = np.where(f > 0, np.maximum(low[rows], xs), low[rows])
        high[rows] = np.where(f < 0, np.minimum(high[rows], xs), high[rows])
        step = power * f / sensitivity[rows]  # exact for a static rep
        slope = (f - f_prev[rows]) / np.where(xs != x_prev[rows], xs - x_prev[rows], np.inf)
        secant = -f / np.where(slope < 0, slope, -1.0)
        # a secant across a plateau of the effort steps can shoot far: at most 2 static steps
        step = np.where(slope < 0, np.clip(secant, -2 * np.abs(step), 2 * np.abs(step)), step)
        candidate = xs + np.clip(step, -1.5, 1.5)
        bracketed = np.isfinite(low[rows]) & np.isfinite(high[rows])
        outside = bracketed & ((candidate <= low[rows]) | (candidate >= high[rows]))
        x_prev[rows], f_prev[rows] = xs, f
        x[rows] = np.where(outside, 0.5 * (low[rows] + high[rows]), candidate)
        rows = np.flatnonzero(np.abs(best_f) >= LIFT_TOLERANCE)
        if len(rows) == 0:
            break
    assert best is not None
    return np.exp(best_x), best


def _with_rows(
    policy: EffortPolicy, rows: np.ndarray, new: EffortPolicy, pick: np.ndarray
) -> EffortPolicy:
    """`policy` with its `rows` replaced by the rows of `new` that `pick` marks."""
    effort, choice, value = policy.effort.copy(), policy.choice.copy(), policy.value.copy()
    effort[rows], choice[rows], value[rows] = new.effort[pick], new.choice[pick], new.value[pick]
    return EffortPolicy(effort=effort, choice=choice, value=value, step_days=policy.step_days)


@numba.njit(cache=True)
def _conj_step_kernel(rate: np.ndarray, size_hat: np.ndarray) -> np.ndarray:
    """conj(exp(rate (size_hat - 1))) per rep, effort level and frequency (R, E, F): a step's
    bookings transform, a compound Poisson of `rate` deals per effort level (R, E), in single
    precision, as `PeriodProgram.solve` uses it."""
    reps, levels = rate.shape
    out = np.empty((reps, levels, size_hat.shape[1]), dtype=np.complex64)
    for r in range(reps):
        for e in range(levels):
            for f in range(size_hat.shape[1]):
                out[r, e, f] = cmath.exp(rate[r, e] * (size_hat[r, f] - 1.0)).conjugate()
    return out


@numba.njit(cache=True)
def _best_effort(
    expected: np.ndarray, offset: np.ndarray, choice: np.ndarray, step: int, value: np.ndarray
) -> None:
    """The backward step's choice: per rep and cell the effort level with the highest
    `expected` (R, E or 1 shared by all levels, cells or more) plus `offset` (R, E), the first
    on a tie; its index into `choice[:, step]` (choice: R, steps, cells) and its value into
    `value` (R, cells). (The whole `choice` is passed, not its step's slice: a slice is
    C-contiguous only when there is one step, and two layouts are two cached compilations that
    parallel test workers may write at once.)"""
    reps, levels = offset.shape
    cells = value.shape[1]
    shared = expected.shape[1] == 1
    for r in range(reps):
        for c in range(cells):
            value[r, c] = expected[r, 0, c] + offset[r, 0]
            choice[r, step, c] = 0
        for e in range(1, levels):
            row = 0 if shared else e
            for c in range(cells):
                q = expected[r, row, c] + offset[r, e]
                if q > value[r, c]:
                    value[r, c] = q
                    choice[r, step, c] = e


_KERNELS: dict[tuple[bytes, int], tuple[float, np.ndarray, np.ndarray]] = {}
"""Steps' transforms by (the program's inputs, step), oldest use first (`KERNEL_CACHE_BYTES`)."""


def _keep(key: tuple[bytes, int], step: tuple[float, np.ndarray, np.ndarray], size: int) -> None:
    """Keep a step's transforms, dropping the least recently used past `KERNEL_CACHE_BYTES`."""
    if size > KERNEL_CACHE_BYTES:
        return
    while _KERNELS and _kept_bytes() + size > KERNEL_CACHE_BYTES:
        del _KERNELS[next(iter(_KERNELS))]
    _KERNELS[key] = step


def _kept_bytes() -> int:
    """Bytes of the transforms kept."""
    return sum(kept[1].nbytes for kept in _KERNELS.values())


def _digest(*arrays: np.ndarray) -> bytes:
    """A digest of arrays' shapes and values."""
    h = hashlib.blake2b(digest_size=16)
    for array in arrays:
        h.update(repr(array.shape).encode())
        h.update(np.ascontiguousarray(array, dtype=float).tobytes())
    return h.digest()


def _grid(cells: int) -> np.ndarray:
    return np.arange(cells) * GRID_STEP


def grid_cells() -> int:
    """Number of attainment cells on the grid (0 to GRID_TOP inclusive)."""
    return round(GRID_TOP / GRID_STEP) + 1


def _extend(value: np.ndarray, length: int) -> np.ndarray:
    """Values beyond the grid's top, extrapolated on the slope of its last 10 % of target, in
    the single precision `PeriodProgram.solve` transforms them in (written so, not copied)."""
    cells = value.shape[1]
    tail = max(1, round(0.1 / GRID_STEP))
    slope = (value[:, -1] - value[:, -1 - tail]) / tail
    out = np.empty((value.shape[0], length), dtype=np.float32)
    out[:, :cells] = value
    out[:, cells:] = value[:, -1:] + slope[:, None] * np.arange(1, length - cells + 1)[None, :]
    return out


def _fft_length(n: int) -> int:
    """The next power of two at or above n."""
    return 1 << int(np.ceil(np.log2(max(n, 2))))

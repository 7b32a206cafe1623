"""The moments the behaviour fit compares a history with its simulations, and their covariance.

Each moment is measured against **each rep's own target** per plan period: the attainment
P10/P25/P50/P75/P90, the share at target, the share of bookings in each period's last two
weeks, and three families of cells by band of attainment so far x weeks left, each read
against the rep's own mean over the window so that a cell shows how reps move with the
plan's lines, not how they differ:

- `pace`: bookings of the next two weeks (the effort response: speeding up near a line,
  giving up below one out of reach, coasting above a cap);
- `created`: opportunities the rep opens in the next two weeks (effort that sources volume,
  `production.self_sourced_share`);
- `win`: won over closed deals of the next two weeks, against the rep's own win rate (effort
  at the close, `production.closing_elasticity`).
"""

from __future__ import annotations

import itertools
from functools import partial

import numpy as np
import pandas as pd

ATTAINMENT_BANDS = (0.0, 0.4, 0.7, 0.9, 1.1, 1.5, np.inf)
WEEKS_LEFT_BANDS = (0, 3, 7, np.inf)
PACE_WEEKS = 2
MIN_CELL = 8
"""A pace cell needs this many history observations to count."""
FLOOR = 0.02
"""A moment's standard deviation is at least this (a moment that barely varies in simulation
would otherwise dominate the distance)."""
MOMENTS = (
    "share_at_target", "last_weeks_share", "attainment_p10", "attainment_p25",
    "attainment_p50", "attainment_p75", "attainment_p90", "pace", "created", "win",
)  # fmt: skip
"""The moments the distance uses (cell families by their prefix)."""


def moments(
    bookings: pd.DataFrame, deals: pd.DataFrame, targets: pd.Series, periods: pd.DataFrame
) -> dict:
    """The moments of one world. `bookings`: rep_id, date, amount (credited); `deals`: rep_id,
    created, closed (NaT while open), won (bool); `targets`: target by (rep_id, period);
    `periods`: period, start, end. Each rep's booking, creation and win paces are read against
    the rep's own mean over the window, so the cells show how a rep moves with the plan's
    lines, not how reps differ."""
    reps = targets.index.unique("rep_id")
    blocks = []
    for p in periods.itertuples(index=False):
        weeks = int(np.ceil(((p.end - p.start).days + 1) / 7))
        weekly = partial(_weekly, reps=reps, start=p.start, end=p.end, weeks=weeks)
        closed = deals["closed"]
        blocks.append(
            {
                "booked": weekly(bookings["rep_id"], bookings["date"], bookings["amount"]),
                "created": weekly(deals["rep_id"], deals["created"], 1.0),
                "closed": weekly(deals["rep_id"], closed, 1.0),
                "won": weekly(deals["rep_id"], closed, deals["won"].astype(float)),
                "target": targets.xs(p.period, level="period").reindex(reps).to_numpy(float),
            }
        )
    attained = [b["booked"] / b["target"][:, None] for b in blocks]
    attainment = np.concatenate([a.sum(axis=1) for a in attained])
    totals = sum(b["booked"].sum() for b in blocks)
    last = sum(b["booked"][:, -PACE_WEEKS:].sum() for b in blocks)
    out = {
        "share_at_target": float((attainment >= 1).mean()),
        "last_weeks_share": float(last / totals) if totals else 0.0,
    }
    for q in (10, 25, 50, 75, 90):
        out[f"attainment_p{q}"] = float(np.percentile(attainment, q))
    weeks_seen = sum(b["booked"].shape[1] for b in blocks)
    own = {
        name: sum(b[name].sum(axis=1) for b in blocks)
        for name in ("booked", "created", "closed", "won")
    }
    with np.errstate(invalid="ignore", divide="ignore"):
        per_two_weeks = {
            name: own[name] * PACE_WEEKS / weeks_seen for name in ("booked", "created")
        }
        win_rate = own["won"] / own["closed"]
    cells = {key: [] for key in ("so_far", "left", "pace", "created", "won", "expected")}
    for block, attained_weekly in zip(blocks, attained, strict=True):
        so_far = np.cumsum(attained_weekly, axis=1)
        weeks = so_far.shape[1]
        for w in range(1, weeks - 1):
            ahead = slice(w, w + PACE_WEEKS)
            cells["so_far"].append(so_far[:, w - 1])
            cells["left"].append(np.full(len(so_far), weeks - w))
            with np.errstate(invalid="ignore", divide="ignore"):
                cells["pace"].append(
                    block["booked"][:, ahead].sum(axis=1) / per_two_weeks["booked"]
                )
                cells["created"].append(
                    block["created"][:, ahead].sum(axis=1) / per_two_weeks["created"]
                )
            cells["won"].append(block["won"][:, ahead].sum(axis=1))
            cells["expected"].append(
                block["closed"][:, ahead].sum(axis=1) * np.nan_to_num(win_rate)
            )
    cells = {key: np.concatenate(values) for key, values in cells.items()}
    a_band = np.digitize(cells["so_far"], ATTAINMENT_BANDS[1:-1])
    w_band = np.digitize(cells["left"], WEEKS_LEFT_BANDS[1:-1])
    for i, j in itertools.product(
        range(len(ATTAINMENT_BANDS) - 1), range(len(WEEKS_LEFT_BANDS) - 1)
    ):
        cell = (a_band == i) & (w_band == j)
        name = f"[a{i},w{j}]"
        out[f"count{name}"] = int(cell.sum())
        for family in ("pace", "created"):
            values = cells[family][cell]
            values = values[np.isfinite(values)]
            out[f"{family}{name}"] = float(values.mean()) if len(values) else np.nan
        expected = cells["expected"][cell].sum()
        out[f"win{name}"] = float(cells["won"][cell].sum() / expected) if expected > 0 else np.nan
    return out


def _weekly(rep_id, date, value, reps, start, end, weeks) -> np.ndarray:
    """Sum of `value` by rep (in `reps` order) and week of the period `start`..`end` (a last
    short week joins the one before), for the rows dated inside it."""
    rep = reps.get_indexer(pd.Index(rep_id).astype(str))
    day = (pd.DatetimeIndex(date) - start).days.to_numpy(float)
    inside = (rep >= 0) & (day >= 0) & (day <= (end - start).days)
    week = np.minimum(day[inside] // 7, weeks - 1).astype(int)
    out = np.zeros((len(reps), weeks))
    np.add.at(out, (rep[inside], week), np.broadcast_to(np.asarray(value, float), len(rep))[inside])
    return out


def usable(actual: dict, grid: pd.DataFrame) -> list[str]:
    """The moments that count (`MOMENTS`): cells with enough history behind them, none
    undefined in the history or at any grid point."""
    used = []
    for name, value in actual.items():
        if name.split("[")[0] not in MOMENTS or not np.isfinite(value):
            continue
        if "[" in name and actual["count" + name[name.index("[") :]] < MIN_CELL:
            continue
        if grid[name].notna().all():
            used.append(name)
    return used


def moment_covariance(simulated: list[pd.DataFrame], used: list[str]) -> np.ndarray:
    """The covariance of one history's moments `used`: pooled over the points' replications
    (each replication's deviation from its point's mean), each moment's standard deviation
    floored at FLOOR, the correlations shrunk toward none by the Schafer-Strimmer intensity
    (their sampling variance against their size). Why: cells that share reps and weeks move
    together, and a few replications per point cannot estimate dozens of correlations
    unshrunk (the inverse would amplify their noise into the distance). Scaled by n / (n - p - 1)
    (n degrees of freedom, p moments estimated jointly, 1 for the diagonal alone), so that its
    inverse, which weights the distance, is unbiased (E[S^-1] = n / (n - p - 1) x the true
    inverse for a Wishart S): the distance is not too sure of itself when replications are few
    for the moments (unscaled, 90 % ranges held the truth 67-83 % of the time)."""
    deviations = []
    for frame in simulated:  # each point's deviations, scaled to one replication's spread
        values = frame[used].to_numpy(float)
        scale = np.sqrt(len(values) / (len(values) - 1))
        deviations.append(scale * np.nan_to_num(values - np.nanmean(values, axis=0)))
    z = np.vstack(deviations)
    dof = len(z) - len(simulated)
    sd = np.sqrt((z**2).mean(axis=0)).clip(min=FLOOR)
    z = z / sd
    products = z[:, :, None] * z[:, None, :]
    correlation = products.mean(axis=0)
    off = ~np.eye(len(used), dtype=bool)
    noise = products.var(axis=0, ddof=1) / dof  # the sampling variance of each correlation
    size = (correlation[off] ** 2).sum()
    shrinkage = float(np.clip(noise[off].sum() / size, 0.0, 1.0)) if size > 0 else 1.0
    if dof <= len(used) + 1:  # fewer replications than moments: no correlation can be estimated
        shrinkage = 1.0
    correlation = np.where(off, (1.0 - shrinkage) * correlation, 1.0)
    estimated = len(used) if shrinkage < 1 else 1  # moments estimated jointly
    unbiased = dof / (dof - estimated - 1) if dof > estimated + 1 else 1.0
    return unbiased * correlation * sd[:, None] * sd[None, :]


def mahalanobis(gap: np.ndarray, covariance: np.ndarray) -> np.ndarray:
    """gap' covariance^-1 gap for each row of `gap`."""
    root = np.linalg.cholesky(covariance)
    return (np.linalg.solve(root, gap.T) ** 2).sum(axis=0)


def simulated_moments(results, start, targets, periods, closed_only: bool = False) -> pd.DataFrame:
    """One row of moments per replication, from the simulated credits and deals. With
    `closed_only` (an export of closed deals, as the history's was) a simulated history is
    observed the same way: the deals still open at its end are not in it, so opportunities
    opened in a period's last weeks count only when they closed by then, as in the export."""
    credits, deals = results.credits, results.deals
    if closed_only:
        deals = deals[deals["close_day"].notna()]

    def dates(days) -> np.ndarray:
        return (start + pd.to_timedelta(np.floor(np.asarray(days, float)), unit="D")).to_numpy()

    bookings = pd.DataFrame({"replication": credits["replication"].to_numpy(),
                             "rep_id": credits["rep_id"].astype(str).to_numpy(),
                             "date": dates(credits["close_day"]),
                             "amount": credits["amount"].to_numpy()})  # fmt: skip
    frame = pd.DataFrame({"replication": deals["replication"].to_numpy(),
                          "rep_id": deals["rep_id"].astype(str).to_numpy(),
                          "created": dates(deals["created_day"]),
                          "closed": dates(deals["close_day"]),
                          "won": (deals["outcome"] == "won").to_numpy()})  # fmt: skip
    by_replication = dict(tuple(frame.groupby("replication")))
    return pd.DataFrame(
        [moments(group, by_replication[k], targets, periods)
         for k, group in bookings.groupby("replication")]
    )  # fmt: skip

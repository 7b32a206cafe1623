"""Exports of closed deals only: most report exports leave out open opportunities, so a
deal opened shortly before the export is in the file only if it has already closed (right
truncation). Detected here from the file itself; the arrival fit corrects for it.
"""

from __future__ import annotations

import pandas as pd

OPEN_SHARE_FLOOR = 0.05
"""Below this share of open deals among those opened within a median cycle of the export, the
export is taken to hold closed deals only (a complete one shows about half of them open)."""


def closed_only_reason(deals: pd.DataFrame, as_of: pd.Timestamp) -> str | None:
    """Why the export looks like closed deals only (None when it holds its open deals)."""
    open_ = deals["outcome"].eq("open")
    if not open_.any():
        return "the export holds no open deal"
    closed = deals[~open_ & deals["created_date"].notna()]
    cycle = (closed["close_date"] - closed["created_date"]).dt.days
    recent_days = max(int(cycle.median()) if len(cycle) else 0, 7)
    recent = deals["created_date"] >= as_of - pd.Timedelta(days=recent_days)
    if recent.sum() < 20:
        return None
    share = float(open_[recent].mean())
    if share < OPEN_SHARE_FLOOR:
        return (
            f"only {share:.1%} of the {int(recent.sum()):,} deals opened in the last "
            f"{recent_days} days (the median cycle) are open, where a complete export shows "
            "about half"
        )
    return None

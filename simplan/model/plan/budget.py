"""The incentive budget: a total, an elastic reserve for ad-hoc rewards, a policy on overrun."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from simplan.model.params import Params
from simplan.model.plan.base import Money, Share
from simplan.model.plan.sheet import Sheet

SCALE_LINE = "budget_scale_down"


class Budget(Params):
    """Total incentive budget for the whole statement run (all periods, all payees).

    The plan's formulas may spend ``total`` x (1 - ``reserve_share``); the reserve is kept for
    ad-hoc rewards outside the plan. Incentive pay is every line except ``base_salary``.
    Over the available amount, ``pay_in_full`` pays and reports the overrun; ``scale_down``
    cuts every payee's incentive pay pro rata, shown as a ``budget_scale_down`` line.
    """

    total: Money
    reserve_share: Share = 0.1
    policy: Literal["pay_in_full", "scale_down"] = "pay_in_full"


def apply_budget(sheet: Sheet, budget: Budget | None) -> pd.DataFrame:
    """Scale incentive pay down if the policy says so; return the budget summary, one row
    per replication of the book (one row for a one-replication book).

    Each replication has its own budget: its incentive pay is summed over its own payees in
    payee order, the same sum as when it is paid alone.
    """
    incentive = sheet.total(variable_only=True)
    n_periods = sheet.book.n_periods
    if sheet.book.n_units == 1:
        spent = np.array([float(incentive.sum())])
        unit = np.zeros(len(incentive), dtype=np.int64)
    else:
        unit = np.repeat(sheet.payee_units(), n_periods)
        spent = np.array([float(incentive[unit == k].sum()) for k in range(sheet.book.n_units)])
    if budget is None:
        n = len(spent)
        return pd.DataFrame(
            {"total": np.nan, "reserve": np.nan, "available": np.nan, "incentive": spent,
             "overrun": np.zeros(n), "scale_factor": np.ones(n), "paid": spent,
             "policy": ["none"] * n}
        )  # fmt: skip
    reserve = budget.total * budget.reserve_share
    available = budget.total - reserve
    overrun = np.maximum(spent - available, 0.0)
    factor = np.ones(len(spent))
    if budget.policy == "scale_down":
        scaled = overrun > 0
        factor[scaled] = available / spent[scaled]
        cells = np.flatnonzero((incentive != 0) & scaled[unit])
        if len(cells):
            sheet.pay_lines(
                SCALE_LINE,
                cells // n_periods,
                cells % n_periods,
                incentive[cells],
                (factor[unit[cells]] - 1.0) * incentive[cells],
            )
    return pd.DataFrame(
        {"total": budget.total, "reserve": reserve, "available": available,
         "incentive": spent, "overrun": overrun, "scale_factor": factor,
         "paid": spent * factor, "policy": [budget.policy] * len(spent)}
    )  # fmt: skip

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
    """Scale incentive pay down if the policy says so; return the one-row budget summary."""
    incentive = sheet.total(variable_only=True)
    spent = float(incentive.sum())
    if budget is None:
        return pd.DataFrame(
            {"total": [np.nan], "reserve": [np.nan], "available": [np.nan],
             "incentive": [spent], "overrun": [0.0], "scale_factor": [1.0],
             "paid": [spent], "policy": ["none"]}
        )  # fmt: skip
    reserve = budget.total * budget.reserve_share
    available = budget.total - reserve
    overrun = max(spent - available, 0.0)
    factor = 1.0
    if budget.policy == "scale_down" and overrun > 0:
        factor = available / spent
        n_periods = sheet.book.n_periods
        cells = np.flatnonzero(incentive != 0)
        sheet.pay_lines(
            SCALE_LINE,
            cells // n_periods,
            cells % n_periods,
            incentive[cells],
            (factor - 1.0) * incentive[cells],
        )
    return pd.DataFrame(
        {"total": [budget.total], "reserve": [reserve], "available": [available],
         "incentive": [spent], "overrun": [overrun], "scale_factor": [factor],
         "paid": [spent * factor], "policy": [budget.policy]}
    )  # fmt: skip

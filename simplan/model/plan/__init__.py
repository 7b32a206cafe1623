"""The incentive-plan payout engine: a plan schema, a component registry, and
``compute_payouts(ledger, targets, team, plan) -> Statements``, pure over pandas/numpy.
"""

from simplan.model.plan.base import COMPONENTS, Component, register
from simplan.model.plan.budget import Budget
from simplan.model.plan.engine import compute_payouts
from simplan.model.plan.flags import Flags
from simplan.model.plan.inputs import read_book, targets_from_quota
from simplan.model.plan.schema import COMPONENT_TYPES, Plan
from simplan.model.plan.sheet import Statements

__all__ = [
    "COMPONENTS",
    "COMPONENT_TYPES",
    "Budget",
    "Component",
    "Flags",
    "Plan",
    "Statements",
    "compute_payouts",
    "read_book",
    "register",
    "targets_from_quota",
]

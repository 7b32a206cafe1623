"""Every plan component. Importing this package registers them all.

To add a component: write a ``Component`` subclass decorated with ``@register`` in one of
these modules (or a new module listed here). Nothing else changes.
"""

from simplan.model.plan.components import adjust, contests, pay, pools, role

__all__ = ["adjust", "contests", "pay", "pools", "role"]

"""World B's open deals as flat arrays, vectorised over independent worlds."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class Deals:
    """One row per open deal: its world, owner, grade (0 A, 1 B, 2 C), source (0 inbound,
    1 self-sourced), created day, list amount, the owner's effort summed over the weeks it
    has been open, and those weeks."""

    world: np.ndarray
    rep: np.ndarray
    grade: np.ndarray
    source: np.ndarray
    created: np.ndarray
    list_amount: np.ndarray
    effort_sum: np.ndarray
    weeks: np.ndarray

    def __len__(self) -> int:
        return len(self.rep)

    def select(self, mask: np.ndarray) -> Deals:
        return Deals(*(getattr(self, f.name)[mask] for f in fields(self)))

    def joined(self, other: Deals) -> Deals:
        return Deals(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                       for f in fields(self)))  # fmt: skip

    def copies(self, worlds: int) -> Deals:
        """This pipeline (of one world) copied into `worlds` worlds."""
        rest = [np.tile(getattr(self, f.name), worlds) for f in fields(self)[1:]]
        return Deals(np.repeat(np.arange(worlds), len(self)), *rest)

    @staticmethod
    def empty() -> Deals:
        ints, floats = np.zeros(0, int), np.zeros(0)
        return Deals(ints, ints, ints, ints, ints, floats, floats, ints)

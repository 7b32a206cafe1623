"""Executors run independent replications; results come back in submission order.

The engine never sees which executor ran it, so adding one (a Dask cluster, say) touches
nothing else. Order is kept, so the same seed gives the same tables on any worker count.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Anything that maps a picklable function over items, yielding results in order."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...


class SerialExecutor:
    """Everything in this process: for one worker, debugging and small runs."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        return map(fn, items)


class ProcessExecutor:
    """Local worker processes (default: one per core)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        items = list(items)
        with ProcessPoolExecutor(max_workers=min(self.workers, max(len(items), 1))) as pool:
            yield from pool.map(fn, items)


def local_executor(workers: int | None) -> Executor:
    """Serial for one worker, a process pool otherwise."""
    count = workers or os.cpu_count() or 1
    return SerialExecutor() if count == 1 else ProcessExecutor(count)

"""Executors run independent replications; results come back in submission order.

The engine never sees which executor ran it: local processes by default, a Dask cluster
when given a scheduler. Order is kept, so the same seed gives the same tables on any
executor and worker count. Dask is optional and imported only when asked for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from simplan.errors import SimplanError

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


DASK_MISSING = "running on Dask needs the dask extra: pip install 'simplan[dask]'"


class DaskExecutor:
    """Replications as tasks on a Dask cluster: a scheduler's address, or "local".

    "local" (or None) starts a cluster of `workers` single-threaded processes on loopback
    with no dashboard, and closes it afterwards. An address (e.g. tcp://10.0.0.5:8786)
    connects to a running scheduler whose workers have simplan installed. Used as a
    context manager, one connection serves several runs (a sweep, a comparison); otherwise
    each `map` connects and closes on its own.
    """

    def __init__(
        self,
        address: str | None = "local",
        workers: int | None = None,
        timeout_seconds: float = 10.0,
    ) -> None:
        self.address = address or "local"
        self.workers = workers or os.cpu_count() or 1
        self.timeout_seconds = timeout_seconds
        self._distributed = _import_distributed()
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        """Start the local cluster or connect to the scheduler; a failure names the address."""
        if self._client is not None:
            return
        distributed = self._distributed
        try:
            if self.address == "local":
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    # The scheduler's HTTP endpoints (health, metrics) on a free loopback port.
                    scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                    silence_logs=logging.ERROR,
                )
                target: Any = self._cluster
            else:
                target = self.address
            self._client = distributed.Client(
                target, timeout=self.timeout_seconds, set_as_default=False
            )
        except (OSError, ValueError) as error:
            self.close()
            if self.address == "local":
                raise SimplanError(f"could not start a local Dask cluster: {error}") from None
            raise SimplanError(
                f"could not reach the Dask scheduler at {self.address}: {error}. Check the "
                "address (tcp://HOST:PORT) and that the scheduler is running"
            ) from None

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this executor started it."""
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self._client is not None:
            yield from self._gather(fn, items)
            return
        with self:
            yield from self._gather(fn, items)

    def _gather(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Submit every item at once, then yield results in submission order."""
        futures = self._client.map(fn, list(items), pure=False)
        done = 0
        try:
            for future in futures:
                yield future.result()
                done += 1
        finally:
            if done < len(futures):  # stopped early: free the cluster of the rest
                self._client.cancel(futures[done:])


def _import_distributed() -> Any:
    """`distributed` on demand: importing simplan never imports dask."""
    try:
        import distributed
    except ImportError:
        raise SimplanError(DASK_MISSING) from None
    return distributed


def choose_executor(workers: int | None, scheduler: str | None = None) -> Executor:
    """A Dask executor when a scheduler is given ("local" or an address), local otherwise."""
    if scheduler is None:
        return local_executor(workers)
    return DaskExecutor(scheduler, workers=workers)


@contextmanager
def shared_executor(scheduler: str | None, workers: int | None) -> Iterator[Executor | None]:
    """One Dask connection held open across several runs; None (local) when no scheduler.

    Sweeps and comparisons run many scenarios: this starts a local Dask cluster once
    rather than once per scenario. Without a scheduler each run picks its own executor.
    """
    if scheduler is None:
        yield None
        return
    with DaskExecutor(scheduler, workers=workers) as executor:
        yield executor

"""Executors run independent replications; results come back in submission order.

The engine never sees which executor ran it: local processes by default, a Dask cluster
when given a scheduler. Order is kept, so the same seed gives the same tables on any
executor and worker count. Dask is optional and imported only when asked for.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import process as futures_process
from contextlib import contextmanager, suppress
from typing import Any, Protocol, TypeVar

from simplan.errors import SimplanError

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    """Anything that maps a picklable function over items, yielding results in order."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]: ...


class Stopped(BaseException):
    """SIGINT or SIGTERM asked the command to stop; raised wherever the program is.

    Not a KeyboardInterrupt: the command-line library would turn that into "Aborted!", exit 1.
    """


_stop_requested: list[int] = []
"""The signal that asked to stop, kept until the command ends (`clear_stop`)."""


def request_stop(signum: int) -> None:
    """Stop on `signum`: raise `Stopped` here, and again before the next result of any map
    (`check_stop`), since a signal that lands inside a weakref callback or a `__del__` raises
    an exception Python only prints, and the run would go on."""
    _stop_requested.append(signum)
    raise Stopped(signum)


def check_stop() -> None:
    """Raise `Stopped` if a signal asked to stop (see `request_stop`)."""
    if _stop_requested:
        raise Stopped(_stop_requested[0])


def clear_stop() -> None:
    """Forget a stop request once the command has ended (in-process calls: tests, notebooks)."""
    _stop_requested.clear()


class SerialExecutor:
    """Everything in this process: for one worker, debugging and small runs."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            check_stop()
            yield fn(item)


def worker_count(workers: int | None) -> int:
    """How many worker processes: one per core by default; fewer than one is refused."""
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise SimplanError(
            f"workers = {workers!r}: give 1 or more worker processes (--workers 1 runs in this "
            "process), or leave it out for one per core"
        )
    return workers


class ProcessExecutor:
    """Local worker processes (default: one per core) that never outlive the run.

    Workers ignore Ctrl-C (the terminal sends it to every process; this one decides), and
    each exits on its own if this process dies, even by SIGKILL. If the run stops early (an
    error, Ctrl-C, SIGTERM), the workers are terminated at once rather than left to finish.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = worker_count(workers)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        items = list(items)
        with ProcessPool(min(self.workers, max(len(items), 1))) as pool:
            yield from pool.map(fn, items)


class ProcessPool:
    """Worker processes kept for many maps (a whole optimisation), started at the first.

    `setup(*args)` runs once in each worker as it starts, so what every task needs (a base
    scenario) is sent once per worker rather than with every task. The same guards as
    `ProcessExecutor`: workers ignore Ctrl-C, exit with this process, and are terminated
    at once when a map stops early; after that the pool is closed.
    """

    def __init__(
        self,
        workers: int | None = None,
        setup: Callable[..., None] | None = None,
        args: tuple[Any, ...] = (),
    ) -> None:
        self.workers = worker_count(workers)
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            initializer=_start_worker,
            initargs=(os.getpid(), setup, args),
        )
        _running.add(self._pool)

    def __enter__(self) -> ProcessPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        try:
            for result in self._pool.map(fn, items):
                check_stop()
                yield result
        except BaseException as error:
            stopped = _terminate(self._pool)
            if stopped and not isinstance(error, GeneratorExit):
                error.add_note(f"{stopped} worker process(es) stopped")
            raise

    def close(self) -> None:
        """Wait for the workers to finish their tasks and exit."""
        _running.discard(self._pool)
        self._pool.shutdown(wait=True)


@contextmanager
def worker_pool(
    workers: int | None, setup: Callable[..., None] | None = None, args: tuple[Any, ...] = ()
) -> Iterator[Executor]:
    """One executor for a whole run of many maps: a `ProcessPool` whose workers each run
    `setup(*args)` once, or, for one worker, this process after running it here."""
    if worker_count(workers) == 1:
        if setup is not None:
            setup(*args)
        yield SerialExecutor()
        return
    with ProcessPool(workers, setup, args) as pool:
        yield pool


_running: set[ProcessPoolExecutor] = set()
PARENT_CHECK_SECONDS = 0.5


def stop_workers() -> int:
    """Terminate every running pool's workers now (on a signal); how many were stopped."""
    pools = list(_running)
    _running.clear()
    return sum(_terminate(pool) for pool in pools)


def _terminate(pool: ProcessPoolExecutor) -> int:
    """Stop a pool without waiting for its tasks: cancel the queue, terminate the workers."""
    # Python 3.11 has no public way to terminate a pool's workers (3.14 adds one).
    processes = list((getattr(pool, "_processes", None) or {}).values())
    alive = [process for process in processes if process.is_alive()]
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown forgets it
    # Tasks still queued for the workers sit in a pipe no one will read once they are gone: the
    # thread feeding it must not be joined at exit, or the process hangs after saying it stopped.
    call_queue = getattr(pool, "_call_queue", None)
    if call_queue is not None:
        call_queue.cancel_join_thread()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in alive:
        process.terminate()
    for process in alive:
        process.join(timeout=2)
        if process.is_alive():
            process.kill()
            process.join()
    # The pool's manager thread then closes its wake-up pipe; Python 3.11 would still write to
    # it at exit ("Bad file descriptor" after the stop message): wait for the thread and take
    # it off the list the interpreter wakes at exit.
    if manager is not None:
        manager.join(timeout=5)
        if not manager.is_alive():
            futures_process._threads_wakeups.pop(manager, None)
    return len(alive)


def _start_worker(
    parent: int, setup: Callable[..., None] | None = None, args: tuple[Any, ...] = ()
) -> None:
    """In each worker: leave Ctrl-C to the parent, die at once on SIGTERM (not the parent's
    handler, inherited by fork), exit when the parent is gone; then the pool's `setup`."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    if setup is not None:
        setup(*args)


def _exit_with_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(1)


def local_executor(workers: int | None) -> Executor:
    """Serial for one worker, a process pool otherwise."""
    count = worker_count(workers)
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
        self.workers = worker_count(workers)
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
                self._check_reachable()
                target = self.address
            self._client = distributed.Client(
                target, timeout=self.timeout_seconds, set_as_default=False
            )
        except SimplanError:
            raise
        except Exception as error:  # whatever answered was not a working scheduler
            _discard_failed_client(error, distributed.Client)
            self.close()
            if self.address == "local":
                raise SimplanError(f"could not start a local Dask cluster: {error}") from None
            raise SimplanError(
                f"could not connect to a Dask scheduler at {self.address} "
                f"({type(error).__name__}: {error}). Check the address (tcp://HOST:PORT) and "
                "that a Dask scheduler, not another service, listens there"
            ) from None

    def _check_reachable(self) -> None:
        """Refuse a malformed or unreachable address before a Client is made: a Client that
        fails to connect prints a traceback when it is garbage-collected, after our message."""
        try:
            host, port = self._distributed.comm.get_address_host_port(self.address)
        except (ValueError, TypeError) as error:
            raise SimplanError(
                f"--scheduler {self.address!r} is not a scheduler address ({error}); write "
                "tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786), or 'local' for a local cluster"
            ) from None
        try:
            socket.create_connection((host, port), timeout=self.timeout_seconds).close()
        except OSError as error:
            raise SimplanError(
                f"could not reach the Dask scheduler at {self.address}: "
                f"{error.strerror or error or 'timed out'}. Check the address (tcp://HOST:PORT) "
                "and that the scheduler is running"
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


def _discard_failed_client(error: BaseException, client_type: type) -> None:
    """A Client whose constructor failed closes itself when garbage-collected, waiting twice
    its timeout and printing a traceback; find it in the traceback and mark it closed now."""
    trace = error.__traceback__
    while trace is not None:
        client = trace.tb_frame.f_locals.get("self")
        if isinstance(client, client_type):
            client.status = "closed"  # what Client.close checks first
            with suppress(Exception):
                client._loop_runner.stop()  # no public way to stop a half-made Client's loop
            return
        trace = trace.tb_next


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
def shared_executor(scheduler: str | None, workers: int | None) -> Iterator[Executor]:
    """One executor held open across several runs: a Dask connection, or without a scheduler
    a local `worker_pool` (this process for one worker).

    Sweeps and comparisons run many scenarios: this starts a local Dask cluster, or the
    local workers, once rather than once per scenario, so what a worker caches for the
    world every scenario shares (the reps' plan-free effort costs, the compiled kernels)
    is computed once per worker for the whole comparison, not once per scenario.
    """
    if scheduler is None:
        with worker_pool(workers) as pool:
            yield pool
        return
    with DaskExecutor(scheduler, workers=workers) as executor:
        yield executor

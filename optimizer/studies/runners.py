"""Where points are solved: in this process, in a local process pool, or on a Dask cluster;
:func:`execute` reads what the cache has and solves the rest."""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path

from optimizer.backends.interrupts import ignore_sigint
from optimizer.engine.workers import DASK_TIMEOUT, connect_dask
from optimizer.errors import UsageError
from optimizer.records.results import PointResult
from optimizer.studies.cache import Cache
from optimizer.studies.tasks import Task, failed, solve_task, solve_task_kept_warm
from optimizer.warm import WarmSolver
from optimizer.warm import available as warm_available

DASK_HINT = "--dask needs Dask: pip install 'eastwest[dask]'"

Finished = Iterator[tuple[Task, PointResult]]


class Listener:
    """Progress events (the CLI draws a progress bar from them); every method may be a no-op.
    ``tick`` is called about every 0.2 s while points run in other processes."""

    def begin(self, total: int) -> None:
        """``total`` points in the study."""

    def cached(self, result: PointResult) -> None:
        """A point read from the cache."""

    def finished(self, result: PointResult) -> None:
        """A point solved (or failed)."""

    def tick(self) -> None:
        """Nothing finished yet."""


class Runner:
    """Runs tasks; yields (task, result) as they finish, in any order. Serial: in-process."""

    description = "serial"

    def run(self, tasks: Sequence[Task], tick: Callable[[], None]) -> Finished:
        warm = WarmSolver(tasks[0].options) if tasks and warm_available() else None
        for task in tasks:
            yield task, solve_task(task, warm)

    def close(self, abort: bool = False) -> None:
        """Release workers; ``abort`` (an exception, e.g. Ctrl-C): stop running points too."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close(abort=exc_type is not None)


def one_process(task: Task) -> Task:
    """``task`` solved in its worker alone: the points already use every core, so a point's
    period LPs are not spread over more processes."""
    return dataclasses.replace(task, options=dataclasses.replace(task.options, workers=1))


def _worker_failed(task: Task, exc: BaseException | None, where: str) -> PointResult:
    """The record of a point whose worker raised ``exc``; a worker interrupted by Ctrl-C
    (which reaches every process of the terminal's group) interrupts the study."""
    if isinstance(exc, KeyboardInterrupt):
        raise KeyboardInterrupt
    return failed(task, "error", f"{where} failed: {type(exc).__name__}: {exc}", True)


class PoolRunner(Runner):
    """A local process pool (spawn: no fork of a process that holds solver state). Its
    workers ignore SIGINT: Ctrl-C reaches this process too, which stops them (``close``)."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.description = f"{jobs} processes"
        self._pool: ProcessPoolExecutor | None = None

    def run(self, tasks: Sequence[Task], tick: Callable[[], None]) -> Finished:
        if not tasks:
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.jobs,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=ignore_sigint)
        futures: dict[Future[PointResult], Task] = {
            self._pool.submit(solve_task_kept_warm, one_process(t)): t for t in tasks}
        pending = set(futures)
        # no cancelling here when the consumer stops early (Ctrl-C): close(abort=True) stops
        # the workers, which marks every pending future broken (cancelling first makes
        # Python 3.11's pool thread fail on the cancelled futures and the exit hang)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if not done:
                tick()
            for future in sorted(done, key=lambda f: futures[f].index):
                task = futures[future]
                exc = future.exception()
                yield task, (future.result() if exc is None
                             else _worker_failed(task, exc, "worker"))

    def close(self, abort: bool = False) -> None:
        if self._pool is None:
            return
        if abort:  # do not wait for running solves: stop the workers (they write no files)
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=not abort)
        self._pool = None


class DaskRunner(Runner):
    """Points on a Dask distributed scheduler: ``address`` (``tcp://host:8786``), or ``local``
    for a LocalCluster of two single-threaded worker processes. Raises ImportError when Dask is
    not installed, OSError when the scheduler cannot be reached."""

    def __init__(self, address: str, timeout: float | None = None):
        self.client, self._cluster = connect_dask(
            address, DASK_TIMEOUT if timeout is None else timeout)
        self.description = f"dask {address}"

    def run(self, tasks: Sequence[Task], tick: Callable[[], None]) -> Finished:
        futures = {self.client.submit(solve_task_kept_warm, one_process(t), pure=False): t
                   for t in tasks}
        pending = set(futures)
        try:
            while pending:
                done = [f for f in pending if f.done()]
                if not done:
                    tick()
                    time.sleep(0.1)
                    continue
                for future in sorted(done, key=lambda f: futures[f].index):
                    pending.discard(future)
                    task = futures[future]
                    if future.status == "finished":
                        yield task, future.result()
                    else:
                        yield task, _worker_failed(task, future.exception(), "dask worker")
        finally:
            if pending:
                self.client.cancel(list(pending))

    def close(self, abort: bool = False) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def open_runner(jobs: int = 1, dask: str | None = None) -> Runner:
    """Points in this process (``jobs`` 1), in a pool of ``jobs`` processes, or on the Dask
    scheduler at ``dask`` (``local``: a local cluster); close it (``with``). Raises UsageError
    for both ``jobs`` > 1 and ``dask``, Dask missing, or its scheduler out of reach."""
    if dask is not None and jobs > 1:
        raise UsageError("jobs and dask exclude each other (the Dask workers set the "
                         "parallelism)")
    if dask is None:
        return PoolRunner(jobs) if jobs > 1 else Runner()
    try:
        return DaskRunner(dask)
    except ImportError:
        raise UsageError(DASK_HINT) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {dask}: {exc}") from None


def execute(tasks: Sequence[Task], cache: Cache | None, runner: Runner,
            listener: Listener) -> list[PointResult]:
    """Results in the order of ``tasks``: from the cache where there, else solved (and saved)."""
    results: dict[int, PointResult] = {}
    todo = []
    for task in tasks:
        hit = cache.load(task.key) if cache is not None else None
        if hit is None or (task.solution_path and not Path(task.solution_path).exists()):
            todo.append(task)
            continue
        results[task.index] = dataclasses.replace(hit, index=task.index, label=task.label,
                                                  cached=True)
        listener.cached(results[task.index])
    for task, result in runner.run(todo, listener.tick):
        if cache is not None and not result.transient:
            cache.save(result)
        results[task.index] = dataclasses.replace(result, cached=False)
        listener.finished(results[task.index])
    return [results[t.index] for t in tasks]


@contextlib.contextmanager
def serial_unless(runner: Runner | None) -> Iterator[Runner]:
    """``runner``, or a serial one opened and closed here."""
    if runner is not None:
        yield runner
        return
    with Runner() as serial:
        yield serial

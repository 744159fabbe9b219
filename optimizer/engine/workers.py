"""Where the parts of Benders decomposition's subproblem are solved: in this process, in
worker processes, or on a Dask cluster (issue #12). Each worker keeps its parts' highspy
models between builds (warm starts); only the build ``y`` goes out and each part's answer
comes back.

Every pool answers :meth:`Pool.call`: a :class:`~optimizer.engine.parts.PartSolver` method
run on the parts asked, their answers in that order.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from multiprocessing.connection import Connection, wait
from typing import Any

from optimizer.backends.base import fork_is_safe
from optimizer.backends.interrupts import ignore_sigint, interruptible, sigint_ignored
from optimizer.engine.parts import PartData, PartOut, PartSolver

DASK_TIMEOUT = 20.0
"""Seconds to wait for a Dask scheduler to answer."""


class WorkerLost(RuntimeError):
    """A worker process or Dask worker died or failed: the pool cannot answer."""


def balance(sizes: Sequence[int], workers: int) -> list[list[int]]:
    """The parts (by index) each worker owns: the largest first, each to the least loaded."""
    owned: list[list[int]] = [[] for _ in range(workers)]
    load = [0] * workers
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        w = load.index(min(load))
        owned[w].append(i)
        load[w] += sizes[i]
    return [sorted(o) for o in owned if o]


def _size(d: PartData) -> int:
    return int(d.A.nnz + len(d.c))


class Pool:
    """The parts solved in this process, one after another."""

    where = "in this process"

    def __init__(self, datas: Sequence[PartData]) -> None:
        self.solvers = [PartSolver(d) for d in datas]

    def call(self, method: str, parts: Sequence[int], *args: Any) -> list[PartOut]:
        out = []
        with interruptible() as interrupt:  # one block for all: its watcher costs 1 ms
            for i in parts:
                if interrupt.requested:
                    break
                solver = self.solvers[i]
                solver.interrupt = interrupt
                try:
                    out.append(getattr(solver, method)(*args))
                finally:
                    solver.interrupt = None
        return out

    def close(self) -> None:
        self.solvers = []


def _serve(conn: Connection, datas: list[PartData]) -> None:
    """A worker process: its parts' solvers, answering calls until told to stop (None)."""
    ignore_sigint()  # Ctrl-C is for the process that runs the solve, which stops its workers
    solvers = [PartSolver(d) for d in datas]
    while True:
        msg = conn.recv()
        if msg is None:
            return
        method, which, args = msg
        try:
            conn.send([getattr(solvers[i], method)(*args) for i in which])
        except Exception as exc:  # noqa: BLE001 (the parent says which part failed and why)
            conn.send(WorkerLost(f"{type(exc).__name__}: {exc}"))


class Processes(Pool):
    """The parts spread over ``n`` worker processes (forked where that is safe, else spawned),
    each owning its parts' models for the whole solve."""

    def __init__(self, datas: Sequence[PartData], n: int) -> None:
        self.owned = balance([_size(d) for d in datas], n)
        self.where = f"in {len(self.owned)} worker processes"
        self.owner = {i: (w, k) for w, own in enumerate(self.owned) for k, i in enumerate(own)}
        ctx: Any = multiprocessing.get_context("fork" if fork_is_safe("highspy") else "spawn")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        with sigint_ignored():
            for own in self.owned:
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=_serve, args=(child, [datas[i] for i in own]),
                                   daemon=True)
                proc.start()
                child.close()
                self.conns.append(parent)
                self.procs.append(proc)

    def call(self, method: str, parts: Sequence[int], *args: Any) -> list[PartOut]:
        asked: dict[int, list[int]] = {}
        for i in parts:
            w, k = self.owner[i]
            asked.setdefault(w, []).append(k)
        for w, which in asked.items():
            try:
                self.conns[w].send((method, which, args))
            except OSError as exc:  # its end of the pipe is gone
                self.close(kill=True)
                raise WorkerLost(f"a worker process died ({type(exc).__name__})") from None
        answers: dict[tuple[int, int], PartOut] = {}
        pending = {self.conns[w]: w for w in asked}
        with interruptible() as interrupt:
            while pending and not interrupt.requested:
                for ready in wait(list(pending), timeout=0.2):
                    conn: Any = ready
                    w = pending.pop(conn)
                    got = self._receive(conn)
                    answers.update(zip(((w, k) for k in asked[w]), got, strict=True))
            if interrupt.requested:  # the workers may be deep in an LP: stop them
                self.close(kill=True)
        return [answers[self.owner[i]] for i in parts]

    def _receive(self, conn: Connection) -> list[PartOut]:
        try:
            got = conn.recv()
        except (EOFError, OSError) as exc:
            self.close(kill=True)
            raise WorkerLost(f"a worker process died ({type(exc).__name__})") from None
        if isinstance(got, WorkerLost):
            self.close(kill=True)
            raise got
        return list(got)

    def close(self, kill: bool = False) -> None:
        for conn, proc in zip(self.conns, self.procs, strict=True):
            try:
                conn.send(None) if not kill else proc.kill()
            except OSError:  # it is gone already
                proc.kill()
        for conn, proc in zip(self.conns, self.procs, strict=True):
            proc.join(5)
            if proc.is_alive():
                proc.kill()
            conn.close()
        self.conns, self.procs = [], []


class PartActor:
    """A Dask actor: one worker's parts and their solvers."""

    def __init__(self, *datas: PartData) -> None:
        self.solvers = [PartSolver(d) for d in datas]

    def call(self, method: str, which: list[int], args: tuple[Any, ...]) -> list[PartOut]:
        return [getattr(self.solvers[i], method)(*args) for i in which]


def connect_dask(address: str, timeout: float | None = None) -> tuple[Any, Any]:
    """(client, cluster) for ``address`` (``tcp://host:8786``), or ``local``: a LocalCluster of
    two single-threaded worker processes (cluster None otherwise). Raises ImportError when Dask
    is not installed, OSError when the scheduler cannot be reached."""
    from dask.distributed import Client, LocalCluster

    timeout = DASK_TIMEOUT if timeout is None else timeout
    if address == "local":
        with sigint_ignored():  # its workers inherit it: Ctrl-C is for this process
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
        return Client(cluster, timeout=timeout), cluster
    try:
        return Client(address, timeout=timeout), None
    except TimeoutError as exc:
        raise OSError(f"no Dask scheduler answered at {address}: {exc}") from None


class DaskPool(Pool):
    """The parts spread over the workers of a Dask cluster, one actor a worker."""

    def __init__(self, datas: Sequence[PartData], address: str) -> None:
        self.client, self.cluster = connect_dask(address)
        try:
            workers = sorted(self.client.scheduler_info()["workers"])
            if not workers:
                raise OSError(f"the Dask scheduler at {address} has no workers")
            self.owned = balance([_size(d) for d in datas], len(workers))
            self.owner = {i: (w, k) for w, own in enumerate(self.owned)
                          for k, i in enumerate(own)}
            self.actors = []
            for w, own in enumerate(self.owned):
                at = [workers[w]]
                data = self.client.scatter([datas[i] for i in own], workers=at, direct=True)
                self.actors.append(self.client.submit(PartActor, *data, workers=at, actor=True,
                                                      pure=False).result())
        except BaseException:
            self.close()
            raise
        self.where = f"on {len(self.owned)} Dask workers ({address})"

    def call(self, method: str, parts: Sequence[int], *args: Any) -> list[PartOut]:
        asked: dict[int, list[int]] = {}
        for i in parts:
            w, k = self.owner[i]
            asked.setdefault(w, []).append(k)
        futures = {w: self.actors[w].call(method, which, args) for w, which in asked.items()}
        answers: dict[tuple[int, int], PartOut] = {}
        for w, future in futures.items():
            try:
                got = future.result()
            except Exception as exc:  # noqa: BLE001 (a worker died or its actor failed)
                raise WorkerLost(f"a Dask worker failed: {type(exc).__name__}: {exc}") from None
            answers.update(zip(((w, k) for k in asked[w]), got, strict=True))
        return [answers[self.owner[i]] for i in parts]

    def close(self) -> None:
        self.actors = []
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

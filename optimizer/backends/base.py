"""One status vocabulary and one result record for every backend (linopy-style)."""

from __future__ import annotations

import ast
import contextlib
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from optimizer.model.lp import LinearProgram


class Status(StrEnum):
    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # a solution, not proven optimal
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"  # stopped by the time limit (with or without a solution)
    ERROR = "error"

    @property
    def has_solution_expected(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE, Status.TIME_LIMIT)


@dataclass(frozen=True)
class SolveOptions:
    backend: str = "ortools"
    solver: str = "auto"
    time_limit: float | None = None
    gap: float | None = None
    threads: int | None = None
    log: bool = False  # also show the solver log on stderr (it is always kept in the log file)
    decompose: bool = True  # solve one LP per period when no constraint couples periods
    workers: int | None = None  # processes for the period LPs or Benders's subproblem parts;
    # None: the cores, if it pays
    prune: bool = True  # remove arcs no optimal solution needs (optimizer.presolve; exact)
    strategy: str = "auto"  # optimizer.engine: auto, monolithic, colgen, lagrange, benders
    dask: str | None = None  # Benders's subproblem parts on this Dask scheduler (or "local")


class NoticeKind(StrEnum):
    IGNORED = "ignored"  # the option was given and this solver does not honour it
    NO_EFFECT = "no effect"  # honoured, but it changes nothing for this problem
    REFUSED = "refused"  # the value cannot be used here (raised in a UsageError)
    CHOSEN = "chosen"  # the value ``auto`` chose, and why
    INFO = "info"  # how the options were applied (e.g. the per-period decomposition)


_REFERENCE = re.compile(r"\{(\w+)(?:=([^{}]*))?\}")
_ANY = object()


def ref(option: str, value: Any = _ANY) -> str:
    """A mention of another option inside a :class:`Notice` reason (``{decompose=False}``),
    worded by the reader like the notice's own option."""
    return "{" + option + ("" if value is _ANY else f"={value!r}") + "}"


def option_words(option: str, value: Any) -> str:
    """An option as a library user writes it: ``gap``, ``workers=2``, ``decompose=False``."""
    return option if value is None else f"{option}={value!r}"


def argument_words(option: str, value: Any) -> str:
    """An option as :mod:`optimizer.api`'s functions name it: :func:`option_words`, but
    ``jobs=2`` for SolveOptions' ``workers``."""
    return option_words("jobs" if option == "workers" else option, value)


@dataclass(frozen=True)
class Notice:
    """Something to tell about one solve option (a :class:`SolveOptions` field), kept as data:
    the reader words it, with its own names for options (the CLI's flags, or the library's
    field names). ``reason`` may mention other options with :func:`ref`."""

    option: str
    value: Any  # the value given, where the sentence names it; None: the option as such
    reason: str
    kind: NoticeKind = NoticeKind.IGNORED

    def words(self, name: Callable[[str, Any], str] = option_words) -> str:
        """The sentence, each option named by ``name(option, value)``."""
        text = _REFERENCE.sub(
            lambda m: name(m[1], None if m[2] is None else ast.literal_eval(m[2])), self.reason)
        if self.kind is NoticeKind.CHOSEN:
            return f"{self.option} chosen automatically: {text}"
        if self.kind is NoticeKind.INFO:
            return text
        return f"{name(self.option, self.value)} {text}"


@dataclass
class RawResult:
    status: Status
    backend: str
    solver: str
    x: np.ndarray | None = None
    duals: np.ndarray | None = None  # d objective / d row bound, None where not reliable
    objective: float | None = None
    bound: float | None = None
    solve_s: float = 0.0
    message: str = ""
    duals_from: str = ""
    log: str = ""
    notes: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # about the options, worded by the reader


LpSolve = Callable[[LinearProgram, SolveOptions], RawResult]  # a backend's solve function

_threads_started: set[str] = set()  # solvers run in this process that keep native threads


def note_threaded_solver(pool: str) -> None:
    """Record that a solver keeping the native thread pool ``pool`` (the registry's
    ``thread_pool``: OR-Tools' HiGHS, highspy, PDLP) ran here."""
    _threads_started.add(pool)


def threaded_solver_ran(pool: str) -> bool:
    """The native thread pool ``pool`` has started in this process."""
    return pool in _threads_started


def fork_is_safe(thread_pool: str | None) -> bool:
    """A worker whose solver starts ``thread_pool`` (None: none) may be forked from this
    process: this is Linux, the main thread of a non-daemon process, and that native thread
    pool has not started here (a forked child would inherit its locks without its threads)."""
    import multiprocessing
    import threading

    return (sys.platform.startswith("linux")  # macOS lists fork but its libraries are not safe
            and "fork" in multiprocessing.get_all_start_methods()
            and not multiprocessing.current_process().daemon
            and threading.current_thread() is threading.main_thread()
            and (thread_pool is None or not threaded_solver_ran(thread_pool)))


def available_cores() -> int:
    """Cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def capture_fd_output() -> Iterator[list[str]]:
    """Redirect the raw file descriptors 1 and 2 into a buffer for the duration.

    OR-Tools' solvers and CBC write to the process's file descriptors, bypassing
    ``sys.stdout``; this keeps stdout clean for results. The captured text is appended to the
    yielded list when the block exits.
    """
    out: list[str] = []
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    with tempfile.TemporaryFile(mode="w+b") as tmp:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(tmp.fileno(), 1)
            os.dup2(tmp.fileno(), 2)
            yield out
        finally:
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(Exception):
                    stream.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            tmp.seek(0)
            out.append(tmp.read().decode("utf-8", errors="replace"))

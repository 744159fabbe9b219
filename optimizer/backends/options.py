"""The range of every solve option, in one place: checked before any work by the CLI (every
command), by :func:`optimizer.pipeline.solve_document` for library callers, and by the
pydantic records of study files and bench suites (:data:`TimeLimit`, :data:`Gap`).

- ``backend`` and ``solver``: one of the registry's choices (:func:`registry.choices`).
- ``time_limit``: seconds, finite and above 0 (``inf`` and ``nan`` are floats too: refused).
- ``gap``: a relative MIP gap, finite, from 0 to below :data:`MAX_GAP` (1). A gap of 1 accepts
  any solution with a non-negative bound, so a larger value is almost surely a percentage
  (``--gap 5`` meant for 5 %: write 0.05).
- ``threads``: 1 to :data:`MAX_THREADS`. HiGHS starts one thread per count at its first
  solve; measured on 2 cores (tiny instance): 1,024 threads start in 3.5 s, 4,096 in 30 s, and
  100,000 did not finish in 60 s. A fixed bound, so that a command valid here is valid anywhere.
- ``workers`` (and the ``--jobs`` of studies and suites): 1 to :func:`max_workers`, four worker
  processes per core available here. Each is a solver process of about 100 MB that is busy
  while it runs: more than the cores only add memory and contention, and a thousand of them
  would exhaust the machine before solving anything.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import Field

from optimizer.backends import registry
from optimizer.backends.base import Notice, NoticeKind, SolveOptions, available_cores

MAX_GAP = 1.0
"""The relative MIP gap is below this (exclusive)."""
MAX_THREADS = 1024
"""The most solver threads (``SolveOptions.threads``)."""
WORKERS_PER_CORE = 4
"""Worker processes allowed per available core (``SolveOptions.workers``, and the jobs of
studies and suites)."""

TimeLimit = Annotated[float, Field(gt=0, allow_inf_nan=False)]
"""A time limit in a study file or a suite: seconds, finite and above 0."""
Gap = Annotated[float, Field(ge=0, lt=MAX_GAP, allow_inf_nan=False)]
"""A relative MIP gap in a study file or a suite: finite, from 0 to below 1."""


def max_workers() -> int:
    """The most worker processes (``SolveOptions.workers``, a study's or a suite's jobs)."""
    return WORKERS_PER_CORE * available_cores()


def solver_problem(backend: str, solver: str) -> tuple[str, str] | None:
    """``(option, reason)`` when ``backend`` is unknown or ``solver`` is not one of its choices
    (the reason follows the value: ``'gurobi' is not available with ...``); else None."""
    choices = registry.choices()
    if backend not in choices:
        return "backend", f"is not a backend: choose one of {', '.join(choices)}"
    if solver not in choices[backend]:
        return "solver", (f"is not available with the {backend} backend: choose one of "
                          f"{', '.join(choices[backend])}")
    return None


def _refused(option: str, value: object, reason: str) -> Notice:
    return Notice(option, value, reason, NoticeKind.REFUSED)


def workers_problem(workers: int | None) -> Notice | None:
    """``workers`` out of its range (1 to :func:`max_workers`), as a notice, or None."""
    most = max_workers()
    if workers is None or 1 <= workers <= most:
        return None
    return _refused("workers", workers, f"must be from 1 to {most}: {WORKERS_PER_CORE} worker "
                                     f"processes per core available here ({available_cores()})"
                                     ", about 100 MB each")


def option_problems(options: SolveOptions) -> list[Notice]:
    """Every option of ``options`` out of its range, as notices (worded by the reader:
    ``--time-limit inf must be ...`` on the command line, ``time_limit=inf must be ...`` for
    the library); empty when all are good."""
    out = []
    unknown = solver_problem(options.backend, options.solver)
    if unknown is not None:
        option, reason = unknown
        out.append(_refused(option, getattr(options, option), reason))
    limit = options.time_limit
    if limit is not None and not (math.isfinite(limit) and limit > 0):
        out.append(_refused("time_limit", limit, "must be a finite number of seconds above 0"))
    gap = options.gap
    if gap is not None and not (math.isfinite(gap) and 0 <= gap < MAX_GAP):
        out.append(_refused("gap", gap, "must be a relative gap from 0 to below 1 (0.01 is 1%)"))
    threads = options.threads
    if threads is not None and not 1 <= threads <= MAX_THREADS:
        out.append(_refused("threads", threads, f"must be from 1 to {MAX_THREADS}"))
    workers = workers_problem(options.workers)
    if workers is not None:
        out.append(workers)
    return out

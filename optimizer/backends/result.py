"""One way from a solver's answer to a :class:`RawResult`, for every backend.

Each backend maps its solver's status through its own table (``MB_STATUS``, ``PROTO_STATUS``,
``PULP_STATUS``, ``HIGHS_STATUS``) and reads the values into an :class:`Answer`;
:func:`build_result` does the rest the same way for all of them: the time-limit rule, no
solution reported that is not there, and duals only from a solver whose duals are trusted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from optimizer.backends.base import Notice, RawResult, SolveOptions, Status
from optimizer.backends.registry import SolverInfo
from optimizer.model.lp import LinearProgram

TIME_LIMIT_SHARE = 0.95
"""A solve that ran for this share of its time limit stopped at the limit: solvers stop a
little before it, and measure time their own way."""


def hit_time_limit(elapsed: float, limit: float | None) -> bool:
    """The solve, ``elapsed`` seconds long, stopped at its time limit ``limit`` (None: none)."""
    return limit is not None and elapsed >= TIME_LIMIT_SHARE * limit


def map_status(status: Status, has_solution: bool, hit_time_limit: bool) -> Status:
    """A stop at the time limit is ``time_limit`` whatever the solver called it."""
    if hit_time_limit and status in (Status.FEASIBLE, Status.ERROR):
        return Status.TIME_LIMIT
    if status is Status.FEASIBLE and not has_solution:
        return Status.ERROR
    return status


@dataclass
class Answer:
    """What a solver answered, in the package's terms, before the rules of
    :func:`build_result`."""

    status: Status  # the solver's status through its backend's table
    message: str
    elapsed: float  # seconds
    log: str = ""
    x: np.ndarray | None = None  # None: the solver has no values
    objective: float | None = None
    bound: float | None = None
    duals: np.ndarray | None = None  # as the solver gave them; kept only where trusted


def build_result(info: SolverInfo, answer: Answer, lp: LinearProgram, opts: SolveOptions,
                 notices: Iterable[Notice] = ()) -> RawResult:
    """The RawResult of ``answer`` from ``info``'s solver on ``lp``, solved with ``opts``."""
    has_solution = answer.x is not None
    status = map_status(answer.status, has_solution,
                        hit_time_limit(answer.elapsed, opts.time_limit))
    result = RawResult(status, info.backend, info.name, solve_s=answer.elapsed,
                       message=answer.message, log=answer.log, notices=list(notices))
    if not has_solution:
        if answer.status.has_solution_expected and status is not Status.TIME_LIMIT:
            result.status = Status.ERROR  # never report a solution that is not there
            result.message += ": the solver returned no values"
        return result
    if not status.has_solution_expected:
        return result
    result.x, result.objective, result.bound = answer.x, answer.objective, answer.bound
    if info.trusted_duals and not lp.is_mip and answer.duals is not None:
        result.duals = answer.duals  # a MIP has no duals (its LP with integers fixed has)
        result.duals_from = info.duals_from or info.name
    return result

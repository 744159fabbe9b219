"""The strategy above a backend: what to solve, and what to add to a backend's answer.

:func:`dispatch` solves an LP whose periods are independent as one LP per period
(:mod:`optimizer.backends.decompose`), anything else as one problem, and gives every LP it
solves the duals its solver could not (:func:`add_duals`). The backends (OR-Tools, PuLP, the
warm HiGHS) only solve the LP or MIP they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from optimizer.backends import ortools_backend
from optimizer.backends.base import (
    LpSolve,
    Notice,
    NoticeKind,
    RawResult,
    SolveOptions,
    Status,
    ref,
)
from optimizer.backends.decompose import period_partition, solve_by_period
from optimizer.model.lp import LinearProgram

DUALS_FROM = "clp"  # the solver of the dual re-solves (trusted duals, the fastest LP path)


def dispatch(lp: LinearProgram, options: SolveOptions, solve: LpSolve,
             period_solves: Callable[[int], Sequence[LpSolve]] | None = None) -> RawResult:
    """``lp`` solved by ``solve`` (a backend), by period where that is exact; with
    ``period_solves``, period t of T is solved by ``period_solves(T)[t]`` instead, one period
    after another (e.g. each period's warm HiGHS)."""
    partition = period_partition(lp) if options.decompose else None
    if partition is not None:
        periods = int(partition[0].max()) + 1
        solves: LpSolve | list[LpSolve] = (
            partial(solve_with_duals, solve) if period_solves is None
            else [partial(solve_with_duals, s) for s in period_solves(periods)])
        return solve_by_period(lp, options, solves, partition)
    result = solve_with_duals(solve, lp, options)
    if options.workers is not None and options.workers > 1:
        why = (ref("decompose", False) if not options.decompose else
               "its periods are coupled (deferrable work, a carbon cap or renewable floor, or "
               "integer decisions)")
        result.notices.append(Notice("workers", options.workers, "has no effect: this LP is "
                                     f"solved as one ({why})", NoticeKind.NO_EFFECT))
    return result


def solve_with_duals(solve: LpSolve, lp: LinearProgram, options: SolveOptions) -> RawResult:
    """``solve(lp, options)``, with :func:`add_duals`."""
    return add_duals(solve(lp, options), lp, options)


def add_duals(result: RawResult, lp: LinearProgram, options: SolveOptions) -> RawResult:
    """The duals a solve of ``lp`` did not give, from one LP solved by CLP: ``lp`` itself for an
    LP solved to optimality by a solver whose duals are not trusted (HiGHS or SCIP through
    OR-Tools), and for a MIP its LP with the integer decisions fixed at the solution (a MIP has
    no duals; SOLVERS.md). Left as it is where CLP does not reach optimality."""
    if result.x is None or result.duals is not None:
        return result
    if lp.is_mip:
        target, source = lp.fix_integers(result.x), f"{DUALS_FROM}, integers fixed"
        section = "LP with integers fixed, for duals (CLP)"
    elif result.status is Status.OPTIMAL:
        target, section = lp, "dual re-solve with CLP"
        source = f"{DUALS_FROM} (re-solve: {result.solver}'s duals are not reliable)"
    else:
        return result
    dual_run = ortools_backend.solve(target, SolveOptions(solver=DUALS_FROM,
                                                          time_limit=options.time_limit))
    if dual_run.status is Status.OPTIMAL and dual_run.duals is not None:
        result.duals, result.duals_from = dual_run.duals, source
        result.log += f"\n--- {section} ---\n" + dual_run.log
    return result

"""Stage 4: LinearProgram -> RawResult, through OR-Tools (primary) or PuLP (cross-check)."""

from __future__ import annotations

from optimizer.backends import ortools_backend, pulp_backend, registry
from optimizer.backends.base import Notice, NoticeKind, RawResult, SolveOptions, Status, ref
from optimizer.backends.decompose import period_partition, solve_by_period
from optimizer.model.lp import LinearProgram

BACKENDS = {"ortools": ortools_backend.solve, "pulp": pulp_backend.solve}
SOLVER_CHOICES = registry.choices()  # solver choices by backend: auto and the registry's

__all__ = ["BACKENDS", "RawResult", "SolveOptions", "Status", "solve"]


def solve(lp: LinearProgram, options: SolveOptions) -> RawResult:
    if options.backend not in BACKENDS:
        return RawResult(Status.ERROR, options.backend, options.solver,
                         message=f"unknown backend {options.backend!r}: ortools or pulp")
    partition = period_partition(lp) if options.decompose else None
    if partition is not None:
        return solve_by_period(lp, options, BACKENDS[options.backend], partition)
    result = BACKENDS[options.backend](lp, options)
    if options.workers is not None and options.workers > 1:
        why = (ref("decompose", False) if not options.decompose else
               "its periods are coupled (deferrable work, a carbon cap or renewable floor, or "
               "integer decisions)")
        result.notices.append(Notice("workers", options.workers, "has no effect: this LP is "
                                     f"solved as one ({why})", NoticeKind.NO_EFFECT))
    if lp.is_mip and result.x is not None and result.duals is None:
        # a MIP has no duals: fix the integer decisions, re-solve the LP with CLP, read its duals
        fixed = lp.fix_integers(result.x)
        dual_run = ortools_backend.solve(fixed, SolveOptions(solver="clp",
                                                             time_limit=options.time_limit))
        if dual_run.status is Status.OPTIMAL and dual_run.duals is not None:
            result.duals = dual_run.duals
            result.duals_from = "clp, integers fixed"
            result.log += "\n--- LP with integers fixed, for duals (CLP) ---\n" + dual_run.log
    return result

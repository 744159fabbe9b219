"""Stage 4: LinearProgram -> RawResult, through OR-Tools (primary) or PuLP (cross-check)."""

from __future__ import annotations

from optimizer.backends import ortools_backend, pulp_backend
from optimizer.backends.base import RawResult, SolveOptions, Status
from optimizer.model.lp import LinearProgram

BACKENDS = {"ortools": ortools_backend.solve, "pulp": pulp_backend.solve}
SOLVER_CHOICES = ("auto", *ortools_backend.LP_SOLVERS, "cbc")

__all__ = ["BACKENDS", "RawResult", "SolveOptions", "Status", "solve"]


def solve(lp: LinearProgram, options: SolveOptions) -> RawResult:
    if options.backend not in BACKENDS:
        return RawResult(Status.ERROR, options.backend, options.solver,
                         message=f"unknown backend {options.backend!r}: ortools or pulp")
    return BACKENDS[options.backend](lp, options)

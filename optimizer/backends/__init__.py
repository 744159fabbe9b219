"""Stage 4: LinearProgram -> RawResult, through OR-Tools (primary) or PuLP (cross-check)."""

from __future__ import annotations

from optimizer.backends import ortools_backend, pulp_backend, registry
from optimizer.backends.base import RawResult, SolveOptions, Status
from optimizer.backends.strategy import dispatch
from optimizer.model.lp import LinearProgram

BACKENDS = {"ortools": ortools_backend.solve, "pulp": pulp_backend.solve}
SOLVER_CHOICES = registry.choices()  # solver choices by backend: auto and the registry's

__all__ = ["BACKENDS", "RawResult", "SolveOptions", "Status", "solve"]


def solve(lp: LinearProgram, options: SolveOptions) -> RawResult:
    """``lp`` solved by ``options.backend`` (:func:`~optimizer.backends.strategy.dispatch`: by
    period where that is exact; duals added where the solver gives none to trust)."""
    if options.backend not in BACKENDS:
        return RawResult(Status.ERROR, options.backend, options.solver,
                         message=f"unknown backend {options.backend!r}: ortools or pulp")
    return dispatch(lp, options, BACKENDS[options.backend])

"""PuLP backend (CBC, or HiGHS where highspy is installed): the independent cross-check.

PuLP has no sparse-matrix interface, so this backend walks the CSR rows to build its expressions:
it is the cross-check and a fallback, not the fast path.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any

import numpy as np
import pulp

from optimizer.backends import registry, result
from optimizer.backends.base import (
    RawResult,
    SolveOptions,
    Status,
    capture_fd_output,
    note_threaded_solver,
)
from optimizer.backends.interrupts import highs_stop, interruptible
from optimizer.backends.result import Answer, build_result
from optimizer.model.lp import LinearProgram

# (LpProblem.status, LpProblem.sol_status) names -> Status; a table test covers every entry
PULP_STATUS: dict[str, Status] = {
    "Optimal": Status.OPTIMAL,
    "Not Solved": Status.ERROR,
    "Infeasible": Status.INFEASIBLE,
    "Unbounded": Status.UNBOUNDED,
    "Undefined": Status.ERROR,
}


def native_status(status: str, sol_status: int) -> Status:
    """PuLP's (``LpProblem.status`` name, ``sol_status``) as a Status, before the time-limit
    rule: an integer-feasible answer is FEASIBLE, "Optimal" without an optimal solution ERROR."""
    if sol_status == pulp.LpSolutionIntegerFeasible:
        return Status.FEASIBLE
    mapped = PULP_STATUS.get(status, Status.ERROR)
    if mapped is Status.OPTIMAL and sol_status != pulp.LpSolutionOptimal:
        return Status.ERROR
    return mapped


def map_status(status: str, sol_status: int, hit_time_limit: bool) -> Status:
    """The status :func:`solve` reports for a solution that has values."""
    return result.map_status(native_status(status, sol_status), True, hit_time_limit)


def available_solvers() -> list[str]:
    found = pulp.listSolvers(onlyAvailable=True)
    return [s.name for s in registry.SOLVERS if s.backend == "pulp" and s.native in found]


def to_pulp(lp: LinearProgram) -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[str]]:
    prob = pulp.LpProblem("eastwest", pulp.LpMinimize)
    xs = [
        pulp.LpVariable(
            f"x{j}",
            lowBound=None if not np.isfinite(lb) else float(lb),
            upBound=None if not np.isfinite(ub) else float(ub),
            cat=pulp.LpInteger if integer else pulp.LpContinuous,
        )
        for j, (lb, ub, integer) in enumerate(zip(lp.col_lb, lp.col_ub, lp.integer, strict=True))
    ]
    nz = np.flatnonzero(lp.c)
    prob += pulp.LpAffineExpression([(xs[j], float(lp.c[j])) for j in nz])
    names: list[str] = []
    A = lp.A
    for i in range(lp.n_rows):
        lo, hi = A.indptr[i], A.indptr[i + 1]
        expr = pulp.LpAffineExpression(
            [(xs[j], float(v)) for j, v in zip(A.indices[lo:hi], A.data[lo:hi], strict=True)]
        )
        lb, ub = float(lp.row_lb[i]), float(lp.row_ub[i])
        name = f"r{i}"
        if lb == ub:
            prob += (expr == lb, name)
        elif np.isfinite(lb) and np.isfinite(ub):
            prob += (expr >= lb, name + "_lo")
            prob += (expr <= ub, name)
        elif np.isfinite(ub):
            prob += (expr <= ub, name)
        elif np.isfinite(lb):
            prob += (expr >= lb, name)
        else:
            name = ""
        names.append(name)
    return prob, xs, names


def solve(lp: LinearProgram, opts: SolveOptions) -> RawResult:
    solver_name = "cbc" if opts.solver == "auto" else opts.solver
    info = registry.lookup("pulp", solver_name)
    if info is None:
        return RawResult(Status.ERROR, "pulp", solver_name,
                         message=f"solver {solver_name!r} is not a PuLP solver here; "
                                 f"choose one of {', '.join(registry.names('pulp'))}")
    if solver_name not in available_solvers():
        return RawResult(Status.ERROR, "pulp", solver_name,
                         message=f"PuLP cannot find {solver_name} on this machine")
    prob, xs, names = to_pulp(lp)
    kwargs: dict[str, Any] = {"msg": True}
    if opts.time_limit is not None:
        kwargs["timeLimit"] = opts.time_limit
    if opts.gap is not None:
        kwargs["gapRel"] = opts.gap
    if opts.threads:
        kwargs["threads"] = opts.threads
    # CBC runs as a child process: Ctrl-C reaches it too (the terminal signals the whole
    # process group), and it stops; HiGHS polls the interrupt through its callbacks
    with tempfile.TemporaryDirectory() as tmp, interruptible() as interrupt:
        cwd = None
        if solver_name == "cbc":
            kwargs["keepFiles"] = False
            cwd = os.getcwd()
            os.chdir(tmp)  # CBC_CMD writes its scratch files to the working directory
        elif solver_name == "highs":
            poll, kwargs["callbacksToActivate"] = highs_stop(interrupt)
            kwargs["callbackTuple"] = (poll, None)
        solver: Any = getattr(pulp, info.native)(**kwargs)
        if info.thread_pool is not None:
            note_threaded_solver(info.thread_pool)
        start = time.perf_counter()
        try:
            with capture_fd_output() as captured:
                prob.solve(solver)
        finally:
            if cwd is not None:
                os.chdir(cwd)
        elapsed = time.perf_counter() - start
    answer = Answer(native_status(pulp.LpStatus[prob.status], prob.sol_status),
                    pulp.LpStatus[prob.status], elapsed, captured[0])
    values = np.array([np.nan if v.varValue is None else v.varValue for v in xs], dtype=float)
    if not np.isnan(values).any():
        answer.x, answer.objective = values, float(lp.c @ values)
        answer.duals = np.array([prob.constraints[n].pi if n and prob.constraints[n].pi
                                 is not None else 0.0 for n in names], dtype=float)
    return build_result(info, answer, lp, opts, registry.ignored_options(info, lp, opts))

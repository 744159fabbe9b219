"""OR-Tools backend: the whole LP loaded in one call, solved by GLOP, PDLP, HiGHS, SCIP or CLP.

The matrix goes into ``model_builder`` with ``helper.fill_model_from_sparse_data`` on an empty
model (SOLVERS.md: on a non-empty model it appends). CLP is reached by exporting the model proto
and solving it with ``pywraplp.Solver.SolveWithProto``. Duals are read only from solvers that give
correct ones (the registry's ``trusted_duals``: GLOP, PDLP, CLP); after HiGHS or SCIP the strategy
above re-solves the LP with CLP for them (:func:`optimizer.backends.strategy.add_duals`).
Solver output goes to the raw file descriptors, so every solve runs inside
:func:`capture_fd_output` and its log is returned, never printed.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

# highspy (HiGHS 1.16, e.g. loaded by `import pulp`) loaded before OR-Tools' own HiGHS (1.12)
# makes OR-Tools' HiGHS crash the process (segfault, measured). Remember whether that happened.
HIGHS_SHADOWED = "highspy" in sys.modules and not any(m.startswith("ortools.") for m in sys.modules)

# model_builder's pybind helpers without model_builder.py, which imports pandas (0.2 s of
# every start-up)
from ortools.linear_solver import linear_solver_pb2, pywraplp  # noqa: E402
from ortools.linear_solver.python import model_builder_helper as mbh  # noqa: E402

from optimizer.backends import registry  # noqa: E402
from optimizer.backends.base import (  # noqa: E402
    Notice,
    NoticeKind,
    RawResult,
    SolveOptions,
    Status,
    capture_fd_output,
    note_threaded_solver,
    ref,
)
from optimizer.backends.interrupts import interruptible  # noqa: E402
from optimizer.backends.registry import SolverInfo  # noqa: E402
from optimizer.backends.result import Answer, build_result, hit_time_limit  # noqa: E402
from optimizer.model.lp import LinearProgram  # noqa: E402

# model_builder's SolveStatus name -> Status (a table test covers every entry)
MB_STATUS: dict[str, Status] = {
    "OPTIMAL": Status.OPTIMAL,
    "FEASIBLE": Status.FEASIBLE,
    "INFEASIBLE": Status.INFEASIBLE,
    "UNBOUNDED": Status.UNBOUNDED,
    "ABNORMAL": Status.ERROR,
    "NOT_SOLVED": Status.ERROR,
    "MODEL_IS_VALID": Status.ERROR,
    "CANCELLED_BY_USER": Status.ERROR,
    "UNKNOWN_STATUS": Status.ERROR,
    "MODEL_INVALID": Status.ERROR,
    "INVALID_SOLVER_PARAMETERS": Status.ERROR,
    "SOLVER_TYPE_UNAVAILABLE": Status.ERROR,
    "INCOMPATIBLE_OPTIONS": Status.ERROR,
}

# MPSolverResponseStatus name (CLP through the proto) -> Status
PROTO_STATUS: dict[str, Status] = {
    "MPSOLVER_OPTIMAL": Status.OPTIMAL,
    "MPSOLVER_FEASIBLE": Status.FEASIBLE,
    "MPSOLVER_INFEASIBLE": Status.INFEASIBLE,
    "MPSOLVER_UNBOUNDED": Status.UNBOUNDED,
    "MPSOLVER_ABNORMAL": Status.ERROR,
    "MPSOLVER_NOT_SOLVED": Status.ERROR,
    "MPSOLVER_MODEL_IS_VALID": Status.ERROR,
    "MPSOLVER_CANCELLED_BY_USER": Status.ERROR,
    "MPSOLVER_UNKNOWN_STATUS": Status.ERROR,
    "MPSOLVER_MODEL_INVALID": Status.ERROR,
    "MPSOLVER_MODEL_INVALID_SOLUTION_HINT": Status.ERROR,
    "MPSOLVER_MODEL_INVALID_SOLVER_PARAMETERS": Status.ERROR,
    "MPSOLVER_SOLVER_TYPE_UNAVAILABLE": Status.ERROR,
    "MPSOLVER_INCOMPATIBLE_OPTIONS": Status.ERROR,
}


FEW_INTEGERS = 50
"""MIPs with at most this many integer decisions go to CBC, the others to SCIP. Measured here
(one run each): the 2030 plan (36 decisions, 94,977 variables over 15 cases) CBC 18.8 s, SCIP
not done after 240 s; the 2025 plan (10 decisions, 18,442 variables) CBC 0.9 s, SCIP 4.6 s; the
generated medium LP with 6 candidate sites (219,510 variables) CBC 35 s, SCIP 126 s; 50x20 with
6 candidates CBC 9.4 s, SCIP 20.4 s. With 100 decisions (OR-Library capa4, 100,300 variables)
CBC took 132 s and SCIP 33 s."""


SCIP_INTERRUPTED = "[user interrupt]"
"""SCIP's status line in its log after it caught SIGINT ("solving was interrupted [user
interrupt]"): model_builder reports only FEASIBLE, with no status text."""


def default_solver(lp: LinearProgram, opts: SolveOptions | None = None) -> tuple[str, str]:
    """The solver ``auto`` picks by problem class and size, and why (measured on this machine:
    FEW_INTEGERS, reports/benchmarks/solvers.md); the reason is a :class:`Notice` reason (it
    may mention options)."""
    size = f"{lp.n_vars:,} variables"
    if lp.is_mip:
        k = int(lp.integer.sum())
        if k <= FEW_INTEGERS and (opts is None or opts.gap is None
                                 or registry.get("ortools", "cbc").gap):
            return "cbc", (f"MIP with {k} integer decisions among {size}: CBC (its LP engine is "
                           "CLP) solved such LP-heavy MIPs 2-4x faster than SCIP here")
        why = (f"CBC through OR-Tools ignores {ref('gap')}" if k <= FEW_INTEGERS else
               f"with more than {FEW_INTEGERS} decisions SCIP was the faster here (4x on "
               "OR-Library capa4)")
        return "scip", f"MIP with {k:,} integer decisions among {size}: SCIP ({why})"
    return "clp", (f"LP with {size}: CLP (via the exported proto), the fastest exact LP path "
                   "measured here at every size")


def to_model(lp: LinearProgram) -> Any:
    """The LP as an OR-Tools ``ModelBuilderHelper`` (its stubs misdeclare the array types)."""
    model: Any = mbh.ModelBuilderHelper()
    model.fill_model_from_sparse_data(
        lp.col_lb.astype(np.float64), lp.col_ub.astype(np.float64), lp.c.astype(np.float64),
        lp.row_lb.astype(np.float64), lp.row_ub.astype(np.float64), lp.A,
    )
    if lp.is_mip:
        for j in np.flatnonzero(lp.integer):
            model.set_var_integrality(int(j), True)
    return model


# SOLVERS.md: HiGHS takes key=value lines, SCIP and PDLP their text-proto forms. The default
# PDLP tolerance leaves ~1e-6 relative error; 1e-9 made the medium benchmark LP take 572 s
# instead of 148 s: 1e-7 is the compromise.
PDLP_TOLERANCE = ("termination_criteria { simple_optimality_criteria { "
                  "eps_optimal_relative: 1e-7 eps_optimal_absolute: 1e-7 } }")
# solver -> (fixed parameters, the parameter for each option it honours, separator); the
# registry's gap and threads flags say which options these are (a test checks both agree)
PARAMETERS: dict[str, tuple[list[str], dict[str, str], str]] = {
    "highs": ([], {"threads": "threads={}", "gap": "mip_rel_gap={}"}, "\n"),
    "scip": ([], {"gap": "limits/gap = {}"}, "\n"),
    "pdlp": ([PDLP_TOLERANCE], {"threads": "num_threads: {}"}, " "),
}


def _params(info: SolverInfo, opts: SolveOptions, ignored: set[str]) -> str:
    """Solver-specific parameter text for the options given and not ``ignored``."""
    fixed, forms, sep = PARAMETERS.get(info.name, ([], {}, ""))
    given = {"threads": opts.threads or None, "gap": opts.gap}
    return sep.join([*fixed, *(form.format(given[option]) for option, form in forms.items()
                               if given[option] is not None and option not in ignored)])


def solve(lp: LinearProgram, opts: SolveOptions) -> RawResult:
    solver, why = (default_solver(lp, opts) if opts.solver == "auto"
                   else (opts.solver, "chosen"))
    info = registry.suitable("ortools", solver, lp)
    if info.name == "highs" and HIGHS_SHADOWED:
        return RawResult(Status.ERROR, "ortools", solver,
                         message="highspy was imported before OR-Tools in this process (e.g. by "
                                 "`import pulp`), which makes OR-Tools' HiGHS crash: import "
                                 "optimizer before pulp, or solve with HiGHS through the pulp "
                                 "backend")
    notices = registry.ignored_options(info, lp, opts)
    model = to_model(lp)
    result = (_solve_proto(model, lp, opts, info) if info.interface == "proto"
              else _solve_mb(model, lp, opts, info, {n.option for n in notices}))
    if opts.solver == "auto":
        notices.insert(0, Notice("solver", "auto", why, NoticeKind.CHOSEN))
    result.notices[:0] = notices
    if info.name == "glop" and result.status is Status.ERROR and not lp.is_mip:
        return _glop_fallback(lp, opts, result)
    return result


def _glop_fallback(lp: LinearProgram, opts: SolveOptions, failed: RawResult) -> RawResult:
    """GLOP sometimes gives up on a small, badly scaled LP (ABNORMAL: "needed cost perturbation
    too large") that CLP solves: the answer is CLP's, and a notice says so."""
    from dataclasses import replace

    retry = solve(lp, replace(opts, solver="clp"))
    retry.notices[:0] = [*failed.notices, Notice(
        "solver", "glop", f"GLOP could not solve this LP ({failed.message or 'abnormal'}): "
        "solved with CLP instead", NoticeKind.INFO)]
    retry.log = failed.log + "\n--- GLOP failed: re-solved with CLP ---\n" + retry.log
    return retry


def _solve_mb(model: Any, lp: LinearProgram, opts: SolveOptions, info: SolverInfo,
              ignored: set[str]) -> RawResult:
    """GLOP, PDLP, HiGHS or SCIP through model_builder, with the options not ``ignored``."""
    solver = mbh.ModelSolverHelper(info.native)
    if not solver.solver_is_supported():
        return RawResult(Status.ERROR, "ortools", info.name,
                         message=f"{info.name} is not available in this OR-Tools build")
    params = _params(info, opts, ignored)
    if params:
        solver.set_solver_specific_parameters(params)
    if opts.time_limit is not None:
        solver.set_time_limit_in_seconds(opts.time_limit)
    solver.enable_output(True)
    if info.thread_pool is not None:
        note_threaded_solver(info.thread_pool)
    start = time.perf_counter()
    with interruptible(solver.interrupt_solve) as interrupt:  # which stops GLOP only (9.15)
        with capture_fd_output() as captured:
            solver.solve(model)
        if info.name == "scip" and SCIP_INTERRUPTED in captured[0]:
            interrupt.caught()  # SCIP catches SIGINT itself, stops, and answers FEASIBLE
    name = solver.status().name
    answer = Answer(MB_STATUS[name], name, time.perf_counter() - start, captured[0])
    if solver.has_solution():
        answer.x = np.asarray(solver.variable_values(), dtype=float)
        answer.objective = float(solver.objective_value())
        bound = float(solver.best_objective_bound())
        answer.bound = bound if np.isfinite(bound) else None
        if info.trusted_duals:  # model_builder's HiGHS gives row activities here
            answer.duals = np.asarray(solver.dual_values(), dtype=float)
    return build_result(info, answer, lp, opts)


def _solve_proto(model: Any, lp: LinearProgram, opts: SolveOptions,
                 info: SolverInfo) -> RawResult:
    """CLP or CBC: the model_builder model exported as a proto, solved by pywraplp."""
    request = linear_solver_pb2.MPModelRequest()
    request.model.CopyFrom(mbh.to_mpmodel_proto(model))
    request.solver_type = getattr(linear_solver_pb2.MPModelRequest, info.native)
    request.enable_internal_solver_output = True
    if opts.time_limit is not None:
        request.solver_time_limit_seconds = opts.time_limit
    response = linear_solver_pb2.MPSolutionResponse()
    start = time.perf_counter()
    # no interrupt API here: they run to their end (or limit); CBC's own SIGINT handler,
    # which may drop the signal, is kept from it (hold)
    with interruptible(hold=True) as interrupt:
        with capture_fd_output() as captured:
            pywraplp.Solver.SolveWithProto(request, response)
        elapsed = time.perf_counter() - start
        name = linear_solver_pb2.MPSolverResponseStatus.Name(response.status)
        if name == "MPSOLVER_FEASIBLE" and not hit_time_limit(elapsed, opts.time_limit):
            # with no limit to stop them, a merely feasible answer can only be a CLP or CBC
            # that caught SIGINT itself (where it is not held: outside the main thread)
            interrupt.caught()
    answer = Answer(PROTO_STATUS.get(name, Status.ERROR),
                    name + (f": {response.status_str}" if response.status_str else ""),
                    elapsed, captured[0])
    if len(response.variable_value) == lp.n_vars:
        answer.x = np.asarray(response.variable_value, dtype=float)
        answer.objective = float(response.objective_value)
        if response.HasField("best_objective_bound"):
            answer.bound = float(response.best_objective_bound)
        if len(response.dual_value) == lp.n_rows:
            answer.duals = np.asarray(response.dual_value, dtype=float)
    return build_result(info, answer, lp, opts)

"""The warm HiGHS backend: re-solves along a serial sweep keep the solver and change only what
changed (``optimizer.warm`` re-exports it for the studies and benchmarks).

OR-Tools' ``model_builder`` builds a new solver on every solve, so it cannot warm-start. highspy
(HiGHS) keeps its model and its basis between runs: :class:`WarmSolver` passes the first LP whole,
and for every later LP with the same shape and the same sparsity pattern of ``A`` it changes only
the costs, bounds (vectorised) and the few matrix values that differ, then re-runs simplex from the
previous basis. Anything else (another shape or pattern, many changed values) passes the model
again, cold. The strategy is the package's (:func:`optimizer.backends.strategy.dispatch`: an LP
whose periods are independent is solved by period, each period LP by its own kept HiGHS, and
duals are added where HiGHS gave none); a MIP is handed to the ordinary cold path
(:func:`optimizer.backends.solve`).

highspy is imported lazily, inside functions, after :mod:`optimizer.backends` (and so OR-Tools):
imported first, it makes OR-Tools' own HiGHS crash (``HIGHS_SHADOWED``). HiGHS prints a banner
when a solver is created; that happens inside :func:`capture_fd_output`, and ``output_flag`` is
off, so nothing reaches stdout.
"""

from __future__ import annotations

import contextlib
import importlib.util
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from optimizer import backends
from optimizer.backends import registry
from optimizer.backends.base import (
    LpSolve,
    RawResult,
    SolveOptions,
    Status,
    capture_fd_output,
    note_threaded_solver,
)
from optimizer.backends.interrupts import Interrupt, highs_stop, interruptible
from optimizer.backends.result import Answer, build_result
from optimizer.backends.strategy import dispatch
from optimizer.model.lp import LinearProgram

# HighsModelStatus name -> Status (a table test covers every member)
HIGHS_STATUS: dict[str, Status] = {
    "kNotset": Status.ERROR,
    "kLoadError": Status.ERROR,
    "kModelError": Status.ERROR,
    "kPresolveError": Status.ERROR,
    "kSolveError": Status.ERROR,
    "kPostsolveError": Status.ERROR,
    "kModelEmpty": Status.OPTIMAL,  # no rows and no columns: the empty solution is optimal
    "kOptimal": Status.OPTIMAL,
    "kInfeasible": Status.INFEASIBLE,
    "kUnboundedOrInfeasible": Status.ERROR,  # re-run without presolve to tell them apart
    "kUnbounded": Status.UNBOUNDED,
    "kObjectiveBound": Status.ERROR,
    "kObjectiveTarget": Status.ERROR,
    "kTimeLimit": Status.TIME_LIMIT,
    "kIterationLimit": Status.ERROR,
    "kUnknown": Status.ERROR,
    "kSolutionLimit": Status.ERROR,
    "kInterrupt": Status.ERROR,
    "kMemoryLimit": Status.ERROR,
    "kHighsInterrupt": Status.ERROR,
}

INFO = registry.get("highspy", "highs-warm")

MAX_CHANGED_COEFFS = 0.01
"""Change matrix values one by one (``changeCoeff``) when at most this share of them differ
(and at most :data:`MAX_CHANGED_COEFF_COUNT`); more, and the model is passed again, cold."""
MAX_CHANGED_COEFF_COUNT = 5000


@dataclass
class _Kept:
    """What the HiGHS model holds: compared with the next LP to change only what differs."""

    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    c: np.ndarray
    col_lb: np.ndarray
    col_ub: np.ndarray
    row_lb: np.ndarray
    row_ub: np.ndarray


def available() -> bool:
    """highspy can be imported (checked without importing it)."""
    return importlib.util.find_spec("highspy") is not None


def map_status(name: str) -> Status:
    return HIGHS_STATUS.get(name, Status.ERROR)


def highs_lp(lp: LinearProgram) -> Any:
    """``lp`` as a highspy ``HighsLp``, the matrix column-wise (import highspy after OR-Tools)."""
    import highspy

    A = lp.A.tocsc()
    A.sort_indices()
    model = highspy.HighsLp()
    model.num_col_ = lp.n_vars
    model.num_row_ = lp.n_rows
    model.col_cost_ = np.asarray(lp.c, dtype=np.float64)
    model.col_lower_ = np.asarray(lp.col_lb, dtype=np.float64)
    model.col_upper_ = np.asarray(lp.col_ub, dtype=np.float64)
    model.row_lower_ = np.asarray(lp.row_lb, dtype=np.float64)
    model.row_upper_ = np.asarray(lp.row_ub, dtype=np.float64)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.num_col_ = lp.n_vars
    model.a_matrix_.num_row_ = lp.n_rows
    model.a_matrix_.start_ = A.indptr.astype(np.int32)
    model.a_matrix_.index_ = A.indices.astype(np.int32)
    model.a_matrix_.value_ = np.asarray(A.data, dtype=np.float64)
    return model


@contextlib.contextmanager
def polling(highs: Any, interrupt: Interrupt) -> Iterator[None]:
    """HiGHS stops at its next interrupt check once ``interrupt.requested`` (Ctrl-C)."""
    poll, kinds = highs_stop(interrupt)
    highs.setCallback(poll, None)
    for kind in kinds:
        highs.startCallback(kind)
    try:
        yield
    finally:
        for kind in kinds:
            highs.stopCallback(kind)


def _change_bounds(change: Any, lb: np.ndarray, ub: np.ndarray, kept_lb: np.ndarray,
                   kept_ub: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Call ``change`` (``changeColsBounds`` or ``changeRowsBounds``) for the bounds that
    differ from the kept ones: (the new lower and upper bounds as float64, how many changed)."""
    lb, ub = np.asarray(lb, dtype=np.float64), np.asarray(ub, dtype=np.float64)
    idx = np.flatnonzero((lb != kept_lb) | (ub != kept_ub)).astype(np.int32)
    if idx.size:
        change(int(idx.size), idx, lb[idx], ub[idx])
    return lb, ub, int(idx.size)


class WarmSolver:
    """Solve a sequence of related LPs with one HiGHS instance, warm where the structure allows.

    ``solve`` returns a :class:`RawResult` like any backend: duals as d objective / d row bound
    (the CLP/GLOP convention of the package), ``notes`` say whether the solve was warm.
    """

    def __init__(self, options: SolveOptions | None = None) -> None:
        self.options = options or SolveOptions()
        self._highs: Any = None
        self._kept: _Kept | None = None  # the LP HiGHS holds now
        self.warm_solves = 0
        self.last_iterations = 0
        self.last_how = ""
        self._periods: list[WarmSolver] = []  # per period, when the LPs split into periods
        self.cold_solves = 0
        self.last_warm = False
        self._split = 0  # the periods of the last LP, if it was solved by period

    # -- model state ---------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget the model: the next solve starts cold."""
        self._kept = None
        if self._highs is not None:
            self._highs.clearModel()

    def _new_highs(self) -> Any:
        import highspy  # lazily: after OR-Tools (see the module docstring)

        note_threaded_solver("highspy")
        with capture_fd_output():  # the constructor prints a banner on fd 1
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
            highs.setOptionValue("log_to_console", False)
        if self.options.time_limit is not None:
            highs.setOptionValue("time_limit", float(self.options.time_limit))
        if self.options.threads:
            highs.setOptionValue("threads", int(self.options.threads))
        return highs

    def _remember(self, lp: LinearProgram) -> None:
        A = lp.A
        self._kept = _Kept(
            shape=(lp.n_rows, lp.n_vars), indptr=A.indptr.copy(), indices=A.indices.copy(),
            data=np.asarray(A.data, dtype=np.float64).copy(),
            c=np.asarray(lp.c, dtype=np.float64).copy(),
            col_lb=np.asarray(lp.col_lb, dtype=np.float64).copy(),
            col_ub=np.asarray(lp.col_ub, dtype=np.float64).copy(),
            row_lb=np.asarray(lp.row_lb, dtype=np.float64).copy(),
            row_ub=np.asarray(lp.row_ub, dtype=np.float64).copy())

    def _pass_model(self, lp: LinearProgram) -> None:
        if self._highs is None:
            self._highs = self._new_highs()
        model = highs_lp(lp)
        self._highs.clearModel()  # also drops the old basis
        self._highs.passModel(model)
        self._remember(lp)

    def _same_structure(self, lp: LinearProgram) -> bool:
        kept = self._kept
        if kept is None or kept.shape != (lp.n_rows, lp.n_vars):
            return False
        return bool(np.array_equal(lp.A.indptr, kept.indptr)
                    and np.array_equal(lp.A.indices, kept.indices))

    def _update(self, lp: LinearProgram) -> str | None:
        """Change costs, bounds and a few coefficients in place; None if the model must be
        passed again (too many matrix values changed), else a description of the changes."""
        kept = self._kept
        if kept is None:
            return None  # nothing remembered: pass the model
        highs = self._highs
        data = np.asarray(lp.A.data, dtype=np.float64)
        changed = np.flatnonzero(data != kept.data)
        limit = min(MAX_CHANGED_COEFF_COUNT, int(MAX_CHANGED_COEFFS * max(data.size, 1)))
        if changed.size > limit:
            return None
        if changed.size:
            rows = np.repeat(np.arange(lp.n_rows), np.diff(kept.indptr))[changed]
            cols = kept.indices[changed]
            for i, j, v in zip(rows.tolist(), cols.tolist(), data[changed].tolist(),
                               strict=True):
                highs.changeCoeff(int(i), int(j), float(v))
        c = np.asarray(lp.c, dtype=np.float64)
        cost_idx = np.flatnonzero(c != kept.c).astype(np.int32)
        if cost_idx.size:
            highs.changeColsCost(int(cost_idx.size), cost_idx, c[cost_idx])
        col_lb, col_ub, n_cols = _change_bounds(highs.changeColsBounds, lp.col_lb, lp.col_ub,
                                                kept.col_lb, kept.col_ub)
        row_lb, row_ub, n_rows = _change_bounds(highs.changeRowsBounds, lp.row_lb, lp.row_ub,
                                                kept.row_lb, kept.row_ub)
        kept.data, kept.c = data.copy(), c.copy()
        kept.col_lb, kept.col_ub = col_lb.copy(), col_ub.copy()
        kept.row_lb, kept.row_ub = row_lb.copy(), row_ub.copy()
        return (f"{cost_idx.size} costs, {n_cols} column bounds, {n_rows} row "
                f"bounds, {changed.size} coefficients changed")

    # -- solving -------------------------------------------------------------------------------

    def solve(self, lp: LinearProgram) -> RawResult:
        """``lp`` solved warm where it can be, through the package's strategy (by period where
        that is exact, duals added where HiGHS gave none); a MIP cold, by ``backends.solve``."""
        if lp.is_mip:
            self.reset()
            self._periods = []
            result = backends.solve(lp, self.options)
            result.notes.append("warm: no (a MIP: solved cold by the default backend)")
            return result
        self._split = 0
        result = dispatch(lp, replace(self.options, workers=1), self._solve_lp,
                          self._period_solvers)
        if self._split:
            self._note_periods(result)
        else:
            self._periods = []
        return result

    def _period_solvers(self, periods: int) -> list[LpSolve]:
        """One warm solver per period, each kept between calls: the period LPs of the next
        point start from their own previous bases (one after another, in this process)."""
        if len(self._periods) != periods:
            self._periods = [WarmSolver(self.options) for _ in range(periods)]
        self.reset()  # the whole-model state, if any, is stale now
        self._split = periods
        return [p._solve_lp for p in self._periods]

    def _note_periods(self, result: RawResult) -> None:
        """One note for the period LPs' warm starts, instead of the first period's."""
        T = len(self._periods)
        warm = sum(p.last_warm for p in self._periods)
        iterations = sum(p.last_iterations for p in self._periods)
        detail = self._periods[0].last_how
        self.last_warm = warm == T
        self.warm_solves += self.last_warm
        self.cold_solves += not self.last_warm
        note = (f"warm: yes ({T} period LPs from their previous bases, {iterations} simplex "
                f"iterations in all; period 0: {detail})" if self.last_warm else
                f"warm: no ({warm} of {T} period LPs warm, {iterations} simplex iterations in "
                f"all; period 0: {detail})")
        result.notes = [n for n in result.notes if not n.startswith("warm: ")] + [note]

    def _solve_lp(self, lp: LinearProgram, _options: SolveOptions) -> RawResult:
        """:meth:`_solve_one` as a backend's solve (this solver keeps its own options)."""
        return self._solve_one(lp)

    def _solve_one(self, lp: LinearProgram) -> RawResult:
        start = time.perf_counter()
        warm = False
        how = ""
        if self._highs is not None and self._same_structure(lp):
            changes = self._update(lp)
            if changes is not None:
                warm = bool(self._highs.getBasis().valid)
                how = changes
            else:
                how = "too many matrix values changed: model passed again"
                self._pass_model(lp)
        else:
            how = ("first solve" if self._kept is None
                   else "structure changed (shape or sparsity of A): model passed again")
            self._pass_model(lp)
        highs = self._highs
        with interruptible() as interrupt, polling(highs, interrupt), \
                capture_fd_output() as captured:
            highs.run()
            name = highs.getModelStatus().name
            if name == "kUnboundedOrInfeasible" and not interrupt.requested:
                highs.setOptionValue("presolve", "off")  # presolve could not tell: ask simplex
                highs.run()
                highs.setOptionValue("presolve", "choose")
                name = highs.getModelStatus().name
        elapsed = time.perf_counter() - start
        status = map_status(name)
        iterations = int(highs.getInfo().simplex_iteration_count)
        self.last_warm = warm
        self.last_iterations, self.last_how = iterations, how
        if warm:
            self.warm_solves += 1
            note = f"warm: yes (simplex from the previous basis, {iterations} iterations; {how})"
        else:
            self.cold_solves += 1
            note = f"warm: no ({how}; {iterations} simplex iterations)"
        answer = Answer(status, name, elapsed, captured[0] if captured else "")
        if status is Status.OPTIMAL:
            sol = highs.getSolution()
            answer.x = np.asarray(sol.col_value, dtype=float)
            answer.objective = answer.bound = float(highs.getInfo().objective_function_value)
            if sol.dual_valid:
                answer.duals = np.asarray(sol.row_dual, dtype=float) + 0.0  # no -0.0
        result = build_result(INFO, answer, lp, self.options,
                              registry.ignored_options(INFO, lp, self.options))
        result.notes.append(note)
        return result

"""One part of Benders decomposition's subproblem (:mod:`optimizer.engine.subproblem`): its
data, which travels to a worker process or a Dask worker once, and its solver there.

A part is a set of connected components of the operating LP (a period, a case): its columns,
its rows with two or more continuous entries, and the rows with one (``x <= d * open``), which
become bounds of that column. Its LP is solved by one highspy model kept between builds (only
row and column bounds change: warm starts), each row allowed to stretch at the penalty.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from optimizer.backends.base import Status, capture_fd_output

if TYPE_CHECKING:
    from optimizer.backends.interrupts import Interrupt


@dataclass
class PartData:
    """What a part's solver needs (numpy and scipy only: it pickles)."""

    c: np.ndarray  # (n,) its columns' costs
    A: sp.csr_matrix  # (m, n) its rows over its columns
    row_lb: np.ndarray  # (m,) before the builds' shift
    row_ub: np.ndarray
    col_lb: np.ndarray  # (n,)
    col_ub: np.ndarray
    Ay: sp.csr_matrix  # (m, y) its rows over the builds
    bound_col: np.ndarray  # (b,) the column (of this part) each bound row bounds
    bound_coef: np.ndarray  # (b,)
    bound_lb: np.ndarray  # (b,)
    bound_ub: np.ndarray
    Ay_bound: sp.csr_matrix  # (b, y)
    penalty: float
    unit: float = 1.0
    """Its LP's costs are in this unit (see ``subproblem.PART_UNIT``); its answers are back in
    the LP's own."""


@dataclass
class PartOut:
    """A part's answer at one build."""

    status: Status
    z: float = 0.0  # its cost, stretches at the penalty included
    grad: np.ndarray | None = None  # (y,) its subgradient in y
    x: np.ndarray | None = None  # (n,)
    pi: np.ndarray | None = None  # (m,) its rows' duals
    pib: np.ndarray | None = None  # (b,) its bound rows' duals
    stretched: float = 0.0  # the largest stretch of a row


def _finite(a: np.ndarray) -> np.ndarray:
    import highspy

    return np.clip(a, -highspy.kHighsInf, highspy.kHighsInf)


def _model(c: np.ndarray, A: sp.csr_matrix, row_lb: np.ndarray, row_ub: np.ndarray,
           col_lb: np.ndarray, col_ub: np.ndarray, slack_cost: float) -> Any:
    """A highspy model of ``min c x`` over ``A x`` in its bounds, two slack columns a row
    (``+s`` and ``-s`` at ``slack_cost``): every row may stretch."""
    import highspy

    m = A.shape[0]
    eye = sp.identity(m, format="csc")
    full = sp.hstack([A.tocsc(), eye, -eye], format="csc")
    full.sort_indices()
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = full.shape[1], m
    model.col_cost_ = np.concatenate([c, np.full(2 * m, slack_cost)]).astype(np.float64)
    model.col_lower_ = _finite(np.concatenate([col_lb, np.zeros(2 * m)]))
    model.col_upper_ = _finite(np.concatenate([col_ub, np.full(2 * m, np.inf)]))
    model.row_lower_, model.row_upper_ = _finite(row_lb), _finite(row_ub)
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.num_col_, model.a_matrix_.num_row_ = full.shape[1], m
    model.a_matrix_.start_ = full.indptr.astype(np.int32)
    model.a_matrix_.index_ = full.indices.astype(np.int32)
    model.a_matrix_.value_ = np.asarray(full.data, dtype=np.float64)
    with capture_fd_output():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(model)
    return h


class PartSolver:
    """A part's LP at a given build, and its elastic LP for feasibility cuts."""

    def __init__(self, d: PartData) -> None:
        self.d = d
        self.n, self.m = len(d.c), d.A.shape[0]
        self.h = _model(d.c / d.unit, d.A, d.row_lb, d.row_ub, d.col_lb, d.col_ub,
                        d.penalty / d.unit)
        self.rows = np.arange(self.m, dtype=np.int32)
        self.bounded = d.bound_col.astype(np.int32)
        self.elastic: Any = None
        self.interrupt: Interrupt | None = None  # the caller's, polled by HiGHS

    def set_penalty(self, penalty: float) -> None:
        idx = np.arange(self.n, self.n + 2 * self.m, dtype=np.int32)
        self.h.changeColsCost(len(idx), idx, np.full(len(idx), penalty / self.d.unit))
        self.d.penalty = penalty

    def _bounds(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The bounded columns' bounds at ``y`` and which of them a bound row sets."""
        d, col = self.d, self.d.bound_col
        shift, a = d.Ay_bound @ y, d.bound_coef
        lo_r, hi_r = (d.bound_lb - shift) / a, (d.bound_ub - shift) / a
        lo_r, hi_r = np.where(a > 0, lo_r, hi_r), np.where(a > 0, hi_r, lo_r)
        lo_on, hi_on = lo_r >= d.col_lb[col], hi_r <= d.col_ub[col]
        # a bound row that leaves no room (lo > hi) makes the LP infeasible: HiGHS says so
        return (np.maximum(d.col_lb[col], lo_r), np.minimum(d.col_ub[col], hi_r), lo_on,
                hi_on)

    def evaluate(self, y: np.ndarray, seconds: float | None) -> PartOut:
        """The part's LP at ``y`` (within ``seconds``): its cost, cut and solution."""
        d, h = self.d, self.h
        shift = d.Ay @ y
        h.changeRowsBounds(self.m, self.rows, _finite(d.row_lb - shift), _finite(d.row_ub - shift))
        lo, hi, lo_on, hi_on = self._bounds(y)
        if len(self.bounded):
            h.changeColsBounds(len(self.bounded), self.bounded, _finite(lo), _finite(hi))
        status = run_highs(h, seconds, self.interrupt)
        if status is Status.ERROR:  # simplex lost its way (status unknown): once more, cold
            h.clearSolver()
            status = run_highs(h, seconds, self.interrupt)
        if status is not Status.OPTIMAL:
            return PartOut(status)
        sol: Any = h.getSolution()
        value = np.asarray(sol.col_value, dtype=float)
        x, slack = value[:self.n], value[self.n:].reshape(2, -1).sum(axis=0)
        pi = np.asarray(sol.row_dual, dtype=float) * d.unit
        rc = np.asarray(sol.col_dual, dtype=float)[d.bound_col] * d.unit
        a = np.where(d.bound_coef == 0, 1.0, d.bound_coef)
        # a bound row is tight where its column sits at the bound it sets: its dual is the
        # column's reduced cost over the row's coefficient (rc > 0 at a lower bound, < 0 upper)
        pib = np.where((rc > 0) & lo_on, rc / a, 0.0) + np.where((rc < 0) & hi_on, rc / a, 0.0)
        grad = -(d.Ay.T @ pi + d.Ay_bound.T @ pib)
        z = float(d.c @ x + d.penalty * slack.sum())
        return PartOut(status, z, grad, x, pi, pib, float(slack.max(initial=0.0)))

    def feasibility(self, y: np.ndarray, seconds: float | None) -> PartOut:
        """The elastic LP at ``y``: every row (bound rows included) may stretch at a cost of
        1 a unit, nothing else costs; its optimum ``w(y) > 0`` and duals cut ``y`` off
        (``z``: ``w``, ``grad``: its subgradient)."""
        d = self.d
        if self.elastic is None:
            b = len(d.bound_col)
            bound = sp.csr_matrix((d.bound_coef, (np.arange(b), d.bound_col)),
                                  shape=(b, self.n))
            self.elastic_Ay = sp.vstack([d.Ay, d.Ay_bound], format="csr")
            self.elastic_lb = np.concatenate([d.row_lb, d.bound_lb])
            self.elastic_ub = np.concatenate([d.row_ub, d.bound_ub])
            self.elastic = _model(np.zeros(self.n), sp.vstack([d.A, bound], format="csr"),
                                  self.elastic_lb, self.elastic_ub, d.col_lb, d.col_ub, 1.0)
        shift = self.elastic_Ay @ y
        rows = len(self.elastic_lb)
        self.elastic.changeRowsBounds(rows, np.arange(rows, dtype=np.int32),
                                      _finite(self.elastic_lb - shift),
                                      _finite(self.elastic_ub - shift))
        status = run_highs(self.elastic, seconds, self.interrupt)
        if status is Status.ERROR:
            self.elastic.clearSolver()
            status = run_highs(self.elastic, seconds, self.interrupt)
        if status is not Status.OPTIMAL:
            return PartOut(status)
        pi = np.asarray(self.elastic.getSolution().row_dual, dtype=float)
        w = float(self.elastic.getInfo().objective_function_value)
        return PartOut(status, w, -(self.elastic_Ay.T @ pi))


def run_highs(h: Any, seconds: float | None, interrupt: Interrupt | None = None) -> Status:
    """Run a highspy model (interruptible, within ``seconds``); its status. ``interrupt``:
    the caller's :func:`~optimizer.backends.interrupts.interruptible` block, which HiGHS
    polls (else the run is a block of its own)."""
    from optimizer.backends.base import note_threaded_solver
    from optimizer.backends.highs_warm import map_status, polling
    from optimizer.backends.interrupts import interruptible

    if seconds is not None:
        if seconds <= 0:
            return Status.TIME_LIMIT
        h.setOptionValue("time_limit", float(seconds))
    note_threaded_solver("highspy")
    with contextlib.ExitStack() as stack:
        if interrupt is None:
            interrupt = stack.enter_context(interruptible())
        stack.enter_context(polling(h, interrupt))
        stack.enter_context(capture_fd_output())
        h.run()
    return map_status(h.getModelStatus().name)


def seconds_left(deadline: float | None) -> float | None:
    """Seconds to ``deadline`` (``time.perf_counter``), None for none: what a worker gets,
    whose clock may not be ours."""
    return None if deadline is None else deadline - time.perf_counter()

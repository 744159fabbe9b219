"""Benders decomposition's subproblem (:mod:`optimizer.engine.benders`): the operating LP at a
given build, split into independent parts, and the cuts it gives.

Rows with one continuous entry (``x <= d * open``: the valid inequalities) become column bounds
of the subproblem (100,000 rows fewer on OR-Library's capa) and their duals are read from the
reduced costs. Every other row may stretch at a cost of :data:`PENALTY` times the dearest cost,
so that the subproblem has an optimum at every build (a first build can break a utilisation
floor): ``z_M(y) <= z(y)`` is what the optimality cuts bound, valid all the same. A build that
stretches a row is not an incumbent; the elastic LP (rows stretching at a cost of 1, nothing
else costing) cuts it off for good: ``0 >= w(y0) - pi^T A_y (y - y0)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from optimizer.backends.base import Status, capture_fd_output
from optimizer.engine.restrict import restrict
from optimizer.model.lp import LinearProgram

MAX_CUT_GROUPS = 64
"""At most this many ``theta`` (parts of the subproblem beyond it share one)."""
PENALTY = 1.0
"""The cost of stretching a subproblem row, times the dearest cost of the LP (raised tenfold
where it proves too low at a build, up to :data:`MAX_PENALTY`)."""
MAX_PENALTY = 1e8


@dataclass
class Split:
    """The LP's columns and rows, sorted for the decomposition."""

    yi: np.ndarray  # integer (master) columns
    xi: np.ndarray  # continuous (subproblem) columns
    master_rows: np.ndarray  # rows over y only
    sub_rows: np.ndarray  # rows with two or more x entries (or one x and no y)
    bound_rows: np.ndarray  # rows with one x entry and some y: bounds of that x
    bound_col: np.ndarray  # (bound rows,) the x (position in xi) each one bounds
    bound_coef: np.ndarray  # its coefficient
    Ay_sub: sp.csr_matrix
    Ay_bound: sp.csr_matrix
    row_group: np.ndarray  # (sub rows,) the part of the subproblem each row is in
    col_group: np.ndarray  # (xi,) the part of each x column
    groups: int


def split(lp: LinearProgram) -> Split:
    yi, xi = np.flatnonzero(lp.integer), np.flatnonzero(~lp.integer)
    A = lp.A.tocsc()
    Ax, Ay = A[:, xi].tocsr(), A[:, yi].tocsr()
    nx_row, ny_row = np.diff(Ax.indptr), np.diff(Ay.indptr)
    one = (nx_row == 1) & (ny_row > 0)
    bound_rows = np.flatnonzero(one)
    coo = Ax[bound_rows].tocoo()
    order = np.argsort(coo.row, kind="stable")
    bound_col, bound_coef = coo.col[order], coo.data[order]
    if len(np.unique(bound_col)) < len(bound_col):  # two bound rows on one column: keep rows
        one[:] = False
        bound_rows = bound_col = np.zeros(0, dtype=np.int64)
        bound_coef = np.zeros(0)
    master_rows = np.flatnonzero(nx_row == 0)
    sub_rows = np.flatnonzero((nx_row > 0) & ~one)
    row_group, col_group, groups = _parts(Ax[sub_rows], len(xi))
    return Split(yi, xi, master_rows, sub_rows, bound_rows, bound_col, bound_coef,
                 Ay[sub_rows].tocsr(), Ay[bound_rows].tocsr(), row_group, col_group, groups)


def _parts(Ax: sp.csr_matrix, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(group of each row, of each column, how many): the connected components of the
    bipartite row-column graph, folded into at most :data:`MAX_CUT_GROUPS`."""
    from scipy.sparse.csgraph import connected_components  # at use: the CLI starts faster

    m = Ax.shape[0]
    graph = sp.bmat([[None, Ax], [Ax.T, None]], format="csr")
    count, label = connected_components(graph, directed=False)
    # a column in no row is a component of its own: give it the group of nothing (0)
    label = label % MAX_CUT_GROUPS if count > MAX_CUT_GROUPS else label
    _, label = np.unique(label, return_inverse=True)
    return label[:m], label[m:m + n], int(label.max(initial=0)) + 1


@dataclass
class Evaluation:
    optimality: bool  # an optimality cut per part (else one feasibility cut)
    z: np.ndarray  # (groups,) each part's cost; the elastic LP's (one) for a feasibility cut
    grad: np.ndarray  # (groups, y) each part's subgradient in y
    stretched: bool = False  # some row stretched: the build is not feasible
    x: np.ndarray | None = None  # the subproblem's columns
    duals: np.ndarray | None = None  # (rows of the LP,) d objective / d row bound


def with_slacks(sub: LinearProgram, x_cost: np.ndarray, slack_cost: float) -> LinearProgram:
    """``sub`` with two slack columns per row (``+s`` and ``-s``, at ``slack_cost`` each),
    its own columns at ``x_cost``: every row may stretch."""
    m, n = sub.n_rows, sub.n_vars
    eye = sp.identity(m, format="csr")
    return LinearProgram(
        c=np.concatenate([x_cost, np.full(2 * m, slack_cost)]),
        A=sp.hstack([sub.A, eye, -eye], format="csr"), row_lb=sub.row_lb, row_ub=sub.row_ub,
        col_lb=np.concatenate([sub.col_lb, np.zeros(2 * m)]),
        col_ub=np.concatenate([sub.col_ub, np.full(2 * m, np.inf)]),
        integer=np.zeros(n + 2 * m, dtype=bool), variables={}, rows={},
        cost_matrix=sp.csr_matrix((1, n + 2 * m)))


class Subproblem:
    """The operating LP at a given build: one highspy model, bounds changed between solves."""

    def __init__(self, lp: LinearProgram, s: Split) -> None:
        import highspy

        from optimizer.backends.highs_warm import highs_lp

        self.lp, self.s, self.inf = lp, s, highspy.kHighsInf
        keep_cols = ~lp.integer
        keep_rows = np.zeros(lp.n_rows, dtype=bool)
        keep_rows[s.sub_rows] = True
        sub, _, _ = restrict(lp, keep_cols, keep_rows)
        self.c = lp.c[s.xi]
        self.penalty = PENALTY * max(1.0, float(np.abs(self.c).max(initial=0.0)))
        with capture_fd_output():
            self.h: Any = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        self.h.passModel(highs_lp(with_slacks(sub, self.c, self.penalty)))
        finite = np.abs(np.concatenate([sub.row_lb, sub.row_ub]))
        self.stretch_tol = 1e-6 * (1.0 + float(finite[np.isfinite(finite)].max(initial=0.0)))
        self.lb0, self.ub0 = lp.row_lb[s.sub_rows], lp.row_ub[s.sub_rows]
        self.blb, self.bub = lp.row_lb[s.bound_rows], lp.row_ub[s.bound_rows]
        self.clb0, self.cub0 = lp.col_lb[s.xi], lp.col_ub[s.xi]
        self.row_idx = np.arange(len(s.sub_rows), dtype=np.int32)
        self.bound_idx = s.bound_col.astype(np.int32)
        self.group_rows = sp.csr_matrix(
            (np.ones(len(s.sub_rows)), (s.row_group, np.arange(len(s.sub_rows)))),
            shape=(s.groups, len(s.sub_rows)))
        self.group_bounds = sp.csr_matrix(
            (np.ones(len(s.bound_rows)), (s.col_group[s.bound_col],
                                          np.arange(len(s.bound_rows)))),
            shape=(s.groups, len(s.bound_rows)))
        self.elastic: Any = None
        self.solves = 0
        self.feasibility_cuts = 0
        self.raised = 0

    def raise_penalty(self) -> bool:
        """Ten times the cost of stretching a row (where the elastic LP found the build
        feasible yet the subproblem stretched a row: the penalty was too low to be exact);
        False once it is beyond :data:`MAX_PENALTY` times the dearest cost."""
        base = max(1.0, float(np.abs(self.c).max(initial=0.0)))
        if self.penalty * 10 > MAX_PENALTY * base:
            return False
        self.penalty *= 10
        m = len(self.s.sub_rows)
        start = len(self.s.xi)
        idx = np.arange(start, start + 2 * m, dtype=np.int32)
        self.h.changeColsCost(len(idx), idx, np.full(len(idx), self.penalty))
        self.raised += 1
        return True

    def _finite(self, a: np.ndarray) -> np.ndarray:
        return np.clip(a, -self.inf, self.inf)

    def evaluate(self, y: np.ndarray, deadline: float | None) -> Evaluation | Status:
        """The subproblem at ``y``: its parts' costs and cuts, or a status where it stopped."""
        s, h = self.s, self.h
        shift = s.Ay_sub @ y
        h.changeRowsBounds(len(self.row_idx), self.row_idx, self._finite(self.lb0 - shift),
                           self._finite(self.ub0 - shift))
        lo, hi, lo_on, hi_on = self._bounds(y)
        if len(self.bound_idx):
            h.changeColsBounds(len(self.bound_idx), self.bound_idx,
                               self._finite(lo), self._finite(hi))
        status = run_highs(h, deadline)
        self.solves += 1
        if status is Status.INFEASIBLE:  # bounds that leave no room: the elastic LP says why
            return self.feasibility_cut(y, deadline)
        if status is not Status.OPTIMAL:
            return status
        sol: Any = h.getSolution()
        n = len(s.xi)
        value = np.asarray(sol.col_value, dtype=float)
        x, slack = value[:n], value[n:].reshape(2, -1).sum(axis=0)
        pi = np.asarray(sol.row_dual, dtype=float)
        d = np.asarray(sol.col_dual, dtype=float)[s.bound_col]
        a = s.bound_coef
        # a bound row is tight where its column sits at the bound it sets: its dual is the
        # column's reduced cost over the row's coefficient (d > 0 at a lower bound, < 0 upper)
        pib = (np.where((d > 0) & lo_on, d / np.where(a == 0, 1, a), 0.0)
               + np.where((d < 0) & hi_on, d / np.where(a == 0, 1, a), 0.0))
        grad = -(self.group_rows @ sp.diags(pi) @ s.Ay_sub
                 + self.group_bounds @ sp.diags(pib) @ s.Ay_bound).toarray()
        z = (np.bincount(s.col_group, self.c * x, minlength=s.groups)
             + np.bincount(s.row_group, self.penalty * slack, minlength=s.groups))
        duals = np.zeros(self.lp.n_rows)
        duals[s.sub_rows] = pi
        duals[s.bound_rows] = pib
        stretched = bool(slack.max(initial=0.0) > self.stretch_tol)
        return Evaluation(True, z, grad, stretched, x, duals)

    def _bounds(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The bounded columns' bounds at ``y`` and which of them a bound row sets."""
        s = self.s
        col = s.bound_col
        shift = s.Ay_bound @ y
        a = s.bound_coef
        lo_r, hi_r = (self.blb - shift) / a, (self.bub - shift) / a
        lo_r, hi_r = np.where(a > 0, lo_r, hi_r), np.where(a > 0, hi_r, lo_r)
        lo_on, hi_on = lo_r >= self.clb0[col], hi_r <= self.cub0[col]
        lo = np.maximum(self.clb0[col], lo_r)
        hi = np.minimum(self.cub0[col], hi_r)
        # a bound row that leaves no room (lo > hi) makes the LP infeasible: HiGHS says so
        return lo, hi, lo_on, hi_on

    def feasibility_cut(self, y: np.ndarray, deadline: float | None) -> Evaluation | Status:
        """The elastic LP at ``y``: every row of the subproblem (bound rows included) may
        stretch at a cost of 1 per unit; its optimum ``w(y) > 0`` and duals cut ``y`` off."""
        import highspy

        from optimizer.backends.highs_warm import highs_lp

        lp, s = self.lp, self.s
        rows = np.sort(np.concatenate([s.sub_rows, s.bound_rows]))
        if self.elastic is None:
            keep_rows = np.zeros(lp.n_rows, dtype=bool)
            keep_rows[rows] = True
            sub, _, _ = restrict(lp, ~lp.integer, keep_rows)
            elastic = with_slacks(sub, np.zeros(sub.n_vars), 1.0)
            with capture_fd_output():
                self.elastic = highspy.Highs()
            self.elastic.setOptionValue("output_flag", False)
            self.elastic.passModel(highs_lp(elastic))
            self.elastic_Ay = lp.A.tocsr()[rows][:, s.yi].tocsr()
            self.elastic_lb, self.elastic_ub = lp.row_lb[rows], lp.row_ub[rows]
        shift = self.elastic_Ay @ y
        idx = np.arange(len(rows), dtype=np.int32)
        self.elastic.changeRowsBounds(len(rows), idx, self._finite(self.elastic_lb - shift),
                                      self._finite(self.elastic_ub - shift))
        status = run_highs(self.elastic, deadline)
        if status is not Status.OPTIMAL:
            return status
        self.feasibility_cuts += 1
        pi = np.asarray(self.elastic.getSolution().row_dual, dtype=float)
        w = float(self.elastic.getInfo().objective_function_value)
        grad = -(self.elastic_Ay.T @ pi)
        return Evaluation(False, np.array([w]), grad[None, :])


def run_highs(h: Any, deadline: float | None) -> Status:
    """Run a highspy model (interruptible, within the deadline); its status."""
    from optimizer.backends.highs_warm import map_status, polling
    from optimizer.backends.interrupts import interruptible

    if deadline is not None:
        left = deadline - time.perf_counter()
        if left <= 0:
            return Status.TIME_LIMIT
        h.setOptionValue("time_limit", float(left))
    with interruptible() as interrupt, polling(h, interrupt), capture_fd_output():
        h.run()
    return map_status(h.getModelStatus().name)

"""Benders decomposition's master (:mod:`optimizer.engine.benders`): the builds, one ``theta``
per part of the subproblem, and the cuts so far, in one highspy model."""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from optimizer.backends.base import Status, capture_fd_output
from optimizer.engine.parts import run_highs, seconds_left
from optimizer.engine.subproblem import Evaluation, Split
from optimizer.model.lp import LinearProgram

TINY = 1e-9
"""A cut's coefficient below this times its largest is left out (moved to its right-hand
side at its least): a plan's cuts had coefficients from 3e-9 to 4e6, which left HiGHS's
simplex infeasible after postsolve."""
VIOLATED = 1e-7
"""At a master's solution, a part's cut is added only where its theta is below the part's
cost by more than this (relative): the others would not cut that solution off."""
MASTER_UNIT = 1e6
"""The master's costs are in units of the dearest cost over this (at least 1): a plan's costs
reach 5e8 a unit, and unscaled cuts left HiGHS's simplex lost (status unknown) on the national
plan; OR-Library's (2e6 at most) stay near their own units, where HiGHS's MIP ran fastest."""


def theta_floor(lp: LinearProgram, s: Split) -> np.ndarray:
    """(groups,) a lower bound on each part's cost whatever the build: its columns' costs at
    the cheaper of their bounds (0 where costs and columns are not negative). It keeps the
    master bounded before a part has its first optimality cut (a first build that leaves the
    subproblem infeasible, e.g. under a utilisation floor, gives feasibility cuts only)."""
    import highspy

    c, lb, ub = lp.c[s.xi], lp.col_lb[s.xi], lp.col_ub[s.xi]
    with np.errstate(invalid="ignore"):
        low = np.minimum(np.where(c == 0, 0.0, c * lb), np.where(c == 0, 0.0, c * ub))
    floor = np.bincount(s.col_group, np.where(np.isnan(low), -np.inf, low),
                        minlength=s.groups)
    return np.where(np.isfinite(floor), floor, -highspy.kHighsInf)


class Master:
    """``min f y + sum theta  s.t.  master rows, cuts``: one highspy model, rows added."""

    def __init__(self, lp: LinearProgram, s: Split) -> None:
        import highspy

        self.inf, self.ny, self.groups = highspy.kHighsInf, len(s.yi), s.groups
        # see MASTER_UNIT
        self.scale = max(1.0, float(np.abs(lp.c).max(initial=0.0)) / MASTER_UNIT)
        with capture_fd_output():
            self.h: Any = highspy.Highs()
        h = self.h
        h.setOptionValue("output_flag", False)
        self.lb, self.ub = lp.col_lb[s.yi].astype(float), lp.col_ub[s.yi].astype(float)
        h.addVars(self.ny, self.lb, self.ub)
        h.changeColsCost(self.ny, np.arange(self.ny, dtype=np.int32), lp.c[s.yi] / self.scale)
        h.addVars(s.groups, theta_floor(lp, s) / self.scale, np.full(s.groups, self.inf))
        h.changeColsCost(s.groups, np.arange(self.ny, self.ny + s.groups, dtype=np.int32),
                         np.ones(s.groups))
        A = lp.A.tocsr()[s.master_rows][:, s.yi].tocsr()
        h.addRows(len(s.master_rows), np.clip(lp.row_lb[s.master_rows], -self.inf, self.inf),
                  np.clip(lp.row_ub[s.master_rows], -self.inf, self.inf), A.nnz,
                  A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32),
                  A.data.astype(np.float64))
        self.cuts = 0
        self.started = False  # the next solve starts from a given build (start_from)
        self.is_mip = False
        self.x = np.zeros(self.ny + s.groups)  # the last solution, builds and thetas

    def add_cuts(self, ev: Evaluation, y: np.ndarray, theta: np.ndarray | None = None) -> None:
        """One cut per part with an optimum: ``theta_g - grad_g y >= z_g - grad_g y0``; one
        per feasibility cut: ``- grad y >= w - grad y0`` (no theta). ``theta``: the master's
        (scaled) at ``y``, where ``y`` is its solution: only the cuts it violates."""
        cut = ev.cut
        if theta is not None:
            z = ev.z / self.scale
            cut = cut & (z - theta > VIOLATED * np.maximum(1.0, np.abs(z)))
        parts = np.flatnonzero(cut)
        grad = np.vstack([ev.grad[parts], ev.feas_grad.reshape(-1, self.ny)])
        rhs = (np.concatenate([ev.z[parts], ev.feas_z]) - grad @ y) / self.scale
        if not len(rhs):
            return
        size = np.abs(grad).max(axis=1, initial=0.0)
        keep = np.abs(grad) > TINY * np.maximum(self.scale, size)[:, None]  # theta: scale
        # a coefficient left out moves its term to the right-hand side at its smallest over
        # the build's bounds: the cut stays valid (and HiGHS's simplex stays on its feet)
        dropped = np.where(keep, 0.0, grad)
        rhs += np.minimum(dropped * self.lb, dropped * self.ub).sum(axis=1) / self.scale
        rows, cols = np.nonzero(keep)
        vals = -grad[rows, cols] / self.scale
        theta = np.concatenate([self.ny + parts, np.full(len(ev.feas_z), -1)])
        has = theta >= 0
        rows = np.concatenate([rows, np.flatnonzero(has)])
        cols = np.concatenate([cols, theta[has]])
        vals = np.concatenate([vals, np.ones(int(has.sum()))])
        A = sp.csr_matrix((vals, (rows, cols)), shape=(len(rhs), self.ny + self.groups))
        A.sort_indices()
        self.h.addRows(len(rhs), rhs.astype(np.float64), np.full(len(rhs), self.inf), A.nnz,
                       A.indptr[:-1].astype(np.int32), A.indices.astype(np.int32),
                       A.data.astype(np.float64))
        self.cuts += len(rhs)

    def reduced_costs(self) -> np.ndarray:
        return np.asarray(self.h.getSolution().col_dual, dtype=float)[:self.ny] * self.scale

    def fix_by_reduced_cost(self, y: np.ndarray, reduced: np.ndarray, lower: float,
                            upper: float) -> int:
        """Tighten each build's bounds where moving it from the relaxation's optimum ``y``
        would cost more than ``upper - lower`` (every cut is valid, so such a build cannot be
        in a solution better than the incumbent); how many builds were fixed."""
        if not np.isfinite(upper):
            return 0
        room = max(upper - lower, 0.0) + 1e-9 * max(abs(upper), 1.0)
        lp_lb, lp_ub = self.h.getLp().col_lower_, self.h.getLp().col_upper_
        lb = np.asarray(lp_lb, dtype=float)[:self.ny]
        ub = np.asarray(lp_ub, dtype=float)[:self.ny]
        at_lb = (reduced > 0) & (y <= lb + 1e-9)
        at_ub = (reduced < 0) & (y >= ub - 1e-9)
        size = np.abs(reduced)
        steps = np.floor(np.divide(room, size, out=np.full(self.ny, 1e15), where=size > 1e-12))
        steps = np.minimum(steps, 1e15)
        new_ub = np.where(at_lb, np.minimum(ub, lb + steps), ub)
        new_lb = np.where(at_ub, np.maximum(lb, ub - steps), lb)
        idx = np.arange(self.ny, dtype=np.int32)
        self.h.changeColsBounds(self.ny, idx, new_lb, new_ub)
        return int((new_lb == new_ub).sum())

    def integer(self, gap: float) -> None:
        import highspy

        idx = np.arange(self.ny, dtype=np.int32)
        self.h.changeColsIntegrality(self.ny, idx,
                                     np.full(self.ny, highspy.HighsVarType.kInteger))
        self.h.setOptionValue("mip_rel_gap", gap)
        self.is_mip = True
        self.h.setOptionValue("mip_improving_solution_save", True)

    def start_from(self, y: np.ndarray, z: np.ndarray) -> None:
        """The next MIP solve starts from the build ``y`` whose parts cost ``z``: a feasible
        point of the master (every cut is below ``z`` at ``y``), so HiGHS prunes by its
        value from the first node."""
        value = np.concatenate([y, z / self.scale])
        self.h.setSolution(len(value), np.arange(len(value), dtype=np.int32),
                           value.astype(np.float64))
        self.started = True

    def saved(self) -> list[np.ndarray]:
        """The improving solutions (builds, thetas) the last MIP solve found on its way
        (HiGHS keeps them)."""
        return [np.asarray(sol.col_value, dtype=float)
                for sol in self.h.getSavedMipSolutions()]

    def run(self, deadline: float | None) -> tuple[Status, np.ndarray, float, float]:
        """(status, y, objective, proven bound)."""
        status = run_highs(self.h, seconds_left(deadline))
        if status is Status.ERROR or (status is Status.OPTIMAL and self._stale()):
            # simplex lost its way among the cuts (after presolve: the postsolved point
            # infeasible), or the MIP answered with its start (HiGHS 1.16 can report a better
            # optimum yet return the start's values): once more, cold and without presolve
            self.h.clearSolver()
            self.h.setOptionValue("presolve", "off")
            status = run_highs(self.h, seconds_left(deadline))
            if status is Status.ERROR and not self.is_mip:  # last: the interior point method
                self.h.clearSolver()
                self.h.setOptionValue("solver", "ipm")
                status = run_highs(self.h, seconds_left(deadline))
                self.h.setOptionValue("solver", "choose")
            self.h.setOptionValue("presolve", "choose")
        self.started = False
        if status is not Status.OPTIMAL:
            return status, np.zeros(self.ny), np.nan, np.nan
        info: Any = self.h.getInfo()
        self.x = np.asarray(self.h.getSolution().col_value, dtype=float)
        value = self.x[:self.ny]
        bound = info.mip_dual_bound if self.h.getModelStatus().name == "kOptimal" else np.nan
        objective = float(info.objective_function_value) * self.scale
        bound = float(bound) * self.scale if np.isfinite(bound) else objective
        return status, value, objective, bound

    def _stale(self) -> bool:
        """After a start: the values returned are not worth the objective reported."""
        if not self.started:
            return False
        reported = float(self.h.getInfo().objective_function_value)
        value = np.asarray(self.h.getSolution().col_value, dtype=float)
        worth = float(np.asarray(self.h.getLp().col_cost_, dtype=float) @ value)
        return abs(worth - reported) > 1e-7 * max(1.0, abs(reported))

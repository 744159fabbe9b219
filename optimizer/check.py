"""Check a solution against the LP before it is reported: bounds of every row and column."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.model.lp import LinearProgram

FEAS_TOL = 1e-6  # relative to max(1, |bound|, sum |a_ij x_j|)


@dataclass(frozen=True)
class Violation:
    worst: float  # largest scaled violation
    where: str  # name of the worst row or column
    count: int  # rows and columns over the tolerance

    @property
    def ok(self) -> bool:
        return self.count == 0


def _scaled(excess_lo: np.ndarray, excess_hi: np.ndarray, lb: np.ndarray,
            ub: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    """Violations relative to the size of what is compared: max(1, |bound|, sum |a_ij x_j|)."""
    with np.errstate(invalid="ignore"):
        lo = np.where(np.isfinite(lb),
                      excess_lo / np.maximum(np.maximum(1.0, np.abs(lb)), magnitude), 0.0)
        hi = np.where(np.isfinite(ub),
                      excess_hi / np.maximum(np.maximum(1.0, np.abs(ub)), magnitude), 0.0)
    return np.maximum(np.maximum(lo, hi), 0.0)


def check_solution(lp: LinearProgram, x: np.ndarray, tol: float = FEAS_TOL) -> Violation:
    if x.shape != (lp.n_vars,) or not np.isfinite(x).all():
        return Violation(np.inf, "solution vector", 1)
    ax = lp.A @ x
    magnitude = abs(lp.A) @ np.abs(x)
    rows = _scaled(lp.row_lb - ax, ax - lp.row_ub, lp.row_lb, lp.row_ub, magnitude)
    cols = _scaled(lp.col_lb - x, x - lp.col_ub, lp.col_lb, lp.col_ub, np.abs(x))
    frac = np.where(lp.integer, np.abs(x - np.round(x)), 0.0)
    cols = np.maximum(cols, frac)
    worst_row = float(rows.max(initial=0.0))
    worst_col = float(cols.max(initial=0.0))
    count = int((rows > tol).sum() + (cols > tol).sum())
    if worst_row >= worst_col:
        where = lp.row_name(int(rows.argmax())) if rows.size else "-"
        return Violation(worst_row, where, count)
    return Violation(worst_col, lp.var_name(int(cols.argmax())), count)

"""Goals: a changed objective, bounds on metrics and lexicographic steps, solved through
:func:`optimizer.pipeline.solve_document` as a :class:`~optimizer.pipeline.Strategy`.

The metrics are built from the LP's blocks (numpy, no loop)::

    cost    = the sum of the cost matrix's rows (the model's own objective)
    carbon  = sum_{s,t} a[t] * ci[s,t] * grid[s,t]                  (t CO2 a year)
    latency = sum_{r,s,k,t} a[t] * latency[r,s] * flow[r,s,k,t]     (ms x MWh a year)
    unmet   = sum_{r,k,t} a[t] * unmet[r,k,t]                       (MWh a year)
    water   = sum_{s,t} a[t] * wue[s,t] * it_load[s,t]              (m3 a year; version 2)

On a plan (version 2 with ``planning``) each is the stacked LP's expression: every case's
annual value times its ``span x probability``, the horizon's expected total (undiscounted).

A bound ``metric <= value`` is a row of the block ``study_bound``. Presolve stays off for a goal:
its exchange arguments hold for the cost objective without extra rows only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.backends.base import RawResult, SolveOptions, Status
from optimizer.compile import Arrays
from optimizer.model import LinearProgram
from optimizer.model.lp import Block
from optimizer.pipeline import LpSolver, Run
from optimizer.records.inputs import LEX_TOL, Goal, Metric
from optimizer.records.results import GoalValues

__all__ = ["LEX_TOL", "SERVICE_TOL", "Goal", "GoalStrategy", "Metric", "goal_values", "held",
           "metric_vector", "with_objective"]

SERVICE_TOL = 1e-9
"""Relative (to the demand) slack when unmet energy is held at the cost optimum's level: the
bound comes from a feasible point, so it only has to absorb rounding."""
BOUND_BLOCK = "study_bound"


METRIC_EXPRESSIONS: dict[str, str] = {
    "carbon": "emissions", "latency": "latency_mwh_ms", "unmet": "unmet_energy",
    "water": "water_m3"}
"""Each goal metric but cost is the sum of one named expression of the LinearProgram."""


def metric_vector(lp: LinearProgram, arrays: Arrays, metric: Metric) -> np.ndarray:
    """Objective coefficients of a metric: the cost, or the sum of the named expression the
    family that owns it defined (tonnes, MWh x ms, MWh or m3 a year)."""
    del arrays  # the expressions carry their own coefficients
    if metric == "cost":
        return np.asarray(lp.cost_matrix.sum(axis=0)).ravel().astype(float)
    if metric not in METRIC_EXPRESSIONS:
        raise ValueError(f"unknown metric {metric!r}")
    if METRIC_EXPRESSIONS[metric] not in lp.expressions:  # water: version 2 only
        raise ValueError(f"the model has no {metric} (it needs a version-2 instance)")
    return lp.expressions[METRIC_EXPRESSIONS[metric]].coefficients(lp.n_vars)


def with_objective(lp: LinearProgram, c: np.ndarray,
                   rows: Sequence[tuple[np.ndarray, float]] = ()) -> LinearProgram:
    """``lp`` minimising ``c``, with rows ``vec @ x <= bound`` appended (block ``study_bound``)."""
    if not rows:
        return dataclasses.replace(lp, c=c)
    extra = sp.csr_matrix(np.vstack([vec for vec, _ in rows]))
    A = sp.vstack([lp.A, extra], format="csr")
    block = Block(BOUND_BLOCK, lp.n_rows, len(rows), {"bound": np.arange(len(rows))})
    return dataclasses.replace(
        lp, c=c, A=A, row_lb=np.concatenate([lp.row_lb, np.full(len(rows), -np.inf)]),
        row_ub=np.concatenate([lp.row_ub, [bound for _, bound in rows]]),
        rows={**lp.rows, BOUND_BLOCK: block})


def held(value: float, scale: float = 0.0, tol: float = SERVICE_TOL) -> float:
    """A value held as a bound, with a tiny slack so the next step stays feasible."""
    return value + tol * max(abs(value), abs(scale), 1.0)


@dataclass(frozen=True)
class GoalStrategy:
    """Solve for ``goal`` (see :class:`~optimizer.records.inputs.Goal`): minimise its metric
    under its bounds; with ``then``, hold that optimum within ``max(LEX_TOL, gap)`` (and, with
    ``hold_service``, the unmet energy at its level) and minimise ``then``. The solution is read
    from the last LP solved; where that second step finds no solution (which the first step's
    solution proves a solver failure), from the first, with a note in its message."""

    goal: Goal

    @property
    def presolve(self) -> bool:
        return False

    def solve(self, lp: LinearProgram, arrays: Arrays, options: SolveOptions,
              solve: LpSolver) -> tuple[LinearProgram, RawResult]:
        goal = self.goal
        needed = {goal.minimize, *(m for m, _ in goal.bounds), "unmet",
                  *([goal.then] if goal.then else [])}
        vec = {m: metric_vector(lp, arrays, m) for m in needed}
        rows = [(vec[m], float(bound)) for m, bound in goal.bounds]
        current = with_objective(lp, vec[goal.minimize], rows)
        raw = solve(current)
        if goal.then is None or raw.x is None or raw.status is not Status.OPTIMAL:
            return current, raw
        best = float(vec[goal.minimize] @ raw.x)
        tol = max(LEX_TOL, options.gap or 0.0)
        rows.append((vec[goal.minimize], best + tol * max(abs(best), 1.0)))
        if goal.hold_service:
            demand = float((arrays.demand * arrays.annual).sum())
            rows.append((vec["unmet"], held(float(vec["unmet"] @ raw.x), demand)))
        second = with_objective(lp, vec[goal.then], rows)
        then = solve(second)
        if then.x is None:
            # the first step's solution meets every row of the second: a second step without a
            # solution is the solver's failure (a MIP held within 1e-7 of its optimum, which
            # CBC can call infeasible); the point stays the first step's, and says so
            note = (f"least {goal.then} at that {goal.minimize} not found ({then.status.value}"
                    f"{': ' + then.message if then.message else ''}): this is the first "
                    f"step's solution, its {goal.then} not minimised")
            return current, dataclasses.replace(
                raw, message=f"{raw.message}; {note}" if raw.message else note,
                notes=[*raw.notes, note])
        return second, then


def goal_values(run: Run, goal: Goal) -> GoalValues:
    """A goal's point: carbon, latency and (version 2) water of its solution, the shadow
    prices of its latency, water and carbon bounds, and the value of the objective it
    minimised last."""
    lp, raw = run.lp, run.raw
    carbon = latency = water = None
    if raw.x is not None and run.solution.has_values:
        carbon = float(metric_vector(lp, run.arrays, "carbon") @ raw.x)
        latency = float(metric_vector(lp, run.arrays, "latency") @ raw.x)
        if METRIC_EXPRESSIONS["water"] in lp.expressions:
            water = float(metric_vector(lp, run.arrays, "water") @ raw.x)
    return GoalValues(carbon, latency, _bound_price(run, goal, "latency"),
                      run.solution.objective, water, _bound_price(run, goal, "water"),
                      _bound_price(run, goal, "carbon"))


def _bound_price(run: Run, goal: Goal, metric: Metric) -> float | None:
    """The shadow price of the goal's first bound on ``metric`` (None without one): what one
    more unit of the metric allowed would save."""
    raw = run.raw
    at = [i for i, (m, _) in enumerate(goal.bounds) if m == metric]
    if not at or raw.x is None or raw.duals is None or not run.solution.has_values:
        return None
    return float(-raw.duals[run.lp.rows[BOUND_BLOCK].start + at[0]]) + 0.0

"""The planning model (DESIGN.md §7): one build shared by every operating case.

:func:`formulate_plan` prunes and formulates each case's version-1 LP with the registry's
families and stacks them (:mod:`optimizer.planning.stack`); :func:`solve_plan` solves the
planning LP with the backend (or a study's strategy) and reads it back as a version-2
solution (:mod:`optimizer.planning.result`). :mod:`optimizer.planning.measures` solves the
plans a planner compares against: without contingencies, per scenario, for the mean scenario.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from optimizer import engine
from optimizer.backends.base import RawResult, SolveOptions, Status
from optimizer.cases import Plan
from optimizer.interpret import Solution
from optimizer.model import LinearProgram, formulate
from optimizer.model.numbers import check_numbers
from optimizer.model.size import check_sizes
from optimizer.planning.explain import explain
from optimizer.planning.measures import measures
from optimizer.planning.result import interpret_plan
from optimizer.planning.stack import Stacked, stack
from optimizer.presolve import prune_arcs

__all__ = ["PlanRun", "fix_build", "formulate_plan", "solve_measures", "solve_plan"]

LpSolver = Callable[[LinearProgram], RawResult]


@dataclass
class PlanRun:
    source: Plan  # as built from the instance
    plan: Plan  # with each case's arrays as formulated (pruned where presolve ran)
    stacked: Stacked
    lp: LinearProgram  # the LP the solution was read from (the stacked one, or a strategy's)
    raw: RawResult
    solution: Solution


def formulate_plan(plan: Plan, prune: bool = True) -> tuple[Plan, Stacked]:
    """Each case's LP (its arcs pruned by presolve where ``prune``), stacked."""
    cases = [replace(c, arrays=prune_arcs(c.arrays)) if prune else c for c in plan.cases]
    plan = replace(plan, cases=cases)
    check_sizes([c.arrays for c in cases])
    return plan, stack(plan, [formulate(c.arrays) for c in cases])


def fix_build(stacked: Stacked, x: np.ndarray) -> LinearProgram:
    """The planning LP with the build (every open and build column) fixed at ``x``'s."""
    lp = stacked.lp
    cols = np.concatenate([stacked.open_cols.ravel(), stacked.build_cols.ravel()])
    lb, ub = lp.col_lb.copy(), lp.col_ub.copy()
    lb[cols] = ub[cols] = np.round(x[cols])
    return replace(lp, col_lb=lb, col_ub=ub)


def solve_plan(plan: Plan, options: SolveOptions | None = None,
               solver: LpSolver | None = None, strategy: Any = None,
               build: np.ndarray | None = None, file: str = "<instance>") -> PlanRun:
    """Solve ``plan``; ``build``: a planning vector whose build is held fixed (the value of the
    stochastic solution solves the mean-scenario plan's build in every scenario); ``file``
    names the instance where the stacked LP has a number the solvers cannot hold."""
    options = options or SolveOptions()
    source = plan
    plan, stacked = formulate_plan(plan, options.prune and (strategy is None
                                                            or strategy.presolve))
    lp = stacked.lp if build is None else fix_build(stacked, build)
    check_numbers(lp, file)
    if build is not None:
        stacked = replace(stacked, lp=lp)
    solve = solver or functools.partial(engine.solve, options=options)
    if plan.unsurvivable:  # a capacity count proves it: nothing to solve
        reasons = "; ".join(p.message for p in plan.unsurvivable)
        raw = RawResult(Status.INFEASIBLE, options.backend, "none (a capacity count)",
                        message=f"the plan cannot survive its contingencies: {reasons}")
    elif strategy is None:
        raw = solve(lp)
    else:
        lp, raw = strategy.solve(lp, plan.cases[-1].arrays, options, solve)
    if (raw.status is Status.INFEASIBLE and plan.contingencies and build is None
            and strategy is None and not plan.unsurvivable):
        why = explain(plan, lambda p: formulate_plan(p, prune=False)[1].lp, solve)
        if why:
            raw.message = f"{raw.message}; {why}" if raw.message else why
    solution = interpret_plan(plan, replace(stacked, lp=lp), raw)
    return PlanRun(source, plan, stacked, lp, raw, solution)


def solve_measures(run: PlanRun, options: SolveOptions | None = None,
                   solver: LpSolver | None = None) -> dict[str, dict[str, Any]]:
    """The cost of resilience, EVPI and VSS of a solved plan (:mod:`.measures`), each plan
    solved with ``options``; empty where the plan has no optimum to compare."""
    if run.solution.objective is None or run.raw.status is not Status.OPTIMAL:
        return {}

    def solve(plan: Plan, build: np.ndarray | None) -> tuple[float | None, np.ndarray | None,
                                                            Any]:
        other = solve_plan(plan, options, solver, build=build)
        ok = other.raw.status is Status.OPTIMAL and other.solution.objective is not None
        return (other.solution.objective if ok else None, other.raw.x if ok else None,
                other.raw)

    return measures(run.source, run.solution.objective, solve)

"""Why a plan with contingencies is infeasible: which N-1 case cannot be survived.

When the planning model has no solution and the capacity count of :mod:`optimizer.cases`
proved nothing, the LP relaxation is solved again without the contingencies, then with one
contingency at a time (every year). A relaxation without solution proves the MIP has none, so a
contingency named here cannot be survived by any build the instance allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np

from optimizer.backends.base import RawResult, Status
from optimizer.cases import Plan
from optimizer.model.lp import LinearProgram

LpSolve = Callable[[LinearProgram], RawResult]
Formulate = Callable[[Plan], LinearProgram]


def explain(plan: Plan, formulate: Formulate, solve: LpSolve) -> str:
    """A sentence naming the contingencies that cannot be survived ('' if none is proven)."""
    if not plan.contingencies:
        return ""

    def feasible(p: Plan) -> bool:
        lp = formulate(p)
        relaxed = replace(lp, integer=np.zeros_like(lp.integer))
        return solve(relaxed).status is not Status.INFEASIBLE

    base = [c for c in plan.cases if not c.contingency]
    if not feasible(replace(plan, cases=base, contingencies=[])):
        return "it has no solution even without its contingencies"
    lost = []
    for label in plan.contingencies:
        cases = base + [c for c in plan.cases if c.scenario == label]
        if not feasible(replace(plan, cases=cases, contingencies=[label])):
            lost.append(label.removeprefix("lose:"))
    if not lost:
        return ("each contingency alone can be survived (in the LP relaxation); together, "
                "or with whole halls and sites, they cannot")
    return ("no build the instance allows survives the loss of "
            + ", ".join(repr(s) for s in lost)
            + f" (protected classes: {', '.join(plan.protect) or 'none'})")

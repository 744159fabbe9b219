"""``solve_document(..., strategy=...)``: a strategy decides what is solved, and the rest of the
pipeline (the size guard, presolve when the strategy allows it, warnings, overrides) stays.

The instance is presolve's first hand case (tests/unit/test_presolve.py): 10 MW go to the hub
at 100 CNY/MWh (1,000 CNY); the arc to the dearer site A is dominated, so presolve removes it.
A far region reaches no site within 10 ms (a warning): its 1 MW is unmet at 1,000 CNY/MWh.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import pytest

from optimizer.backends.base import RawResult, SolveOptions
from optimizer.compile import Arrays
from optimizer.load import parse, parse_text
from optimizer.model import LinearProgram
from optimizer.pipeline import LpSolver, solve_document

HERE = [30.0, 110.0]
BASE: dict[str, Any] = {
    "version": 1,
    "periods": {"count": 1},
    "regions": [{"id": "r0", "location": HERE, "demand": {"web": 10}},
                {"id": "far", "location": [50.0, 80.0], "demand": {"web": 1}}],
    "sites": [
        {"id": "A", "location": HERE, "capacity_mw": 8, "pue": 1.0, "price": 200},
        {"id": "hub", "location": HERE, "capacity_mw": 100_000, "pue": 1.0, "price": 100},
    ],
    "classes": [{"id": "web", "unmet_penalty": 1000, "data_gb_per_mwh": 180,
                 "max_latency_ms": 10}],
}


class Doubled:
    """Minimise twice the cost, solved in two calls of the backend (the second is kept)."""

    def __init__(self, presolve: bool) -> None:
        self.presolve = presolve
        self.seen: list[int] = []

    def solve(self, lp: LinearProgram, arrays: Arrays, options: SolveOptions,
              solve: LpSolver) -> tuple[LinearProgram, RawResult]:
        self.seen.append(lp.n_vars)
        doubled = dataclasses.replace(lp, c=2 * lp.c)
        solve(doubled)
        return doubled, solve(doubled)


def test_a_strategy_decides_what_is_solved_and_may_turn_presolve_off() -> None:
    doc = parse_text(json.dumps(BASE), overrides=["sites[hub].price=100"])
    plain = solve_document(doc)
    unpruned = solve_document(doc, SolveOptions(prune=False))
    assert plain.lp.n_vars < unpruned.lp.n_vars  # presolve removed the arc to A

    kept = Doubled(presolve=False)
    run = solve_document(doc, strategy=kept)
    assert kept.seen == [unpruned.lp.n_vars]
    assert run.solution.objective == pytest.approx(4000.0)  # read from the strategy's LP
    assert run.solution.costs["energy"] == pytest.approx(1000.0)
    assert run.solution.overrides == ["sites[hub].price=100"]
    assert run.solution.warnings[-len(doc.warnings):] == [p.format() for p in doc.warnings]
    assert any("can reach no site" in w for w in run.solution.warnings)

    pruned = Doubled(presolve=True)
    solve_document(doc, strategy=pruned)
    assert pruned.seen == [plain.lp.n_vars]


def test_the_callers_solver_is_what_the_strategy_calls() -> None:
    doc = parse(copy.deepcopy(BASE))
    calls: list[int] = []
    reference = solve_document(doc).raw

    def solver(lp: LinearProgram) -> RawResult:
        calls.append(lp.n_vars)
        return reference

    solve_document(doc, solver=solver, strategy=Doubled(presolve=True))
    assert len(calls) == 2

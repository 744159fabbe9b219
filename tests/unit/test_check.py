"""The solution check catches what a solver might get wrong."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from optimizer.backends.base import RawResult, SolveOptions, Status
from optimizer.check import check_solution
from optimizer.pipeline import run

TINY = Path(__file__).parents[2] / "instances" / "tiny.yaml"


def test_optimal_solution_passes_and_perturbed_fails() -> None:
    result = run(TINY, SolveOptions(solver="glop"))
    x = result.raw.x
    assert x is not None
    assert check_solution(result.lp, x).ok
    bad = x.copy()
    bad[result.lp.variables["flow"].start] += 1.0  # breaks a demand row
    violation = check_solution(result.lp, bad)
    assert not violation.ok
    # web at near in t00 (10 of 15 MW): its demand row and the site's power balance break
    assert violation.count == 2
    assert violation.where.split("[")[0] in ("demand", "power_balance")
    negative = x.copy()
    negative[result.lp.variables["grid"].start] = -5.0
    assert not check_solution(result.lp, negative).ok


def test_interpret_refuses_a_violating_solution() -> None:
    from optimizer.interpret import interpret

    result = run(TINY, SolveOptions(solver="glop"))
    assert result.raw.x is not None
    x = result.raw.x.copy()
    x[result.lp.variables["flow"].start] += 1.0
    raw = RawResult(Status.OPTIMAL, "test", "fake", x=x, objective=float(result.lp.c @ x))
    sol = interpret(result.arrays, result.lp, raw)
    assert sol.status is Status.ERROR
    assert sol.objective is None
    assert "violates" in sol.message


def test_nan_solution_fails() -> None:
    result = run(TINY, SolveOptions(solver="glop"))
    assert not check_solution(result.lp, np.full(result.lp.n_vars, np.nan)).ok

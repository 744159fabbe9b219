"""One result builder and one time-limit rule for every backend."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from optimizer.backends import registry
from optimizer.backends.base import Notice, SolveOptions, Status
from optimizer.backends.result import Answer, build_result, hit_time_limit
from optimizer.model import LinearProgram

GLOP = registry.get("ortools", "glop")  # trusted duals
SCIP = registry.get("ortools", "scip")  # untrusted duals


def _answer(lp: LinearProgram, status: Status, values: bool = True,
            elapsed: float = 1.0) -> Answer:
    answer = Answer(status, "SOLVER SAYS", elapsed, "the log")
    if values:
        answer.x, answer.objective, answer.bound = np.ones(lp.n_vars), 7.0, 6.5
        answer.duals = np.full(lp.n_rows, 2.0)
    return answer


@pytest.mark.parametrize(("elapsed", "limit", "hit"), [
    (9.5, 10.0, True), (12.0, 10.0, True), (9.4, 10.0, False), (1e9, None, False),
    (0.0, 0.0, True),
])
def test_the_time_limit_rule(elapsed: float, limit: float | None, hit: bool) -> None:
    assert hit_time_limit(elapsed, limit) is hit


def test_an_optimal_answer_with_trusted_duals(lp: LinearProgram) -> None:
    notice = Notice("threads", None, "is ignored by glop")
    raw = build_result(GLOP, _answer(lp, Status.OPTIMAL), lp, SolveOptions(), [notice])
    assert (raw.status, raw.backend, raw.solver) == (Status.OPTIMAL, "ortools", "glop")
    assert (raw.objective, raw.bound, raw.solve_s, raw.log) == (7.0, 6.5, 1.0, "the log")
    assert raw.duals is not None
    assert raw.duals_from == "glop"
    assert raw.notices == [notice]


def test_duals_only_from_a_trusted_solver_and_never_for_a_mip(lp: LinearProgram) -> None:
    raw = build_result(SCIP, _answer(lp, Status.OPTIMAL), lp, SolveOptions())
    assert raw.x is not None
    assert (raw.duals, raw.duals_from) == (None, "")
    integer = np.zeros(lp.n_vars, dtype=bool)
    integer[0] = True
    mip = dataclasses.replace(lp, integer=integer)
    cbc = registry.get("pulp", "cbc")
    assert build_result(cbc, _answer(mip, Status.OPTIMAL), mip, SolveOptions()).duals is None
    warm = registry.get("highspy", "highs-warm")
    assert build_result(warm, _answer(lp, Status.OPTIMAL), lp, SolveOptions()).duals_from == \
        "highspy"


def test_a_stop_at_the_time_limit_is_time_limit(lp: LinearProgram) -> None:
    limit = SolveOptions(time_limit=1.0)
    raw = build_result(GLOP, _answer(lp, Status.FEASIBLE), lp, limit)  # GLOP at a tiny limit
    assert raw.status is Status.TIME_LIMIT
    assert raw.x is not None
    raw = build_result(GLOP, _answer(lp, Status.ERROR, values=False), lp, limit)
    assert raw.status is Status.TIME_LIMIT  # HiGHS UNKNOWN, PDLP NOT_SOLVED
    assert raw.x is None
    early = build_result(GLOP, _answer(lp, Status.FEASIBLE, elapsed=0.5), lp, limit)
    assert early.status is Status.FEASIBLE


@pytest.mark.parametrize("status", [Status.OPTIMAL, Status.FEASIBLE])
def test_no_solution_is_reported_that_is_not_there(lp: LinearProgram, status: Status) -> None:
    raw = build_result(GLOP, _answer(lp, status, values=False), lp, SolveOptions())
    assert raw.status is Status.ERROR
    assert raw.message == "SOLVER SAYS: the solver returned no values"
    assert raw.x is None


def test_values_of_an_answer_without_a_solution_are_dropped(lp: LinearProgram) -> None:
    raw = build_result(GLOP, _answer(lp, Status.INFEASIBLE), lp, SolveOptions())
    assert raw.status is Status.INFEASIBLE
    assert (raw.x, raw.objective, raw.duals) == (None, None, None)

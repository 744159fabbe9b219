"""The strategy above the backends: one dual re-solve, for an LP whose solver's duals are not
trusted and for a MIP with its integer decisions fixed."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from optimizer import backends
from optimizer.backends import ortools_backend, strategy
from optimizer.backends.base import RawResult, SolveOptions, Status
from optimizer.model import LinearProgram

WHOLE = SolveOptions(decompose=False)


@pytest.fixture
def solvers_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The solvers ortools_backend.solve ran, in order (the backend's and the re-solve's)."""
    ran: list[str] = []
    real = ortools_backend.solve

    def spy(lp: LinearProgram, opts: SolveOptions) -> RawResult:
        ran.append(opts.solver)
        return real(lp, opts)

    monkeypatch.setattr(ortools_backend, "solve", spy)
    monkeypatch.setitem(backends.BACKENDS, "ortools", spy)
    return ran


def _clp_duals(lp: LinearProgram) -> Any:
    direct = ortools_backend.solve(lp, SolveOptions(solver="clp"))
    assert direct.duals is not None
    return direct.duals


def test_an_lp_after_a_solver_without_trusted_duals_is_re_solved_by_clp(
        lp: LinearProgram, solvers_run: list[str]) -> None:
    raw = backends.solve(lp, dataclasses.replace(WHOLE, solver="scip"))
    assert solvers_run == ["scip", "clp"]
    assert raw.status is Status.OPTIMAL
    assert raw.solver == "scip"
    assert raw.duals_from == "clp (re-solve: scip's duals are not reliable)"
    assert "--- dual re-solve with CLP ---" in raw.log
    np.testing.assert_allclose(raw.duals, _clp_duals(lp), atol=1e-9)


def test_a_mip_gets_the_duals_of_its_lp_with_the_integers_fixed(
        mip: LinearProgram, solvers_run: list[str]) -> None:
    raw = backends.solve(mip, dataclasses.replace(WHOLE, solver="cbc"))
    assert solvers_run == ["cbc", "clp"]
    assert raw.status is Status.OPTIMAL
    assert raw.x is not None
    assert raw.duals_from == "clp, integers fixed"
    assert "--- LP with integers fixed, for duals (CLP) ---" in raw.log
    np.testing.assert_allclose(raw.duals, _clp_duals(mip.fix_integers(raw.x)), atol=1e-9)


def test_no_re_solve_where_the_duals_are_trusted_or_the_lp_not_solved(
        lp: LinearProgram, solvers_run: list[str]) -> None:
    raw = backends.solve(lp, dataclasses.replace(WHOLE, solver="glop"))
    assert solvers_run == ["glop"]
    assert raw.duals_from == "glop"
    stopped = RawResult(Status.TIME_LIMIT, "ortools", "scip", x=np.zeros(lp.n_vars))
    assert strategy.add_duals(stopped, lp, WHOLE).duals is None
    assert solvers_run == ["glop"]


def test_duals_stay_missing_when_clp_does_not_reach_optimality(
        lp: LinearProgram, monkeypatch: pytest.MonkeyPatch) -> None:
    failed = RawResult(Status.ERROR, "ortools", "clp", message="no")
    monkeypatch.setattr(ortools_backend, "solve", lambda _lp, _opts: failed)
    raw = RawResult(Status.OPTIMAL, "ortools", "scip", x=np.zeros(lp.n_vars), log="log")
    out = strategy.add_duals(raw, lp, WHOLE)
    assert (out.duals, out.duals_from, out.log) == (None, "", "log")


def test_each_period_lp_gets_its_re_solve(lp: LinearProgram, solvers_run: list[str]) -> None:
    raw = backends.solve(lp, SolveOptions(solver="scip", workers=1))
    assert solvers_run == ["scip", "clp", "scip", "clp"]  # tiny: two period LPs
    assert raw.duals is not None
    assert raw.duals_from == "clp (re-solve: scip's duals are not reliable)"

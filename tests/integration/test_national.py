"""The national instance end to end, across backends."""

from __future__ import annotations

import pytest

from optimizer.backends.base import SolveOptions, Status
from optimizer.pipeline import run

REL = 1e-6


@pytest.fixture(scope="module")
def reference() -> float:
    sol = run(None, SolveOptions(solver="clp")).solution
    assert sol.status is Status.OPTIMAL
    assert sol.objective is not None
    return sol.objective


@pytest.mark.parametrize(("backend", "solver"),
                         [("ortools", "glop"), ("ortools", "highs"), ("pulp", "cbc")])
def test_objective_agrees_across_solvers(reference: float, backend: str, solver: str) -> None:
    sol = run(None, SolveOptions(backend=backend, solver=solver)).solution
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(reference, rel=REL)


def test_national_solution_is_sensible() -> None:
    """Not an optimum (that is the cross-check's job) but what the instance is built to show:
    all demand served, some of it in the west, realtime close to its users."""
    sol = run().solution
    assert sol.totals["unmet_mwh"] == pytest.approx(0.0, abs=1e-3)
    west = sum(s["it_energy_mwh"] for s in sol.site_table if s["zone"] == "west")
    assert 0.0 < west < sol.totals["served_mwh"]
    realtime = next(k for k in sol.class_table if k["id"] == "realtime")
    assert realtime["mean_latency_ms"] <= 10.0
    assert all(s["capacity_price"] is not None and s["capacity_price"] >= -1e-6
               for s in sol.site_table)

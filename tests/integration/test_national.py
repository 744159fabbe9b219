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


def test_2025_plan_solves_to_a_proven_optimum_and_says_what_to_build() -> None:
    """The planning variant is a MIP (integer halls); its optimum is proven (status optimal,
    SCIP's gap 0), it builds something, serves all demand and meets its renewable floor."""
    from pathlib import Path

    plan = Path(__file__).parents[2] / "instances" / "china-2025-plan.yaml"
    result = run(plan)
    sol = result.solution
    assert result.lp.is_mip
    assert sol.status is Status.OPTIMAL
    assert sol.build_table
    assert sum(b["annual_cost"] for b in sol.build_table) == pytest.approx(sol.costs["expansion"])
    assert sol.totals["unmet_mwh"] == pytest.approx(0.0, abs=1e-3)
    assert sol.policy["renewable_share"] >= sol.policy["min_renewable_share"] - 1e-9
    assert any("integer decisions fixed" in n for n in sol.notes)

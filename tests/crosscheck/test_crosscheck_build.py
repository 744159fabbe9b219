"""Hard demand above the existing capacity: the valid inequalities at work, against the reference.

With integer decisions the package adds two families of rows that DESIGN.md's model does not
have (``optimizer/model/expansion.py``): ``x[r,s,k,t] <= d[r,k,t]*o[s]`` at candidate sites and
the aggregate capacity cut ``sum_s cap[s]*o[s] + sum_e size[e]*n[e] >= D_hard[t] - existing``,
which has a row only in the periods where the hard (non-deferrable) demand exceeds the existing
sites' capacity. The instances of ``test_crosscheck.py`` never get there: their hard demand
always fits in one existing site. ``generate.random_instance_build`` makes instances where it
does not, so that sites must be opened or expansions built; on them the package, with
``valid_inequalities`` on (the default) and off, must reach the optimum of the reference
(``reference.py``, which has neither family) and the same cost in every category.
"""

from __future__ import annotations

import functools

import pytest
from compare import assert_reference_optimum
from generate import hard_need, is_mip, random_instance_build
from reference import Result, solve_full

from optimizer import backends
from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.interpret import Solution, interpret
from optimizer.load import parse
from optimizer.model import LinearProgram, ModelOptions, formulate
from optimizer.presolve import prune_arcs

REL_TOL = 1e-6
SEEDS = range(32)
SOLVERS = {"auto": SolveOptions(), "scip": SolveOptions(solver="scip")}


@functools.cache
def reference(seed: int) -> Result:
    return solve_full(random_instance_build(seed))


@functools.cache
def package(seed: int, valid: bool, solver: str = "auto") -> tuple[LinearProgram, Solution]:
    """The pipeline of ``optimizer.pipeline.solve_document`` with ``valid_inequalities`` set."""
    arrays = prune_arcs(compile_instance(parse(random_instance_build(seed)).instance))
    lp = formulate(arrays, ModelOptions(valid_inequalities=valid))
    return lp, interpret(arrays, lp, backends.solve(lp, SOLVERS[solver]))


@pytest.mark.parametrize("seed", SEEDS)
def test_build_instance_needs_opening_or_building(seed: int) -> None:
    """Valid, a MIP, feasible, and its hard demand exceeds the existing capacity at its peak:
    the reference's optimum opens or builds at least that much."""
    data = random_instance_build(seed)
    assert data == random_instance_build(seed)  # reproducible
    parse(data)
    assert is_mip(data)
    need = max(hard_need(data))
    assert need > 1.0
    ref = reference(seed)
    assert ref.status == "Optimal"
    d = ref.data
    added = sum(d.capacity[s] * o for s, o in ref.o.items()) + sum(
        d.expansions[s][e].size * n for (s, e), n in ref.n.items()
    )
    assert added >= need - REL_TOL * need


CASES = [(seed, valid, "auto") for seed in SEEDS for valid in (True, False)] + [
    (seed, valid, "scip") for seed in SEEDS[::4] for valid in (True, False)]


@pytest.mark.parametrize(("seed", "valid", "solver"), CASES)
def test_valid_inequalities_keep_the_reference_optimum(seed: int, valid: bool,
                                                       solver: str) -> None:
    """The cut has a row in every period where hard demand exceeds the existing capacity (and
    none without ``valid_inequalities``); either way the optimum is the reference's, and so is
    every cost category (against the reference with the same integer decisions, where the
    package's differ from the reference's own: a tie, asserted)."""
    lp, sol = package(seed, valid, solver)
    periods = sum(need > 0 for need in hard_need(random_instance_build(seed)))
    assert periods >= 1
    if valid:
        assert lp.rows["aggregate_capacity"].size == periods
        assert lp.rows["open_bound"].size > 0  # every build instance has a candidate site
    else:
        assert "aggregate_capacity" not in lp.rows
        assert "open_bound" not in lp.rows
    assert sol.status is Status.OPTIMAL
    assert_reference_optimum(sol, reference(seed), random_instance_build(seed), REL_TOL)

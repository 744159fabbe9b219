"""Benders decomposition (optimizer.engine.benders) against the element-by-element references.

On random build MIPs (version 1: sites to open, expansions to build, the valid inequalities on
and off) and random plans (version 2: years, scenarios, contingencies, every §8 rule; builds per
year), ``strategy="benders"`` at gap 1e-9 must reach the reference's optimum (``reference.py``
and ``reference_plan.py``, PuLP models written from DESIGN.md alone) and, for plans, the same
build, case costs and totals. Its duals (the LP with the builds fixed) are checked by strong
duality, not against one solver's (degenerate LPs have many optimal duals). The plans exercise
both kinds of cut: several parts (a theta per case and period) and feasibility cuts (a first
build that breaks a utilisation floor)."""

from __future__ import annotations

import copy
import functools
import math
import os
import signal
import threading
from typing import Any

import numpy as np
import pytest
from generate import random_instance_build
from generate_plan import random_plan_instance
from reference import solve_full
from test_engine_colgen import dual_value
from test_reference_plan import compare_with_reference, plan_result

from optimizer import engine
from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.engine import benders
from optimizer.errors import UsageError
from optimizer.generate import generate
from optimizer.load import parse
from optimizer.model import LinearProgram, ModelOptions, formulate
from optimizer.pipeline import solve_document
from optimizer.presolve import prune_arcs

REL_TOL = 1e-6
EXACT = SolveOptions(strategy="benders", gap=1e-9)
BUILD_SEEDS = range(24)
PLAN_SEEDS = range(40)


@functools.cache
def build_lp(seed: int, valid: bool) -> LinearProgram:
    arrays = prune_arcs(compile_instance(parse(random_instance_build(seed)).instance))
    return formulate(arrays, ModelOptions(valid_inequalities=valid))


@pytest.mark.parametrize("valid", [True, False])
@pytest.mark.parametrize("seed", BUILD_SEEDS)
def test_benders_reaches_the_reference_optimum_on_build_mips(seed: int, valid: bool) -> None:
    lp = build_lp(seed, valid)
    if not benders.applies(lp):  # an integer decision that is not a build (single sourcing)
        pytest.skip("integer decisions other than builds")
    raw = engine.solve(lp, EXACT)
    ref = solve_full(random_instance_build(seed))
    assert raw.status is Status.OPTIMAL
    assert raw.x is not None
    assert raw.objective is not None
    assert ref.objective is not None
    assert math.isclose(raw.objective, ref.objective, rel_tol=REL_TOL, abs_tol=REL_TOL)
    assert raw.bound is not None
    assert raw.bound <= raw.objective + 1e-9 * abs(raw.objective)
    # a feasible point of the full MIP: every row and bound within tolerance, builds integral
    activity = lp.A @ raw.x
    scale = 1e-6 * (1.0 + np.abs(activity))
    assert (activity >= lp.row_lb - scale).all()
    assert (activity <= lp.row_ub + scale).all()
    assert np.allclose(raw.x[lp.integer], np.round(raw.x[lp.integer]))
    # the duals are optimal for the LP with the builds fixed: strong duality
    assert raw.duals is not None
    fixed = lp.fix_integers(raw.x)
    assert math.isclose(dual_value(fixed, raw.duals), raw.objective, rel_tol=1e-7,
                        abs_tol=1e-6)


def test_most_build_mips_are_solved_by_benders() -> None:
    """The parametrised test above skips where Benders does not apply: most must apply."""
    applies = sum(benders.applies(build_lp(seed, True)) for seed in BUILD_SEEDS)
    assert applies >= len(BUILD_SEEDS) * 2 // 3


@functools.cache
def plan_run(seed: int) -> tuple[dict[str, Any], list[str]] | None:
    """The plan solved by Benders; None where it does not apply (no build decision, or
    single sourcing)."""
    try:
        run = solve_document(parse(copy.deepcopy(random_plan_instance(seed))), EXACT)
    except UsageError as error:
        if "benders strategy needs a MIP" not in str(error):
            raise
        return None
    return run.solution.to_dict(), run.raw.notes


@pytest.mark.parametrize("seed", BUILD_SEEDS[::3])
def test_benders_evaluating_one_build_a_round_reaches_the_reference_optimum(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """As the large operating LPs are solved (SAVED_EVALS_BELOW): only the master's optimum
    evaluated each MIP round, the same optimum as the element-by-element reference."""
    lp = build_lp(seed, True)
    if not benders.applies(lp):
        pytest.skip("integer decisions other than builds")
    monkeypatch.setattr(benders, "SAVED_EVALS_BELOW", 0)
    raw = engine.solve(lp, EXACT)
    ref = solve_full(random_instance_build(seed))
    assert raw.status is Status.OPTIMAL
    assert raw.objective is not None
    assert ref.objective is not None
    assert math.isclose(raw.objective, ref.objective, rel_tol=REL_TOL, abs_tol=REL_TOL)


@pytest.mark.parametrize("seed", PLAN_SEEDS)
def test_benders_agrees_with_the_plan_reference(seed: int) -> None:
    data = random_plan_instance(seed)
    solved = plan_run(seed)
    if solved is None:
        pytest.skip("integer decisions other than builds, or none")
    sol, notes = solved
    assert sol["solver"]["solver"] == "benders", notes
    priced = data["policy"].get("water_price") or any(
        s.get("water_cap_m3") is not None for s in data["sites"])
    # transfer and latency by their sum, as for the national plan: ties split them
    compare_with_reference(sol, plan_result(seed), tied=("transfer", "latency"),
                           free=() if priced else ("water_m3",))


def _counts(note: str) -> tuple[int, int]:
    """(parts, feasibility cuts) from the Benders note."""
    parts = int(note.split(" subproblem part(s)")[0].rsplit(" ", 1)[1])
    feas = int(note.split(" feasibility cuts")[0].rsplit(" ", 1)[1])
    return parts, feas


def _plan_counts(seed: int) -> tuple[int, int] | None:
    solved = plan_run(seed)
    return None if solved is None else _counts(
        next(n for n in solved[1] if n.startswith("Benders")))


def test_the_plans_exercise_multi_cut_and_feasibility_cuts() -> None:
    """Half the plans or more are solved by Benders (the test above skips the others), several parts
    in half of them, feasibility cuts in some."""
    counts = [c for c in map(_plan_counts, PLAN_SEEDS) if c is not None]
    assert len(counts) >= len(PLAN_SEEDS) // 2
    assert sum(parts > 1 for parts, _ in counts) >= len(PLAN_SEEDS) // 2
    assert sum(feas > 0 for _, feas in counts) >= 3


def test_benders_is_refused_for_an_lp_and_chosen_by_auto_for_large_build_mips(
        monkeypatch: pytest.MonkeyPatch) -> None:
    lp = formulate(compile_instance(parse(generate(5, 4, 4, 2, seed=1)).instance))
    with pytest.raises(UsageError, match="benders strategy needs a MIP"):
        engine.solve(lp, SolveOptions(strategy="benders"))
    mip = build_lp(next(s for s in BUILD_SEEDS if benders.applies(build_lp(s, True))), True)
    assert engine.choose(mip, SolveOptions())[0] == "monolithic"  # small
    monkeypatch.setattr(engine, "BENDERS_MIN_VARS", 0)
    monkeypatch.setattr(engine, "FEW_INTEGERS", 0)
    assert engine.choose(mip, SolveOptions())[0] == "benders"
    monkeypatch.setattr(engine, "FEW_INTEGERS", 10**6)
    monkeypatch.setattr(engine, "BENDERS_LARGE", 0)
    assert engine.choose(mip, SolveOptions())[0] == "benders"
    assert engine.choose(mip, SolveOptions(solver="scip"))[0] == "monolithic"


def test_a_time_limit_stops_benders_with_its_best_build_or_none() -> None:
    lp = build_lp(next(s for s in BUILD_SEEDS if benders.applies(build_lp(s, True))), True)
    raw = engine.solve(lp, SolveOptions(strategy="benders", time_limit=1e-6))
    assert raw.status in (Status.TIME_LIMIT, Status.FEASIBLE)


def test_ctrl_c_during_benders_raises_and_reports_nothing() -> None:
    """SIGINT while a subproblem or master runs: HiGHS stops at its next check and
    KeyboardInterrupt is raised (the CLI's exit 130)."""
    seed = next(s for s in PLAN_SEEDS if (_plan_counts(s) or (0, 0))[0] > 1)
    document = parse(copy.deepcopy(random_plan_instance(seed)))
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()

    def again() -> None:
        for _ in range(50):  # a small plan solves fast: again until the signal lands
            solve_document(document, EXACT)

    try:
        with pytest.raises(KeyboardInterrupt):
            again()
    finally:
        timer.cancel()


def test_benders_reports_its_bounds_each_round_to_whoever_listens() -> None:
    """The CLI's spinner registers with ``engine.progress.reporting``; each round's line gives
    the bound, the best value and the gap, the last one the optimum."""
    from optimizer.engine.progress import reporting

    lp = build_lp(next(s for s in BUILD_SEEDS if benders.applies(build_lp(s, True))), True)
    lines: list[str] = []
    with reporting(lines.append):
        raw = engine.solve(lp, EXACT)
    assert any(line.startswith("Benders LP round 1:") for line in lines)
    last = lines[-1]
    assert last.startswith("Benders MIP round")
    assert f"best {raw.objective:.7g}" in last
    assert "gap" in last
    engine.solve(lp, EXACT)  # outside the block: nobody listens, nothing fails
    assert lines[-1] == last


def test_a_build_that_leaves_demand_unserved_is_cut_off_by_a_feasibility_cut() -> None:
    """By hand: two candidate sites (100 a year each to open), 10 MW of demand that must be
    served, 1 and 2 a MW at sites 1 and 2, each at most 10 MW and only if open. Optimum: open
    site 1, serve all there, 100 + 10 = 110. Opening nothing stretches the demand row at the
    subproblem's penalty (twice the dearest cost, 4 a MW: 40 in all, "cheaper" than 110), so
    only the feasibility cut keeps the master from coming back to it."""
    import scipy.sparse as sp

    from optimizer.model.lp import Block

    # columns: open1, open2, x1, x2; rows: demand, x1 <= 10 open1, x2 <= 10 open2
    A = sp.csr_matrix(np.array([[0, 0, 1, 1], [-10, 0, 1, 0], [0, -10, 0, 1]], dtype=float))
    lp = LinearProgram(
        c=np.array([100.0, 100.0, 1.0, 2.0]), A=A, row_lb=np.array([10.0, -np.inf, -np.inf]),
        row_ub=np.array([10.0, 0.0, 0.0]), col_lb=np.zeros(4),
        col_ub=np.array([1.0, 1.0, np.inf, np.inf]),
        integer=np.array([True, True, False, False]),
        variables={"open": Block("open", 0, 2, {"site": np.arange(2)}),
                   "flow": Block("flow", 2, 2, {"site": np.arange(2)})},
        rows={}, cost_matrix=sp.csr_matrix((1, 4)))
    raw = engine.solve(lp, SolveOptions(strategy="benders", gap=1e-9, time_limit=20))
    assert raw.status is Status.OPTIMAL
    assert raw.objective == pytest.approx(110.0, rel=1e-9)
    assert raw.x is not None
    assert np.allclose(raw.x, [1.0, 0.0, 10.0, 0.0])
    assert any("1 feasibility cuts" in n or " feasibility cuts" in n for n in raw.notes)

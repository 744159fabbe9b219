"""Per-period decomposition is exact: the same optimum as the monolithic LP, and only applied
where no constraint couples periods."""

from __future__ import annotations

import copy
import os
from typing import Any

import numpy as np
import pytest

from optimizer.backends.base import SolveOptions, Status, option_words
from optimizer.backends.decompose import PARALLEL_MIN_VARS, period_partition, period_workers
from optimizer.cli.common import flag_words
from optimizer.compile import compile_instance
from optimizer.generate import generate
from optimizer.load import parse
from optimizer.model import formulate
from optimizer.pipeline import solve_document
from optimizer.report.notices import OptionNamer, word_notices

REL = 1e-9


def said(solution: Any, name: OptionNamer = flag_words) -> list[str]:
    """The notices of ``solution`` as the CLI (default) or the library words them."""
    return word_notices(solution.notices, name)


def both(data: dict[str, Any], solver: str = "clp") -> tuple[Any, Any]:
    doc = parse(copy.deepcopy(data))
    split = solve_document(doc, SolveOptions(solver=solver)).solution
    whole = solve_document(doc, SolveOptions(solver=solver, decompose=False)).solution
    return split, whole


@pytest.mark.parametrize("seed", range(6))
def test_same_optimum_flows_and_capacity_prices(seed: int) -> None:
    split, whole = both(generate(15, 6, 6, 3, seed=seed))
    assert split.status is whole.status is Status.OPTIMAL
    assert any("independent period LPs" in n for n in said(split))
    assert not any("independent period LPs" in n for n in said(whole))
    assert split.objective == pytest.approx(whole.objective, rel=REL)
    for a, b in zip(split.class_table, whole.class_table, strict=True):
        assert a["served_mwh"] == pytest.approx(b["served_mwh"], rel=1e-7, abs=1e-6)
    for key in ("served_mwh", "unmet_mwh", "grid_energy_mwh", "carbon_t"):
        assert split.totals[key] == pytest.approx(whole.totals[key], rel=1e-7, abs=1e-6)
    prices_split = np.array([s["capacity_price"] for s in split.site_table])
    prices_whole = np.array([s["capacity_price"] for s in whole.site_table])
    np.testing.assert_allclose(prices_split, prices_whole, rtol=1e-7, atol=1e-6)


@pytest.mark.parametrize("solver", ["glop", "highs"])
def test_other_solvers_decompose_too(solver: str) -> None:
    split, whole = both(generate(10, 4, 4, 2, seed=11), solver)
    assert split.objective == pytest.approx(whole.objective, rel=REL)


@pytest.mark.parametrize(("change", "why"), [
    (lambda d: d["classes"][0].update(max_delay_periods=2), "backlog links periods"),
    (lambda d: d["policy"].update(carbon_cap_t=1e9), "carbon cap sums all periods"),
    (lambda d: d["sites"][0].update(open_cost=1e6), "an integer decision"),
])
def test_not_applied_where_periods_are_coupled(change: Any, why: str) -> None:
    data = generate(10, 4, 4, 2, seed=3)
    assert period_partition(formulate(compile_instance(parse(data).instance))) is not None
    change(data)
    lp = formulate(compile_instance(parse(data).instance))
    assert period_partition(lp) is None, why


@pytest.mark.parametrize("seed", range(3))
def test_worker_processes_give_the_serial_solution(seed: int) -> None:
    doc = parse(generate(12, 5, 6, 3, seed=100 + seed))
    serial = solve_document(doc, SolveOptions(workers=1))
    forked = solve_document(doc, SolveOptions(workers=2))
    assert any("in 2 worker processes" in n for n in said(forked.solution))
    assert any("one after another" in n for n in said(serial.solution))
    assert serial.raw.x is not None
    assert forked.raw.x is not None
    np.testing.assert_array_equal(serial.raw.x, forked.raw.x)  # the same LPs, the same CLP
    assert serial.raw.duals is not None
    assert forked.raw.duals is not None
    np.testing.assert_array_equal(serial.raw.duals, forked.raw.duals)
    whole = solve_document(doc, SolveOptions(decompose=False)).solution
    assert forked.solution.objective == pytest.approx(whole.objective, rel=REL)


def test_small_lps_stay_in_this_process_and_workers_follow_the_request() -> None:
    lp = formulate(compile_instance(parse(generate(10, 4, 4, 2, seed=3)).instance))
    assert lp.n_vars < PARALLEL_MIN_VARS
    assert period_workers(lp, SolveOptions(), 4) == 1
    assert period_workers(lp, SolveOptions(workers=3), 4) == 3
    assert period_workers(lp, SolveOptions(workers=8), 4) == 4  # no more than the periods


def test_no_fork_once_the_workers_solver_has_started_threads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizer.backends import base

    monkeypatch.setattr(base, "_threads_started", {"highs"})
    lp = formulate(compile_instance(parse(generate(10, 4, 4, 2, seed=3)).instance))
    assert period_workers(lp, SolveOptions(solver="highs", workers=2), 4) == 1
    assert period_workers(lp, SolveOptions(solver="clp", workers=2), 4) == 2


MAIN_PID = os.getpid()


def _solve_or_die(lp: Any, options: SolveOptions) -> Any:
    """CLP here; in a worker process, die mid-solve (out of memory, a crash in the solver)."""
    from optimizer.backends import ortools_backend

    if os.getpid() != MAIN_PID:
        os._exit(9)
    return ortools_backend.solve(lp, options)


def test_a_dead_worker_falls_back_to_solving_here(monkeypatch: pytest.MonkeyPatch) -> None:
    from optimizer import backends

    doc = parse(generate(12, 5, 6, 3, seed=7))
    expected = solve_document(doc, SolveOptions(workers=1)).solution
    monkeypatch.setitem(backends.BACKENDS, "ortools", _solve_or_die)
    got = solve_document(doc, SolveOptions(workers=2)).solution
    assert got.objective == pytest.approx(expected.objective, rel=REL)
    assert any("the worker processes failed: BrokenProcessPool; solved here" in n
               for n in said(got))


def test_jobs_on_a_coupled_lp_says_it_has_no_effect() -> None:
    data = generate(10, 4, 4, 2, seed=3)
    data["policy"]["carbon_cap_t"] = 1e9
    solution = solve_document(parse(data), SolveOptions(workers=2)).solution
    assert any(n.startswith("--jobs 2 has no effect") and "coupled" in n for n in said(solution))
    assert any(n.startswith("workers=2 has no effect") and "coupled" in n
               for n in said(solution, option_words))
    assert not any("--" in n for n in solution.notes)  # no CLI wording below the CLI
    split = solve_document(parse(data), SolveOptions(workers=2, decompose=False)).solution
    assert "--jobs 2 has no effect: this LP is solved as one (--no-decompose)" in said(split)
    assert ("workers=2 has no effect: this LP is solved as one (decompose=False)"
            in said(split, option_words))


def _slow_clp(lp: Any, options: SolveOptions) -> Any:
    """CLP, 0.2 s slower per period: what a hard period LP would take."""
    import time

    from optimizer.backends import ortools_backend

    time.sleep(0.2)
    return ortools_backend.solve(lp, options)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_time_limit_bounds_the_whole_decomposed_solve(
        monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """Ten periods at 0.2 s each (1-2 s in all) under a 0.5 s limit: the periods due to start
    after the deadline are not solved, and the whole ends near the limit with TIME_LIMIT."""
    from optimizer import backends

    monkeypatch.setitem(backends.BACKENDS, "ortools", _slow_clp)
    doc = parse(generate(10, 4, 10, 2, seed=5))
    run = solve_document(doc, SolveOptions(workers=workers, time_limit=0.5))
    assert run.raw.status is Status.TIME_LIMIT
    assert "before this period was started" in run.raw.message
    # at most one period past the deadline per worker (with slack for a busy machine); the
    # ten periods would take 2 s one after another
    assert run.timings["solve"] < 0.5 + 0.2 + 0.5

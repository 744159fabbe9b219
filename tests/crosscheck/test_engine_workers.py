"""Benders's subproblem parts in worker processes and on a Dask cluster
(optimizer.engine.workers): the same optimum as in this process and as the element-by-element
reference, the same answers part by part, a worker that dies, Ctrl-C; and how parts are
formed (optimizer.engine.subproblem._parts) and spread over workers (balance), by hand."""

from __future__ import annotations

import copy
import functools
import math
import multiprocessing
import os
import signal
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from generate_plan import random_plan_instance
from test_engine_benders import PLAN_SEEDS, _plan_counts, plan_run
from test_reference_plan import plan_result

from optimizer.backends.base import SolveOptions
from optimizer.engine import subproblem, workers
from optimizer.engine.subproblem import Subproblem, split
from optimizer.errors import UsageError
from optimizer.load import parse
from optimizer.pipeline import solve_document

EXACT = {"strategy": "benders", "gap": 1e-9}


@functools.cache
def multi_part_seeds() -> list[int]:
    """Plans Benders solves with two parts or more (a theta per case, per period)."""
    return [s for s in PLAN_SEEDS if (_plan_counts(s) or (0, 0))[0] > 1][:4]


def _solve(seed: int, **options: object) -> tuple[float, list[str]]:
    run = solve_document(parse(copy.deepcopy(random_plan_instance(seed))),
                         SolveOptions(**EXACT, **options))  # type: ignore[arg-type]
    assert run.raw.objective is not None, run.raw.message
    return run.raw.objective, run.raw.notes


def _note(notes: list[str]) -> str:
    return next(n for n in notes if n.startswith("Benders"))


def test_worker_processes_reach_the_reference_optimum() -> None:
    seeds = multi_part_seeds()
    assert len(seeds) >= 3
    for seed in seeds:
        objective, notes = _solve(seed, workers=2)
        assert "solved in 2 worker processes" in _note(notes)
        reference = plan_result(seed).objective
        assert math.isclose(objective, reference, rel_tol=1e-6), (seed, objective, reference)
        solved = plan_run(seed)  # in this process
        assert solved is not None
        assert math.isclose(objective, solved[0]["objective"], rel_tol=1e-9)


def test_a_dask_cluster_gives_the_in_process_optimum() -> None:
    distributed = pytest.importorskip("dask.distributed")
    seeds = multi_part_seeds()
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        for seed in seeds[:2]:
            objective, notes = _solve(seed, dask=cluster.scheduler_address)
            assert f"solved on 2 Dask workers ({cluster.scheduler_address})" in _note(notes)
            solved = plan_run(seed)
            assert solved is not None
            assert math.isclose(objective, solved[0]["objective"], rel_tol=1e-9)
            assert math.isclose(objective, plan_result(seed).objective, rel_tol=1e-6)


def test_an_unreachable_scheduler_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(workers, "DASK_TIMEOUT", 1.0)
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler"):
        _solve(multi_part_seeds()[0], dask="tcp://127.0.0.1:1")


def _subproblem(seed: int) -> tuple[Subproblem, np.ndarray]:
    """A plan's subproblem and a build halfway between its bounds."""
    from optimizer.compile import compile_instance
    from optimizer.model import formulate
    from optimizer.presolve import prune_arcs

    document = parse(copy.deepcopy(random_plan_instance(seed)))
    lp = formulate(prune_arcs(compile_instance(document.instance)))
    s = split(lp)
    y = np.round(0.5 * (lp.col_lb[s.yi] + lp.col_ub[s.yi]))
    return Subproblem(lp, s), y


def test_worker_processes_answer_part_by_part_as_this_process_does() -> None:
    here, y = _subproblem(multi_part_seeds()[0])
    there = workers.Processes([solver.d for solver in here.pool.solvers], 2)
    try:
        parts = list(range(len(here.pool.solvers)))
        a = here.pool.call("evaluate", parts, y, None)
        b = there.call("evaluate", parts, y, None)
        for mine, theirs in zip(a, b, strict=True):
            assert mine.status is theirs.status
            assert mine.z == pytest.approx(theirs.z, rel=1e-9, abs=1e-9)
            assert mine.grad is not None
            assert theirs.grad is not None
            assert np.allclose(mine.grad, theirs.grad, rtol=1e-7, atol=1e-6)
    finally:
        there.close()
        here.close()


def test_a_dead_worker_is_reported_and_benders_goes_on_here(
        monkeypatch: pytest.MonkeyPatch) -> None:
    here, y = _subproblem(multi_part_seeds()[0])
    pool = workers.Processes([solver.d for solver in here.pool.solvers], 2)
    pool.procs[0].kill()
    pool.procs[0].join()
    with pytest.raises(workers.WorkerLost, match="died"):
        pool.call("evaluate", list(range(len(here.pool.solvers))), y, None)
    assert not pool.procs  # every worker stopped
    here.close()
    # a solve whose workers fail on the third call finishes in this process, exactly
    calls = {"n": 0}
    real = workers.Processes.call

    def failing(self: workers.Processes, *args: object) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            self.close(kill=True)
            raise workers.WorkerLost("a worker process died (EOFError)")
        return real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(workers.Processes, "call", failing)
    seed = multi_part_seeds()[0]
    objective, notes = _solve(seed, workers=2)
    assert "the workers failed: a worker process died" in _note(notes)
    assert math.isclose(objective, plan_result(seed).objective, rel_tol=1e-6)


def test_ctrl_c_stops_the_worker_processes_and_raises() -> None:
    here, y = _subproblem(multi_part_seeds()[0])
    pool = workers.Processes([solver.d for solver in here.pool.solvers], 2)
    here.close()
    procs = list(pool.procs)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()

    def again() -> None:
        for _ in range(10_000):  # until the signal lands
            pool.call("evaluate", list(range(len(pool.owner))), y, None)

    try:
        with pytest.raises(KeyboardInterrupt):
            again()
    finally:
        timer.cancel()
    for proc in procs:
        proc.join(5)
        assert not proc.is_alive()
    assert not multiprocessing.active_children()


def test_parts_are_the_large_components_with_the_small_ones_dealt_among_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """By hand: three blocks of 3 x 3 (rows x columns, 6 nodes each), two single columns in a
    row of their own (2 nodes each), one column in no row (1 node). With SMALL_PART 0.5 the
    three blocks alone are large (6 >= 3): three parts; the small components go to parts by
    size, back and forth: ranks 3, 4, 5 (the two pairs, then the lone column) fall in lap 1
    at positions 0, 1, 2, which lap 1 reverses to parts 2, 1, 0."""
    block = sp.csr_matrix(np.ones((3, 3)))
    one = sp.csr_matrix(np.ones((1, 1)))
    A = sp.block_diag([block, block, block, one, one], format="csr")  # 11 rows, 11 columns
    A = sp.hstack([A, sp.csr_matrix((11, 1))], format="csr")  # column 11 in no row
    monkeypatch.setattr(subproblem, "SMALL_PART", 0.5)
    rows, cols, groups = subproblem._parts(A, 12)
    assert groups == 3
    assert list(rows) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 1]
    assert list(cols) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 1, 0]
    monkeypatch.setattr(subproblem, "MAX_CUT_GROUPS", 2)  # at most two: blocks share
    rows, cols, groups = subproblem._parts(A, 12)
    assert groups == 2
    assert len(set(rows[:3])) == len(set(rows[3:6])) == len(set(rows[6:9])) == 1


def test_balance_gives_each_part_to_the_least_loaded_worker() -> None:
    """By hand: sizes 5, 1, 4, 3 over two workers: 5 to w0, 4 to w1, 3 to w1 (4 < 5), 1 to
    w0 (5 < 7): w0 owns parts 0 and 1 (6), w1 parts 2 and 3 (7)."""
    assert workers.balance([5, 1, 4, 3], 2) == [[0, 1], [2, 3]]
    assert workers.balance([5], 3) == [[0]]  # no worker without a part

"""Every backend's statuses map into the one Status vocabulary (a table test)."""

from __future__ import annotations

import pulp
import pytest
from ortools.linear_solver import linear_solver_pb2
from ortools.linear_solver.python import model_builder_helper as mbh

from optimizer.backends import ortools_backend as ob
from optimizer.backends import pulp_backend as pb
from optimizer.backends.base import Status
from optimizer.backends.result import map_status


def test_every_model_builder_status_is_mapped() -> None:
    assert set(ob.MB_STATUS) == set(mbh.SolveStatus.__members__)


def test_every_proto_status_is_mapped() -> None:
    assert set(ob.PROTO_STATUS) == set(linear_solver_pb2.MPSolverResponseStatus.keys())


def test_every_pulp_status_is_mapped() -> None:
    assert set(pb.PULP_STATUS) == set(pulp.LpStatus.values())


@pytest.mark.parametrize(
    ("name", "expected"),
    [("OPTIMAL", Status.OPTIMAL), ("FEASIBLE", Status.FEASIBLE),
     ("INFEASIBLE", Status.INFEASIBLE), ("UNBOUNDED", Status.UNBOUNDED),
     ("ABNORMAL", Status.ERROR), ("NOT_SOLVED", Status.ERROR),
     ("INVALID_SOLVER_PARAMETERS", Status.ERROR), ("UNKNOWN_STATUS", Status.ERROR)],
)
def test_model_builder_table(name: str, expected: Status) -> None:
    assert ob.MB_STATUS[name] is expected


@pytest.mark.parametrize(
    ("status", "has_solution", "hit", "expected"),
    [
        (Status.OPTIMAL, True, False, Status.OPTIMAL),
        (Status.FEASIBLE, True, True, Status.TIME_LIMIT),  # GLOP at a tiny limit
        (Status.ERROR, False, True, Status.TIME_LIMIT),  # HiGHS UNKNOWN / PDLP NOT_SOLVED
        (Status.FEASIBLE, False, False, Status.ERROR),  # never report a missing solution
        (Status.INFEASIBLE, False, False, Status.INFEASIBLE),
        (Status.ERROR, False, False, Status.ERROR),
    ],
)
def test_ortools_time_limit_mapping(status: Status, has_solution: bool, hit: bool,
                                    expected: Status) -> None:
    assert map_status(status, has_solution, hit) is expected


@pytest.mark.parametrize(
    ("status", "sol_status", "hit", "expected"),
    [
        ("Optimal", pulp.LpSolutionOptimal, False, Status.OPTIMAL),
        ("Optimal", pulp.LpSolutionIntegerFeasible, False, Status.FEASIBLE),
        ("Optimal", pulp.LpSolutionIntegerFeasible, True, Status.TIME_LIMIT),
        ("Not Solved", pulp.LpSolutionNoSolutionFound, True, Status.TIME_LIMIT),
        ("Not Solved", pulp.LpSolutionNoSolutionFound, False, Status.ERROR),
        ("Infeasible", pulp.LpSolutionInfeasible, False, Status.INFEASIBLE),
        ("Unbounded", pulp.LpSolutionUnbounded, False, Status.UNBOUNDED),
        ("Undefined", pulp.LpSolutionNoSolutionFound, False, Status.ERROR),
    ],
)
def test_pulp_mapping(status: str, sol_status: int, hit: bool, expected: Status) -> None:
    assert pb.map_status(status, sol_status, hit) is expected


def test_auto_picks_by_problem_class_and_size_and_says_why() -> None:
    """CLP for LPs; CBC for MIPs with few integer decisions, SCIP otherwise or with --gap."""
    import dataclasses

    import numpy as np

    from optimizer.backends.base import Notice, NoticeKind, SolveOptions, option_words
    from optimizer.backends.ortools_backend import FEW_INTEGERS, default_solver
    from optimizer.cli.common import flag_words
    from optimizer.compile import compile_instance
    from optimizer.load import load
    from optimizer.model import LinearProgram, formulate
    from optimizer.report.notices import word_notices

    lp = formulate(compile_instance(load(None).instance))  # the national instance
    solver, why = default_solver(lp)
    assert solver == "clp"
    assert f"LP with {lp.n_vars:,} variables" in why

    def with_integers(n: int) -> LinearProgram:
        flags = np.zeros(lp.n_vars, dtype=bool)
        flags[:n] = True
        return dataclasses.replace(lp, integer=flags)

    few, many = with_integers(FEW_INTEGERS), with_integers(FEW_INTEGERS + 1)
    assert default_solver(few)[0] == "cbc"
    assert f"MIP with {FEW_INTEGERS} integer decisions" in default_solver(few)[1]
    assert default_solver(many)[0] == "scip"
    solver, why = default_solver(few, SolveOptions(gap=0.01))
    assert solver == "scip"
    chosen = Notice("solver", "auto", why, NoticeKind.CHOSEN)
    assert "ignores --gap" in word_notices([chosen], flag_words)[0]
    assert "ignores gap" in word_notices([chosen], option_words)[0]


def test_highs_threads_after_an_earlier_highs_solve_still_solves() -> None:
    """HiGHS fixes its thread pool at its first solve in a process; asking for another count
    afterwards made OR-Tools' HiGHS fail (NOT_SOLVED). The second request is now ignored."""
    from optimizer.backends.base import SolveOptions, Status
    from optimizer.load import load
    from optimizer.pipeline import solve_document

    doc = load("instances/tiny.yaml")
    first = solve_document(doc, SolveOptions(solver="highs")).solution
    second = solve_document(doc, SolveOptions(solver="highs", threads=2)).solution
    assert first.status is second.status is Status.OPTIMAL
    assert second.objective == first.objective == 14085.0


def test_clp_stopped_early_without_a_limit_is_an_interrupt(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """CLP and CBC catch SIGINT and answer MPSOLVER_FEASIBLE; with no time limit that can only
    be Ctrl-C, which must end the run (exit 130), not become an 'error' result."""
    from ortools.linear_solver import pywraplp

    from optimizer.backends.base import SolveOptions
    from optimizer.load import load
    from optimizer.pipeline import solve_document

    def stopped(request: object, response: object) -> None:
        response.status = linear_solver_pb2.MPSolverResponseStatus.Value(  # type: ignore[attr-defined]
            "MPSOLVER_FEASIBLE")

    monkeypatch.setattr(pywraplp.Solver, "SolveWithProto", staticmethod(stopped))
    with pytest.raises(KeyboardInterrupt):
        solve_document(load("instances/tiny.yaml"), SolveOptions(solver="clp", workers=1))


def test_glop_giving_up_is_answered_by_clp() -> None:
    """A small, badly scaled LP (a latency cost of 1.5e-5 among costs of 1 to 1000) that GLOP
    gives up on in its last period (ABNORMAL, 'needed cost perturbation too large'; found by a
    property test): the backend re-solves it with CLP, says so, and the optimum is CLP's."""
    import copy

    from optimizer.backends.base import SolveOptions, Status
    from optimizer.load import parse
    from optimizer.pipeline import solve_document

    def site(sid: str, at: list[float], cap: float, last: float) -> dict[str, object]:
        return {"id": sid, "location": at, "capacity_mw": cap, "pue": 1.0,
                "price": [1.0, 1.0, 1.0, last], "renewable_price": 1.0}

    data = {"version": 1, "periods": {"count": 4, "weight": 1.0},
            "regions": [{"id": "r0", "location": [33.0, 118.0],
                         "demand": {"a": [1.0] * 4, "b": [1.0] * 4}}],
            "sites": [site("s0", [27.0, 114.5], 1.0, 1.0), site("s1", [26.5, 117.0], 1.0, 2.0),
                      site("s2", [25.0, 105.0], 0.0, 1.0)],
            "classes": [{"id": "a", "max_latency_ms": 14.0, "unmet_penalty": 1000,
                         "latency_cost": 1.5172202791027782e-05},
                        {"id": "b", "unmet_penalty": 500}]}
    glop = solve_document(parse(copy.deepcopy(data)), SolveOptions(solver="glop")).solution
    clp = solve_document(parse(copy.deepcopy(data)), SolveOptions(solver="clp")).solution
    assert glop.status is Status.OPTIMAL
    assert glop.objective == pytest.approx(clp.objective, rel=1e-9)
    assert any("GLOP could not solve" in n.reason for n in glop.notices)

"""Every backend's statuses map into the one Status vocabulary (a table test)."""

from __future__ import annotations

import pulp
import pytest
from ortools.linear_solver import linear_solver_pb2
from ortools.linear_solver.python import model_builder as mb

from optimizer.backends import ortools_backend as ob
from optimizer.backends import pulp_backend as pb
from optimizer.backends.base import Status


def test_every_model_builder_status_is_mapped() -> None:
    assert set(ob.MB_STATUS) == set(mb.SolveStatus.__members__)


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
    assert ob.map_status(status, has_solution, hit) is expected


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

"""The guard on a built model's numbers (optimizer/model/numbers.py): a coefficient or objective
entry that is not finite or is 1e20 or more in magnitude, or a finite bound that large or a NaN
bound, is named with its block; an infinite bound (no bound) and numbers just below 1e20 pass.
Each LP is two variables ``x[0..1]`` and one row ``cap[0]``, built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.errors import InstanceError
from optimizer.load import parse_text
from optimizer.model.lp import Builder, LinearProgram
from optimizer.model.numbers import LARGEST, number_problems
from optimizer.pipeline import solve_document


def lp(cost: float = 1.0, coef: float = 1.0, col_ub: float = np.inf, row_ub: float = 10.0,
       row_lb: float = -np.inf) -> LinearProgram:
    b = Builder()
    x = b.add_vars("x", {"i": np.arange(2)}, lb=0.0, ub=col_ub)
    row = b.add_rows("cap", {"i": np.arange(1)}, lb=row_lb, ub=row_ub)
    b.add_terms(np.array([row.start, row.start]), x.ids(), np.array([1.0, coef]))
    b.add_cost("energy", x.ids(), np.array([1.0, cost]))
    return b.build()


def test_a_plain_model_has_no_problem() -> None:
    assert number_problems(lp()) == []
    assert number_problems(lp(cost=-9.9e19, coef=9.9e19, col_ub=9.9e19, row_ub=-9.9e19)) == []


@pytest.mark.parametrize(("model", "expected"), [
    (lp(cost=LARGEST), "1 objective coefficients of the x block not finite or 1e20 or more in "
                       "magnitude (the first: x[1] = 1e+20)"),
    (lp(cost=-np.inf), "1 objective coefficients of the x block not finite or 1e20 or more in "
                       "magnitude (the first: x[1] = -inf)"),
    (lp(coef=np.nan), "1 matrix coefficients in rows of the cap block not finite or 1e20 or "
                      "more in magnitude (the first: cap[0] = nan)"),
    (lp(coef=-3e25), "1 matrix coefficients in rows of the cap block not finite or 1e20 or "
                     "more in magnitude (the first: cap[0] = -3e+25)"),
    (lp(col_ub=2e20), "2 variable upper bounds of the x block not finite or 1e20 or more in "
                      "magnitude (the first: x[0] = 2e+20)"),
    (lp(row_ub=np.nan), "1 row upper bounds of the cap block not finite or 1e20 or more in "
                        "magnitude (the first: cap[0] = nan)"),
    (lp(row_lb=-1e21), "1 row lower bounds of the cap block not finite or 1e20 or more in "
                       "magnitude (the first: cap[0] = -1e+21)"),
], ids=["cost-1e20", "cost-minus-inf", "coefficient-nan", "coefficient-3e25", "col-bound-2e20",
        "row-bound-nan", "row-bound-minus-1e21"])
def test_numbers_the_solvers_take_for_infinity_are_named(model: LinearProgram,
                                                         expected: str) -> None:
    assert number_problems(model) == [expected]


def test_every_block_at_once() -> None:
    problems = number_problems(lp(cost=np.inf, coef=1e30, row_ub=1e20))
    assert [p.split(" of the ")[0] for p in problems] == [
        "1 objective coefficients", "1 row upper bounds", "1 matrix coefficients in rows"]


SOLVED = """
version: 2
periods: {count: 1, hours: 1, weight: 1.0e15}
regions:
  - {id: r, location: [30, 120], demand: {k: [1]}}
sites:
  - {id: a, location: [30, 121], capacity_mw: 5, pue: 1.0, price: 1.0e15}
classes:
  - {id: k, unmet_penalty: 1.0}
"""
PLANNED = SOLVED + """
planning:
  years:
    - {id: "2025", year: 2025, span: 1}
"""


@pytest.mark.parametrize("text", [SOLVED, PLANNED], ids=["one-case", "a-plan"])
def test_solve_document_refuses_before_the_solver_is_called(
        text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A grid MWh costs price x hours x weight = 1e15 x 1 x 1e15 = 1e30: refused naming the
    grid block and the file, in a plain solve and in a plan's stacked LP alike."""
    calls: list[str] = []
    monkeypatch.setattr("optimizer.engine.solve", lambda *a, **k: calls.append("solve"))
    with pytest.raises(InstanceError) as caught:
        solve_document(parse_text(text, "big.yaml"))
    assert calls == []
    problems = caught.value.problems
    assert {p.file for p in problems} == {"big.yaml"}
    assert any(p.message.startswith("the model has 1 objective coefficients of the grid")
               and "= 1e+30" in p.message for p in problems), problems

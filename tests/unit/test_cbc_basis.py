"""An optimal basis from PuLP's CBC binary set into a highspy model (optimizer.backends
.cbc_basis): the MPS basis format read by hand, and a tiny LP whose optimal basis is known."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.backends import cbc_basis


def test_the_mps_basis_format_is_read_as_written() -> None:
    text = ("NAME          no_name       VALUES\n"
            " XU c2             r0     1.5\n"
            " XL c0             r2     3\n"
            " UL c3                    4\n"
            "ENDATA\n")
    cols, rows = cbc_basis.read_basis(text, 5, 3)
    assert cols.tolist() == [1, 0, 1, 2, 0]  # c0, c2 basic; c3 at its upper bound
    assert rows.tolist() == [2, 1, 0]  # r0 at its upper bound, r1 basic, r2 at its lower


def _tiny() -> object:
    """min -x - 2y  s.t.  x + y <= 4 (r0),  y <= 3 (r1),  x >= 0, 0 <= y <= 10: the optimum
    x = 1, y = 3 (objective -7) has x and y basic and both rows at their upper bounds."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addRows(2, np.array([-inf, -inf]), np.array([4.0, 3.0]), 0,
              np.zeros(2, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
    h.addCols(2, np.array([-1.0, -2.0]), np.zeros(2), np.array([inf, 10.0]), 3,
              np.array([0, 1], dtype=np.int32), np.array([0, 0, 1], dtype=np.int32),
              np.ones(3))
    return h


@pytest.mark.skipif(cbc_basis.cbc_path() is None, reason="no CBC binary from PuLP here")
def test_cbcs_basis_is_optimal_for_highs_without_an_iteration() -> None:
    import highspy

    h: object = _tiny()
    assert cbc_basis.optimal_basis(h) is None
    b = h.getBasis()  # type: ignore[attr-defined]
    basic = highspy.HighsBasisStatus.kBasic
    assert [s == basic for s in b.col_status] == [True, True]
    assert [s == basic for s in b.row_status] == [False, False]
    h.setOptionValue("solver", "simplex")  # type: ignore[attr-defined]
    h.run()  # type: ignore[attr-defined]
    assert h.getInfo().simplex_iteration_count == 0  # type: ignore[attr-defined]
    assert h.getInfo().objective_function_value == pytest.approx(-7.0)  # type: ignore[attr-defined]


def test_without_the_binary_the_model_is_left_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cbc_basis, "cbc_path", lambda: None)
    h: object = _tiny()
    assert cbc_basis.optimal_basis(h) == "PuLP's CBC binary is not available"
    assert not h.getBasis().valid  # type: ignore[attr-defined]


@pytest.mark.skipif(cbc_basis.cbc_path() is None, reason="no CBC binary from PuLP here")
def test_an_infeasible_lp_gets_no_basis() -> None:
    h: object = _tiny()
    h.changeRowBounds(0, 20.0, 30.0)  # type: ignore[attr-defined]  # x + y >= 20, y <= 3...
    h.changeColBounds(0, 0.0, 5.0)  # type: ignore[attr-defined]  # ...and x <= 5
    why = cbc_basis.optimal_basis(h)
    assert why is not None
    assert why.startswith("CBC did not find it optimal")
    assert not h.getBasis().valid  # type: ignore[attr-defined]

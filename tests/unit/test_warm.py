"""WarmSolver (highspy kept between points) gives the cold pipeline's answers, warm where it can."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import optimizer.backends  # noqa: F401 - OR-Tools before highspy (see HIGHS_SHADOWED)
from optimizer.backends import highs_warm as warm_module
from optimizer.backends.base import RawResult, Status
from optimizer.backends.highs_warm import HIGHS_STATUS, WarmSolver, available, map_status
from optimizer.compile import compile_instance
from optimizer.generate import generate
from optimizer.interpret import interpret
from optimizer.load import parse
from optimizer.model import LinearProgram, formulate
from optimizer.overrides import apply_all
from optimizer.pipeline import solve_document
from optimizer.yamlio import read_yaml

TINY = Path(__file__).parents[2] / "instances" / "tiny.yaml"
REL = 1e-7


def _data(path: Path) -> Any:
    return read_yaml(path.read_text(), str(path))[0]


def _lp(data: Any, overrides: list[str]) -> tuple[Any, LinearProgram, Any]:
    document = parse(apply_all(data, overrides))
    arrays = compile_instance(document.instance)
    return document, formulate(arrays), arrays


def _check(solver: WarmSolver, data: Any, overrides: list[str]) -> tuple[RawResult, Any]:
    document, lp, arrays = _lp(data, overrides)
    raw = solver.solve(lp)
    cold = solve_document(document).solution
    assert raw.status is Status.OPTIMAL
    assert raw.solver == "highs-warm"
    assert raw.backend == "highspy"
    assert raw.duals_from == "highspy"
    assert raw.objective == pytest.approx(cold.objective, rel=REL)
    warm = interpret(arrays, lp, raw)
    assert warm.objective == pytest.approx(cold.objective, rel=REL)
    cold_prices = {s["id"]: s["capacity_price"] for s in cold.site_table}
    warm_prices = {s["id"]: s["capacity_price"] for s in warm.site_table}
    assert warm_prices.keys() == cold_prices.keys()
    for site, price in cold_prices.items():
        if price is None:
            continue
        assert warm_prices[site] == pytest.approx(price, rel=1e-6, abs=1e-6), site
    return raw, warm


def test_status_table_covers_every_highs_status() -> None:
    highspy = pytest.importorskip("highspy")
    names = set(highspy.HighsModelStatus.__members__)
    assert names <= set(HIGHS_STATUS), names - set(HIGHS_STATUS)
    assert map_status("kOptimal") is Status.OPTIMAL
    assert map_status("kInfeasible") is Status.INFEASIBLE
    assert map_status("kUnbounded") is Status.UNBOUNDED
    assert map_status("kTimeLimit") is Status.TIME_LIMIT
    assert map_status("kSolveError") is Status.ERROR
    assert map_status("no such status") is Status.ERROR


def test_tiny_warm_then_structural_change(capfd: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("highspy")
    assert available()
    data = _data(TINY)
    solver = WarmSolver()
    raw, sol = _check(solver, data, [])
    assert not solver.last_warm
    assert sol.objective == pytest.approx(14085.0, rel=REL)
    prices = {s["id"]: s["capacity_price"] for s in sol.site_table}
    assert prices["near"] == pytest.approx(683.0, rel=REL)
    assert prices["far"] == pytest.approx(0.0, abs=1e-6)

    raw, _ = _check(solver, data, ["sites[*].price*=1.1"])
    assert solver.last_warm
    assert any(n.startswith("warm: yes") for n in raw.notes), raw.notes

    # web may now reach far: the arc set (and the matrix's pattern) changes, so a cold restart
    raw, _ = _check(solver, data, ["classes[web].max_latency_ms=40"])
    assert not solver.last_warm
    assert any("structure changed" in n for n in raw.notes), raw.notes

    raw, _ = _check(solver, data, ["classes[web].max_latency_ms=40", "sites[*].price*=0.9"])
    assert solver.last_warm
    out, _err = capfd.readouterr()
    assert out == ""  # HiGHS never writes to stdout


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_price_sweep(seed: int) -> None:
    pytest.importorskip("highspy")
    data = generate(12, 5, 6, 3, seed=seed)
    solver = WarmSolver()
    for i, factor in enumerate((1.0, 0.8, 1.25, 1.05)):
        _check(solver, data, [f"sites[*].price*={factor}"])
        assert solver.last_warm == (i > 0)
    assert solver.warm_solves == 3
    assert solver.cold_solves == 1


def test_period_lps_are_kept_warm_one_solver_each() -> None:
    """A generated LP splits into periods: each period keeps its own HiGHS, and the next point
    starts every period from its previous basis, with the cold path's optimum."""
    pytest.importorskip("highspy")
    data = generate(12, 5, 6, 3, seed=8)
    solver = WarmSolver()
    _check(solver, data, [])
    raw, _ = _check(solver, data, ["sites[*].price*=1.15"])
    assert any(n.startswith("warm: yes (6 period LPs from their previous bases")
               for n in raw.notes), raw.notes
    assert any("independent period LPs" in n.reason for n in raw.notices)


@pytest.mark.parametrize(("share", "warm"), [(0.01, False), (1.0, True)])
def test_coefficient_change_is_still_right(monkeypatch: pytest.MonkeyPatch, share: float,
                                           warm: bool) -> None:
    pytest.importorskip("highspy")
    monkeypatch.setattr(warm_module, "MAX_CHANGED_COEFFS", share)
    data = generate(12, 5, 6, 3, seed=4)
    solver = WarmSolver()
    _check(solver, data, [])
    # PUE multiplies the power rows' coefficients: same pattern, other values; few changed
    # values are changed in place (warm), many make it pass the model again (cold)
    raw, _ = _check(solver, data, ["sites[*].pue*=1.1"])
    assert solver.last_warm is warm
    assert any(("coefficients changed" in n) is warm for n in raw.notes), raw.notes


def test_optimizer_warm_still_offers_the_warm_solver() -> None:
    """The studies and benchmarks import the warm solver from ``optimizer.warm``."""
    from optimizer import warm

    for name in ("WarmSolver", "available", "highs_lp", "map_status", "HIGHS_STATUS"):
        assert getattr(warm, name) is getattr(warm_module, name), name


def test_a_mip_is_solved_cold_by_the_default_backend() -> None:
    pytest.importorskip("highspy")
    data = generate(10, 4, 4, 2, seed=3)
    data["sites"][0]["open_cost"] = 1e6  # an integer decision
    document, lp, _ = _lp(data, [])
    assert lp.is_mip
    raw = WarmSolver().solve(lp)
    cold = solve_document(document).raw
    assert (raw.backend, raw.solver) == (cold.backend, cold.solver) == ("ortools", "cbc")
    assert raw.objective == pytest.approx(cold.objective, rel=REL)
    assert raw.duals_from == "clp, integers fixed"
    assert raw.notes[-1] == "warm: no (a MIP: solved cold by the default backend)"

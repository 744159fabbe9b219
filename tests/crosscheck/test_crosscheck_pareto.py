"""The cost-water and cost-carbon Pareto fronts of random version-2 plans against an
epsilon-constraint solve of the element-by-element reference (``reference_plan.solve_plan``
with ``limits`` and ``minimize``: DESIGN.md §7-§8 read alone, no code shared with
``optimizer``).

Water and carbon here are the horizon's expected totals, ``sum_c span x probability x W_c``
(the top-level ``totals.water_m3`` and ``totals.carbon_t`` of §7); cost is the discounted
objective. Every case keeps its own constraints (a case's ``policy.carbon_cap_t`` too): the
front's cap is one more row, on the total. Service is held as the study holds it: expected
unmet energy at most the cost optimum's (plus 1e-9 of the demand), the level of the study's
own least-cost point (checked against the reference's cost optimum to 1e-6 of the demand: the
lexicographic slack moves it a little, and a total at its end moves with it). Each step of the
reference is solved on its own (``total``: ``water_m3`` or ``carbon_t``):

    min cost end:    min cost (the study's cost); min total with cost <= the study's cost
    min total end:   min total (the study's); min cost with total <= the study's total
    each cap:        min cost with total <= the study's cap

(The second step of each end is given the study's own value of the first objective, which it
held within a relative 1e-7 of its optimum: near an end the other objective's price is close
to 0 or very high, and so very sensitive to which level within that slack is held.)

Seeds 0 and 4: discounting (3% and 10%), spans 4 and 2 or 3, 1 and 1, two or three years,
scenarios whose WUE differs (dry: x 1.3) and whose prices differ (shock), contingencies (seed
4): the weights the cost and the totals put on a case differ, so a wrong weighting moves the
front, and a cap per case a year (``policy.carbon_cap_t``, what carbon's caps went through
before) is another front. Each as its MIP (build decisions) and as an LP (``_as_lp``: every
site existing).
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from generate_plan import random_plan_instance
from reference_plan import PlanResult, solve_plan
from test_reference_plan import _as_lp

from optimizer.backends.base import SolveOptions
from optimizer.records.results import FrontPoint, ParetoResult, Second, second_value
from optimizer.studies.base import prepare_base
from optimizer.studies.pareto import run_pareto

SEEDS = (0, 4)
REL = 1e-6
HOLD = 1e-7  # the study's lexicographic slack (records.inputs.LEX_TOL), written out here
SPAN = 0.005  # the front must span at least 0.5% of its total: a front, not a point
TOTALS: dict[Second, str] = {"water": "water_m3", "carbon": "carbon_t"}


def _front(data: dict[str, Any], tmp_path: Path, points: int,
           second: Second = "water") -> ParetoResult:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return run_pareto(prepare_base(path), second, points, SolveOptions(), tmp_path / "out")


def _cap_price(point: FrontPoint, second: Second) -> float | None:
    k = point.result.kpis
    assert k is not None
    assert k.goal is not None
    return k.goal.water_cap_price if second == "water" else k.goal.carbon_bound_price


def _ref(data: dict[str, Any], **kwargs: Any) -> PlanResult:
    result = solve_plan(copy.deepcopy(data), **kwargs)
    assert result.status == "Optimal", kwargs
    assert result.objective is not None
    return result


def _held(pareto: ParetoResult, plain: PlanResult) -> dict[str, float]:
    """The limit on expected unmet energy the study holds: its least-cost point's (which must
    be the reference's cost optimum's within 1e-6 of the demand), plus 1e-9 of the demand."""
    k = pareto.results[0].result.kpis
    assert k is not None
    demand = plain.totals["unmet_mwh"] + plain.totals["served_mwh"]
    assert k.unmet_mwh == pytest.approx(plain.totals["unmet_mwh"], rel=0.0, abs=REL * demand)
    return {"unmet_mwh": k.unmet_mwh + 1e-9 * max(k.unmet_mwh, demand, 1.0)}


def _close(a: float | None, b: float | None, scale: float) -> bool:
    assert a is not None
    assert b is not None
    return math.isclose(a, b, rel_tol=0.0, abs_tol=REL * max(1.0, abs(scale)))


def test_the_references_epsilon_steps_by_hand() -> None:
    """Two sites at the region's place, 10 MWh to serve (penalty 1,000 CNY/MWh), one year of
    span 2: wet (50 CNY/MWh, 1 m3/MWh) and dry (80 CNY/MWh, no water). Least cost 2 x 500 at
    2 x 10 m3; water capped at 10 m3: half moves, 2 x (250 + 400) = 1,300 CNY; the least water
    serving everything is 0 m3 at 1,600 CNY; with cost at most 1,300, 10 m3."""
    at = [30.0, 110.0]
    data = {"version": 2, "periods": {"count": 1},
            "regions": [{"id": "r", "location": at, "demand": {"k": 10}}],
            "sites": [{"id": sid, "location": at, "capacity_mw": 10, "pue": 1.0,
                       "price": price, "wue": wue} for sid, price, wue in
                      (("wet", 50.0, 1.0), ("dry", 80.0, 0.0))],
            "classes": [{"id": "k", "unmet_penalty": 1000}],
            "planning": {"years": [{"id": "y", "year": 2030, "span": 2}]}}
    plain = _ref(data)
    assert (plain.objective, plain.totals["water_m3"]) == pytest.approx((1000.0, 20.0))
    capped = _ref(data, limits={"water_m3": 10.0})
    assert (capped.objective, capped.totals["water_m3"]) == pytest.approx((1300.0, 10.0))
    served = _ref(data, limits={"unmet_mwh": 0.0}, minimize="water_m3")
    assert (served.objective, served.totals["water_m3"]) == pytest.approx((1600.0, 0.0))
    dearer = _ref(data, limits={"cost": 1300.0}, minimize="water_m3")
    assert dearer.totals["water_m3"] == pytest.approx(10.0)


def test_the_references_carbon_limit_by_hand() -> None:
    """The same two sites as carbon: dirty (50 CNY/MWh, 1 t/MWh) and clean (80 CNY/MWh, 0 t),
    two years of span 1 at a discount rate of 1 (D = 1 and 0.5). Least cost 500 + 250 = 750 CNY
    at 20 t; the horizon's carbon at most 15 t: 5 of 2031's 10 t, the cheapest (15 CNY/t against
    2030's 30), 750 + 75 = 825 CNY. (Carbon weighted by D instead would cost 30 CNY per weighted
    t in either year, and 15 t would bind nothing.) A cap of 20/3 t a year on each case
    (``policy.carbon_cap_t``) is another model: 750 + 100 + 50 = 900 CNY at 40/3 t."""
    at = [30.0, 110.0]
    data: dict[str, Any] = {
        "version": 2, "periods": {"count": 1},
        "regions": [{"id": "r", "location": at, "demand": {"k": 10}}],
        "sites": [{"id": sid, "location": at, "capacity_mw": 10, "pue": 1.0, "price": price,
                   "carbon_intensity": ci} for sid, price, ci in
                  (("dirty", 50.0, 1.0), ("clean", 80.0, 0.0))],
        "classes": [{"id": "k", "unmet_penalty": 1000}],
        "planning": {"discount_rate": 1.0, "years": [{"id": "a", "year": 2030},
                                                     {"id": "b", "year": 2031}]}}
    plain = _ref(data)
    assert (plain.objective, plain.totals["carbon_t"]) == pytest.approx((750.0, 20.0))
    capped = _ref(data, limits={"carbon_t": 15.0})
    assert (capped.objective, capped.totals["carbon_t"]) == pytest.approx((825.0, 15.0))
    data["policy"] = {"carbon_cap_t": 20 / 3}
    per_case = _ref(data)
    assert (per_case.objective, per_case.totals["carbon_t"]) == pytest.approx((900.0, 40 / 3))


@pytest.mark.parametrize("second", ["water", "carbon"])
@pytest.mark.parametrize("lp", [False, True], ids=["mip", "lp"])
@pytest.mark.parametrize("seed", SEEDS)
def test_front_agrees_with_the_reference(seed: int, lp: bool, second: Second,
                                         tmp_path: Path) -> None:
    data = random_plan_instance(seed)
    if lp:
        data = _as_lp(data)
    total = TOTALS[second]
    pareto = _front(data, tmp_path, 2, second)
    assert [p.result.status for p in pareto.results] == ["optimal"] * 4
    low_cost, low_second, *caps = pareto.results

    def cost(i: int) -> float:
        k = pareto.results[i].result.kpis
        assert k is not None
        return k.cost

    def value(i: int) -> float:
        got = second_value(pareto.results[i].result, second)
        assert got is not None
        return got

    plain = _ref(data)
    assert plain.objective is not None
    held = _held(pareto, plain)
    # the min-cost end: the cost optimum, the least total at the study's cost
    assert _close(cost(0), plain.objective, plain.objective)
    assert cost(0) <= plain.objective * (1 + 2 * HOLD)
    hi = _ref(data, limits={**held, "cost": cost(0)}, minimize=total).totals[total]
    assert _close(value(0), hi, hi)
    # the min-total end, serving as much as at the cost optimum; the least cost at its total
    least = _ref(data, limits=held, minimize=total).totals[total]
    assert hi - least > SPAN * hi  # the front is one
    assert _close(value(1), least, hi)
    assert value(1) <= least * (1 + 2 * HOLD)
    then = _ref(data, limits={**held, total: value(1)})
    assert _close(cost(1), then.objective, then.objective)
    assert cost(1) > cost(0) * (1 + 1e-4)
    # each cap: the least cost with at most that much of the total
    for i, point in enumerate(caps, start=2):
        assert point.cap is not None
        assert least < point.cap < hi
        capped = _ref(data, limits={**held, total: point.cap})
        assert _close(cost(i), capped.objective, capped.objective), point.role
        assert value(i) <= point.cap * (1 + 1e-9)


@pytest.mark.parametrize("second", ["water", "carbon"])
@pytest.mark.parametrize("seed", SEEDS)
def test_implied_price_is_the_references_slope(seed: int, second: Second,
                                               tmp_path: Path) -> None:
    """An LP: the cap's shadow price (discounted CNY per m3 of the horizon's expected water,
    or per t of its expected carbon) lies between the reference's slopes of least cost in the
    cap just below and just above it (a subgradient of a convex function; equal to both away
    from a breakpoint)."""
    data = _as_lp(random_plan_instance(seed))
    total = TOTALS[second]
    pareto = _front(data, tmp_path, 1, second)
    (point,) = pareto.results[2:]
    assert point.cap is not None
    price = _cap_price(point, second)
    assert price is not None
    held = _held(pareto, _ref(data))
    ends = [second_value(p.result, second) or 0.0 for p in pareto.results[:2]]
    step = 1e-3 * (ends[0] - ends[1])
    below, at, above = (_ref(data, limits={**held, total: point.cap + d},
                             solver="highs").objective or 0.0 for d in (-step, 0.0, step))
    tighter, looser = (below - at) / step, (at - above) / step
    assert 0 < looser <= tighter * (1 + 1e-6)
    assert looser * (1 - 1e-4) <= price <= tighter * (1 + 1e-4)

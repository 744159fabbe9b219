"""Properties every optimum must have, on random small instances (hypothesis).

- less capacity never lowers the cost (the feasible set only shrinks);
- scaling every price by k scales the optimum by k (the LP's objective is linear in prices);
- a higher carbon price never raises emissions: for optima x1 at p1 and x2 at p2 > p1,
  c(x1) + p1 e(x1) <= c(x2) + p1 e(x2) and c(x2) + p2 e(x2) <= c(x1) + p2 e(x1); adding them,
  (p2 - p1)(e(x2) - e(x1)) <= 0, whichever optimum each solver returns.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.backends.base import SolveOptions, Status
from optimizer.interpret import Solution
from optimizer.load import parse
from optimizer.pipeline import solve_document

REL = 1e-6
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

positive = st.floats(min_value=1.0, max_value=100.0, allow_nan=False)


@st.composite
def instances(draw: st.DrawFn) -> dict[str, Any]:
    T = draw(st.integers(1, 4))
    n_regions, n_sites = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    series = st.lists(positive, min_size=T, max_size=T)
    regions = [
        {"id": f"r{i}", "location": [draw(st.floats(25, 40)), draw(st.floats(105, 122))],
         "demand": {"a": draw(series), "b": draw(series)}}
        for i in range(n_regions)
    ]
    sites = [
        {"id": f"s{j}", "location": [draw(st.floats(25, 40)), draw(st.floats(105, 122))],
         "capacity_mw": draw(st.floats(0, 300)), "pue": draw(st.floats(1.0, 1.6)),
         "price": draw(series), "carbon_intensity": draw(st.floats(0.0, 1.0)),
         "renewable_mw": draw(st.floats(0.0, 50.0)), "renewable_price": draw(positive)}
        for j in range(n_sites)
    ]
    return {
        "version": 1, "periods": {"count": T, "weight": draw(st.floats(0.5, 10))},
        "regions": regions, "sites": sites,
        "classes": [
            {"id": "a", "max_latency_ms": draw(st.floats(5, 40)), "unmet_penalty": 1000,
             "latency_cost": draw(st.floats(0, 2)), "data_gb_per_mwh": draw(st.floats(0, 5))},
            {"id": "b", "unmet_penalty": 500},
        ],
        "network": {"transfer": {"per_gb": draw(st.floats(0, 0.5)),
                                 "per_gb_per_1000km": draw(st.floats(0, 0.5))}},
        "policy": {"carbon_price": draw(st.floats(0, 200))},
    }


def solve(data: dict[str, Any]) -> Solution:
    sol = solve_document(parse(copy.deepcopy(data)), SolveOptions(solver="glop")).solution
    assert sol.status is Status.OPTIMAL
    assert sol.objective is not None
    return sol


@SETTINGS
@given(instances(), st.floats(0.0, 1.0))
def test_less_capacity_never_lowers_cost(data: dict[str, Any], factor: float) -> None:
    before = solve(data).objective
    for site in data["sites"]:
        site["capacity_mw"] *= factor
    after = solve(data).objective
    assert before is not None
    assert after is not None
    assert after >= before - REL * max(1.0, abs(before))


@SETTINGS
@given(instances(), st.floats(0.1, 10.0))
def test_scaling_prices_scales_the_optimum(data: dict[str, Any], k: float) -> None:
    before = solve(data).objective
    for site in data["sites"]:
        site["price"] = [p * k for p in site["price"]]
        site["renewable_price"] *= k
    for klass in data["classes"]:
        klass["unmet_penalty"] *= k
        klass["latency_cost"] = klass.get("latency_cost", 0) * k
    data["network"]["transfer"] = {key: v * k for key, v in data["network"]["transfer"].items()}
    data["policy"]["carbon_price"] *= k
    after = solve(data).objective
    assert before is not None
    assert after == pytest.approx(k * before, rel=REL, abs=1e-6)


@SETTINGS
@given(instances(), st.floats(1.0, 500.0))
def test_higher_carbon_price_never_raises_emissions(data: dict[str, Any], extra: float) -> None:
    before = solve(data).totals["carbon_t"]
    data["policy"]["carbon_price"] += extra
    after = solve(data).totals["carbon_t"]
    assert after <= before + 1e-6 * max(1.0, before)

"""One hand-derived case per constraint family and cost term (DESIGN.md §2).

Every case has one region and one period of 1 hour with weight 1 (so a[t] = 1) unless it says
otherwise; the optimum is derived in each test's docstring.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from optimizer.backends.base import SolveOptions, Status
from optimizer.errors import InstanceError
from optimizer.interpret import Solution
from optimizer.load import parse
from optimizer.pipeline import solve_document

REL = 1e-7


def base() -> dict[str, Any]:
    return {
        "version": 1,
        "name": "case",
        "periods": {"count": 1},
        "regions": [{"id": "r", "location": [30.0, 120.0], "demand": {"k": 10}}],
        "sites": [{"id": "s", "location": [30.0, 120.0], "capacity_mw": 100, "pue": 1.0,
                   "price": 50}],
        "classes": [{"id": "k", "unmet_penalty": 1000}],
    }


def solve(data: dict[str, Any], solver: str = "glop") -> Solution:
    sol = solve_document(parse(copy.deepcopy(data)), SolveOptions(solver=solver)).solution
    assert sol.status is Status.OPTIMAL
    return sol


def test_demand_served_at_energy_cost() -> None:
    """10 MW at PUE 1 and 50 CNY/MWh: 500."""
    sol = solve(base())
    assert sol.objective == pytest.approx(500.0, rel=REL)
    assert sol.costs["energy"] == pytest.approx(500.0, rel=REL)


def test_capacity_binds_and_prices_unmet() -> None:
    """Capacity 4: serve 4 at 50 (200), 6 unmet at 1000 (6000) = 6200.
    Capacity price = 1000 - 50 = 950 (one more MW replaces unmet by served)."""
    data = base()
    data["sites"][0]["capacity_mw"] = 4
    sol = solve(data)
    assert sol.objective == pytest.approx(6200.0, rel=REL)
    assert sol.costs["unmet"] == pytest.approx(6000.0, rel=REL)
    assert sol.site_table[0]["capacity_price"] == pytest.approx(950.0, rel=REL)
    assert sol.totals["unmet_mwh"] == pytest.approx(6.0)


def test_hard_demand_beyond_all_capacity_is_refused_before_solving() -> None:
    """unmet_penalty null: demand 10 > all the capacity there is (4): a clear error."""
    data = base()
    data["sites"][0]["capacity_mw"] = 4
    data["classes"][0]["unmet_penalty"] = None
    with pytest.raises(InstanceError, match="hard demand cannot be met: in period t00 it needs "
                                            "10.0 MW but all sites together have at most 4.0"):
        parse(data)


def test_hard_demand_infeasible_when_reachable_capacity_short() -> None:
    """Total capacity 104 >= 10 passes the obvious check, but the class's 3 ms limit leaves only
    the 4 MW near site (the far one is 3.67 ms away): the LP is infeasible."""
    data = base()
    data["sites"][0]["capacity_mw"] = 4
    data["sites"].append({"id": "far", "location": [31.0, 120.0], "capacity_mw": 100,
                          "pue": 1.0, "price": 20})
    data["classes"][0].update(unmet_penalty=None, max_latency_ms=3)
    sol = solve_document(parse(data), SolveOptions(solver="glop")).solution
    assert sol.status is Status.INFEASIBLE
    assert sol.objective is None


def test_pue_scales_grid_power() -> None:
    """PUE 1.2: 12 MW of grid power at 50 = 600."""
    data = base()
    data["sites"][0]["pue"] = 1.2
    sol = solve(data)
    assert sol.objective == pytest.approx(600.0, rel=REL)
    assert sol.totals["facility_energy_mwh"] == pytest.approx(12.0)


def test_renewable_used_up_to_availability() -> None:
    """PUE 1.2 (12 MW facility), 5 MW renewable at 10: 5*10 + 7*50 = 400."""
    data = base()
    data["sites"][0].update(pue=1.2, renewable_mw=5, renewable_price=10)
    sol = solve(data)
    assert sol.objective == pytest.approx(400.0, rel=REL)
    assert sol.costs["renewable"] == pytest.approx(50.0, rel=REL)
    assert sol.totals["renewable_energy_mwh"] == pytest.approx(5.0)


def test_power_cap_limits_it_load() -> None:
    """PUE 1.2 and power cap 6 MW: IT at most 5 MW. 5 served (6 MW grid: 300),
    5 unmet (5000) = 5300."""
    data = base()
    data["sites"][0].update(pue=1.2, power_cap_mw=6)
    sol = solve(data)
    assert sol.objective == pytest.approx(5300.0, rel=REL)


def test_period_hours_and_weight_scale_everything() -> None:
    """Period of 2 h occurring 10 times a year: a = 20; 500 * 20 = 10000."""
    data = base()
    data["periods"] = [{"id": "p", "hours": 2, "weight": 10}]
    sol = solve(data)
    assert sol.objective == pytest.approx(10000.0, rel=REL)
    assert sol.totals["served_mwh"] == pytest.approx(200.0)


def test_carbon_price_on_grid_power() -> None:
    """ci 0.5 t/MWh, carbon price 20: 10 MWh grid -> 5 t -> 100; total 600."""
    data = base()
    data["sites"][0]["carbon_intensity"] = 0.5
    data["policy"] = {"carbon_price": 20}
    sol = solve(data)
    assert sol.objective == pytest.approx(600.0, rel=REL)
    assert sol.costs["carbon"] == pytest.approx(100.0, rel=REL)
    assert sol.totals["carbon_t"] == pytest.approx(5.0)


def test_transfer_and_latency_costs_from_explicit_pairs() -> None:
    """Explicit latency 5 ms at 2 CNY/ms/MWh: 100; transfer 0.5 CNY/GB x 4 GB/MWh: 20.
    Total 500 + 100 + 20 = 620."""
    data = base()
    data["classes"][0].update(latency_cost=2, data_gb_per_mwh=4)
    data["network"] = {"latency": {"pairs": [{"region": "r", "site": "s", "ms": 5}]},
                       "transfer": {"pairs": [{"region": "r", "site": "s", "per_gb": 0.5}]}}
    sol = solve(data)
    assert sol.costs["latency"] == pytest.approx(100.0, rel=REL)
    assert sol.costs["transfer"] == pytest.approx(20.0, rel=REL)
    assert sol.objective == pytest.approx(620.0, rel=REL)


def test_transfer_cost_formula_with_distance() -> None:
    """Site 1 degree of latitude north: 6371*pi/180 = 111.19 km.
    transfer = 0.1 + 0.2 * 111.19/1000 = 0.122239 CNY/GB; x 10 GB/MWh x 10 MWh = 12.2239."""
    data = base()
    data["sites"][0]["location"] = [31.0, 120.0]
    data["classes"][0]["data_gb_per_mwh"] = 10
    data["network"] = {"transfer": {"per_gb": 0.1, "per_gb_per_1000km": 0.2}}
    km = 6371.0 * 3.141592653589793 / 180
    sol = solve(data)
    assert sol.costs["transfer"] == pytest.approx(10 * 10 * (0.1 + 0.2 * km / 1000), rel=1e-9)


def test_latency_limit_prunes_the_cheap_far_site() -> None:
    """A far site at 20 CNY/MWh is 1 degree north: latency 2 + 1.5*111.19/100 = 3.67 ms.
    With max_latency_ms 3 only the near site (2 ms, 50 CNY/MWh) serves: 500.
    With max_latency_ms 4 the far site serves: 200."""
    data = base()
    data["sites"].append({"id": "far", "location": [31.0, 120.0], "capacity_mw": 100,
                          "pue": 1.0, "price": 20})
    data["classes"][0]["max_latency_ms"] = 3
    assert solve(data).objective == pytest.approx(500.0, rel=REL)
    data["classes"][0]["max_latency_ms"] = 4
    assert solve(data).objective == pytest.approx(200.0, rel=REL)


def test_allowed_sites_restrict_service() -> None:
    """The cheap site (20) is not allowed for the class: served at 50."""
    data = base()
    data["sites"].append({"id": "cheap", "location": [30.0, 120.0], "capacity_mw": 100,
                          "pue": 1.0, "price": 20})
    data["classes"][0]["allowed_sites"] = ["s"]
    assert solve(data).objective == pytest.approx(500.0, rel=REL)


def test_unreachable_soft_demand_is_unmet_with_a_warning() -> None:
    """max_latency 1 ms < base 2 ms: no arc; all 10 MW unmet at 1000 = 10000."""
    data = base()
    data["classes"][0]["max_latency_ms"] = 1
    doc = parse(data)
    assert any("can reach no site" in w.message for w in doc.warnings)
    sol = solve_document(doc, SolveOptions(solver="glop")).solution
    assert sol.objective == pytest.approx(10000.0, rel=REL)
    assert sol.solver["variables"] > 0


def test_time_of_use_shifts_nothing_without_deferral_but_prices_each_period() -> None:
    """Two periods, demand [10, 0] and price [30, 90] via profiles scaled to a mean:
    demand {profile: p, mean: 5} with p = [1, 0] gives [10, 0]; cost 10*30 = 300."""
    data = base()
    data["periods"] = {"count": 2}
    data["profiles"] = {"p": [1, 0]}
    data["regions"][0]["demand"] = {"k": {"profile": "p", "mean": 5}}
    data["sites"][0]["price"] = [30, 90]
    assert solve(data).objective == pytest.approx(300.0, rel=REL)

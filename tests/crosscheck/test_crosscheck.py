"""The vectorised model against an element-by-element PuLP model written from DESIGN.md.

``reference.py`` reads the instance dict and builds DESIGN.md §2 one variable and one
constraint at a time, sharing no code with ``optimizer``; ``generate.py`` draws small random
instances that, over ``SEEDS``, use every v1 feature the package formulates (checked by
``test_generated_instances_cover_every_feature``). For every seed the package (GLOP) and the
reference (CBC) must agree on the optimal objective and on every cost category, and the
package's flows must reproduce its costs and totals and respect demand and capacity.

Cost categories are compared, not only objectives. Alternative optima with different category
splits need exactly equal costs along different paths; the one systematic case, renewable price
equal to grid price plus carbon, is kept out by the generator (see ``generate.py``) and checked
on every seed by ``test_flows_reproduce_costs_and_totals``. Any other tie would need equal sums
of unrelated random numbers.

``reference`` and ``generate`` are imported as top-level modules (pytest puts this directory,
which has no ``__init__.py``, on ``sys.path``); ``reference`` imports PuLP only when it solves.
"""

from __future__ import annotations

import functools
import math
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from generate import features, outcome_features, random_instance
from reference import (
    CATEGORIES,
    Data,
    Result,
    expand_series,
    haversine_km,
    read_instance,
    read_periods,
    reference_costs,
    solve,
    solve_full,
)

from optimizer.backends.base import SolveOptions, Status
from optimizer.interpret import Solution
from optimizer.load import parse
from optimizer.pipeline import solve_document

REL_TOL = 1e-6
SEEDS = range(48)
BACKEND_SEEDS = range(0, 48, 6)
GLOP = SolveOptions(backend="ortools", solver="glop")
# instances/tiny.yaml, inlined so that this check does not move with that file
TINY = {
    "version": 1,
    "periods": {"count": 2, "hours": 1, "weight": 1},
    "regions": [
        {"id": "east", "location": [31.0, 121.0], "demand": {"web": [10, 20], "batch": 30}}
    ],
    "sites": [
        {"id": "near", "location": [31.0, 121.0], "capacity_mw": 15, "pue": 1.5,
         "price": [100, 200], "carbon_intensity": 1.0},
        {"id": "far", "location": [38.0, 105.0], "capacity_mw": 100, "pue": 1.0, "price": 50,
         "carbon_intensity": 0.5, "renewable_mw": 10, "renewable_price": 20},
    ],
    "classes": [
        {"id": "web", "max_latency_ms": 10, "unmet_penalty": 1000, "latency_cost": 1},
        {"id": "batch", "data_gb_per_mwh": 100},
    ],
    "network": {"transfer": {"per_gb": 0.01}},
    "policy": {"carbon_price": 10},
}

REQUIRED_FEATURES = frozenset(
    {
        "periods_short",
        "periods_list",
        "hours_mixed",
        "weights_mixed",
        "hours_not_1",
        "weights_not_1",
        "profile_mean",
        "profile_max",
        "series_number",
        "series_list",
        "demand_missing",
        "pue_series",
        "price_tou",
        "carbon_series",
        "renewable_series",
        "renewable_price",
        "power_cap",
        "power_cap_binding",
        "latency_prunes",
        "unreachable_demand",
        "allowed_sites",
        "latency_pairs",
        "transfer_pairs",
        "latency_cost",
        "transfer_cost",
        "hard_demand",
        "unmet_reachable",
        "carbon_price",
    }
)


@functools.cache
def reference_result(seed: int) -> Result:
    return solve_full(random_instance(seed))


@functools.cache
def package_solution(seed: int, options: SolveOptions = GLOP) -> Solution:
    return solve_document(parse(random_instance(seed)), options).solution


def _close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=REL_TOL * max(1.0, abs(scale)))


# --------------------------------------------------------------------------------------------
# The reference itself, on cases derived by hand
# --------------------------------------------------------------------------------------------


def test_reference_solves_tiny_to_its_hand_derived_optimum() -> None:
    """The tiny instance (instances/tiny.yaml): a[t] = 1 in both periods.

    far costs 20/MW (renewable, first 10 MW), then 50 + 10*0.5 = 55/MW; near costs
    1.5*(100 + 10) = 165 in t0 and 1.5*(200 + 10) = 315 in t1. web (limit 10 ms) reaches only
    near (2 ms, latency cost 2/MWh); batch pays transfer 100 GB * 0.01 = 1/MWh anywhere and goes
    to far. t0: web 10 at near (energy 1500, carbon 150, latency 20). t1: web 15 at near (cap;
    energy 4500, carbon 225, latency 30), 5 unmet at 1000 (5000). batch 30 at far each period:
    renewable 10*20, grid 20*50, carbon 20*0.5*10, transfer 30 (x2 periods).
    """
    status, objective, costs = solve(TINY)
    assert status == "Optimal"
    assert objective == pytest.approx(14085.0, rel=REL_TOL)
    expected = {"energy": 8000.0, "renewable": 400.0, "carbon": 575.0, "transfer": 60.0,
                "latency": 50.0, "unmet": 5000.0}
    assert costs == pytest.approx(expected, rel=REL_TOL)


def test_reference_reads_series_periods_and_distances() -> None:
    profiles = {"shape": [1.0, 3.0]}
    assert expand_series({"profile": "shape", "mean": 10}, 2, profiles) == [5.0, 15.0]
    assert expand_series({"profile": "shape", "max": 30}, 2, profiles) == [10.0, 30.0]
    assert expand_series(4, 2, profiles) == [4.0, 4.0]
    assert read_periods({"count": 3, "weight": 365}) == (
        ["t00", "t01", "t02"], [1.0, 1.0, 1.0], [365.0, 365.0, 365.0]
    )
    assert read_periods([{"id": "a", "hours": 2}, {"id": "b", "weight": 5}]) == (
        ["a", "b"], [2.0, 1.0], [1.0, 5.0]
    )
    # one degree along a meridian is R * pi / 180
    assert haversine_km((30.0, 110.0), (31.0, 110.0)) == pytest.approx(6371.0 * math.pi / 180)


def test_reference_prunes_arcs_by_latency_and_residency() -> None:
    """s0 is at the region (2 ms); s1 10 degrees east at 30N (963 km, 16.44 ms); s2 10 degrees
    north (1112 km, 18.7 ms). Limit 17 ms: s0 and s1. Residency [s2]: s2 only. Both: none.
    With an explicit 5 ms to s2 and transfer pair, those replace the formulas for that pair."""
    site = {"capacity_mw": 1, "pue": 1.0, "price": 1}
    data: dict[str, Any] = {
        "version": 1,
        "periods": {"count": 1},
        "regions": [{"id": "r0", "location": [30.0, 110.0], "demand": {}}],
        "sites": [{"id": "s0", "location": [30.0, 110.0], **site},
                  {"id": "s1", "location": [30.0, 120.0], **site},
                  {"id": "s2", "location": [40.0, 110.0], **site}],
        "classes": [{"id": "near", "max_latency_ms": 17},
                    {"id": "resident", "allowed_sites": ["s2"]},
                    {"id": "both", "max_latency_ms": 17, "allowed_sites": ["s2"]}],
        "network": {"transfer": {"per_gb": 0.5, "per_gb_per_1000km": 0.1}},
    }
    d = read_instance(data)
    assert d.latency[0] == pytest.approx([2.0, 16.44, 18.68], abs=0.01)
    assert [[s for s in range(3) if d.arc(0, s, k)] for k in range(3)] == [[0, 1], [2], []]
    assert d.transfer[0] == pytest.approx([0.5, 0.5962, 0.6112], abs=1e-4)
    data["network"]["latency"] = {"pairs": [{"region": "r0", "site": "s2", "ms": 5}]}
    data["network"]["transfer"]["pairs"] = [{"region": "r0", "site": "s2", "per_gb": 0.25}]
    d = read_instance(data)
    assert d.latency[0][2] == 5.0
    assert [[s for s in range(3) if d.arc(0, s, k)] for k in range(3)] == [[0, 1, 2], [2], [2]]
    assert d.transfer[0][2] == 0.25
    assert d.transfer[0][1] == pytest.approx(0.5962, abs=1e-4)


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_instance_is_valid_small_and_in_scope(seed: int) -> None:
    data = random_instance(seed)
    assert data == random_instance(seed)  # reproducible
    document = parse(data)  # raises InstanceError if invalid
    assert document.instance.version == 1
    assert 2 <= len(data["regions"]) <= 5
    assert 2 <= len(data["sites"]) <= 4
    assert 1 <= len(data["classes"]) <= 4
    assert 1 <= len(read_periods(data["periods"])[0]) <= 6
    ids = [x["id"] for key in ("regions", "sites", "classes") for x in data[key]]
    if isinstance(data["periods"], list):
        ids += [p["id"] for p in data["periods"]]
    assert len(ids) == len(set(ids))
    for kind in ("latency", "transfer"):
        pairs = data.get("network", {}).get(kind, {}).get("pairs", [])
        keys = [(p["region"], p["site"]) for p in pairs]
        assert len(keys) == len(set(keys))
    for klass in data["classes"]:
        assert klass.get("max_delay_periods", 0) == 0
        assert klass.get("assignment", "split") == "split"
    for site in data["sites"]:
        assert "open_cost" not in site
        assert "expansions" not in site
    for place in (*data["regions"], *data["sites"]):
        assert 20 <= place["location"][0] <= 45
        assert 100 <= place["location"][1] <= 125
    assert "corridors" not in data.get("network", {})
    assert set(data.get("policy", {})) <= {"carbon_price"}
    # hard demand only where clearly feasible: the reference finds an optimum
    assert reference_result(seed).status == "Optimal"


def test_reference_does_not_import_pulp_on_import() -> None:
    """See ``reference._import_pulp``: PuLP imported before OR-Tools breaks OR-Tools' HiGHS."""
    code = "import sys, generate, reference; sys.exit('pulp' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent, check=False)
    assert done.returncode == 0


def test_generated_instances_cover_every_feature() -> None:
    seen: Counter[str] = Counter()
    for seed in SEEDS:
        seen.update(features(random_instance(seed)) | outcome_features(reference_result(seed)))
    missing = REQUIRED_FEATURES - set(seen)
    assert not missing, f"features never generated over {len(SEEDS)} seeds: {sorted(missing)}"


# --------------------------------------------------------------------------------------------
# The cross-check
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_package_agrees_with_reference(seed: int) -> None:
    ref = reference_result(seed)
    sol = package_solution(seed)
    assert ref.status == "Optimal"
    assert sol.status is Status.OPTIMAL
    assert ref.objective is not None
    assert sol.objective is not None
    assert sol.objective == pytest.approx(ref.objective, rel=REL_TOL)
    for category in CATEGORIES:
        assert _close(sol.costs[category], ref.costs[category], ref.objective), category
    assert sol.costs["expansion"] == 0.0
    assert sol.costs["opening"] == 0.0
    assert sum(sol.costs.values()) == pytest.approx(sol.objective, rel=REL_TOL)


@pytest.mark.parametrize(
    "options",
    [SolveOptions(), SolveOptions(backend="pulp", solver="cbc")],
    ids=["default-clp", "pulp-cbc"],
)
@pytest.mark.parametrize("seed", BACKEND_SEEDS)
def test_other_solvers_agree_with_reference(seed: int, options: SolveOptions) -> None:
    ref = reference_result(seed)
    sol = package_solution(seed, options)
    assert sol.status is Status.OPTIMAL
    assert ref.objective is not None
    assert sol.objective == pytest.approx(ref.objective, rel=REL_TOL)
    for category in CATEGORIES:
        assert _close(sol.costs[category], ref.costs[category], ref.objective), category


def _flows(sol: Solution, d: Data) -> dict[tuple[int, int, int, int], float]:
    """The solution's flows by index, checked to lie on arcs of the model, each once."""
    index: list[dict[str, int]] = [
        {name: i for i, name in enumerate(names)}
        for names in (d.regions, d.sites, d.classes, d.periods)
    ]
    x: dict[tuple[int, int, int, int], float] = {}
    for flow in sol.to_dict()["flows"]:
        key = tuple(
            index[n][flow[field]] for n, field in enumerate(("region", "site", "class", "period"))
        )
        r, s, k, t = key
        assert key not in x
        assert flow["mw"] > 0
        assert d.arc(r, s, k), f"flow on a pruned arc: {flow}"
        x[r, s, k, t] = float(flow["mw"])
    return x


def _grid_and_renewable(
    d: Data, load: dict[tuple[int, int], float]
) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], float]]:
    """Given the IT load, the optimal split of facility power (separable per site and period).

    Renewable power is used up to what is available when it is cheaper than grid power plus its
    carbon price, never when dearer; the generator makes sure the two prices never tie.
    """
    g, v = {}, {}
    for (s, t), it_mw in load.items():
        facility = d.pue[s][t] * it_mw
        grid_price = d.price[s][t] + d.carbon_price * d.carbon_intensity[s][t]
        if facility > 0 and d.renewable_mw[s][t] > 0:
            assert not math.isclose(d.renewable_price[s], grid_price), "tie: split not unique"
        v[s, t] = min(d.renewable_mw[s][t], facility) if d.renewable_price[s] < grid_price else 0.0
        g[s, t] = facility - v[s, t]
    return g, v


@pytest.mark.parametrize("seed", SEEDS)
def test_flows_reproduce_costs_and_totals(seed: int) -> None:
    """Recompute every cost term and total from the reported flows with the reference matrices.

    Demand: served + unmet = demand for every (r, k, t), unmet = 0 for hard classes. Capacity:
    IT load within capacity_mw, facility power within power_cap_mw. Grid and renewable power
    follow from the load (see ``_grid_and_renewable``), so energy, renewable and carbon are
    recomputed too, with transfer and latency from the reference's own matrices.
    """
    data = random_instance(seed)
    d = read_instance(data)
    sol = package_solution(seed)
    assert sol.status is Status.OPTIMAL
    assert sol.objective is not None
    x = _flows(sol, d)
    R, S, K, T = len(d.regions), len(d.sites), len(d.classes), len(d.periods)
    a = d.annual

    served: dict[tuple[int, int, int], float] = defaultdict(float)
    load: dict[tuple[int, int], float] = {(s, t): 0.0 for s in range(S) for t in range(T)}
    for (r, s, k, t), mw in x.items():
        served[r, k, t] += mw
        load[s, t] += mw
    u: dict[tuple[int, int, int], float] = {}
    for r in range(R):
        for k in range(K):
            for t in range(T):
                demand = d.demand[r][k][t]
                tol = REL_TOL * max(1.0, demand)
                if d.penalty[k] is None:
                    assert served[r, k, t] == pytest.approx(demand, abs=tol)
                else:
                    assert served[r, k, t] <= demand + tol
                    u[r, k, t] = max(0.0, demand - served[r, k, t])
    for (s, t), it_mw in load.items():
        assert it_mw <= d.capacity[s] + REL_TOL * max(1.0, d.capacity[s])
        cap = d.power_cap[s]
        if cap is not None:
            assert d.pue[s][t] * it_mw <= cap + REL_TOL * max(1.0, cap)

    g, v = _grid_and_renewable(d, load)
    costs = reference_costs(d, x, u, g, v)
    for category in CATEGORIES:
        assert _close(costs[category], sol.costs[category], sol.objective), category
    assert sum(costs.values()) == pytest.approx(sol.objective, rel=REL_TOL)

    totals: dict[str, Any] = sol.totals
    expected = {
        "served_mwh": sum(a[t] * mw for (_, _, _, t), mw in x.items()),
        "unmet_mwh": sum(a[t] * mw for (_, _, t), mw in u.items()),
        "grid_energy_mwh": sum(a[t] * mw for (_, t), mw in g.items()),
        "renewable_energy_mwh": sum(a[t] * mw for (_, t), mw in v.items()),
        "carbon_t": sum(a[t] * d.carbon_intensity[s][t] * mw for (s, t), mw in g.items()),
    }
    scale = max(
        expected["served_mwh"] + expected["unmet_mwh"],
        expected["grid_energy_mwh"] + expected["renewable_energy_mwh"],
    )
    for name, value in expected.items():
        assert _close(totals[name], value, scale), name

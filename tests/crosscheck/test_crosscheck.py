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

The second half does the same for the whole v1 model on ``FULL_SEEDS`` (``random_instance_full``:
deferral, corridors, carbon cap, renewable floor, candidate sites, expansions, single
assignment): LPs with GLOP (objective and categories), MIPs with the automatic choice (CBC or
SCIP by size) and some with PuLP/CBC (objective, both proven optimal); MIPs' categories and
open decisions against the reference with the same integer decisions (``decided_reference``);
the reported solution is checked against every new row, and the carbon cap's dual against a
finite difference of the reference (every other price in ``test_shadow_prices.py``). A
regression found here: ``x <= d*o`` at candidate sites is not valid for deferrable classes (it
changed the optimum on ``VALID_INEQUALITY_SEEDS``); the package now skips it for them
(``test_valid_inequality_is_not_applied_to_deferrable_work``).

``reference`` and ``generate`` are imported as top-level modules (pytest puts this directory,
which has no ``__init__.py``, on ``sys.path``); ``reference`` imports PuLP only when it solves.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from generate import (
    FULL_FEATURES,
    MIP_FEATURES,
    binding_features,
    features,
    is_mip,
    outcome_features,
    planned_features,
    random_instance,
    random_instance_full,
)
from reference import (
    CATEGORIES,
    Data,
    Result,
    decisions,
    expand_series,
    haversine_km,
    read_instance,
    read_periods,
    reference_costs,
    result_decisions,
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
                "latency": 50.0, "unmet": 5000.0, "expansion": 0.0, "opening": 0.0}
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


# ============================================================================================
# The whole v1 model: deferral, corridors, carbon cap, renewable floor, candidate sites,
# expansions, single assignment
# ============================================================================================

FULL_SEEDS = range(84)
# The package adds x[r,s,k,t] <= d[r,k,t]*o[s] at candidate sites ("valid inequality", on by
# default). For deferrable classes it is not valid: a backlog is caught up with x > d[t], at a
# candidate site too. On these seeds it cuts off every optimum of the DESIGN.md model, and the
# package's optimum is dearer (test_valid_inequality_explains_the_known_disagreements).
VALID_INEQUALITY_SEEDS = frozenset({31, 32})
FD_REL_DELTA = 1e-3  # finite-difference step, relative to the carbon cap
FD_REL_TOL = 1e-4

REQUIRED_FULL_FEATURES = frozenset(
    {
        *(f"{how}:{feature}" for how in ("alone", "combined") for feature in FULL_FEATURES),
        "lp_full",
        "mip",
        # deferral
        "delay_window",
        "delay_whole_cycle",
        "hard_deferral",
        "backlog",
        "deferral_shifts",
        # single assignment
        "hard_single",
        "single_deferrable",
        "single_served",
        "single_unmet_reachable",
        # planning
        "candidate_opens",
        "candidate_stays_closed",
        "expansion_at_candidate",
        "expansion_at_existing",
        "expansion_options",
        "expansion_default_units",
        "expansion_built",
        # network and policy
        "corridors_several",
        "corridor_binding",
        "carbon_cap_binding",
        "renewable_share_binding",
        # the old features still appear with the new ones
        "hard_demand",
        "power_cap_binding",
        "price_tou",
        "unmet_reachable",
    }
)


FULL_LP_SEEDS = [s for s in FULL_SEEDS if not is_mip(random_instance_full(s))]
FULL_MIP_SEEDS = [s for s in FULL_SEEDS if is_mip(random_instance_full(s))]
CBC_SEEDS = FULL_MIP_SEEDS[::3]
CARBON_CAP_LP_SEEDS = [
    s for s in FULL_LP_SEEDS if "carbon_cap_t" in random_instance_full(s).get("policy", {})
]


@functools.cache
def reference_full(seed: int, valid_inequality: bool = False) -> Result:
    return solve_full(random_instance_full(seed), valid_inequality=valid_inequality)


@functools.cache
def package_full(seed: int, options: SolveOptions | None = None) -> Solution:
    """GLOP for LPs, the automatic choice (CBC or SCIP) for MIPs, unless ``options`` are given."""
    if options is None:
        options = SolveOptions() if is_mip(random_instance_full(seed)) else GLOP
    return solve_document(parse(random_instance_full(seed)), options).solution


@functools.cache
def decided_reference(seed: int) -> Result:
    """The reference's optimum of a MIP, solved with the package's integer decisions when they
    differ from the reference's own (a tie between discrete choices: asserted to reach the
    reference's optimum); for an LP, the reference's optimum."""
    own = reference_full(seed)
    chosen = decisions(package_full(seed).to_dict(), own.data)
    if chosen == result_decisions(own):
        return own
    tied = solve_full(random_instance_full(seed), fixed=chosen)
    assert tied.status == "Optimal"
    assert own.objective is not None
    assert tied.objective == pytest.approx(own.objective, rel=REL_TOL), (
        f"the package's integer decisions {chosen} are not optimal: the reference's are "
        f"{result_decisions(own)}")
    return tied


@functools.cache
def binding_full(seed: int) -> frozenset[str]:
    return frozenset(binding_features(random_instance_full(seed), reference_full(seed)))


@functools.cache
def carbon_price_estimate(seed: int) -> float | str:
    """The reference's carbon-cap price by finite differences, or why there is none.

    Solved with HiGHS (doubles; CBC's 8 significant digits are too few for a difference) at
    cap - delta, cap and cap + delta. The objective is convex and piecewise linear in the cap:
    where the left and right slopes differ the cap sits on a breakpoint (degenerate) and the
    dual is any value between them, so there is nothing to compare.
    """
    data = random_instance_full(seed)
    cap = float(data["policy"]["carbon_cap_t"])
    delta = FD_REL_DELTA * cap

    def objective(level: float) -> float:
        moved = copy.deepcopy(data)
        moved["policy"]["carbon_cap_t"] = level
        result = solve_full(moved, solver="highs")
        assert result.status == "Optimal"
        assert result.objective is not None
        return result.objective

    at, above, below = objective(cap), objective(cap + delta), objective(cap - delta)
    right, left = (at - above) / delta, (below - at) / delta
    if right <= FD_REL_TOL * max(1.0, abs(at)) / cap:
        return "carbon cap not binding"
    if not math.isclose(left, right, rel_tol=FD_REL_TOL):
        return f"carbon cap on a breakpoint: slopes {left} left, {right} right"
    return right


# --------------------------------------------------------------------------------------------
# The reference on the new features, on cases derived by hand
# --------------------------------------------------------------------------------------------


def _hand_instance(T: int = 1) -> dict[str, Any]:
    """One region and two sites at the same place (2 ms), hours = weight = 1 (a[t] = 1), PUE 1,
    no carbon intensity: a MW in a period costs the site's price. Class ``web``, penalty 1000."""
    here = [30.0, 110.0]
    return {
        "version": 1,
        "periods": {"count": T},
        "regions": [{"id": "r0", "location": here, "demand": {"web": 10}}],
        "sites": [
            {"id": "A", "location": here, "capacity_mw": 8, "pue": 1.0, "price": 100},
            {"id": "B", "location": here, "capacity_mw": 20, "pue": 1.0, "price": 200},
        ],
        "classes": [{"id": "web", "unmet_penalty": 1000}],
    }


def test_reference_defers_work_to_the_cheap_period() -> None:
    """Demand 10 in each of 3 periods, one site (capacity 30) at 100 in t0 and 300 in t1, t2.

    D = 0: 100*10 + 300*20 = 7000. D = 1: t2's work waits for t0 of the next cycle (b[t2] = 10
    <= hours*d[t2]), t1's cannot (it would still wait at the end of t2, b[t2] <= 10): 5000.
    D = 2: all of it is served in t0 (b[t1] = 10, b[t2] = 20 <= 20): 3000. D = 5 is capped at
    T = 3: the same. Capacity 15 with D = 2: 15 in t0 and 15 at 300: 1500 + 4500 = 6000.
    """
    data = _hand_instance(3)
    data["sites"] = [{"id": "A", "location": [30.0, 110.0], "capacity_mw": 30, "pue": 1.0,
                      "price": [100, 300, 300]}]
    expected = {0: 7000.0, 1: 5000.0, 2: 3000.0, 5: 3000.0}
    for delay, objective in expected.items():
        data["classes"][0]["max_delay_periods"] = delay
        result = solve_full(data)
        assert result.objective == pytest.approx(objective, rel=REL_TOL), delay
    data["classes"][0]["max_delay_periods"] = 1
    assert solve_full(data).b == pytest.approx({(0, 0, 0): 0.0, (0, 0, 1): 0.0, (0, 0, 2): 10.0})
    data["classes"][0]["max_delay_periods"] = 2
    data["sites"][0]["capacity_mw"] = 15
    assert solve_full(data).objective == pytest.approx(6000.0, rel=REL_TOL)


def test_reference_drops_deferred_work_later_than_it_arrived() -> None:
    """Deferrable u has no upper bound: work of t1 (weight 1) may be dropped in t0 (weight 0.5,
    so at half the penalty) after waiting. No site: demand 10 in t1 only, penalty 1000, D = 1:
    b[t1] = 10, dropped in t0 next cycle, u[t0] = 10 MW at a[t0] = 0.5: 5000 (10000 at D = 0)."""
    data = _hand_instance(2)
    data["periods"] = [{"id": "t0", "weight": 0.5}, {"id": "t1"}]
    data["regions"][0]["demand"] = {"web": [0, 10]}
    data["classes"][0]["allowed_sites"] = []
    data["classes"][0]["max_delay_periods"] = 1
    result = solve_full(data)
    assert result.objective == pytest.approx(5000.0, rel=REL_TOL)
    assert result.u[0, 0, 0] == pytest.approx(10.0)
    data["classes"][0]["max_delay_periods"] = 0
    assert solve_full(data).objective == pytest.approx(10000.0, rel=REL_TOL)


def test_reference_single_assignment_candidates_and_expansions() -> None:
    """Demand 10; A (100, 8 MW) cannot take it all, B (200, 20 MW) can.

    split: 8 at A + 2 at B = 1200. single: all at B = 2000 (hard: the same); with capacity 5 at
    B too, nothing fits: all unmet, 10000 (hard: infeasible). An expansion at A (5 MW, 300 a
    year): single at A, 1000 + 300 = 1300. A a candidate too: open_cost 500 opens it (1800),
    800 does not (2100 > 2000: B).
    """
    data = _hand_instance()
    assert solve_full(data).objective == pytest.approx(1200.0, rel=REL_TOL)
    data["classes"][0]["assignment"] = "single"
    assert solve_full(data).objective == pytest.approx(2000.0, rel=REL_TOL)
    data["classes"][0]["unmet_penalty"] = None
    assert solve_full(data).objective == pytest.approx(2000.0, rel=REL_TOL)
    data["sites"][1]["capacity_mw"] = 5
    assert solve_full(data).status == "Infeasible"
    data["classes"][0]["unmet_penalty"] = 1000
    assert solve_full(data).objective == pytest.approx(10000.0, rel=REL_TOL)
    data["sites"][1]["capacity_mw"] = 20
    data["sites"][0]["expansions"] = [{"id": "hall", "size_mw": 5, "annual_cost": 300}]
    result = solve_full(data)
    assert result.objective == pytest.approx(1300.0, rel=REL_TOL)
    assert result.n == {(0, 0): 1.0}
    assert result.costs["expansion"] == pytest.approx(300.0)
    data["sites"][0]["open_cost"] = 500
    result = solve_full(data)
    assert result.objective == pytest.approx(1800.0, rel=REL_TOL)
    assert result.o == {0: 1.0}
    data["sites"][0]["open_cost"] = 800
    result = solve_full(data)
    assert result.objective == pytest.approx(2000.0, rel=REL_TOL)
    assert (result.o, result.n) == ({0: 0.0}, {(0, 0): 0.0})


def test_reference_corridor_carbon_cap_and_renewable_floor() -> None:
    """Demand 10 split between A (100, 8 MW) and B (200, 20 MW): 1200 unconstrained.

    Corridor r0-A at 4 Gbps with 360 GB/MWh (0.8 Gbps per MW): 5 MW at A, 500 + 1000 = 1500.
    Carbon: A at 1 t/MWh, cap 3 t: 300 + 1400 = 1700. Renewable floor 0.5 with 10 MW of
    renewable power at A for 150.37: 5 MW of it, 751.85 + 300 (grid at A) + 400 (B) = 1451.85.
    """
    data = _hand_instance()
    data["classes"][0]["data_gb_per_mwh"] = 360
    data["network"] = {"corridors": [{"id": "l0", "capacity_gbps": 4, "regions": ["r0"],
                                      "sites": ["A"]}]}
    assert solve_full(data).objective == pytest.approx(1500.0, rel=REL_TOL)
    data = _hand_instance()
    data["sites"][0]["carbon_intensity"] = 1.0
    data["policy"] = {"carbon_cap_t": 3}
    assert solve_full(data).objective == pytest.approx(1700.0, rel=REL_TOL)
    data = _hand_instance()
    data["sites"][0].update(renewable_mw=10, renewable_price=150.37)
    data["policy"] = {"min_renewable_share": 0.5}
    result = solve_full(data)
    assert result.objective == pytest.approx(1451.85, rel=REL_TOL)
    assert result.v[0, 0] == pytest.approx(5.0)


def test_package_defers_work_to_a_candidate_site() -> None:
    """The deferral case of test_reference_defers_work_to_the_cheap_period (D = 2, capacity 30),
    with the site a candidate (open_cost 1): DESIGN.md's optimum opens it and serves all 30 MW
    in t0, 3001. With x <= d*o on deferrable work only 10 MW fit in t0: 1 + 1000 + 6000 = 7001
    (what the package gave before it stopped applying the inequality to deferrable classes)."""
    data = _hand_instance(3)
    data["sites"] = [{"id": "A", "location": [30.0, 110.0], "capacity_mw": 30, "pue": 1.0,
                      "price": [100, 300, 300], "open_cost": 1}]
    data["classes"][0]["max_delay_periods"] = 2
    assert solve_full(data).objective == pytest.approx(3001.0, rel=REL_TOL)
    assert solve_full(data, valid_inequality=True).objective == pytest.approx(7001.0)
    sol = solve_document(parse(data), SolveOptions()).solution
    assert sol.objective == pytest.approx(3001.0, rel=REL_TOL)


# --------------------------------------------------------------------------------------------
# The generator of the whole model
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", FULL_SEEDS)
def test_full_instance_is_valid_small_and_feasible(seed: int) -> None:
    data = random_instance_full(seed)
    assert data == random_instance_full(seed)  # reproducible
    assert parse(data).instance.version == 1
    assert 2 <= len(data["regions"]) <= 4
    assert 2 <= len(data["sites"]) <= 4
    assert 1 <= len(data["classes"]) <= 3
    assert 1 <= len(read_periods(data["periods"])[0]) <= 4
    new = features(data) & set(FULL_FEATURES)
    assert new >= planned_features(seed) - {"corridor"}  # a corridor needs data on its arcs
    assert bool(new & MIP_FEATURES) == is_mip(data)
    assert reference_full(seed).status == "Optimal"


def test_full_instances_cover_every_feature() -> None:
    seen: Counter[str] = Counter()
    for seed in FULL_SEEDS:
        result = reference_full(seed)
        data = random_instance_full(seed)
        seen.update(features(data) | outcome_features(result) | binding_full(seed))
    missing = REQUIRED_FULL_FEATURES - set(seen)
    assert not missing, f"never generated over {len(FULL_SEEDS)} seeds: {sorted(missing)}"
    assert len(FULL_LP_SEEDS) >= 15
    assert len(FULL_MIP_SEEDS) >= 30
    # the package and the reference choose the same integer decisions but for rare ties, so
    # the open decisions and MIP categories are compared with the reference's own optimum
    ties = [s for s in FULL_MIP_SEEDS if decided_reference(s) is not reference_full(s)]
    assert len(ties) <= len(FULL_MIP_SEEDS) // 10, ties
    # the dual check below is not vacuous
    assert sum(isinstance(carbon_price_estimate(s), float) for s in CARBON_CAP_LP_SEEDS) >= 3


# --------------------------------------------------------------------------------------------
# The cross-check of the whole model
# --------------------------------------------------------------------------------------------


def _known(seeds: Any) -> list[Any]:
    """Seeds (no known disagreement left)."""
    return list(seeds)


@pytest.mark.parametrize("seed", _known(FULL_SEEDS))
def test_package_agrees_with_reference_full(seed: int) -> None:
    """Objectives at REL_TOL; for LPs every cost category too.

    LPs: the categories of an LP optimum are unique unless two optima cost the same through
    different categories. The generator keeps out the systematic case (a renewable price equal
    to a grid price plus its carbon price); deferral between two periods of the same site and
    the same price moves cost within a category; a binding cap or floor gives one marginal
    trade-off, whose alternative would need equal sums of unrelated random numbers. MIPs:
    objective here; their categories in ``test_mip_cost_categories_agree_with_reference``.
    """
    ref = reference_full(seed)
    sol = package_full(seed)
    assert ref.status == "Optimal"
    assert sol.status is Status.OPTIMAL
    assert ref.objective is not None
    assert sol.objective is not None
    assert sol.objective == pytest.approx(ref.objective, rel=REL_TOL)
    assert sum(sol.costs.values()) == pytest.approx(sol.objective, rel=REL_TOL)
    if not is_mip(random_instance_full(seed)):
        for category in CATEGORIES:
            assert _close(sol.costs[category], ref.costs[category], ref.objective), category


@pytest.mark.parametrize("seed", FULL_MIP_SEEDS)
def test_mip_cost_categories_agree_with_reference(seed: int) -> None:
    """Each of the eight cost categories of a MIP optimum, one by one, against the reference's
    optimum with the same integer decisions (``decided_reference``: the reference's own, or the
    package's where they tie). With the decisions equal what is left is an LP, whose categories
    are unique for the reasons given in ``test_package_agrees_with_reference_full``."""
    ref = decided_reference(seed)
    sol = package_full(seed)
    assert sol.status is Status.OPTIMAL
    assert ref.objective is not None
    for category in CATEGORIES:
        assert _close(sol.costs[category], ref.costs[category], ref.objective), category


@pytest.mark.parametrize("seed", _known(CBC_SEEDS))
def test_pulp_cbc_agrees_with_reference_full(seed: int) -> None:
    ref = reference_full(seed)
    sol = package_full(seed, SolveOptions(backend="pulp", solver="cbc"))
    assert sol.status is Status.OPTIMAL
    assert ref.objective is not None
    assert sol.objective == pytest.approx(ref.objective, rel=REL_TOL)


def test_valid_inequality_is_not_applied_to_deferrable_work() -> None:
    """The reference with x <= d*o on every arc differs from DESIGN.md's model on exactly
    VALID_INEQUALITY_SEEDS (it can only where a deferrable class meets a candidate site); the
    package, which skips the inequality for deferrable classes, agrees with the plain model."""
    differ = set()
    for seed in FULL_SEEDS:
        d = reference_full(seed).data
        if not any(d.max_delay) or all(c is None for c in d.open_cost):
            continue
        plain, cut = reference_full(seed), reference_full(seed, valid_inequality=True)
        assert plain.objective is not None
        assert cut.objective is not None
        if not math.isclose(plain.objective, cut.objective, rel_tol=REL_TOL):
            assert cut.objective > plain.objective
            differ.add(seed)
            assert package_full(seed).objective == pytest.approx(plain.objective, rel=REL_TOL)
    assert differ == VALID_INEQUALITY_SEEDS


@pytest.mark.parametrize("seed", FULL_SEEDS)
def test_full_solution_respects_the_model(seed: int) -> None:
    """The package's reported solution, checked against DESIGN.md §2 with the reference's data.

    Decisions (open, units per option) within their domains; the capacity they give is the one
    reported and bounds the IT load; demand (per period, or over the cycle with a feasible
    backlog for hard deferrable classes); single assignment; corridor use recomputed from the
    flows equals the reported peak and is within capacity; carbon within the cap; renewable
    share above the floor; transfer, latency, expansion and opening costs recomputed; work
    shifted wherever deferral strictly pays (``deferral_shifts``: then every optimum has a
    backlog).
    """
    data = random_instance_full(seed)
    d = read_instance(data)
    sol = package_full(seed)
    assert sol.status is Status.OPTIMAL
    assert sol.objective is not None
    out = sol.to_dict()
    x = _flows(sol, d)
    R, S, K, T = len(d.regions), len(d.sites), len(d.classes), len(d.periods)
    a, h = d.annual, d.hours
    scale = max(1.0, abs(sol.objective))

    # decisions and capacity
    opened = {row["id"]: row["open"] for row in out["sites"]}
    units: dict[tuple[int, int], int] = {}
    for row in out["build"]:
        s = d.sites.index(row["site"])
        if row["option"] is None:
            assert d.open_cost[s] is not None
            assert opened[row["site"]]
            continue
        e = [option.id for option in d.expansions[s]].index(row["option"])
        assert 0 <= row["units"] <= d.expansions[s][e].max_units
        units[s, e] = row["units"]
    # existing sites are open; a candidate site as the reference's optimum has it, unless the
    # package's decisions are a proven tie (see ``decided_reference``)
    decided = decided_reference(seed)
    capacity = []
    for s, row in enumerate(out["sites"]):
        is_open = bool(decided.o[s]) if d.open_cost[s] is not None else True
        assert row["open"] is is_open, d.sites[s]
        built = sum(units.get((s, e), 0) * option.size for e, option in enumerate(d.expansions[s]))
        assert is_open or built == 0, "expansion at a closed site"
        assert row["expansion_units"] == sum(
            units.get((s, e), 0) for e in range(len(d.expansions[s]))
        )
        capacity.append(d.capacity[s] * is_open + built)
        assert row["capacity_mw"] == pytest.approx(capacity[s])
    load = defaultdict(float)
    served = defaultdict(float)
    for (r, s, k, t), mw in x.items():
        load[s, t] += mw
        served[r, k, t] += mw
    for (s, t), mw in load.items():
        assert mw <= capacity[s] + REL_TOL * max(1.0, capacity[s])
        if d.power_cap[s] is not None:
            assert d.pue[s][t] * mw <= d.power_cap[s] * (1 + REL_TOL) + REL_TOL

    # demand
    for r in range(R):
        for k in range(K):
            dem = d.demand[r][k]
            tol = REL_TOL * max(1.0, sum(dem))
            if d.max_delay[k] == 0:
                for t in range(T):
                    assert served[r, k, t] <= dem[t] + tol
                    if d.penalty[k] is None:
                        assert served[r, k, t] == pytest.approx(dem[t], abs=tol)
                continue
            # over the cycle the backlog's changes sum to 0: served energy <= demand energy
            late = [h[t] * (dem[t] - served[r, k, t]) for t in range(T)]
            assert sum(late) >= -tol * max(h)
            if d.penalty[k] is None:
                # no unmet: b[t] = B + cumulative late work; some B >= 0 keeps it in bounds
                assert sum(late) == pytest.approx(0.0, abs=tol * max(h))
                cumulative = list(itertools.accumulate(late))
                low = max(-c for c in cumulative)
                high = min(d.backlog_bound(r, k, t) - cumulative[t] for t in range(T))
                assert max(0.0, low) <= high + tol * max(h)

    # single assignment: at most one site per region and class, all of each period's demand
    for r in range(R):
        for k in range(K):
            if not d.single[k]:
                continue
            used = {s for (rr, s, kk, _) in x if (rr, kk) == (r, k)}
            assert len(used) <= 1
            for s in used:
                for t in range(T):
                    tol = REL_TOL * max(1.0, d.demand[r][k][t])
                    assert x.get((r, s, k, t), 0.0) == pytest.approx(d.demand[r][k][t], abs=tol)

    # corridors, carbon cap, renewable floor
    reported = {row["id"]: row for row in out.get("corridors", [])}
    for c, corridor in enumerate(d.corridors):
        peak = max((sum(d.corridor_use(c, x, t)) for t in range(T)), default=0.0)
        tol = REL_TOL * max(1.0, corridor.capacity_gbps)
        assert reported[corridor.id]["peak_gbps"] == pytest.approx(peak, abs=tol)
        assert peak <= corridor.capacity_gbps + tol
    policy = out["policy"]
    assert policy["carbon_t"] == pytest.approx(sol.totals["carbon_t"], rel=REL_TOL, abs=REL_TOL)
    if d.carbon_cap is not None:
        assert policy["carbon_t"] <= d.carbon_cap + REL_TOL * max(1.0, d.carbon_cap)
    if d.min_share > 0:
        # in energy: with no load at all (everything unmet) the share is reported as 0
        renewable = sol.totals["renewable_energy_mwh"]
        facility = sol.totals["facility_energy_mwh"]
        assert renewable >= d.min_share * facility - REL_TOL * max(1.0, facility)
        if facility > 0:
            assert policy["renewable_share"] >= d.min_share - REL_TOL

    # costs that follow from the flows and the decisions
    costs = reference_costs(
        d, x, {}, {}, {},
        o={s: float(opened[d.sites[s]]) for s in range(S) if d.open_cost[s] is not None},
        n={key: float(val) for key, val in units.items()},
    )
    for category in ("transfer", "latency", "expansion", "opening"):
        assert _close(sol.costs[category], costs[category], scale), category
    assert sol.totals["served_mwh"] == pytest.approx(
        sum(a[t] * mw for (_, _, _, t), mw in x.items()), rel=REL_TOL, abs=REL_TOL
    )
    if "deferral_shifts" in binding_full(seed):
        assert sol.totals["shifted_mwh"] > REL_TOL * max(1.0, sol.totals["served_mwh"])


@pytest.mark.parametrize("seed", CARBON_CAP_LP_SEEDS)
def test_carbon_cap_price_matches_finite_difference(seed: int) -> None:
    """The package's carbon_cap_price (GLOP's dual) equals the reference's saving per tonne of
    a higher cap, (obj(cap) - obj(cap + delta)) / delta, wherever the cap binds regularly."""
    estimate = carbon_price_estimate(seed)
    if isinstance(estimate, str):
        pytest.skip(estimate)
    price = package_full(seed).to_dict()["policy"]["carbon_cap_price"]
    assert price is not None
    assert price == pytest.approx(estimate, rel=FD_REL_TOL)

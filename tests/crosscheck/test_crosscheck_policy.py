"""Version 2 (DESIGN.md §8) against the element-by-element reference.

``random_instance_policy(seed)`` (``generate.py``) turns the whole-v1-model instances into
version-2 ones with certificates, green-share and utilisation floors, WUE, water caps and a
water price, calibrated to bind; odd seeds are LPs, even ones mostly MIPs. ``reference.py``
has the §8 rows exactly as DESIGN.md states them, element by element, sharing no code with
``optimizer``. For every seed the package and the reference agree on the optimum; for LPs on
every cost category (the v1 eight, certificates and water) and on the water drawn; and every
§8 shadow price of an LP (each site's green-share and utilisation floor, per percentage point,
and water cap, per m3) equals a finite difference of the reference's optimum (HiGHS, doubles),
wherever the constraint binds away from a breakpoint of the optimum.
"""

from __future__ import annotations

import copy
import functools
import math
from collections import Counter
from typing import Any

import pytest
from generate import (
    POLICY_FEATURES,
    is_mip,
    planned_policy,
    policy_features,
    random_instance_policy,
)
from reference import CATEGORIES, POLICY_CATEGORIES, Result, solve_full, water_m3

from optimizer.backends.base import SolveOptions, Status
from optimizer.interpret import Solution
from optimizer.load import parse
from optimizer.pipeline import solve_document

REL_TOL = 1e-6
POLICY_SEEDS = range(64)
LP_SEEDS = [s for s in POLICY_SEEDS if not is_mip(random_instance_policy(s))]
CBC_SEEDS = list(POLICY_SEEDS)[::4]
GLOP = SolveOptions(backend="ortools", solver="glop")
PRICED = {"green_share": "min_green_share", "utilization": "min_utilization",
          "water_cap": "water_cap_m3"}
"""The §8 shadow prices, by the site field their constraint's level is."""
SHARE_STEP = 1e-3  # finite-difference step of a floor (a share, 0..1)
CAP_STEP = 1e-3  # ... of a water cap, relative to it
FD_REL_TOL = 1e-4  # a price against its finite difference (a right-hand side: exact)
SHARE_FD_TOL = 2e-3  # a green-share floor: its coefficients move, the slopes curve
REQUIRED = frozenset({"lp", "mip", "certificates_bought", "green_floor_binding",
                      "utilization_floor_binding", "water_cap_binding", "water_priced"})


@functools.cache
def reference(seed: int) -> Result:
    return solve_full(random_instance_policy(seed))


@functools.cache
def package(seed: int, options: SolveOptions | None = None) -> Solution:
    """GLOP for LPs (the automatic choice, CBC or SCIP, for MIPs) unless ``options`` say."""
    data = random_instance_policy(seed)
    if options is None:
        options = SolveOptions() if is_mip(data) else GLOP
    return solve_document(parse(data), options).solution


def _close(a: float, b: float, scale: float) -> bool:
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=REL_TOL * max(1.0, abs(scale)))


def _hand(*sites: dict[str, Any], **policy: Any) -> dict[str, Any]:
    """One region and its sites at one place, 10 MW of demand (penalty 1000) for one hour of
    weight 1, PUE 1 (the cases of tests/unit/test_policy_families.py)."""
    here = [30.0, 120.0]
    return {"version": 2, "periods": {"count": 1},
            "regions": [{"id": "r", "location": here, "demand": {"k": 10}}],
            "sites": [{"location": here, "pue": 1.0, **site} for site in sites],
            "classes": [{"id": "k", "unmet_penalty": 1000}], "policy": policy}


@pytest.mark.parametrize(("data", "optimum", "costs"), [
    # 2 MW free renewable, 8 from the grid at 50; a 50% floor: 3 certificates at 30
    (_hand({"id": "s", "capacity_mw": 100, "price": 50, "renewable_mw": 2,
            "min_green_share": 0.5}, certificate_price=30), 490.0,
     {"energy": 400.0, "certificates": 90.0}),
    # ... without certificates: at most 4 MW served (g <= v = 2), 6 unmet
    (_hand({"id": "s", "capacity_mw": 100, "price": 50, "renewable_mw": 2,
            "min_green_share": 0.5}), 6100.0, {"energy": 100.0, "unmet": 6000.0}),
    # ... through constraint 6
    (_hand({"id": "s", "capacity_mw": 100, "price": 50, "renewable_mw": 2},
           certificate_price=30, min_renewable_share=0.5), 490.0, {"certificates": 90.0}),
    # a 60% utilisation floor at the dear 5 MW site: 3 MW there
    (_hand({"id": "A", "capacity_mw": 20, "price": 100},
           {"id": "B", "capacity_mw": 5, "price": 200, "min_utilization": 0.6}), 1300.0,
     {"energy": 1300.0}),
    # water: 1 m3 a MWh at A, capped at 4 m3, water at 2 a m3
    (_hand({"id": "A", "capacity_mw": 20, "price": 100, "wue": 1.0, "water_cap_m3": 4},
           {"id": "B", "capacity_mw": 20, "price": 200}, water_price=2), 1608.0,
     {"energy": 1600.0, "water": 8.0}),
    # water at 150 a m3 makes A's MWh cost 250: B (5 MW, 200) fills first
    (_hand({"id": "A", "capacity_mw": 20, "price": 100, "wue": 1.0},
           {"id": "B", "capacity_mw": 5, "price": 200}, water_price=150), 2250.0,
     {"energy": 1500.0, "water": 750.0}),
])
def test_reference_solves_the_hand_derived_policy_cases(
        data: dict[str, Any], optimum: float, costs: dict[str, float]) -> None:
    result = solve_full(data)
    assert result.status == "Optimal"
    assert result.objective == pytest.approx(optimum, rel=REL_TOL)
    for category, value in costs.items():
        assert result.costs[category] == pytest.approx(value, rel=REL_TOL), category


@pytest.mark.parametrize("seed", POLICY_SEEDS)
def test_policy_instance_is_valid_version_2(seed: int) -> None:
    data = random_instance_policy(seed)
    assert data["version"] == 2
    document = parse(data)
    assert document.instance.version == 2
    assert reference(seed).status == "Optimal"


def test_policy_instances_cover_every_feature() -> None:
    """Over the seeds, LPs and MIPs, certificates bought, green and utilisation floors and water
    caps binding, water priced; each planned feature alone at least once; at least 40 seeds."""
    assert len(POLICY_SEEDS) >= 40
    assert len(LP_SEEDS) >= len(POLICY_SEEDS) // 2
    shown: Counter[str] = Counter()
    for seed in POLICY_SEEDS:
        shown.update(policy_features(random_instance_policy(seed), reference(seed)))
    assert set(shown) >= REQUIRED, REQUIRED - set(shown)
    alone = {next(iter(planned_policy(s))) for s in POLICY_SEEDS if len(planned_policy(s)) == 1}
    assert alone == set(POLICY_FEATURES)


@pytest.mark.parametrize("seed", POLICY_SEEDS)
def test_package_agrees_with_reference_policy(seed: int) -> None:
    """The optimum at REL_TOL; for LPs every cost category and the water drawn (an LP optimum
    is unique on these random numbers, see test_crosscheck.py)."""
    ref, sol = reference(seed), package(seed)
    assert ref.status == "Optimal"
    assert sol.status is Status.OPTIMAL
    assert ref.objective is not None
    assert sol.objective is not None
    assert sol.objective == pytest.approx(ref.objective, rel=REL_TOL)
    assert list(sol.costs) == [*CATEGORIES, *POLICY_CATEGORIES]
    assert sum(sol.costs.values()) == pytest.approx(sol.objective, rel=REL_TOL)
    if is_mip(random_instance_policy(seed)):
        return
    for category in (*CATEGORIES, *POLICY_CATEGORIES):
        assert _close(sol.costs[category], ref.costs[category], ref.objective), category
    water = sum(water_m3(ref.data, ref.x))
    assert _close(sol.totals["water_m3"], water, water), (sol.totals["water_m3"], water)
    assert _close(sol.totals["certificates_mwh"], sum(ref.q.values()), sum(ref.q.values()))


@pytest.mark.parametrize("seed", CBC_SEEDS)
def test_pulp_cbc_agrees_with_reference_policy(seed: int) -> None:
    ref = reference(seed)
    sol = package(seed, SolveOptions(backend="pulp", solver="cbc"))
    assert sol.status is Status.OPTIMAL
    assert ref.objective is not None
    assert sol.objective == pytest.approx(ref.objective, rel=REL_TOL)


def _objective(data: dict[str, Any]) -> float | None:
    """The reference optimum with HiGHS (doubles), or None where infeasible."""
    result = solve_full(data, solver="highs")
    if result.status == "Infeasible":
        return None
    assert result.status == "Optimal", result.status
    assert result.objective is not None
    return result.objective


def estimate(seed: int, kind: str, site: int) -> float | str:
    """The reference's saving from relaxing one constraint of site ``site`` by one unit (a
    percentage point of a floor, a m3 of a cap), by finite differences, or why there is none.

    Floors: the objective at the floor, one step lower and one step higher; a cap: at the cap,
    one step higher and one step lower. Where the two one-sided slopes differ the optimum sits
    on a breakpoint (the dual is any value between them): nothing to compare. A utilisation
    floor and a cap move a right-hand side, so the objective is piecewise linear in them and
    the slopes are exact; a green-share floor moves coefficients (the share times the facility
    energy, which moves with it), so its slopes curve a little and the central difference is
    compared."""
    data = random_instance_policy(seed)
    key = PRICED[kind]
    level = float(data["sites"][site][key])
    cap = kind == "water_cap"
    step = CAP_STEP * level if cap else SHARE_STEP
    if not cap and level + step > 1.0:
        return "floor at 100%: no step above it"
    if cap and level - step < 0:
        return "cap at 0"

    def at(value: float) -> float | None:
        moved = copy.deepcopy(data)
        moved["sites"][site][key] = value
        return _objective(moved)

    here, up, down = at(level), at(level + step), at(level - step)
    if here is None or up is None or down is None:
        return "one step tighter is infeasible"
    # saving per unit of relaxation: lower floors and higher caps save
    relax, tighten = (here - up, down - here) if cap else (here - down, up - here)
    unit = 1.0 if cap else 100.0  # a floor's price is per percentage point
    tol = FD_REL_TOL if kind != "green_share" else SHARE_FD_TOL
    if tighten <= 1e-9 * max(1.0, abs(here)):
        return "not binding"
    if not math.isclose(relax, tighten, rel_tol=10 * tol):
        return f"on a breakpoint: slopes {relax / step} and {tighten / step}"
    return (relax + tighten) / 2 / step / unit


@functools.cache
def priced(seed: int) -> list[tuple[str, int, float]]:
    """(kind, site, the package's price) of every §8 price the package reports."""
    sol = package(seed)
    sites = sol.sites
    return [(p["constraint"], sites.index(p["subject"]), float(p["value"]))
            for p in sol.to_dict()["shadow_prices"] if p["constraint"] in PRICED]


@functools.cache
def compared(seed: int) -> list[tuple[str, int, float, float | str]]:
    return [(kind, site, value, estimate(seed, kind, site)) for kind, site, value in priced(seed)]


@pytest.mark.parametrize("seed", LP_SEEDS)
def test_policy_shadow_prices_match_finite_differences(seed: int) -> None:
    rows = compared(seed)
    checked = [(k, s, v, e) for k, s, v, e in rows if not isinstance(e, str)]
    if not checked:
        pytest.skip("; ".join(f"{k} at site {s}: {e}" for k, s, _, e in rows) or "no §8 price")
    for kind, site, value, found in checked:
        assert isinstance(found, float)
        tol = SHARE_FD_TOL if kind == "green_share" else FD_REL_TOL
        assert value == pytest.approx(found, rel=tol), (kind, site)


def test_every_policy_price_is_compared_somewhere() -> None:
    """Each kind of §8 price is checked against its finite difference on some LP seed."""
    kinds: Counter[str] = Counter()
    for seed in LP_SEEDS:
        kinds.update(k for k, _, _, e in compared(seed) if not isinstance(e, str))
    assert set(kinds) == set(PRICED), kinds


def test_prices_are_listed_for_the_sites_with_the_rule_only() -> None:
    """A price per site that has the rule, none for the others (where duals were read)."""
    for seed in POLICY_SEEDS[:16]:
        data = random_instance_policy(seed)
        if not package(seed).to_dict()["shadow_prices"]:
            continue
        for kind, key in PRICED.items():
            has = {j for j, site in enumerate(data["sites"]) if key in site}
            assert {s for k, s, _ in priced(seed) if k == kind} == has, (seed, kind)

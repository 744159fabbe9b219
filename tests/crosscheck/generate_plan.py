"""Random small version-2 instances (DESIGN.md §7-§8) for the planning cross-check.

``random_plan_instance(seed)`` takes ``generate.random_instance_full(seed)`` (every v1 feature,
in turn and combined) and makes it a planning problem: a new candidate site and expansion halls
(so build decisions matter), 1-3 years with spans, a discount rate and ``set`` lists that grow
demand and move prices and build costs, 1-3 scenarios (probabilities summing to 1 exactly in
decimal) with their own ``set`` lists (renewable derate, price shock, demand surge, WUE up),
contingencies on some seeds (``lose`` one or two sites or ``each``, ``protect`` some classes, a
probability, sometimes 0), and the §8 fields: ``certificate_price``, ``water_price``, ``wue``,
``min_green_share``, and ``min_utilization`` / ``water_cap_m3`` calibrated on the reference
optimum without them so that they bind. An infeasible draw is loosened step by step
(``_LOOSEN``) until the reference solves it; the steps taken are appended to its ``name``.

Prices keep the v1 generator's no-tie rule (renewable prices end in .37); certificate prices end
in .13 and water prices in .07, so buying certificates never ties exactly with renewable power.

Small: at most 4 regions, 5 sites, 3 classes, 4 periods and 15 cases, so PuLP + CBC solves one
in about a second. Imports ``generate`` and ``reference_plan`` as top-level modules.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import numpy as np
from generate import PLANNING_PRICE, _location, _series, random_instance_full
from reference import read_instance
from reference_plan import PlanResult, solve_plan

PROBABILITIES = ((1.0,), (0.6, 0.4), (0.75, 0.25), (0.5, 0.3, 0.2), (0.7, 0.2, 0.1))
SCENARIO_IDS = ("normal", "dry", "shock")


def random_plan_instance(seed: int) -> dict[str, Any]:
    """A random version-2 instance, as YAML would load it; a fresh dict on every call."""
    return copy.deepcopy(_plan_instance(seed))


@functools.cache
def _plan_instance(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 2030])
    data = random_instance_full(seed)
    data["version"] = 2
    data["name"] = f"plan-{seed}"
    data.setdefault("policy", {}).setdefault("carbon_price", float(rng.choice([0, 20, 60])))
    _add_builds(rng, data)
    _add_policy8(rng, data)
    data["planning"] = _planning(rng, data)
    _calibrate_floors(rng, data)
    steps = _make_feasible(data)
    if steps:
        data["name"] += " (loosened: " + ", ".join(steps) + ")"
    return data


def _annual_hours(data: dict[str, Any]) -> float:
    return sum(read_instance(data).annual)


def _add_builds(rng: np.random.Generator, data: dict[str, Any]) -> None:
    """A new candidate site (cheap, far) and halls at one or two existing sites."""
    hours = _annual_hours(data)
    sites = data["sites"]
    T = len(read_instance(data).periods)
    capacity = max(5.0, round(float(np.mean([s["capacity_mw"] for s in sites])) * 0.8))
    new: dict[str, Any] = {
        "id": "new", "location": _location(rng), "capacity_mw": capacity,
        "pue": round(float(rng.uniform(1.05, 1.3)), 2),
        "price": _series(rng, T, [], 150, 400, digits=0, kinds=("number", "list")),
        "carbon_intensity": round(float(rng.uniform(0.1, 0.8)), 2),
        "open_cost": float(f"{capacity * hours * PLANNING_PRICE * rng.uniform(0.05, 0.4):.3g}"),
    }
    if rng.random() < 0.5:
        new["renewable_mw"] = round(capacity * float(rng.uniform(0.2, 1.0)))
        new["renewable_price"] = float(rng.integers(20, 300)) + 0.37
    sites.append(new)
    chosen = [j for j in range(len(sites)) if not sites[j].get("expansions")]
    for j in rng.choice(chosen, size=min(len(chosen), int(rng.integers(1, 3))), replace=False):
        size = max(2.0, round(sites[j]["capacity_mw"] * float(rng.uniform(0.2, 0.6))))
        sites[j]["expansions"] = [{
            "id": "hall", "size_mw": size, "max_units": int(rng.integers(1, 4)),
            "annual_cost": float(f"{size * hours * PLANNING_PRICE * rng.uniform(0.05, 0.5):.3g}"),
        }]


def _add_policy8(rng: np.random.Generator, data: dict[str, Any]) -> None:
    policy = data["policy"]
    T = len(read_instance(data).periods)
    if rng.random() < 0.5:
        policy["certificate_price"] = float(rng.integers(5, 90)) + 0.13
    if rng.random() < 0.5:
        policy["water_price"] = float(rng.choice([2, 5, 20, 60])) + 0.07
    for site in data["sites"]:
        if rng.random() < 0.6:
            site["wue"] = _series(rng, T, [], 0.1, 1.5, digits=2, kinds=("number", "list"))
    if rng.random() < 0.4:
        for j in _some(rng, len(data["sites"]), 2):
            data["sites"][j]["min_green_share"] = round(float(rng.uniform(0.1, 0.9)), 2)


def _some(rng: np.random.Generator, n: int, most: int) -> list[int]:
    size = int(rng.integers(1, min(n, most) + 1))
    return sorted(int(i) for i in rng.choice(n, size=size, replace=False))


def _demand_growth(data: dict[str, Any], factor: float) -> list[str]:
    """``*=`` entries scaling every class's demand (``[*]`` where every region has it)."""
    out = []
    for klass in data["classes"]:
        cid = klass["id"]
        having = [r["id"] for r in data["regions"] if cid in r["demand"]]
        if len(having) == len(data["regions"]):
            out.append(f"regions[*].demand.{cid}*={factor}")
        else:
            out += [f"regions[{rid}].demand.{cid}*={factor}" for rid in having]
    return out


def _planning(rng: np.random.Generator, data: dict[str, Any]) -> dict[str, Any]:
    sites = data["sites"]
    planning: dict[str, Any] = {}
    if rng.random() < 0.7:
        planning["discount_rate"] = float(rng.choice([0.03, 0.06, 0.1]))
    years, year, growth = [], 2025, 1.0
    for i in range(int(rng.integers(1, 4))):
        texts: list[str] = []
        if i > 0:
            growth = round(growth * float(rng.uniform(1.05, 1.4)), 2)
            texts += _demand_growth(data, growth)
            j = int(rng.integers(len(sites)))
            texts.append(f"sites[{sites[j]['id']}].price*={round(float(rng.uniform(0.8, 1.3)), 2)}")
            texts.append(f"policy.carbon_price={float(rng.choice([10, 40, 90]))}")
            built = [s for s in sites if s.get("expansions")]
            if built and rng.random() < 0.5:
                k = round(float(rng.uniform(0.7, 1.2)), 2)
                texts.append(f"sites[{built[0]['id']}].expansions[hall].annual_cost*={k}")
        entry: dict[str, Any] = {"id": str(year), "year": year}
        if rng.random() < 0.8:
            entry["span"] = int(rng.integers(1, 5))
        if texts:
            entry["set"] = texts
        years.append(entry)
        year += int(rng.integers(1, 4))
    planning["years"] = years
    probabilities = PROBABILITIES[int(rng.integers(len(PROBABILITIES)))]
    planning["scenarios"] = [
        {"id": SCENARIO_IDS[i], "probability": p,
         **({"set": _scenario_set(rng, data, i)} if i else {})}
        for i, p in enumerate(probabilities)
    ]
    if rng.random() < 0.5:
        planning["contingencies"] = _contingencies(rng, data)
    return planning


def _scenario_set(rng: np.random.Generator, data: dict[str, Any], i: int) -> list[str]:
    sites = data["sites"]
    texts = []
    if i == 1:  # dry: renewable derate, WUE up, a capacity derate
        texts += [f"sites[{s['id']}].renewable_mw*=0.6" for s in sites if "renewable_mw" in s]
        texts += [f"sites[{s['id']}].wue*=1.3" for s in sites if "wue" in s]
        texts.append(f"sites[{sites[int(rng.integers(len(sites)))]['id']}].capacity_mw*=0.8")
    else:  # shock: prices up, demand surge
        texts += [f"sites[{sites[j]['id']}].price*=1.4" for j in _some(rng, len(sites), 3)]
        texts += _demand_growth(data, 1.15)
    return texts


def _contingencies(rng: np.random.Generator, data: dict[str, Any]) -> dict[str, Any]:
    site_ids = [s["id"] for s in data["sites"]]
    out: dict[str, Any] = {}
    if len(site_ids) <= 3 and rng.random() < 0.3:
        out["lose"] = "each"
    else:
        out["lose"] = [site_ids[j] for j in _some(rng, len(site_ids), 2)]
    if rng.random() < 0.7:
        lost = site_ids if out["lose"] == "each" else out["lose"]
        classes = _protectable(data, [site_ids.index(s) for s in lost])
        if classes:
            out["protect"] = [classes[j] for j in _some(rng, len(classes), 2)]
    out["probability"] = float(rng.choice([0.0, 0.02, 0.05, 0.1]))
    return out


def _protectable(data: dict[str, Any], lost: list[int]) -> list[str]:
    """Classes whose demand can reach another site whichever site in ``lost`` is lost."""
    d = read_instance(data)
    R, S = len(d.regions), len(d.sites)
    return [
        cid for k, cid in enumerate(d.classes)
        if all(any(d.arc(r, s, k) for s in range(S) if s != gone)
               for gone in lost for r in range(R) if max(d.demand[r][k]) > 0)
    ]


def _calibrate_floors(rng: np.random.Generator, data: dict[str, Any]) -> None:
    """Utilisation floors and water caps set from the reference optimum without them."""
    want_floor, want_water = rng.random() < 0.4, rng.random() < 0.4
    if not (want_floor or want_water):
        return
    base = solve_plan(data)
    if base.status != "Optimal":
        return
    sites = data["sites"]
    for j in _some(rng, len(sites), 2) if want_floor else []:
        ratio = min(_utilization(base, i, j) for i in range(len(base.cases)))
        sites[j]["min_utilization"] = round(min(0.95, max(0.05, ratio * rng.uniform(1.05, 1.6))), 2)
    wet = [j for j, s in enumerate(sites) if s.get("wue")]
    for j in rng.choice(wet, size=min(len(wet), 2), replace=False) if want_water and wet else []:
        drawn = max(_water(base, i, int(j)) for i in range(len(base.cases)))
        if drawn > 1.0:
            sites[int(j)]["water_cap_m3"] = round(drawn * float(rng.uniform(0.4, 0.9)), 1)


def _utilization(result: PlanResult, case: int, site: int) -> float:
    """Mean IT load over capacity at ``site`` in one case (1.0 where it has no capacity)."""
    assert result.plan is not None
    c = result.plan.cases[case]
    if c.lost == site:
        return 1.0
    d = c.d
    load = sum(d.annual[t] * mw for (_, s, _, t), mw in result.values[case].x.items() if s == site)
    build = next(b for b in result.build
                 if b["year"] == result.plan.years[c.year]["id"] and b["site"] == d.sites[site])
    cap = d.capacity[site] * build["open"] + sum(
        opt.size * build["units"][opt.id] for opt in d.expansions[site])
    return load / (sum(d.annual) * cap) if cap > 0 else 1.0


def _water(result: PlanResult, case: int, site: int) -> float:
    assert result.plan is not None
    c = result.plan.cases[case]
    return sum(c.d.annual[t] * c.p8.wue[s][t] * mw
               for (_, s, _, t), mw in result.values[case].x.items() if s == site)


def _loosen_floors(data: dict[str, Any]) -> bool:
    found = False
    for site in data["sites"]:
        if "min_utilization" in site:
            site["min_utilization"] = round(site["min_utilization"] * 0.5, 2)
            found = True
            if site["min_utilization"] < 0.05:
                del site["min_utilization"]
    return found


def _drop(data: dict[str, Any], what: str) -> bool:
    found = False
    planning = data["planning"]
    if what == "water_cap":
        for site in data["sites"]:
            found |= site.pop("water_cap_m3", None) is not None
    elif what == "green":
        for site in data["sites"]:
            found |= site.pop("min_green_share", None) is not None
    elif what == "protect_one" and len(planning.get("contingencies", {}).get("protect", [])) > 1:
        planning["contingencies"]["protect"] = planning["contingencies"]["protect"][-1:]
        found = True
    elif what == "protect" and "contingencies" in planning:
        found = planning["contingencies"].pop("protect", None) is not None
    elif what == "hard":
        for klass in data["classes"]:
            if "unmet_penalty" in klass and klass["unmet_penalty"] is None:
                klass["unmet_penalty"] = 1.0e5
                found = True
    elif what == "contingencies":
        found = planning.pop("contingencies", None) is not None
    return found


_LOOSEN = ("floors", "floors", "floors", "water_cap", "protect_one", "protect", "hard", "green",
           "contingencies")


def _make_feasible(data: dict[str, Any]) -> list[str]:
    """Loosen ``data`` in place until the reference solves it; the steps taken."""
    steps: list[str] = []
    for step in _LOOSEN:
        if solve_plan(data).status == "Optimal":
            return steps
        if step == "floors" and _loosen_floors(data):
            steps.append("utilisation floors halved")
        elif step != "floors" and _drop(data, step):
            steps.append(f"{step} dropped")
    if solve_plan(data).status != "Optimal":
        raise AssertionError(f"could not make {data['name']} feasible")
    return steps


def plan_features(data: dict[str, Any], result: PlanResult, tol: float = 1e-6) -> set[str]:
    """What an instance uses and what its reference optimum shows, for the coverage test."""
    planning = data["planning"]
    found = {f"years:{len(planning['years'])}", f"scenarios:{len(planning['scenarios'])}"}
    cont = planning.get("contingencies")
    if cont:
        found.add("contingencies")
        found |= {"lose_each"} if cont["lose"] == "each" else set()
        found |= {"protect"} if cont.get("protect") else set()
        found.add("contingency_weight_0" if cont["probability"] == 0 else "contingency_weight")
    if planning.get("discount_rate"):
        found.add("discount")
    policy = data["policy"]
    for key in ("certificate_price", "water_price"):
        if policy.get(key) is not None:
            found.add(key)
    for site in data["sites"]:
        found |= {k for k in ("min_green_share", "min_utilization", "wue", "water_cap_m3")
                  if site.get(k) is not None}
    if any(sum(q.values()) > tol for q in (v.q for v in result.values)):
        found.add("certificates_bought")
    years = planning["years"]
    for b in result.build:
        later = [c for c in result.build if c["site"] == b["site"] and c["year"] != b["year"]
                 and [y["id"] for y in years].index(c["year"]) > [y["id"] for y in years].index(
                     b["year"])]
        if any(c["mw"] > b["mw"] + tol for c in later):
            found.add("build_grows")
    if any(b["expansion_units"] > 0 for b in result.build):
        found.add("expansion_built")
    if any(b["open"] for b in result.build if b["site"] == "new"):
        found.add("candidate_opens")
    if any(is_binding_water(result, i) for i in range(len(result.cases))):
        found.add("water_cap_binding")
    return found


def is_binding_water(result: PlanResult, case: int, rel: float = 1e-6) -> bool:
    assert result.plan is not None
    c = result.plan.cases[case]
    return any(cap is not None and _water(result, case, s) >= cap * (1 - rel) - 1e-6 and cap > 0
               for s, cap in enumerate(c.p8.water_cap))

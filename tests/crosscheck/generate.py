"""Random small eastwest instances for the cross-check (no ``optimizer`` imports).

``random_instance(seed)`` gives a plain dict, as YAML would load it: 2-5 regions, 2-4 sites,
1-4 classes, 1-6 periods, feasible or soft (hard demand only where it is clearly feasible), with
the LP features of the model (no deferral, corridors, carbon cap, renewable floor, candidate
sites, expansions or single assignment). ``random_instance_full(seed)`` adds those, alone (every
third seed, in turn) and combined, on at most 4 regions, 4 sites, 3 classes and 4 periods, with
binding caps calibrated on the reference optimum (see ``_calibrate``).
``random_instance_build(seed)`` turns the latter into a MIP whose hard demand exceeds the
existing sites' capacity (``hard_need``), so that sites must be opened or expansions built.

``features(data)`` names the features an instance uses (``alone:F`` / ``combined:F`` for the
new ones), ``outcome_features(result)`` those its reference optimum shows (a binding power cap,
demand left unmet although it could reach a site, a candidate site open or closed, expansions
built, a backlog), and ``binding_features(data, result)`` the families that change the optimum
strictly (re-solving the reference without each).

Numbers are "nice" (a few decimals) but varied. Renewable prices, where given, end in .37, which a
grid price plus its carbon price (whole prices, carbon with one decimal at most) never does, and
grid prices are never 0, so they never tie with the default renewable price of 0 either: the split
of facility power between grid and renewable at the optimum is unique, and cost categories can be
compared, not only objectives (the cross-check asserts there is no tie).

Imports ``reference`` as a top-level module: pytest puts this directory on ``sys.path`` (it has no
``__init__.py``).
"""

from __future__ import annotations

import copy
import functools
import math
from typing import Any

import numpy as np
from reference import GBPS_PER_GB_PER_H, expand_series, read_instance, read_periods, solve_full

HOURS = (0.5, 1, 2, 3, 4, 6, 8, 12)
WEIGHTS = (1, 7, 12, 52, 91.25, 365)
HARD_MARGIN = 0.5  # hard demand at most this share of the capacity it can reach


def _nice(rng: np.random.Generator, low: float, high: float, digits: int = 1) -> float:
    return round(float(rng.uniform(low, high)), digits)


def _series(
    rng: np.random.Generator,
    T: int,
    profiles: list[str],
    low: float,
    high: float,
    *,
    digits: int = 1,
    kinds: tuple[str, ...] = ("number", "list", "mean", "max"),
) -> Any:
    """A series in one of the forms of DESIGN.md §3 with values in about [low, high]."""
    options = kinds if profiles else tuple(k for k in kinds if k in ("number", "list"))
    kind = str(rng.choice(options))
    if kind == "number":
        return _nice(rng, low, high, digits)
    if kind == "list":
        return [_nice(rng, low, high, digits) for _ in range(T)]
    name = str(rng.choice(profiles))
    return {"profile": name, kind: _nice(rng, low, high, digits)}


def _location(rng: np.random.Generator) -> list[float]:
    return [_nice(rng, 20, 45, 2), _nice(rng, 100, 125, 2)]


def random_instance(seed: int) -> dict[str, Any]:
    """A small random instance (a dict as YAML would load it), reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    T = int(rng.integers(1, 7))
    R = int(rng.integers(2, 6))
    S = int(rng.integers(2, 5))
    K = int(rng.integers(1, 5))

    data: dict[str, Any] = {"version": 1, "name": f"random-{seed}"}
    if rng.random() < 0.3:
        data["currency"] = "EUR"

    # periods: the shorthand (sometimes with defaults) or the list form, varied hours/weights
    if rng.random() < 0.5:
        periods: dict[str, Any] = {"count": T}
        if rng.random() < 0.7:
            periods["hours"] = float(rng.choice(HOURS))
        if rng.random() < 0.7:
            periods["weight"] = float(rng.choice(WEIGHTS))
        data["periods"] = periods
    else:
        plist = []
        for t in range(T):
            spec: dict[str, Any] = {"id": f"h{t}"}
            if rng.random() < 0.8:
                spec["hours"] = float(rng.choice(HOURS))
            if rng.random() < 0.8:
                spec["weight"] = float(rng.choice(WEIGHTS))
            plist.append(spec)
        data["periods"] = plist

    profile_names: list[str] = []
    positive_profiles: list[str] = []
    if rng.random() < 0.8:
        profiles = {}
        for p in range(int(rng.integers(1, 4))):
            values = [_nice(rng, 0.2, 1.5, 2) for _ in range(T)]
            if rng.random() < 0.3 and T > 1:
                values[int(rng.integers(T))] = 0.0  # zero somewhere, still a positive mean
            profiles[f"p{p}"] = values
        data["profiles"] = profiles
        profile_names = list(profiles)
    # prices never 0: a zero grid price could tie with the default renewable price of 0
    positive_profiles = [p for p in profile_names if min(data["profiles"][p]) > 0]

    class_ids = [f"c{k}" for k in range(K)]
    site_ids = [f"s{j}" for j in range(S)]
    region_ids = [f"r{i}" for i in range(R)]

    # classes (hard demand decided at the end, once capacities and latencies are known)
    classes = []
    for cid in class_ids:
        klass: dict[str, Any] = {"id": cid}
        if rng.random() < 0.3:
            klass["name"] = f"Class {cid}"
        if rng.random() < 0.5:
            klass["max_latency_ms"] = _nice(rng, 8, 50, 1)
        if rng.random() < 0.5:
            klass["data_gb_per_mwh"] = float(rng.choice([5, 20, 50, 200, 500, 1000]))
        roll = rng.random()
        if roll < 0.5:
            klass["unmet_penalty"] = float(rng.choice([300, 800, 2000, 5000, 20000]))
        elif roll < 0.6:
            klass["unmet_penalty"] = 1.0e5  # the default, given explicitly
        if rng.random() < 0.4:
            klass["latency_cost"] = _nice(rng, 0.5, 20, 1)
        if rng.random() < 0.3:
            n = int(rng.integers(1, S + 1))
            klass["allowed_sites"] = sorted(
                str(s) for s in rng.choice(site_ids, size=n, replace=False)
            )
        classes.append(klass)
    data["classes"] = classes

    regions = []
    for rid in region_ids:
        demand = {}
        for cid in class_ids:
            if rng.random() < 0.2:
                continue  # missing: 0
            demand[cid] = _series(rng, T, profile_names, 2, 80)
        region: dict[str, Any] = {"id": rid, "location": _location(rng), "demand": demand}
        if rng.random() < 0.3:
            region["name"] = f"Region {rid}"
        regions.append(region)
    data["regions"] = regions

    # sites: capacities sized against the total peak demand, sometimes tight
    n_periods = len(read_periods(data["periods"])[0])
    profiles_now = data.get("profiles", {})
    peak = 0.0
    for region in regions:
        totals = [0.0] * n_periods
        for value in region["demand"].values():
            for t, x in enumerate(expand_series(value, n_periods, profiles_now)):
                totals[t] += x
        peak += max(totals, default=0.0)
    tightness = float(rng.choice([0.4, 0.8, 1.5, 3.0], p=[0.15, 0.25, 0.3, 0.3]))
    sites = []
    for sid in site_ids:
        site: dict[str, Any] = {
            "id": sid,
            "location": _location(rng),
            "capacity_mw": max(5.0, round(peak * tightness / S * float(rng.uniform(0.5, 1.5)))),
            "pue": _series(rng, T, profile_names, 1.05, 1.6, digits=2, kinds=("number", "list")),
            "price": _series(rng, T, positive_profiles, 200, 700, digits=0),
        }
        if rng.random() < 0.3:
            site["zone"] = str(rng.choice(["east", "west"]))
        if rng.random() < 0.7:
            site["carbon_intensity"] = _series(rng, T, profile_names, 0.1, 0.9, digits=2)
        if rng.random() < 0.6:
            site["renewable_mw"] = _series(rng, T, profile_names, 0, site["capacity_mw"], digits=0)
            if rng.random() < 0.8:
                # a fractional part of .37: never equal to a grid price plus carbon (see above)
                site["renewable_price"] = float(rng.integers(20, 600)) + 0.37
        if rng.random() < 0.4:
            pue_peak = max(expand_series(site["pue"], n_periods, profiles_now))
            site["power_cap_mw"] = round(
                site["capacity_mw"] * pue_peak * float(rng.uniform(0.4, 1.2)), 1
            )
        sites.append(site)
    data["sites"] = sites

    network: dict[str, Any] = {}
    latency: dict[str, Any] = {}
    if rng.random() < 0.4:
        latency["base_ms"] = _nice(rng, 0.5, 5, 1)
    if rng.random() < 0.4:
        latency["route_factor"] = _nice(rng, 1.0, 2.5, 2)
    transfer: dict[str, Any] = {}
    if rng.random() < 0.6:
        transfer["per_gb"] = _nice(rng, 0.01, 0.3, 3)
    if rng.random() < 0.6:
        transfer["per_gb_per_1000km"] = _nice(rng, 0.02, 0.3, 3)
    all_pairs = [(r, s) for r in region_ids for s in site_ids]
    if rng.random() < 0.4:
        chosen = rng.choice(len(all_pairs), size=int(rng.integers(1, 4)), replace=False)
        latency["pairs"] = [
            {"region": all_pairs[i][0], "site": all_pairs[i][1], "ms": _nice(rng, 1, 30, 1)}
            for i in sorted(chosen.tolist())
        ]
    if rng.random() < 0.4:
        chosen = rng.choice(len(all_pairs), size=int(rng.integers(1, 4)), replace=False)
        transfer["pairs"] = [
            {"region": all_pairs[i][0], "site": all_pairs[i][1], "per_gb": _nice(rng, 0, 0.3, 3)}
            for i in sorted(chosen.tolist())
        ]
    if latency:
        network["latency"] = latency
    if transfer:
        network["transfer"] = transfer
    if network:
        data["network"] = network
    if rng.random() < 0.6:
        data["policy"] = {"carbon_price": float(rng.choice([10, 30, 50, 80, 150]))}

    _make_some_hard(rng, data)
    return data


def _make_some_hard(rng: np.random.Generator, data: dict[str, Any]) -> None:
    """Make classes hard (``unmet_penalty: null``) where that is clearly feasible.

    A hard class gets no latency limit; its demand, summed with the other hard classes', must
    stay below ``HARD_MARGIN`` of the capacity its allowed sites can deliver (IT capacity, or the
    power cap over the peak PUE when lower) in every period. Soft classes are unaffected, so
    every hard row can be met whatever the other classes do.
    """
    candidates = [k for k in data["classes"] if rng.random() < 0.35]
    if not candidates:
        return
    d = read_instance(data)
    T = len(d.periods)
    usable = []
    for j, site in enumerate(data["sites"]):
        cap = float(site["capacity_mw"])
        if site.get("power_cap_mw") is not None:
            cap = min(cap, float(site["power_cap_mw"]) / max(d.pue[j]))
        usable.append(cap)
    hard_total = [0.0] * T
    for klass in candidates:
        k = d.classes.index(klass["id"])
        extra = [sum(d.demand[r][k][t] for r in range(len(d.regions))) for t in range(T)]
        totals = [h + e for h, e in zip(hard_total, extra, strict=True)]
        hard_so_far = [c for c in data["classes"] if c.get("unmet_penalty", 0) is None]
        reach = min(
            sum(usable[j] for j in d.allowed[d.classes.index(c["id"])])
            for c in [*hard_so_far, klass]
        )
        if max(totals) <= HARD_MARGIN * reach:
            klass["unmet_penalty"] = None
            klass.pop("max_latency_ms", None)
            hard_total = totals


# --------------------------------------------------------------------------------------------
# Features, for the coverage test
# --------------------------------------------------------------------------------------------


def _series_kinds(value: Any) -> set[str]:
    if isinstance(value, int | float):
        return {"series_number"}
    if isinstance(value, list):
        return {"series_list"}
    return {"profile_mean" if "mean" in value else "profile_max"}


def features(data: dict[str, Any]) -> set[str]:
    """The v1 features an instance uses (read from its data alone)."""
    found: set[str] = set()
    d = read_instance(data)
    periods = data["periods"]
    found.add("periods_list" if isinstance(periods, list) else "periods_short")
    if len(set(d.hours)) > 1:
        found.add("hours_mixed")
    if len(set(d.weight)) > 1:
        found.add("weights_mixed")
    if any(h != 1 for h in d.hours):
        found.add("hours_not_1")
    if any(w != 1 for w in d.weight):
        found.add("weights_not_1")
    class_ids = d.classes
    for region in data["regions"]:
        if set(class_ids) - set(region["demand"]):
            found.add("demand_missing")
        for value in region["demand"].values():
            found |= _series_kinds(value)
    for j, site in enumerate(data["sites"]):
        for key in ("pue", "price", "carbon_intensity", "renewable_mw"):
            if key in site:
                found |= _series_kinds(site[key])
        if isinstance(site["pue"], list) and min(site["pue"]) > 1:
            found.add("pue_series")
        if isinstance(site["price"], list) and len(set(site["price"])) > 1:
            found.add("price_tou")
        if not isinstance(site.get("carbon_intensity", 0), int | float) and max(
            d.carbon_intensity[j]
        ) > 0:
            found.add("carbon_series")
        if not isinstance(site.get("renewable_mw", 0), int | float) and max(d.renewable_mw[j]) > 0:
            found.add("renewable_series")
            if site.get("renewable_price", 0) > 0:
                found.add("renewable_price")
        if site.get("power_cap_mw") is not None:
            found.add("power_cap")
    R, S = len(d.regions), len(d.sites)
    for k, klass in enumerate(data["classes"]):
        if klass.get("allowed_sites") is not None:
            found.add("allowed_sites")
        if klass.get("latency_cost", 0) > 0:
            found.add("latency_cost")
        hard = "unmet_penalty" in klass and klass["unmet_penalty"] is None
        if hard and any(max(d.demand[r][k]) > 0 for r in range(R)):
            found.add("hard_demand")
        limit = d.max_latency[k]
        if limit is not None and any(d.latency[r][s] > limit for r in range(R) for s in range(S)):
            found.add("latency_prunes")
        if d.data_gb[k] > 0 and any(d.transfer[r][s] > 0 for r in range(R) for s in range(S)):
            found.add("transfer_cost")
        for r in range(R):
            if max(d.demand[r][k]) > 0 and not any(d.arc(r, s, k) for s in range(S)):
                found.add("unreachable_demand")
    network = data.get("network", {})
    if network.get("latency", {}).get("pairs"):
        found.add("latency_pairs")
    if network.get("transfer", {}).get("pairs"):
        found.add("transfer_pairs")
    if d.carbon_price > 0:
        found.add("carbon_price")
    return found | _full_features(data, d)


def _full_features(data: dict[str, Any], d: Any) -> set[str]:
    """The features of the whole v1 model, each also as ``alone:F`` or ``combined:F``."""
    R, S, T = len(d.regions), len(d.sites), len(d.periods)
    found: set[str] = set()
    new: set[str] = set()
    for k, klass in enumerate(data["classes"]):
        if not any(max(d.demand[r][k]) > 0 for r in range(R)):
            continue
        hard = "unmet_penalty" in klass and klass["unmet_penalty"] is None
        if d.max_delay[k] > 0:
            new.add("deferral")
            found.add("delay_whole_cycle" if d.max_delay[k] >= T else "delay_window")
            if hard:
                found.add("hard_deferral")
        if d.single[k]:
            new.add("single_assignment")
            if hard:
                found.add("hard_single")
            if d.max_delay[k] > 0:
                found.add("single_deferrable")
    if any(cost is not None for cost in d.open_cost):
        new.add("candidate_site")
    for s in range(S):
        if d.expansions[s]:
            new.add("expansion")
            found.add("expansion_at_" + ("candidate" if d.open_cost[s] is not None else "existing"))
            if len(d.expansions[s]) > 1:
                found.add("expansion_options")
        if any("max_units" not in e for e in data["sites"][s].get("expansions", [])):
            found.add("expansion_default_units")
    for corridor in d.corridors:
        if any(
            d.data_gb[k] > 0 and d.arc(r, s, k)
            for r in corridor.regions
            for s in corridor.sites
            for k in range(len(d.classes))
        ):
            new.add("corridor")
    if len(d.corridors) > 1:
        found.add("corridors_several")
    if d.carbon_cap is not None:
        new.add("carbon_cap")
    if d.min_share > 0:
        new.add("renewable_share")
    for feature in new:
        found.add(f"{'alone' if len(new) == 1 else 'combined'}:{feature}")
    if new:
        found.add("mip" if new & MIP_FEATURES else "lp_full")
    return found | new


def is_mip(data: dict[str, Any]) -> bool:
    """Whether the instance has integer decisions (candidate sites, expansions, single)."""
    return any(s.get("open_cost") is not None or s.get("expansions") for s in data["sites"]) or any(
        k.get("assignment", "split") == "single" for k in data["classes"]
    )


def outcome_features(result: Any, tol: float = 1e-6) -> set[str]:
    """Features the reference optimum shows: ``result`` is a ``reference.Result``."""
    d = result.data
    found: set[str] = set()
    for (s, t), g in result.g.items():
        cap = d.power_cap[s]
        # binding, and tighter than what the IT capacity alone allows
        if (
            cap is not None
            and g + result.v[s, t] >= cap - tol * max(1.0, cap)
            and cap < d.capacity[s] * d.pue[s][t] - tol
        ):
            found.add("power_cap_binding")
    for (r, k, _), u in result.u.items():
        reachable = any(d.arc(r, s, k) for s in range(len(d.sites)))
        if u > tol and reachable:
            found.add("unmet_reachable")
    for val in result.o.values():
        found.add("candidate_opens" if val > 0.5 else "candidate_stays_closed")
    if any(val > 0.5 for val in result.n.values()):
        found.add("expansion_built")
    if any(val > tol for val in result.b.values()):
        found.add("backlog")
    for r in range(len(d.regions)):
        for k in range(len(d.classes)):
            if not d.single[k] or max(d.demand[r][k]) <= 0:
                continue
            chosen = sum(val for (rr, _, kk), val in result.y.items() if (rr, kk) == (r, k))
            reachable = any(d.arc(r, s, k) for s in range(len(d.sites)))
            if chosen > 0.5:
                found.add("single_served")
            elif reachable:
                found.add("single_unmet_reachable")  # all or nothing: none of it served
    return found


# what to remove from an instance to relax one constraint family, for ``binding_features``
RELAXATIONS = {
    "deferral_shifts": "deferral",
    "corridor_binding": "corridor",
    "carbon_cap_binding": "carbon_cap",
    "renewable_share_binding": "renewable_share",
}


def relaxed(data: dict[str, Any], family: str) -> dict[str, Any]:
    """A copy of the instance without one family: deferral (D = 0 for every class), corridors,
    the carbon cap or the renewable floor."""
    out = copy.deepcopy(data)
    if family == "deferral":
        for klass in out["classes"]:
            klass.pop("max_delay_periods", None)
    elif family == "corridor":
        out.get("network", {}).pop("corridors", None)
    elif family == "carbon_cap":
        out.get("policy", {}).pop("carbon_cap_t", None)
    elif family == "renewable_share":
        out.get("policy", {}).pop("min_renewable_share", None)
    else:
        raise ValueError(family)
    return out


def binding_features(data: dict[str, Any], result: Any, rel: float = 1e-6) -> set[str]:
    """Families that change the reference optimum (``result``) strictly.

    A corridor, the carbon cap or the renewable floor binds when removing it makes the optimum
    cheaper. ``deferral_shifts``: removing deferral (D = 0) makes the optimum dearer, so every
    optimum of the instance has some backlog: work served (or dropped) later than it arrived.
    """
    found: set[str] = set()
    d = result.data
    present = {
        "deferral": any(D > 0 for D in d.max_delay),
        "corridor": bool(d.corridors),
        "carbon_cap": d.carbon_cap is not None,
        "renewable_share": d.min_share > 0,
    }
    for name, family in RELAXATIONS.items():
        if not present[family]:
            continue
        loose = solve_full(relaxed(data, family))
        assert loose.status == "Optimal"
        assert loose.objective is not None
        saving = loose.objective - result.objective
        if family != "deferral":
            saving = -saving
        if saving > rel * max(1.0, abs(result.objective)):
            found.add(name)
    return found


# --------------------------------------------------------------------------------------------
# The whole v1 model: deferral, corridors, carbon cap, renewable floor, candidate sites,
# expansions, single assignment
# --------------------------------------------------------------------------------------------

FULL_FEATURES = (
    "deferral",
    "corridor",
    "carbon_cap",
    "renewable_share",
    "candidate_site",
    "expansion",
    "single_assignment",
)
MIP_FEATURES = frozenset({"candidate_site", "expansion", "single_assignment"})
PLANNING_PRICE = 300.0  # a typical cost of a MWh, to scale opening and expansion costs


def planned_features(seed: int) -> frozenset[str]:
    """The new features ``random_instance_full(seed)`` is built around.

    Every third seed has exactly one, in turn (so each appears alone, once every 21 seeds); the
    others combine two or more, drawn at random.
    """
    if seed % 3 == 0:
        return frozenset({FULL_FEATURES[(seed // 3) % len(FULL_FEATURES)]})
    rng = np.random.default_rng([seed, 7])
    chosen = {f for f in FULL_FEATURES if rng.random() < 0.4}
    while len(chosen) < 2:
        chosen.add(str(rng.choice(FULL_FEATURES)))
    return frozenset(chosen)


def _sig(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits."""
    if value <= 0:
        return 0.0
    return float(f"{value:.{digits}g}")


def random_instance_full(seed: int) -> dict[str, Any]:
    """A small instance using the new features of ``planned_features(seed)``, as YAML would load.

    At most 4 regions, 4 sites, 3 classes and 4 periods, so that the MIPs (candidate sites,
    expansions, single assignment) solve to proven optimality in a fraction of a second. The
    instance is built in three steps: the network and the demand; hard classes where clearly
    feasible (``_make_some_hard_full``); then the caps of corridors, carbon and the renewable
    floor, calibrated on the reference optimum without them (``_calibrate``), binding where all
    demand is soft (dropping demand always stays feasible) and generous where some is hard.
    Returns a fresh dict on every call.
    """
    return copy.deepcopy(_full_instance(seed))


@functools.cache
def _full_instance(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng([seed, 2024])
    plan = planned_features(seed)
    T = int(rng.integers(2, 5)) if "deferral" in plan else int(rng.integers(1, 5))
    R = int(rng.integers(2, 5))
    S = int(rng.integers(2, 5))
    K = int(rng.integers(1, 4))
    data: dict[str, Any] = {"version": 1, "name": f"full-{seed}"}

    if rng.random() < 0.5:
        periods: Any = {"count": T}
        if rng.random() < 0.7:
            periods["hours"] = float(rng.choice(HOURS))
        if rng.random() < 0.7:
            periods["weight"] = float(rng.choice(WEIGHTS))
    else:
        periods = []
        for t in range(T):
            spec: dict[str, Any] = {"id": f"h{t}"}
            if rng.random() < 0.8:
                spec["hours"] = float(rng.choice(HOURS))
            if rng.random() < 0.6:
                spec["weight"] = float(rng.choice(WEIGHTS))
            periods.append(spec)
    data["periods"] = periods
    _, hours, weights = read_periods(periods)
    annual_hours = sum(h * w for h, w in zip(hours, weights, strict=True))

    profile_names: list[str] = []
    if rng.random() < 0.7:
        data["profiles"] = {
            f"p{p}": [_nice(rng, 0.2, 1.5, 2) for _ in range(T)]
            for p in range(int(rng.integers(1, 3)))
        }
        profile_names = list(data["profiles"])

    class_ids = [f"c{k}" for k in range(K)]
    site_ids = [f"s{j}" for j in range(S)]
    region_ids = [f"r{i}" for i in range(R)]

    classes = []
    for cid in class_ids:
        klass: dict[str, Any] = {"id": cid}
        if rng.random() < 0.4:
            klass["max_latency_ms"] = _nice(rng, 10, 50, 1)
        if rng.random() < 0.5:
            klass["data_gb_per_mwh"] = float(rng.choice([5, 20, 50, 200, 500, 1000]))
        roll = rng.random()
        if roll < 0.7:
            klass["unmet_penalty"] = float(rng.choice([300, 800, 2000, 5000, 20000]))
        elif roll < 0.8:
            klass["unmet_penalty"] = 1.0e5
        if rng.random() < 0.4:
            klass["latency_cost"] = _nice(rng, 0.5, 20, 1)
        if rng.random() < 0.25:
            n = int(rng.integers(1, S + 1))
            klass["allowed_sites"] = sorted(
                str(s) for s in rng.choice(site_ids, size=n, replace=False)
            )
        classes.append(klass)
    # the new class-level features: a non-empty random subset of the classes each
    if "deferral" in plan:
        for k in _subset(rng, K):
            # D = 1 .. 5 over T <= 4 periods: D >= T (the whole cycle) happens too
            classes[k]["max_delay_periods"] = int(rng.choice([1, 2, 2, 3, 5]))
    if "single_assignment" in plan:
        for k in _subset(rng, K):
            classes[k]["assignment"] = "single"
    if "corridor" in plan:
        k = int(rng.integers(K))
        classes[k]["data_gb_per_mwh"] = float(rng.choice([200, 500, 1000]))
    data["classes"] = classes

    regions = []
    for rid in region_ids:
        demand = {}
        for cid in class_ids:
            if rng.random() < 0.15:
                continue
            demand[cid] = _series(rng, T, profile_names, 2, 60)
        regions.append({"id": rid, "location": _location(rng), "demand": demand})
    for klass in classes:
        # a deferrable or single class with no demand at all would not test its feature
        featured = klass.get("max_delay_periods") or klass.get("assignment") == "single"
        if featured and not any(klass["id"] in region["demand"] for region in regions):
            regions[0]["demand"][klass["id"]] = 20.0
    data["regions"] = regions

    profiles_now = data.get("profiles", {})
    peak = 0.0
    for region in regions:
        totals = [0.0] * T
        for value in region["demand"].values():
            for t, mw in enumerate(expand_series(value, T, profiles_now)):
                totals[t] += mw
        peak += max(totals, default=0.0)
    if "expansion" in plan:
        tightness = float(rng.choice([0.3, 0.6, 1.2], p=[0.4, 0.4, 0.2]))
    else:
        tightness = float(rng.choice([0.4, 0.8, 1.5, 3.0], p=[0.2, 0.3, 0.3, 0.2]))
    cheap = int(rng.integers(T))  # the cheap period of time-of-use prices
    sites = []
    for sid in site_ids:
        capacity = max(5.0, round(peak * tightness / S * float(rng.uniform(0.5, 1.5))))
        site: dict[str, Any] = {
            "id": sid,
            "location": _location(rng),
            "capacity_mw": capacity,
            "pue": _series(rng, T, profile_names, 1.05, 1.6, digits=2, kinds=("number", "list")),
        }
        if "deferral" in plan and T > 1 and rng.random() < 0.8:
            # time-of-use prices with one cheap period, shared by the sites: worth waiting for
            site["price"] = [
                _nice(rng, 60, 150, 0) if t == cheap else _nice(rng, 300, 700, 0) for t in range(T)
            ]
        else:
            site["price"] = _series(rng, T, [], 200, 700, digits=0)
        if "carbon_cap" in plan or rng.random() < 0.7:
            site["carbon_intensity"] = _series(rng, T, profile_names, 0.1, 0.9, digits=2)
        if rng.random() < (0.8 if "renewable_share" in plan else 0.5):
            site["renewable_mw"] = _series(rng, T, profile_names, 0, capacity, digits=0)
            if rng.random() < 0.8:
                # .37: never equal to a grid price plus carbon (see the module docstring)
                site["renewable_price"] = float(rng.integers(20, 600)) + 0.37
        if rng.random() < 0.25:
            pue_peak = max(expand_series(site["pue"], T, profiles_now))
            site["power_cap_mw"] = round(capacity * pue_peak * float(rng.uniform(0.5, 1.2)), 1)
        sites.append(site)
    if "candidate_site" in plan:
        _add_candidates(rng, sites, annual_hours)
    if "expansion" in plan:
        _add_expansions(rng, sites, annual_hours)
    data["sites"] = sites

    network: dict[str, Any] = {}
    if rng.random() < 0.4:
        network["latency"] = {"base_ms": _nice(rng, 0.5, 5, 1)}
    transfer: dict[str, Any] = {}
    if rng.random() < 0.6:
        transfer["per_gb"] = _nice(rng, 0.01, 0.3, 3)
    if rng.random() < 0.6:
        transfer["per_gb_per_1000km"] = _nice(rng, 0.02, 0.3, 3)
    if transfer:
        network["transfer"] = transfer
    if network:
        data["network"] = network
    if rng.random() < 0.5:
        data["policy"] = {"carbon_price": float(rng.choice([10, 30, 50, 80, 150]))}

    hard = _make_some_hard_full(rng, data)
    if "corridor" in plan:
        # hard classes carry no data: a corridor, binding or not, never cuts hard demand
        for klass in data["classes"]:
            if klass["id"] in hard:
                klass.pop("data_gb_per_mwh", None)
    _calibrate(rng, data, plan, bool(hard))
    return data


def _add_candidates(
    rng: np.random.Generator, sites: list[dict[str, Any]], annual_hours: float
) -> None:
    """Make a non-empty random subset of the sites candidates (an ``open_cost``)."""
    for j in _subset(rng, len(sites)):
        # from a twentieth to twice the site's value at a typical price: some open, some not
        value = sites[j]["capacity_mw"] * annual_hours * PLANNING_PRICE
        sites[j]["open_cost"] = _sig(value * float(np.exp(rng.uniform(np.log(0.05), 0.7))))


def _add_expansions(
    rng: np.random.Generator, sites: list[dict[str, Any]], annual_hours: float
) -> None:
    """Give a non-empty random subset of the sites one or two expansion options."""
    for j in _subset(rng, len(sites)):
        options = []
        for name in ("hall", "pod")[: int(rng.integers(1, 3))]:
            size = max(2.0, round(sites[j]["capacity_mw"] * float(rng.uniform(0.2, 0.7))))
            option: dict[str, Any] = {
                "id": name,
                "size_mw": size,
                "annual_cost": _sig(
                    size * annual_hours * PLANNING_PRICE * float(rng.uniform(0.05, 1.0))
                ),
            }
            if rng.random() < 0.7:
                option["max_units"] = int(rng.integers(1, 4))
            options.append(option)
        sites[j]["expansions"] = options


def _subset(rng: np.random.Generator, n: int) -> list[int]:
    """A non-empty random subset of range(n), sorted."""
    size = int(rng.integers(1, n + 1))
    return sorted(int(i) for i in rng.choice(n, size=size, replace=False))


def _make_some_hard_full(rng: np.random.Generator, data: dict[str, Any]) -> set[str]:
    """Make classes hard where that is clearly feasible, whatever else the instance holds.

    Conservative, so that it holds with single assignment (one site per region and class),
    deferral and candidate sites alike: the hard classes lose their latency limit, and all hard
    demand together, in every period, fits in ``HARD_MARGIN`` of one existing site allowed for
    every hard class (its IT capacity, or its power cap over its peak PUE when lower). Returns
    the ids of the hard classes.
    """
    chosen = [k for k in data["classes"] if rng.random() < 0.3]
    if not chosen:
        return set()
    d = read_instance(data)
    T, S = len(d.periods), len(d.sites)
    usable = []
    for j, site in enumerate(data["sites"]):
        cap = float(site["capacity_mw"]) if site.get("open_cost") is None else 0.0
        if site.get("power_cap_mw") is not None:
            cap = min(cap, float(site["power_cap_mw"]) / max(d.pue[j]))
        usable.append(cap)
    hard: set[str] = set()
    hard_total = [0.0] * T
    common = set(range(S))
    for klass in chosen:
        k = d.classes.index(klass["id"])
        totals = [
            hard_total[t] + sum(d.demand[r][k][t] for r in range(len(d.regions))) for t in range(T)
        ]
        now_common = common & d.allowed[k]
        best = max((usable[j] for j in now_common), default=0.0)
        if max(totals) <= HARD_MARGIN * best:
            klass["unmet_penalty"] = None
            klass.pop("max_latency_ms", None)
            hard.add(klass["id"])
            hard_total, common = totals, now_common
    return hard


def _calibrate(
    rng: np.random.Generator, data: dict[str, Any], plan: frozenset[str], hard: bool
) -> None:
    """Set corridor, carbon-cap and renewable-floor levels from the reference optimum without.

    All demand soft: the caps cut into that optimum (a corridor at 30-80% of its peak use, the
    cap at 30-85% of its emissions, the floor between its renewable share and 1), and dropping
    demand keeps any cap feasible. Some demand hard: the caps are generous (nonbinding at that
    optimum), and the final instance is checked to be feasible, loosened otherwise.
    """
    wanted = plan & {"corridor", "carbon_cap", "renewable_share"}
    if not wanted:
        return
    base = solve_full(data)
    assert base.status == "Optimal", base.status
    d = base.data
    R, S, T = len(d.regions), len(d.sites), len(d.periods)
    a = d.annual
    policy = data.setdefault("policy", {})
    if "corridor" in wanted:
        pair_use = {
            (r, s): max(
                sum(
                    d.data_gb[k] * GBPS_PER_GB_PER_H * mw
                    for (rr, ss, k, tt), mw in base.x.items()
                    if (rr, ss, tt) == (r, s, t)
                )
                for t in range(T)
            )
            for r in range(R)
            for s in range(S)
        }
        top = max(pair_use, key=lambda key: (pair_use[key], key))
        regions = {top[0]} | {r for r in range(R) if rng.random() < 0.3}
        site_set = {top[1]} | {s for s in range(S) if rng.random() < 0.3}
        corridors = [(regions, site_set, "binding")]
        if rng.random() < 0.3:
            corridors.append(({int(rng.integers(R))}, {int(rng.integers(S))}, "generous"))
        specs = []
        for c, (rs, ss, kind) in enumerate(corridors):
            peak = max(
                sum(
                    d.data_gb[k] * GBPS_PER_GB_PER_H * mw
                    for (r, s, k, tt), mw in base.x.items()
                    if tt == t and r in rs and s in ss
                )
                for t in range(T)
            )
            if kind == "binding" and peak > 0.05:
                capacity = round(peak * float(rng.uniform(0.3, 0.8)), 2)
            else:
                capacity = round(peak * 1.5 + 1.0, 2)
            specs.append(
                {
                    "id": f"l{c}",
                    "capacity_gbps": capacity,
                    "regions": [d.regions[r] for r in sorted(rs)],
                    "sites": [d.sites[s] for s in sorted(ss)],
                }
            )
        data.setdefault("network", {})["corridors"] = specs
    if "carbon_cap" in wanted:
        emitted = sum(a[t] * d.carbon_intensity[s][t] * g for (s, t), g in base.g.items())
        if hard or emitted < 1.0:
            policy["carbon_cap_t"] = round(emitted * 1.2 + 1.0, 1)
        else:
            policy["carbon_cap_t"] = round(emitted * float(rng.uniform(0.3, 0.85)), 1)
    if "renewable_share" in wanted:
        ren = sum(a[t] * v for (_, t), v in base.v.items())
        facility = ren + sum(a[t] * g for (_, t), g in base.g.items())
        share = ren / facility if facility > 0 else 0.0
        if hard:
            floor = math.floor(share * 80) / 100
        else:
            floor = min(0.95, math.ceil((share + (1 - share) * rng.uniform(0.1, 0.5)) * 100) / 100)
        policy["min_renewable_share"] = floor
    if hard:
        for _ in range(8):
            if solve_full(data).status == "Optimal":
                return
            for spec in data.get("network", {}).get("corridors", []):
                spec["capacity_gbps"] = round(spec["capacity_gbps"] * 2 + 1.0, 2)
            if "carbon_cap_t" in policy:
                policy["carbon_cap_t"] = round(policy["carbon_cap_t"] * 2 + 1.0, 1)
            if "min_renewable_share" in policy:
                policy["min_renewable_share"] = math.floor(policy["min_renewable_share"] * 50) / 100
        raise AssertionError("could not make the instance feasible")


# --------------------------------------------------------------------------------------------
# Hard demand above the existing capacity: opening or building is needed
# --------------------------------------------------------------------------------------------

BUILD_SHARE = (0.15, 0.6)  # the peak hard demand: existing capacity plus this share of the rest


def random_instance_build(seed: int) -> dict[str, Any]:
    """``random_instance_full(seed)`` made into a MIP whose hard demand the existing sites
    cannot serve: some candidate sites opened or expansions built are needed.

    The hard classes (a non-empty random subset) lose their latency limit, residency, data,
    deferral and single assignment (each can be served anywhere, in its period, split), and
    their demand is scaled so that its peak over the periods is the existing capacity plus
    ``BUILD_SHARE`` of what candidate sites and expansions (at their ``max_units``) can add.
    Power caps, the carbon cap and the renewable floor are dropped, so the hard demand always
    fits. The other classes stay as they were (soft, deferrable, single, on corridors).
    Returns a fresh dict on every call.
    """
    return copy.deepcopy(_build_instance(seed))


@functools.cache
def _build_instance(seed: int) -> dict[str, Any]:
    data = random_instance_full(seed)
    rng = np.random.default_rng([seed, 4242])
    data["name"] = f"build-{seed}"
    policy = data.get("policy", {})
    policy.pop("carbon_cap_t", None)
    policy.pop("min_renewable_share", None)
    sites = data["sites"]
    for site in sites:
        site.pop("power_cap_mw", None)
    _, hours, weights = read_periods(data["periods"])
    annual_hours = sum(h * w for h, w in zip(hours, weights, strict=True))
    if not any("open_cost" in site for site in sites) or rng.random() < 0.3:
        _add_candidates(rng, sites, annual_hours)
    if not any(site.get("expansions") for site in sites) and rng.random() < 0.6:
        _add_expansions(rng, sites, annual_hours)
    hard = [data["classes"][k]["id"] for k in _subset(rng, len(data["classes"]))]
    for klass in data["classes"]:
        if klass["id"] in hard:
            for key in ("max_latency_ms", "allowed_sites", "data_gb_per_mwh",
                        "max_delay_periods", "assignment"):
                klass.pop(key, None)
            klass["unmet_penalty"] = None
    regions = data["regions"]
    if not any(cid in region["demand"] for cid in hard for region in regions):
        regions[0]["demand"][hard[0]] = 20.0
    d = read_instance(data)
    existing = sum(site["capacity_mw"] for site in sites if "open_cost" not in site)
    extra = sum(site["capacity_mw"] for site in sites if "open_cost" in site) + sum(
        option.size * option.max_units for options in d.expansions for option in options
    )
    peak = max(
        sum(d.demand[r][d.classes.index(cid)][t] for r in range(len(regions)) for cid in hard)
        for t in range(len(d.periods))
    )
    factor = (existing + extra * float(rng.uniform(*BUILD_SHARE))) / peak
    for region in regions:
        for cid in hard:
            if cid in region["demand"]:
                region["demand"][cid] = _scaled(region["demand"][cid], factor)
    return data


def _scaled(series: Any, factor: float) -> Any:
    """A demand series (number, list or profile with mean or max) times ``factor``, rounded."""
    if isinstance(series, int | float):
        return round(series * factor, 2)
    if isinstance(series, list):
        return [round(value * factor, 2) for value in series]
    return {key: round(value * factor, 2) if key in ("mean", "max") else value
            for key, value in series.items()}


def hard_need(data: dict[str, Any]) -> list[float]:
    """Per period, the hard non-deferrable demand less the existing sites' capacity: what
    opened candidate sites and built expansions must supply (read from the data alone)."""
    d = read_instance(data)
    existing = sum(c for c, cost in zip(d.capacity, d.open_cost, strict=True) if cost is None)
    hard = [k for k in range(len(d.classes)) if d.penalty[k] is None and d.max_delay[k] == 0]
    return [
        sum(d.demand[r][k][t] for r in range(len(d.regions)) for k in hard) - existing
        for t in range(len(d.periods))
    ]
# Version 2: the policy fields of DESIGN.md §8
# --------------------------------------------------------------------------------------------

POLICY_FEATURES = ("certificates", "green_share", "utilization", "water_cap", "water_price")


def planned_policy(seed: int) -> frozenset[str]:
    """The §8 features ``random_instance_policy(seed)`` is built around: every third seed one
    alone, in turn; the others two or more. ``certificates`` come with green-share floors (alone
    they buy nothing)."""
    if seed % 3 == 0:
        return frozenset({POLICY_FEATURES[(seed // 3) % len(POLICY_FEATURES)]})
    rng = np.random.default_rng([seed, 11])
    chosen = {f for f in POLICY_FEATURES if rng.random() < 0.45}
    while len(chosen) < 2:
        chosen.add(str(rng.choice(POLICY_FEATURES)))
    return frozenset(chosen)


def random_instance_policy(seed: int) -> dict[str, Any]:
    """``random_instance_full(seed)`` as a version-2 instance with the §8 fields of
    ``planned_policy(seed)``, calibrated on the reference optimum without them (see
    ``_calibrate_policy``); ``wue`` on most sites and ``max_pue`` on some whatever the plan
    (water is reported even unpriced). Odd seeds are made LPs (candidate sites become existing
    ones, expansions and single assignment are dropped), so that LPs, whose shadow prices are
    checked, are at least half. Returns a fresh dict on every call."""
    return copy.deepcopy(_policy_instance(seed))


@functools.cache
def _policy_instance(seed: int) -> dict[str, Any]:
    data = random_instance_full(seed)
    if seed % 2:
        for site in data["sites"]:
            site.pop("open_cost", None)
            site.pop("expansions", None)
        for klass in data["classes"]:
            klass.pop("assignment", None)
    data["version"] = 2
    data["name"] = f"policy-{seed}"
    rng = np.random.default_rng([seed, 2025])
    T = len(read_periods(data["periods"])[0])
    profile_names = list(data.get("profiles", {}))
    for site in data["sites"]:
        if rng.random() < 0.8:
            # litres per kWh of IT energy: dry cooling to open towers (domain data §8)
            site["wue"] = _series(rng, T, profile_names, 0.05, 2.0, digits=2)
        if rng.random() < 0.3:
            site["max_pue"] = float(rng.choice([1.2, 1.25]))
    _calibrate_policy(rng, data, planned_policy(seed))
    return data


def _site_use(result: Any) -> dict[str, list[float]]:
    """Per site, from a reference optimum: IT, facility, renewable and water energy a year."""
    d = result.data
    S, T = len(d.sites), len(d.periods)
    a = d.annual
    it = [0.0] * S
    water = [0.0] * S
    for (_, s, _, t), mw in result.x.items():
        it[s] += a[t] * mw
        water[s] += a[t] * (d.wue[s][t] if d.wue else 0.0) * mw
    renewable = [sum(a[t] * result.v[s, t] for t in range(T)) for s in range(S)]
    facility = [renewable[s] + sum(a[t] * result.g[s, t] for t in range(T)) for s in range(S)]
    return {"it": it, "facility": facility, "renewable": renewable, "water": water}


def _calibrate_policy(rng: np.random.Generator, data: dict[str, Any], plan: frozenset[str]) -> None:
    """Set the §8 fields so that they bind, from the reference optimum with the water price
    (if planned) and without the rest: green floors between a site's green share and 1 (at
    sites below 90%), utilisation floors between its utilisation and 1 (at sites with capacity
    below 90% used), water caps at 30-90% of its water. Prices end in .61 (against a grid price
    plus carbon, at most one decimal, and a renewable price ending in .37: no ties). Where the
    instance is infeasible (floors and hard demand may conflict) each level moves halfway back
    to the base optimum's, which meets them all, and at last to it (rounded to the safe side).
    """
    sites, policy = data["sites"], data.setdefault("policy", {})
    S = len(sites)
    if "water_price" in plan:
        policy["water_price"] = float(rng.choice([2, 10, 40, 120])) + 0.61
    capped = _subset(rng, S) if "water_cap" in plan else []
    for j, site in enumerate(sites):
        if j in capped or "water_price" in plan:
            site.setdefault("wue", _nice(rng, 0.2, 1.5, 2))
    base = solve_full(data)
    assert base.status == "Optimal", base.status
    use = _site_use(base)
    hours = sum(base.data.annual)
    levels: dict[tuple[int, str], float] = {}  # (site, field) -> the base optimum's level
    if "certificates" in plan:
        policy["certificate_price"] = float(rng.choice([5, 20, 60, 150])) + 0.61
    if plan & {"certificates", "green_share"}:
        for j in range(S):
            share = use["renewable"][j] / use["facility"][j] if use["facility"][j] > 0 else 1.0
            if share < 0.9 and rng.random() < 0.7:
                levels[j, "min_green_share"] = share
                sites[j]["min_green_share"] = math.ceil(
                    (share + (1 - share) * rng.uniform(0.1, 0.6)) * 100) / 100
    if "utilization" in plan:
        for j in range(S):
            cap = float(sites[j]["capacity_mw"])
            now = use["it"][j] / (hours * cap) if cap > 0 and hours > 0 else 1.0
            if now < 0.9 and rng.random() < 0.7:
                levels[j, "min_utilization"] = now
                sites[j]["min_utilization"] = math.ceil(
                    (now + (1 - now) * rng.uniform(0.1, 0.5)) * 100) / 100
    for j in capped:
        if use["water"][j] > 1.0:
            levels[j, "water_cap_m3"] = use["water"][j]
            sites[j]["water_cap_m3"] = round(use["water"][j] * float(rng.uniform(0.3, 0.9)), 1)
    for attempt in range(8):
        if solve_full(data).status == "Optimal":
            return
        if attempt == 7:
            break
        for (j, key), level in levels.items():
            moved = level + (sites[j][key] - level) / 2 if attempt < 6 else level
            sites[j][key] = (math.ceil(moved * 10) / 10 if key == "water_cap_m3"
                             else math.floor(moved * 1000) / 1000 if attempt == 6
                             else math.ceil(moved * 1000) / 1000)
    raise AssertionError("could not make the instance feasible")


def policy_features(data: dict[str, Any], result: Any, tol: float = 1e-6) -> set[str]:
    """What a version-2 instance and its reference optimum show: ``mip``/``lp``, certificates
    bought, water priced, and each floor or cap that holds with equality at some site."""
    d = result.data
    out = {"mip" if is_mip(data) else "lp"}
    use = _site_use(result)
    hours = sum(d.annual)
    if sum(result.q.values()) > tol:
        out.add("certificates_bought")
    if d.water_price > 0 and result.costs.get("water", 0.0) > tol:
        out.add("water_priced")
    for s in range(len(d.sites)):
        share, floor, cap = d.min_green_share[s], d.min_utilization[s], d.water_cap[s]
        green = use["renewable"][s] + result.q.get(s, 0.0)
        if share is not None and use["facility"][s] > tol and (
                green <= share * use["facility"][s] + tol * max(1.0, use["facility"][s])):
            out.add("green_floor_binding")
        capacity = d.capacity[s] * result.o.get(s, 1.0) + sum(
            option.size * result.n.get((s, e), 0.0) for e, option in enumerate(d.expansions[s]))
        if floor is not None and capacity > 0 and (
                use["it"][s] <= floor * hours * capacity + tol * max(1.0, use["it"][s])):
            out.add("utilization_floor_binding")
        if cap is not None and use["water"][s] >= cap - tol * max(1.0, cap):
            out.add("water_cap_binding")
    return out

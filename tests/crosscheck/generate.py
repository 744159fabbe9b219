"""Random small eastwest instances for the cross-check (no ``optimizer`` imports).

``random_instance(seed)`` gives a plain dict, as YAML would load it: 2-5 regions, 2-4 sites,
1-4 classes, 1-6 periods, feasible or soft (hard demand only where it is clearly feasible). Over
the seeds the instances cover every v1 feature the model formulates today; ``features(data)``
names the features an instance uses and ``outcome_features(result)`` those its reference optimum
shows (a binding power cap, demand left unmet although it could reach a site).

Numbers are "nice" (a few decimals) but varied. Renewable prices, where given, end in .37, which a
grid price plus its carbon price (whole prices, carbon with one decimal at most) never does, and
grid prices are never 0, so they never tie with the default renewable price of 0 either: the split
of facility power between grid and renewable at the optimum is unique, and cost categories can be
compared, not only objectives (the cross-check asserts there is no tie).

Imports ``reference`` as a top-level module: pytest puts this directory on ``sys.path`` (it has no
``__init__.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from reference import expand_series, read_instance, read_periods

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
    return found


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
    return found

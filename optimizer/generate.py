"""Realistic instances at any size, deterministic for a seed (``eastwest generate``).

Eastern demand regions (lat 22-41, lon 110-122) with diurnal demand per class; about two thirds
western clusters (cheaper, dirtier grid, more renewables, lower PUE) and one third eastern sites
(close to users, PUE rising in the afternoon heat); time-of-use prices with a night valley;
latency classes of 10 and 25 ms round trip that prune a large share of the arcs (60-90% and
20-30%), and unconstrained batch classes; total capacity 1.3x mean demand. Used by the
benchmarks, the tests and anyone who wants to try their own scale.

With ``candidates=N`` (``eastwest generate --candidates N``) it is a planning MIP: N sites, drawn
at random, become candidate sites (an ``open_cost``, binary ``open``) with one expansion option
each (integer halls, ``max_units`` 3-6), so 2N integer decisions (:func:`_candidates`). Their
costs are estimates in the range of ``instances/china-2025-plan.yaml`` (:data:`CANDIDATE_NOTE`):
halls cheaper per MW than opening, so the optimum opens some candidates and expands those, not
all of them. The rest of the instance is drawn exactly as without candidates (the candidates
have their own random stream): ``candidates=0`` is the LP of before, unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_SEED = 20240601

# id, max_latency_ms (None: no limit), data_gb_per_mwh, latency_cost, demand share, profile
CLASSES: list[tuple[str, float | None, float, float, float, str]] = [
    ("realtime", 10.0, 50.0, 5.0, 0.15, "office"),
    ("interactive", 25.0, 20.0, 2.0, 0.30, "evening"),
    ("analytics", None, 100.0, 0.0, 0.30, "office"),
    ("training", None, 500.0, 0.0, 0.25, "flat"),
]


# Candidate sites (estimates, E): a hall costs 0.9 m CNY per MW-year in the west and 1.2 m in
# the east (+-15%), as in instances/china-2025-plan.yaml; opening a site builds its first phase
# (capacity_mw) at a 0-30% premium over halls (site works, substation) plus a fixed 15-45 m CNY
# a year (land, grid connection, fibre, staff). A hall is 30-50% of the first phase.
HALL_COST = {"west": 0.9e6, "east": 1.2e6}  # CNY per MW-year of IT capacity
HALL_COST_SPREAD = 0.15
OPEN_PREMIUM = (1.0, 1.3)
OPEN_FIXED = (1.5e7, 4.5e7)  # CNY a year
HALL_SHARE = (0.3, 0.5)  # of capacity_mw
HALL_UNITS = (3, 6)  # max_units, inclusive
CANDIDATE_NOTE = (
    "candidate sites (open_cost, expansions): ESTIMATES (E), annualised CNY. A hall costs 0.9 m "
    "CNY per MW-year west, 1.2 m east (+-15%, as instances/china-2025-plan.yaml); opening builds "
    "capacity_mw at a 0-30% premium over halls plus 15-45 m CNY a year fixed (land, grid, fibre, "
    "staff); power_cap_mw covers the full build-out.")


def _r(x: float, digits: int = 3) -> float:
    return round(float(x), digits)


def _rlist(values: np.ndarray, digits: int = 3) -> list[float]:
    return [round(v, digits) for v in np.asarray(values, dtype=float).tolist()]


def _tou_multiplier(T: int) -> np.ndarray:
    """Time-of-use price multiplier over a day: valley at night, peaks morning and evening."""
    hour = (np.arange(T) * 24 // T) % 24
    mult = np.ones(T)
    mult[hour < 8] = 0.45
    mult[(hour >= 8) & (hour < 11)] = 1.5
    mult[(hour >= 17) & (hour < 21)] = 1.6
    return mult


def _profiles(T: int) -> dict[str, np.ndarray]:
    h = np.arange(T) * 24.0 / T
    return {
        "office": 0.55 + 0.9 * np.exp(-(((h - 14.0) / 4.5) ** 2)),
        "evening": 0.5 + 1.0 * np.exp(-(((h - 20.5) / 3.0) ** 2))
        + 0.3 * np.exp(-(((h - 12.0) / 3.0) ** 2)),
        "flat": 1.0 + 0.08 * np.cos(2 * np.pi * (h - 3.0) / 24.0),
        "solar": np.clip(np.sin(np.pi * (h - 6.0) / 12.0), 0.0, None),
    }


def _regions(rng: np.random.Generator, R: int, T: int, chosen: list[tuple[Any, ...]],
             shapes: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Eastern cities; demand per class a diurnal shape with noise, a list of T values."""
    shares = np.array([c[4] for c in chosen])
    shares /= shares.sum()
    region_mean = rng.lognormal(np.log(25.0), 0.8, size=R)  # MW, all classes
    region_list: list[dict[str, Any]] = []
    for i in range(R):
        demand = {}
        for k, (cid, *_rest, profile) in enumerate(chosen):
            mean = region_mean[i] * shares[k] * rng.uniform(0.6, 1.4)
            shape = shapes[profile] / shapes[profile].mean()
            values = mean * shape * (1.0 + 0.05 * rng.standard_normal(T))
            demand[cid] = _rlist(np.clip(values, 0.0, None))
        region_list.append({
            "id": f"r{i:03d}",
            "location": [_r(rng.uniform(22, 41), 3), _r(rng.uniform(110, 122), 3)],
            "demand": demand,
        })
    return region_list


def _site(rng: np.random.Generator, j: int, west: bool, capacity: float, T: int,
          has_solar: bool) -> dict[str, Any]:
    """A western cluster (cheap, greener power) or an eastern site (close to users)."""
    tou = _tou_multiplier(T)
    h = np.arange(T) * 24.0 / T
    day_heat = np.exp(-(((h - 15.0) / 5.0) ** 2))
    lon = rng.uniform(100, 110) if west else rng.uniform(110, 122)
    site: dict[str, Any] = {
        "id": f"s{j:02d}",
        "zone": "west" if west else "east",
        "location": [_r(rng.uniform(25, 42), 3), _r(lon, 3)],
        "capacity_mw": _r(capacity, 1),
    }
    if west:
        pue_max = rng.uniform(1.12, 1.25)
        site["pue"] = _r(pue_max)
        base_price = rng.uniform(260, 360)
        site["carbon_intensity"] = _r(rng.uniform(0.55, 0.85))
    else:
        pue = rng.uniform(1.28, 1.42) + 0.08 * day_heat
        pue_max = float(pue.max())
        site["pue"] = _rlist(pue)
        base_price = rng.uniform(520, 720)
        site["carbon_intensity"] = _r(rng.uniform(0.45, 0.6))
    site["price"] = _rlist(base_price * tou, 2)
    if rng.random() < (0.6 if west else 0.2):
        if rng.random() < 0.5 and has_solar:
            site["renewable_mw"] = {"profile": "solar",
                                    "max": _r(capacity * rng.uniform(0.3, 0.9), 1)}
        else:  # wind: noisy, stronger at night
            wind = capacity * rng.uniform(0.2, 0.6) * (
                1.0 + 0.3 * np.cos(2 * np.pi * h / 24.0) + 0.2 * rng.standard_normal(T))
            site["renewable_mw"] = _rlist(np.clip(wind, 0.0, None), 1)
        site["renewable_price"] = _r(rng.uniform(180, 280), 2)
    if rng.random() < 0.6:
        site["power_cap_mw"] = _r(capacity * pue_max * rng.uniform(0.9, 1.1), 1)
    return site


def _candidates(rng: np.random.Generator, site_list: list[dict[str, Any]], n: int) -> None:
    """Make ``n`` of the sites, drawn by ``rng``, candidates: an ``open_cost`` and one expansion
    option (``hall``) each, the costs of :data:`CANDIDATE_NOTE`; a power cap grows to cover the
    site fully built out (else the halls could not be powered)."""
    for j in np.sort(rng.choice(len(site_list), n, replace=False)).tolist():
        site = site_list[j]
        cap = site["capacity_mw"]
        rate = HALL_COST[site["zone"]] * rng.uniform(1 - HALL_COST_SPREAD, 1 + HALL_COST_SPREAD)
        size = max(0.1, _r(cap * rng.uniform(*HALL_SHARE), 1))
        units = int(rng.integers(HALL_UNITS[0], HALL_UNITS[1] + 1))
        site["open_cost"] = round(cap * rate * rng.uniform(*OPEN_PREMIUM)
                                  + rng.uniform(*OPEN_FIXED), -4)
        site["expansions"] = [{"id": "hall", "size_mw": size,
                               "annual_cost": round(size * rate, -3), "max_units": units}]
        if "power_cap_mw" in site and cap > 0:
            site["power_cap_mw"] = _r(site["power_cap_mw"] * (cap + units * size) / cap, 1)


def generate(regions: int, sites: int, periods: int = 24, classes: int = 4,
             seed: int = DEFAULT_SEED, name: str | None = None,
             candidates: int = 0) -> dict[str, Any]:
    """A v1 instance as a plain dict (as YAML would load it), deterministic from ``seed``;
    ``candidates`` of its sites are build decisions (:func:`_candidates`)."""
    R, S, T, K, N = regions, sites, periods, classes, candidates
    if not (R >= 1 and S >= 1 and T >= 1 and 1 <= K <= len(CLASSES)):
        raise ValueError(f"need regions, sites, periods >= 1 and 1 <= classes <= {len(CLASSES)}")
    if not 0 <= N <= S:
        raise ValueError(f"need 0 <= candidates <= sites ({S}), not {N}")
    rng = np.random.default_rng([seed, R, S, T, K])
    shapes = _profiles(T)
    chosen = CLASSES[:K]
    region_list = _regions(rng, R, T, chosen, shapes)
    total_mean = sum(np.mean(v) for reg in region_list for v in reg["demand"].values())

    # sites: about 2/3 western clusters, 1/3 eastern
    n_west = round(S * 2 / 3)
    weights = rng.gamma(2.0, 1.0, size=S) * np.where(np.arange(S) < n_west, 1.5, 1.0)
    capacity = 1.3 * total_mean * weights / weights.sum()  # total = 1.3 x mean demand
    has_solar = bool(shapes["solar"].max() > 0)  # no daylight in a 1-period "day" at 0 h
    site_list = [_site(rng, j, j < n_west, float(capacity[j]), T, has_solar) for j in range(S)]
    if N:
        _candidates(np.random.default_rng([seed, R, S, T, K, N]), site_list, N)

    return {
        "version": 1,
        "name": name or f"generated-{R}x{S}x{T}x{K}{f'-c{N}' if N else ''}-seed{seed}",
        "currency": "CNY",
        "periods": {"count": T, "hours": 24.0 / T, "weight": 365.0},
        "profiles": {"solar": _rlist(shapes["solar"], 4)} if has_solar else {},
        "regions": region_list,
        "sites": site_list,
        "classes": [
            {"id": cid, "max_latency_ms": lim, "data_gb_per_mwh": gb, "latency_cost": lc,
             "unmet_penalty": 1.0e5}
            for cid, lim, gb, lc, _share, _profile in chosen
        ],
        "network": {"latency": {"base_ms": 2.0, "route_factor": 1.5},
                    "transfer": {"per_gb": 0.02, "per_gb_per_1000km": 0.03}},
        "policy": {"carbon_price": 80.0},
    }

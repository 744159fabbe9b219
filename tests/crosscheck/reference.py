"""An independent, element-by-element PuLP formulation of the eastwest model, from DESIGN.md.

This module shares no code with the ``optimizer`` package, on purpose: it reads the instance
dict (as YAML would load it) itself, following DESIGN.md §3 literally, and builds DESIGN.md §2
with plain Python loops, one ``LpVariable`` and one constraint at a time. The vectorised model
must agree with it.

Scope: the v1 features the package formulates today. Deferrable classes
(``max_delay_periods > 0``), ``assignment: single``, corridors, ``carbon_cap_t``,
``min_renewable_share > 0``, ``open_cost`` and ``expansions`` are refused here too.

Model (DESIGN.md §2), with ``a[t] = hours[t] * weight[t]``::

    x[r,s,k,t] >= 0   only on arcs: latency(r,s) <= max_latency_ms[k] and s allowed for k
    u[r,k,t]   >= 0   only for classes with a finite unmet_penalty
    g[s,t]     >= 0,  0 <= v[s,t] <= renewable_mw[s,t]

    (1) sum_s x[r,s,k,t] + u[r,k,t] = d[r,k,t]
    (2) sum_{r,k} x[r,s,k,t] <= capacity_mw[s]
    (3) pue[s,t] * sum_{r,k} x[r,s,k,t] = g[s,t] + v[s,t];  g + v <= power_cap_mw[s] if given

    min  energy + renewable + carbon + transfer + latency + unmet
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pulp

EARTH_RADIUS_KM = 6371.0
DEFAULT_UNMET_PENALTY = 1.0e5
CATEGORIES = ("energy", "renewable", "carbon", "transfer", "latency", "unmet")


# --------------------------------------------------------------------------------------------
# Reading the instance dict (DESIGN.md §3)
# --------------------------------------------------------------------------------------------


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two [lat, lon] points (degrees), R = 6371.0 km."""
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(
        (lon2 - lon1) / 2
    ) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def read_periods(periods: Any) -> tuple[list[str], list[float], list[float]]:
    """Period ids, hours and weights from either form of ``periods``."""
    if isinstance(periods, list):
        ids = [str(p["id"]) for p in periods]
        hours = [float(p.get("hours", 1.0)) for p in periods]
        weights = [float(p.get("weight", 1.0)) for p in periods]
        return ids, hours, weights
    count = int(periods["count"])
    width = max(2, len(str(count - 1)))
    ids = [f"t{t:0{width}d}" for t in range(count)]
    return ids, [float(periods.get("hours", 1.0))] * count, [
        float(periods.get("weight", 1.0))
    ] * count


def expand_series(value: Any, n_periods: int, profiles: dict[str, list[float]]) -> list[float]:
    """A series as one float per period.

    A number repeats; a list is taken as is; ``{profile, mean}`` / ``{profile, max}`` take the
    named profile, normalise it by its mean and scale it to that mean or maximum.
    """
    if isinstance(value, bool):
        raise TypeError(f"not a series: {value!r}")
    if isinstance(value, int | float):
        return [float(value)] * n_periods
    if isinstance(value, list):
        if len(value) != n_periods:
            raise ValueError(f"series of length {len(value)}, expected {n_periods}")
        return [float(v) for v in value]
    shape = [float(v) for v in profiles[value["profile"]]]
    mean = sum(shape) / len(shape)
    normalised = [v / mean for v in shape]
    if "mean" in value and value["mean"] is not None:
        return [v * float(value["mean"]) for v in normalised]
    peak = max(normalised)
    return [v * float(value["max"]) / peak for v in normalised]


@dataclass
class Data:
    """Everything the model needs, read from the instance dict, indexed by position."""

    regions: list[str]
    sites: list[str]
    classes: list[str]
    periods: list[str]
    hours: list[float]
    weight: list[float]
    annual: list[float]  # a[t] = hours[t] * weight[t]
    demand: list[list[list[float]]]  # [r][k][t]
    capacity: list[float]  # [s]
    pue: list[list[float]]  # [s][t]
    price: list[list[float]]
    carbon_intensity: list[list[float]]
    renewable_mw: list[list[float]]
    renewable_price: list[float]
    power_cap: list[float | None]
    max_latency: list[float | None]  # [k]
    data_gb: list[float]
    penalty: list[float | None]  # None: hard demand
    latency_cost: list[float]
    allowed: list[set[int]]  # [k] site indices
    km: list[list[float]]  # [r][s]
    latency: list[list[float]]  # [r][s] ms
    transfer: list[list[float]]  # [r][s] currency / GB
    carbon_price: float

    def arc(self, r: int, s: int, k: int) -> bool:
        """Whether x[r,s,k,t] exists: within the latency limit and allowed for the class."""
        limit = self.max_latency[k]
        return (limit is None or self.latency[r][s] <= limit) and s in self.allowed[k]


UNSUPPORTED_CLASS_KEYS = ("max_delay_periods", "assignment")
UNSUPPORTED_SITE_KEYS = ("open_cost", "expansions")


def read_instance(data: dict[str, Any]) -> Data:
    """Read an instance dict (DESIGN.md §3, defaults included) into :class:`Data`."""
    periods, hours, weight = read_periods(data["periods"])
    T = len(periods)
    profiles = data.get("profiles") or {}
    regions = data["regions"]
    sites = data["sites"]
    classes = data["classes"]
    for k in classes:
        if k.get("max_delay_periods", 0) > 0 or k.get("assignment", "split") != "split":
            raise NotImplementedError(f"class {k['id']}: out of the reference's scope")
    for s in sites:
        if s.get("open_cost") is not None or s.get("expansions"):
            raise NotImplementedError(f"site {s['id']}: out of the reference's scope")
    network = data.get("network") or {}
    policy = data.get("policy") or {}
    if network.get("corridors") or policy.get("carbon_cap_t") is not None or policy.get(
        "min_renewable_share", 0.0
    ) > 0:
        raise NotImplementedError("corridors / carbon cap / renewable share: out of scope")

    class_ids = [str(k["id"]) for k in classes]
    site_ids = [str(s["id"]) for s in sites]
    region_ids = [str(r["id"]) for r in regions]

    demand = []
    for r in regions:
        given = r.get("demand") or {}
        demand.append(
            [
                expand_series(given[kid], T, profiles) if kid in given else [0.0] * T
                for kid in class_ids
            ]
        )

    def site_series(s: dict[str, Any], key: str, default: float | None) -> list[float]:
        value = s.get(key, default)
        return expand_series(value, T, profiles)

    km = [[haversine_km(r["location"], s["location"]) for s in sites] for r in regions]
    lat_model = network.get("latency") or {}
    base_ms = float(lat_model.get("base_ms", 2.0))
    route_factor = float(lat_model.get("route_factor", 1.5))
    latency = [[base_ms + route_factor * d / 100.0 for d in row] for row in km]
    for p in lat_model.get("pairs") or []:
        latency[region_ids.index(p["region"])][site_ids.index(p["site"])] = float(p["ms"])
    tr_model = network.get("transfer") or {}
    per_gb = float(tr_model.get("per_gb", 0.0))
    per_gb_per_1000km = float(tr_model.get("per_gb_per_1000km", 0.0))
    transfer = [[per_gb + per_gb_per_1000km * d / 1000.0 for d in row] for row in km]
    for p in tr_model.get("pairs") or []:
        transfer[region_ids.index(p["region"])][site_ids.index(p["site"])] = float(p["per_gb"])

    def allowed_set(k: dict[str, Any]) -> set[int]:
        ids = k.get("allowed_sites")
        if ids is None:
            return set(range(len(sites)))
        return {site_ids.index(x) for x in ids}

    def optional_float(value: Any) -> float | None:
        return None if value is None else float(value)

    return Data(
        regions=region_ids,
        sites=site_ids,
        classes=class_ids,
        periods=periods,
        hours=hours,
        weight=weight,
        annual=[h * w for h, w in zip(hours, weight, strict=True)],
        demand=demand,
        capacity=[float(s["capacity_mw"]) for s in sites],
        pue=[site_series(s, "pue", None) for s in sites],
        price=[site_series(s, "price", None) for s in sites],
        carbon_intensity=[site_series(s, "carbon_intensity", 0.0) for s in sites],
        renewable_mw=[site_series(s, "renewable_mw", 0.0) for s in sites],
        renewable_price=[float(s.get("renewable_price", 0.0)) for s in sites],
        power_cap=[optional_float(s.get("power_cap_mw")) for s in sites],
        max_latency=[optional_float(k.get("max_latency_ms")) for k in classes],
        data_gb=[float(k.get("data_gb_per_mwh", 0.0)) for k in classes],
        penalty=[optional_float(k.get("unmet_penalty", DEFAULT_UNMET_PENALTY)) for k in classes],
        latency_cost=[float(k.get("latency_cost", 0.0)) for k in classes],
        allowed=[allowed_set(k) for k in classes],
        km=km,
        latency=latency,
        transfer=transfer,
        carbon_price=float(policy.get("carbon_price", 0.0)),
    )


# --------------------------------------------------------------------------------------------
# The model, element by element
# --------------------------------------------------------------------------------------------


@dataclass
class Result:
    status: str
    objective: float | None
    costs: dict[str, float]
    data: Data
    x: dict[tuple[int, int, int, int], float] = field(default_factory=dict)
    u: dict[tuple[int, int, int], float] = field(default_factory=dict)
    g: dict[tuple[int, int], float] = field(default_factory=dict)
    v: dict[tuple[int, int], float] = field(default_factory=dict)


def _import_pulp() -> Any:
    """PuLP, imported on first use, never when this module is imported.

    PuLP 3.3's ``__init__`` loads highspy's ``_core*.so`` with ``RTLD_GLOBAL``. Imported before
    OR-Tools, that HiGHS (1.16) interposes the symbols of the HiGHS bundled in OR-Tools, and the
    package's ``--solver highs`` (model_builder) then segfaults in the same process. The test
    modules import this file at collection, before ``optimizer``; importing PuLP lazily keeps
    the package's own import order (OR-Tools first) and the rest of the test session safe.
    """
    import pulp

    return pulp


def _value(var: pulp.LpVariable) -> float:
    value = var.value()
    return 0.0 if value is None else float(value)


def solve_full(data: dict[str, Any]) -> Result:
    """Build the model element by element, solve it with CBC, read every variable back."""
    pulp = _import_pulp()
    d = read_instance(data)
    R, S, K, T = len(d.regions), len(d.sites), len(d.classes), len(d.periods)
    a = d.annual
    prob = pulp.LpProblem("eastwest_reference", pulp.LpMinimize)

    x: dict[tuple[int, int, int, int], pulp.LpVariable] = {}
    for r in range(R):
        for s in range(S):
            for k in range(K):
                if not d.arc(r, s, k):
                    continue
                for t in range(T):
                    x[r, s, k, t] = pulp.LpVariable(f"x_{r}_{s}_{k}_{t}", lowBound=0)
    u: dict[tuple[int, int, int], pulp.LpVariable] = {}
    for r in range(R):
        for k in range(K):
            if d.penalty[k] is None:
                continue
            for t in range(T):
                u[r, k, t] = pulp.LpVariable(f"u_{r}_{k}_{t}", lowBound=0)
    g: dict[tuple[int, int], pulp.LpVariable] = {}
    v: dict[tuple[int, int], pulp.LpVariable] = {}
    for s in range(S):
        for t in range(T):
            g[s, t] = pulp.LpVariable(f"g_{s}_{t}", lowBound=0)
            v[s, t] = pulp.LpVariable(f"v_{s}_{t}", lowBound=0, upBound=d.renewable_mw[s][t])

    # (1) demand, non-deferrable
    infeasible = False
    for r in range(R):
        for k in range(K):
            for t in range(T):
                terms = [x[r, s, k, t] for s in range(S) if (r, s, k, t) in x]
                if (r, k, t) in u:
                    terms.append(u[r, k, t])
                if not terms:
                    infeasible = infeasible or d.demand[r][k][t] > 0
                    continue
                prob += pulp.lpSum(terms) == d.demand[r][k][t], f"demand_{r}_{k}_{t}"
    # (2) IT capacity, (3) power balance and power cap
    for s in range(S):
        for t in range(T):
            load = [x[r, s, k, t] for r in range(R) for k in range(K) if (r, s, k, t) in x]
            if load:
                prob += pulp.lpSum(load) <= d.capacity[s], f"capacity_{s}_{t}"
            prob += (
                pulp.lpSum(d.pue[s][t] * var for var in load) - g[s, t] - v[s, t] == 0,
                f"power_{s}_{t}",
            )
            if d.power_cap[s] is not None:
                prob += g[s, t] + v[s, t] <= d.power_cap[s], f"power_cap_{s}_{t}"

    terms: dict[str, list[Any]] = {c: [] for c in CATEGORIES}
    for (s, t), var in g.items():
        terms["energy"].append(a[t] * d.price[s][t] * var)
        terms["carbon"].append(d.carbon_price * a[t] * d.carbon_intensity[s][t] * var)
    for (s, t), var in v.items():
        terms["renewable"].append(a[t] * d.renewable_price[s] * var)
    for (r, s, k, t), var in x.items():
        terms["transfer"].append(a[t] * d.data_gb[k] * d.transfer[r][s] * var)
        terms["latency"].append(a[t] * d.latency_cost[k] * d.latency[r][s] * var)
    for (_, k, t), var in u.items():
        penalty = d.penalty[k]
        assert penalty is not None
        terms["unmet"].append(a[t] * penalty * var)
    prob += pulp.lpSum(term for c in CATEGORIES for term in terms[c])

    if infeasible:
        return Result("Infeasible", None, {}, d)
    prob.solve(pulp.PULP_CBC_CMD(msg=False))
    status = pulp.LpStatus[prob.status]
    result = Result(status, None, {}, d)
    if status != "Optimal":
        return result
    result.x = {key: _value(var) for key, var in x.items()}
    result.u = {key: _value(var) for key, var in u.items()}
    result.g = {key: _value(var) for key, var in g.items()}
    result.v = {key: _value(var) for key, var in v.items()}
    result.costs = reference_costs(d, result.x, result.u, result.g, result.v)
    result.objective = sum(result.costs.values())
    return result


def reference_costs(
    d: Data,
    x: dict[tuple[int, int, int, int], float],
    u: dict[tuple[int, int, int], float],
    g: dict[tuple[int, int], float],
    v: dict[tuple[int, int], float],
) -> dict[str, float]:
    """The six cost categories of DESIGN.md §2 for given variable values."""
    a = d.annual
    costs = dict.fromkeys(CATEGORIES, 0.0)
    for (s, t), val in g.items():
        costs["energy"] += a[t] * d.price[s][t] * val
        costs["carbon"] += d.carbon_price * a[t] * d.carbon_intensity[s][t] * val
    for (s, t), val in v.items():
        costs["renewable"] += a[t] * d.renewable_price[s] * val
    for (r, s, k, t), val in x.items():
        costs["transfer"] += a[t] * d.data_gb[k] * d.transfer[r][s] * val
        costs["latency"] += a[t] * d.latency_cost[k] * d.latency[r][s] * val
    for (_, k, t), val in u.items():
        penalty = d.penalty[k]
        assert penalty is not None
        costs["unmet"] += a[t] * penalty * val
    return costs


def solve(data: dict[str, Any]) -> tuple[str, float | None, dict[str, float]]:
    """(PuLP status string, objective, per-category costs) of the reference model."""
    result = solve_full(data)
    return result.status, result.objective, result.costs

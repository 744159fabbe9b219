"""An independent, element-by-element PuLP formulation of the eastwest model, from DESIGN.md.

This module shares no code with the ``optimizer`` package, on purpose: it reads the instance
dict (as YAML would load it) itself, following DESIGN.md §3 literally, and builds DESIGN.md §2
with plain Python loops, one ``LpVariable`` and one constraint at a time. The vectorised model
must agree with it.

Scope: the whole v1 model. With ``a[t] = hours[t] * weight[t]``::

    x[r,s,k,t] >= 0   only on arcs: latency(r,s) <= max_latency_ms[k] and s allowed for k
    u[r,k,t]   >= 0   only for classes with a finite unmet_penalty (no upper bound)
    g[s,t]     >= 0,  0 <= v[s,t] <= renewable_mw[s,t]
    b[r,k,t]   >= 0   backlog (MWh), only for deferrable classes (max_delay_periods = D > 0)
    o[s]       binary for candidate sites (those with an open_cost); the constant 1 otherwise
    n[s,e]     integer in [0, max_units[e]] per expansion option
    y[r,s,k]   binary per arc of a class with ``assignment: single``

    (1) non-deferrable k:  sum_s x[r,s,k,t] + u[r,k,t] = d[r,k,t]
        deferrable k:      b[r,k,t] = b[r,k,t-1] + hours[t]*(d[r,k,t] - sum_s x[r,s,k,t] - u[r,k,t])
                           (cyclic: t-1 of the first period is the last), and
                           b[r,k,t] <= sum_{j < min(D, T)} hours[t-j]*d[r,k,t-j]  (cyclic too)
        single k:          x[r,s,k,t] = d[r,k,t]*y[r,s,k] for every t;  sum_s y[r,s,k] <= 1
    (2) sum_{r,k} x[r,s,k,t] <= capacity_mw[s]*o[s] + sum_e size_mw[e]*n[s,e]
        n[s,e] <= max_units[e]*o[s]                     (candidate sites)
    (3) pue[s,t] * sum_{r,k} x[r,s,k,t] = g[s,t] + v[s,t];  g + v <= power_cap_mw[s] if given
    (4) per corridor l and period t:
        sum_{r in l.regions, s in l.sites, k} data_gb_per_mwh[k]*x[r,s,k,t]*8/3600 <= capacity_gbps
    (5) sum_{s,t} a[t]*ci[s,t]*g[s,t] <= carbon_cap_t                  (if given)
    (6) sum_{s,t} a[t]*v[s,t] >= share * sum_{s,t} a[t]*(g[s,t] + v[s,t])   (if share > 0)

    min  energy + renewable + carbon + transfer + latency + unmet + expansion + opening

Readings taken where DESIGN.md is terse (from the brief of this cross-check, and checked
against the package's module docstrings under ``optimizer/model/``, read only for that):

- deferrable classes: ``u`` is in MW like everywhere else and costs ``a[t]*unmet_penalty*u``; it
  has no upper bound other than ``>= 0`` (work may be dropped in a later period than it arrived:
  ``model/demand.py`` says the same), and ``b`` exists for every region of the class, bounded
  by 0 where it has no demand;
- "the D periods ending at t" are t, t-1, ..., t-D+1 cyclically, D capped at T (so for D >= T
  the bound is the whole cycle's demand energy);
- ``assignment: single``: ``y`` exists on the class's arcs only (its reachable, allowed sites,
  as ``model/assignment.py`` has it); unmet takes the rest through the ordinary demand row, all
  or nothing, and hard demand forces ``sum_s y = 1`` through it. A class both single and
  deferrable gets both sets of rows, literally (x = d*y and the backlog);
- candidate sites: ``power_cap_mw`` is not scaled by ``o`` (DESIGN.md's row has no ``o``; a
  closed site carries no load anyway); an existing site's expansions need no open decision
  (``o = 1``: the row ``n <= max_units*o`` is the variable's bound); ``max_units`` defaults to 1.

``solve_full(..., fixed=Fixed(...))`` holds the integer decisions at given values (the LP of the
MIP with its integers fixed, from which the package reads a MIP's shadow prices);
``decisions(solution_json, data)`` reads them from the package's solution JSON.
Version 2 (DESIGN.md §8), read from the instance dict like the rest (``version: 2``)::

    q[s] >= 0  (MWh a year) per site, only when policy.certificate_price is set
        q[s] <= sum_t a[t]*g[s,t]
        (6) becomes  sum_{s,t} a[t]*v[s,t] + sum_s q[s] >= share * sum_{s,t} a[t]*(g + v)
    per site with min_green_share:
        sum_t a[t]*v[s,t] + q[s] >= min_green_share[s] * sum_t a[t]*(g[s,t] + v[s,t])
    per site with min_utilization (Cap as in (2): capacity_mw*o + sum_e size_mw*n):
        sum_t a[t] * sum_{r,k} x[r,s,k,t] >= min_utilization[s] * (sum_t a[t]) * Cap[s]
    W[s] = sum_t a[t] * wue[s,t] * sum_{r,k} x[r,s,k,t]  (m3; wue in L/kWh = m3/MWh)
        W[s] <= water_cap_m3[s]                           (where given)
    certificates = certificate_price * sum_s q[s];  water = water_price * sum_s W[s]

(no contingencies here, so no site is ever "lost"; ``max_pue`` is reported only, no row).

The package also adds the "valid inequality" ``x <= d*o`` at candidate sites; this model does
not (DESIGN.md has no such row). For deferrable classes it is not valid: catching up a backlog
needs ``x > d[t]``. ``solve_full(..., valid_inequality=True)`` adds it, to diagnose that.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pulp

EARTH_RADIUS_KM = 6371.0
DEFAULT_UNMET_PENALTY = 1.0e5
CATEGORIES = (
    "energy", "renewable", "carbon", "transfer", "latency", "unmet", "expansion", "opening"
)
POLICY_CATEGORIES = ("certificates", "water")  # DESIGN.md §8: version-2 instances only
GBPS_PER_GB_PER_H = 8.0 / 3600.0  # GB per hour -> Gbps


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


@dataclass(frozen=True)
class Expansion:
    id: str
    size: float  # MW of IT capacity per unit
    annual_cost: float  # per unit
    max_units: int


@dataclass(frozen=True)
class Corridor:
    id: str
    capacity_gbps: float
    regions: frozenset[int]
    sites: frozenset[int]


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
    max_delay: list[int] = field(default_factory=list)  # [k], 0: not deferrable
    single: list[bool] = field(default_factory=list)  # [k] assignment: single
    open_cost: list[float | None] = field(default_factory=list)  # [s], None: existing site
    expansions: list[list[Expansion]] = field(default_factory=list)  # [s]
    corridors: list[Corridor] = field(default_factory=list)
    carbon_cap: float | None = None
    min_share: float = 0.0
    # version 2 (DESIGN.md §8)
    version: int = 1
    certificate_price: float | None = None  # None: no certificates
    water_price: float = 0.0
    min_green_share: list[float | None] = field(default_factory=list)  # [s]
    min_utilization: list[float | None] = field(default_factory=list)  # [s]
    wue: list[list[float]] = field(default_factory=list)  # [s][t] m3 per MWh of IT energy
    water_cap: list[float | None] = field(default_factory=list)  # [s]

    def arc(self, r: int, s: int, k: int) -> bool:
        """Whether x[r,s,k,t] exists: within the latency limit and allowed for the class."""
        limit = self.max_latency[k]
        return (limit is None or self.latency[r][s] <= limit) and s in self.allowed[k]

    def backlog_bound(self, r: int, k: int, t: int) -> float:
        """Work waits at most D periods: the demand energy of the D periods ending at t.

        Cyclic, D capped at T (then it is the whole cycle's demand energy).
        """
        T = len(self.periods)
        window = min(self.max_delay[k], T)
        return sum(self.hours[(t - j) % T] * self.demand[r][k][(t - j) % T] for j in range(window))

    def corridor_use(self, c: int, x: dict[tuple[int, int, int, int], Any], t: int) -> Any:
        """Gbps used on corridor c in period t by the flows x (values or variables)."""
        corridor = self.corridors[c]
        return [
            self.data_gb[k] * GBPS_PER_GB_PER_H * var
            for (r, s, k, tt), var in x.items()
            if tt == t and r in corridor.regions and s in corridor.sites and self.data_gb[k] > 0
        ]


def read_instance(data: dict[str, Any]) -> Data:
    """Read an instance dict (DESIGN.md §3, defaults included) into :class:`Data`."""
    periods, hours, weight = read_periods(data["periods"])
    T = len(periods)
    profiles = data.get("profiles") or {}
    regions = data["regions"]
    sites = data["sites"]
    classes = data["classes"]
    network = data.get("network") or {}
    policy = data.get("policy") or {}

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
        max_delay=[int(k.get("max_delay_periods", 0)) for k in classes],
        single=[k.get("assignment", "split") == "single" for k in classes],
        open_cost=[optional_float(s.get("open_cost")) for s in sites],
        expansions=[
            [
                Expansion(
                    id=str(e["id"]),
                    size=float(e["size_mw"]),
                    annual_cost=float(e["annual_cost"]),
                    max_units=int(e.get("max_units", 1)),
                )
                for e in s.get("expansions") or []
            ]
            for s in sites
        ],
        corridors=[
            Corridor(
                id=str(c["id"]),
                capacity_gbps=float(c["capacity_gbps"]),
                regions=frozenset(region_ids.index(r) for r in c["regions"]),
                sites=frozenset(site_ids.index(s) for s in c["sites"]),
            )
            for c in network.get("corridors") or []
        ],
        carbon_cap=optional_float(policy.get("carbon_cap_t")),
        min_share=float(policy.get("min_renewable_share", 0.0)),
        **read_policy_v2(data, T, profiles),
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
    b: dict[tuple[int, int, int], float] = field(default_factory=dict)
    o: dict[int, float] = field(default_factory=dict)  # candidate sites only
    n: dict[tuple[int, int], float] = field(default_factory=dict)  # (s, e)
    y: dict[tuple[int, int, int], float] = field(default_factory=dict)  # (r, s, k)
    q: dict[int, float] = field(default_factory=dict)  # certificates per site (version 2)


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


def _value(var: pulp.LpVariable, integer: bool = False) -> float:
    value = var.value()
    value = 0.0 if value is None else float(value)
    return float(round(value)) if integer else value


def _solver(pulp: Any, name: str) -> Any:
    """CBC by default. CBC's solution file has about 8 significant digits, enough for a 1e-6
    comparison of objectives but not for finite differences: ``highs`` (highspy, through PuLP)
    returns doubles."""
    if name == "cbc":
        return pulp.PULP_CBC_CMD(msg=False)
    if name == "highs":
        return pulp.HiGHS(msg=False)
    raise ValueError(f"unknown reference solver {name!r}")


@dataclass(frozen=True)
class Fixed:
    """Values for the integer decisions: ``o`` per candidate site, ``n`` per (site, option),
    ``y`` per (region, site, class) of a single class (missing: 0). With them the model is the
    LP of the MIP with its integers fixed (what a MIP's shadow prices are read from)."""

    o: dict[int, float] = field(default_factory=dict)
    n: dict[tuple[int, int], float] = field(default_factory=dict)
    y: dict[tuple[int, int, int], float] = field(default_factory=dict)


def _decision(pulp: Any, name: str, upper: float, value: float | None) -> Any:
    """An integer decision in [0, upper], or a continuous variable fixed at ``value``."""
    if value is None:
        return pulp.LpVariable(name, lowBound=0, upBound=upper, cat=pulp.LpInteger)
    return pulp.LpVariable(name, lowBound=value, upBound=value)


def solve_full(
    data: dict[str, Any],
    solver: str = "cbc",
    *,
    valid_inequality: bool = False,
    fixed: Fixed | None = None,
) -> Result:
    """Build the model element by element, solve it (CBC by default), read every variable back.

    ``fixed`` holds the integer decisions at given values (an LP: see :class:`Fixed`).

    ``valid_inequality`` adds ``x[r,s,k,t] <= d[r,k,t]*o[s]`` at candidate sites, as the package
    does by default. It is off unless asked for: DESIGN.md has no such row, and this switch
    exists only to diagnose disagreements (for deferrable classes, where a backlog is caught up
    with ``x > d[t]``, the row is not valid: it cuts off optima of the DESIGN.md model).
    """
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
    b: dict[tuple[int, int, int], pulp.LpVariable] = {}
    for r in range(R):
        for k in range(K):
            if d.max_delay[k] > 0:
                for t in range(T):
                    b[r, k, t] = pulp.LpVariable(f"b_{r}_{k}_{t}", lowBound=0)
    o: dict[int, pulp.LpVariable] = {}
    for s in range(S):
        if d.open_cost[s] is not None:
            o[s] = _decision(pulp, f"o_{s}", 1, None if fixed is None else fixed.o[s])
    n: dict[tuple[int, int], pulp.LpVariable] = {}
    for s in range(S):
        for e, option in enumerate(d.expansions[s]):
            n[s, e] = _decision(
                pulp, f"n_{s}_{e}", option.max_units, None if fixed is None else fixed.n[s, e]
            )
    y: dict[tuple[int, int, int], pulp.LpVariable] = {}
    for r in range(R):
        for s in range(S):
            for k in range(K):
                if d.single[k] and d.arc(r, s, k):
                    value = None if fixed is None else fixed.y.get((r, s, k), 0.0)
                    y[r, s, k] = _decision(pulp, f"y_{r}_{s}_{k}", 1, value)

    # (1) demand: non-deferrable in MW, deferrable in MWh with the backlog
    infeasible = False
    for r in range(R):
        for k in range(K):
            for t in range(T):
                served = [x[r, s, k, t] for s in range(S) if (r, s, k, t) in x]
                terms = served + ([u[r, k, t]] if (r, k, t) in u else [])
                if not terms:
                    infeasible = infeasible or d.demand[r][k][t] > 0
                if d.max_delay[k] == 0:
                    if terms:
                        prob += pulp.lpSum(terms) == d.demand[r][k][t], f"demand_{r}_{k}_{t}"
                    continue
                prob += (
                    b[r, k, t]
                    == b[r, k, (t - 1) % T] + d.hours[t] * (d.demand[r][k][t] - pulp.lpSum(terms)),
                    f"backlog_{r}_{k}_{t}",
                )
                prob += b[r, k, t] <= d.backlog_bound(r, k, t), f"delay_{r}_{k}_{t}"
    # single assignment: x = d*y in every period, at most one site
    for r in range(R):
        for k in range(K):
            if not d.single[k]:
                continue
            chosen = [y[r, s, k] for s in range(S) if (r, s, k) in y]
            if chosen:
                prob += pulp.lpSum(chosen) <= 1, f"single_{r}_{k}"
            for s in range(S):
                if (r, s, k) in y:
                    for t in range(T):
                        prob += (
                            x[r, s, k, t] == d.demand[r][k][t] * y[r, s, k],
                            f"assign_{r}_{s}_{k}_{t}",
                        )
    # (2) IT capacity with open decision and expansions; expansion needs an open site
    for s in range(S):
        built = [d.expansions[s][e].size * n[s, e] for e in range(len(d.expansions[s]))]
        opened = d.capacity[s] * o[s] if s in o else d.capacity[s]
        for t in range(T):
            load = [x[r, s, k, t] for r in range(R) for k in range(K) if (r, s, k, t) in x]
            if load:
                prob += pulp.lpSum(load) <= opened + pulp.lpSum(built), f"capacity_{s}_{t}"
        if s in o:
            for e, option in enumerate(d.expansions[s]):
                prob += n[s, e] <= option.max_units * o[s], f"expansion_open_{s}_{e}"
    if valid_inequality:
        for (r, s, k, t), var in x.items():
            if s in o:
                prob += var <= d.demand[r][k][t] * o[s], f"valid_{r}_{s}_{k}_{t}"
    # (3) power balance and power cap
    for s in range(S):
        for t in range(T):
            load = [x[r, s, k, t] for r in range(R) for k in range(K) if (r, s, k, t) in x]
            prob += (
                pulp.lpSum(d.pue[s][t] * var for var in load) - g[s, t] - v[s, t] == 0,
                f"power_{s}_{t}",
            )
            if d.power_cap[s] is not None:
                prob += g[s, t] + v[s, t] <= d.power_cap[s], f"power_cap_{s}_{t}"
    # (4) corridors
    for c, corridor in enumerate(d.corridors):
        for t in range(T):
            use = d.corridor_use(c, x, t)
            if use:
                prob += pulp.lpSum(use) <= corridor.capacity_gbps, f"corridor_{c}_{t}"
    q = _certificates(pulp, prob, d, g)
    # (5) carbon cap, (6) renewable share
    if d.carbon_cap is not None:
        prob += (
            pulp.lpSum(
                a[t] * d.carbon_intensity[s][t] * g[s, t] for s in range(S) for t in range(T)
            )
            <= d.carbon_cap,
            "carbon_cap",
        )
    if d.min_share > 0:
        renewable = pulp.lpSum(a[t] * v[s, t] for s in range(S) for t in range(T))
        renewable += pulp.lpSum(q.values())  # certificates count as green (version 2)
        facility = pulp.lpSum(a[t] * (g[s, t] + v[s, t]) for s in range(S) for t in range(T))
        prob += renewable >= d.min_share * facility, "renewable_share"

    _site_policy_rows(pulp, prob, d, x, g, v, q, o, n)

    terms_by: dict[str, list[Any]] = {c: [] for c in CATEGORIES}
    terms_by.update(_policy_terms(d, x, q))
    for (s, t), var in g.items():
        terms_by["energy"].append(a[t] * d.price[s][t] * var)
        terms_by["carbon"].append(d.carbon_price * a[t] * d.carbon_intensity[s][t] * var)
    for (s, t), var in v.items():
        terms_by["renewable"].append(a[t] * d.renewable_price[s] * var)
    for (r, s, k, t), var in x.items():
        terms_by["transfer"].append(a[t] * d.data_gb[k] * d.transfer[r][s] * var)
        terms_by["latency"].append(a[t] * d.latency_cost[k] * d.latency[r][s] * var)
    for (_, k, t), var in u.items():
        penalty = d.penalty[k]
        assert penalty is not None
        terms_by["unmet"].append(a[t] * penalty * var)
    for (s, e), var in n.items():
        terms_by["expansion"].append(d.expansions[s][e].annual_cost * var)
    for s, var in o.items():
        cost = d.open_cost[s]
        assert cost is not None
        terms_by["opening"].append(cost * var)
    prob += pulp.lpSum(term for c in terms_by for term in terms_by[c])

    if infeasible:
        return Result("Infeasible", None, {}, d)
    prob.solve(_solver(pulp, solver))
    status = pulp.LpStatus[prob.status]
    result = Result(status, None, {}, d)
    if status != "Optimal":
        return result
    result.x = {key: _value(var) for key, var in x.items()}
    result.u = {key: _value(var) for key, var in u.items()}
    result.g = {key: _value(var) for key, var in g.items()}
    result.v = {key: _value(var) for key, var in v.items()}
    result.b = {key: _value(var) for key, var in b.items()}
    result.o = {key: _value(var, integer=True) for key, var in o.items()}
    result.n = {key: _value(var, integer=True) for key, var in n.items()}
    result.y = {key: _value(var, integer=True) for key, var in y.items()}
    result.q = {key: _value(var) for key, var in q.items()}
    result.costs = reference_costs(
        d, result.x, result.u, result.g, result.v, o=result.o, n=result.n, q=result.q
    )
    result.objective = sum(result.costs.values())
    return result


def reference_costs(
    d: Data,
    x: dict[tuple[int, int, int, int], float],
    u: dict[tuple[int, int, int], float],
    g: dict[tuple[int, int], float],
    v: dict[tuple[int, int], float],
    *,
    o: dict[int, float] | None = None,
    n: dict[tuple[int, int], float] | None = None,
    q: dict[int, float] | None = None,
) -> dict[str, float]:
    """The eight cost categories of DESIGN.md §2 for given variable values.

    ``o`` (candidate sites' open decisions) and ``n`` (units built per (site, option)) default
    to nothing open or built.
    """
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
    for (s, e), val in (n or {}).items():
        costs["expansion"] += d.expansions[s][e].annual_cost * val
    for s, val in (o or {}).items():
        cost = d.open_cost[s]
        assert cost is not None
        costs["opening"] += cost * val
    if d.version >= 2:
        costs["certificates"] = (d.certificate_price or 0.0) * sum((q or {}).values())
        costs["water"] = d.water_price * sum(water_m3(d, x))
    return costs


def solve(data: dict[str, Any]) -> tuple[str, float | None, dict[str, float]]:
    """(PuLP status string, objective, per-category costs) of the reference model."""
    result = solve_full(data)
    return result.status, result.objective, result.costs


def decisions(solution: dict[str, Any], d: Data) -> Fixed:
    """The integer decisions of a solution JSON (DESIGN.md §4: ``sites[].open``, ``build``,
    ``flows``), by the reference's indices: ``o`` for every candidate site, ``n`` for every
    expansion option (0 unless built), ``y`` = 1 where a single class's flows go (only for
    region and class pairs with some demand, where ``y`` matters)."""
    opened = {row["id"]: bool(row["open"]) for row in solution["sites"]}
    o = {s: float(opened[name]) for s, name in enumerate(d.sites) if d.open_cost[s] is not None}
    n = {(s, e): 0.0 for s in range(len(d.sites)) for e in range(len(d.expansions[s]))}
    for row in solution["build"]:
        if row["option"] is not None:
            s = d.sites.index(row["site"])
            e = [option.id for option in d.expansions[s]].index(row["option"])
            n[s, e] = float(row["units"])
    y = {}
    for flow in solution["flows"]:
        k = d.classes.index(flow["class"])
        if d.single[k]:
            y[d.regions.index(flow["region"]), d.sites.index(flow["site"]), k] = 1.0
    return Fixed(o, n, y)


def result_decisions(result: Result) -> Fixed:
    """The integer decisions of a reference optimum, in the form of :func:`decisions`."""
    d = result.data
    y = {(r, s, k): 1.0 for (r, s, k), val in result.y.items()
         if val > 0.5 and max(d.demand[r][k]) > 0}
    return Fixed(dict(result.o), dict(result.n), y)
# --------------------------------------------------------------------------------------------
# Version 2: certificates, site floors and water (DESIGN.md §8)
# --------------------------------------------------------------------------------------------


def read_policy_v2(data: dict[str, Any], n_periods: int,
                   profiles: dict[str, list[float]]) -> dict[str, Any]:
    """The §8 fields of an instance dict, as :class:`Data` keyword arguments (their defaults
    where not given; all of them are absent from a version-1 file)."""
    policy = data.get("policy") or {}
    sites = data["sites"]

    def optional(value: Any) -> float | None:
        return None if value is None else float(value)

    price = policy.get("certificate_price")
    return {
        "version": int(data["version"]),
        "certificate_price": optional(price),
        "water_price": float(policy.get("water_price", 0.0)),
        "min_green_share": [optional(s.get("min_green_share")) for s in sites],
        "min_utilization": [optional(s.get("min_utilization")) for s in sites],
        "wue": [expand_series(s.get("wue", 0.0), n_periods, profiles) for s in sites],
        "water_cap": [optional(s.get("water_cap_m3")) for s in sites],
    }


def site_load(d: Data, x: dict[tuple[int, int, int, int], Any], s: int, t: int) -> list[Any]:
    """The flows (values or variables) into site s in period t."""
    return [var for (r, ss, k, tt), var in x.items() if ss == s and tt == t]


def water_m3(d: Data, x: dict[tuple[int, int, int, int], Any]) -> list[Any]:
    """W[s] = sum_t a[t] * wue[s,t] * load[s,t], m3 a year per site (values or expressions)."""
    S, T = len(d.sites), len(d.periods)
    if not d.wue:
        return [0.0] * S
    return [
        sum(d.annual[t] * d.wue[s][t] * var for t in range(T) for var in site_load(d, x, s, t))
        for s in range(S)
    ]


def _certificates(pulp: Any, prob: Any, d: Data, g: dict[tuple[int, int], Any]) -> dict[int, Any]:
    """q[s] >= 0 with q[s] <= sum_t a[t] g[s,t], when certificates are sold."""
    if d.certificate_price is None:
        return {}
    q = {}
    for s in range(len(d.sites)):
        q[s] = pulp.LpVariable(f"q_{s}", lowBound=0)
        grid = pulp.lpSum(d.annual[t] * g[s, t] for t in range(len(d.periods)))
        prob += q[s] <= grid, f"certificate_limit_{s}"
    return q


def _site_policy_rows(
    pulp: Any, prob: Any, d: Data, x: dict[tuple[int, int, int, int], Any],
    g: dict[tuple[int, int], Any], v: dict[tuple[int, int], Any], q: dict[int, Any],
    o: dict[int, Any], n: dict[tuple[int, int], Any],
) -> None:
    """The green-share floors, the utilisation floors and the water caps, site by site."""
    if d.version < 2:
        return
    a, T = d.annual, len(d.periods)
    hours = sum(a)
    water = water_m3(d, x)
    for s in range(len(d.sites)):
        share = d.min_green_share[s]
        if share is not None:
            green = pulp.lpSum(a[t] * v[s, t] for t in range(T)) + q.get(s, 0)
            facility = pulp.lpSum(a[t] * (g[s, t] + v[s, t]) for t in range(T))
            prob += green >= share * facility, f"green_share_{s}"
        floor = d.min_utilization[s]
        if floor is not None:
            load = pulp.lpSum(a[t] * var for t in range(T) for var in site_load(d, x, s, t))
            capacity = (d.capacity[s] * o[s] if s in o else d.capacity[s]) + pulp.lpSum(
                option.size * n[s, e] for e, option in enumerate(d.expansions[s]))
            prob += load >= floor * hours * capacity, f"utilization_{s}"
        cap = d.water_cap[s]
        if cap is not None:
            prob += pulp.lpSum([water[s]]) <= cap, f"water_cap_{s}"


def _policy_terms(d: Data, x: dict[tuple[int, int, int, int], Any],
                  q: dict[int, Any]) -> dict[str, list[Any]]:
    """The two §8 cost categories' terms (version 2 only)."""
    if d.version < 2:
        return {}
    price = d.certificate_price or 0.0
    return {"certificates": [price * var for var in q.values()],
            "water": [d.water_price * w for w in water_m3(d, x)]}

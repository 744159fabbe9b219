"""An independent, element-by-element PuLP formulation of the planning model (DESIGN.md §7, §8).

Shares no code with ``optimizer``: it reads the instance dict (as YAML loads it) itself, applies
the ``set`` lists of years and scenarios with its own small applier (:func:`apply_set`), builds
one copy of the version-1 operating model per case with plain loops (one ``LpVariable`` and
one row at a time) and links the cases through one build per year. It reuses, by import, the
version-1 reader and helpers of ``reference.py`` (``read_instance``, ``expand_series``,
``reference_costs``, ``Data.arc`` / ``backlog_bound`` / ``corridor_use``), which follow
DESIGN.md §2-§3 literally. With ``a[t] = hours[t]*weight[t]`` and ``A = sum_t a[t]``::

    cases c = (y, w), w in scenarios + contingencies; data: base, then the year's set, then the
        scenario's set (a contingency takes the first scenario's); build data from the year's
    o[s,y] binary (candidate in year y, else the constant 1); n[s,e,y] integer in [0, max_units]
        o[s,y] >= o[s,y-1];  n[s,e,y] >= n[s,e,y-1];  n[s,e,y] <= max_units[e]*o[s,y]
    per case: v1 rows (1)-(6) with Cap[s,c] = cap_c[s]*o[s,y] + sum_e size_c[e]*n[s,e,y], and
        q[s] >= 0, q[s] <= sum_t a[t]*g[s,t]                        (if certificate_price is set)
        (6) sum a*v + sum_s q[s] >= share * sum a*(g + v)
        sum_t a*v[s,t] + q[s] >= min_green_share[s] * sum_t a*(g[s,t] + v[s,t])
        sum_t a[t]*L[s,t] >= min_utilization[s] * A * Cap[s,c]      (not at the lost site)
        W[s] = sum_t a[t]*wue[s,t]*L[s,t] <= water_cap_m3[s]        (L = sum_{r,k} x)
    contingency lose:s*: no x at s*; protected classes have no u in that case
    min sum_y D[y]*(sum annual_cost*n[.,y] + sum open_cost*o[.,y] + sum_w p[w]*Op(y,w)
                    + sum_{contingencies} probability*Op(y,lose:s)),  D[y] = span/(1+r)^(year-year0)
    Op = energy + renewable + carbon + transfer + latency + unmet + certificates + water

Readings taken where §7-§8 are terse:

- ``set`` entries: ``PATH=VALUE`` sets (VALUE read as YAML, core-schema numbers such as ``1e5``
  read as floats), creating the last key when it is absent and has no selector; ``PATH*=K``
  multiplies a number, every number of a list, or a profile reference's ``mean`` / ``max``, and
  is an error on an absent field; a selector ``[id]`` picks the elements with that id, ``[i]``
  the i-th (negative from the end), ``[*]`` all; the path must start at regions, sites,
  classes, network, policy or profiles. Any other path, or a missing field, raises ``PlanError``.
- years are taken in file order (they must be strictly increasing: ``PlanError`` otherwise);
  ``span`` defaults to 1, ``set`` to none; the default year is {base, year 0, span 1} and the
  default scenario {base, probability 1}; a contingency's ``probability`` defaults to 0 and
  its ``protect`` to none; ``lose: each`` is every site, in file order.
- a site is a candidate in year y if year y's data give it an ``open_cost``; where it is not,
  ``o[s,y]`` is the constant 1 (the monotone row then forces later years open, if any).
- ``assignment: single`` chooses its site per case (``y`` is an operating variable, like x).
- the carbon cap, the renewable floor, corridors and power caps hold in every case, with the
  case's data; the site green-share floor holds in every case (trivially 0 >= 0 at a lost site).
- ``q`` exists per case for every site when the case's ``certificate_price`` is not null
  (a price of 0 still creates it); without it ``q`` is 0 everywhere.
- per case ``costs`` hold the eight operating categories and ``expansion`` / ``opening`` of the
  case's year (undiscounted: the annual build cost of that year); ``weight`` = D[y] times the
  case's probability; the top-level ``costs`` are discounted (operating categories summed over
  cases with ``weight``, build categories with D[y]) and sum to the objective; the top-level
  ``totals`` are sum over cases of span x probability x the case's totals.
- ``build`` lists every (year, site): ``open`` (true at existing sites), ``expansion_units``
  (summed over the options), ``units`` per option, ``mw`` = capacity_mw*o + sum size_mw*n with
  the year's data (no scenario), ``annual_cost`` = that year's expansion + opening cost.
- a version-1 file, or version 2 without ``planning``, is the single case {base, base}: D = 1,
  p = 1, and the model is exactly reference.py's (``test_reference_plan`` checks this).
- ``sites[].max_pue`` (the rules' PUE cap) is reported by the package, not a constraint: this
  model ignores it, as it ignores the named version-1 ``scenarios`` (``--scenario``).
- the row ``q[s] <= sum_t a*g[s,t]`` never changes the optimum (a share <= 1 needs at most the
  grid energy in certificates, and one certificate price holds at every site): it is kept as
  written, but no test can see it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from reference import (
    CATEGORIES,
    Data,
    _import_pulp,
    _value,
    expand_series,
    read_instance,
    reference_costs,
)

OPERATING = ("energy", "renewable", "carbon", "transfer", "latency", "unmet", "certificates",
             "water")
CATEGORIES_V2 = (*OPERATING, "expansion", "opening")
TOTALS = ("served_mwh", "unmet_mwh", "it_energy_mwh", "facility_energy_mwh", "grid_energy_mwh",
          "renewable_energy_mwh", "carbon_t", "water_m3")
ROOTS = ("regions", "sites", "classes", "network", "policy", "profiles")
_NUMBER = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


class PlanError(ValueError):
    """An override or a planning block this reference cannot apply."""


# --------------------------------------------------------------------------------------------
# `set` lists: PATH=VALUE and PATH*=K
# --------------------------------------------------------------------------------------------


def _split_path(path: str) -> list[tuple[str, list[str]]]:
    parts, depth, chunk = [], 0, ""
    for ch in path:
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "." and depth == 0:
            parts.append(chunk)
            chunk = ""
        else:
            chunk += ch
    parts.append(chunk)
    out = []
    for part in parts:
        m = re.fullmatch(r"\s*([A-Za-z_][\w-]*)((?:\[[^\]]*\])*)\s*", part)
        if not m:
            raise PlanError(f"bad path part {part!r}")
        out.append((m.group(1), [s.strip() for s in re.findall(r"\[([^\]]*)\]", m.group(2))]))
    return out


def _read_value(raw: str) -> Any:
    value = yaml.safe_load(raw) if raw.strip() else None
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return float(value)
    return value


def _pick(node: Any, selector: str) -> list[int]:
    if not isinstance(node, list):
        raise PlanError(f"[{selector}] on something that is not a list")
    if selector == "*":
        return list(range(len(node)))
    if re.fullmatch(r"-?\d+", selector):
        i = int(selector)
        if not -len(node) <= i < len(node):
            raise PlanError(f"index {i} out of range")
        return [i % len(node)]
    found = [i for i, item in enumerate(node)
             if isinstance(item, dict) and item.get("id") == selector]
    if not found:
        raise PlanError(f"no element with id {selector!r}")
    return found


def _times(value: Any, k: float) -> Any:
    if isinstance(value, bool) or value is None:
        raise PlanError(f"cannot multiply {value!r}")
    if isinstance(value, int | float):
        return value * k
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return [v * k for v in value]
    if isinstance(value, dict) and "profile" in value:
        key = "mean" if value.get("mean") is not None else "max"
        return {**value, key: float(value[key]) * k}
    raise PlanError(f"cannot multiply {value!r}")


def apply_set(data: dict[str, Any], text: str) -> dict[str, Any]:
    """A copy of ``data`` with one ``PATH=VALUE`` or ``PATH*=K`` applied."""
    if "=" not in text:
        raise PlanError(f"not PATH=VALUE: {text!r}")
    at = text.index("=")
    multiply = at > 0 and text[at - 1] == "*"
    parts = _split_path(text[: at - 1] if multiply else text[:at])
    value = _read_value(text[at + 1:])
    if parts[0][0] not in ROOTS:
        raise PlanError(f"a path starts at one of {ROOTS}: {text!r}")
    if multiply and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise PlanError(f"*= needs a number: {text!r}")
    out = copy.deepcopy(data)
    targets: list[tuple[Any, Any]] = [({"_": out}, "_")]
    for n, (key, selectors) in enumerate(parts):
        nxt = []
        for parent, k in targets:
            node = parent[k]
            if not isinstance(node, dict):
                raise PlanError(f"{key!r} below something that is not a mapping: {text!r}")
            settable = n == len(parts) - 1 and not selectors and not multiply
            if key not in node and not settable:
                raise PlanError(f"no field {key!r}: {text!r}")
            nxt.append((node, key))
        for sel in selectors:
            nxt = [(parent[k], i) for parent, k in nxt for i in _pick(parent[k], sel)]
        targets = nxt
    for parent, k in targets:
        parent[k] = _times(parent[k], value) if multiply else copy.deepcopy(value)
    return out


def apply_sets(data: dict[str, Any], texts: list[str]) -> dict[str, Any]:
    for text in texts:
        data = apply_set(data, text)
    return data


# --------------------------------------------------------------------------------------------
# Years, scenarios, contingencies, cases
# --------------------------------------------------------------------------------------------


@dataclass
class Policy8:
    """The §8 fields of one case's data."""

    certificate_price: float | None
    water_price: float
    green: list[float | None]  # [s] min_green_share
    utilization: list[float | None]  # [s] min_utilization
    wue: list[list[float]]  # [s][t] L/kWh
    water_cap: list[float | None]  # [s] m3 a year


def read_policy8(data: dict[str, Any], d: Data) -> Policy8:
    policy = data.get("policy") or {}
    T = len(d.periods)
    profiles = data.get("profiles") or {}

    def opt(value: Any) -> float | None:
        return None if value is None else float(value)

    return Policy8(
        certificate_price=opt(policy.get("certificate_price")),
        water_price=float(policy.get("water_price", 0.0) or 0.0),
        green=[opt(s.get("min_green_share")) for s in data["sites"]],
        utilization=[opt(s.get("min_utilization")) for s in data["sites"]],
        wue=[expand_series(s.get("wue", 0.0), T, profiles) for s in data["sites"]],
        water_cap=[opt(s.get("water_cap_m3")) for s in data["sites"]],
    )


@dataclass
class Case:
    year: int  # index into the years
    label: str  # scenario id, or lose:SITE
    probability: float
    d: Data
    p8: Policy8
    lost: int | None = None  # site index lost in a contingency
    protect: frozenset[int] = frozenset()  # class indices with no unmet in this case


@dataclass
class Plan:
    years: list[dict[str, Any]]  # id, year, span, set
    discount: list[float]  # D[y]
    year_data: list[Data]  # build data per year
    cases: list[Case]


def _base(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in ("planning", "scenarios")}


def read_plan(data: dict[str, Any]) -> Plan:
    """Years, discount factors, the build data of each year and every case's data."""
    planning = data.get("planning") or {}
    rate = float(planning.get("discount_rate", 0.0) or 0.0)
    years = [
        {"id": str(y["id"]), "year": int(y["year"]), "span": float(y.get("span", 1)),
         "set": list(y.get("set") or [])}
        for y in planning.get("years") or [{"id": "base", "year": 0}]
    ]
    if any(b["year"] <= a["year"] for a, b in zip(years, years[1:], strict=False)):
        raise PlanError("years must be strictly increasing")
    scenarios = [
        (str(w["id"]), float(w.get("probability", 1.0)), list(w.get("set") or []))
        for w in planning.get("scenarios") or [{"id": "base", "probability": 1.0}]
    ]
    base = _base(data)
    site_ids = [str(s["id"]) for s in base["sites"]]
    class_ids = [str(k["id"]) for k in base["classes"]]
    cont = planning.get("contingencies") or {}
    lose = cont.get("lose") or []
    lost = site_ids if lose == "each" else [str(s) for s in lose]
    protect = frozenset(class_ids.index(str(k)) for k in cont.get("protect") or [])
    cont_p = float(cont.get("probability", 0.0) or 0.0)

    discount, year_data, cases = [], [], []
    for yi, year in enumerate(years):
        discount.append(year["span"] / (1.0 + rate) ** (year["year"] - years[0]["year"]))
        ydict = apply_sets(base, year["set"])
        year_data.append(read_instance(ydict))
        first = None
        for wid, p, texts in scenarios:
            wdict = apply_sets(ydict, texts)
            first = first or wdict
            d = read_instance(wdict)
            cases.append(Case(yi, wid, p, d, read_policy8(wdict, d)))
        assert first is not None
        for sid in lost:
            d = read_instance(first)
            cases.append(Case(yi, f"lose:{sid}", cont_p, d, read_policy8(first, d),
                              lost=site_ids.index(sid), protect=protect))
    return Plan(years, discount, year_data, cases)


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass
class CaseVars:
    x: dict[tuple[int, int, int, int], Any] = field(default_factory=dict)
    u: dict[tuple[int, int, int], Any] = field(default_factory=dict)
    g: dict[tuple[int, int], Any] = field(default_factory=dict)
    v: dict[tuple[int, int], Any] = field(default_factory=dict)
    b: dict[tuple[int, int, int], Any] = field(default_factory=dict)
    q: dict[int, Any] = field(default_factory=dict)
    y: dict[tuple[int, int, int], Any] = field(default_factory=dict)


@dataclass
class PlanResult:
    status: str
    objective: float | None
    costs: dict[str, float] = field(default_factory=dict)  # discounted, summing to the objective
    totals: dict[str, float] = field(default_factory=dict)  # expected over the horizon
    build: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    values: list[CaseVars] = field(default_factory=list)  # per case, variable values
    plan: Plan | None = None


def _variables(pulp: Any, c: int, case: Case) -> CaseVars:
    d = case.d
    R, S, K, T = len(d.regions), len(d.sites), len(d.classes), len(d.periods)
    out = CaseVars()
    for r in range(R):
        for k in range(K):
            for s in range(S):
                if s != case.lost and d.arc(r, s, k):
                    for t in range(T):
                        out.x[r, s, k, t] = pulp.LpVariable(f"x{c}_{r}_{s}_{k}_{t}", 0)
                    if d.single[k]:
                        out.y[r, s, k] = pulp.LpVariable(f"y{c}_{r}_{s}_{k}", cat="Binary")
            for t in range(T):
                if d.penalty[k] is not None and k not in case.protect:
                    out.u[r, k, t] = pulp.LpVariable(f"u{c}_{r}_{k}_{t}", 0)
                if d.max_delay[k] > 0:
                    out.b[r, k, t] = pulp.LpVariable(f"b{c}_{r}_{k}_{t}", 0)
    for s in range(S):
        for t in range(T):
            out.g[s, t] = pulp.LpVariable(f"g{c}_{s}_{t}", 0)
            out.v[s, t] = pulp.LpVariable(f"v{c}_{s}_{t}", 0, d.renewable_mw[s][t])
        if case.p8.certificate_price is not None:
            out.q[s] = pulp.LpVariable(f"q{c}_{s}", 0)
    return out


def _demand_rows(pulp: Any, prob: Any, c: int, case: Case, w: CaseVars) -> bool:
    """Rows (1) and single assignment; False when some demand has no variable to go to."""
    d = case.d
    R, S, K, T = len(d.regions), len(d.sites), len(d.classes), len(d.periods)
    ok = True
    for r in range(R):
        for k in range(K):
            for t in range(T):
                terms = [w.x[r, s, k, t] for s in range(S) if (r, s, k, t) in w.x]
                terms += [w.u[r, k, t]] if (r, k, t) in w.u else []
                dem = d.demand[r][k][t]
                if d.max_delay[k] > 0:
                    prob += (w.b[r, k, t] == w.b[r, k, (t - 1) % T]
                             + d.hours[t] * (dem - pulp.lpSum(terms))), f"bl{c}_{r}_{k}_{t}"
                    prob += w.b[r, k, t] <= d.backlog_bound(r, k, t), f"dl{c}_{r}_{k}_{t}"
                elif terms:
                    prob += pulp.lpSum(terms) == dem, f"dm{c}_{r}_{k}_{t}"
                else:
                    ok = ok and dem <= 0
            chosen = [(s, var) for (rr, s, kk), var in w.y.items() if (rr, kk) == (r, k)]
            if chosen:
                prob += pulp.lpSum(var for _, var in chosen) <= 1, f"one{c}_{r}_{k}"
            for s, var in chosen:
                for t in range(T):
                    prob += w.x[r, s, k, t] == d.demand[r][k][t] * var, f"as{c}_{r}_{s}_{k}_{t}"
    return ok


def _site_rows(pulp: Any, prob: Any, c: int, case: Case, w: CaseVars, cap: list[Any]) -> bool:
    """Capacity, power, §8 site rows; ``cap[s]`` is Cap[s,c] (an expression or a number)."""
    d, p8 = case.d, case.p8
    R, S, K, T = len(d.regions), len(d.sites), len(d.classes), len(d.periods)
    a, ok = d.annual, True
    for s in range(S):
        loads = [[w.x[r, s, k, t] for r in range(R) for k in range(K) if (r, s, k, t) in w.x]
                 for t in range(T)]
        for t in range(T):
            if loads[t]:
                prob += pulp.lpSum(loads[t]) <= cap[s], f"cap{c}_{s}_{t}"
            prob += pulp.lpSum(d.pue[s][t] * x for x in loads[t]) == w.g[s, t] + w.v[s, t], \
                f"pw{c}_{s}_{t}"
            if d.power_cap[s] is not None:
                prob += w.g[s, t] + w.v[s, t] <= d.power_cap[s], f"pc{c}_{s}_{t}"
        grid = pulp.lpSum(a[t] * w.g[s, t] for t in range(T))
        ren = pulp.lpSum(a[t] * w.v[s, t] for t in range(T))
        if s in w.q:
            prob += w.q[s] <= grid, f"qg{c}_{s}"
        if p8.green[s] is not None:
            prob += ren + w.q.get(s, 0) >= p8.green[s] * (grid + ren), f"gs{c}_{s}"
        energy = pulp.lpSum(a[t] * x for t in range(T) for x in loads[t])
        floor = p8.utilization[s]
        if floor is not None and s != case.lost:
            need = floor * sum(a) * cap[s]
            if isinstance(need, int | float) and not any(loads):
                ok = ok and need <= 0
            else:
                prob += energy >= need, f"ut{c}_{s}"
        if p8.water_cap[s] is not None and any(loads):
            water = pulp.lpSum(a[t] * p8.wue[s][t] * x for t in range(T) for x in loads[t])
            prob += water <= p8.water_cap[s], f"wc{c}_{s}"
    return ok


def _network_rows(pulp: Any, prob: Any, c: int, case: Case, w: CaseVars) -> None:
    """Corridors (4), carbon cap (5), renewable floor with certificates (6)."""
    d = case.d
    S, T, a = len(d.sites), len(d.periods), d.annual
    for i, corridor in enumerate(d.corridors):
        for t in range(T):
            use = d.corridor_use(i, w.x, t)
            if use:
                prob += pulp.lpSum(use) <= corridor.capacity_gbps, f"co{c}_{i}_{t}"
    if d.carbon_cap is not None:
        prob += pulp.lpSum(a[t] * d.carbon_intensity[s][t] * w.g[s, t] for s in range(S)
                           for t in range(T)) <= d.carbon_cap, f"cc{c}"
    if d.min_share > 0:
        ren = pulp.lpSum(a[t] * w.v[s, t] for s in range(S) for t in range(T))
        fac = pulp.lpSum(a[t] * (w.g[s, t] + w.v[s, t]) for s in range(S) for t in range(T))
        prob += ren + pulp.lpSum(w.q.values()) >= d.min_share * fac, f"rs{c}"


def operating_costs(case: Case, w: Any) -> dict[str, Any]:
    """Op(y,w) by category, for variables (an LP expression each) or values (floats)."""
    d, p8 = case.d, case.p8
    v1 = reference_costs(d, w.x, w.u, w.g, w.v)
    out = {k: v1[k] for k in OPERATING if k in v1}
    out["certificates"] = (p8.certificate_price or 0.0) * sum(w.q.values())
    out["water"] = p8.water_price * water_m3(case, w.x)
    return out


def water_m3(case: Case, x: dict[tuple[int, int, int, int], Any]) -> Any:
    """W summed over sites: sum a[t]*wue[s,t]*x (m3 a year), for variables or values."""
    a, wue = case.d.annual, case.p8.wue
    terms = [a[t] * wue[s][t] * val for (_, s, _, t), val in x.items() if wue[s][t]]
    if terms and not isinstance(terms[0], int | float):
        return _import_pulp().lpSum(terms)
    return float(sum(terms))


def _fixed(value: Any) -> bool:
    """Whether a build value is a constant (an existing site's o = 1), not a variable."""
    return isinstance(value, int | float)


def _build(pulp: Any, prob: Any, plan: Plan) -> tuple[dict[Any, Any], dict[Any, Any], list[Any]]:
    """o[s,y], n[s,e,y] (cumulative, monotone) and the build cost of each year."""
    o: dict[tuple[int, int], Any] = {}
    n: dict[tuple[int, int, int], Any] = {}
    costs = []
    for y, d in enumerate(plan.year_data):
        cost: list[Any] = []
        for s in range(len(d.sites)):
            if d.open_cost[s] is not None:
                o[s, y] = pulp.LpVariable(f"o_{s}_{y}", cat="Binary")
                cost.append(d.open_cost[s] * o[s, y])
            else:
                o[s, y] = 1
            for e, option in enumerate(d.expansions[s]):
                n[s, e, y] = pulp.LpVariable(f"n_{s}_{e}_{y}", 0, option.max_units, cat="Integer")
                cost.append(option.annual_cost * n[s, e, y])
                if d.open_cost[s] is not None:
                    prob += n[s, e, y] <= option.max_units * o[s, y], f"eo_{s}_{e}_{y}"
                if y > 0:
                    prob += n[s, e, y] >= n[s, e, y - 1], f"nm_{s}_{e}_{y}"
            if y > 0 and not (_fixed(o[s, y]) and _fixed(o[s, y - 1])):
                prob += o[s, y] - o[s, y - 1] >= 0, f"om_{s}_{y}"
        costs.append(pulp.lpSum(cost))
    return o, n, costs


def solve_plan(data: dict[str, Any], solver: str = "cbc", limits: dict[str, float] | None = None,
               minimize: str | None = None) -> PlanResult:
    """Build the whole planning model element by element, solve it, read everything back.

    For the epsilon-constraint steps of a Pareto front: ``limits`` bounds expected totals of
    the horizon (``E[name] = sum_c span[y]*probability[c]*total_c[name] <= limit``, a name of
    ``TOTALS``; ``cost`` bounds the objective), and ``minimize`` names such a total to minimise
    instead of the cost (the result's ``objective`` stays the cost, ``totals[name]`` is the
    minimised value)."""
    pulp = _import_pulp()
    plan = read_plan(data)
    prob = pulp.LpProblem("eastwest_reference_plan", pulp.LpMinimize)
    o, n, build_cost = _build(pulp, prob, plan)
    objective = [plan.discount[y] * cost for y, cost in enumerate(build_cost)]
    expected: dict[str, list[Any]] = {name: [] for name in {*(limits or {}), minimize}
                                      if name not in (None, "cost")}
    feasible = True
    case_vars = []
    for c, case in enumerate(plan.cases):
        d, y = case.d, case.year
        cap = [d.capacity[s] * o[s, y]
               + pulp.lpSum(opt.size * n[s, e, y] for e, opt in enumerate(d.expansions[s]))
               if not (_fixed(o[s, y]) and not d.expansions[s]) else d.capacity[s]
               for s in range(len(d.sites))]
        w = _variables(pulp, c, case)
        feasible &= _demand_rows(pulp, prob, c, case, w)
        feasible &= _site_rows(pulp, prob, c, case, w, cap)
        _network_rows(pulp, prob, c, case, w)
        weight = plan.discount[y] * case.probability
        objective += [weight * term for term in operating_costs(case, w).values()]
        terms = _case_totals(case, w) if expected else {}
        for name, parts in expected.items():
            parts.append(plan.years[y]["span"] * case.probability * terms[name])
        case_vars.append(w)
    for name, limit in (limits or {}).items():
        bounded = objective if name == "cost" else expected[name]
        prob += pulp.lpSum(bounded) <= limit, f"limit_{name}"
    prob += pulp.lpSum(expected.get(minimize or "", objective))
    if not feasible:
        return PlanResult("Infeasible", None, plan=plan)
    prob.solve(_solver(pulp, solver))
    status = pulp.LpStatus[prob.status]
    if status != "Optimal":
        return PlanResult(status, None, plan=plan)
    return _read_back(plan, o, n, case_vars)


def _solver(pulp: Any, name: str) -> Any:
    """CBC (default) or HiGHS through PuLP, both to a relative MIP gap of 1e-9 (HiGHS's own
    default is 1e-4, too loose for a 1e-6 comparison); ``highs`` also returns doubles where
    CBC's solution file has about 8 significant digits."""
    if name == "cbc":
        return pulp.PULP_CBC_CMD(msg=False, gapRel=1e-9)
    if name == "highs":
        return pulp.HiGHS(msg=False, gapRel=1e-9)
    raise ValueError(f"unknown reference solver {name!r}")


def _read_back(plan: Plan, o: dict[Any, Any], n: dict[Any, Any], case_vars: list[CaseVars]
               ) -> PlanResult:
    def val(var: Any, integer: bool = False) -> float:
        return float(var) if isinstance(var, int | float) else _value(var, integer)

    result = PlanResult("Optimal", None, plan=plan)
    result.costs = dict.fromkeys(CATEGORIES_V2, 0.0)
    result.totals = dict.fromkeys(TOTALS, 0.0)
    annual: list[dict[str, float]] = []
    for y, d in enumerate(plan.year_data):
        spent = {"expansion": 0.0, "opening": 0.0}
        for s, sid in enumerate(d.sites):
            opened = val(o[s, y], integer=True)
            units = {opt.id: val(n[s, e, y], integer=True) for e, opt in enumerate(d.expansions[s])}
            expansion = sum(opt.annual_cost * units[opt.id] for opt in d.expansions[s])
            opening = (d.open_cost[s] or 0.0) * opened
            spent["expansion"] += expansion
            spent["opening"] += opening
            result.build.append({
                "year": plan.years[y]["id"], "site": sid, "open": opened > 0.5,
                "expansion_units": int(sum(units.values())), "units": units,
                "mw": d.capacity[s] * opened
                + sum(opt.size * units[opt.id] for opt in d.expansions[s]),
                "annual_cost": expansion + opening,
            })
        annual.append(spent)
        for key in spent:
            result.costs[key] += plan.discount[y] * spent[key]
    for case, w in zip(plan.cases, case_vars, strict=True):
        values = CaseVars(**{name: {k: val(var, name == "y") for k, var in getattr(w, name).items()}
                             for name in ("x", "u", "g", "v", "b", "q", "y")})
        result.values.append(values)
        weight = plan.discount[case.year] * case.probability
        costs = {k: float(v) for k, v in operating_costs(case, values).items()}
        for key, value in costs.items():
            result.costs[key] += weight * value
        totals = case_totals(case, values)
        span = plan.years[case.year]["span"]
        for key, value in totals.items():
            result.totals[key] += span * case.probability * value
        result.cases.append({
            "year": plan.years[case.year]["id"], "scenario": case.label,
            "probability": case.probability, "weight": weight,
            "costs": {**costs, **annual[case.year]}, "totals": totals,
        })
    result.objective = sum(result.costs.values())
    return result


def case_totals(case: Case, w: CaseVars) -> dict[str, float]:
    return {k: float(v) for k, v in _case_totals(case, w).items()}


def _case_totals(case: Case, w: CaseVars) -> dict[str, Any]:
    """A case's annual totals, for variables (LP expressions) or values (floats)."""
    d = case.d
    a = d.annual
    served = sum(a[t] * val for (_, _, _, t), val in w.x.items())
    grid = sum(a[t] * val for (_, t), val in w.g.items())
    ren = sum(a[t] * val for (_, t), val in w.v.items())
    return {
        "served_mwh": served,
        "unmet_mwh": sum(a[t] * val for (_, _, t), val in w.u.items()),
        "it_energy_mwh": served,
        "facility_energy_mwh": grid + ren,
        "grid_energy_mwh": grid,
        "renewable_energy_mwh": ren,
        "carbon_t": sum(a[t] * d.carbon_intensity[s][t] * val for (s, t), val in w.g.items()),
        "water_m3": water_m3(case, w.x),
    }


def solve(data: dict[str, Any]) -> tuple[str, float | None, dict[str, float]]:
    """(status, objective, discounted cost categories) of the planning reference."""
    result = solve_plan(data)
    return result.status, result.objective, result.costs


assert set(CATEGORIES) <= set(CATEGORIES_V2)

"""Stage 5: RawResult -> Solution: named, typed results; reads the LP's blocks, never a solver.

Also where a solution is checked (:mod:`optimizer.check`) before it may be called optimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer import __version__
from optimizer.backends.base import Notice, RawResult, Status
from optimizer.check import check_solution
from optimizer.compile import Arrays
from optimizer.model.lp import COST_CATEGORIES, LinearProgram

SOLUTION_VERSION = 1
FLOW_EPS = 1e-9  # MW; flows below this are reported as zero


@dataclass(frozen=True)
class FlowTable:
    """Non-zero flows, columnar: indices into the name lists of the Solution."""

    region: np.ndarray
    site: np.ndarray
    klass: np.ndarray
    period: np.ndarray
    mw: np.ndarray

    def __len__(self) -> int:
        return len(self.mw)


@dataclass
class Solution:
    instance: str
    currency: str
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    message: str
    regions: list[str]
    sites: list[str]
    classes: list[str]
    periods: list[str]
    annual: np.ndarray  # (T,) hours a year each period stands for
    costs: dict[str, float]
    totals: dict[str, float]
    flows: FlowTable
    site_table: list[dict[str, Any]]
    class_table: list[dict[str, Any]]
    region_table: list[dict[str, Any]]
    site_load: np.ndarray  # (S, T) IT MW
    solver: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    region_site_mwh: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (R, S)
    site_zone: list[str | None] = field(default_factory=list)
    site_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (S,) after building
    class_load: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # (S, K, T) MW
    renewable_available: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, T)
    build_table: list[dict[str, Any]] = field(default_factory=list)
    corridor_table: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # the backend's, worded by the reader

    @property
    def has_values(self) -> bool:
        return self.objective is not None

    def to_dict(self) -> dict[str, Any]:
        """The solution JSON, version 1 (DESIGN.md §5)."""
        f = self.flows
        flows = [
            {"region": self.regions[r], "site": self.sites[s], "class": self.classes[k],
             "period": self.periods[t], "mw": mw}
            for r, s, k, t, mw in zip(f.region.tolist(), f.site.tolist(), f.klass.tolist(),
                                      f.period.tolist(), f.mw.tolist(), strict=True)
        ]
        return {
            "version": SOLUTION_VERSION,
            "eastwest": __version__,
            "instance": self.instance,
            "overrides": self.overrides,
            "currency": self.currency,
            "status": self.status.value,
            "message": self.message,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "costs": self.costs,
            "totals": self.totals,
            "flows": flows,
            "sites": self.site_table,
            "classes": self.class_table,
            "regions": self.region_table,
            "build": self.build_table,
            "corridors": self.corridor_table,
            "policy": self.policy,
            "solver": self.solver,
            "warnings": self.warnings,
            "notes": self.notes,
        }


def _dual_sum(raw: RawResult, lp: LinearProgram, block: str, groups: int) -> np.ndarray | None:
    """Minus the duals of a row block summed per group (rows group-major): the saving per unit
    of right-hand side; None where no reliable duals exist."""
    if raw.duals is None or block not in lp.rows:
        return None
    rows = raw.duals[lp.rows[block].slice]
    return -rows.reshape(groups, -1).sum(axis=1) + 0.0 if groups else np.zeros(0)


def structure(arrays: Arrays) -> dict[str, Any]:
    """Flow variables possible (every region, site, class and period), built, and removed by
    presolve by structure, per reason (compile and :mod:`optimizer.presolve`)."""
    T = len(arrays.periods)
    possible = len(arrays.regions) * len(arrays.sites) * len(arrays.classes) * T
    return {"possible_flow_variables": possible,
            "flow_variables": len(arrays.arc_region) * T,
            "removed_flow_variables": {k: v * T for k, v in arrays.arcs_removed.items()}}


def structure_note(info: dict[str, Any]) -> str:
    removed = [f"{n:,} {why}" for why, n in info["removed_flow_variables"].items() if n]
    return (f"presolve by structure: {info['flow_variables']:,} of "
            f"{info['possible_flow_variables']:,} possible flow variables built"
            + (f"; removed {', '.join(removed)}" if removed else ""))


def interpret(arrays: Arrays, lp: LinearProgram, raw: RawResult) -> Solution:
    status, message, x = raw.status, raw.message, raw.x
    notes = list(raw.notes)
    if raw.duals_from and lp.is_mip:
        notes.append("shadow prices of this MIP come from its LP with the integer decisions "
                     f"fixed at their optimal values (duals from {raw.duals_from})")
    if x is not None:
        violation = check_solution(lp, x)
        if not violation.ok:
            if status is Status.TIME_LIMIT:
                message = ("stopped at the time limit before a feasible solution was found "
                           f"(the last point violates {violation.count} bounds)")
            else:
                status = Status.ERROR
                message = (f"the solver's solution violates {violation.count} bounds "
                           f"(worst {violation.worst:.2e} at {violation.where}); not reported")
            x = None
    if x is None and status.has_solution_expected and status is not Status.TIME_LIMIT:
        status = Status.ERROR
    R, S, K, T = (len(arrays.regions), len(arrays.sites), len(arrays.classes),
                  len(arrays.periods))
    a = arrays.annual
    solver_info = {
        "backend": raw.backend, "solver": raw.solver, "variables": lp.n_vars,
        "constraints": lp.n_rows, "nonzeros": lp.nnz,
        "integer_variables": int(lp.integer.sum()), "build_s": lp.build_s,
        "solve_s": raw.solve_s, "duals_from": raw.duals_from or None,
    }
    solver_info["structure"] = shape = structure(arrays)
    notes.append(structure_note(shape))
    none = np.zeros(0, dtype=np.int64)
    empty = FlowTable(none, none, none, none, np.zeros(0))
    if x is None:
        return Solution(
            arrays.name, arrays.currency, status, None, None, None, message, arrays.regions,
            arrays.sites, arrays.classes, arrays.periods, a, {}, {}, empty, [], [], [],
            np.zeros((S, T)), solver_info, notes=notes, region_site_mwh=np.zeros((R, S)),
            site_zone=list(arrays.zones), notices=list(raw.notices),
        )

    fb = lp.variables["flow"]
    fx = x[fb.slice]
    fr, fs, fk, ft = (fb.index[d] for d in ("region", "site", "class", "period"))
    fmwh = fx * a[ft]
    ub = lp.variables["unmet"]
    ux = x[ub.slice]
    umwh = ux * a[ub.index["period"]]
    gb, vb = lp.variables["grid"], lp.variables["renewable"]
    g = x[gb.slice].reshape(S, T)
    v = x[vb.slice].reshape(S, T)

    # planning decisions: what is open and built, and the capacity that results
    opened = np.ones(S, dtype=bool)
    ob = lp.variables["open"]
    opened[ob.index["site"]] = np.round(x[ob.slice]) > 0.5
    bb = lp.variables["build"]
    units = np.round(x[bb.slice]).astype(np.int64)
    site_units = np.bincount(arrays.exp_site, units, minlength=S)
    capacity = (np.where(opened, arrays.capacity, 0.0)
                + np.bincount(arrays.exp_site, units * arrays.exp_size, minlength=S))

    class_load = np.zeros((S, K, T))
    np.add.at(class_load, (fs, fk, ft), fx)
    site_load = class_load.sum(axis=1)
    site_mwh = np.bincount(fs, fmwh, minlength=S)
    region_site = np.zeros((R, S))
    np.add.at(region_site, (fr, fs), fmwh)

    demand_mwh = (arrays.demand * a).sum(axis=2)  # (R, K)
    served_rk = np.zeros((R, K))
    np.add.at(served_rk, (fr, fk), fmwh)
    unmet_rk = np.zeros((R, K))
    np.add.at(unmet_rk, (ub.index["region"], ub.index["class"]), umwh)
    latency_mwh = np.bincount(fk, fmwh * arrays.latency[fr, fs], minlength=K)

    # time-shifting: work served later than it arrived, and how long it waited (Little's law)
    served_rkt = np.zeros((R, K, T))
    np.add.at(served_rkt, (fr, fk, ft), fx)
    unmet_rkt = np.zeros((R, K, T))
    np.add.at(unmet_rkt, (ub.index["region"], ub.index["class"], ub.index["period"]), ux)
    late = np.maximum(arrays.demand - served_rkt - unmet_rkt, 0.0) * arrays.hours
    shifted_k = (late * arrays.weight).sum(axis=(0, 2))
    bl = lp.variables["backlog"]
    waiting_k = np.bincount(bl.index["class"], x[bl.slice] * arrays.weight[bl.index["period"]],
                            minlength=K)

    grid_mwh = (g * a).sum(axis=1)
    ren_mwh = (v * a).sum(axis=1)
    carbon = (g * a * arrays.carbon_intensity).sum(axis=1)

    cap_price = _dual_sum(raw, lp, "capacity", S)
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(capacity[:, None] > 0, site_load / capacity[:, None], 0.0)
    site_table = [
        {
            "id": arrays.sites[s], "zone": arrays.zones[s], "open": bool(opened[s]),
            "expansion_units": int(site_units[s]),
            "capacity_mw": float(capacity[s]),
            "peak_utilization": float(util[s].max(initial=0.0)),
            "mean_utilization": float((util[s] * a).sum() / a.sum()) if a.sum() > 0 else 0.0,
            "it_energy_mwh": float(site_mwh[s]),
            "grid_energy_mwh": float(grid_mwh[s]),
            "renewable_energy_mwh": float(ren_mwh[s]),
            "carbon_t": float(carbon[s]),
            "capacity_price": None if cap_price is None else float(cap_price[s]),
        }
        for s in range(S)
    ]
    build_table = [
        {"site": arrays.sites[s], "option": None, "units": 1, "capacity_mw":
         float(arrays.capacity[s]), "annual_cost": float(arrays.open_cost[s])}
        for s in ob.index["site"] if opened[s]
    ] + [
        {"site": arrays.sites[arrays.exp_site[e]], "option": arrays.exp_ids[e].split("/", 1)[1],
         "units": int(units[e]), "capacity_mw": float(units[e] * arrays.exp_size[e]),
         "annual_cost": float(units[e] * arrays.exp_cost[e])}
        for e in np.flatnonzero(units)
    ]
    class_table = [
        {
            "id": arrays.classes[k],
            "demand_mwh": float(demand_mwh[:, k].sum()),
            "served_mwh": float(served_rk[:, k].sum()),
            "unmet_mwh": float(unmet_rk[:, k].sum()),
            "mean_latency_ms": (float(latency_mwh[k] / served_rk[:, k].sum())
                                if served_rk[:, k].sum() > 0 else None),
            "max_delay_periods": int(arrays.max_delay[k]),
            "shifted_mwh": float(shifted_k[k]),
            # MWh-periods waited per MWh of the class's work (all of it, shifted or not)
            "mean_delay_periods": (float(waiting_k[k] / demand_mwh[:, k].sum())
                                   if demand_mwh[:, k].sum() > 0 else 0.0),
        }
        for k in range(K)
    ]
    region_table = [
        {"id": arrays.regions[r], "demand_mwh": float(demand_mwh[r].sum()),
         "served_mwh": float(served_rk[r].sum()), "unmet_mwh": float(unmet_rk[r].sum())}
        for r in range(R)
    ]
    L = len(arrays.corridor_ids)
    corridor_table = []
    if L:
        cr = lp.rows["corridor"]
        use = (lp.A[cr.slice] @ x).reshape(L, T)
        prices = _dual_sum(raw, lp, "corridor", L)
        corridor_table = [
            {"id": arrays.corridor_ids[c], "capacity_gbps": float(arrays.corridor_capacity[c]),
             "peak_gbps": float(use[c].max()), "mean_gbps": float((use[c] * a).sum() / a.sum()),
             "shadow_price": None if prices is None else float(prices[c])}
            for c in range(L)
        ]
    facility = grid_mwh.sum() + ren_mwh.sum()
    policy: dict[str, Any] = {
        "carbon_cap_t": arrays.carbon_cap, "carbon_t": float(carbon.sum()),
        "carbon_cap_price": None,
        "min_renewable_share": arrays.min_renewable_share,
        "renewable_share": float(ren_mwh.sum() / facility) if facility > 0 else 0.0,
        "renewable_floor_price": None,
    }
    cap_dual = _dual_sum(raw, lp, "carbon_cap", 1)
    if cap_dual is not None and len(cap_dual):
        policy["carbon_cap_price"] = float(cap_dual[0])
    floor_dual = _dual_sum(raw, lp, "renewable_share", 1)
    if floor_dual is not None and len(floor_dual):
        # the row is sum a*((1-share)*v - share*g) >= 0: the saving per unit of its right-hand
        # side, negated, is the cost of one more unit of required (weighted) renewable energy
        policy["renewable_floor_price"] = float(-floor_dual[0])
    totals = {
        "served_mwh": float(fmwh.sum()),
        "unmet_mwh": float(umwh.sum()),
        "it_energy_mwh": float(fmwh.sum()),
        "facility_energy_mwh": float(facility),
        "grid_energy_mwh": float(grid_mwh.sum()),
        "renewable_energy_mwh": float(ren_mwh.sum()),
        "renewable_share": policy["renewable_share"],
        "carbon_t": float(carbon.sum()),
        "shifted_mwh": float(shifted_k.sum()),
    }
    nz = fx > FLOW_EPS
    flows = FlowTable(fr[nz], fs[nz], fk[nz], ft[nz], fx[nz])
    objective = float(lp.c @ x)
    bound = raw.bound if raw.bound is not None else (objective if status is Status.OPTIMAL
                                                     else None)
    gap = abs(objective - bound) / max(1.0, abs(objective)) if bound is not None else None
    costs = lp.costs(x)
    assert set(costs) == set(COST_CATEGORIES)
    return Solution(
        arrays.name, arrays.currency, status, objective, bound, gap, message, arrays.regions,
        arrays.sites, arrays.classes, arrays.periods, a, costs, totals, flows, site_table,
        class_table, region_table, site_load, solver_info, notes=notes,
        region_site_mwh=region_site, site_zone=list(arrays.zones), site_capacity=capacity,
        class_load=class_load, renewable_available=arrays.renewable, build_table=build_table,
        corridor_table=corridor_table, policy=policy, notices=list(raw.notices),
    )

"""Stage 5: RawResult -> Solution: named, typed results; reads the LP's blocks and named
expressions, never a solver.

Two steps: :func:`decode` checks the solver's vector (:mod:`optimizer.check`) and splits it into
the quantities a planner reads (:class:`Decoded`); one helper per table then builds the sites,
classes, regions, build plan, corridors, policy and totals. Shadow prices come from the
registry (:mod:`optimizer.model.prices`), not from a list of families here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.backends.base import RawResult, Status
from optimizer.check import check_solution
from optimizer.compile import Arrays
from optimizer.model.lp import LinearProgram, cost_categories
from optimizer.model.prices import ShadowPrice, by_kind, shadow_prices
from optimizer.solution import SOLUTION_VERSION, FlowTable, Solution

__all__ = ["FLOW_EPS", "SOLUTION_VERSION", "Decoded", "FlowTable", "Solution", "decode",
           "interpret", "structure", "structure_note"]

FLOW_EPS = 1e-9  # MW; flows below this are reported as zero


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


@dataclass(frozen=True)
class Decoded:
    """The solution vector by block, in the units reports use (MW per period, MWh a year)."""

    flow_mw: np.ndarray  # (F,) per flow variable
    flow_region: np.ndarray
    flow_site: np.ndarray
    flow_class: np.ndarray
    flow_period: np.ndarray
    flow_mwh: np.ndarray  # (F,) a year
    unmet_mw: np.ndarray  # (U,) per unmet variable
    unmet_region: np.ndarray
    unmet_class: np.ndarray
    unmet_period: np.ndarray
    unmet_mwh: np.ndarray  # (U,) a year
    backlog_class: np.ndarray
    backlog_period: np.ndarray
    backlog_mwh: np.ndarray  # (B,) waiting at the end of each period
    grid_mwh: np.ndarray  # (S,) a year
    renewable_mwh: np.ndarray  # (S,) a year
    carbon_t: np.ndarray  # (S,) a year
    opened: np.ndarray  # (S,) bool: existing, or a candidate opened
    units: np.ndarray  # (E,) expansion units built
    capacity: np.ndarray  # (S,) MW of IT capacity after building
    class_load: np.ndarray  # (S, K, T) MW
    certificates_mwh: np.ndarray  # (S,) a year (version 2; 0 without certificates)
    water_m3: np.ndarray  # (S,) a year (version 2; 0 in version 1)


def decode(arrays: Arrays, lp: LinearProgram, x: np.ndarray) -> Decoded:
    S, K, T = len(arrays.sites), len(arrays.classes), len(arrays.periods)
    a = arrays.annual
    flow = lp.variables["flow"]
    flow_mw = x[flow.slice]
    fr, fs, fk, ft = (flow.index[d] for d in ("region", "site", "class", "period"))
    unmet = lp.variables["unmet"]
    backlog = lp.variables["backlog"]

    def per_site(expression: str) -> np.ndarray:  # an annual (site, period) expression, by site
        return lp.expressions[expression].value(x).reshape(S, T).sum(axis=1)

    def by_site(expression: str) -> np.ndarray:  # an expression per site, 0 where not defined
        found = lp.expressions.get(expression)
        return np.zeros(S) if found is None else found.value(x)

    opened = np.ones(S, dtype=bool)
    open_block = lp.variables["open"]
    opened[open_block.index["site"]] = np.round(x[open_block.slice]) > 0.5
    units = np.round(x[lp.variables["build"].slice]).astype(np.int64)
    capacity = (np.where(opened, arrays.capacity, 0.0)
                + np.bincount(arrays.exp_site, units * arrays.exp_size, minlength=S))
    class_load = np.zeros((S, K, T))
    np.add.at(class_load, (fs, fk, ft), flow_mw)
    return Decoded(
        flow_mw=flow_mw, flow_region=fr, flow_site=fs, flow_class=fk, flow_period=ft,
        flow_mwh=flow_mw * a[ft],
        unmet_mw=x[unmet.slice], unmet_region=unmet.index["region"],
        unmet_class=unmet.index["class"], unmet_period=unmet.index["period"],
        unmet_mwh=lp.expressions["unmet_energy"].value(x),
        backlog_class=backlog.index["class"], backlog_period=backlog.index["period"],
        backlog_mwh=x[backlog.slice],
        grid_mwh=per_site("grid_energy"), renewable_mwh=per_site("renewable_energy"),
        carbon_t=per_site("emissions"), opened=opened, units=units, capacity=capacity,
        class_load=class_load, certificates_mwh=by_site("certificate_energy"),
        water_m3=by_site("water_m3"))


def checked(lp: LinearProgram, raw: RawResult) -> tuple[Status, str, np.ndarray | None]:
    """The status, message and vector that may be reported: a vector that violates its bounds
    is not (the status says why)."""
    status, message, x = raw.status, raw.message, raw.x
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
    return status, message, x


def site_rows(arrays: Arrays, d: Decoded, prices: list[ShadowPrice]) -> list[dict[str, Any]]:
    S = len(arrays.sites)
    a = arrays.annual
    site_load = d.class_load.sum(axis=1)
    site_mwh = np.bincount(d.flow_site, d.flow_mwh, minlength=S)
    site_units = np.bincount(arrays.exp_site, d.units, minlength=S)
    capacity_price = by_kind(prices, "capacity")
    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(d.capacity[:, None] > 0, site_load / d.capacity[:, None], 0.0)
    mean_util = [float((util[s] * a).sum() / a.sum()) if a.sum() > 0 else 0.0 for s in range(S)]
    extra = (site_policy(arrays, d, site_mwh, mean_util) if arrays.version >= 2
             else [{} for _ in range(S)])
    return [
        {
            "id": arrays.sites[s], "zone": arrays.zones[s], "open": bool(d.opened[s]),
            "expansion_units": int(site_units[s]),
            "capacity_mw": float(d.capacity[s]),
            "peak_utilization": float(util[s].max(initial=0.0)),
            "mean_utilization": mean_util[s],
            "it_energy_mwh": float(site_mwh[s]),
            "grid_energy_mwh": float(d.grid_mwh[s]),
            "renewable_energy_mwh": float(d.renewable_mwh[s]),
            "carbon_t": float(d.carbon_t[s]),
            "capacity_price": None if capacity_price is None else capacity_price[s].value,
            **extra[s],
        }
        for s in range(S)
    ]


def site_policy(arrays: Arrays, d: Decoded, it_mwh: np.ndarray,
                mean_util: list[float]) -> list[dict[str, Any]]:
    """Per site, version 2 (DESIGN.md §8): water, certificates, green share (renewable energy
    and certificates over facility energy; None without facility energy), mean PUE (facility
    over IT energy; the period-weighted mean of the PUE series without load) and utilisation
    (the annual mean IT load over the capacity; None without capacity)."""
    a = arrays.annual
    facility = d.grid_mwh + d.renewable_mwh
    pue_data = (arrays.pue * a).sum(axis=1) / a.sum() if a.sum() > 0 else arrays.pue.mean(axis=1)
    return [
        {"water_m3": float(d.water_m3[s]),
         "certificates_mwh": float(d.certificates_mwh[s]),
         "green_share": float((d.renewable_mwh[s] + d.certificates_mwh[s]) / facility[s])
         if facility[s] > 0 else None,
         "mean_pue": float(facility[s] / it_mwh[s]) if it_mwh[s] > 0 else float(pue_data[s]),
         "utilization": mean_util[s] if d.capacity[s] > 0 else None}
        for s in range(len(arrays.sites))
    ]


SHARE_TOL = 1e-6
"""A floor on a share, or a PUE cap, counts as met within this (the solvers' feasibility
tolerance)."""


def _optional(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def compliance_rows(arrays: Arrays, sites: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per site, each rule of DESIGN.md §8 against what the solution does: ``*_ok`` is None
    where the rule is not set (or, for utilisation, the site is lost in this case), True where
    met (an empty site meets its green-share floor, a site without capacity its utilisation
    floor)."""
    out = []
    for s, row in enumerate(sites):
        cap, floor, green = (_optional(v[s]) for v in (arrays.max_pue, arrays.min_utilization,
                                                         arrays.min_green_share))
        util, share = row["utilization"], row["green_share"]
        out.append({
            "site": row["id"], "pue": row["mean_pue"], "max_pue": cap,
            "pue_ok": None if cap is None else row["mean_pue"] <= cap + SHARE_TOL,
            "utilization": util, "min_utilization": floor,
            "utilization_ok": None if floor is None or arrays.lost[s] else
            util is None or util >= floor - SHARE_TOL,
            "green_share": share, "min_green_share": green,
            "green_ok": None if green is None else share is None or share >= green - SHARE_TOL,
        })
    return out


def build_rows(arrays: Arrays, lp: LinearProgram, d: Decoded) -> list[dict[str, Any]]:
    """What is opened and built, and what it costs."""
    opened = [
        {"site": arrays.sites[s], "option": None, "units": 1, "capacity_mw":
         float(arrays.capacity[s]), "annual_cost": float(arrays.open_cost[s])}
        for s in lp.variables["open"].index["site"] if d.opened[s]
    ]
    return opened + [
        {"site": arrays.sites[arrays.exp_site[e]], "option": arrays.exp_ids[e].split("/", 1)[1],
         "units": int(d.units[e]), "capacity_mw": float(d.units[e] * arrays.exp_size[e]),
         "annual_cost": float(d.units[e] * arrays.exp_cost[e])}
        for e in np.flatnonzero(d.units)
    ]


@dataclass(frozen=True)
class Service:
    """Energy a year by region and class: asked, served, unmet; time-shifting per class."""

    demand: np.ndarray  # (R, K)
    served: np.ndarray  # (R, K)
    unmet: np.ndarray  # (R, K)
    shifted: np.ndarray  # (K,) MWh served later than it arrived
    waiting: np.ndarray  # (K,) MWh-periods waited


def service(arrays: Arrays, d: Decoded) -> Service:
    R, K, T = len(arrays.regions), len(arrays.classes), len(arrays.periods)
    served = np.zeros((R, K))
    np.add.at(served, (d.flow_region, d.flow_class), d.flow_mwh)
    unmet = np.zeros((R, K))
    np.add.at(unmet, (d.unmet_region, d.unmet_class), d.unmet_mwh)
    # time-shifting: work served later than it arrived, and how long it waited (Little's law)
    served_rkt = np.zeros((R, K, T))
    np.add.at(served_rkt, (d.flow_region, d.flow_class, d.flow_period), d.flow_mw)
    unmet_rkt = np.zeros((R, K, T))
    np.add.at(unmet_rkt, (d.unmet_region, d.unmet_class, d.unmet_period), d.unmet_mw)
    late = np.maximum(arrays.demand - served_rkt - unmet_rkt, 0.0) * arrays.hours
    waiting = np.bincount(d.backlog_class, d.backlog_mwh * arrays.weight[d.backlog_period],
                          minlength=K)
    return Service((arrays.demand * arrays.annual).sum(axis=2), served, unmet,
                   (late * arrays.weight).sum(axis=(0, 2)), waiting)


def class_rows(arrays: Arrays, lp: LinearProgram, x: np.ndarray,
               use: Service) -> list[dict[str, Any]]:
    latency = lp.expressions["latency_mwh_ms"].value(x)  # MWh x ms a year, per class
    rows = []
    for k in range(len(arrays.classes)):
        served, demand = use.served[:, k].sum(), use.demand[:, k].sum()
        rows.append({
            "id": arrays.classes[k],
            "demand_mwh": float(demand),
            "served_mwh": float(served),
            "unmet_mwh": float(use.unmet[:, k].sum()),
            "mean_latency_ms": float(latency[k] / served) if served > 0 else None,
            "max_delay_periods": int(arrays.max_delay[k]),
            "shifted_mwh": float(use.shifted[k]),
            # MWh-periods waited per MWh of the class's work (all of it, shifted or not)
            "mean_delay_periods": float(use.waiting[k] / demand) if demand > 0 else 0.0,
        })
    return rows


def region_rows(arrays: Arrays, use: Service) -> list[dict[str, Any]]:
    return [
        {"id": arrays.regions[r], "demand_mwh": float(use.demand[r].sum()),
         "served_mwh": float(use.served[r].sum()), "unmet_mwh": float(use.unmet[r].sum())}
        for r in range(len(arrays.regions))
    ]


def corridor_rows(arrays: Arrays, lp: LinearProgram, x: np.ndarray,
                  prices: list[ShadowPrice]) -> list[dict[str, Any]]:
    L, T = len(arrays.corridor_ids), len(arrays.periods)
    if not L:
        return []
    a = arrays.annual
    use = (lp.A[lp.rows["corridor"].slice] @ x).reshape(L, T)
    price = by_kind(prices, "corridor")
    return [
        {"id": arrays.corridor_ids[c], "capacity_gbps": float(arrays.corridor_capacity[c]),
         "peak_gbps": float(use[c].max()), "mean_gbps": float((use[c] * a).sum() / a.sum()),
         "shadow_price": None if price is None else price[c].value}
        for c in range(L)
    ]


def policy_record(arrays: Arrays, d: Decoded, prices: list[ShadowPrice]) -> dict[str, Any]:
    facility = d.grid_mwh.sum() + d.renewable_mwh.sum()
    cap = by_kind(prices, "carbon_cap")
    floor = by_kind(prices, "renewable_floor")
    return {
        "carbon_cap_t": arrays.carbon_cap, "carbon_t": float(d.carbon_t.sum()),
        "carbon_cap_price": None if cap is None else cap[0].per_row,
        "min_renewable_share": arrays.min_renewable_share,
        "renewable_share": float(d.renewable_mwh.sum() / facility) if facility > 0 else 0.0,
        # per MWh of renewable energy required: the cost of one more unit of the floor's row
        "renewable_floor_price": None if floor is None else floor[0].per_row,
        **(_policy_v2(arrays, d, facility) if arrays.version >= 2 else {}),
    }


def _policy_v2(arrays: Arrays, d: Decoded, facility: float) -> dict[str, Any]:
    """Certificates and water, network-wide (version 2); ``green_share`` counts certificates
    as green energy (constraint 6 in version 2)."""
    green = d.renewable_mwh.sum() + d.certificates_mwh.sum()
    return {"certificate_price": arrays.certificate_price,
            "certificates_mwh": float(d.certificates_mwh.sum()),
            "green_share": float(green / facility) if facility > 0 else 0.0,
            "water_price": arrays.water_price, "water_m3": float(d.water_m3.sum())}


def totals(d: Decoded, use: Service, policy: dict[str, Any],
           version: int = 1) -> dict[str, float]:
    served = float(d.flow_mwh.sum())
    v2 = ({"water_m3": float(d.water_m3.sum()),
           "certificates_mwh": float(d.certificates_mwh.sum())} if version >= 2 else {})
    return {
        "served_mwh": served,
        "unmet_mwh": float(d.unmet_mwh.sum()),
        "it_energy_mwh": served,
        "facility_energy_mwh": float(d.grid_mwh.sum() + d.renewable_mwh.sum()),
        "grid_energy_mwh": float(d.grid_mwh.sum()),
        "renewable_energy_mwh": float(d.renewable_mwh.sum()),
        "renewable_share": policy["renewable_share"],
        "carbon_t": float(d.carbon_t.sum()),
        "shifted_mwh": float(use.shifted.sum()),
        **v2,
    }


def solver_record(arrays: Arrays, lp: LinearProgram, raw: RawResult) -> dict[str, Any]:
    return {
        "backend": raw.backend, "solver": raw.solver, "variables": lp.n_vars,
        "constraints": lp.n_rows, "nonzeros": lp.nnz,
        "integer_variables": int(lp.integer.sum()), "build_s": lp.build_s,
        "solve_s": raw.solve_s, "duals_from": raw.duals_from or None,
        "structure": structure(arrays),
    }


def interpret(arrays: Arrays, lp: LinearProgram, raw: RawResult) -> Solution:
    status, message, x = checked(lp, raw)
    notes = list(raw.notes)
    if raw.duals_from and lp.is_mip:
        notes.append("shadow prices of this MIP come from its LP with the integer decisions "
                     f"fixed at their optimal values (duals from {raw.duals_from})")
    solver = solver_record(arrays, lp, raw)
    notes.append(structure_note(solver["structure"]))
    S, T = len(arrays.sites), len(arrays.periods)
    names: dict[str, Any] = {
        "instance": arrays.name, "currency": arrays.currency, "regions": arrays.regions,
        "sites": arrays.sites, "classes": arrays.classes, "periods": arrays.periods,
        "annual": arrays.annual, "site_zone": list(arrays.zones)}
    if x is None:
        none = np.zeros(0, dtype=np.int64)
        return Solution(
            **names, status=status, objective=None, bound=None, gap=None, message=message,
            costs={}, totals={}, flows=FlowTable(none, none, none, none, np.zeros(0)),
            site_table=[], class_table=[], region_table=[], site_load=np.zeros((S, T)),
            solver=solver, notes=notes, notices=list(raw.notices),
            region_site_mwh=np.zeros((len(arrays.regions), S)), version=arrays.version)
    d = decode(arrays, lp, x)
    prices = shadow_prices(arrays, lp, raw.duals, x)
    use = service(arrays, d)
    policy = policy_record(arrays, d, prices)
    region_site = np.zeros((len(arrays.regions), S))
    np.add.at(region_site, (d.flow_region, d.flow_site), d.flow_mwh)
    nz = d.flow_mw > FLOW_EPS
    objective = float(lp.c @ x)
    bound = raw.bound if raw.bound is not None else (objective if status is Status.OPTIMAL
                                                     else None)
    reported = cost_categories(arrays.version)  # a version-1 instance keeps its eight
    costs = {c: v for c, v in lp.costs(x).items() if c in reported}
    site_table = site_rows(arrays, d, prices)
    return Solution(
        **names, status=status, objective=objective, bound=bound,
        gap=abs(objective - bound) / max(1.0, abs(objective)) if bound is not None else None,
        message=message, costs=costs, totals=totals(d, use, policy, arrays.version),
        flows=FlowTable(d.flow_region[nz], d.flow_site[nz], d.flow_class[nz],
                        d.flow_period[nz], d.flow_mw[nz]),
        site_table=site_table, class_table=class_rows(arrays, lp, x, use),
        region_table=region_rows(arrays, use), site_load=d.class_load.sum(axis=1),
        solver=solver, notes=notes, notices=list(raw.notices), region_site_mwh=region_site,
        site_capacity=d.capacity,
        class_load=d.class_load, renewable_available=arrays.renewable,
        build_table=build_rows(arrays, lp, d), corridor_table=corridor_rows(arrays, lp, x, prices),
        policy=policy, shadow_prices=[p.to_dict() for p in prices], version=arrays.version,
        price_words={(p.kind, p.subject): p.sentence for p in prices},
        compliance=compliance_rows(arrays, site_table) if arrays.version >= 2 else [])

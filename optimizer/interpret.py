"""Stage 5: RawResult -> Solution: named, typed results; reads the LP's blocks, never a solver.

Also where a solution is checked (:mod:`optimizer.check`) before it may be called optimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer import __version__
from optimizer.backends.base import RawResult, Status
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
            "solver": self.solver,
            "warnings": self.warnings,
            "notes": self.notes,
        }


def interpret(arrays: Arrays, lp: LinearProgram, raw: RawResult) -> Solution:
    status, message, x = raw.status, raw.message, raw.x
    notes = list(raw.notes)
    if x is not None:
        violation = check_solution(lp, x)
        if not violation.ok:
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
        "constraints": lp.n_rows, "nonzeros": lp.nnz, "build_s": lp.build_s,
        "solve_s": raw.solve_s, "duals_from": raw.duals_from or None,
    }
    none = np.zeros(0, dtype=np.int64)
    empty = FlowTable(none, none, none, none, np.zeros(0))
    if x is None:
        return Solution(
            arrays.name, arrays.currency, status, None, None, None, message, arrays.regions,
            arrays.sites, arrays.classes, arrays.periods, a, {}, {}, empty, [], [], [],
            np.zeros((S, T)), solver_info, notes=notes, region_site_mwh=np.zeros((R, S)),
            site_zone=list(arrays.zones),
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

    site_load = np.zeros((S, T))
    np.add.at(site_load, (fs, ft), fx)
    site_mwh = np.bincount(fs, fmwh, minlength=S)
    region_site = np.zeros((R, S))
    np.add.at(region_site, (fr, fs), fmwh)

    demand_mwh = (arrays.demand * a).sum(axis=2)  # (R, K)
    served_rk = np.zeros((R, K))
    np.add.at(served_rk, (fr, fk), fmwh)
    unmet_rk = np.zeros((R, K))
    np.add.at(unmet_rk, (ub.index["region"], ub.index["class"]), umwh)
    latency_mwh = np.bincount(fk, fmwh * arrays.latency[fr, fs], minlength=K)

    grid_mwh = (g * a).sum(axis=1)
    ren_mwh = (v * a).sum(axis=1)
    carbon = (g * a * arrays.carbon_intensity).sum(axis=1)

    cap_price: np.ndarray | None = None
    if raw.duals is not None:
        cb = lp.rows["capacity"]
        cap_price = -raw.duals[cb.slice].reshape(S, T).sum(axis=1) + 0.0

    with np.errstate(divide="ignore", invalid="ignore"):
        util = np.where(arrays.capacity[:, None] > 0, site_load / arrays.capacity[:, None], 0.0)
    site_table = [
        {
            "id": arrays.sites[s], "zone": arrays.zones[s], "open": True, "expansion_units": 0,
            "capacity_mw": float(arrays.capacity[s]),
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
    class_table = [
        {
            "id": arrays.classes[k],
            "demand_mwh": float(demand_mwh[:, k].sum()),
            "served_mwh": float(served_rk[:, k].sum()),
            "unmet_mwh": float(unmet_rk[:, k].sum()),
            "mean_latency_ms": (float(latency_mwh[k] / served_rk[:, k].sum())
                                if served_rk[:, k].sum() > 0 else None),
        }
        for k in range(K)
    ]
    region_table = [
        {"id": arrays.regions[r], "demand_mwh": float(demand_mwh[r].sum()),
         "served_mwh": float(served_rk[r].sum()), "unmet_mwh": float(unmet_rk[r].sum())}
        for r in range(R)
    ]
    facility = grid_mwh.sum() + ren_mwh.sum()
    totals = {
        "served_mwh": float(fmwh.sum()),
        "unmet_mwh": float(umwh.sum()),
        "it_energy_mwh": float(fmwh.sum()),
        "facility_energy_mwh": float(facility),
        "grid_energy_mwh": float(grid_mwh.sum()),
        "renewable_energy_mwh": float(ren_mwh.sum()),
        "renewable_share": float(ren_mwh.sum() / facility) if facility > 0 else 0.0,
        "carbon_t": float(carbon.sum()),
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
        region_site_mwh=region_site, site_zone=list(arrays.zones),
    )

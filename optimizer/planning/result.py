"""The planning LP's answer -> a version-2 Solution (DESIGN.md §7, "Solution").

Each case is read back as the version-1 LP it was built as (:func:`interpret` on its own
arrays, LP, vector and duals in annual units), so every table of version 1 exists per case. The
top level holds the plan: the discounted cost categories (summing to the objective), the
horizon's expected totals (``span x probability`` times each case's annual totals), the build
by year, one record per case, and the flows of every case with their year and scenario. The
version-1 tables at the top level (sites, classes, regions, the plots' series) are those of the
reference case: the last year under the first scenario.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from optimizer.backends.base import RawResult, Status
from optimizer.cases import Case, Plan, YearInfo
from optimizer.compile import Arrays
from optimizer.interpret import FlowTable, Solution, checked, interpret, solver_record
from optimizer.model.lp import COST_CATEGORIES, LinearProgram
from optimizer.planning.stack import Stacked, case_duals, case_x

BUILD_CATEGORIES = ("opening", "expansion")
OPERATING = tuple(c for c in COST_CATEGORIES if c not in BUILD_CATEGORIES)


def reference_case(plan: Plan) -> int:
    """The case whose version-1 tables stand at the top level: the last year, first scenario."""
    last = len(plan.years) - 1
    return next(i for i, c in enumerate(plan.cases) if c.year == last and not c.contingency)


def plan_record(plan: Plan) -> dict[str, Any]:
    return {
        "discount_rate": plan.discount_rate,
        "years": [{"id": y.id, "year": y.year, "span": y.span, "discount": y.discount}
                  for y in plan.years],
        "scenarios": [{"id": w, "probability": p} for w, p in plan.scenarios],
        "contingencies": {"cases": plan.contingencies, "protect": plan.protect,
                          "probability": plan.contingency_probability},
    }


def interpret_plan(plan: Plan, stacked: Stacked, raw: RawResult) -> Solution:
    """The version-2 solution of the planning LP."""
    lp = stacked.lp
    ref = reference_case(plan)
    status, message, x = checked(lp, raw)
    if x is None:
        empty = interpret(plan.cases[ref].arrays, stacked.views[ref].lp,
                          replace(raw, status=status, x=None, duals=None, message=message))
        return replace(empty, solver=_solver(plan, stacked, raw), version=2,
                       plan=plan_record(plan))
    solutions = []
    for case, view in zip(plan.cases, stacked.views, strict=True):
        xc = case_x(view, x)
        sub = RawResult(status, raw.backend, raw.solver, x=xc,
                        duals=case_duals(view, raw.duals, case.weight),
                        objective=float(view.lp.c @ xc), duals_from=raw.duals_from)
        solutions.append(interpret(case.arrays, view.lp, sub))
    top = solutions[ref]
    objective = float(lp.c @ x)
    bound = raw.bound if raw.bound is not None else (objective if status is Status.OPTIMAL
                                                     else None)
    flows = _flows(solutions)
    cases = [_case_record(plan, c, s) for c, s in zip(plan.cases, solutions, strict=True)]
    notes = [*raw.notes, *top.notes[len(raw.notes):]]
    notes.append(_shape_note(plan, stacked))
    return replace(
        top, status=status, message=message, objective=objective, bound=bound,
        gap=abs(objective - bound) / max(1.0, abs(objective)) if bound is not None else None,
        costs=lp.costs(x), totals=expected_totals(plan, solutions), flows=flows,
        solver=_solver(plan, stacked, raw), notes=notes, version=2,
        build_table=build_by_year(plan, stacked, x), cases=cases, plan=plan_record(plan),
        case_labels=[(plan.years[c.year].id, c.scenario) for c in plan.cases],
        shadow_prices=[{"year": plan.years[c.year].id, "scenario": c.scenario, **p}
                       for c, s in zip(plan.cases, solutions, strict=True)
                       for p in s.shadow_prices])


def _solver(plan: Plan, stacked: Stacked, raw: RawResult) -> dict[str, Any]:
    record = solver_record(plan.cases[0].arrays, stacked.lp, raw)
    record["structure"] = {"cases": len(plan.cases)}
    return record


def _shape_note(plan: Plan, stacked: Stacked) -> str:
    lp = stacked.lp
    scen, cont = len(plan.scenarios), len(plan.contingencies)
    return (f"planning: {len(plan.cases)} operating cases ({len(plan.years)} years x "
            f"({scen} scenarios + {cont} contingencies)) sharing one build: "
            f"{lp.n_vars:,} variables ({int(lp.integer.sum()):,} integer), "
            f"{lp.n_rows:,} rows")


def _flows(solutions: list[Solution]) -> FlowTable:
    parts = [s.flows for s in solutions]
    r, s, k, t, mw = (np.concatenate([getattr(f, key) for f in parts])
                      for key in ("region", "site", "klass", "period", "mw"))
    return FlowTable(r, s, k, t, mw,
                     case=np.concatenate([np.full(len(f), i) for i, f in enumerate(parts)]))


def _case_record(plan: Plan, case: Case, sol: Solution) -> dict[str, Any]:
    costs = {k: sol.costs[k] for k in OPERATING if k in sol.costs}
    return {
        "year": plan.years[case.year].id, "scenario": case.scenario,
        "contingency": case.contingency,
        "lost": None if case.lost is None else case.arrays.sites[case.lost],
        "probability": case.probability, "weight": case.weight,
        "costs": costs, "operating_cost": math.fsum(costs.values()),
        "totals": sol.totals, "sites": sol.site_table, "classes": sol.class_table,
        "regions": sol.region_table, "policy": sol.policy,
    }


def expected_totals(plan: Plan, solutions: list[Solution]) -> dict[str, float]:
    """Sum over cases of ``span x probability x`` the case's annual totals (undiscounted);
    shares recomputed from the sums (``renewable_share``) or averaged by those factors."""
    factors = np.array([c.factor for c in plan.cases])
    out: dict[str, float] = {}
    for key in solutions[0].totals:
        values = np.array([s.totals.get(key, 0.0) or 0.0 for s in solutions])
        if key.endswith("_share"):
            total = factors.sum()
            out[key] = float(values @ factors / total) if total > 0 else 0.0
        else:
            out[key] = float(values @ factors)
    facility = out.get("facility_energy_mwh", 0.0)
    if "renewable_share" in out:
        out["renewable_share"] = out.get("renewable_energy_mwh", 0.0) / facility if facility \
            else 0.0
    return out


def build_by_year(plan: Plan, stacked: Stacked, x: np.ndarray) -> list[dict[str, Any]]:
    """Per year and site: open, units, IT capacity (the year's data) and its annual cost."""
    S = len(plan.build[0].sites)
    built = []
    for y in range(len(plan.years)):
        opened = np.ones(S, dtype=bool)
        opened[stacked.candidates] = np.round(x[stacked.open_cols[y]]) > 0.5
        built.append((opened, np.round(x[stacked.build_cols[y]]).astype(np.int64)))
    return build_records([y.id for y in plan.years], plan.build, built)


def build_records(years: list[str], arrays: list[Arrays],
                  built: list[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, Any]]:
    """The build table of version 2: per year and site, from what is open and the units of
    each expansion option in that year."""
    out = []
    previous = None
    for year, a, (opened, units) in zip(years, arrays, built, strict=True):
        S = len(a.sites)
        site_units = np.bincount(a.exp_site, units, minlength=S)
        mw = (np.where(opened, a.capacity, 0.0)
              + np.bincount(a.exp_site, units * a.exp_size, minlength=S))
        cost = (np.bincount(a.exp_site, units * a.exp_cost, minlength=S)
                + np.where(a.candidate & opened, np.nan_to_num(a.open_cost), 0.0))
        before = previous if previous is not None else np.where(a.candidate, 0.0, a.capacity)
        out += [{"year": year, "site": a.sites[s], "open": bool(opened[s]),
                 "candidate": bool(a.candidate[s]), "expansion_units": int(site_units[s]),
                 "mw": float(mw[s]), "new_mw": float(mw[s] - before[s]),
                 "annual_cost": float(cost[s])} for s in range(S)]
        previous = mw
    return out


def single_case(solution: Solution, arrays: Arrays, lp: LinearProgram,
                raw: RawResult) -> Solution:
    """A version-2 instance without a planning block, solved as version 1, with the records
    of version 2: one year ``base``, one scenario ``base`` of probability 1."""
    info = YearInfo("base", 0, 1, 1.0)
    plan = Plan([info], [("base", 1.0)], [], [], 0.0, 0.0,
                [Case(0, "base", 1.0, 1.0, 1.0, arrays)], [arrays], planned=False)
    out = replace(solution, version=2, plan=plan_record(plan),
                  case_labels=[("base", "base")])
    if not solution.has_values or raw.x is None:
        return out
    opened = np.ones(len(arrays.sites), dtype=bool)
    block = lp.variables["open"]
    opened[block.index["site"]] = np.round(raw.x[block.slice]) > 0.5
    units = np.round(raw.x[lp.variables["build"].slice]).astype(np.int64)
    flows = replace(solution.flows, case=np.zeros(len(solution.flows), dtype=np.int64))
    return replace(out, flows=flows, cases=[_case_record(plan, plan.cases[0], solution)],
                   build_table=build_records(["base"], [arrays], [(opened, units)]))

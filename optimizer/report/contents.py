"""Which tables a report holds, in order: version 1's, and for a version-2 plan its build by
year, its cases and measures first, then the reference case's version-1 tables."""

from __future__ import annotations

from dataclasses import replace

from optimizer.interpret import Solution
from optimizer.report import tables as t
from optimizer.report.planning import build_plan, planning_tables


def all_tables(sol: Solution) -> list[t.Table]:
    if not sol.has_values:
        return []
    if sol.plan is None or len(sol.cases) <= 1:  # one case: version 1's layout
        build = t.build(sol) if sol.plan is None else build_plan(sol)
        found = [t.costs(sol), build, t.sites(sol), t.compliance(sol), t.flow_matrix(sol),
                 t.classes(sol), t.load_profiles(sol), t.corridors(sol), t.totals(sol)]
        return [x for x in found if x is not None]
    costs = replace(t.costs(sol), title="Cost by category, discounted over the horizon",
                    columns=["category", "discounted cost", "share"])
    reference = [t.sites(sol), t.compliance(sol), t.flow_matrix(sol), t.classes(sol),
                 t.load_profiles(sol), t.corridors(sol)]
    label = _reference_label(sol)
    totals = replace(t.totals(sol), title="Expected totals over the horizon (undiscounted)")
    return [costs, *planning_tables(sol),
            *(replace(x, title=f"{x.title} — {label}") for x in reference if x is not None),
            totals]


def _reference_label(sol: Solution) -> str:
    years = (sol.plan or {}).get("years") or [{"id": "base"}]
    scenarios = (sol.plan or {}).get("scenarios") or [{"id": "base"}]
    return f"reference case {years[-1]['id']}/{scenarios[0]['id']}"

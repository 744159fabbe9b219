"""Report tables of a version-2 plan (DESIGN.md §7): what to build in which year, every
operating case, and the measures a planner compares the plan against."""

from __future__ import annotations

from typing import Any

from optimizer.interpret import Solution
from optimizer.report.tables import Table, energy, money, pct, tonnes


def build_plan(sol: Solution) -> Table | None:
    """Per year, the sites where something is open or built: MW, new MW, units, annual cost."""
    rows = [b for b in sol.build_table if b["candidate"] or b["expansion_units"]
            or b["new_mw"]]
    if not rows:
        return None
    cur = sol.currency
    return Table(
        "What to build, by year",
        ["year", "site", "open", "expansion units", "IT MW", "new MW", "annual cost"],
        [[b["year"], b["site"], "yes" if b["open"] else "no", str(b["expansion_units"]),
          f"{b['mw']:,.0f}", f"{b['new_mw']:+,.0f}" if b["new_mw"] else "",
          money(b["annual_cost"], cur)] for b in rows],
        numeric={3, 4, 5, 6},
        caption="what exists in each year (builds stay); annual cost of what is open and "
                "built, undiscounted")


def cases(sol: Solution) -> Table | None:
    if not sol.cases:
        return None
    cur = sol.currency
    rows = []
    for c in sol.cases:
        t = c["totals"]
        rows.append([c["year"], c["scenario"], f"{c['probability']:.3g}", f"{c['weight']:.3g}",
                     money(c["operating_cost"], cur), energy(t.get("unmet_mwh", 0.0)),
                     tonnes(t.get("carbon_t", 0.0)), pct(t.get("renewable_share")),
                     _water(t.get("water_m3"))])
    return Table(
        "Operating cases", ["year", "scenario", "probability", "weight", "operating cost a year",
                            "unmet", "emissions", "renewable share", "water"], rows,
        numeric={2, 3, 4, 5, 6, 7, 8},
        caption="weight: the factor of the case's annual operating cost in the objective "
                "(discount x span x probability); contingencies lose:SITE")


def _water(m3: float | None) -> str:
    if m3 is None:
        return "-"
    return f"{m3 / 1e6:,.2f} M m3" if abs(m3) >= 1e6 else f"{m3:,.0f} m3"


def measures(sol: Solution) -> Table | None:
    """The cost of resilience, EVPI and VSS, where they were solved."""
    found: dict[str, Any] = sol.measures or {}
    if not found:
        return None
    cur = sol.currency
    rows = [[m["label"], money(m["value"], cur) if m["value"] is not None else "n/a",
             m["meaning"]] for m in found.values()]
    return Table("What the plan is worth", ["measure", "value", "meaning"], rows,
                 numeric={1}, caption="each measure solves the plan again, as its meaning "
                 "says; values in the objective's units (discounted over the horizon)")


def planning_tables(sol: Solution) -> list[Table]:
    return [t for t in (build_plan(sol), cases(sol), measures(sol)) if t is not None]

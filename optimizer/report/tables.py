"""Stage 6a: Solution -> report tables (title, columns, formatted rows).

The same tables are rendered to the terminal (:mod:`optimizer.report.console`) and to Markdown
(:mod:`optimizer.report.markdown`). Reporting only reads a Solution; it never touches the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer.backends.base import Status
from optimizer.interpret import Solution
from optimizer.model.lp import COST_CATEGORIES


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    caption: str = ""
    numeric: set[int] = field(default_factory=set)  # columns to right-align
    footer: list[str] | None = None


Scale = tuple[tuple[float, str, str], ...]  # (divisor, format, unit), largest first

MONEY: Scale = ((1e9, ",.3f", " bn"), (1e6, ",.2f", " m"), (1.0, ",.0f", ""))
ENERGY: Scale = ((1e6, ",.2f", " TWh"), (1e3, ",.1f", " GWh"), (1.0, ",.1f", " MWh"))
TONNES: Scale = ((1e6, ",.3f", " Mt CO2"), (1e3, ",.2f", " kt CO2"), (1.0, ",.1f", " t CO2"))


def scaled(value: float, scale: Scale, suffix: str = "") -> str:
    """``value`` in the largest unit of ``scale`` it reaches."""
    for divisor, fmt, unit in scale:
        if abs(value) >= divisor or divisor == scale[-1][0]:
            return f"{format(value / divisor, fmt)}{unit}{suffix}"
    raise AssertionError("unreachable")


def money(value: float | None, currency: str = "") -> str:
    if value is None:
        return "n/a"
    return scaled(value, MONEY, f" {currency}" if currency else "")


def energy(mwh: float) -> str:
    return scaled(mwh, ENERGY)


def tonnes(t: float) -> str:
    return scaled(t, TONNES)


WATER: Scale = ((1e6, ",.2f", " million m3"), (1.0, ",.0f", " m3"))


def water(m3: float) -> str:
    return scaled(m3, WATER)


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


def summary(sol: Solution, log_path: str | None = None) -> list[tuple[str, str]]:
    s = sol.solver
    rows = [
        ("instance", sol.instance),
        ("status", sol.status.value + (f" ({sol.message})" if sol.status is not Status.OPTIMAL
                                       and sol.message else "")),
        ("objective", money(sol.objective, sol.currency)
         + (" a year" if sol.plan is None or len(sol.cases) <= 1
            else ", discounted over the horizon")
         if sol.objective is not None else "n/a"),
    ]
    if sol.gap is not None and sol.status is not Status.OPTIMAL:
        rows.append(("gap", pct(sol.gap)))
    rows += [
        ("model", f"{s['variables']:,} variables, {s['constraints']:,} constraints, "
                  f"{s['nonzeros']:,} non-zeros"),
        ("solver", f"{s['backend']} / {s['solver']}"
                   + (f"; duals from {s['duals_from']}" if s.get("duals_from") else "")),
        ("time", f"build {s['build_s']:.3f} s, solve {s['solve_s']:.3f} s"),
    ]
    if log_path:
        rows.append(("solver log", log_path))
    return rows


def costs(sol: Solution) -> Table:
    total = sum(sol.costs.values())
    rows = [[cat, money(sol.costs[cat], sol.currency), pct(sol.costs[cat] / total if total else 0)]
            for cat in COST_CATEGORIES if sol.costs.get(cat)]
    return Table("Annual cost by category", ["category", "cost a year", "share"], rows,
                 numeric={1, 2}, footer=["total", money(total, sol.currency), "100.0%"])


def sites(sol: Solution) -> Table:
    rows = []
    for site in sol.site_table:
        facility = site["grid_energy_mwh"] + site["renewable_energy_mwh"]
        cp = site["capacity_price"]
        rows.append([
            site["id"], site.get("zone") or "", f"{site['capacity_mw']:,.0f}",
            pct(site["peak_utilization"]), pct(site["mean_utilization"]),
            energy(site["it_energy_mwh"]),
            pct(site["renewable_energy_mwh"] / facility if facility > 0 else 0.0),
            f"{site['carbon_t'] / 1e3:,.1f}",
            "n/a" if cp is None else f"{cp:,.0f}",
        ])
    return Table(
        "Sites", ["site", "zone", "capacity MW", "peak use", "mean use", "IT energy",
                  "renewable", "carbon kt", f"capacity price {sol.currency}/MW-yr"],
        rows, numeric={2, 3, 4, 5, 6, 7, 8},
        caption="capacity price: annual saving from one more MW of IT capacity (LP dual)",
    )


def flow_matrix(sol: Solution) -> Table:
    """Region x site annual energy, with the share each region sends to each zone."""
    unit, div = (("TWh", 1e6) if sol.region_site_mwh.max(initial=0) >= 1e7 else
                 ("GWh", 1e3) if sol.region_site_mwh.max(initial=0) >= 1e4 else ("MWh", 1.0))
    m = sol.region_site_mwh / div
    order = sorted(range(len(sol.sites)), key=lambda s: (sol.site_zone[s] or "", s))
    zones = sorted({z for z in sol.site_zone if z})
    columns = ["region \\ site", *(sol.sites[s] for s in order), f"total {unit}",
               *(f"to {z}" for z in zones)]
    rows = []
    for r, region in enumerate(sol.regions):
        served = m[r].sum()
        row = [region, *(f"{m[r, s]:,.0f}" if m[r, s] > 0.5 else "·" for s in order),
               f"{served:,.0f}"]
        for z in zones:
            in_zone = sum(m[r, s] for s in range(len(sol.sites)) if sol.site_zone[s] == z)
            row.append(pct(in_zone / served if served > 0 else 0.0))
        rows.append(row)
    col_tot = m.sum(axis=0)
    footer = ["total", *(f"{col_tot[s]:,.0f}" for s in order), f"{m.sum():,.0f}"]
    for z in zones:
        in_zone = sum(col_tot[s] for s in range(len(sol.sites)) if sol.site_zone[s] == z)
        footer.append(pct(in_zone / m.sum() if m.sum() > 0 else 0.0))
    return Table(f"Where each region's demand is served ({unit} a year)", columns, rows,
                 numeric=set(range(1, len(columns))), footer=footer)


def classes(sol: Solution) -> Table:
    deferral = any(k.get("max_delay_periods", 0) > 0 for k in sol.class_table)
    rows = []
    for k in sol.class_table:
        demand = k["demand_mwh"]
        lat = k["mean_latency_ms"]
        row = [k["id"], energy(demand), energy(k["served_mwh"]), energy(k["unmet_mwh"]),
               pct(k["unmet_mwh"] / demand if demand > 0 else 0.0),
               "n/a" if lat is None else f"{lat:.1f}"]
        if deferral:
            delay = k["max_delay_periods"]
            row += ([energy(k["shifted_mwh"]), f"{k['mean_delay_periods']:.1f} of {delay}"]
                    if delay else ["-", "-"])
        rows.append(row)
    columns = ["class", "demand", "served", "unmet", "unmet share", "mean latency ms"]
    if deferral:
        columns += ["shifted in time", "mean delay (periods)"]
    return Table("Service by workload class", columns, rows, numeric=set(range(1, len(columns))),
                 caption="shifted: work served in a later period than it arrived; mean delay: "
                         "periods waited per unit of the class's work" if deferral else "")


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: np.ndarray, top: float) -> str:
    if top <= 0:
        return " " * len(values)
    levels = np.clip(np.round(values / top * (len(SPARK) - 1)), 0, len(SPARK) - 1)
    return "".join(SPARK[int(i)] if v > 1e-9 else " " for i, v in zip(levels, values,
                                                                     strict=True))


def load_profiles(sol: Solution) -> Table:
    """Each site's IT load over the periods against its capacity, and its renewable supply."""
    rows = []
    for s, site in enumerate(sol.sites):
        cap = float(sol.site_capacity[s]) if len(sol.site_capacity) else 0.0
        load = sol.site_load[s]
        ren = sol.renewable_available[s] if len(sol.renewable_available) else np.zeros(0)
        peak_t = int(load.argmax()) if load.size else 0
        rows.append([site, sparkline(load, cap),
                     sparkline(ren, float(ren.max())) if ren.size and ren.max() > 0 else "",
                     sol.periods[peak_t] if load.max() > 0 else "-"])
    return Table(f"Load over the {len(sol.periods)} periods",
                 ["site", "IT load / capacity", "renewable available", "peak period"], rows,
                 caption="one character a period; a full block is the site's whole capacity "
                         "(load) or its largest renewable supply")


def build(sol: Solution) -> Table | None:
    if not sol.build_table or sol.plan is not None:  # version 2: report.planning.build_plan
        return None
    rows = [[b["site"], "open site" if b["option"] is None else b["option"],
             str(b["units"]), f"{b['capacity_mw']:,.0f}", money(b["annual_cost"], sol.currency)]
            for b in sol.build_table]
    total = sum(b["annual_cost"] for b in sol.build_table)
    mw = sum(b["capacity_mw"] for b in sol.build_table)
    return Table("What to build", ["site", "decision", "units", "MW", "annual cost"], rows,
                 numeric={2, 3, 4},
                 footer=["total", "", "", f"{mw:,.0f}", money(total, sol.currency)])


def corridors(sol: Solution) -> Table | None:
    if not sol.corridor_table:
        return None
    rows = [[c["id"], f"{c['capacity_gbps']:,.1f}", f"{c['peak_gbps']:,.1f}",
             pct(c["peak_gbps"] / c["capacity_gbps"] if c["capacity_gbps"] > 0 else 0.0),
             "n/a" if c["shadow_price"] is None else f"{c['shadow_price']:,.0f}"]
            for c in sol.corridor_table]
    return Table("Bandwidth corridors",
                 ["corridor", "capacity Gbps", "peak Gbps", "peak use",
                  f"shadow price {sol.currency}/Gbps-yr"], rows, numeric={1, 2, 3, 4},
                 caption="shadow price: annual saving from one more Gbps of corridor capacity")


def _binds(price: float | None, binds: str, idle: str) -> str:
    """What a policy row's price says: ``binds`` above 1e-9, ``idle`` at 0, nothing unpriced."""
    if price is None:
        return ""
    return binds if price > 1e-9 else idle


def policy_lines(sol: Solution) -> list[str]:
    """Carbon cap and renewable floor, in plain words."""
    p, cur = sol.policy, sol.currency
    out = []
    if p.get("carbon_cap_t") is not None:
        line = f"Emissions {tonnes(p['carbon_t'])} against a cap of {tonnes(p['carbon_cap_t'])}."
        price = p.get("carbon_cap_price")
        out.append(line + _binds(
            price, f" The cap binds: its implied carbon price is {price or 0:,.1f} {cur}/t — one "
                   f"more tonne of allowed emissions would save {price or 0:,.1f} {cur} a year.",
            " The cap does not bind (implied carbon price 0)."))
    if p.get("min_renewable_share"):
        line = (f"Renewable share {pct(p['renewable_share'])} against a floor of "
                f"{pct(p['min_renewable_share'])}.")
        price = p.get("renewable_floor_price")
        out.append(line + _binds(
            price, f" The floor binds: it costs {price or 0:,.1f} {cur} for each MWh of energy "
                   "that must move from grid to renewable supply to meet it.",
            " The floor does not bind."))
    return out + _policy_v2_lines(sol)


SITE_RULES = ("green_share", "utilization", "water_cap")
"""The shadow prices of §8's site rules, said in the policy lines where they bind."""


def _policy_v2_lines(sol: Solution) -> list[str]:
    """Certificates and water (version 2), in plain words."""
    p, cur = sol.policy, sol.currency
    out = []
    price = p.get("certificate_price")
    if price is not None:
        bought = p["certificates_mwh"]
        out.append(
            f"Certificates at {price:,.1f} {cur}/MWh: "
            + (f"{energy(bought)} bought ({money(sol.costs.get('certificates'), cur)} a year) to "
               f"meet the green-share floors; green share {pct(p['green_share'])} with them, "
               f"{pct(p['renewable_share'])} from renewable power alone." if bought > 1e-9
               else "none bought (no floor needs them)."))
    for price in sol.shadow_prices:  # the site floors and caps of §8 that bind
        if price["constraint"] in SITE_RULES and price["value"] > 1e-9:
            words = sol.price_words[price["constraint"], price["subject"]]
            out.append(f"{words[:1].upper()}{words[1:]}.")
    if p.get("water_m3") or p.get("water_price"):
        out.append(f"Water drawn: {water(p['water_m3'])} a year"
                   + (f", at {p['water_price']:,.2f} {cur}/m3: "
                      f"{money(sol.costs.get('water'), cur)} a year." if p.get("water_price")
                      else "."))
    return out


def _short(value: float | None, floor: float | None, ok: bool | None, what: str) -> str:
    """A floor's verdict: '' where met or not set, else how far short, in percentage points."""
    if ok is not False or value is None or floor is None:
        return ""
    return f"{what} short by {100 * (floor - value):.1f} points"


def verdict(row: dict[str, Any]) -> str:
    """A site's compliance in plain words: 'compliant', or what is short and by how much."""
    out = []
    if row["pue_ok"] is False:
        out.append(f"PUE {row['pue'] - row['max_pue']:.2f} over the cap")
    out += [_short(row["utilization"], row["min_utilization"], row["utilization_ok"],
                   "utilisation"),
            _short(row["green_share"], row["min_green_share"], row["green_ok"], "green share")]
    out = [o for o in out if o]
    if out:
        return "; ".join(out)
    rules = (row["max_pue"], row["min_utilization"], row["min_green_share"])
    return "compliant" if any(r is not None for r in rules) else "no rule set"


def compliance(sol: Solution) -> Table | None:
    """Version 2: each site's PUE, utilisation and green share against the rules (§8)."""
    if not any(r["max_pue"] is not None or r["min_utilization"] is not None
               or r["min_green_share"] is not None for r in sol.compliance):
        return None

    def limit(value: float | None, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    rows = [[r["site"], f"{r['pue']:.3f}", limit(r["max_pue"], ".2f"), pct(r["utilization"]),
             "-" if r["min_utilization"] is None else pct(r["min_utilization"]),
             pct(r["green_share"]),
             "-" if r["min_green_share"] is None else pct(r["min_green_share"]), verdict(r)]
            for r in sol.compliance]
    return Table("Policy compliance",
                 ["site", "PUE", "PUE cap", "utilisation", "floor", "green share", "floor",
                  "verdict"], rows, numeric={1, 2, 3, 4, 5, 6},
                 caption="PUE: facility over IT energy in the year, against the rules' cap "
                         "(data, not a constraint); utilisation: mean IT load over capacity; "
                         "green share: renewable energy and certificates over facility energy")


def totals(sol: Solution) -> Table:
    t = sol.totals
    rows = [
        ["IT energy served", energy(t["served_mwh"])],
        ["demand unmet", energy(t["unmet_mwh"])],
        ["facility energy", energy(t["facility_energy_mwh"])],
        ["grid energy", energy(t["grid_energy_mwh"])],
        ["renewable energy", energy(t["renewable_energy_mwh"])],
        ["renewable share", pct(t["renewable_share"])],
        ["emissions", tonnes(t["carbon_t"])],
    ]
    if "water_m3" in t:  # version 2
        rows += [["certificates bought", energy(t["certificates_mwh"])],
                 ["water", water(t["water_m3"])]]
    west = _zone_share(sol, "west")
    if west is not None:
        rows.insert(1, ["served in the west", pct(west)])
    return Table("Totals (a year)", ["quantity", "value"], rows, numeric={1})


def _zone_share(sol: Solution, zone: str) -> float | None:
    if zone not in sol.site_zone:
        return None
    total = float(sol.region_site_mwh.sum())
    mask = np.array([z == zone for z in sol.site_zone])
    return float(sol.region_site_mwh[:, mask].sum()) / total if total > 0 else 0.0

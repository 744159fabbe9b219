"""Stage 7: the charts of the HTML report other than the map, as plotly figure dicts (site load
over the periods, cost breakdown, build plan by year, operating cases, sweep curves, Pareto
front). They read the Solution and the study records, as the matplotlib plots do."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from optimizer.interpret import Solution
from optimizer.model.lp import COST_CATEGORIES
from optimizer.report.html_map import class_colour
from optimizer.report.study_plots import Chart, Front
from optimizer.report.tables import energy, money, pct, tonnes

Figure = dict[str, Any]


def _money_unit(value: float, currency: str) -> tuple[float, str]:
    for divisor, prefix in ((1e9, "bn "), (1e6, "m ")):
        if abs(value) >= divisor:
            return divisor, prefix + currency
    return 1.0, currency


def load_profiles(sol: Solution) -> Figure:
    """One panel per site: IT load stacked by class, the IT capacity and the renewable power
    available (facility MW) over the periods."""
    S, K, T = len(sol.sites), len(sol.classes), len(sol.periods)
    cols = max(1, min(4, S))
    rows = max(1, math.ceil(S / cols))
    load = np.asarray(sol.class_load, dtype=float)
    if load.shape != (S, K, T):
        load = np.zeros((S, K, T))
    renewable = np.asarray(sol.renewable_available, dtype=float)
    cap = np.asarray(sol.site_capacity, dtype=float)
    data: list[dict[str, Any]] = []
    layout: dict[str, Any] = {"height": 190 * rows + 110, "hovermode": "x unified",
                              "margin": {"l": 50, "r": 20, "t": 60, "b": 40},
                              "title": {"text": f"{sol.instance}: IT load by class at each "
                                                "site (MW), capacity and renewable supply"},
                              "legend": {"orientation": "h", "y": -0.08}, "annotations": []}
    gap = 0.08
    for s, site in enumerate(sol.sites):
        row, col = divmod(s, cols)
        axis = "" if s == 0 else str(s + 1)
        x0 = col / cols + gap / 2 / cols
        y1 = 1 - row / rows - gap / rows
        layout[f"xaxis{axis}"] = {"domain": [x0, x0 + (1 - gap) / cols], "anchor": f"y{axis}",
                                  "tickfont": {"size": 8}, "showticklabels": row == rows - 1
                                  or s + cols >= S}
        layout[f"yaxis{axis}"] = {"domain": [y1 - (1 - 2 * gap) / rows, y1],
                                  "anchor": f"x{axis}", "tickfont": {"size": 8},
                                  "rangemode": "tozero"}
        layout["annotations"].append({"text": f"<b>{site}</b>", "showarrow": False,
                                      "xref": "paper", "yref": "paper", "x": x0, "y": y1,
                                      "xanchor": "left", "yanchor": "bottom",
                                      "font": {"size": 11}})
        ref = {"xaxis": f"x{axis}", "yaxis": f"y{axis}"}
        for k, name in enumerate(sol.classes):
            data.append({"type": "scatter", "mode": "lines", "x": list(sol.periods),
                         "y": np.round(np.clip(load[s, k], 0.0, None), 3).tolist(),
                         "stackgroup": f"site{s}", "name": name, "legendgroup": name,
                         "showlegend": s == 0, "line": {"width": 0.5,
                                                        "color": class_colour(k)}, **ref})
        if cap.size == S:
            data.append({"type": "scatter", "mode": "lines", "x": list(sol.periods),
                         "y": [float(cap[s])] * T, "name": "IT capacity",
                         "legendgroup": "capacity", "showlegend": s == 0,
                         "line": {"color": "#000", "width": 1.2}, **ref})
        if renewable.shape == (S, T):
            data.append({"type": "scatter", "mode": "lines", "x": list(sol.periods),
                         "y": np.round(renewable[s], 3).tolist(),
                         "name": "renewable available (facility MW)",
                         "legendgroup": "renewable", "showlegend": s == 0,
                         "line": {"color": "#2ca02c", "width": 1.2, "dash": "dash"}, **ref})
    return {"data": data, "layout": layout}


def cost_breakdown(sol: Solution) -> Figure:
    cats = [c for c in COST_CATEGORIES if sol.costs.get(c)]
    values = [float(sol.costs[c]) for c in cats]
    total = math.fsum(values)
    divisor, unit = _money_unit(max((abs(v) for v in values), default=0.0), sol.currency)
    what = "a year" if sol.plan is None else "discounted over the horizon"
    return {"data": [{"type": "bar", "orientation": "h", "y": cats,
                      "x": [v / divisor for v in values],
                      "text": [f"{v / divisor:,.2f} ({pct(v / total if total else 0)})"
                               for v in values], "textposition": "outside",
                      "hovertext": [f"{c}: {money(v, sol.currency)}" for c, v in
                                    zip(cats, values, strict=True)],
                      "hoverinfo": "text", "marker": {"color": "#1f77b4"}, "cliponaxis": False}],
            "layout": {"title": {"text": f"cost by category, {what} (total "
                                         f"{money(total, sol.currency)})"},
                       "height": 120 + 32 * max(len(cats), 2),
                       "margin": {"l": 110, "r": 40, "t": 50, "b": 40},
                       "xaxis": {"title": {"text": unit}, "range": [
                           min(0.0, *values) / divisor * 1.25,
                           max(0.0, *values) / divisor * 1.25 or 1.0]},
                       "yaxis": {"autorange": "reversed"}}}


def build_plan(sol: Solution) -> Figure | None:
    """A plan's IT capacity by year and site (stacked), the new MW and cost on hover."""
    if sol.plan is None or not sol.build_table:
        return None
    years = list(dict.fromkeys(b["year"] for b in sol.build_table))
    sites = [s for s in sol.sites
             if any(b["site"] == s and (b["mw"] or b["candidate"]) for b in sol.build_table)]
    by = {(b["year"], b["site"]): b for b in sol.build_table}
    data = []
    for site in sites:
        rows = [by.get((y, site)) for y in years]
        data.append({"type": "bar", "name": site, "x": years,
                     "y": [b["mw"] if b else 0.0 for b in rows],
                     "hovertext": [f"<b>{site} {y}</b><br>{b['mw']:,.0f} MW"
                                   f" ({b['new_mw']:+,.0f} new)<br>open: "
                                   f"{'yes' if b['open'] else 'no'}, units "
                                   f"{b['expansion_units']}<br>annual cost "
                                   f"{money(b['annual_cost'], sol.currency)}"
                                   if b else site for y, b in zip(years, rows, strict=True)],
                     "hoverinfo": "text"})
    return {"data": data, "layout": {"barmode": "stack", "height": 420,
                                     "title": {"text": "IT capacity by year and site (MW)"},
                                     "xaxis": {"type": "category", "title": {"text": "year"}},
                                     "yaxis": {"title": {"text": "MW"}}}}


def operating_cases(sol: Solution) -> Figure | None:
    """Each case's operating cost a year, by year, one bar per scenario or contingency."""
    if not sol.cases:
        return None
    divisor, unit = _money_unit(max(abs(c["operating_cost"]) for c in sol.cases), sol.currency)
    data = []
    for scenario in dict.fromkeys(c["scenario"] for c in sol.cases):
        cases = [c for c in sol.cases if c["scenario"] == scenario]
        data.append({"type": "bar", "name": scenario, "x": [c["year"] for c in cases],
                     "y": [c["operating_cost"] / divisor for c in cases],
                     "hovertext": [_case_text(sol, c) for c in cases], "hoverinfo": "text"})
    return {"data": data, "layout": {"barmode": "group", "height": 400,
                                     "title": {"text": "operating cost a year of each case"},
                                     "xaxis": {"type": "category", "title": {"text": "year"}},
                                     "yaxis": {"title": {"text": unit}}}}


def _case_text(sol: Solution, c: dict[str, Any]) -> str:
    t = c["totals"]
    return (f"<b>{c['year']} / {c['scenario']}</b><br>probability {c['probability']:.3g}, "
            f"weight {c['weight']:.3g}<br>operating cost "
            f"{money(c['operating_cost'], sol.currency)} a year<br>unmet "
            f"{energy(t.get('unmet_mwh', 0.0))}<br>emissions {tonnes(t.get('carbon_t', 0.0))}"
            f"<br>renewable share {pct(t.get('renewable_share'))}")


def sweep_chart(chart: Chart) -> Figure:
    data = [{"type": "scatter", "mode": "lines+markers", "name": c.label or chart.ylabel,
             "x": c.xs, "y": c.ys, "text": c.texts,
             "hovertemplate": "%{text}<br>%{x}: %{y:,.4g}<extra></extra>"}
            for c in chart.curves]
    xaxis: dict[str, Any] = {"title": {"text": chart.xlabel}}
    if chart.ticks is not None:
        xaxis.update(tickvals=[i for i, _ in chart.ticks], ticktext=[t for _, t in chart.ticks])
    return {"data": data, "layout": {"title": {"text": chart.title}, "height": 380,
                                     "xaxis": xaxis, "showlegend": len(chart.curves) > 1,
                                     "yaxis": {"title": {"text": chart.ylabel}}}}


def pareto_chart(front: Front) -> Figure:
    def trace(points: list[tuple[float, float, str]], **style: Any) -> dict[str, Any]:
        return {"type": "scatter", "x": [p[0] for p in points], "y": [p[1] for p in points],
                "text": [p[2] for p in points],
                "hovertemplate": "%{text}<br>%{x:,.4g}, %{y:,.4g}<extra></extra>", **style}

    data = [trace(front.front, mode="lines+markers", name="Pareto front")]
    if front.dominated:
        data.append(trace(front.dominated, mode="markers", name="dominated or repeated",
                          marker={"symbol": "x", "color": "grey", "size": 9}))
    if front.knees:
        data.append(trace(front.knees, mode="markers", name="knee",
                          marker={"symbol": "diamond", "color": "#d62728", "size": 13}))
    return {"data": data, "layout": {"title": {"text": front.title}, "height": 440,
                                     "xaxis": {"title": {"text": front.xlabel}},
                                     "yaxis": {"title": {"text": front.ylabel}}}}

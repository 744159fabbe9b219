"""Stage 7: the interactive map of the HTML report (plotly; :mod:`optimizer.report.html`).

China's province outline (``optimizer/data/china-provinces.json``, made by
``scripts/china_outline.py``) is drawn on plain longitude/latitude axes, the y axis stretched by
1 / cos(mid latitude) (an equirectangular map, true to scale at the middle latitude): no geo
subplot, so plotly fetches no topojson and no tiles, and the page needs no network. On it: the
demand regions (squares), the sites (circles, area ~ IT capacity, colour = mean utilisation)
and one line per region, site and workload class, as wide as the energy it carries a year and
coloured by class; a marker at each line's middle carries the numbers on hover.
"""

from __future__ import annotations

import json
import math
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from optimizer.interpret import Solution
from optimizer.report.tables import energy, pct, tonnes

CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#17becf", "#bcbd22", "#7f7f7f")
MAX_WIDTH = 10.0  # px, for the largest flow
MIN_SHOWN = 0.002  # flows below this share of the largest are not drawn
WIDTH_BINS = 8  # lines are drawn in this many widths per class (one trace each)
OFFSET = 0.12  # degrees between the lines of two classes on the same region-site pair


def class_colour(k: int) -> str:
    return CLASS_COLOURS[k % len(CLASS_COLOURS)]


@cache
def outline() -> dict[str, Any]:
    """The embedded province outline (GeoJSON FeatureCollection, with its ``source``)."""
    text = resources.files("optimizer.data").joinpath("china-provinces.json").read_text(
        encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _outline_xy() -> tuple[list[float | None], list[float | None], list[float]]:
    """Every province's outer rings, separated by None (one trace, filled ring by ring), and
    the bounds [lon0, lon1, lat0, lat1] of the rings spanning a square degree or more (the
    initial view: far islands are there on zooming out)."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    bounds = [math.inf, -math.inf, math.inf, -math.inf]
    for feature in outline()["features"]:
        for polygon in feature["geometry"]["coordinates"]:
            lon = [p[0] for p in polygon[0]]
            lat = [p[1] for p in polygon[0]]
            xs += [*lon, None]
            ys += [*lat, None]
            if (max(lon) - min(lon)) * (max(lat) - min(lat)) >= 1.0:
                bounds = [min(bounds[0], *lon), max(bounds[1], *lon),
                          min(bounds[2], *lat), max(bounds[3], *lat)]
    return xs, ys, bounds


def reference_index(sol: Solution) -> int | None:
    """The case whose tables stand at the top level of a plan (the last year under the first
    scenario, DESIGN.md §7); None for version 1."""
    if sol.plan is None or not sol.case_labels or sol.flows.case is None:
        return None
    last = sol.plan["years"][-1]["id"]
    first = sol.plan["scenarios"][0]["id"]
    for i, (year, scenario) in enumerate(sol.case_labels):
        if year == last and scenario == first:
            return i
    return len(sol.case_labels) - 1


def class_energy(sol: Solution) -> tuple[np.ndarray, np.ndarray]:
    """MWh a year and peak MW per (region, site, class), of the reference case for a plan."""
    f = sol.flows
    keep = np.ones(len(f), dtype=bool)
    ref = reference_index(sol)
    if ref is not None and f.case is not None:
        keep = f.case == ref
    shape = (len(sol.regions), len(sol.sites), len(sol.classes))
    mwh = np.zeros(shape)
    peak = np.zeros(shape)
    idx = (f.region[keep], f.site[keep], f.klass[keep])
    np.add.at(mwh, idx, f.mw[keep] * np.asarray(sol.annual)[f.period[keep]])
    np.maximum.at(peak, idx, f.mw[keep])
    return mwh, peak


def _flow_traces(sol: Solution, region_xy: np.ndarray, site_xy: np.ndarray,
                 scale: float) -> list[dict[str, Any]]:
    """Per class: the lines in WIDTH_BINS widths, and their midpoints (hover, legend)."""
    mwh, peak = class_energy(sol)
    top = float(mwh.max(initial=0.0))
    if top <= 0:
        return []
    K = len(sol.classes)
    traces: list[dict[str, Any]] = []
    for k, name in enumerate(sol.classes):
        rr, ss = np.nonzero(mwh[:, :, k] > MIN_SHOWN * top)
        if not len(rr):
            continue
        shift = OFFSET * (k - (K - 1) / 2)
        bins: dict[int, tuple[list[float | None], list[float | None]]] = {}
        mid_x, mid_y, texts = [], [], []
        for r, s in zip(rr.tolist(), ss.tolist(), strict=True):
            (y0, x0), (y1, x1) = region_xy[r], site_xy[s]
            dx, dy = (x1 - x0), (y1 - y0) * scale
            length = math.hypot(dx, dy) or 1.0
            ox, oy = -dy / length * shift, dx / length * shift / scale
            level = min(int(mwh[r, s, k] / top * WIDTH_BINS), WIDTH_BINS - 1)
            xs, ys = bins.setdefault(level, ([], []))
            xs += [x0 + ox, x1 + ox, None]
            ys += [y0 + oy, y1 + oy, None]
            mid_x.append((x0 + x1) / 2 + ox)
            mid_y.append((y0 + y1) / 2 + oy)
            texts.append(f"<b>{sol.regions[r]} → {sol.sites[s]}</b><br>class {name}<br>"
                         f"{energy(mwh[r, s, k])} a year<br>peak {peak[r, s, k]:,.1f} MW")
        for level, (xs, ys) in sorted(bins.items()):
            traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys,
                           "line": {"color": class_colour(k),
                                    "width": 0.6 + MAX_WIDTH * (level + 0.5) / WIDTH_BINS},
                           "opacity": 0.55, "hoverinfo": "skip", "legendgroup": name,
                           "showlegend": False, "name": name})
        traces.append({"type": "scatter", "mode": "markers", "x": mid_x, "y": mid_y,
                       "marker": {"color": class_colour(k), "size": 6, "opacity": 0.8},
                       "hovertext": texts, "hoverinfo": "text", "legendgroup": name,
                       "name": name})
    return traces


def _site_text(sol: Solution, row: dict[str, Any]) -> str:
    facility = row["grid_energy_mwh"] + row["renewable_energy_mwh"]
    return (f"<b>{row['id']}</b> ({row.get('zone') or 'no zone'})<br>"
            f"IT capacity {row['capacity_mw']:,.0f} MW<br>"
            f"peak use {pct(row['peak_utilization'])}, mean {pct(row['mean_utilization'])}<br>"
            f"IT energy {energy(row['it_energy_mwh'])} a year<br>"
            f"renewable {pct(row['renewable_energy_mwh'] / facility if facility else 0.0)}"
            f"<br>emissions {tonnes(row['carbon_t'])}")


def _point_traces(sol: Solution, region_xy: np.ndarray,
                  site_xy: np.ndarray) -> list[dict[str, Any]]:
    regions = {r["id"]: r for r in sol.region_table}
    region_text = [f"<b>{name}</b> (demand region)<br>demand {energy(regions[name]['demand_mwh'])}"
                   f"<br>served {energy(regions[name]['served_mwh'])}<br>unmet "
                   f"{energy(regions[name]['unmet_mwh'])}" if name in regions else name
                   for name in sol.regions]
    cap = np.array([float(t["capacity_mw"]) for t in sol.site_table])
    size = (10 + 26 * np.sqrt(cap / cap.max())) if cap.size and cap.max() > 0 else \
        np.full(len(sol.site_table), 12.0)
    use = [float(t.get("mean_utilization") or 0.0) for t in sol.site_table]
    return [
        {"type": "scatter", "mode": "markers", "name": "demand region",
         "x": region_xy[:, 1].tolist(), "y": region_xy[:, 0].tolist(),
         "marker": {"symbol": "square", "size": 8, "color": "#222"},
         "hovertext": region_text, "hoverinfo": "text"},
        {"type": "scatter", "mode": "markers+text", "name": "site (area ~ IT capacity)",
         "x": site_xy[:, 1].tolist(), "y": site_xy[:, 0].tolist(), "text": list(sol.sites),
         "textposition": "top right", "textfont": {"size": 10},
         "marker": {"size": size.tolist(), "color": use, "cmin": 0.0, "cmax": 1.0,
                    "colorscale": "Viridis", "line": {"color": "#111", "width": 1},
                    "colorbar": {"title": {"text": "mean use"}, "len": 0.45, "x": 1.01,
                                 "xanchor": "left", "y": 0.0, "yanchor": "bottom",
                                 "tickformat": ".0%"}},
         "hovertext": [_site_text(sol, t) for t in sol.site_table], "hoverinfo": "text"},
    ]


def flow_map(sol: Solution, region_xy: np.ndarray, site_xy: np.ndarray) -> dict[str, Any]:
    """The map as a plotly figure dict (``region_xy``, ``site_xy``: [lat, lon] arrays)."""
    region_xy = np.asarray(region_xy, dtype=float).reshape(-1, 2)
    site_xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    ox, oy, (lon0, lon1, lat0, lat1) = _outline_xy()
    lons = [lon0, lon1, *region_xy[:, 1].tolist(), *site_xy[:, 1].tolist()]
    lats = [lat0, lat1, *region_xy[:, 0].tolist(), *site_xy[:, 0].tolist()]
    mid = (min(lats) + max(lats)) / 2
    scale = 1.0 / max(math.cos(math.radians(mid)), 0.2)
    provinces = {"type": "scatter", "mode": "lines", "x": ox, "y": oy, "fill": "toself",
                 "fillcolor": "#eceff3", "line": {"color": "#ffffff", "width": 0.8},
                 "hoverinfo": "skip", "showlegend": False, "name": "provinces"}
    ref = reference_index(sol)
    case = f" ({'/'.join(sol.case_labels[ref])})" if ref is not None else ""
    layout = {
        "title": {"text": f"{sol.instance}{case}: energy from demand regions to sites, a year"},
        "height": 760, "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
        "plot_bgcolor": "#f4f8fc", "hovermode": "closest",
        "xaxis": {"range": [min(lons) - 1, max(lons) + 1], "title": {"text": "longitude °E"},
                  "showgrid": False, "zeroline": False, "constrain": "domain"},
        "yaxis": {"range": [min(lats) - 1, max(lats) + 1], "title": {"text": "latitude °N"},
                  "scaleanchor": "x", "scaleratio": scale, "showgrid": False,
                  "zeroline": False, "constrain": "domain"},
        "legend": {"title": {"text": "class (line width ~ energy a year)"}, "x": 1.01,
                   "y": 1.0, "xanchor": "left", "yanchor": "top",
                   "bgcolor": "rgba(255,255,255,0.8)"},
    }
    return {"data": [provinces, *_flow_traces(sol, region_xy, site_xy, scale),
                     *_point_traces(sol, region_xy, site_xy)], "layout": layout}

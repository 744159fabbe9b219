"""Stage 7: Solution -> pictures of one solve (flow map, site load profiles, cost breakdown).

matplotlib is an optional extra (``pip install 'eastwest[plots]'``). Figures are drawn on the
Agg canvas (no pyplot, no global backend), rendered into memory and written atomically, as PNG
and SVG, with the same settings as the study plots (reproducible SVG, no PNG software tag).
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.interpret import Solution
from optimizer.model.lp import COST_CATEGORIES
from optimizer.report.files import write_atomic

INSTALL_HINT = "pip install 'eastwest[plots]'"
ZONE_COLOURS = {"east": "tab:blue", "west": "tab:orange"}
OTHER_COLOUR = "tab:grey"


class PlotsUnavailable(Exception):
    """matplotlib is not installed."""


def _require_matplotlib() -> None:
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise PlotsUnavailable(
            f"plots need matplotlib, which is not installed ({INSTALL_HINT})") from exc


def save_figure(fig: Any, folder: Path, stem: str) -> list[Path]:
    """Render ``fig`` to PNG and SVG in memory, then write each atomically."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    paths = []
    with matplotlib.rc_context({"svg.hashsalt": "eastwest", "svg.fonttype": "none"}):
        for fmt, meta in (("png", {"Software": None}), ("svg", {"Date": None})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=110, metadata=meta)
            path = folder / f"{stem}.{fmt}"
            write_atomic(path, buf.getvalue())
            paths.append(path)
    return paths


def _nice(x: float) -> float:
    """A round number (1, 2 or 5 times a power of ten) not above ``x`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(x))
    for step in (5.0, 2.0, 1.0):
        if step * power <= x:
            return step * power
    return power


def _energy_unit(mwh: float) -> tuple[float, str]:
    for divisor, unit in ((1e6, "TWh"), (1e3, "GWh")):
        if mwh >= divisor:
            return divisor, unit
    return 1.0, "MWh"


def _money_unit(value: float, currency: str) -> tuple[float, str]:
    for divisor, prefix in ((1e9, "bn "), (1e6, "m ")):
        if abs(value) >= divisor:
            return divisor, prefix + currency
    return 1.0, currency


# --------------------------------------------------------------------------------------------
# 1. flow map
# --------------------------------------------------------------------------------------------

MAX_WIDTH = 8.0  # points, for the largest flow
MIN_SHOWN = 0.002  # flows below this share of the largest are not drawn


def _width(mwh: np.ndarray | float, top: float) -> Any:
    return 0.3 + (MAX_WIDTH - 0.3) * np.asarray(mwh) / top


def flow_map(sol: Solution, region_xy: np.ndarray, site_xy: np.ndarray) -> Any:
    """Regions (squares) and sites (circles sized by capacity, coloured by mean utilisation)
    at their [lat, lon]; each region-site line as wide as the annual energy it carries."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    region_xy = np.asarray(region_xy, dtype=float).reshape(-1, 2)
    site_xy = np.asarray(site_xy, dtype=float).reshape(-1, 2)
    fig = Figure(figsize=(9.0, 6.6), layout="constrained")
    ax = fig.subplots()
    mwh = np.asarray(sol.region_site_mwh, dtype=float)
    top = float(mwh.max()) if mwh.size else 0.0
    zones = list(sol.site_zone) or [None] * len(sol.sites)
    if top > 0:
        rr, ss = np.nonzero(mwh > MIN_SHOWN * top)
        order = np.argsort(mwh[rr, ss])  # thin lines first, wide ones on top
        for r, s in zip(rr[order].tolist(), ss[order].tolist(), strict=True):
            ax.plot([region_xy[r, 1], site_xy[s, 1]], [region_xy[r, 0], site_xy[s, 0]],
                    color=ZONE_COLOURS.get(zones[s] or "", OTHER_COLOUR), alpha=0.45,
                    linewidth=float(_width(mwh[r, s], top)), solid_capstyle="round", zorder=1)
    ax.scatter(region_xy[:, 1], region_xy[:, 0], marker="s", s=22, color="black", zorder=3,
               label="demand region")
    cap = np.asarray(sol.site_capacity, dtype=float)
    if cap.size != len(sol.sites):
        cap = np.array([float(t["capacity_mw"]) for t in sol.site_table])
    sizes = 40 + 560 * cap / cap.max() if cap.size and cap.max() > 0 else np.full(len(cap), 60.0)
    use = np.array([float(t.get("mean_utilization") or 0.0) for t in sol.site_table])
    if len(use) != len(sol.sites):
        use = np.zeros(len(sol.sites))
    dots = ax.scatter(site_xy[:, 1], site_xy[:, 0], s=sizes, c=use, cmap="viridis", vmin=0.0,
                      vmax=1.0, edgecolors="black", linewidths=0.8, zorder=4)
    for name, (lat, lon) in zip(sol.sites, site_xy.tolist(), strict=True):
        ax.annotate(name, (lon, lat), fontsize=7, textcoords="offset points", xytext=(7, 5),
                    zorder=5)
    fig.colorbar(dots, ax=ax, shrink=0.7, label="site mean utilisation (IT load / capacity)")
    handles: list[Any] = [Line2D([], [], marker="s", color="black", linestyle="", markersize=5,
                                 label="demand region")]
    for zone, colour in ZONE_COLOURS.items():
        if zone in zones:
            handles.append(Line2D([], [], color=colour, linewidth=3, alpha=0.6,
                                  label=f"to a {zone} site"))
    if top > 0:
        divisor, unit = _energy_unit(top)
        for value in (_nice(top), _nice(top) / 5):
            handles.append(Line2D([], [], color=OTHER_COLOUR, alpha=0.6,
                                  linewidth=float(_width(value, top)),
                                  label=f"{value / divisor:,.3g} {unit} a year"))
    handles.append(Line2D([], [], marker="o", color="white", markeredgecolor="black",
                          markersize=8, label="site (area ~ IT capacity)"))
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.85)
    mid_lat = float(np.mean(np.concatenate([region_xy[:, 0], site_xy[:, 0]])))
    ax.set_aspect(1.0 / max(math.cos(math.radians(mid_lat)), 0.2), adjustable="datalim")
    ax.set_xlabel("longitude (°E)")
    ax.set_ylabel("latitude (°N)")
    ax.set_title(f"{sol.instance}: annual energy from regions to sites", fontsize=10)
    ax.grid(True, alpha=0.25)
    return fig


# --------------------------------------------------------------------------------------------
# 2. site load profiles
# --------------------------------------------------------------------------------------------


def load_profiles(sol: Solution) -> Any:
    """One panel per site: IT load stacked by class, the IT capacity, renewable availability."""
    from matplotlib.figure import Figure

    S, T = len(sol.sites), len(sol.periods)
    ncols = max(1, min(5, math.ceil(math.sqrt(S)))) if S > 4 else max(S, 1)
    nrows = max(1, math.ceil(S / ncols))
    fig = Figure(figsize=(2.7 * ncols + 0.4, 2.1 * nrows + 0.9), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
    xs = np.arange(T)
    load = np.asarray(sol.class_load, dtype=float)
    if load.shape != (S, len(sol.classes), T):
        load = np.asarray(sol.site_load, dtype=float).reshape(S, 1, T)
        labels = ["IT load"]
    else:
        labels = list(sol.classes)
    renewable = np.asarray(sol.renewable_available, dtype=float)
    has_renewable = renewable.shape == (S, T)
    cap = np.asarray(sol.site_capacity, dtype=float)
    colours = [f"C{i % 10}" for i in range(len(labels))]
    for s in range(S):
        ax = axes[s]
        ax.stackplot(xs, np.clip(load[s], 0.0, None), colors=colours, labels=labels,
                     alpha=0.85, step=None)
        if cap.size == S:
            ax.axhline(cap[s], color="black", linewidth=1.0, label="IT capacity")
        if has_renewable and renewable[s].max() > 0:
            ax.plot(xs, renewable[s], color="tab:green", linestyle="--", linewidth=1.1,
                    label="renewable available (facility MW)")
        ax.set_title(sol.sites[s], fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(0, max(T - 1, 1))
        tops = [float(load[s].sum(axis=0).max(initial=0.0))]
        tops += [float(cap[s])] if cap.size == S else []
        tops += [float(renewable[s].max(initial=0.0))] if has_renewable else []
        ax.set_ylim(0, 1.08 * max(*tops, 1.0))
        ax.grid(True, alpha=0.25)
    for ax in axes[S:]:
        ax.set_visible(False)
    step = max(1, T // 4)
    ticks = list(range(0, T, step))
    for n, ax in enumerate(axes[:S]):
        ax.set_xticks(ticks, [sol.periods[i] for i in ticks], fontsize=6)
        if n + ncols >= S:  # nothing drawn below this panel: show its period labels
            ax.tick_params(labelbottom=True)
    for row in range(nrows):
        axes[row * ncols].set_ylabel("MW", fontsize=8)
    if S:
        handles, names = axes[0].get_legend_handles_labels()
        for ax in axes[1:S]:  # a site without renewables may come first
            for h, n in zip(*ax.get_legend_handles_labels(), strict=True):
                if n not in names:
                    handles.append(h)
                    names.append(n)
        fig.legend(handles, names, loc="outside lower center", ncols=min(len(names), 4),
                   fontsize=7)
    fig.suptitle(f"{sol.instance}: IT load by class at each site", fontsize=10)
    return fig


# --------------------------------------------------------------------------------------------
# 3. cost breakdown
# --------------------------------------------------------------------------------------------


def cost_breakdown(sol: Solution) -> Any:
    """Horizontal bars of the non-zero annual cost categories."""
    from matplotlib.figure import Figure

    cats = [c for c in COST_CATEGORIES if sol.costs.get(c)]
    cats += [c for c in sol.costs if c not in COST_CATEGORIES and sol.costs[c]]
    values = np.array([float(sol.costs[c]) for c in cats])
    total = float(values.sum())
    top = float(np.abs(values).max()) if values.size else 0.0
    divisor, unit = _money_unit(top, sol.currency)
    fig = Figure(figsize=(6.4, 0.45 * max(len(cats), 2) + 1.3), layout="constrained")
    ax = fig.subplots()
    ys = np.arange(len(cats))
    ax.barh(ys, values / divisor, color="tab:blue")
    ax.set_yticks(ys, cats)
    ax.invert_yaxis()
    for y, v in zip(ys.tolist(), values.tolist(), strict=True):
        share = f" ({100 * v / total:.1f}%)" if total else ""
        ax.annotate(f"{v / divisor:,.2f}{share}", (max(v, 0.0) / divisor, y), fontsize=7,
                    va="center", textcoords="offset points", xytext=(3, 0))
    ax.set_xlim(right=(top / divisor) * 1.25 if top else 1.0)
    ax.set_xlabel(f"annual cost ({unit})")
    ax.set_title(f"{sol.instance}: annual cost by category (total {total / divisor:,.2f} {unit})",
                 fontsize=10)
    ax.grid(True, axis="x", alpha=0.3)
    return fig


# --------------------------------------------------------------------------------------------
# public
# --------------------------------------------------------------------------------------------


def render_plots(sol: Solution, folder: Path, region_xy: np.ndarray,
                 site_xy: np.ndarray) -> list[Path]:
    """Write the single-solve pictures as PNG and SVG into folder; return the paths.

    ``region_xy`` (R, 2) and ``site_xy`` (S, 2) are [lat, lon]. Nothing is drawn (and [] is
    returned) for a solution without values. Raises PlotsUnavailable if matplotlib is missing.
    """
    _require_matplotlib()
    if not sol.has_values:
        return []
    region_xy = np.asarray(region_xy, dtype=float)
    site_xy = np.asarray(site_xy, dtype=float)
    if region_xy.shape != (len(sol.regions), 2) or site_xy.shape != (len(sol.sites), 2):
        raise ValueError(f"coordinates must be (R, 2) and (S, 2) [lat, lon] arrays; got "
                         f"{region_xy.shape} and {site_xy.shape} for R={len(sol.regions)}, "
                         f"S={len(sol.sites)}")
    folder = Path(folder)
    paths = save_figure(flow_map(sol, region_xy, site_xy), folder, "flows")
    paths += save_figure(load_profiles(sol), folder, "load")
    paths += save_figure(cost_breakdown(sol), folder, "costs")
    return paths


def markdown_images(paths: list[Path], relative_to: Path) -> str:
    """Markdown image lines for the PNGs among ``paths``, relative to ``relative_to`` (the
    folder of the Markdown file); SVGs are skipped (the PNG of the same picture is shown)."""
    lines = []
    for path in paths:
        if Path(path).suffix.lower() != ".png":
            continue
        rel = Path(os.path.relpath(Path(path).resolve(), Path(relative_to).resolve()))
        lines.append(f"![{Path(path).stem}]({rel.as_posix()})")
    return "\n".join(lines) + ("\n" if lines else "")

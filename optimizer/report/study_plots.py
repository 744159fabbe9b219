"""Studies' plots (matplotlib, an optional extra; the Agg canvas, no pyplot and no global
backend): a KPI against the first parameter of a sweep; a Pareto front."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.records.results import FrontPoint, Kpis, ParetoResult, SweepResult, SweepRow
from optimizer.report.plots import save_figure
from optimizer.report.studies import Column, front_order, mean_latency, money_unit, shown

PLOTS_HINT = "plots skipped: matplotlib is not installed (pip install 'eastwest[plots]')"


def plots_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _freeze(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def sweep_plots(sweep: SweepResult, columns: Sequence[Column[SweepRow]],
                rows: Sequence[SweepRow], folder: Path) -> list[Path]:
    """A PNG and an SVG per KPI against the first parameter; in a grid, one line per
    combination of the other parameters."""
    from matplotlib.figure import Figure

    study = sweep.study
    first = study.parameters[0]
    xs_all = first.levels()
    numeric_x = _numeric(xs_all)
    groups: dict[tuple[Any, ...], list[SweepRow]] = {}
    for row in rows:
        rest = tuple(row.levels[1:]) if study.mode == "grid" else ()
        groups.setdefault(tuple(map(_freeze, rest)), []).append(row)
    kpis_to_plot = [c for c in columns if c.group in ("cost", "kpi") and shown(c, rows)
                    and any(c.get(r) is not None for r in rows)]
    written: list[Path] = []
    for col in kpis_to_plot:
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.subplots()
        for rest, recs in groups.items():
            xs = [r.levels[0] for r in recs]
            pos = xs if numeric_x else [xs_all.index(x) for x in xs]
            ys = [np.nan if col.get(r) is None else col.get(r) / col.scale for r in recs]
            label = ", ".join(f"{p.name}={p.level_text(v)}"
                              for p, v in zip(study.parameters[1:], rest, strict=True))
            ax.plot(pos, ys, marker="o", label=label or None)
        if not numeric_x:
            ax.set_xticks(range(len(xs_all)), [first.level_text(x) for x in xs_all])
        ax.set_xlabel(first.name + (" (factor)" if first.multiplies else ""))
        ax.set_ylabel(col.header if not col.unit or col.unit in col.header
                      else f"{col.header} ({col.unit})")
        ax.set_title(f"{study.name}: {col.header}", fontsize=10)
        ax.grid(True, alpha=0.3)
        if len(groups) > 1:
            ax.legend(fontsize=7)
        written += save_figure(fig, folder, col.name)
    return written


def pareto_plot(pareto: ParetoResult, folder: Path) -> list[Path]:
    from matplotlib.figure import Figure

    ok = [p for p in front_order(pareto) if p.result.optimal]
    if not ok:
        return []
    if pareto.second == "carbon":
        xlabel = "carbon (kt CO2 a year)"

        def x_of(p: FrontPoint) -> float:
            return float(_kpis(p).carbon_t) / 1e3
    else:
        xlabel = "mean latency (ms round trip per MWh served)"

        def x_of(p: FrontPoint) -> float:
            return float(mean_latency(p.result) or 0.0)
    scale, money = money_unit([p.result for p in ok], pareto.base.document.instance.currency)

    def y_of(p: FrontPoint) -> float:
        return _kpis(p).cost / scale

    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    front = [p for p in ok if p.on_front]
    dominated = [p for p in ok if not p.on_front]
    ax.plot([x_of(p) for p in front], [y_of(p) for p in front], marker="o",
            label="Pareto front")
    if dominated:
        ax.scatter([x_of(p) for p in dominated], [y_of(p) for p in dominated],
                   marker="x", color="grey", label="dominated or repeated")
    for p in ok:
        if p.knee:
            ax.scatter([x_of(p)], [y_of(p)], marker="D", s=80, color="tab:red",
                       zorder=3, label="knee")
        if p.role.startswith("min"):
            ax.annotate(p.role, (x_of(p), y_of(p)), fontsize=8,
                        textcoords="offset points", xytext=(6, 6))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"annual cost ({money})")
    ax.set_title(f"{pareto.base.name}: cost vs {pareto.second}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, folder, f"pareto-{pareto.second}")


def _kpis(point: FrontPoint) -> Kpis:
    assert point.result.kpis is not None
    return point.result.kpis

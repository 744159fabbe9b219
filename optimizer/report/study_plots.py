"""Studies' plots (matplotlib, an optional extra; the Agg canvas, no pyplot and no global
backend): a KPI against the first parameter of a sweep; a Pareto front."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.records.results import FrontPoint, Kpis, ParetoResult, SweepResult, SweepRow
from optimizer.report.plots import save_figure
from optimizer.report.studies import (
    Column,
    front_order,
    mean_latency,
    money_unit,
    shown,
    water_of,
)

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


@dataclass(frozen=True)
class Curve:
    """One line of a study chart: its label ("" alone), x positions and y values (None: the
    point failed)."""

    label: str
    xs: list[Any]
    ys: list[float | None]
    texts: list[str] = field(default_factory=list)  # each point's label, for hover


@dataclass(frozen=True)
class Chart:
    """A KPI against the first parameter of a sweep: what every renderer draws."""

    name: str
    title: str
    xlabel: str
    ylabel: str
    curves: list[Curve]
    ticks: list[tuple[int, str]] | None = None  # positions and labels of a non-numeric x


def sweep_charts(sweep: SweepResult, columns: Sequence[Column[SweepRow]],
                 rows: Sequence[SweepRow]) -> list[Chart]:
    """A chart per KPI against the first parameter; in a grid, one curve per combination of
    the other parameters."""
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
    charts = []
    for col in kpis_to_plot:
        curves = []
        for rest, recs in groups.items():
            xs = [r.levels[0] for r in recs]
            label = ", ".join(f"{p.name}={p.level_text(v)}"
                              for p, v in zip(study.parameters[1:], rest, strict=True))
            curves.append(Curve(
                label, xs if numeric_x else [xs_all.index(x) for x in xs],
                [None if col.get(r) is None else col.get(r) / col.scale for r in recs],
                [r.result.label for r in recs]))
        charts.append(Chart(
            col.name, f"{study.name}: {col.header}",
            first.name + (" (factor)" if first.multiplies else ""),
            col.header if not col.unit or col.unit in col.header
            else f"{col.header} ({col.unit})", curves,
            None if numeric_x else [(i, first.level_text(x)) for i, x in enumerate(xs_all)]))
    return charts


def sweep_plots(sweep: SweepResult, columns: Sequence[Column[SweepRow]],
                rows: Sequence[SweepRow], folder: Path) -> list[Path]:
    """A PNG and an SVG per KPI against the first parameter (:func:`sweep_charts`)."""
    from matplotlib.figure import Figure

    written: list[Path] = []
    for chart in sweep_charts(sweep, columns, rows):
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.subplots()
        for curve in chart.curves:
            ax.plot(curve.xs, [np.nan if y is None else y for y in curve.ys], marker="o",
                    label=curve.label or None)
        if chart.ticks is not None:
            ax.set_xticks([i for i, _ in chart.ticks], [t for _, t in chart.ticks])
        ax.set_xlabel(chart.xlabel)
        ax.set_ylabel(chart.ylabel)
        ax.set_title(chart.title, fontsize=10)
        ax.grid(True, alpha=0.3)
        if len(chart.curves) > 1:
            ax.legend(fontsize=7)
        written += save_figure(fig, folder, chart.name)
    return written


@dataclass(frozen=True)
class Front:
    """A Pareto front in the units it is drawn in: points as (x, y, role)."""

    title: str
    xlabel: str
    ylabel: str
    front: list[tuple[float, float, str]]
    dominated: list[tuple[float, float, str]]
    knees: list[tuple[float, float, str]]


def front_chart(pareto: ParetoResult) -> Front | None:
    """The solved points of a Pareto study, on the front or not, and its knee (None when no
    point was solved)."""
    ok = [p for p in front_order(pareto) if p.result.optimal]
    if not ok:
        return None
    plan = pareto.base.planned
    if pareto.second == "carbon":
        xlabel = "carbon (kt CO2" + (", expected over the horizon)" if plan else " a year)")

        def x_of(p: FrontPoint) -> float:
            return float(_kpis(p).carbon_t) / 1e3
    elif pareto.second == "water":
        xlabel = "water (k m3" + (", expected over the horizon)" if plan else " a year)")

        def x_of(p: FrontPoint) -> float:
            return float(water_of(_kpis(p)) or 0.0) / 1e3
    else:
        xlabel = "mean latency (ms round trip per MWh served)"

        def x_of(p: FrontPoint) -> float:
            return float(mean_latency(p.result) or 0.0)
    scale, money = money_unit([p.result for p in ok], pareto.base.document.instance.currency)

    def xyr(p: FrontPoint) -> tuple[float, float, str]:
        return x_of(p), _kpis(p).cost / scale, p.role

    ylabel = f"{'discounted horizon cost' if plan else 'annual cost'} ({money})"
    return Front(f"{pareto.base.name}: cost vs {pareto.second}", xlabel, ylabel,
                 [xyr(p) for p in ok if p.on_front], [xyr(p) for p in ok if not p.on_front],
                 [xyr(p) for p in ok if p.knee])


def pareto_plot(pareto: ParetoResult, folder: Path) -> list[Path]:
    from matplotlib.figure import Figure

    chart = front_chart(pareto)
    if chart is None:
        return []
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    ax.plot([x for x, _, _ in chart.front], [y for _, y, _ in chart.front], marker="o",
            label="Pareto front")
    if chart.dominated:
        ax.scatter([x for x, _, _ in chart.dominated], [y for _, y, _ in chart.dominated],
                   marker="x", color="grey", label="dominated or repeated")
    for x, y, _ in chart.knees:
        ax.scatter([x], [y], marker="D", s=80, color="tab:red", zorder=3, label="knee")
    for x, y, role in chart.front + chart.dominated:
        if role.startswith("min"):
            ax.annotate(role, (x, y), fontsize=8, textcoords="offset points", xytext=(6, 6))
    ax.set_xlabel(chart.xlabel)
    ax.set_ylabel(chart.ylabel)
    ax.set_title(chart.title, fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, folder, f"pareto-{pareto.second}")


def _kpis(point: FrontPoint) -> Kpis:
    assert point.result.kpis is not None
    return point.result.kpis

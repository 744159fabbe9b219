"""Studies' tables and Markdown: sweeps and Pareto fronts, from their records
(:mod:`optimizer.records`); never from the engine. ``results.csv`` holds raw numbers, the tables
formatted ones; one :class:`Column` describes both."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from optimizer import __version__
from optimizer.model.lp import COST_CATEGORIES, V1_COST_CATEGORIES
from optimizer.records.inputs import LEX_TOL, Base
from optimizer.records.results import (
    FrontPoint,
    Kpis,
    ParetoResult,
    PointResult,
    Row,
    SweepResult,
    SweepRow,
    second_value,
)
from optimizer.report.markdown import table_md
from optimizer.report.tables import Table

R = TypeVar("R", contravariant=True)


@dataclass(frozen=True)
class Column(Generic[R]):
    """A results column: CSV name, display header, how to read it from a row, and how to show
    it (``fmt``: a format spec applied after ``scale``)."""

    name: str
    header: str
    get: Callable[[R], Any]
    fmt: str = ",.2f"
    scale: float = 1.0
    unit: str = ""
    group: Literal["param", "status", "cost", "kpi", "note"] = "kpi"

    def show(self, row: R) -> str:
        value = self.get(row)
        if value is None:
            return "-"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format(value / self.scale if self.scale != 1.0 else value, self.fmt)
        return str(value)


def _kpi(read: Callable[[Kpis], Any]) -> Callable[[Row], Any]:
    def get(row: Row) -> Any:
        k = row.result.kpis
        return None if k is None else read(k)
    return get


def _entry(table: Callable[[Kpis], dict[str, Any]], key: str) -> Callable[[Row], Any]:
    """A KPI kept per cost category, class or site: the entry ``key`` of ``table``."""
    return _kpi(lambda k: table(k).get(key))


def _status(row: Row) -> str:
    return row.result.status


def _message(row: Row) -> str:
    return row.result.message if not row.result.optimal else ""


def mean_latency(result: PointResult) -> float | None:
    """ms round trip per MWh served (a goal's point)."""
    k = result.kpis
    total = k.goal.latency_mwh_ms if k is not None and k.goal is not None else None
    return total / k.served_mwh if total is not None and k is not None and k.served_mwh else None


def money_unit(results: Sequence[PointResult], currency: str) -> tuple[float, str]:
    """One unit for every money column of a table, from the largest cost in it."""
    top = max((abs(r.kpis.cost) if r.kpis else 0.0 for r in results), default=0.0)
    for divisor, prefix in ((1e8, "m "), (1e5, "k ")):
        if top >= divisor:
            return divisor / 100, prefix + currency
    return 1.0, currency


def carbon_column(results: Sequence[PointResult]) -> Column[Row]:
    """Emissions in kt CO2, or in t when every point emits less than 10 kt."""
    top = max((abs(r.kpis.carbon_t) if r.kpis else 0.0 for r in results), default=0.0)
    get = _kpi(lambda k: k.carbon_t)
    if top >= 1e4:
        return Column("carbon_t", "carbon kt", get, ",.1f", 1e3, "kt CO2")
    return Column("carbon_t", "carbon t", get, ",.1f", 1.0, "t CO2")


def water_of(k: Kpis) -> float | None:
    return k.goal.water_m3 if k.goal is not None else None


def water_column(results: Sequence[PointResult]) -> Column[Row]:
    """Water drawn in thousand m3, or in m3 when every point draws less than 100,000 m3."""
    top = max((abs(water_of(r.kpis) or 0.0) if r.kpis else 0.0 for r in results), default=0.0)
    if top >= 1e5:
        return Column("water_m3", "water k m3", _kpi(water_of), ",.1f", 1e3, "k m3")
    return Column("water_m3", "water m3", _kpi(water_of), ",.1f", 1.0, "m3")


def cost_columns(results: Sequence[PointResult], currency: str) -> list[Column[Row]]:
    """A column per cost category the results report (a version-1 instance's eight, the
    version-2 ten; the eight when no point has a solution), in the table's money unit."""
    scale, money = money_unit(results, currency)
    fmt = ",.2f" if scale > 1 else ",.0f"
    held = {c for r in results if r.kpis is not None for c in r.kpis.costs}
    categories = [c for c in COST_CATEGORIES if c in held] or V1_COST_CATEGORIES
    return [Column(f"cost_{c}", f"{c} {money}", _entry(lambda k: k.costs, c), fmt, scale,
                   money, "cost") for c in categories]


def kpi_columns(results: Sequence[PointResult], currency: str = "CNY") -> list[Column[Row]]:
    """The KPI columns, from what the results hold (classes and built sites vary by instance)."""
    classes: dict[str, None] = {}
    built: dict[str, None] = {}
    for r in results:
        if r.kpis is not None:
            classes.update(dict.fromkeys(r.kpis.latency_ms))
            built.update(dict.fromkeys(r.kpis.built_mw))
    scale, money = money_unit(results, currency)
    fmt = ",.2f" if scale > 1 else ",.0f"
    return [
        Column("objective", f"objective {money}", _kpi(lambda k: k.objective), fmt, scale, money,
               "cost"),
        *cost_columns(results, currency),
        carbon_column(results),
        Column("renewable_share", "renewable %", _kpi(lambda k: k.renewable_share), ".1f", 0.01,
               "%"),
        Column("unmet_mwh", "unmet MWh", _kpi(lambda k: k.unmet_mwh), ",.0f", unit="MWh"),
        Column("west_share", "served west %", _kpi(lambda k: k.west_share), ".1f", 0.01, "%"),
        *(Column(f"latency_ms_{c}", f"{c} ms", _entry(lambda k: k.latency_ms, c), ".1f",
                 unit="ms") for c in classes),
        *(Column(f"built_mw_{s}", f"{s} MW built", _entry(lambda k: k.built_mw, s),
                 ",.0f", unit="MW") for s in built),
    ]


def shown(col: Column[R], rows: Sequence[R]) -> bool:
    """Display tables leave out cost categories that are zero at every point."""
    if col.group != "cost" or col.name == "objective":
        return True
    return any(abs(col.get(r) or 0.0) > 1e-9 for r in rows)


def csv_text(columns: Sequence[Column[R]], rows: Sequence[R]) -> str:
    """Tidy CSV: one row per point, raw numbers, empty where there is no value."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for rec in rows:
        line = []
        for c in columns:
            v = c.get(rec)
            line.append("" if v is None else json.dumps(v) if isinstance(v, list | dict) else v)
        writer.writerow(line)
    return buf.getvalue()


def failure_lines(results: Sequence[PointResult]) -> list[str]:
    return [f"point {r.index} ({r.label or '-'}): {r.status}"
            + (f" — {r.message}" if r.message else "")
            for r in results if not r.optimal]


def _header_lines(base: Base, extra: Sequence[str]) -> list[str]:
    return [f"- **instance**: {base.document.instance.name} (`{Path(base.file).name}`, sha256 "
            f"`{base.sha256[:12]}`)",
            f"- **base overrides**: {', '.join(f'`{o}`' for o in base.overrides) or 'none'}",
            *extra]


def _tail_lines(results: Sequence[PointResult], plots: Sequence[Path], title: str) -> list[str]:
    lines = []
    fails = failure_lines(results)
    if fails:
        lines += ["## Points without an optimal solution", "", *(f"- {f}" for f in fails), ""]
    svgs = [p for p in plots if p.suffix == ".svg"]
    if svgs:
        lines += [f"## {title}", "", *(f"![{p.stem}](plots/{p.name})" for p in svgs), ""]
    return lines


# --------------------------------------------------------------------------------------------
# sweeps
# --------------------------------------------------------------------------------------------


def _level_of(i: int) -> Callable[[SweepRow], Any]:
    def get(row: SweepRow) -> Any:
        return row.levels[i]
    return get


def sweep_columns(sweep: SweepResult) -> list[Column[SweepRow]]:
    """Every column of ``results.csv``, in order."""
    params: list[Column[SweepRow]] = [
        Column(p.name, p.name + (" ×" if p.multiplies else ""), _level_of(i), "g",
               group="param")
        for i, p in enumerate(sweep.study.parameters)
    ]
    return [
        Column("point", "#", lambda r: r.result.index, "d", group="param"),
        *params,
        Column("status", "status", _status, group="status"),
        *kpi_columns(sweep.results, sweep.base.document.instance.currency),
        Column("message", "message", _message, group="note"),
    ]


def sweep_tables(sweep: SweepResult) -> list[Table]:
    cols = sweep_columns(sweep)
    rows = sweep.rows()
    keys = [c for c in cols if c.group in ("param", "status")]
    money = [c for c in cols if c.group == "cost" and shown(c, rows)]
    other = [c for c in cols if c.group == "kpi"]
    names = [p.name for p in sweep.study.parameters]

    def cell(col: Column[SweepRow], row: SweepRow) -> str:
        if col.group == "param" and col.name != "point":
            i = names.index(col.name)
            return sweep.study.parameters[i].level_text(row.levels[i])
        return col.show(row)

    def table(title: str, body: list[Column[SweepRow]], caption: str = "") -> Table:
        cells = [*keys, *body]
        numeric = {i for i, c in enumerate(cells) if c.group not in ("status", "note")}
        return Table(title, [c.header for c in cells], [[cell(c, r) for c in cells] for r in rows],
                     caption=caption, numeric=numeric)

    unit = money_unit(sweep.results, sweep.base.document.instance.currency)[1]
    return [
        table(f"{sweep.study.name}: annual cost ({len(rows)} points)", money,
              f"{unit} a year; cost categories that are zero at every point left out"),
        table(f"{sweep.study.name}: indicators", other,
              "carbon: CO2 a year; served west: share of IT energy served in sites of zone "
              "west; latency: mean round trip per MWh served, per class"),
    ]


def sweep_markdown(sweep: SweepResult, plots: Sequence[Path] = ()) -> str:
    study = sweep.study
    ok = len(sweep.results) - len(sweep.failed)
    lines = [f"# Study: {study.name}", ""]
    if study.description:
        lines += [study.description.strip(), ""]
    lines += _header_lines(sweep.base, [
        f"- **mode**: {study.mode}, {len(sweep.points)} points ({ok} optimal, "
        f"{len(sweep.failed)} not)",
        "- **parameters**: " + "; ".join(
            (f"{p.name}: " if p.name != p.targets[0] else "")
            + f"`{', '.join(p.targets)}` {'×' if p.multiplies else '='} "
            f"{', '.join(p.level_text(v).lstrip('×') for v in p.levels())}"
            for p in study.parameters),
        f"- **solver**: {sweep.options.backend}/{sweep.options.solver}"
        + (f", time limit {sweep.options.time_limit:g} s" if sweep.options.time_limit else ""),
        f"- eastwest {__version__}; every point's overrides, status and numbers are in "
        "`points/<key>.json`, the table in `results.csv`",
        "",
    ])
    lines += [table_md(t) for t in sweep_tables(sweep)]
    return "\n".join(lines + _tail_lines(sweep.results, plots, "Plots"))


# --------------------------------------------------------------------------------------------
# Pareto fronts
# --------------------------------------------------------------------------------------------


def front_order(pareto: ParetoResult) -> list[FrontPoint]:
    """The points sorted by the second objective (failed points last, in their order)."""
    ok = [p for p in pareto.results if second_value(p.result, pareto.second) is not None
          and p.result.optimal]
    ok.sort(key=lambda p: (second_value(p.result, pareto.second), p.result.kpis.cost
                           if p.result.kpis else 0.0))
    return ok + [p for p in pareto.results if p not in ok]


def carbon_bound_price(k: Kpis) -> float | None:
    """A plan's implied carbon price: the shadow price of the front's cap on the horizon's
    expected carbon (not its cases' own ``policy.carbon_cap_t``)."""
    return k.goal.carbon_bound_price if k.goal is not None else None


def _second_columns(pareto: ParetoResult, currency: str) -> list[Column[FrontPoint]]:
    carbon: Column[FrontPoint] = carbon_column([p.result for p in pareto.results])
    if pareto.second == "carbon":
        return [
            Column("cap_t", carbon.header.replace("carbon", "carbon cap"), lambda p: p.cap,
                   carbon.fmt, carbon.scale, carbon.unit),
            carbon,
            Column("carbon_price", f"implied carbon price {currency}/t",
                   _kpi(carbon_bound_price if pareto.base.planned
                        else lambda k: k.carbon_cap_price), ",.1f"),
        ]
    if pareto.second == "water":
        water: Column[FrontPoint] = water_column([p.result for p in pareto.results])
        return [
            Column("cap_m3", water.header.replace("water", "water cap"), lambda p: p.cap,
                   water.fmt, water.scale, water.unit),
            water,
            Column("water_price", f"implied water price {currency}/m3",
                   _kpi(lambda k: k.goal.water_cap_price if k.goal else None), ",.2f"),
            carbon,
        ]
    return [
        Column("cap_mwh_ms", "latency cap GWh·ms", lambda p: p.cap, ",.1f", 1e3),
        Column("latency_mwh_ms", "latency GWh·ms",
               _kpi(lambda k: k.goal.latency_mwh_ms if k.goal else None), ",.1f", 1e3),
        Column("mean_latency_ms", "mean latency ms", lambda p: mean_latency(p.result), ".2f",
               unit="ms"),
        Column("latency_price", f"latency price {currency}/(MWh·ms)",
               _kpi(lambda k: k.goal.latency_cap_price if k.goal else None), ",.3f"),
        carbon,
    ]


def pareto_columns(pareto: ParetoResult) -> list[Column[FrontPoint]]:
    currency = pareto.base.document.instance.currency
    results = [p.result for p in pareto.results]
    scale, money = money_unit(results, currency)
    fmt = ",.2f" if scale > 1 else ",.0f"
    return [
        Column("point", "#", lambda p: p.result.index, "d", group="param"),
        Column("role", "step", lambda p: p.role, group="status"),
        Column("status", "status", _status, group="status"),
        Column("cost", f"cost {money}", _kpi(lambda k: k.cost), fmt, scale, money, "cost"),
        *_second_columns(pareto, currency),
        Column("unmet_mwh", "unmet MWh", _kpi(lambda k: k.unmet_mwh), ",.0f", unit="MWh"),
        Column("renewable_share", "renewable %", _kpi(lambda k: k.renewable_share), ".1f", 0.01,
               "%"),
        Column("west_share", "served west %", _kpi(lambda k: k.west_share), ".1f", 0.01, "%"),
        Column("on_front", "on front", lambda p: p.on_front, group="status"),
        Column("knee", "knee", lambda p: p.knee, group="status"),
        Column("same_as", "same as", lambda p: p.same_as, "d", group="status"),
        *cost_columns(results, currency),
        Column("message", "message", _message, group="note"),
    ]


def _front_cell(col: Column[FrontPoint], p: FrontPoint) -> str:
    if col.name == "on_front":
        return ("yes" if p.on_front else "-" if not p.result.optimal else "dominated"
                if p.same_as is None else f"= #{p.same_as}")
    if col.name == "knee":
        return "◆ knee" if p.knee else ""
    return col.show(p)


SECOND_NOTES = {
    "carbon": "implied carbon price: the carbon cap's shadow price",
    "latency": "latency: sum of MWh x round-trip ms a year; latency price: the cap's shadow "
               "price",
    "water": "water: m3 a year drawn by the sites (WUE x IT energy; a plan: expected over its "
             "horizon); implied water price: the cap's shadow price"}


PLAN_CARBON_NOTE = ("implied carbon price: the shadow price of the cap on that total "
                    "(discounted {cur} per t)")


def pareto_table(pareto: ParetoResult) -> Table:
    points = front_order(pareto)
    cols = [c for c in pareto_columns(pareto)
            if not c.name.startswith("cost_") and c.group != "note" and c.name != "same_as"]
    rows = [[_front_cell(c, p) for c in cols] for p in points]
    numeric = {i for i, c in enumerate(cols) if c.group not in ("status", "note")}
    what = pareto.second
    caption = (f"sorted by {what}; "
               + ("cost is the plan's discounted expected cost over its horizon (its "
                  f"objective), {what} its expected total over the horizon (span x "
                  "probability per case, undiscounted); " if pareto.base.planned
                  else "cost is the whole annual cost; ")
               + ("unmet energy held at the cost optimum's level at every point; "
                  if pareto.service == "held" else "unmet energy free (priced by its penalty); ")
               + (PLAN_CARBON_NOTE.format(cur=pareto.base.document.instance.currency)
                  if pareto.base.planned and what == "carbon" else SECOND_NOTES[what]))
    on_front = sum(1 for p in points if p.on_front)
    return Table(f"Pareto front: cost vs {what} ({on_front} of {len(points)} points on the "
                 "front)", [c.header for c in cols], rows, caption=caption, numeric=numeric)


def _knee_lines(pareto: ParetoResult) -> list[str]:
    knee = [p for p in pareto.results if p.knee]
    ends = [p.result for p in pareto.results[:2] if p.result.optimal]
    if not (knee and len(ends) == 2):
        return []
    k, a, b = knee[0].result.kpis, ends[0].kpis, ends[1].kpis
    assert k is not None
    assert a is not None
    assert b is not None
    v = (second_value(knee[0].result, pareto.second), second_value(ends[0], pareto.second),
         second_value(ends[1], pareto.second))
    assert None not in v
    span = (v[1] or 0.0) - (v[2] or 0.0)
    if not (span > 0 and b.cost > a.cost):
        return []
    return ["## Knee", "",
            f"The knee ({knee[0].role}) achieves "
            f"{100 * ((v[1] or 0.0) - (v[0] or 0.0)) / span:.0f}% of the possible "
            f"{pareto.second} reduction for "
            f"{100 * (k.cost - a.cost) / (b.cost - a.cost):.0f}% of the extra cost.", ""]


def pareto_markdown(pareto: ParetoResult, plots: Sequence[Path] = ()) -> str:
    lines = [f"# Pareto front: cost vs {pareto.second} ({pareto.base.name})", "",
             *_header_lines(pareto.base, [
                 f"- **method**: epsilon-constraint; both extremes lexicographic (cost then "
                 f"{pareto.second}, {pareto.second} then cost, the first held within a "
                 f"relative {LEX_TOL:g}); {len(pareto.results) - 2} caps evenly spaced between "
                 "them, each minimising cost",
                 f"- **service**: {pareto.service}" + (
                     " (unmet energy at most the cost optimum's at every point)"
                     if pareto.service == "held" else
                     " (dropping demand allowed, at its penalty)"),
                 f"- **solver**: {pareto.options.backend}/{pareto.options.solver}",
                 f"- eastwest {__version__}; every point's numbers are in `points/<key>.json`, "
                 "the table in `results.csv`", ""]),
             table_md(pareto_table(pareto)), *_knee_lines(pareto)]
    return "\n".join(lines + _tail_lines([p.result for p in pareto.results], plots, "Plot"))

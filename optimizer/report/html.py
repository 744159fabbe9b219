"""Stage 7: Solution (or a sweep or Pareto study) -> one self-contained, offline HTML page.

plotly is an optional extra (``pip install 'eastwest[html]'``), imported only here and only
when a page is made. The page embeds everything it uses: plotly.js (from the plotly package,
MIT), the figures as JSON and, on the map, China's province outline
(:mod:`optimizer.report.html_map`); it loads nothing from the network. Tables are the report's
own (:mod:`optimizer.report.contents`, the study tables), rendered as HTML; the charts are in
:mod:`optimizer.report.html_map` and :mod:`optimizer.report.html_charts`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from optimizer import __version__
from optimizer.backends.base import option_words
from optimizer.interpret import Solution
from optimizer.records.results import ParetoResult, SweepResult
from optimizer.report import html_charts as charts
from optimizer.report.contents import all_tables
from optimizer.report.files import write_atomic
from optimizer.report.html_map import flow_map, outline
from optimizer.report.notices import OptionNamer, word_notices
from optimizer.report.studies import pareto_table, sweep_columns, sweep_tables
from optimizer.report.study_plots import front_chart, sweep_charts
from optimizer.report.tables import Table, pct, policy_lines, summary

INSTALL_HINT = "pip install 'eastwest[html]'"
CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans",sans-serif;margin:0;color:#222}
header{background:#12355b;color:#fff;padding:14px 24px}header h1{margin:0;font-size:22px}
nav{background:#eef2f7;padding:6px 24px;position:sticky;top:0;z-index:10}
nav a{margin-right:16px;color:#12355b;text-decoration:none;font-size:14px}
main{padding:8px 24px 40px;max-width:1400px}section{margin-top:18px}
h2{font-size:18px;border-bottom:1px solid #ccd;padding-bottom:4px}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:2px 14px;font-size:14px}
dl.summary dt{font-weight:600}dl.summary dd{margin:0}
table{border-collapse:collapse;margin:10px 0 18px;font-size:13px}
caption{text-align:left;font-weight:600;font-size:14px;padding:4px 0}
th,td{border:1px solid #d5dae1;padding:3px 8px}th{background:#f3f5f8}td.n{text-align:right}
tfoot td{font-weight:600;background:#f8f9fb}p.caption{font-size:12px;color:#555;margin:2px 0}
.chart{border:1px solid #e3e6ea;margin:8px 0}ul{font-size:14px}
footer{font-size:12px;color:#666;padding:12px 24px;border-top:1px solid #dde}
"""


class HtmlUnavailable(Exception):
    """plotly (the ``html`` extra) is not installed."""


def _plotly() -> Any:
    try:
        import plotly
        import plotly.io
        import plotly.offline  # noqa: F401
    except ImportError as exc:
        raise HtmlUnavailable(f"the HTML report needs plotly, which is not installed "
                              f"({INSTALL_HINT})") from exc
    return plotly


@dataclass
class Section:
    """A part of the page: a heading, charts (plotly figure dicts), tables and lines."""

    key: str
    title: str
    figures: list[dict[str, Any]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    caption: str = ""


def table_html(table: Table) -> str:
    """A report table as an HTML table (cells escaped, numeric columns right-aligned)."""
    def row(cells: list[str], tag: str = "td") -> str:
        right = ' class="n"' if tag == "td" else ""
        return "<tr>" + "".join(
            f"<{tag}{right if i in table.numeric else ''}>{html.escape(c)}</{tag}>"
            for i, c in enumerate(cells)) + "</tr>"

    parts = [f"<table><caption>{html.escape(table.title)}</caption>",
             "<thead>" + row(table.columns, "th") + "</thead>",
             "<tbody>" + "".join(row(r) for r in table.rows) + "</tbody>"]
    if table.footer:
        parts.append("<tfoot>" + row(table.footer) + "</tfoot>")
    parts.append("</table>")
    if table.caption:
        parts.append(f'<p class="caption">{html.escape(table.caption)}</p>')
    return "\n".join(parts)


def _figure_html(plotly: Any, figure: dict[str, Any], div_id: str) -> str:
    body: str = plotly.io.to_html(figure, full_html=False, include_plotlyjs=False,
                                  config=CONFIG, div_id=div_id, validate=True)
    return f'<div class="chart">{body}</div>'


def page(title: str, facts: list[tuple[str, str]], sections: list[Section],
         credits: list[str]) -> str:
    """The whole page: plotly.js inlined once in the head, then every section."""
    plotly = _plotly()
    body = []
    for section in sections:
        parts = [f'<section id="{section.key}"><h2>{html.escape(section.title)}</h2>']
        parts += [_figure_html(plotly, fig, f"{section.key}-{i}")
                  for i, fig in enumerate(section.figures)]
        if section.caption:
            parts.append(f'<p class="caption">{html.escape(section.caption)}</p>')
        parts += [table_html(t) for t in section.tables]
        if section.lines:
            parts.append("<ul>" + "".join(f"<li>{html.escape(x)}</li>"
                                          for x in section.lines) + "</ul>")
        body.append("\n".join(parts) + "</section>")
    nav = "".join(f'<a href="#{s.key}">{html.escape(s.title)}</a>' for s in sections)
    facts_html = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>"
                         for k, v in facts)
    js = plotly.offline.get_plotlyjs()
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{STYLE}</style>",
        f'<script type="text/javascript">{js}</script></head><body>',
        f"<header><h1>{html.escape(title)}</h1></header><nav>{nav}</nav><main>",
        f'<dl class="summary">{facts_html}</dl>', *body, "</main>",
        "<footer>" + "<br>".join(html.escape(c) for c in [
            f"eastwest {__version__}; charts: plotly.js {plotly.__version__} (MIT), "
            "embedded: this page needs no network", *credits]) + "</footer>",
        "</body></html>", ""])


def compliance_table(sol: Solution) -> Table | None:
    """Each site's PUE, utilisation and green share against its limits (``sol.compliance``,
    where the solution has it)."""
    rows: list[dict[str, Any]] = list(getattr(sol, "compliance", None) or [])
    if not rows:
        return None

    def check(value: Any, limit: Any, ok: Any, fmt: Any, sign: str) -> str:
        if value is None:
            return "-"
        text = fmt(value)
        if limit is not None:
            text += f" {sign} {fmt(limit)}"
        return text + ("" if ok is None else " ✓" if ok else " ✗")

    def number(x: float) -> str:
        return f"{x:.2f}"

    return Table("Compliance by site", ["site", "PUE (max)", "utilisation (min)",
                                        "green share (min)"],
                 [[str(r["site"]),
                   check(r.get("pue"), r.get("max_pue"), r.get("pue_ok"), number, "≤"),
                   check(r.get("utilization"), r.get("min_utilization"),
                         r.get("utilization_ok"), pct, "≥"),
                   check(r.get("green_share"), r.get("min_green_share"), r.get("green_ok"),
                         pct, "≥")] for r in rows],
                 numeric={1, 2, 3}, caption="✓ within the limit, ✗ not; - no value")


def solution_sections(sol: Solution, region_xy: np.ndarray, site_xy: np.ndarray,
                      name: OptionNamer = option_words) -> list[Section]:
    if not sol.has_values:
        return [Section("result", "No solution", lines=[sol.message])]
    sections = [
        Section("map", "Map", [flow_map(sol, region_xy, site_xy)],
                caption="hover a line's middle, a site or a region for its numbers; click a "
                        "class in the legend to hide it. Province outline: "
                        + str(outline().get("source", ""))),
        Section("load", "Load over the periods", [charts.load_profiles(sol)]),
        Section("costs", "Costs", [charts.cost_breakdown(sol)]),
    ]
    if sol.plan is not None:
        figures = [f for f in (charts.build_plan(sol), charts.operating_cases(sol)) if f]
        sections.append(Section("plan", "Plan by year", figures))
    compliance = compliance_table(sol)
    if compliance is not None:
        sections.append(Section("compliance", "Compliance", tables=[compliance]))
    tables = [t for t in all_tables(sol) if not t.title.startswith("Load over")]
    sections.append(Section("tables", "Tables", tables=tables))
    notes = [*policy_lines(sol), *word_notices(sol.notices, name), *sol.notes,
             *(f"warning: {w}" for w in sol.warnings)]
    if notes:
        sections.append(Section("notes", "Policy and notes", lines=notes))
    return sections


def solution_page(sol: Solution, region_xy: np.ndarray, site_xy: np.ndarray,
                  name: OptionNamer = option_words) -> str:
    """The page of one solve; ``region_xy`` (R, 2) and ``site_xy`` (S, 2) are [lat, lon].
    Raises HtmlUnavailable without plotly."""
    _plotly()
    return page(f"eastwest report: {sol.instance}", summary(sol),
                solution_sections(sol, region_xy, site_xy, name),
                ["province outline: " + str(outline().get("source", ""))])


def write_solution(path: str | Path, sol: Solution, region_xy: np.ndarray,
                   site_xy: np.ndarray, name: OptionNamer = option_words) -> Path:
    """Write the page of one solve atomically; return its path."""
    write_atomic(path, solution_page(sol, region_xy, site_xy, name))
    return Path(path)


def sweep_page(sweep: SweepResult) -> str:
    _plotly()
    figures = [charts.sweep_chart(c) for c in
               sweep_charts(sweep, sweep_columns(sweep), sweep.rows())]
    ok = len(sweep.results) - len(sweep.failed)
    return page(f"eastwest sweep: {sweep.study.name}",
                [("instance", sweep.base.name), ("points", f"{len(sweep.results)}: {ok} "
                  "optimal"), ("parameters", ", ".join(p.name for p in sweep.study.parameters))],
                [Section("curves", "Indicators against the first parameter", figures),
                 Section("tables", "Tables", tables=sweep_tables(sweep))], [])


def pareto_page(pareto: ParetoResult) -> str:
    _plotly()
    front = front_chart(pareto)
    ok = len(pareto.results) - len(pareto.failed)
    return page(f"eastwest Pareto front: {pareto.base.name}, cost vs {pareto.second}",
                [("instance", pareto.base.name), ("points", f"{len(pareto.results)}: {ok} "
                  "optimal"), ("service", pareto.service)],
                [Section("front", "Front", [charts.pareto_chart(front)] if front else []),
                 Section("tables", "Tables", tables=[pareto_table(pareto)])], [])


def write_study(path: str | Path, study: SweepResult | ParetoResult) -> Path:
    """Write the page of a sweep or a Pareto study atomically; return its path."""
    text = sweep_page(study) if isinstance(study, SweepResult) else pareto_page(study)
    write_atomic(path, text)
    return Path(path)

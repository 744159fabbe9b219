"""The HTML report's content, read as text (no browser; tests/report/test_html_browser.py loads
it in headless Chromium): offline, the map's data embedded, the numbers of the tables."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optimizer.pipeline import Run
from optimizer.report import tables

pytest.importorskip("plotly")

from optimizer.report.html import (  # noqa: E402
    HtmlUnavailable,
    compliance_table,
    solution_page,
    table_html,
)
from optimizer.report.html_map import MIN_SHOWN, class_energy, outline  # noqa: E402

MISSING = object()
EXTERNAL = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*\b(?:src|href)\s*=\s*[\"']?"
                      r"(?:https?:)?//", re.IGNORECASE)


@pytest.fixture(scope="module")
def national_page(national: Run, locations: Any) -> str:
    return solution_page(national.solution, *locations(national))


@pytest.fixture
def plan(small_plan: Run) -> Run:
    return small_plan


def test_the_page_loads_nothing_from_the_network(national_page: str) -> None:
    assert national_page.startswith("<!DOCTYPE html>")
    assert not EXTERNAL.findall(national_page)
    assert "<script src" not in national_page.lower()
    assert "Plotly.newPlot" in national_page
    # plotly.js itself is inlined: its bundle, not a reference to it
    assert len(national_page) > 1_000_000
    assert "cdn.plot.ly/plotly" not in national_page.split("</script>", 1)[1]


def test_the_province_outline_is_embedded_in_the_map(national_page: str,
                                                     figures: Any) -> None:
    data, layout = figures(national_page)["map-0"]
    provinces = next(t for t in data if t.get("name") == "provinces")
    rings = [poly[0] for f in outline()["features"] for poly in f["geometry"]["coordinates"]]
    assert len(outline()["features"]) == 34
    assert provinces["x"].count(None) == len(rings)
    assert [x for x in provinces["x"] if x is not None] == [p[0] for r in rings for p in r]
    assert [y for y in provinces["y"] if y is not None] == [p[1] for r in rings for p in r]
    # the first view spans mainland China, Hainan and Taiwan: about 73-135 E and 18-54 N
    (x0, x1), (y0, y1) = layout["xaxis"]["range"], layout["yaxis"]["range"]
    assert 71 < x0 < 74
    assert 135 < x1 < 137
    assert 16 < y0 < 19
    assert 53 < y1 < 55
    assert layout["yaxis"]["scaleanchor"] == "x"


def test_every_flow_above_the_threshold_has_a_line_and_its_numbers(
        national: Run, national_page: str, figures: Any) -> None:
    sol = national.solution
    data, _ = figures(national_page)["map-0"]
    mwh, _ = class_energy(sol)
    top = mwh.max()
    for k, name in enumerate(sol.classes):
        mids = [t for t in data if t.get("name") == name and t["mode"] == "markers"]
        expected = int((mwh[:, :, k] > MIN_SHOWN * top).sum())
        assert sum(len(t["x"]) for t in mids) == expected, name
        lines = [t for t in data if t.get("name") == name and t["mode"] == "lines"]
        assert sum(t["x"].count(None) for t in lines) == expected, name
    texts = [h for t in data if t["mode"] == "markers" and t.get("hovertext")
             for h in t["hovertext"]]
    r, s, k = np.unravel_index(mwh.argmax(), mwh.shape)
    head = f"<b>{sol.regions[r]} → {sol.sites[s]}</b><br>class {sol.classes[k]}"
    assert any(t.startswith(head) and tables.energy(mwh[r, s, k]) in t for t in texts)


def test_the_map_adds_up_to_the_region_site_matrix(national: Run) -> None:
    """class_energy (from the flows, by class) against interpret's region x site energy."""
    sol = national.solution
    mwh, peak = class_energy(sol)
    assert np.allclose(mwh.sum(axis=2), sol.region_site_mwh, rtol=1e-9, atol=1e-6)
    assert (peak <= mwh.max()).all()
    assert peak.max() > 0


def test_the_cost_table_and_chart_carry_the_solution_costs(
        national: Run, national_page: str, figures: Any) -> None:
    sol = national.solution
    text = html.unescape(national_page)
    table = tables.costs(sol)
    for row in table.rows:
        assert f"<td>{row[0]}</td><td class=\"n\">{row[1]}</td>" in text
    assert table.footer is not None
    assert tables.money(sum(sol.costs.values()), sol.currency) in text
    data, layout = figures(national_page)["costs-0"]
    bars = data[0]
    assert layout["xaxis"]["title"]["text"] == "bn CNY"
    shown = dict(zip(bars["y"], bars["x"], strict=True))
    assert set(shown) == {c for c, v in sol.costs.items() if v}
    for cat, value in shown.items():
        assert value * 1e9 == pytest.approx(sol.costs[cat], rel=1e-12)


def test_each_site_has_a_load_panel_with_its_capacity(
        national: Run, national_page: str, figures: Any) -> None:
    sol = national.solution
    data, layout = figures(national_page)["load-0"]
    titles = [a["text"] for a in layout["annotations"]]
    assert titles == [f"<b>{s}</b>" for s in sol.sites]
    caps = [t for t in data if t["name"] == "IT capacity"]
    assert [t["y"][0] for t in caps] == pytest.approx(list(sol.site_capacity))
    stacked = [t for t in data if t.get("stackgroup") == "site0"]
    assert sum(np.array(t["y"]) for t in stacked) == pytest.approx(sol.site_load[0], abs=1e-2)


def test_a_plan_has_its_build_by_year_and_its_cases(plan: Run, figures: Any,
                                                     locations: Any) -> None:
    sol = plan.solution
    assert sol.plan is not None
    region_xy, site_xy = locations(plan)
    page = solution_page(sol, region_xy, site_xy)
    found = figures(page)
    assert {"map-0", "load-0", "costs-0", "plan-0", "plan-1"} <= set(found)
    build, _ = found["plan-0"]
    by = {(b["year"], b["site"]): b["mw"] for b in sol.build_table}
    for trace in build:
        assert trace["y"] == [by[y, trace["name"]] for y in trace["x"]]
    cases, _ = found["plan-1"]
    assert sorted(t["name"] for t in cases) == ["central", "dear"]
    costs = {(c["year"], c["scenario"]): c["operating_cost"] for c in sol.cases}
    for trace in cases:
        assert [y * 1e6 for y in trace["y"]] == pytest.approx(
            [costs[x, trace["name"]] for x in trace["x"]], rel=1e-12)
    # the map shows the reference case (the last year, the first scenario): its flows add up
    # to the top-level region x site energy, which interpret computed from that case alone
    mwh, _ = class_energy(sol)
    assert np.allclose(mwh.sum(axis=2), sol.region_site_mwh, rtol=1e-9, atol=1e-6)
    assert "(2030/central)" in found["map-0"][1]["title"]["text"]
    assert "What to build, by year" in page
    assert "Operating cases" in page


def test_compliance_is_rendered_where_the_solution_has_it(plan: Run, locations: Any) -> None:
    sol = plan.solution
    if not getattr(sol, "compliance", None):
        assert compliance_table(sol) is None
    rows = [{"site": "shanghai", "pue": 1.3, "max_pue": 1.25, "pue_ok": False, "utilization": 0.5,
             "min_utilization": 0.4, "utilization_ok": True, "green_share": None,
             "min_green_share": None, "green_ok": None}]
    before = sol.__dict__.get("compliance", MISSING)
    sol.compliance = rows  # type: ignore[attr-defined]
    try:
        table = compliance_table(sol)
        assert table is not None
        assert table.rows == [["shanghai", "1.30 ≤ 1.25 ✗", "50.0% ≥ 40.0% ✓", "-"]]
        assert "Compliance by site" in solution_page(sol, *locations(plan))
    finally:
        if before is MISSING:
            del sol.compliance  # type: ignore[attr-defined]
        else:
            sol.compliance = before  # type: ignore[attr-defined]


def test_table_cells_are_escaped() -> None:
    table = tables.Table("a <b>", ["x&y"], [["<script>alert(1)</script>"]], numeric={0})
    text = table_html(table)
    assert "<script>" not in text
    assert '<td class="n">&lt;script&gt;alert(1)&lt;/script&gt;</td>' in text


def test_without_plotly_the_page_says_how_to_install_it(national: Run, locations: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "plotly" or m.startswith("plotly.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "plotly", None)
    with pytest.raises(HtmlUnavailable, match=r"eastwest\[html\]"):
        solution_page(national.solution, *locations(national))


def test_the_core_does_not_import_plotly() -> None:
    """The extra is imported only when a page is made (``python -X importtime`` style)."""
    import subprocess

    code = ("import sys, optimizer.cli, optimizer.pipeline, optimizer.report.html; "
            "print(any(m == 'plotly' or m.startswith('plotly.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).parent)
    assert out.stdout.strip() == "False"


def test_flows_below_the_threshold_are_left_off_the_map(national: Run, locations: Any,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every national flow is above 0.2% of the largest; at a 5% threshold some are not."""
    from optimizer.report import html_map

    sol = national.solution
    mwh, _ = class_energy(sol)
    monkeypatch.setattr(html_map, "MIN_SHOWN", 0.05)
    drawn = [t for t in html_map.flow_map(sol, *locations(national))["data"]
             if t["mode"] == "markers" and t.get("name") in sol.classes]
    kept = int((mwh > 0.05 * mwh.max()).sum())
    assert 0 < kept < int((mwh > 0).sum())
    assert sum(len(t["x"]) for t in drawn) == kept

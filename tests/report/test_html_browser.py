"""The HTML report in a real browser: headless Chromium (Debian's chromium and chromium-driver)
driven by selenium loads the page from a file:// URL with every network request routed to a
closed port, reads the console, checks that the map and every chart rendered (their SVG exists
and has a size), hovers a site for its numbers, lists every request the page made (none may
leave file:// and data:) and saves a screenshot of the national page to
reports/html/national.png (the README shows it).

Skipped, with the reason, where Chromium, its driver, selenium or plotly is missing; .ci/run
installs Chromium so that CI runs it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optimizer.pipeline import Run
from optimizer.report.files import write_atomic

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "reports" / "html" / "national.png"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or DRIVER is None,
    reason="headless Chromium is not installed (apt-get install chromium chromium-driver)")

pytest.importorskip("plotly", reason="the html extra is not installed (pip install "
                                     "'eastwest[html]')")
webdriver = pytest.importorskip("selenium.webdriver",
                                reason="selenium is not installed (pip install -e '.[dev]')")

from optimizer.report.html import solution_page  # noqa: E402

# every chart drawn: plotly has laid it out and its SVG has a size
RENDERED = """
return Array.from(document.querySelectorAll('.plotly-graph-div')).map(d => {
  const svg = d.querySelector('svg.main-svg');
  const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
  return {id: d.id, laidOut: !!d._fullLayout, width: box.width, height: box.height,
          traces: d.querySelectorAll('g.trace').length, data: (d.data || []).length,
          fills: d.querySelectorAll('path.js-fill').length};
});"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1700", "--hide-scrollbars", "--lang=en-US",
                # nothing may reach the network: every request goes to a closed port
                "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def load(browser: Any, path: Path) -> list[dict[str, Any]]:
    """Open the page; wait for every chart; the charts' rendering facts."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")  # drop what earlier pages left
    browser.get_log("performance")
    browser.get(path.as_uri())
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && Array.from(document.querySelectorAll("
        "'.plotly-graph-div')).every(d => d._fullLayout && d.querySelector('svg.main-svg'))"))
    return list(browser.execute_script(RENDERED))


def requests(browser: Any) -> list[str]:
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def assert_clean(browser: Any, charts: list[dict[str, Any]], expected: set[str]) -> None:
    errors = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors
    assert {c["id"] for c in charts} == expected
    for chart in charts:
        assert chart["laidOut"], chart
        assert chart["width"] > 300, chart
        assert chart["height"] > 150, chart
        assert chart["traces"] == chart["data"] > 0, chart
    outside = [u for u in requests(browser) if not u.startswith(("file:", "data:", "about:"))]
    assert not outside, outside


def hover_text(browser: Any, div: str, trace_name: str, point: int) -> str:
    """What plotly shows on hovering a point of a trace (its hover label's text)."""
    return str(browser.execute_script(
        "const d = document.getElementById(arguments[0]);"
        "const i = d.data.findIndex(t => t.name === arguments[1]);"
        "Plotly.Fx.hover(d, [{curveNumber: i, pointNumber: arguments[2]}]);"
        "const h = d.querySelector('.hoverlayer');"
        "return h ? h.textContent : '';", div, trace_name, point))


def test_the_national_page_renders_offline(browser: Any, tmp_path: Path, national: Run,
                                           locations: Any) -> None:
    sol = national.solution
    path = tmp_path / "national.html"
    path.write_text(solution_page(sol, *locations(national)), encoding="utf-8")
    charts = load(browser, path)
    assert_clean(browser, charts, {"map-0", "load-0", "costs-0"})
    the_map = next(c for c in charts if c["id"] == "map-0")
    assert the_map["fills"] >= 1  # the province outline is drawn, filled
    biggest = int(np.argmax([s["capacity_mw"] for s in sol.site_table]))
    text = hover_text(browser, "map-0", "site (area ~ IT capacity)", biggest)
    assert sol.sites[biggest] in text
    assert f"IT capacity {sol.site_table[biggest]['capacity_mw']:,.0f} MW" in text
    browser.execute_script("Plotly.Fx.unhover(document.getElementById('map-0'));"
                           "window.scrollTo(0, 0);")
    write_atomic(SCREENSHOT, browser.get_screenshot_as_png())
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"




def test_a_plan_page_renders_its_build_and_cases(browser: Any, tmp_path: Path, small_plan: Run,
                                                 locations: Any) -> None:
    plan = small_plan
    sol = plan.solution
    assert sol.plan is not None
    assert sol.has_values
    path = tmp_path / "plan.html"
    path.write_text(solution_page(sol, *locations(plan)), encoding="utf-8")
    charts = load(browser, path)
    assert_clean(browser, charts, {"map-0", "load-0", "costs-0", "plan-0", "plan-1"})
    case = next(c for c in sol.cases if (c["year"], c["scenario"]) == ("2030", "dear"))
    text = hover_text(browser, "plan-1", "dear", 1)
    assert "2030 / dear" in text, text
    assert "probability 0.4" in text, text
    assert f"weight {case['weight']:.3g}" in text, text

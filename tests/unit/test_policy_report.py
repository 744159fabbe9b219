"""The version-2 report: the compliance table, the policy lines of §8 and the CSV tables.

The numbers come from the hand-derived cases of ``test_policy_families.py``: 10 MWh of load at
one site with 2 MW of free renewable power and the rest from the grid at 50; a 50% green-share
floor met with 3 certificates at 30 (90 a year); the floor costs 30 a MWh of green energy, 3
a percentage point.
"""

from __future__ import annotations

import copy
import csv
import io
from typing import Any

import pytest
from rich.console import Console

from optimizer.backends.base import SolveOptions, Status
from optimizer.interpret import Solution
from optimizer.load import parse
from optimizer.pipeline import solve_document
from optimizer.report import console, markdown
from optimizer.report.contents import all_tables
from optimizer.report.files import csv_tables
from optimizer.report.tables import policy_lines, verdict

HERE = [30.0, 120.0]


def instance(version: int = 2, **at_site: Any) -> dict[str, Any]:
    return {
        "version": version, "name": "report",
        "periods": {"count": 1},
        "regions": [{"id": "r", "location": HERE, "demand": {"k": 10}}],
        "sites": [{"id": "s", "location": HERE, "capacity_mw": 100, "pue": 1.0, "price": 50,
                   "renewable_mw": 2, **at_site}],
        "classes": [{"id": "k", "unmet_penalty": 1000}],
        "policy": {"certificate_price": 30} if version >= 2 else {},
    }


def solve(data: dict[str, Any]) -> Solution:
    sol = solve_document(parse(copy.deepcopy(data)), SolveOptions(solver="clp")).solution
    assert sol.status is Status.OPTIMAL
    return sol


def row(**changes: Any) -> dict[str, Any]:
    base = {"site": "s", "pue": 1.3, "max_pue": None, "pue_ok": None, "utilization": 0.5,
            "min_utilization": None, "utilization_ok": None, "green_share": 0.7,
            "min_green_share": None, "green_ok": None}
    return {**base, **changes}


def test_a_verdict_says_what_is_short_and_by_how_much() -> None:
    assert verdict(row()) == "no rule set"
    assert verdict(row(max_pue=1.35, pue_ok=True)) == "compliant"
    assert verdict(row(max_pue=1.25, pue_ok=False)) == "PUE 0.05 over the cap"
    assert verdict(row(min_utilization=0.6, utilization_ok=False, min_green_share=0.8,
                       green_ok=False)) == ("utilisation short by 10.0 points; green share "
                                            "short by 10.0 points")
    # a lost site (utilization_ok None) is not short of a floor it does not have
    assert verdict(row(min_utilization=0.6, utilization_ok=None)) == "compliant"


def test_the_compliance_table_and_policy_lines_of_a_version_2_solution() -> None:
    sol = solve(instance(min_green_share=0.5, max_pue=1.2))
    tables = {t.title: t for t in all_tables(sol)}
    assert tables["Policy compliance"].rows == [
        ["s", "1.000", "1.20", "10.0%", "-", "50.0%", "50.0%", "compliant"]]
    assert policy_lines(sol) == [
        "Certificates at 30.0 CNY/MWh: 3.0 MWh bought (90 CNY a year) to meet the green-share "
        "floors; green share 50.0% with them, 20.0% from renewable power alone.",
        "The 50% green-share floor at s costs 3 CNY a year per percentage point (each MWh of "
        "green energy it requires costs 30.0 CNY)."]
    totals = dict((r[0], r[1]) for r in tables["Totals (a year)"].rows)
    assert (totals["certificates bought"], totals["water"]) == ("3.0 MWh", "0 m3")
    text = markdown.render(sol)
    assert "## Policy compliance" in text
    assert "| s | 1.000 | 1.20 | 10.0% | - | 50.0% | 50.0% | compliant |" in text
    out = Console(width=160, record=True, file=io.StringIO())
    console.render(sol, out)
    assert "Policy compliance" in out.export_text()
    compliance = list(csv.DictReader(io.StringIO(csv_tables(sol)["compliance.csv"])))
    assert compliance == [{"site": "s", "pue": "1.0", "max_pue": "1.2", "pue_ok": "True",
                           "utilization": "0.1", "min_utilization": "", "utilization_ok": "",
                           "green_share": "0.5", "min_green_share": "0.5", "green_ok": "True"}]


def test_no_compliance_table_without_a_rule_nor_in_version_1() -> None:
    v1 = solve(instance(version=1))
    assert "Policy compliance" not in [t.title for t in all_tables(v1)]
    assert "compliance.csv" not in csv_tables(v1)
    assert "water" not in dict((r[0], r[1]) for t in all_tables(v1) if t.title.startswith("Totals")
                               for r in t.rows)
    assert policy_lines(v1) == []
    v2 = solve(instance())
    assert "Policy compliance" not in [t.title for t in all_tables(v2)]
    assert policy_lines(v2) == ["Certificates at 30.0 CNY/MWh: none bought (no floor needs them)."]


@pytest.mark.parametrize("water_price", [0, 2])
def test_the_water_line(water_price: float) -> None:
    """WUE 0.5 at 10 MWh: 5 m3; at 2 a m3, 10 a year."""
    data = instance(wue=0.5)
    data["policy"] = {"water_price": water_price}
    lines = policy_lines(solve(data))
    assert lines == (["Water drawn: 5 m3 a year, at 2.00 CNY/m3: 10 CNY a year."] if water_price
                     else ["Water drawn: 5 m3 a year."])

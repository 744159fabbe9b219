"""Pareto fronts of cost against carbon on a plan (version 2 with ``planning``), derived by hand.

On a plan the front's carbon is the horizon's expected total, ``sum_c span x probability x
carbon_c`` (``totals.carbon_t``), and its cost the discounted objective. The caps must bound that
same total: a case's ``policy.carbon_cap_t`` caps each case a year, another front.

Two sites at the region's place, 10 MW for one hour (weight 1, so 10 MWh a year to serve; the
penalty 1,000 CNY/MWh), no carbon price: ``dirty`` 50 CNY/MWh at 1 t/MWh, ``clean`` 80 CNY/MWh
at 0 t. Moving a MWh from dirty to clean in a case of cost weight w (discount x probability) and
carbon factor f (span x probability) removes f t of the horizon's carbon for 30 w CNY:
30 w / f CNY per t. The cheapest tonnes go first.

SCENARIOS: one year of span 2, discount rate 0, scenarios ``normal`` (p 0.6) and ``shock``
(p 0.4, clean at 110 CNY/MWh). w = f = 1.2 and 0.8: normal removes up to 12 t at 30 CNY/t,
shock 8 t at 60 CNY/t.

    min cost:     1.2 x 500 + 0.8 x 500 = 1,000 CNY at 12 + 8 = 20 t
    min carbon:   1.2 x 800 + 0.8 x 1,100 = 1,840 CNY at 0 t
    caps 5, 10, 15 t (3 points): cap 5 removes 15 t, normal's 12 at 30 (+360) and 3 of
                  shock's at 60 (+180): 1,540 CNY, price 60; cap 10 removes 10 t of normal's
                  (+300): 1,300 CNY, price 30; cap 15 removes 5 (+150): 1,150 CNY, price 30
    knee (cost / 840 above 1,000, carbon / 20): 1 - n1 - n2 = 0.107, 0.143, 0.071: cap 2
    per case (each case at most the cap a year, the wrong reading): caps 15 and 10 bind no case
                  (1,000 CNY, 20 t); cap 5 moves 5 MWh in each: 1,000 + 180 + 240 = 1,420 CNY
                  at 10 t, twice the cap

YEARS: years 2030 and 2031 of span 1, discount rate 1 (D = 1 and 0.5), one scenario. w = 1 and
0.5, f = 1 and 1: 2031 removes up to 10 t at 15 CNY/t, 2030 10 t at 30 CNY/t.

    min cost:     500 + 250 = 750 CNY at 10 + 10 = 20 t
    min carbon:   800 + 400 = 1,200 CNY at 0 t
    caps 20/3, 40/3 t (2 points): cap 40/3 removes 20/3 t of 2031's, +100 = 850 CNY, price 15
                  (discounted CNY per t); cap 20/3 removes 2031's 10 t (+150) and 10/3 t of
                  2030's (+100) = 1,000 CNY, price 30
    per case: cap 40/3 binds no year (750 CNY, 20 t); cap 20/3 moves 10/3 MWh in each year:
                  750 + 100 + 50 = 900 CNY at 40/3 t, twice the cap
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_pareto import goal, kpis
from test_pareto_water import HERE, assert_points, one_city

from optimizer.backends.base import SolveOptions
from optimizer.records.results import second_value
from optimizer.studies.base import prepare_base
from optimizer.studies.pareto import run_pareto

REL = 1e-6


def _site(sid: str, price: float, intensity: float) -> dict[str, Any]:
    return {"id": sid, "location": HERE, "capacity_mw": 10, "pue": 1.0, "price": price,
            "carbon_intensity": intensity}


ONE = one_city("plan-carbon", [_site("dirty", 50, 1.0), _site("clean", 80, 0.0)])
SCENARIOS: dict[str, Any] = {**copy.deepcopy(ONE), "planning": {
    "years": [{"id": "2030", "year": 2030, "span": 2}],
    "scenarios": [{"id": "normal", "probability": 0.6},
                  {"id": "shock", "probability": 0.4, "set": ["sites[clean].price=110"]}]}}
YEARS: dict[str, Any] = {**copy.deepcopy(ONE), "planning": {
    "discount_rate": 1.0,
    "years": [{"id": "2030", "year": 2030, "span": 1}, {"id": "2031", "year": 2031, "span": 1}]}}
# (min cost, min carbon, caps 1..n): (cost CNY, carbon t, the cap's shadow price CNY/t)
BY_HAND: dict[str, tuple[dict[str, Any], list[tuple[float, float, float | None]]]] = {
    "scenarios": (SCENARIOS, [(1000.0, 20.0, None), (1840.0, 0.0, None), (1540.0, 5.0, 60.0),
                              (1300.0, 10.0, 30.0), (1150.0, 15.0, 30.0)]),
    "years": (YEARS, [(750.0, 20.0, None), (1200.0, 0.0, None), (1000.0, 20 / 3, 30.0),
                      (850.0, 40 / 3, 15.0)]),
}


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("case", sorted(BY_HAND))
def test_plan_carbon_front_caps_the_horizon_total(case: str, tmp_path: Path) -> None:
    data, expected = BY_HAND[case]
    points = len(expected) - 2
    pareto = run_pareto(prepare_base(_write(tmp_path, data)), "carbon", points, SolveOptions(),
                        tmp_path / "out")
    results = pareto.results
    assert [p.role for p in results] == ["min cost", "min carbon",
                                         *(f"cap {i}" for i in range(1, points + 1))]
    assert [p.result.status for p in results] == ["optimal"] * len(expected)
    assert_points(results, expected, "carbon", lambda g: g.carbon_bound_price)
    # capped by a bound row: the cases' own policy.carbon_cap_t untouched
    assert [p.result.overrides for p in results] == [()] * len(expected)
    assert [p.on_front for p in results] == [True] * len(expected)
    if case == "scenarios":
        assert [p.role for p in results if p.knee] == ["cap 2"]


def test_the_horizon_cap_adds_to_each_cases_own(tmp_path: Path) -> None:
    """SCENARIOS with ``policy.carbon_cap_t: 8`` (each case at most 8 t a year, which shock
    meets by moving 2 MWh at 60 CNY/t): min cost 1,000 + 1.2 x 60 + 0.8 x 120 = 1,168 CNY at
    1.2 x 8 + 0.8 x 8 = 16 t. The one cap, 8 t, removes 8 more, all from normal (it has 9.6 t
    at 30 CNY/t): 1,168 + 240 = 1,408 CNY, price 30, while shock stays at its own cap (8 t a
    year, 6.4 t of the horizon's 8). Replacing the cases' cap by the front's 8 t a year would
    give the least-cost point again (1,168 CNY at 16 t)."""
    data = copy.deepcopy(SCENARIOS)
    data["policy"]["carbon_cap_t"] = 8
    pareto = run_pareto(prepare_base(_write(tmp_path, data)), "carbon", 1, SolveOptions(),
                        tmp_path / "out")
    low_cost, _, cap = pareto.results
    assert kpis(low_cost).cost == pytest.approx(1168.0, rel=REL)
    assert second_value(low_cost.result, "carbon") == pytest.approx(16.0, rel=REL)
    assert cap.cap == pytest.approx(8.0, rel=REL)
    assert kpis(cap).cost == pytest.approx(1408.0, rel=REL)
    assert second_value(cap.result, "carbon") == pytest.approx(8.0, rel=REL)
    assert goal(cap).carbon_bound_price == pytest.approx(30.0, rel=REL)


def test_plan_carbon_front_on_the_command_line(cli: Callable[..., Any], tmp_path: Path) -> None:
    """The table says what cost and carbon are on a plan; the CSV's implied carbon price is
    the horizon cap's (the extremes have none)."""
    out = tmp_path / "front"
    ran = cli(["pareto", _write(tmp_path, SCENARIOS), "--objectives", "cost,carbon",
               "--points", "3", "--out", out, "--no-plots"])
    assert ran.code == 0, ran.stderr
    assert "Pareto front: cost vs carbon (5 of 5 points on the front)" in ran.stdout
    text = (out / "results.md").read_text()
    assert "cost is the plan's discounted expected cost over its horizon" in text
    assert "carbon its expected total over the horizon" in text
    assert "whole annual cost" not in text
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    assert [r["role"] for r in rows] == ["min carbon", "cap 1", "cap 2", "cap 3", "min cost"]
    assert [float(r["cap_t"]) for r in rows[1:4]] == pytest.approx([5, 10, 15], rel=REL)
    assert [float(r["carbon_t"]) for r in rows] == pytest.approx([0, 5, 10, 15, 20], abs=1e-4)
    assert [float(r["cost"]) for r in rows] == pytest.approx([1840, 1540, 1300, 1150, 1000],
                                                             rel=REL)
    assert [float(r["carbon_price"]) for r in rows[1:4]] == pytest.approx([60, 30, 30])
    assert rows[0]["carbon_price"] == rows[4]["carbon_price"] == ""


def test_plan_carbon_front_html_axes(cli: Callable[..., Any], tmp_path: Path,
                                     figures: Any) -> None:
    pytest.importorskip("plotly")
    page = tmp_path / "front.html"
    ran = cli(["pareto", _write(tmp_path, SCENARIOS), "--objectives", "cost,carbon", "--points",
               "1", "--out", tmp_path / "o", "--no-plots", "-q", "--html", page])
    assert ran.code == 0, ran.stderr
    _, layout = figures(page.read_text(encoding="utf-8"))["front-0"]
    assert layout["xaxis"]["title"]["text"] == "carbon (kt CO2, expected over the horizon)"
    assert layout["yaxis"]["title"]["text"].startswith("discounted horizon cost")

"""Pareto fronts of cost against water (version 2, DESIGN.md §8: ``wue``), derived by hand.

THIRST: one region, 10 MW of demand for one hour (weight 1), three sites at its place (no
latency, no carbon), each able to take it all::

    thirsty  50 CNY/MWh  WUE 2.0 m3/MWh      mid  60 CNY/MWh  WUE 1.2      dry  120, WUE 0

    min cost:   all at thirsty: 500 CNY, 20 m3
    min water:  all at dry: 0 m3, 1,200 CNY (demand served: the penalty is 1,000 CNY/MWh)
    between:    thirsty -> mid saves 0.8 m3 for 10 CNY a MWh: 12.5 CNY/m3, down to 12 m3 at
                600 CNY (all at mid); then mid -> dry saves 1.2 m3 for 60 CNY: 50 CNY/m3
    3 caps at 5, 10, 15 m3 (evenly between 0 and 20): 600 + 50 * 7 = 950 CNY, 600 + 50 * 2
                = 700 CNY, 500 + 12.5 * 5 = 562.5 CNY, each cap's shadow price 50, 50, 12.5
    knee (normalised: cost / 700 above 500, water / 20): 1 - n1 - n2 is 0.107, 0.214, 0.161
                for the caps at 5, 10 and 15: the cap at 10 m3 ("cap 2")

The same as a plan (PLAN): one year of span 3, discount rate 0, two scenarios of probability
0.5, the second ``dry`` with every WUE x 1.5 (thirsty 3.0, mid 1.8). Costs and water both weigh
each case by span x probability = 1.5 (no discounting), so per 1.5: min cost 1,000 CNY at
20 + 30 = 50 m3; min water 0 m3 at 2,400 CNY. Savings sorted by price: dry thirsty -> mid 1.2 m3
for 10 (8.33 CNY/m3, 12 m3), normal thirsty -> mid (12.5 CNY/m3, 8 m3), dry mid -> dry 1.8 m3
for 60 (33.3 CNY/m3, 18 m3), normal mid -> dry (50 CNY/m3, 12 m3). Horizon values x 1.5: ends
(1,500 CNY, 75 m3) and (3,600 CNY, 0 m3); caps 18.75, 37.5, 56.25 m3 save 37.5, 25, 12.5 (per
1.5): 1.5 x (1,000 + 100 + 100 + 17.5 x 33.3) = 2,675, 1.5 x (1,200 + 5 x 33.3) = 2,050 and
1.5 x (1,100 + 0.5 x 12.5) = 1,659.375 CNY, shadow prices 33.3, 33.3, 12.5 CNY/m3.
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

import optimizer as ew
from optimizer import engine
from optimizer.backends.base import RawResult, SolveOptions, Status
from optimizer.load import parse
from optimizer.pipeline import solve_document
from optimizer.records.inputs import Goal
from optimizer.records.results import FrontPoint, GoalValues, Second, second_value
from optimizer.studies.base import prepare_base
from optimizer.studies.goals import GoalStrategy, goal_values
from optimizer.studies.pareto import run_pareto

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny.yaml"
HERE = [31.0, 121.0]


def _site(sid: str, price: float, wue: float) -> dict[str, Any]:
    return {"id": sid, "location": HERE, "capacity_mw": 10, "pue": 1.0, "price": price,
            "carbon_intensity": 0.0, "wue": wue}


def one_city(name: str, sites: list[dict[str, Any]]) -> dict[str, Any]:
    """A version-2 instance: one region at HERE, 10 MW of ``work`` for one hour (penalty
    1,000 CNY/MWh), ``sites``, no carbon price."""
    return {"version": 2, "name": name, "periods": {"count": 1, "hours": 1, "weight": 1},
            "regions": [{"id": "city", "location": HERE, "demand": {"work": 10}}],
            "sites": sites, "classes": [{"id": "work", "unmet_penalty": 1000}],
            "policy": {"carbon_price": 0}}


THIRST = one_city("thirst", [_site("thirsty", 50, 2.0), _site("mid", 60, 1.2),
                             _site("dry", 120, 0.0)])
PLAN: dict[str, Any] = {**copy.deepcopy(THIRST), "planning": {
    "years": [{"id": "2030", "year": 2030, "span": 3}],
    "scenarios": [{"id": "normal", "probability": 0.5},
                  {"id": "dry", "probability": 0.5, "set": ["sites[*].wue*=1.5"]}]}}
# (min cost, min water, caps 1-3): (cost CNY, water m3, cap's shadow price CNY/m3)
BY_HAND = {
    "single": [(500.0, 20.0, None), (1200.0, 0.0, None), (950.0, 5.0, 50.0),
               (700.0, 10.0, 50.0), (562.5, 15.0, 12.5)],
    "plan": [(1500.0, 75.0, None), (3600.0, 0.0, None), (2675.0, 18.75, 100 / 3),
             (2050.0, 37.5, 100 / 3), (1659.375, 56.25, 12.5)],
}
REL = 1e-6


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "thirst.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def assert_points(results: list[FrontPoint], expected: list[tuple[float, float, float | None]],
                  second: Second, price_of: Callable[[GoalValues], float | None]) -> None:
    """Each point's (cost, second objective, its cap's shadow price or None at the ends); the
    cap is the value, and the points serve all demand."""
    hi = expected[0][1]
    for point, (cost, value, price) in zip(results, expected, strict=True):
        assert kpis(point).cost == pytest.approx(cost, rel=REL), point.role
        assert second_value(point.result, second) == pytest.approx(value, rel=REL,
                                                                    abs=REL * hi), point.role
        assert kpis(point).unmet_mwh == pytest.approx(0.0, abs=1e-6)
        if price is None:
            assert point.cap is None
            assert price_of(goal(point)) is None
        else:
            assert point.cap == pytest.approx(value, rel=REL)
            assert price_of(goal(point)) == pytest.approx(price, rel=REL), point.role


@pytest.mark.parametrize(("case", "data"), [("single", THIRST), ("plan", PLAN)])
def test_cost_water_front_by_hand(case: str, data: dict[str, Any], tmp_path: Path) -> None:
    pareto = run_pareto(prepare_base(_write(tmp_path, data)), "water", 3, SolveOptions(),
                        tmp_path / "out")
    results = pareto.results
    assert [p.role for p in results] == ["min cost", "min water", "cap 1", "cap 2", "cap 3"]
    assert [p.result.status for p in results] == ["optimal"] * 5
    assert_points(results, BY_HAND[case], "water", lambda g: g.water_cap_price)
    assert [p.on_front for p in results] == [True] * 5
    assert [p.role for p in results if p.knee] == ["cap 2"]


def test_water_front_on_the_command_line(cli: Callable[..., Any], tmp_path: Path) -> None:
    """Either order of the pair; the table, CSV columns and plot say water in m3."""
    out = tmp_path / "front"
    ran = cli(["pareto", _write(tmp_path, THIRST), "--objectives", "water,cost", "--points",
               "3", "--out", out])
    assert ran.code == 0, ran.stderr
    assert "Pareto front: cost vs water (5 of 5 points on the front)" in ran.stdout
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    assert [r["role"] for r in rows] == ["min water", "cap 1", "cap 2", "cap 3", "min cost"]
    assert [float(r["water_m3"]) for r in rows] == pytest.approx([0, 5, 10, 15, 20], abs=1e-4)
    assert [float(r["cost"]) for r in rows] == pytest.approx([1200, 950, 700, 562.5, 500],
                                                             rel=REL)
    assert [float(r["water_price"]) for r in rows[1:4]] == pytest.approx([50, 50, 12.5])
    assert [r["knee"] for r in rows].count("True") == 1
    assert "cost vs water" in (out / "results.md").read_text()
    if (out / "plots").exists():  # matplotlib installed
        assert (out / "plots" / "pareto-water.png").read_bytes()[:4] == b"\x89PNG"


def test_water_front_html_axis(cli: Callable[..., Any], tmp_path: Path, figures: Any) -> None:
    pytest.importorskip("plotly")
    page = tmp_path / "front.html"
    for name, data, label in (("single", THIRST, "water (k m3 a year)"),
                              ("plan", PLAN, "water (k m3, expected over the horizon)")):
        ran = cli(["pareto", _write(tmp_path, data), "--objectives", "cost,water", "--points",
                   "3", "--out", tmp_path / name, "--no-plots", "-q", "--html", page])
        assert ran.code == 0, ran.stderr
        chart, layout = figures(page.read_text(encoding="utf-8"))["front-0"]
        assert layout["xaxis"]["title"]["text"] == label
        front = chart[[t["name"] for t in chart].index("Pareto front")]
        assert max(front["x"]) == pytest.approx(BY_HAND[name][0][1] / 1e3, rel=REL)


def test_water_needs_a_version_2_instance(cli: Callable[..., Any], tmp_path: Path,
                                          nothing_solved: list[str]) -> None:
    out = tmp_path / "o"
    ran = cli(["pareto", TINY, "--objectives", "cost,water", "--out", out])
    assert ran.code == 2
    assert f"{TINY}:3  version  --objectives cost,water needs a version-2 instance" in ran.stderr
    assert "tiny.yaml is version 1" in ran.stderr
    assert "Traceback" not in ran.stderr
    assert not out.exists()
    assert nothing_solved == []
    with pytest.raises(ew.InstanceError) as caught:
        ew.pareto(TINY, "water", points=1, out=tmp_path / "api")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.path) == (str(TINY), 3, ("version",))


def test_version_1_records_keep_their_fields(tmp_path: Path) -> None:
    """Water is recorded only where the model has it: a version-1 goal's point file has
    exactly the fields it had (no water_m3, no water_cap_price)."""
    pareto = run_pareto(prepare_base(TINY), "latency", 1, SolveOptions(), tmp_path / "out")
    data = pareto.results[0].result.to_json()["kpis"]
    assert "latency_mwh_ms" in data
    assert "water_m3" not in data
    assert "water_cap_price" not in data
    single = run_pareto(prepare_base(_write(tmp_path, THIRST)), "latency", 1, SolveOptions(),
                        tmp_path / "v2")
    assert single.results[0].result.to_json()["kpis"]["water_m3"] == pytest.approx(20.0,
                                                                                  rel=REL)


def test_a_second_step_without_a_solution_keeps_the_first(tmp_path: Path) -> None:
    """CBC called the 2030 plan's "least water at the least cost" step infeasible, which the
    first step's solution disproves: the point is then the first step's (500 CNY, all at
    thirsty: 20 m3, not the least water at that cost only because there is no other), with a
    note. Here the solver of the second step fails on purpose."""
    calls: list[str] = []

    def failing_second(lp: Any) -> RawResult:
        calls.append("solve")
        if len(calls) == 2:
            return RawResult(Status.INFEASIBLE, "test", "test", message="said infeasible")
        return engine.solve(lp, SolveOptions())

    goal_ = Goal("cost", then="water", hold_service=True)
    run = solve_document(parse(copy.deepcopy(THIRST)), SolveOptions(), failing_second,
                         strategy=GoalStrategy(goal_))
    assert calls == ["solve", "solve"]
    assert run.solution.status is Status.OPTIMAL
    assert run.solution.objective == pytest.approx(500.0, rel=1e-9)
    assert "least water at that cost not found (infeasible: said infeasible)" in run.raw.message
    assert any("its water not minimised" in n for n in run.solution.notes)
    values = goal_values(run, goal_)
    assert values.water_m3 == pytest.approx(20.0, rel=1e-9)
    assert values.goal_objective == pytest.approx(500.0, rel=1e-9)

"""Pareto fronts: monotone, non-dominated, extremes equal to the single-objective optima
(computed here independently of the study engine), the knee one of the points."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer import backends
from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.load import load
from optimizer.model import COST_CATEGORIES, formulate
from optimizer.pipeline import solve_document
from optimizer.records.results import FrontPoint, GoalValues, Kpis, second_value
from optimizer.studies.base import prepare_base
from optimizer.studies.pareto import run_pareto

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny.yaml"
REL = 1e-6


def independent_optimum(path: Path, category: str, overrides: list[str],
                        hold_unmet: float | None = None,
                        weights: dict[str, float] | None = None) -> float:
    """min of one cost category's row of the model's own cost matrix (with the price set to 1
    by ``overrides``), optionally with the unmet-penalty row held at ``hold_unmet``: the second
    objective built without the study engine's metric vectors. With ``weights``, minimise
    that weighted sum of categories instead, and return the category's value."""
    doc = load(path, overrides)
    lp = formulate(compile_instance(doc.instance))
    rows = lp.cost_matrix.toarray()
    value = rows[COST_CATEGORIES.index(category)]
    c = value if weights is None else sum(w * rows[COST_CATEGORIES.index(k)]
                                          for k, w in weights.items())
    if hold_unmet is not None:
        unmet = rows[COST_CATEGORIES.index("unmet")]
        lp = dataclasses.replace(
            lp, A=sp.vstack([lp.A, sp.csr_matrix(unmet[None, :])], format="csr"),
            row_lb=np.append(lp.row_lb, -np.inf), row_ub=np.append(lp.row_ub, hold_unmet))
    raw = backends.solve(dataclasses.replace(lp, c=c), SolveOptions())
    assert raw.status is Status.OPTIMAL
    assert raw.x is not None
    return float(value @ raw.x)


def kpis(point: FrontPoint) -> Kpis:
    assert point.result.kpis is not None
    return point.result.kpis


def goal(point: FrontPoint) -> GoalValues:
    """What a goal's point adds to its KPIs (carbon, latency, the latency cap's price)."""
    values = kpis(point).goal
    assert values is not None
    return values


def assert_front_properties(results: list[FrontPoint], second: str) -> None:
    front = sorted((r for r in results if r.on_front),
                   key=lambda r: second_value(r.result, second) or 0.0)
    assert len(front) >= 3
    f1 = [kpis(r).cost for r in front]
    f2 = [second_value(r.result, second) or 0.0 for r in front]
    scale = max(f1) - min(f1)
    # sorted by the second objective, cost never rises
    assert all(b <= a + 1e-6 * scale for a, b in zip(f1, f1[1:], strict=False))
    # no front point dominates another
    for i in range(len(front)):
        for j in range(len(front)):
            if i != j:
                assert not (f1[j] <= f1[i] and f2[j] <= f2[i]
                            and (f1[j] < f1[i] - 1e-6 * scale or f2[j] < f2[i] - 1e-9))
    knees = [r for r in results if r.knee]
    assert len(knees) == 1
    assert knees[0].on_front
    assert knees[0] in results


def test_cost_carbon_front(tradeoff: Path, tmp_path: Path) -> None:
    base = prepare_base(tradeoff)
    pareto = run_pareto(base, "carbon", 6, SolveOptions(), tmp_path / "out")
    results = pareto.results
    assert [r.result.status for r in results] == ["optimal"] * 8
    low_cost, low_carbon = results[0], results[1]
    # the min-cost end is the plain optimum; the tie between coal and coal_b is broken towards
    # less carbon (lexicographic), which the plain solve need not do
    plain = solve_document(load(tradeoff)).solution
    assert math.isclose(kpis(low_cost).cost, plain.objective or 0.0, rel_tol=REL)
    assert math.isclose(kpis(low_cost).cost, 1200.0, rel_tol=REL)
    assert math.isclose(kpis(low_cost).carbon_t, 23.2, rel_tol=REL)
    # independently: cost plus a hair of carbon (priced 1, weighted 1e-3: far below the 20
    # CNY/MWh any other choice costs, far above the solver's tolerance)
    tie_broken = independent_optimum(
        tradeoff, "carbon", ["policy.carbon_price=1"],
        weights={**{k: 1.0 for k in COST_CATEGORIES if k != "carbon"}, "carbon": 1e-3})
    assert math.isclose(kpis(low_cost).carbon_t, tie_broken, rel_tol=REL)
    # the min-carbon end (demand still served) equals the least carbon, computed independently
    least = independent_optimum(tradeoff, "carbon", ["policy.carbon_price=1"], hold_unmet=0.0)
    assert math.isclose(kpis(low_carbon).carbon_t, least, rel_tol=REL, abs_tol=1e-6)
    assert math.isclose(least, 8.7, rel_tol=REL)
    assert math.isclose(kpis(low_carbon).cost, 2020.0, rel_tol=REL)
    assert kpis(low_carbon).unmet_mwh < 1e-6
    # caps: evenly spaced between the ends, each binding, with its implied carbon price
    caps = [r.cap for r in results[2:]]
    assert np.allclose(np.diff([8.7, *caps, 23.2]), (23.2 - 8.7) / 7)
    for r in results[2:]:
        assert r.cap is not None
        assert kpis(r).carbon_t <= r.cap * (1 + 1e-9)
    # the implied carbon price (the cap's shadow price) is positive and rises as the cap tightens
    prices = [kpis(r).carbon_cap_price or 0.0 for r in results[2:]]
    assert all(p > 0 for p in prices)
    assert all(a >= b - 1e-6 for a, b in zip(prices, prices[1:], strict=False))
    assert prices[-1] == pytest.approx(40.0)  # at the loose end gas replaces coal: 20 / 0.5
    assert_front_properties(results, "carbon")
    knee = next(r for r in results if r.knee)
    assert knee.role.startswith("cap")


def test_free_service_is_the_plain_model_front(tradeoff: Path, tmp_path: Path) -> None:
    """Without holding service, the least carbon is to serve nothing (at the unmet penalty)."""
    base = prepare_base(tradeoff)
    pareto = run_pareto(base, "carbon", 3, SolveOptions(), tmp_path / "out", service="free")
    low_carbon = pareto.results[1]
    least = independent_optimum(tradeoff, "carbon", ["policy.carbon_price=1"])
    assert math.isclose(kpis(low_carbon).carbon_t, least, abs_tol=1e-6)
    assert least == pytest.approx(0.0, abs=1e-6)
    assert kpis(low_carbon).unmet_mwh == pytest.approx(24.0)
    assert kpis(low_carbon).cost == pytest.approx(24_000.0)
    assert_front_properties(pareto.results, "carbon")


def test_cost_latency_front(tmp_path: Path) -> None:
    """tiny: batch work may go to the far cheap site (27 ms) or the near dear one (2 ms)."""
    base = prepare_base(TINY)
    pareto = run_pareto(base, "latency", 4, SolveOptions(), tmp_path / "out")
    assert [r.result.status for r in pareto.results] == ["optimal"] * 6
    low_cost, low_latency = pareto.results[0], pareto.results[1]
    plain = solve_document(load(TINY)).solution
    assert math.isclose(kpis(low_cost).cost, plain.objective or 0.0, rel_tol=REL)
    unmet_cost = plain.costs["unmet"]
    least = independent_optimum(TINY, "latency", ["classes[*].latency_cost=1"],
                                hold_unmet=unmet_cost * (1 + 1e-9))
    assert math.isclose(goal(low_latency).latency_mwh_ms, least, rel_tol=REL)
    assert goal(low_latency).latency_mwh_ms < goal(low_cost).latency_mwh_ms
    assert kpis(low_latency).cost > kpis(low_cost).cost
    for r in pareto.results[2:]:
        assert r.cap is not None
        assert (goal(r).latency_mwh_ms or 0.0) <= r.cap * (1 + 1e-9)
        assert (goal(r).latency_cap_price or 0.0) > 0
    assert_front_properties(pareto.results, "latency")


def test_pareto_command(tradeoff: Path, cli: Callable[..., Any], tmp_path: Path) -> None:
    out = tmp_path / "front"
    ran = cli(["pareto", tradeoff, "--objectives", "cost,carbon", "--points", "4",
               "--out", out, "--no-plots"])
    assert ran.code == 0, ran.stderr
    assert "Pareto front: cost vs carbon" in ran.stdout
    assert "◆ knee" in ran.stdout
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    assert len(rows) == 6
    carbon = [float(r["carbon_t"]) for r in rows]
    assert carbon == sorted(carbon)
    assert [r["knee"] for r in rows].count("True") == 1
    assert {"cost", "carbon_t", "cap_t", "carbon_price", "on_front", "unmet_mwh",
            "cost_energy"} <= set(rows[0])
    assert "## Knee" in (out / "results.md").read_text()
    again = cli(["pareto", tradeoff, "--points", "4", "--out", out, "--no-plots"])
    assert again.code == 0
    assert "0 solved (serial), 6 from cache" in again.stderr


def test_pareto_plot(tradeoff: Path, cli: Callable[..., Any], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "front"
    ran = cli(["pareto", tradeoff, "--points", "2", "--out", out, "-q"])
    assert ran.code == 0, ran.stderr
    assert (out / "plots" / "pareto-carbon.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "plots" / "pareto-carbon.svg").exists()


def test_pareto_pool_equals_serial(tradeoff: Path, cli: Callable[..., Any],
                                   tmp_path: Path) -> None:
    serial = cli(["pareto", tradeoff, "--points", "3", "--out", tmp_path / "s", "--no-plots"])
    pooled = cli(["pareto", tradeoff, "--points", "3", "--out", tmp_path / "p", "--no-plots",
                  "-j", "2"])
    assert serial.code == pooled.code == 0, pooled.stderr
    rows_s = list(csv.DictReader(io.StringIO((tmp_path / "s" / "results.csv").read_text())))
    rows_p = list(csv.DictReader(io.StringIO((tmp_path / "p" / "results.csv").read_text())))
    assert [r["knee"] for r in rows_s] == [r["knee"] for r in rows_p]
    for a, b in zip(rows_s, rows_p, strict=True):
        assert a["status"] == b["status"]
        assert float(a["cost"]) == pytest.approx(float(b["cost"]), rel=1e-12)
        assert float(a["carbon_t"]) == pytest.approx(float(b["carbon_t"]), rel=1e-12)


def test_pareto_failures_and_usage(cli: Callable[..., Any], tmp_path: Path) -> None:
    for pair in ("cost,speed", "cost,cost", "carbon,water", "cost"):
        ran = cli(["pareto", TINY, "--objectives", pair, "--out", tmp_path / "o"])
        assert ran.code == 2
        assert "cost,carbon, cost,latency or cost,water, not" in ran.stderr
    assert cli(["pareto", TINY, "--service", "maybe", "--out", tmp_path / "o"]).code == 2
    # hard web demand beyond the near site's capacity: nothing is feasible, one error row
    ran = cli(["pareto", TINY, "--set", "classes[web].unmet_penalty=null", "--set",
               "sites[near].capacity_mw=1", "--out", tmp_path / "inf", "--no-plots"])
    assert ran.code == 3
    rows = list(csv.DictReader(io.StringIO((tmp_path / "inf" / "results.csv").read_text())))
    assert [r["status"] for r in rows] == ["infeasible"]

"""``optimizer.sensitivity``: binding constraints ranked by shadow price, checked by hand."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from optimizer.load import parse
from optimizer.pipeline import Run, run, solve_document
from optimizer.report.tables import policy_lines
from optimizer.sensitivity import NOTE, Finding, sensitivity, table

TINY = Path(__file__).parents[2] / "instances" / "tiny.yaml"
REL = 1e-6


def _instance(sites: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """One region `r` at (30, 110) with 10 MW of class `c`; one period of 1 h, weight 1."""
    data: dict[str, Any] = {
        "version": 1, "name": "hand", "periods": {"count": 1},
        "regions": [{"id": "r", "location": [30.0, 110.0], "demand": {"c": 10}}],
        "sites": [{"location": [30.0, 110.0], "capacity_mw": 100, "pue": 1.0, **s}
                  for s in sites],
        "classes": [{"id": "c"}],
    }
    data.update(extra)
    return data


def _solve(data: dict[str, Any]) -> Run:
    return solve_document(parse(data))


def _by_kind(findings: list[Finding]) -> dict[tuple[str, str], float]:
    return {(f.kind, f.subject): f.value for f in findings if f.ranked}


def test_tiny_capacity_price() -> None:
    """tests/unit/test_tiny.py: near's capacity price is 683 CNY per MW-year (one more MW in t1
    replaces 1 MW unmet at 1000 by 317); far never binds. Relaxing web's 10 ms limit to 15 ms
    does not reach far (~27 ms): no latency finding."""
    findings = sensitivity(run(TINY))
    values = _by_kind(findings)
    assert values == pytest.approx({("capacity", "near"): 683.0}, rel=REL)
    near = findings[0]
    assert near.unit == "CNY per MW-year"
    assert "near" in near.sentence
    assert "683" in near.sentence


def test_carbon_cap_price_and_ranking() -> None:
    """One region, 10 MW for one hour a year; carbon price 0; cap 7 t.

    Sites (capacity 100 unless said, PUE 1, all at the region):
    - a: price 100, ci 1.0;  b: price 150, ci 0.5;  c: price 50, ci 0, capacity 2.
    c is cheapest and clean: it serves 2 MW (full). The other 8 MW split between a and b with
    x_a + x_b = 8, x_a + 0.5 x_b <= 7: x_a = 6, x_b = 2 (the cap binds; cost 100+600+300 = 1000).
    With both a and b in use, the carbon price λ equalises them: 100 + λ*1 = 150 + λ*0.5, so
    λ = (150 - 100) / (1.0 - 0.5) = 100 CNY per tonne (price difference / intensity difference).
    The marginal MW of demand costs 200 (either site at that λ), so one more MW at c (cost 50,
    no carbon) saves 200 - 50 = 150. a and b have spare capacity: not binding.
    Ranking by |value|: capacity c (150), then the carbon cap (100).
    """
    data = _instance(
        [{"id": "a", "price": 100, "carbon_intensity": 1.0},
         {"id": "b", "price": 150, "carbon_intensity": 0.5},
         {"id": "c", "price": 50, "carbon_intensity": 0.0, "capacity_mw": 2}],
        policy={"carbon_cap_t": 7},
    )
    result = _solve(data)
    assert result.solution.objective == pytest.approx(1000.0, rel=REL)
    findings = sensitivity(result, relax_latency=False)
    ranked = [f for f in findings if f.ranked]
    assert [(f.kind, f.subject) for f in ranked] == [("capacity", "c"), ("carbon_cap", "policy")]
    assert [f.value for f in ranked] == pytest.approx([150.0, 100.0], rel=REL)
    assert ranked[1].unit == "CNY per tonne-year"
    assert all(abs(a.value) >= abs(b.value) for a, b in zip(ranked, ranked[1:], strict=False))
    assert [f.kind for f in sensitivity(result, relax_latency=False, top=1)] == ["capacity"]
    assert policy_lines(result.solution) == [
        "Emissions 7.0 t CO2 against a cap of 7.0 t CO2. The cap binds: its implied carbon "
        "price is 100.0 CNY/t — one more tonne of allowed emissions would save 100.0 CNY a year."]


def test_latency_limit_saving() -> None:
    """Class c (10 MW, one hour a year) has a 20 ms limit. `near` (at the region: 2 ms) costs
    200 CNY/MWh; `far` costs 100 but is 22 ms away (an explicit latency pair): out of reach.
    Relaxing the limit by 5 ms (to 25) lets all 10 MW go to far: saving 10 * (200 - 100) = 1000
    CNY a year. A 1 ms step (to 21 ms) still does not reach far: no finding."""
    data = _instance(
        [{"id": "near", "price": 200}, {"id": "far", "price": 100}],
        network={"latency": {"pairs": [{"region": "r", "site": "far", "ms": 22}]}},
    )
    data["classes"] = [{"id": "c", "max_latency_ms": 20}]
    result = _solve(data)
    assert result.solution.objective == pytest.approx(2000.0, rel=REL)
    findings = sensitivity(result)
    assert _by_kind(findings) == pytest.approx({("latency_limit", "c"): 1000.0}, rel=REL)
    (finding,) = findings
    assert finding.unit == "CNY a year per +5 ms"
    assert "from 20 to 25 ms" in finding.sentence
    assert _by_kind(sensitivity(result, latency_step_ms=1.0)) == {}


def test_renewable_floor_price() -> None:
    """One site: grid at 100 CNY/MWh, 10 MW of renewable at 150; 10 MW of demand for one hour,
    PUE 1, no carbon; floor 50%. Renewable is dearer, so it is used exactly at the floor:
    v = 5, g = 5 (cost 500 + 750 = 1250). At 49% v = 4.9: 0.1 MWh moves back to the grid,
    saving 0.1 * (150 - 100) = 5 CNY per percentage point."""
    data = _instance([{"id": "a", "price": 100, "renewable_mw": 10, "renewable_price": 150}],
                     policy={"min_renewable_share": 0.5})
    result = _solve(data)
    assert result.solution.objective == pytest.approx(1250.0, rel=REL)
    (finding,) = sensitivity(result, relax_latency=False)
    assert finding.kind == "renewable_floor"
    assert finding.value == pytest.approx(5.0, rel=REL)
    assert "from 50% to 49%" in finding.sentence
    # moving one MWh from grid to renewable supply costs 150 - 100 = 50
    (line,) = policy_lines(result.solution)
    assert line.endswith("The floor binds: it costs 50.0 CNY for each MWh of energy that must "
                         "move from grid to renewable supply to meet it.")


def test_no_duals_does_not_crash() -> None:
    result = run(TINY)
    no_duals = dataclasses.replace(result, raw=dataclasses.replace(result.raw, duals=None))
    findings = sensitivity(no_duals)
    assert not [f for f in findings if f.ranked]
    notes = [f for f in findings if f.kind == NOTE]
    assert len(notes) == 1
    assert "unavailable" in notes[0].sentence
    assert table(findings).rows[0][0] == "-"


def test_table_columns() -> None:
    findings = sensitivity(run(TINY), relax_latency=False)
    t = table(findings, "CNY")
    assert t.columns == ["rank", "constraint", "subject", "shadow price/value", "unit",
                         "in plain words"]
    assert t.rows == [["1", "IT capacity", "near", "683", "CNY per MW-year",
                       findings[0].sentence]]

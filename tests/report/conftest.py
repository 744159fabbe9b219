"""Fixtures for the HTML report's tests: the national solve, a small solved plan, and the
[lat, lon] locations of a run's regions and sites (what the CLI passes the report)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from optimizer.load import parse_text
from optimizer.pipeline import Run, run, solve_document

# two regions, two sites (one a candidate with halls), two classes, two years, two scenarios
PLAN = """
version: 2
name: small-plan
periods: {count: 4, hours: 6, weight: 365}
regions:
  - {id: beijing, location: [39.9, 116.4], demand: {web: [30, 50, 60, 40], batch: 40}}
  - {id: guangzhou, location: [23.1, 113.3], demand: {web: [20, 30, 40, 30], batch: 10}}
sites:
  - {id: shanghai, location: [31.2, 121.5], capacity_mw: 120, pue: 1.3, price: 400}
  - {id: zhongwei, location: [37.5, 105.2], zone: west, capacity_mw: 0, pue: 1.1, price: 200,
     renewable_mw: [0, 40, 60, 10], renewable_price: 100, open_cost: 1.0e6,
     expansions: [{id: hall, size_mw: 40, annual_cost: 2.0e6, max_units: 4}]}
classes:
  - {id: web, max_latency_ms: 40, unmet_penalty: 1.0e4}
  - {id: batch, unmet_penalty: 1.0e4}
planning:
  discount_rate: 0.05
  years:
    - {id: "2026", year: 2026, span: 2}
    - {id: "2030", year: 2030, span: 4, set: ["regions[*].demand.batch*=2"]}
  scenarios:
    - {id: central, probability: 0.6}
    - {id: dear, probability: 0.4, set: ["sites[*].price*=1.5"]}
"""


Locations = Callable[[Run], tuple[np.ndarray, np.ndarray]]


@pytest.fixture(scope="session")
def national() -> Run:
    return run()


@pytest.fixture(scope="session")
def small_plan() -> Run:
    return solve_document(parse_text(PLAN, "plan.yaml"))


@pytest.fixture(scope="session")
def locations() -> Locations:
    def where(r: Run) -> tuple[np.ndarray, np.ndarray]:
        inst = r.document.instance
        return (np.array([x.location for x in inst.regions], dtype=float),
                np.array([x.location for x in inst.sites], dtype=float))
    return where

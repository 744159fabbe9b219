"""instances/tiny.yaml, solved by hand.

Data: one region `east`, two periods (1 h each, weight 1: a[t] = 1), carbon price 10 CNY/t.
Site `near` (same place: latency 2 ms): capacity 15, PUE 1.5, price [100, 200], ci 1.0.
Site `far` (~27 ms, beyond web's 10 ms limit): capacity 100, PUE 1.0, price 50, ci 0.5,
renewable 10 MW at 20 CNY/MWh. Transfer 0.01 CNY/GB.
Class `web` [10, 20] MW: only `near`; unmet penalty 1000; latency cost 1 CNY/ms/MWh.
Class `batch` 30 MW both periods, 100 GB/MWh.

Marginal costs per MW of IT load:
- web at near:  t0 1.5*(100 + 10*1.0) + 2*1 = 167;  t1 1.5*(200 + 10) + 2 = 317.
- batch at far: renewable 20 (10 MW), grid 50 + 10*0.5 = 55; + transfer 100*0.01 = 1.
  batch at near costs 166 or 316 (+1): always worse than far, whose 100 MW suffice.
web t0: 10 MW at near = 1670.  web t1: 15 MW at near (capacity) = 4755, 5 MW unmet = 5000.
batch: per period 10*(20+1) + 20*(55+1) = 1330; two periods = 2660.
Objective = 1670 + 4755 + 5000 + 2660 = 14085.
By category: energy = 1.5*10*100 + 1.5*15*200 + 2*20*50 = 1500 + 4500 + 2000 = 8000;
carbon = 10*(15*1 + 22.5*1 + 2*20*0.5) = 575; renewable = 2*10*20 = 400;
transfer = 60*100*0.01 = 60; latency = 25*2*1 = 50; unmet = 5000.
Capacity price of near: one more MW in t1 replaces 1 MW unmet (1000) by 317: 683;
t0 is not binding. far is never binding: 0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.backends.base import SolveOptions, Status
from optimizer.pipeline import run

TINY = Path(__file__).parents[2] / "instances" / "tiny.yaml"
REL = 1e-7
PDLP_REL = 1e-6

EXPECTED_COSTS = {"energy": 8000.0, "renewable": 400.0, "carbon": 575.0, "transfer": 60.0,
                  "latency": 50.0, "unmet": 5000.0, "expansion": 0.0, "opening": 0.0}

SOLVERS = [("ortools", "auto"), ("ortools", "clp"), ("ortools", "glop"), ("ortools", "pdlp"),
           ("ortools", "highs"), ("ortools", "scip"), ("pulp", "cbc")]


@pytest.mark.parametrize(("backend", "solver"), SOLVERS)
def test_tiny_optimum_by_hand(backend: str, solver: str) -> None:
    sol = run(TINY, SolveOptions(backend=backend, solver=solver)).solution
    rel = PDLP_REL if solver == "pdlp" else REL
    assert sol.status is Status.OPTIMAL
    assert sol.objective == pytest.approx(14085.0, rel=rel)
    for category, value in EXPECTED_COSTS.items():
        assert sol.costs[category] == pytest.approx(value, rel=rel, abs=1e-4), category
    prices = {s["id"]: s["capacity_price"] for s in sol.site_table}
    assert prices["near"] == pytest.approx(683.0, rel=rel)
    assert prices["far"] == pytest.approx(0.0, abs=1e-4)


def test_tiny_flows_and_totals() -> None:
    sol = run(TINY).solution
    flows = {(f["site"], f["class"], f["period"]): f["mw"] for f in sol.to_dict()["flows"]}
    assert flows == pytest.approx({("near", "web", "t00"): 10.0, ("near", "web", "t01"): 15.0,
                                   ("far", "batch", "t00"): 30.0, ("far", "batch", "t01"): 30.0})
    assert sol.totals["unmet_mwh"] == pytest.approx(5.0)
    assert sol.totals["served_mwh"] == pytest.approx(85.0)
    assert sol.totals["renewable_energy_mwh"] == pytest.approx(20.0)
    # grid: near 15 + 22.5 MW, far 20 + 20 MW
    assert sol.totals["grid_energy_mwh"] == pytest.approx(77.5)
    assert sol.totals["carbon_t"] == pytest.approx(57.5)
    web = next(k for k in sol.class_table if k["id"] == "web")
    assert web["mean_latency_ms"] == pytest.approx(2.0)
    near = next(s for s in sol.site_table if s["id"] == "near")
    assert near["peak_utilization"] == pytest.approx(1.0)
    assert near["mean_utilization"] == pytest.approx((10 / 15 + 1.0) / 2)

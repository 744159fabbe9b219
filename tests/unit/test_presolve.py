"""Presolve by structure on cases derived by hand: which arcs go, and the optimum stays.

One region and two sites at the same place, one period of one hour with weight 1 (a[t] = 1),
PUE 1, no carbon intensity, no transfer or latency cost: a MW at a site costs its price.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from optimizer.backends.base import SolveOptions
from optimizer.compile import compile_instance
from optimizer.load import parse
from optimizer.pipeline import solve_document
from optimizer.presolve import DEARER_THAN_UNMET, DOMINATED, anchors, prune_arcs

HERE = [30.0, 110.0]
BASE: dict[str, Any] = {
    "version": 1,
    "periods": {"count": 1},
    "regions": [{"id": "r0", "location": HERE, "demand": {"web": 10}}],
    "sites": [
        {"id": "A", "location": HERE, "capacity_mw": 8, "pue": 1.0, "price": 200},
        {"id": "hub", "location": HERE, "capacity_mw": 100_000, "pue": 1.0, "price": 100},
    ],
    "classes": [{"id": "web", "unmet_penalty": 1000, "data_gb_per_mwh": 180}],
}


def solve(data: dict[str, Any], prune: bool = True) -> tuple[float, dict[str, int]]:
    doc = parse(copy.deepcopy(data))
    sol = solve_document(doc, SolveOptions(prune=prune)).solution
    assert sol.objective is not None
    return sol.objective, prune_arcs(compile_instance(doc.instance)).arcs_removed


def test_an_arc_to_a_dearer_site_than_a_hub_with_room_goes() -> None:
    """All 10 MW go to the hub at 100: 1,000. The arc to A (200 > 100) is dominated."""
    objective, removed = solve(BASE)
    assert objective == pytest.approx(1000.0)
    assert removed[DOMINATED] == 1
    assert removed[DEARER_THAN_UNMET] == 0
    # A (8 MW) can be filled by the 10 MW that reach it; the hub cannot
    assert anchors(compile_instance(parse(copy.deepcopy(BASE)).instance)).tolist() == [
        False, True]
    assert solve(BASE, prune=False)[0] == pytest.approx(1000.0)


def test_arcs_to_a_site_that_never_fills_stay() -> None:
    """A at 20 MW never fills either: it is an anchor, and arcs to anchors are not removed."""
    data = copy.deepcopy(BASE)
    data["sites"][0]["capacity_mw"] = 20
    objective, removed = solve(data)
    assert objective == pytest.approx(1000.0)
    assert removed[DOMINATED] == 0


def test_a_corridor_the_hub_arc_crosses_keeps_the_other_arc() -> None:
    """A corridor from r0 to the hub carries 0.8 Gbps = 2 MW at 180 GB/MWh (2*180*8/3600):
    2 MW at the hub (200) and 8 MW at A (1,600): 1,800. Removing the arc to A would leave 8 MW
    unmet (8,200), so it must stay."""
    data = copy.deepcopy(BASE)
    data["network"] = {"corridors": [{"id": "c", "regions": ["r0"], "sites": ["hub"],
                                      "capacity_gbps": 0.8}]}
    objective, removed = solve(data)
    assert objective == pytest.approx(1800.0)
    assert removed[DOMINATED] == 0


def test_a_corridor_only_the_dominated_arc_crosses_does_not_matter() -> None:
    data = copy.deepcopy(BASE)
    data["network"] = {"corridors": [{"id": "c", "regions": ["r0"], "sites": ["A"],
                                      "capacity_gbps": 0.8}]}
    objective, removed = solve(data)
    assert objective == pytest.approx(1000.0)
    assert removed[DOMINATED] == 1


def test_a_hub_that_could_fill_anchors_nothing() -> None:
    """Hub capacity 6 MW < the 10 MW that can reach it: 6 at 100 + 4 at 200 = 1,400."""
    data = copy.deepcopy(BASE)
    data["sites"][1]["capacity_mw"] = 6
    objective, removed = solve(data)
    assert objective == pytest.approx(1400.0)
    assert removed[DOMINATED] == 0


def test_no_dominance_under_a_carbon_cap() -> None:
    """The hub's power emits 1 t/MWh, A's none; a cap of 4 t: 4 MW at the hub (400) and 6 at A
    (1,200): 1,600. Without the arc to A, 6 MW would go unmet (6,400)."""
    data = copy.deepcopy(BASE)
    data["sites"][1]["carbon_intensity"] = 1.0
    data["policy"] = {"carbon_cap_t": 4}
    objective, removed = solve(data)
    assert objective == pytest.approx(1600.0)
    assert removed[DOMINATED] == 0


def test_no_dominance_under_a_renewable_floor() -> None:
    """A's 10 MW of renewable power at 150; a floor of half the energy: 5 MW at A (750) and 5
    at the hub (500): 1,250. Without the arc to A no demand could be served at all."""
    data = copy.deepcopy(BASE)
    data["sites"][0].update(renewable_mw=10, renewable_price=150)
    data["policy"] = {"min_renewable_share": 0.5}
    objective, removed = solve(data)
    assert objective == pytest.approx(1250.0)
    assert removed[DOMINATED] == 0


def test_no_unmet_rule_under_a_renewable_floor() -> None:
    """A: renewable power only, at 1,500 (> the 1,000 penalty); B: grid at 100; a floor of half.
    Serving y MW at each and leaving 10 - 2y unmet costs 10,000 - 400 y: y = 5, 8,000. Without
    the arc to A nothing could be served: 10,000."""
    data = copy.deepcopy(BASE)
    data["sites"] = [
        {"id": "A", "location": HERE, "capacity_mw": 10, "pue": 1.0, "price": 2000,
         "power_cap_mw": 10, "renewable_mw": 10, "renewable_price": 1500},
        {"id": "B", "location": HERE, "capacity_mw": 10, "pue": 1.0, "price": 100},
    ]
    data["policy"] = {"min_renewable_share": 0.5}
    objective, removed = solve(data)
    assert objective == pytest.approx(8000.0)
    assert removed[DEARER_THAN_UNMET] == 0
    data.pop("policy")
    objective, removed = solve(data)
    assert objective == pytest.approx(1000.0)  # 10 MW at B, and A's arc is dearer than unmet
    assert removed[DEARER_THAN_UNMET] == 1


def test_an_arc_dearer_than_unmet_demand_goes() -> None:
    """Without the hub: A's power at 2,000 a MW costs more than the 1,000 penalty: all unmet,
    10,000, and the arc is removed. At 900 a MW it stays: 8 MW at 900 and 2 unmet, 9,200."""
    data = copy.deepcopy(BASE)
    data["sites"] = data["sites"][:1]
    data["sites"][0]["price"] = 2000
    objective, removed = solve(data)
    assert objective == pytest.approx(10_000.0)
    assert removed[DEARER_THAN_UNMET] == 1
    data["sites"][0]["price"] = 900
    objective, removed = solve(data)
    assert objective == pytest.approx(9_200.0)
    assert removed[DEARER_THAN_UNMET] == 0


def test_cheap_renewable_power_keeps_a_dear_grid_site() -> None:
    """Grid at 2,000 but 10 MW of renewable power at 50: the site saves only 50 a MW when its
    load falls, so its arc stays: 8 MW at 50 and 2 unmet, 2,400."""
    data = copy.deepcopy(BASE)
    data["sites"] = data["sites"][:1]
    data["sites"][0].update(price=2000, renewable_mw=10, renewable_price=50)
    objective, removed = solve(data)
    assert objective == pytest.approx(2_400.0)
    assert removed[DEARER_THAN_UNMET] == 0


def test_hard_demand_is_never_left_unmet_by_presolve() -> None:
    data = copy.deepcopy(BASE)
    data["sites"] = data["sites"][:1]
    data["sites"][0].update(price=2000, capacity_mw=20)
    data["classes"][0]["unmet_penalty"] = None
    objective, removed = solve(data)
    assert objective == pytest.approx(20_000.0)
    assert removed[DEARER_THAN_UNMET] == 0


def test_a_candidate_hub_anchors_nothing() -> None:
    """Opening the hub costs 5,000 a year: 1,000 + 5,000 against 8 MW at A and 2 unmet, 3,600.
    The arc to A must stay, for the hub may stay closed."""
    data = copy.deepcopy(BASE)
    data["sites"][1]["open_cost"] = 5000
    objective, removed = solve(data)
    assert objective == pytest.approx(3600.0)
    assert removed[DOMINATED] == 0


def test_single_site_classes_keep_their_arcs() -> None:
    data = copy.deepcopy(BASE)
    data["classes"][0]["assignment"] = "single"
    data["sites"][0]["price"] = 5000  # dearer than unmet, and dominated by the hub
    objective, removed = solve(data)
    assert objective == pytest.approx(1000.0)
    assert removed[DOMINATED] == removed[DEARER_THAN_UNMET] == 0

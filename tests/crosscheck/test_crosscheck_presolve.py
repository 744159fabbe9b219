"""Presolve by structure (optimizer.presolve) against the element-by-element PuLP reference, on
random instances built so that its rules fire: a hub site that never fills (the dominance rule)
and, as the generators make them, unmet penalties below some arcs' costs (the unmet rule).

The reference has no presolve: it builds every arc within the latency limits. Equal optima on
instances where arcs were removed is the test that the removal is exact.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
from generate import random_instance, random_instance_full
from reference import Result, solve_full

from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.interpret import Solution
from optimizer.load import parse
from optimizer.pipeline import solve_document
from optimizer.presolve import DEARER_THAN_UNMET, DOMINATED, anchors, prune_arcs

REL_TOL = 1e-6
SEEDS = range(40)


def add_hub(data: dict[str, Any], seed: int) -> dict[str, Any]:
    """A site with capacity for all the demand there is, at a random price and place."""
    rng = np.random.default_rng([seed, 77])
    data["sites"].append({
        "id": "hub", "location": [round(float(rng.uniform(20, 45)), 2),
                                  round(float(rng.uniform(100, 125)), 2)],
        "capacity_mw": 100_000, "pue": round(float(rng.uniform(1.05, 1.5)), 2),
        "price": round(float(rng.uniform(20, 400)), 1),
        "carbon_intensity": round(float(rng.uniform(0.0, 0.8)), 2),
    })
    for corridor in data.get("network", {}).get("corridors", []):
        if rng.random() < 0.5:  # then arcs to the hub may only replace arcs in this corridor
            corridor["sites"].append("hub")
    return data


def instance(kind: str, seed: int) -> dict[str, Any]:
    return add_hub(random_instance(seed) if kind == "basic" else random_instance_full(seed), seed)


@functools.cache
def reference(kind: str, seed: int) -> Result:
    return solve_full(instance(kind, seed))


@functools.cache
def package(kind: str, seed: int, prune: bool = True) -> Solution:
    return solve_document(parse(instance(kind, seed)), SolveOptions(prune=prune)).solution


@functools.cache
def removed(kind: str, seed: int) -> dict[str, int]:
    arrays = compile_instance(parse(instance(kind, seed)).instance)
    assert anchors(arrays)[-1], "the hub never fills"
    return prune_arcs(arrays).arcs_removed


@pytest.mark.parametrize("kind", ["basic", "full"])
@pytest.mark.parametrize("seed", SEEDS)
def test_pruned_model_has_the_reference_optimum(kind: str, seed: int) -> None:
    ref, sol = reference(kind, seed), package(kind, seed)
    assert ref.status == "Optimal"
    assert sol.status is Status.OPTIMAL
    assert ref.objective is not None
    assert sol.objective == pytest.approx(ref.objective, rel=REL_TOL)
    assert sum(sol.costs.values()) == pytest.approx(sol.objective, rel=REL_TOL)


def test_the_hub_joins_corridors_on_some_instances() -> None:
    joined = [s for s in SEEDS if any("hub" in c["sites"] for c in
                                      instance("full", s).get("network", {}).get("corridors", []))]
    assert len(joined) >= 3, joined


@pytest.mark.parametrize("kind", ["basic", "full"])
def test_both_rules_fire_on_these_instances(kind: str) -> None:
    dominated = [s for s in SEEDS if removed(kind, s)[DOMINATED]]
    dearer = [s for s in SEEDS if removed(kind, s)[DEARER_THAN_UNMET]]
    assert len(dominated) >= 8, dominated
    assert len(dearer) >= 3, dearer


@pytest.mark.parametrize("seed", range(8))
def test_the_report_counts_what_was_removed(seed: int) -> None:
    kind = "basic"
    sol, whole = package(kind, seed), package(kind, seed, prune=False)
    T = len(compile_instance(parse(instance(kind, seed)).instance).periods)
    info, plain = sol.solver["structure"], whole.solver["structure"]
    gone = info["removed_flow_variables"]
    assert gone[DOMINATED] == removed(kind, seed)[DOMINATED] * T
    assert DOMINATED not in plain["removed_flow_variables"]  # not run
    assert info["flow_variables"] == (plain["flow_variables"] - gone[DOMINATED]
                                      - gone[DEARER_THAN_UNMET])
    assert sol.objective == pytest.approx(whole.objective, rel=REL_TOL)
    assert any(n.startswith("presolve by structure:") for n in sol.notes)

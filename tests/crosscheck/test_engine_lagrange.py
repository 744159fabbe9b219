"""The Lagrangian price on a coupling row (optimizer.engine.lagrange) against the monolithic
solve and the element-by-element reference, on random LPs whose periods only a carbon cap or a
renewable floor couples, and its duals proven optimal for the full LP by strong duality (not
compared with one solver's: a degenerate LP has many optimal duals)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from generate import random_instance_full, random_instance_policy
from reference import solve_full
from test_engine_colgen import dual_value, interrupted

from optimizer import engine
from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.engine import lagrange
from optimizer.errors import UsageError
from optimizer.generate import generate
from optimizer.load import parse
from optimizer.model import LinearProgram, formulate
from optimizer.overrides import apply_all


def coupled_by_one_row(seed: int) -> dict | None:
    """``random_instance_full(seed)`` made an LP whose periods one policy row couples: no
    deferral, no build or single-assignment decisions, the carbon cap or (odd seeds, where it
    has both) the renewable floor; None if it has neither."""
    data = copy.deepcopy(random_instance_full(seed))
    for site in data["sites"]:
        site.pop("open_cost", None)
        site.pop("expansions", None)
    for klass in data["classes"]:
        klass.pop("max_delay_periods", None)
        klass.pop("assignment", None)
    policy = data.get("policy", {})
    if "carbon_cap_t" in policy and "min_renewable_share" in policy:
        policy.pop("carbon_cap_t" if seed % 2 else "min_renewable_share")
    if not {"carbon_cap_t", "min_renewable_share"} & set(policy):
        return None
    return data


def lp_of(data: dict) -> LinearProgram:
    return formulate(compile_instance(parse(data).instance))


def emissions(lp: LinearProgram, x: np.ndarray) -> float:
    return float(lp.expressions["emissions"].value(x).sum())


@pytest.mark.parametrize("seed", range(16))
def test_lagrange_matches_the_monolithic_solve_and_the_reference(seed: int) -> None:
    data = coupled_by_one_row(seed)
    if data is None:
        pytest.skip("neither a carbon cap nor a renewable floor")
    lp = lp_of(data)
    assert lagrange.coupling_row(lp) is not None
    lg = engine.solve(lp, SolveOptions(strategy="lagrange"))
    mono = engine.solve(lp, SolveOptions(strategy="monolithic", solver="clp"))
    ref = solve_full(data)
    assert lg.status is mono.status
    if mono.status is not Status.OPTIMAL:
        return
    assert lg.objective == pytest.approx(mono.objective, rel=1e-6, abs=1e-6)
    assert ref.objective is not None
    assert lg.objective == pytest.approx(ref.objective, rel=1e-6, abs=1e-6)
    assert lg.duals is not None
    assert lg.x is not None
    assert dual_value(lp, lg.duals) == pytest.approx(lg.objective, rel=1e-7, abs=1e-6)
    # the mix is feasible for the full LP, the coupling row included
    activity = lp.A @ lg.x
    scale = 1e-7 * max(1.0, float(np.abs(lp.row_ub[np.isfinite(lp.row_ub)]).max(initial=1.0)))
    assert (activity <= lp.row_ub + scale).all()
    assert (activity >= lp.row_lb - scale).all()


@pytest.mark.parametrize("seed", range(1, 40, 2))
def test_lagrange_on_version_2_lps_matches_the_monolithic_solve(seed: int) -> None:
    """Version 2 (DESIGN.md §8): certificates count towards a green-share floor, water, PUE
    caps; where one row alone couples the periods (seed 27: a carbon cap; 33: a green-share
    floor) the price finds the monolithic optimum."""
    instance = parse(random_instance_policy(seed)).instance
    lp = formulate(compile_instance(instance))
    if lp.is_mip or lagrange.coupling_row(lp) is None:
        pytest.skip("not an LP whose periods one row alone couples")
    lg = engine.solve(lp, SolveOptions(strategy="lagrange"))
    mono = engine.solve(lp, SolveOptions(strategy="monolithic", solver="clp"))
    assert lg.status is mono.status
    if mono.status is Status.OPTIMAL:
        assert lg.objective == pytest.approx(mono.objective, rel=1e-9, abs=1e-6)
        assert dual_value(lp, lg.duals) == pytest.approx(lg.objective, rel=1e-7, abs=1e-6)


def capped(fraction: float) -> tuple[LinearProgram, float]:
    """20 regions x 10 sites x 24 periods with a carbon cap at ``fraction`` of the uncapped
    optimum's emissions: (the LP, that optimum's emissions)."""
    data = generate(20, 10, 24, 3, seed=7)
    free = lp_of(data)
    raw = engine.solve(free, SolveOptions(strategy="monolithic"))
    assert raw.x is not None
    emitted = emissions(free, raw.x)
    return lp_of(apply_all(data, [f"policy.carbon_cap_t={fraction * emitted:.10g}"])), emitted


def test_a_binding_carbon_cap_is_met_at_the_price_of_the_full_lp() -> None:
    """The cap at 80% binds: several prices, the mix meets it with equality, the optimum and
    duals are the full LP's, and the cap's dual (the carbon price) is the price found."""
    lp, emitted = capped(0.8)
    lg = engine.solve(lp, SolveOptions(strategy="lagrange"))
    mono = engine.solve(lp, SolveOptions(strategy="monolithic"))
    assert lg.status is Status.OPTIMAL
    assert lg.solver == "lagrange"
    assert lg.objective == pytest.approx(mono.objective, rel=1e-9)
    assert lg.bound == pytest.approx(lg.objective, rel=1e-9)
    assert dual_value(lp, lg.duals) == pytest.approx(lg.objective, rel=1e-9)
    assert emissions(lp, lg.x) == pytest.approx(0.8 * emitted, rel=1e-9)
    cap = lp.rows["carbon_cap"].start
    assert lg.duals[cap] < 0  # d cost / d cap: a looser cap costs less
    assert "binds" in lg.notes[0]


def test_a_cap_that_does_not_bind_costs_one_solve_and_a_zero_price() -> None:
    lp, _ = capped(1.5)
    lg = engine.solve(lp, SolveOptions(strategy="lagrange"))
    mono = engine.solve(lp, SolveOptions(strategy="monolithic"))
    assert lg.objective == pytest.approx(mono.objective, rel=1e-9)
    assert lg.duals[lp.rows["carbon_cap"].start] == 0
    assert "does not bind" in lg.notes[0]
    assert "1 prices" in lg.notes[0]


def test_an_infeasible_cap_is_solved_whole_and_said_infeasible() -> None:
    """Demand hard (but the realtime class's, which some regions cannot serve), a cap of 1 t:
    no price meets it; the monolithic solve says why."""
    data = generate(20, 10, 24, 3, seed=7)
    for klass in data["classes"]:
        if klass["id"] != "realtime":
            klass["unmet_penalty"] = None
    lp = lp_of(apply_all(data, ["policy.carbon_cap_t=1"]))
    lg = engine.solve(lp, SolveOptions(strategy="lagrange"))
    mono = engine.solve(lp, SolveOptions(strategy="monolithic"))
    assert mono.status is Status.INFEASIBLE
    assert lg.status is Status.INFEASIBLE


def test_the_row_must_be_alone_in_coupling_the_periods() -> None:
    data = generate(20, 10, 24, 3, seed=7)
    cap = "policy.carbon_cap_t=1e6"
    assert lagrange.coupling_row(lp_of(apply_all(data, [cap]))) is not None
    assert lagrange.coupling_row(lp_of(data)) is None  # no such row
    deferred = apply_all(data, [cap, "classes[analytics].max_delay_periods=6"])
    assert lagrange.coupling_row(lp_of(deferred)) is None  # the backlog couples them too
    both = apply_all(data, [cap, "policy.min_renewable_share=0.3"])
    assert lagrange.coupling_row(lp_of(both)) is None  # two rows: two prices
    with pytest.raises(UsageError, match="lagrange strategy needs an LP"):
        engine.solve(lp_of(deferred), SolveOptions(strategy="lagrange"))


def test_auto_chooses_lagrange_for_a_large_lp_that_one_row_couples() -> None:
    data = generate(60, 20, 24, 3, seed=3)
    capped_lp = lp_of(apply_all(data, ["policy.carbon_cap_t=1.0e6"]))
    assert engine.choose(capped_lp, SolveOptions())[0] == "lagrange"
    assert engine.choose(capped_lp, SolveOptions(solver="glop"))[0] == "monolithic"
    both = lp_of(apply_all(data, ["policy.carbon_cap_t=1.0e6",
                                  "classes[analytics].max_delay_periods=6"]))
    assert engine.choose(both, SolveOptions())[0] == "monolithic"


@pytest.fixture(scope="module")
def medium_capped() -> LinearProgram:
    """100 x 30 x 24 x 4, the cap at 80% of the uncapped emissions (2.5 s to solve)."""
    data = generate(100, 30, 24, 4, seed=5)
    free = lp_of(data)
    raw = engine.solve(free, SolveOptions(strategy="monolithic"))
    assert raw.x is not None
    return lp_of(apply_all(data, [f"policy.carbon_cap_t={0.8 * emissions(free, raw.x):.10g}"]))


def test_ctrl_c_during_the_price_search_raises_and_reports_nothing(
        medium_capped: LinearProgram) -> None:
    interrupted(medium_capped, "lagrange")


def test_the_time_limit_stops_the_price_search(medium_capped: LinearProgram) -> None:
    raw = engine.solve(medium_capped, SolveOptions(strategy="lagrange", time_limit=0.8))
    assert raw.status is Status.TIME_LIMIT
    assert raw.x is None

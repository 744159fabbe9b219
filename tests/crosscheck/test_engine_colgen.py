"""Column generation (optimizer.engine.colgen) against the monolithic solve and the
element-by-element reference, on random LPs whose periods are coupled, and its duals proven
optimal for the full LP by strong duality (not compared with one solver's: a degenerate LP has
many optimal duals)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from generate import is_mip, random_instance, random_instance_full
from reference import solve_full

from optimizer import backends, engine
from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.engine import colgen
from optimizer.engine.restrict import restrict
from optimizer.errors import UsageError
from optimizer.generate import generate
from optimizer.load import parse
from optimizer.model import LinearProgram, formulate
from optimizer.model.lp import Block
from optimizer.overrides import apply_all


def dual_value(lp: LinearProgram, y: np.ndarray) -> float:
    """The Lagrangian dual function at ``y`` (d objective / d row bound): rows priced at the
    bound their dual's sign says is binding, columns at the bound their reduced cost says.
    Weak duality: at most the optimum; equal to it only for an optimal ``y``. -inf where ``y``
    would need an infinite bound. Duals and reduced costs within 1e-9 of the largest cost
    count as 0."""
    scale = max(1.0, float(np.abs(lp.c).max()))
    y = np.where(np.abs(y) <= 1e-9 * scale, 0.0, y)  # round-off of the solver: 0
    d = lp.c - lp.A.T @ y
    d = np.where(np.abs(d) <= 1e-9 * scale, 0.0, d)
    row = np.where(y > 0, lp.row_lb, np.where(y < 0, lp.row_ub, 0.0))
    col = np.where(d > 0, lp.col_lb, np.where(d < 0, lp.col_ub, 0.0))
    with np.errstate(invalid="ignore"):
        terms = np.concatenate([y * row, d * col])
    terms = np.where((np.concatenate([y, d]) == 0), 0.0, terms)
    return float(terms.sum())


def coupled(seed: int) -> dict:
    data = random_instance(seed) if seed % 2 else random_instance_full(seed)
    return data


@pytest.mark.parametrize("seed", range(12))
def test_colgen_matches_the_monolithic_solve_and_the_reference(seed: int) -> None:
    data = coupled(seed)
    if is_mip(data):
        pytest.skip("a MIP: column generation is for LPs")
    lp = formulate(compile_instance(parse(data).instance))
    if not colgen.applies(lp):
        pytest.skip("no flow columns at lower bound 0")
    cg = engine.solve(lp, SolveOptions(strategy="colgen"))
    mono = engine.solve(lp, SolveOptions(strategy="monolithic", solver="clp"))
    ref = solve_full(data)
    assert cg.status is mono.status
    if mono.status is not Status.OPTIMAL:
        return
    assert cg.solver == "colgen"
    assert cg.objective == pytest.approx(mono.objective, rel=1e-6, abs=1e-6)
    assert ref.objective is not None
    assert cg.objective == pytest.approx(ref.objective, rel=1e-6, abs=1e-6)
    assert cg.duals is not None
    assert dual_value(lp, cg.duals) == pytest.approx(cg.objective, rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("dual_from", [colgen.DUAL_FROM, 0])
def test_on_a_generated_coupled_lp_columns_are_priced_in_over_several_rounds(
        dual_from: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """20 regions x 10 sites x 24 periods, analytics deferrable by 6 periods: the decoupled
    seed misses columns the coupled optimum needs, so pricing brings them in; the optimum and
    duals are the full LP's, whether the rounds are solved by primal simplex or (``dual_from``
    0) all by dual simplex."""
    monkeypatch.setattr(colgen, "DUAL_FROM", dual_from)
    data = apply_all(generate(20, 10, 24, 3, seed=7), ["classes[analytics].max_delay_periods=6"])
    lp = formulate(compile_instance(parse(data).instance))
    cg = engine.solve(lp, SolveOptions(strategy="colgen"))
    mono = engine.solve(lp, SolveOptions(strategy="monolithic"))
    assert cg.status is Status.OPTIMAL
    assert cg.objective == pytest.approx(mono.objective, rel=1e-9)
    assert dual_value(lp, cg.duals) == pytest.approx(cg.objective, rel=1e-9)
    assert dual_value(lp, cg.duals * 1.001) < cg.objective * (1 - 1e-9)  # the check can fail
    rounds = int(cg.notes[0].split("column generation: ")[1].split(" ")[0])
    assert rounds >= 2


@pytest.mark.parametrize("first", ["cbc", "ipm", "cbc missing"])
def test_the_first_master_by_cbc_or_interior_point_gives_the_same_optimum(
        first: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first master by CBC's basis, by HiGHS's interior point, or by interior point
    because the CBC binary is missing: the full LP's optimum and duals each time, and the
    note says which ran."""
    from optimizer.backends import cbc_basis

    monkeypatch.setattr(colgen, "FIRST", first.split()[0])
    if first == "cbc missing":
        monkeypatch.setattr(cbc_basis, "cbc_path", lambda: None)
    elif first == "cbc" and cbc_basis.cbc_path() is None:
        pytest.skip("no CBC binary from PuLP here")
    data = apply_all(generate(20, 10, 24, 3, seed=7), ["classes[analytics].max_delay_periods=6"])
    lp = formulate(compile_instance(parse(data).instance))
    cg = engine.solve(lp, SolveOptions(strategy="colgen"))
    ref = solve_full(data)
    assert cg.status is Status.OPTIMAL
    assert ref.objective is not None
    assert cg.objective == pytest.approx(ref.objective, rel=1e-9)
    assert dual_value(lp, cg.duals) == pytest.approx(cg.objective, rel=1e-9)
    said = {"cbc": "the first master by CBC (CLP's dual simplex",
            "ipm": "the first master by interior point and crossover, ",
            "cbc missing": "interior point and crossover (PuLP's CBC binary is not available)"}
    assert said[first] in cg.notes[0]


def _flow_block() -> Block:
    """2 regions x 2 sites x 1 class x 3 periods, in that order."""
    r, s, t = np.meshgrid([0, 1], [0, 1], [0, 1, 2], indexing="ij")
    return Block("flow", 10, 12, {"region": r.ravel(), "site": s.ravel(),
                                  "class": np.zeros(12, dtype=np.int64), "period": t.ravel()})


def test_time_union_takes_every_period_of_an_arc_used_in_one() -> None:
    block = _flow_block()
    used = np.zeros(12, dtype=bool)
    used[[1, 11]] = True  # region 0 -> site 0 in period 1; region 1 -> site 1 in period 2
    got = colgen.time_union(block, used)
    assert np.flatnonzero(got).tolist() == [0, 1, 2, 9, 10, 11]


def test_the_first_master_leaves_out_the_copies_of_arcs_priced_far_out() -> None:
    """On the deferral LP of the test above: a period's copy of an arc the decoupled LP uses
    joins the first master only if its reduced cost under the decoupled duals is at most
    ``UNION_BELOW`` of the largest cost (114 of its 2,928 such copies are above); the support
    of the decoupled solution always does. Column generation still reaches the optimum."""
    data = apply_all(generate(20, 10, 24, 3, seed=7), ["classes[analytics].max_delay_periods=6"])
    lp = formulate(compile_instance(parse(data).instance))
    keep_cols, keep_rows, _ = colgen.decoupled(lp)
    sub, cols, rows = restrict(lp, keep_cols, keep_rows)
    alone = backends.solve(sub, SolveOptions(solver="clp", decompose=False))
    assert alone.x is not None
    assert alone.duals is not None
    x, y = np.zeros(lp.n_vars), np.zeros(lp.n_rows)
    x[cols], y[rows] = alone.x, alone.duals
    scale = float(np.abs(lp.c).max())
    block = lp.variables["flow"]
    d = (lp.c - lp.A.T @ y)[block.slice]
    copies = colgen.time_union(block, x[block.slice] > 1e-9) & (x[block.slice] <= 1e-9)
    far = copies & (d > 1.01 * colgen.UNION_BELOW * scale)
    near = copies & (d < 0.99 * colgen.UNION_BELOW * scale)
    assert far.sum() > 50
    assert near.sum() > 1000
    chosen, _ = colgen.initial_columns(lp, SolveOptions(), backends.solve, scale)
    first = chosen[block.slice]
    assert not first[far].any()
    assert first[near].all()
    assert first[x[block.slice] > 1e-6].all()
    cg = engine.solve(lp, SolveOptions(strategy="colgen"))
    ref = solve_full(data)
    assert ref.objective is not None
    assert cg.objective == pytest.approx(ref.objective, rel=1e-9)


def test_pricing_takes_the_most_negative_column_of_each_demand_row() -> None:
    block = _flow_block()
    d = np.zeros(30)
    # demand row (region 0, period 0): columns 10 (site 0) and 13 (site 1); (region 1,
    # period 2): columns 18 and 21; (region 0, period 1): column 11 alone
    d[[10, 13, 18, 21, 11]] = [-1.0, -3.0, -2.0, -0.5, -0.1]
    enter = np.array([10, 11, 13, 18, 21])
    assert colgen.best_per_demand(block, enter, d).tolist() == [11, 13, 18]


@pytest.mark.parametrize("per_demand", [1, 2])
def test_pricing_picks_per_demand_row_as_a_loop_over_the_rows_would(
        per_demand: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Random reduced costs with ties, 4 regions x 5 sites x 2 classes x 3 periods: the columns
    taken in are, for each demand row, its ``per_demand`` most negative (of ties, the first)."""
    monkeypatch.setattr(colgen, "PER_DEMAND", per_demand)
    r, s, k, t = np.meshgrid(range(4), range(5), range(2), range(3), indexing="ij")
    block = Block("flow", 7, r.size, {"region": r.ravel(), "site": s.ravel(),
                                      "class": k.ravel(), "period": t.ravel()})
    rng = np.random.default_rng(3)
    d = np.zeros(7 + block.size + 5)
    d[block.slice] = -rng.integers(1, 4, block.size)  # few values: many ties
    enter = np.sort(rng.choice(np.arange(block.start, block.start + block.size), 90,
                               replace=False))
    want = []
    for row in {(r.ravel()[j - 7], k.ravel()[j - 7], t.ravel()[j - 7]) for j in enter}:
        members = [j for j in enter
                   if (r.ravel()[j - 7], k.ravel()[j - 7], t.ravel()[j - 7]) == row]
        want += sorted(members, key=lambda j: (d[j], j))[:per_demand]
    assert colgen.best_per_demand(block, enter, d).tolist() == sorted(want)


def test_auto_chooses_colgen_only_where_it_applies_and_pays() -> None:
    small = formulate(compile_instance(parse(generate(5, 4, 4, 2, seed=1)).instance))
    assert engine.choose(small, SolveOptions())[0] == "monolithic"
    data = apply_all(generate(60, 20, 24, 3, seed=3), ["classes[analytics].max_delay_periods=6"])
    lp = formulate(compile_instance(parse(data).instance))
    assert engine.choose(lp, SolveOptions())[0] == "colgen"
    assert engine.choose(lp, SolveOptions(solver="highs"))[0] == "monolithic"
    uncoupled = formulate(compile_instance(parse(generate(60, 20, 24, 3, seed=3)).instance))
    assert engine.choose(uncoupled, SolveOptions())[0] == "monolithic"
    capped = formulate(compile_instance(parse(apply_all(
        generate(60, 20, 24, 3, seed=3), ["policy.carbon_cap_t=1.0e6"])).instance))
    assert engine.choose(capped, SolveOptions())[0] == "lagrange"  # one row couples it


def test_colgen_is_refused_for_a_mip() -> None:
    data = next(d for d in (random_instance_full(s) for s in range(40)) if is_mip(d))
    lp = formulate(compile_instance(parse(data).instance))
    with pytest.raises(UsageError, match="colgen strategy needs an LP"):
        engine.solve(lp, SolveOptions(strategy="colgen"))


def test_ctrl_c_during_column_generation_raises_and_reports_nothing() -> None:
    """SIGINT while a master LP runs: HiGHS stops at its next check and KeyboardInterrupt is
    raised (the CLI's exit 130), with no result built."""
    data = apply_all(generate(100, 30, 24, 4, seed=5), ["classes[analytics].max_delay_periods=6"])
    lp = formulate(compile_instance(parse(data).instance))
    interrupted(lp, "colgen")


def interrupted(lp: LinearProgram, strategy: str, after: float = 1.0) -> None:
    """``lp`` solved by ``strategy`` with SIGINT sent ``after`` seconds in: KeyboardInterrupt."""
    import os
    import signal
    import threading

    timer = threading.Timer(after, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            engine.solve(lp, SolveOptions(strategy=strategy))
    finally:
        timer.cancel()


def test_unmet_demand_the_decoupled_lp_leaves_out_is_priced_in() -> None:
    """By hand: one region and site, classes A (may wait one period) and B, periods 0 and 1.
    A needs 20 in period 0, B 10 in period 1; the site serves 10 in period 0, 12 in 1; a unit
    served or carried costs 1, A unmet 100, B unmet 50. Decoupled (nothing carried): A gets 10
    and 10 go unmet, B gets its 10 with 2 to spare, and B's unmet is left out of the first
    master (reduced cost 49). Carrying A's 10 to period 1 is worth 98 a unit there, leaving B's
    is worth 49: the optimum carries 10, serves B 2, leaves 8 of B unmet: 10 + 10 + 2 flow + 10
    carried + 8 x 50 = 432, which needs B's unmet column priced in."""
    # columns: flow x_A0, x_A1, x_B1; unmet u_A0, u_A1, u_B1; backlog b_A0
    # rows: demand A0, A1, B1 (backlog carries A0's work to A1); capacity 0, 1
    A = sp.csr_matrix(np.array([
        [1, 0, 0, 1, 0, 0, 1],
        [0, 1, 0, 0, 1, 0, -1],
        [0, 0, 1, 0, 0, 1, 0],
        [1, 0, 0, 0, 0, 0, 0],
        [0, 1, 1, 0, 0, 0, 0]], dtype=float))
    i = np.array
    flow = {"region": i([0, 0, 0]), "site": i([0, 0, 0]), "class": i([0, 0, 1]),
            "period": i([0, 1, 1])}
    per_demand = {"region": i([0, 0, 0]), "class": i([0, 0, 1]), "period": i([0, 1, 1])}
    lp = LinearProgram(
        c=np.array([1.0, 1, 1, 100, 100, 50, 1]), A=A,
        row_lb=np.array([20.0, 0, 10, -np.inf, -np.inf]),
        row_ub=np.array([20.0, 0, 10, 10, 12]),
        col_lb=np.zeros(7), col_ub=np.array([np.inf, np.inf, np.inf, 20, 0.0, 10, 20]),
        integer=np.zeros(7, dtype=bool),
        variables={"flow": Block("flow", 0, 3, flow),
                   "unmet": Block("unmet", 3, 3, per_demand),
                   "backlog": Block("backlog", 6, 1, {"region": i([0]), "class": i([0]),
                                                      "period": i([0])})},
        rows={"demand": Block("demand", 0, 3, per_demand),
              "capacity": Block("capacity", 3, 2, {"site": i([0, 0]), "period": i([0, 1])})},
        cost_matrix=sp.csr_matrix((1, 7)))
    chosen, _ = colgen.initial_columns(lp, SolveOptions(), backends.solve, 100.0)
    assert not chosen[5]  # B's unmet: left out of the first master
    cg = engine.solve(lp, SolveOptions(strategy="colgen"))
    assert cg.status is Status.OPTIMAL
    assert cg.objective == pytest.approx(432.0, rel=1e-9)
    assert cg.x is not None
    assert cg.x[5] == pytest.approx(8.0)
    assert dual_value(lp, cg.duals) == pytest.approx(432.0, rel=1e-9)

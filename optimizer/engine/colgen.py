r"""Column generation for LPs whose arcs dwarf their rows (issue #12): exact.

The flow block holds almost every column (1.25 M of 1.28 M in the large generated LP, against
35 k rows), and an optimal basis has at most one basic column per row. So the LP is solved over
a restricted set of flow columns and of unmet-demand columns (:data:`ALSO_GENERATED`; every
other column of the LP is always there); a column left out is at its lower bound 0. After
each solve of this restricted master, every left-out column is priced in one sparse product,
its reduced cost

    d = c - A^T y        (y: the master's row duals, d objective / d row bound)

and those with ``d < -tol`` join the master. When none is left, the master's solution (with 0
for every left-out column) and its duals satisfy the full LP's optimality conditions: every
column's reduced cost has the right sign. The optimum and the duals are the full LP's, proven
(up to ``tol``, relative to the largest cost), not estimated.

The first master holds the support of the **decoupled** LP (the columns that join two periods
left out: the backlog of deferrable work, fixed at 0; the rows over all periods dropped: a carbon
cap, a renewable floor), solved by period (fast, exact for what it is), and every flow column
whose reduced cost under that LP's duals is within ``tol`` of 0. Where columns join periods (the
backlog: work moves in time), it also holds every period's copy of each arc the decoupled LP
uses in some period (:func:`time_union`) but those priced far out (:data:`UNION_BELOW`): the
medium deferral LP's first master then starts 0.3% above the optimum instead of 3.9%, and the
large one solved in 28 s instead of 39 s (first masters by dual simplex).

Each round prices in at most :data:`PER_DEMAND` columns per demand row (region, class, period),
those with the most negative reduced cost: pricing them all put 76 k of the medium LP's 86 k
generated columns in after one master, most of them never basic. The masters are one highspy
model kept between rounds (``addCols``); the first is solved by interior point and crossover
(:data:`FIRST`), every later one from the previous basis: by primal simplex, for which that
basis stays feasible when columns are added (HiGHS's dual simplex took 1,600 iterations to take
in 3 columns; primal took 31), or by dual simplex where many columns came in
(:data:`DUAL_FROM`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.backends.base import RawResult, SolveOptions, Status, capture_fd_output
from optimizer.backends.cbc_basis import optimal_basis
from optimizer.engine.progress import report
from optimizer.engine.restrict import restrict
from optimizer.model.lp import Block, LinearProgram

GENERATED = "flow"
"""The block whose columns are generated."""
ALSO_GENERATED = ("unmet",)
"""Blocks generated too (where every column's lower bound is 0), though pricing takes in each
of their columns that prices out: unmet demand, one column per demand row, which the decoupled
LP leaves at 0 almost everywhere (165 of 28,800 on the large deferral LP). Only where the
decoupled LP dropped no row (work that waits couples the LP, not a cap or a floor): its
solution is then a point of the first master, which stays feasible without the rest; where a
row over all periods was dropped, every unmet column stays in the first master (the
decoupled solution may break that row, unmet demand may be what meets it). The first master then
had 102 k columns instead of 131 k and took 9.2 s instead of 11.1 s; column generation 21.7 s
against 23.3 s (medium: 2.1 s against 2.6 s), the same optima."""
UNION_BELOW = 1e-3
"""A period's copy of an arc the decoupled LP uses (:func:`time_union`) joins the first master
only if its reduced cost under that LP's duals is at most this, relative to the largest cost.
Above it are arcs into a site whose capacity in that period is priced near the unmet-demand
penalty (the reduced cost then exceeds twice the arc's own cost): on the large deferral LP,
2.7 k of the first master's 102 k columns, and without them it has the same optimum and took
9.0 s instead of 10.5 s; column generation 21.7-22.3 s against 24.6 s (two pairs, interleaved,
the same optimum); medium, the same. Where the cut was 1e-4 or 1e-5 of the largest cost, the
first master started further from the optimum and there were more rounds: 23.8 s and 33.4 s."""
TOL = 1e-9
"""Pricing tolerance, relative to the largest objective coefficient."""
MAX_ROUNDS = 500
PER_DEMAND = 1
"""Columns priced in per demand row (region, class, period) and round, most negative first."""
PRIMAL = 4
"""HiGHS ``simplex_strategy`` for a master after the first that took in few columns: primal
simplex, from the previous basis (still primal feasible with the new columns)."""
DUAL = 2
"""HiGHS ``simplex_strategy`` for a master that took in many columns: dual simplex with its
tasks in parallel (SIP): the large deferral LP's three big rounds took 5.7-6.0 s against
6.9-7.1 s by serial dual simplex (the same iterations; column generation 20.7-21.4 s against
22.4 s, two pairs interleaved)."""
DUAL_FROM = 2_000
"""A master that took in more columns than this is solved by dual simplex from the previous
basis instead: on the large deferral LP the rounds taking in 7.5 k, 6 k and 3.5 k columns took
3.2, 1.6 and 2.1 s by dual simplex against 3.6, 2.6 and 2.3 s by primal; rounds of fewer than
2 k columns were faster by primal (0.1 s against 0.5 s at 110 columns). Column generation took
24.1 s against 25.5 s (one after the other, the same optimum); the medium one, whose rounds
take in fewer, the same."""
FIRST = "cbc"
"""How the first master (no basis yet) is solved: ``cbc``, by CLP's dual simplex in PuLP's CBC
binary, its basis set into the highspy model (:mod:`optimizer.backends.cbc_basis`; 5.9 s in
all on the large deferral LP's first master, 0 HiGHS iterations after), falling back to
``ipm`` where that fails: HiGHS's interior point with crossover (9.0 s; HiGHS's dual simplex
took 15.1 s, dual simplex from the decoupled solution's crossover 12.8 s)."""

LpSolve = Callable[[LinearProgram, SolveOptions], RawResult]


def applies(lp: LinearProgram) -> bool:
    """Column generation can be exact here: an LP, a flow block, its columns at 0 when left
    out (lower bound 0, every other column kept)."""
    block = lp.variables.get(GENERATED)
    if lp.is_mip or block is None or not block.size:
        return False
    return bool((lp.col_lb[block.slice] == 0).all())


def worth_it(lp: LinearProgram) -> bool:
    """The flow columns dwarf the rows (4 or more per row)."""
    block = lp.variables.get(GENERATED)
    return block is not None and block.size >= 4 * max(lp.n_rows, 1)


@dataclass
class Rounds:
    rounds: int = 0
    added: int = 0
    master_s: float = 0.0
    pricing_s: float = 0.0


def decoupled(lp: LinearProgram) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(columns, rows) kept in the decoupled LP: no column whose entries join two periods, no
    row without a period; and the columns that join two periods."""
    col_period = np.full(lp.n_vars, -1, dtype=np.int64)
    row_period = np.full(lp.n_rows, -1, dtype=np.int64)
    for blocks, target in ((lp.variables, col_period), (lp.rows, row_period)):
        for block in blocks.values():
            if block.size and "period" in block.index:
                target[block.slice] = block.index["period"]
    keep_rows = row_period >= 0
    A = lp.A.tocsr()
    entry_row = np.repeat(np.arange(lp.n_rows), np.diff(A.indptr))
    off = keep_rows[entry_row] & (row_period[entry_row] != col_period[A.indices])
    joins = np.bincount(A.indices[off], minlength=lp.n_vars) > 0
    keep_cols = (col_period >= 0) & ~joins
    return keep_cols, keep_rows, joins & (lp.col_ub != 0)


def initial_columns(lp: LinearProgram, options: SolveOptions, solve: LpSolve,
                    scale: float) -> tuple[np.ndarray, RawResult]:
    """(flow columns of the first master, as a mask over the LP; the decoupled solve)."""
    keep_cols, keep_rows, joins = decoupled(lp)
    sub, cols, rows = restrict(lp, keep_cols, keep_rows)
    raw = solve(sub, options)
    block = lp.variables[GENERATED]
    chosen = np.zeros(lp.n_vars, dtype=bool)
    also = _also_generated(lp)
    seeded = raw.x is not None and raw.duals is not None
    if not (seeded and keep_rows.all()):  # the decoupled solution is no point of the master:
        for b in also:  # all of these in, so that it stays feasible wherever the LP is
            chosen[b.slice] = True
        also = []
    if raw.x is None or raw.duals is None:
        return chosen, raw  # start from no flow: the first round prices them all
    x = np.zeros(lp.n_vars)
    x[cols] = raw.x
    y = np.zeros(lp.n_rows)
    y[rows] = raw.duals
    d = lp.c - lp.A.T @ y
    generated = np.zeros(lp.n_vars, dtype=bool)
    for b in [block, *also]:
        generated[b.slice] = True
    chosen[generated & ((x > 0) | (d <= TOL * scale))] = True
    if joins.any():  # columns join periods: work may move in time
        chosen[block.slice] |= time_union(block, x[block.slice] > 0) & (
            d[block.slice] <= UNION_BELOW * scale)
    return chosen, raw


def _also_generated(lp: LinearProgram) -> list[Block]:
    """The blocks of :data:`ALSO_GENERATED` in ``lp`` whose columns are all at 0 when left out."""
    return [b for name in ALSO_GENERATED if (b := lp.variables.get(name)) is not None
            and b.size and bool((lp.col_lb[b.slice] == 0).all())]


def _key(block: Block, leave_out: str, members: np.ndarray | None = None
         ) -> tuple[np.ndarray, int]:
    """(one integer per member of ``block``, or per one of ``members``, for its coordinates
    other than ``leave_out``; the number of such integers there can be)."""
    key = np.zeros(block.size if members is None else len(members), dtype=np.int64)
    span = 1
    for name, values in block.index.items():
        if name != leave_out:
            radix = int(values.max(initial=0)) + 1
            key = key * radix + (values if members is None else values[members])
            span *= radix
    return key, span


def time_union(block: Block, used: np.ndarray) -> np.ndarray:
    """Members of ``block`` whose coordinates other than the period are those of a member
    ``used`` in some period (an arc used at 3 am, in every period)."""
    _, key = np.unique(_key(block, "period")[0], return_inverse=True)
    hit = np.zeros(int(key.max(initial=-1)) + 1, dtype=bool)
    hit[key[used]] = True
    return hit[key]


def best_per_demand(block: Block, enter: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Of the flow columns ``enter`` (LP indices), the :data:`PER_DEMAND` with the most
    negative reduced cost ``d`` for each demand row (every coordinate but the site)."""
    key, span = _key(block, "site", enter - block.start)
    if PER_DEMAND == 1 and span <= 4 * block.size:  # the least per row, without sorting
        best = np.full(span, np.inf)
        np.minimum.at(best, key, d[enter])
        win = np.flatnonzero(d[enter] == best[key])
        _, first_win = np.unique(key[win], return_index=True)  # of ties, the first column
        return np.sort(enter[win[first_win]])
    order = np.lexsort((d[enter], key))
    key = key[order]
    first = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(first)
    rank = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    return np.sort(enter[order][rank < PER_DEMAND])


def solve_colgen(lp: LinearProgram, options: SolveOptions, solve: LpSolve) -> RawResult:
    """The LP solved by column generation (see the module); ``solve`` (a backend) solves the
    decoupled LP that seeds the first master."""
    start = time.perf_counter()
    scale = max(1.0, float(np.abs(lp.c).max(initial=0.0)))
    chosen, seed = initial_columns(lp, options, solve, scale)
    block = lp.variables[GENERATED]
    active = np.ones(lp.n_vars, dtype=bool)
    active[block.slice] = chosen[block.slice]
    also = _also_generated(lp)
    for b in also:
        active[b.slice] = chosen[b.slice]
    master = _Master(lp)
    master.add(np.flatnonzero(active))
    stats = Rounds()
    AT = lp.A.T.tocsr()
    while True:
        left = None if options.time_limit is None else options.time_limit - (
            time.perf_counter() - start)
        if left is not None and left <= 0:
            return _stopped(lp, start, stats, "time_limit")
        t0 = time.perf_counter()
        status, x, y, objective = master.run(left)
        stats.master_s += time.perf_counter() - t0
        stats.rounds += 1
        if status is not Status.OPTIMAL or x is None or y is None:
            return _stopped(lp, start, stats, status.value)
        t0 = time.perf_counter()
        d = lp.c - AT @ y
        priced = np.flatnonzero(~active & (d < -TOL * scale))
        flows = (priced >= block.start) & (priced < block.start + block.size)
        enter = np.concatenate([priced[~flows], best_per_demand(block, priced[flows], d)])
        stats.pricing_s += time.perf_counter() - t0
        if not len(enter) or stats.rounds >= MAX_ROUNDS:
            break
        active[enter] = True
        stats.added += len(enter)
        report(f"column generation round {stats.rounds}: objective {objective:.7g}, "
               f"{len(enter):,} of {len(priced):,} columns pricing out taken in")
        master.add(enter)
    full = np.zeros(lp.n_vars)
    full[master.columns] = x
    note = (f"column generation: {stats.rounds} master LPs (highspy), "
            f"{int(active[block.slice].sum()):,} of {block.size:,} flow columns generated"
            f"{''.join(f', {int(active[b.slice].sum()):,} of {b.size:,} {b.name}' for b in also)} "
            f"({stats.added:,} priced in after the first master, seeded by the decoupled LP: "
            f"{seed.solver}, {seed.solve_s:.2f} s); masters {stats.master_s:.2f} s, pricing "
            f"{stats.pricing_s:.2f} s (the first master by {master.first}, the "
            f"rest by simplex from the basis before, parallel dual after more than "
            f"{DUAL_FROM:,} new columns, primal after fewer; at most {PER_DEMAND} column per "
            f"demand row a round); every left-out column's reduced cost >= "
            f"-{TOL:g} x {scale:.3g}: the full LP's optimum and duals")
    status = Status.OPTIMAL if not len(enter) else Status.ERROR
    return RawResult(status, "engine", "colgen", x=full, duals=y, objective=float(lp.c @ full),
                     bound=float(lp.c @ full) if status is Status.OPTIMAL else None,
                     solve_s=time.perf_counter() - start, duals_from="colgen (highspy)",
                     notes=[note], message="" if status is Status.OPTIMAL else
                     f"column generation stopped after {MAX_ROUNDS} rounds")


def _stopped(lp: LinearProgram, start: float, stats: Rounds, why: str) -> RawResult:
    status = Status.TIME_LIMIT if why == "time_limit" else Status.ERROR
    return RawResult(status, "engine", "colgen", solve_s=time.perf_counter() - start,
                     message=f"column generation stopped in round {stats.rounds + 1}: {why}")


class _Master:
    """The restricted master: one highspy model, columns added between runs."""

    def __init__(self, lp: LinearProgram) -> None:
        import highspy

        self.lp = lp
        self.A = lp.A.tocsc()
        self.inf = highspy.kHighsInf
        with capture_fd_output():
            self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", False)
        lb = np.where(np.isinf(lp.row_lb), -self.inf, lp.row_lb)
        ub = np.where(np.isinf(lp.row_ub), self.inf, lp.row_ub)
        self.h.addRows(lp.n_rows, lb, ub, 0, np.zeros(lp.n_rows, dtype=np.int32),
                       np.zeros(0, dtype=np.int32), np.zeros(0))
        self.columns = np.zeros(0, dtype=np.int64)
        self.runs = self.added = 0
        self.first = ""  # how the first master was solved

    def add(self, cols: np.ndarray) -> None:
        lp, sub = self.lp, self.A[:, cols]
        ub = np.where(np.isinf(lp.col_ub[cols]), self.inf, lp.col_ub[cols])
        self.h.addCols(len(cols), lp.c[cols], lp.col_lb[cols], ub, sub.nnz,
                       sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32),
                       sub.data.astype(np.float64))
        self.columns = np.concatenate([self.columns, cols])
        self.added = len(cols)

    def run(self, time_limit: float | None) -> tuple[Status, np.ndarray | None,
                                                     np.ndarray | None, float | None]:
        from optimizer.backends.highs_warm import map_status, polling
        from optimizer.backends.interrupts import interruptible

        self.h.setOptionValue("time_limit", float(time_limit) if time_limit else self.inf)
        if not self.runs:  # the first: CBC's basis (checked by simplex) or interior point
            why = optimal_basis(self.h, time_limit) if FIRST == "cbc" else None
            if FIRST == "cbc" and why is None:
                self.first = "CBC (CLP's dual simplex; its basis optimal for HiGHS too)"
                self.h.setOptionValue("solver", "simplex")
                self.h.setOptionValue("simplex_strategy", PRIMAL)
            else:
                self.first = "interior point and crossover" + (f" ({why})" if why else "")
                self.h.setOptionValue("solver", "ipm")
        else:  # from the previous basis (see DUAL_FROM)
            self.h.setOptionValue("solver", "simplex")
            self.h.setOptionValue("simplex_strategy",
                                  DUAL if self.added > DUAL_FROM else PRIMAL)
        self.runs += 1
        # Ctrl-C: HiGHS stops at its next check, then KeyboardInterrupt (nothing reported)
        with interruptible() as interrupt, polling(self.h, interrupt), capture_fd_output():
            self.h.run()
        status = map_status(self.h.getModelStatus().name)

        if status is not Status.OPTIMAL:
            return status, None, None, None
        sol: Any = self.h.getSolution()
        return (status, np.asarray(sol.col_value, dtype=float),
                np.asarray(sol.row_dual, dtype=float) + 0.0,
                float(self.h.getInfo().objective_function_value))


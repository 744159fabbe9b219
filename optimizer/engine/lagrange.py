r"""A price on the one row that couples the periods (issue #12): exact.

A carbon cap, or a renewable floor, is one row over every period; without it the LP splits into
one LP per period. With that row written ``a x <= h`` (a floor ``a x >= b`` as ``-a x <= -b``)
and priced at ``lam >= 0``, the Lagrangian dual

    g(lam) = min { c x + lam (a x - h) : x satisfies every other row }

is one LP per period for each ``lam``, concave and piecewise linear in ``lam``, and its maximum
is the LP's optimum (LP duality). Each ``x`` found at some ``lam`` gives a line
``c x + lam (a x - h)`` above ``g``; the next price is where the lines of the two nearest
solutions on either side of the cap meet (Kelley's cutting plane in one dimension, which steps
from one piece of ``g`` to the next). It stops when, at that price, every period has optimal
solutions (from this price or the two before) whose ``a x`` sums to ``h`` when mixed: that mix
is optimal for the LP (each period's part minimises the period's Lagrangian at one price, and
the coupling row holds with equality, so complementary slackness holds), and the period LPs'
row duals with ``-lam`` (``d objective / d h``) for the coupling row are the LP's duals. The
gap between the mix's cost and ``g(lam)`` is at most :data:`TOL` of the optimum.

Each period LP is itself solved by column generation over the flow columns (one highspy model
per period, kept from price to price: the next price changes only its costs; columns priced in
by one sparse product over every period), seeded by the LP without the coupling row solved by
period with the package's backend (CLP, in worker processes). A non-binding row costs that one
solve. Measured on the large generated LP with a binding carbon cap (80% of the uncoupled
optimum's emissions): see the README's performance section.

It falls back to the monolithic solve where no price up to about 1e8 times the first guess
(steps of :data:`STEP` growing by :data:`GROW`, :data:`MAX_GROW` of them) meets the cap (an
infeasible cap, say) or a period LP is not optimal: the backend then says what the LP is.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from optimizer.backends.base import (
    RawResult,
    SolveOptions,
    Status,
    available_cores,
    capture_fd_output,
)
from optimizer.backends.decompose import period_partition
from optimizer.engine.colgen import GENERATED, PRIMAL, LpSolve, best_per_demand
from optimizer.engine.progress import report
from optimizer.engine.restrict import restrict
from optimizer.model.lp import LinearProgram

TOL = 1e-10
"""Optimality: the mix's cost over ``g(lam)``, relative (and column pricing, relative to the
largest cost)."""
GROW = 10.0
"""The price grows by this factor until a solution meets the cap."""
MAX_GROW = 12
STEP = 1e-3
"""The first steps from the estimated price: 0.1%, 1%, 10%, then by :data:`GROW`."""
MAX_PRICES = 100
DUAL = 1
"""HiGHS ``simplex_strategy`` after the costs change (the basis stays primal feasible, but
dual simplex took the large LP's period 12 from one price to the next in 0.21 s, primal in
0.33 s)."""


def coupling_row(lp: LinearProgram) -> int | None:
    """The LP's one row without a period, if it is one-sided and the LP splits into periods
    without it; else None."""
    if lp.is_mip:
        return None
    rows = [(k, b) for k, b in lp.rows.items() if b.size and "period" not in b.index]
    if len(rows) != 1 or rows[0][1].size != 1:
        return None
    r = rows[0][1].start
    if np.isfinite(lp.row_lb[r]) == np.isfinite(lp.row_ub[r]):
        return None  # free, an equation or a range: not one price of one sign
    split = period_partition(lp, periods=1, without=rows[0][0])
    return r if split is not None else None


@dataclass
class Point:
    """The period LPs' optimum at one price: values, row duals, each period's cost and
    coupling term."""

    lam: float
    x: np.ndarray
    y: np.ndarray
    f: np.ndarray  # per period: c x
    e: np.ndarray  # per period: a x

    def line(self, lam: float) -> np.ndarray:
        """Each period's Lagrangian at ``lam`` (without the ``- lam h``)."""
        return self.f + lam * self.e


class _Periods:
    """One restricted highspy LP per period; flow columns added as they price out."""

    def __init__(self, sub: LinearProgram, partition: tuple[np.ndarray, np.ndarray],
                 active: np.ndarray, A: Any) -> None:
        import highspy

        self.sub = sub
        self.col_p, row_p = partition
        self.T = int(self.col_p.max()) + 1
        self.rows = [np.flatnonzero(row_p == t) for t in range(self.T)]
        self.local_row = np.empty(sub.n_rows, dtype=np.int32)
        for rows in self.rows:
            self.local_row[rows] = np.arange(len(rows), dtype=np.int32)
        self.A = A  # sub.A, column-wise
        self.inf = highspy.kHighsInf
        self.cost = sub.c.copy()
        self.models: list[Any] = []
        self.columns = [np.zeros(0, dtype=np.int64) for _ in range(self.T)]
        self.runs = np.zeros(self.T, dtype=np.int64)
        self.strategy = np.full(self.T, DUAL)
        for rows in self.rows:
            with capture_fd_output():
                h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            lb = np.where(np.isinf(sub.row_lb[rows]), -self.inf, sub.row_lb[rows])
            ub = np.where(np.isinf(sub.row_ub[rows]), self.inf, sub.row_ub[rows])
            h.addRows(len(rows), lb, ub, 0, np.zeros(len(rows), dtype=np.int32),
                      np.zeros(0, dtype=np.int32), np.zeros(0))
            self.models.append(h)
        self.active = np.zeros(sub.n_vars, dtype=bool)
        self.add(np.flatnonzero(active))
        self.x = np.zeros(sub.n_vars)
        self.y = np.zeros(sub.n_rows)
        self.pool = ThreadPoolExecutor(min(available_cores(), self.T))

    def add(self, cols: np.ndarray) -> np.ndarray:
        """Add ``cols`` (sub columns) to their periods' LPs: the periods touched."""
        self.active[cols] = True
        per = self.col_p[cols]
        touched = np.unique(per)
        for t in touched:
            cs = cols[per == t]
            part = self.A[:, cs]
            lb, ub = self.sub.col_lb[cs], self.sub.col_ub[cs]
            ub = np.where(np.isinf(ub), self.inf, ub)
            lb = np.where(np.isinf(lb), -self.inf, lb)
            self.models[t].addCols(len(cs), self.cost[cs], lb, ub, part.nnz,
                                   part.indptr[:-1].astype(np.int32),
                                   self.local_row[part.indices], part.data.astype(np.float64))
            self.columns[t] = np.concatenate([self.columns[t], cs])
            self.strategy[t] = PRIMAL  # columns added: the basis stays primal feasible
        return touched

    def capped_prices(self, a: np.ndarray, shares: np.ndarray) -> np.ndarray:
        """Each period's price of its own row ``a x <= share`` (the restricted LP with that row
        added, then removed): estimates of the price on the whole row."""
        prices = np.zeros(self.T)
        for t, h in enumerate(self.models):
            coef = a[self.columns[t]]
            idx = np.flatnonzero(coef).astype(np.int32)
            n = len(self.rows[t])
            h.addRow(-self.inf, float(shares[t]), len(idx), idx, coef[idx])
            h.setOptionValue("simplex_strategy", DUAL)
            with capture_fd_output():
                h.run()
            if h.getModelStatus().name == "kOptimal":
                prices[t] = -float(h.getSolution().row_dual[n])
            else:
                prices[t] = np.nan
            h.deleteRows(1, np.array([n], dtype=np.int32))
        return prices

    def set_cost(self, cost: np.ndarray) -> None:
        self.cost = cost
        for t, h in enumerate(self.models):
            cs = self.columns[t]
            h.changeColsCost(len(cs), np.arange(len(cs), dtype=np.int32), cost[cs])
            self.strategy[t] = DUAL

    def run(self, periods: np.ndarray, deadline: float | None) -> Status:
        """Re-solve ``periods`` (in a thread a core: highspy lets the GIL go while it runs);
        Ctrl-C stops the batch before the next period starts, then raises."""
        from optimizer.backends.highs_warm import map_status
        from optimizer.backends.interrupts import interruptible

        with interruptible() as interrupt:
            def one(t: int) -> Status:
                h = self.models[t]
                if interrupt.requested:
                    return Status.ERROR
                if deadline is not None:
                    left = deadline - time.perf_counter()
                    if left <= 0:
                        return Status.TIME_LIMIT
                    h.setOptionValue("time_limit", left)
                if self.runs[t]:
                    h.setOptionValue("solver", "simplex")
                    h.setOptionValue("simplex_strategy", int(self.strategy[t]))
                self.runs[t] += 1
                h.run()  # output_flag is off: nothing to capture
                status = map_status(h.getModelStatus().name)
                if status is Status.OPTIMAL:
                    sol: Any = h.getSolution()
                    self.x[self.columns[t]] = np.asarray(sol.col_value, dtype=float)
                    self.y[self.rows[t]] = np.asarray(sol.row_dual, dtype=float) + 0.0
                return status

            statuses = list(self.pool.map(one, [int(t) for t in periods]))
        return next((s for s in statuses if s is not Status.OPTIMAL), Status.OPTIMAL)

    def close(self) -> None:
        self.pool.shutdown()


@dataclass
class Stats:
    prices: int = 0
    rounds: int = 0
    added: int = 0


class _Lagrangian:
    def __init__(self, lp: LinearProgram, r: int, options: SolveOptions, solve: LpSolve,
                 start: float) -> None:
        self.lp, self.r, self.options = lp, r, options
        self.sign = 1.0 if np.isfinite(lp.row_ub[r]) else -1.0
        self.h = float(lp.row_ub[r] if self.sign > 0 else -lp.row_lb[r])
        keep = np.ones(lp.n_rows, dtype=bool)
        keep[r] = False
        self.sub, _, self.rows = restrict(lp, np.ones(lp.n_vars, dtype=bool), keep)
        self.a = self.sign * np.asarray(lp.A[r].toarray()).ravel()
        self.AT = self.sub.A.T.tocsr()
        self.deadline = None if options.time_limit is None else start + options.time_limit
        self.stats = Stats()
        self.seed = solve(self.sub, options)
        self.periods: _Periods | None = None
        if self.seed.x is None or self.seed.duals is None:
            return  # not optimal: the fallback says what the LP is
        partition = period_partition(self.sub, periods=1)
        assert partition is not None  # coupling_row checked it
        scale = max(1.0, float(np.abs(self.sub.c).max(initial=0.0)))
        d = self.sub.c - self.AT @ self.seed.duals
        flow = np.zeros(self.sub.n_vars, dtype=bool)
        flow[self.sub.variables[GENERATED].slice] = True
        active = ~flow | (self.seed.x > 0) | (d <= TOL * scale)
        self.periods = _Periods(self.sub, partition, active, self.AT.T)
        self.col_p = partition[0]

    def per_period(self, v: np.ndarray) -> np.ndarray:
        assert self.periods is not None
        return np.bincount(self.col_p, weights=v, minlength=self.periods.T)

    def minimise(self, lam: float) -> Point | Status:
        """The period LPs' optimum at price ``lam``, columns priced in until none is left."""
        periods = self.periods
        assert periods is not None
        cost = self.sub.c + lam * self.a
        scale = max(1.0, float(np.abs(cost).max(initial=0.0)))
        block = self.sub.variables[GENERATED]
        periods.set_cost(cost)
        todo = np.arange(periods.T)
        self.stats.prices += 1
        while True:
            status = periods.run(todo, self.deadline)
            self.stats.rounds += 1
            if status is not Status.OPTIMAL:
                return status
            d = cost - self.AT @ periods.y
            priced = np.flatnonzero(~periods.active & (d < -TOL * scale))
            if not len(priced):
                break
            flows = (priced >= block.start) & (priced < block.start + block.size)
            enter = np.concatenate([priced[~flows], best_per_demand(block, priced[flows], d)])
            self.stats.added += len(enter)
            todo = periods.add(enter)
        x = periods.x.copy()
        return Point(lam, x, periods.y.copy(), self.per_period(self.sub.c * x),
                     self.per_period(self.a * x))

    def mix(self, p: Point, others: list[Point], tol: float) -> np.ndarray | None:
        """Values optimal at ``p.lam`` whose coupling term is ``h``: each period's part from
        ``p`` or, where optimal at that price, mixed with the period's part of another point;
        None if no such mix exists."""
        target = self.h - p.e.sum()
        if target == 0:
            return p.x
        direction = np.sign(target)
        best = np.zeros_like(p.e)  # how far each period can move the coupling term
        source = np.full(len(p.e), -1)
        for k, q in enumerate(others):
            optimal = q.line(p.lam) - p.line(p.lam) <= tol / len(p.e)
            reach = np.where(optimal, (q.e - p.e) * direction, 0.0)
            better = reach > best
            best[better], source[better] = reach[better], k
        if best.sum() < abs(target):
            return None
        x = p.x.copy()
        need = abs(target)
        assert self.periods is not None
        for t in np.flatnonzero(best > 0):
            share = min(1.0, need / best[t])
            cols = self.periods.columns[t]
            q = others[source[t]]
            x[cols] = (1 - share) * p.x[cols] + share * q.x[cols]
            need -= share * best[t]
            if need <= 0:
                break
        return x

    def estimate(self, lo: Point) -> float:
        """A first price: each period's own price for its share of the row (its share of
        ``a x`` at price 0), the median weighted by those shares. The LP's price lies between
        the least and the greatest of them (the optimal shares sum to ``h`` too, so one period
        gets no more than its share here and one no less); measured, the weighted median was
        within 0.01% of it on the large generated LP, 2% on the medium one."""
        assert self.periods is not None
        total = float(lo.e.sum())
        share = lo.e / total if total else np.full(len(lo.e), 1 / len(lo.e))
        prices = self.periods.capped_prices(self.a, self.h * share)
        ok = np.isfinite(prices) & (prices > 0)
        if not ok.any():
            return 1.0
        order = np.argsort(prices[ok])
        weight = np.cumsum(np.abs(lo.e[ok])[order] + 1e-300)
        return float(prices[ok][order][np.searchsorted(weight, weight[-1] / 2)])

    def dual_bound(self, p: Point) -> float:
        return float(p.line(p.lam).sum() - p.lam * self.h)


def solve_lagrange(lp: LinearProgram, options: SolveOptions, solve: LpSolve) -> RawResult:
    """The LP solved by pricing its one coupling row (see the module); ``solve`` (a backend)
    seeds the period LPs, and solves the LP whole where the price cannot be found."""
    start = time.perf_counter()
    r = coupling_row(lp)
    if r is None:
        raise ValueError("solve_lagrange needs an LP with one row coupling its periods")
    lag = _Lagrangian(lp, r, options, solve, start)
    try:
        return _solve(lag, lp, options, solve, start)
    finally:
        if lag.periods is not None:
            lag.periods.close()


def _solve(lag: _Lagrangian, lp: LinearProgram, options: SolveOptions, solve: LpSolve,
           start: float) -> RawResult:
    if lag.periods is None:
        return _fallback(lp, options, solve, start, f"the LP without its coupling row is "
                         f"{lag.seed.status.value}")
    lo = lag.minimise(0.0)
    if not isinstance(lo, Point):
        return _failed(lp, options, solve, start, lo)
    feasible = 1e-9 * max(1.0, abs(lag.h))
    if lo.e.sum() <= lag.h + feasible:  # the row does not bind
        return _result(lag, lo, lo.x, lo.f.sum(), lag.dual_bound(lo), start, "does not bind")
    assert lag.periods is not None
    lam = lag.estimate(lo)
    hi: Point | None = None
    guess, step = lam, STEP
    for _ in range(MAX_GROW):
        point = lag.minimise(lam)
        if not isinstance(point, Point):
            return _failed(lp, options, solve, start, point)
        report(f"price of the coupling row {lam:.7g}: {point.e.sum():.10g} against "
               f"{lag.h:.10g}")
        if point.e.sum() <= lag.h:
            hi = point
        else:
            lo = point
        if hi is not None and (lo.lam > 0 or step >= 1):
            break  # bracketed (near the guess, or from 0)
        lam = guess * (1 - step) if hi is not None else guess * (1 + step)
        step *= GROW
    if hi is None:
        return _fallback(lp, options, solve, start, f"no price up to {lam:.3g} meets the row")
    while lag.stats.prices < MAX_PRICES:
        gap_e = lo.e.sum() - hi.e.sum()
        lam = float(np.clip((hi.f.sum() - lo.f.sum()) / gap_e, lo.lam, hi.lam))
        point = lag.minimise(lam)
        if not isinstance(point, Point):
            return _failed(lp, options, solve, start, point)
        bound = lag.dual_bound(point)
        tol = TOL * max(1.0, abs(bound))
        x = lag.mix(point, [lo, hi], tol)
        if x is not None:
            return _result(lag, point, x, float(lp.c @ x), bound, start, "binds")
        report(f"price of the coupling row {lam:.7g}: bound {bound:.10g}, line gap "
               f"{float(lo.line(lam).sum() - lam * lag.h) - bound:.3g}")
        if point.e.sum() > lag.h:
            lo = point
        else:
            hi = point
    return _fallback(lp, options, solve, start, f"{MAX_PRICES} prices did not meet the row")


def _result(lag: _Lagrangian, p: Point, x: np.ndarray, objective: float, bound: float,
            start: float, how: str) -> RawResult:
    lp = lag.lp
    duals = np.zeros(lp.n_rows)
    duals[lag.rows] = p.y
    duals[lag.r] = -lag.sign * p.lam
    assert lag.periods is not None
    block = lag.sub.variables[GENERATED]
    generated = int(lag.periods.active[block.slice].sum())
    note = (f"Lagrangian price on the coupling row ({how}): {lag.stats.prices} prices, "
            f"{lag.stats.rounds} rounds of {lag.periods.T} period LPs (highspy), price "
            f"{p.lam:.7g}; {generated:,} of {block.size:,} flow columns generated "
            f"({lag.stats.added:,} priced in after the seed: {lag.seed.solver}, "
            f"{lag.seed.solve_s:.2f} s); bound {bound:.12g}, gap "
            f"{(objective - bound) / max(1.0, abs(bound)):.1e}")
    return RawResult(Status.OPTIMAL, "engine", "lagrange", x=x, duals=duals + 0.0,
                     objective=objective, bound=bound, solve_s=time.perf_counter() - start,
                     duals_from="lagrange (highspy)", notes=[note])


def _failed(lp: LinearProgram, options: SolveOptions, solve: LpSolve, start: float,
            status: Status) -> RawResult:
    """A period LP that was not optimal: the time limit ends the solve; anything else, the LP
    is solved whole (the backend says what it is)."""
    if status is Status.TIME_LIMIT:
        return RawResult(status, "engine", "lagrange", solve_s=time.perf_counter() - start,
                         message="the time limit was reached while pricing the coupling row")
    return _fallback(lp, options, solve, start, f"a period LP was {status.value}")


def _fallback(lp: LinearProgram, options: SolveOptions, solve: LpSolve, start: float,
              why: str) -> RawResult:
    if options.time_limit is not None:  # what is left of it
        left = options.time_limit - (time.perf_counter() - start)
        if left <= 0:
            return _failed(lp, options, solve, start, Status.TIME_LIMIT)
        options = replace(options, time_limit=left)
    raw = solve(lp, options)
    raw.notes.append(f"Lagrangian price on the coupling row: {why}; solved whole "
                     f"({time.perf_counter() - start:.2f} s in all)")
    return raw

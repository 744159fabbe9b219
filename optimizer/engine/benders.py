r"""Benders decomposition for MIPs whose integer decisions are builds (issue #12): exact to a gap.

The integer columns ``y`` (sites opened, expansion units built, a plan's yearly builds: the
:data:`BUILD_BLOCKS`) go to a **master**; everything else is an LP once they are fixed, the
**subproblem** ``z(y) = min c_x x  s.t.  lb - A_y y <= A_x x <= ub - A_y y``, convex and piecewise
linear in ``y``. Its row duals ``pi`` at ``y0`` give the optimality cut

    theta >= z(y0) - pi^T A_y (y - y0)

valid for every ``y``: the dual's feasible set does not depend on ``y``. The subproblem splits
into independent parts (periods, cases: the connected components of ``A_x``), one ``theta`` and
one cut each (multi-cut); how it is kept feasible and fast: :mod:`optimizer.engine.subproblem`.

Two phases, as in Fischetti, Ljubic and Sinnl (Management Science 63(7), 2017):

1. the master's LP relaxation, by Kelley's cutting planes stabilised in-out (Ben-Ameur and
   Neto): each cut is taken at a point between the master's solution and a core point that
   moves towards it, until the relaxation's bound and the best point agree to
   :data:`ROOT_TOL`, or the bound stalls (:data:`STALL_TOL`);
2. the master as a MIP (HiGHS, through highspy) with every cut so far: each master solution is
   evaluated (an upper bound and a cut), the master's proven bound is the lower bound, until
   they agree to the gap (``SolveOptions.gap``, default :data:`DEFAULT_GAP`).

The subproblem and master are highspy models kept between rounds (warm starts). The answer is
the best build found, its subproblem's flows and duals (the LP with the integers fixed), and the
proven bound.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from optimizer.backends.base import (
    Notice,
    NoticeKind,
    RawResult,
    SolveOptions,
    Status,
    available_cores,
)
from optimizer.engine.master import Master
from optimizer.engine.progress import report
from optimizer.engine.subproblem import Evaluation, Split, Subproblem, split
from optimizer.engine.workers import DaskPool, Pool, Processes, WorkerLost
from optimizer.errors import UsageError
from optimizer.model.lp import LinearProgram

BUILD_BLOCKS = ("open", "build")
"""The variable blocks that hold build decisions (version 1 and a plan's stacked LP)."""
DEFAULT_GAP = 1e-4
ROOT_TOL = 1e-5
"""Phase 1 stops when the relaxation's bound is this close (relative) to its best point: at
1e-6 the last rounds of capb2 moved the bound by 1e-6 in 46 rounds; OR-Library's capa/capb/capc
took 177 s in all at 1e-5 against 195 s at 1e-6 (each as fast or faster; same optima)."""
STALL_ROUNDS = 10
STALL_TOL = 5e-5
"""Phase 1 also stops when its bound has gained less than STALL_TOL (relative) over the last
STALL_ROUNDS rounds: Kelley's tail, which the MIP phase does not need (the cuts of the last
rounds are mostly slack at its solutions). capb2's root took 222 rounds, the last 80 of them
for 1.1e-4 of bound; with this rule 146 rounds, and OR-Library's 12 large problems took 126 s
in all instead of 156 s in the same hour, each as fast or faster (capb2 22.4 s against 28.3 s,
capb3 14.9 s against 22.8 s), the same optima."""
MAX_ROOT = 400
SAVED_EVALS = 2
"""Up to this many builds are evaluated each MIP round where the operating LP has fewer than
:data:`SAVED_EVALS_BELOW` columns: the master's optimum and the last improving build HiGHS found
on its way: more cuts a round, fewer rounds (12 instead of 29 on capa1). 2 rather than 6 or 3:
OR-Library's 12 large problems took 138 s in all with 2 and 141 s with 3 (interleaved, each
within noise, same optima); 1 took 132.7 s against 126.4 s with 2 (capb2 25.2 s against
21.1 s)."""
SAVED_EVALS_BELOW = 200_000
"""From this many operating columns only the master's optimum is evaluated each round: there an
evaluation (1.2 M columns in 24 parts on the large planning MIP, 300 x 60 x 24 x 4 with 20
candidates) costs more than the master rounds the extra cuts save. In process, one after the
other, that MIP took 86.7 s with 1 against 114.2 s with 2 (147.5 s with 6, 125 s with 3), the
same optimum; the medium one (219 k columns) 14.7 s and 13.7 s against 14.8 s and 13.9 s with 2
end to end."""
PARALLEL_MIN_VARS = 100_000
"""Below this the subproblem's parts are solved in this process unless workers are asked for:
starting processes and sending the parts costs more than the LPs."""


def applies(lp: LinearProgram) -> bool:
    """A MIP whose integer columns are all build decisions with finite bounds, and some
    continuous columns (the operating LP)."""
    if not lp.is_mip or lp.integer.all():
        return False
    build = np.zeros(lp.n_vars, dtype=bool)
    for name in BUILD_BLOCKS:
        block = lp.variables.get(name)
        if block is not None:
            build[block.slice] = True
    ints = lp.integer
    return bool((build[ints]).all() and np.isfinite(lp.col_lb[ints]).all()
                and np.isfinite(lp.col_ub[ints]).all())



@dataclass
class Progress:
    rounds_lp: int = 0
    rounds_mip: int = 0
    lower: float = -np.inf
    upper: float = np.inf
    sub_s: float = 0.0
    master_s: float = 0.0
    history: list[tuple[float, float, float]] = field(default_factory=list)

    @property
    def gap(self) -> float:
        if not np.isfinite(self.upper) or not np.isfinite(self.lower):
            return np.inf
        return max(self.upper - self.lower, 0.0) / max(abs(self.upper), 1e-9)


@dataclass
class Incumbent:
    value: float = np.inf
    y: np.ndarray | None = None
    x: np.ndarray | None = None
    duals: np.ndarray | None = None
    z: np.ndarray | None = None  # (groups,) its parts' costs


class _Run:
    """One Benders solve: the master, the subproblem, the bounds so far."""

    def __init__(self, lp: LinearProgram, options: SolveOptions) -> None:
        self.lp, self.s = lp, split(lp)
        pool, where = _pool(lp, self.s, options)
        try:
            self.sub = Subproblem(lp, self.s, pool, **where)
        except ImportError:
            raise UsageError("dask needs Dask: pip install 'eastwest[dask]'", Notice(
                "dask", options.dask, "needs Dask: pip install 'eastwest[dask]'",
                NoticeKind.REFUSED)) from None
        except OSError as exc:
            raise UsageError(f"cannot reach the Dask scheduler at {options.dask}: {exc}",
                             Notice("dask", options.dask, f"cannot reach the Dask scheduler: "
                                    f"{exc}", NoticeKind.REFUSED)) from None
        self.master = Master(lp, self.s)
        self.fallback = ""
        self.trouble = ""
        self.f = lp.c[self.s.yi]
        self.progress, self.best = Progress(), Incumbent()
        self.start = time.perf_counter()
        self.deadline = (None if options.time_limit is None
                         else self.start + options.time_limit)
        self.gap = DEFAULT_GAP if options.gap is None else options.gap
        self.fixed = 0
        self.root: tuple[np.ndarray, np.ndarray, float] | None = None

    def evaluate(self, y: np.ndarray, theta: np.ndarray | None = None) -> Evaluation | Status:
        """The subproblem at ``y``, its cuts added to the master (``theta``: the master's at
        its solution ``y``: the cuts that solution violates), the incumbent kept."""
        t0 = time.perf_counter()
        try:
            return self._evaluate(y, theta)
        except WorkerLost as exc:  # go on in this process: the cuts so far stay valid
            self.sub.close()
            self.fallback = f" (the workers failed: {exc}; solved here)"
            self.sub = Subproblem(self.lp, self.s)
            return self._evaluate(y, theta)
        finally:
            self.progress.sub_s += time.perf_counter() - t0

    def _evaluate(self, y: np.ndarray, theta: np.ndarray | None) -> Evaluation | Status:
        while True:
            ev = self.sub.evaluate(y, self.deadline)
            if isinstance(ev, Status):
                return ev
            self.master.add_cuts(ev, y, theta)
            if not (ev.complete and not ev.feasible and _integral(y)):
                break
            # a build that stretches a row: infeasible (cut it off for good), or the penalty
            # is too low for it to be exact here (raise it: the cuts so far stay valid)
            assert ev.stretched is not None
            cut = self.sub.elastic_cuts(y, self.deadline, np.flatnonzero(ev.stretched))
            if isinstance(cut, Status):
                return cut
            if len(cut.feas_z):
                self.master.add_cuts(cut, y)
                return ev
            if not self.sub.raise_penalty():
                return Status.ERROR
        if ev.feasible and _integral(y):
            value = float(self.f @ y + ev.z.sum())
            if value < self.best.value:
                self.best = Incumbent(value, np.round(y), ev.x, ev.duals, ev.z)
                self.progress.upper = value
        return ev

    def tell(self, phase: str) -> None:
        """One progress line: the bounds, the gap, the cuts (see :mod:`~.progress`)."""
        p = self.progress
        rounds = p.rounds_lp if phase == "LP" else p.rounds_mip
        gap = "-" if not np.isfinite(p.gap) else f"{p.gap:.1e}"
        report(f"Benders {phase} round {rounds}: bound {p.lower:.7g}, best {p.upper:.7g}, "
               f"gap {gap}, {self.master.cuts:,} cuts")

    def run_master(self) -> tuple[Status, np.ndarray, float, float]:
        t0 = time.perf_counter()
        out = self.master.run(self.deadline)
        self.progress.master_s += time.perf_counter() - t0
        return out

    def relaxation(self) -> Status | None:
        """Phase 1: the master's LP relaxation, in-out stabilised; None when done."""
        core = self.lp.col_ub[self.s.yi].astype(float)
        ev = self.evaluate(core)
        if isinstance(ev, Status):
            return ev
        upper = float(self.f @ core + ev.z.sum()) if ev.complete else np.inf
        bounds: list[float] = []
        while self.progress.rounds_lp < MAX_ROOT:
            status, ym, lower, _ = self.run_master()
            if status is not Status.OPTIMAL:
                return status
            self.progress.rounds_lp += 1
            self.progress.lower = lower
            self.tell("LP")
            if np.isfinite(upper) and upper - lower <= ROOT_TOL * max(abs(upper), 1.0):
                break
            bounds.append(lower)
            if (len(bounds) > STALL_ROUNDS and lower - bounds[-1 - STALL_ROUNDS]
                    <= STALL_TOL * max(abs(lower), 1.0)):
                break  # see STALL_TOL
            point = 0.5 * (ym + core)
            ev = self.evaluate(point)
            if isinstance(ev, Status):
                return ev
            if ev.complete:
                upper = min(upper, float(self.f @ point + ev.z.sum()))
            core = 0.5 * (core + ym)
        self.root = (ym, self.master.reduced_costs(), lower)
        return None

    def branch(self) -> Status:
        """Phase 2: the master as a MIP, each solution evaluated, until the gap closes."""
        self.master.integer(self.gap / 4)
        seen: set[bytes] = set()
        extra = SAVED_EVALS if len(self.s.xi) < SAVED_EVALS_BELOW else 1  # see there
        while True:
            if self.best.y is not None and self.best.z is not None:
                self.master.start_from(self.best.y, self.best.z)
            status, ym, _, bound = self.run_master()
            if status is not Status.OPTIMAL:
                return status
            self.progress.rounds_mip += 1
            self.progress.lower = max(self.progress.lower, bound)
            key = np.round(ym).tobytes()
            if key in seen:  # its cuts are in: the bound has met it, or numerical trouble
                self.tell("MIP")
                if self.progress.gap <= self.gap:
                    return Status.OPTIMAL
                self.trouble = "the master came back to a build it had evaluated"
                return Status.FEASIBLE
            seen.add(key)
            before = self.best.value
            ny = len(ym)
            ev = self.evaluate(np.round(ym), self.master.x[ny:])
            if isinstance(ev, Status):
                return ev
            for other in self.master.saved()[-extra:-1]:  # more cuts a round
                ev = self.evaluate(np.round(other[:ny]), other[ny:])
                if isinstance(ev, Status):
                    return ev
            if self.best.value < before and self.root is not None:
                self.fixed = self.master.fix_by_reduced_cost(*self.root, self.best.value)
            self.progress.history.append((time.perf_counter() - self.start,
                                          self.progress.lower, self.progress.upper))
            self.tell("MIP")
            if self.progress.gap <= self.gap:
                return Status.OPTIMAL


def _pool(lp: LinearProgram, s: Split, options: SolveOptions) -> tuple[type[Pool],
                                                                       dict[str, object]]:
    """Where the subproblem's parts are solved: on Dask if asked, else in ``workers``
    processes (default: one a core for an LP of :data:`PARALLEL_MIN_VARS` or more), else here."""
    if options.dask is not None:
        return DaskPool, {"address": options.dask}
    wanted = options.workers
    if wanted is None:
        wanted = available_cores() if lp.n_vars >= PARALLEL_MIN_VARS else 1
    wanted = min(wanted, s.groups)
    return (Processes, {"n": wanted}) if wanted > 1 else (Pool, {})


def _integral(y: np.ndarray) -> bool:
    return bool(np.all(np.abs(y - np.round(y)) <= 1e-9))


def solve_benders(lp: LinearProgram, options: SolveOptions) -> RawResult:
    """``lp`` (a MIP for which :func:`applies`) solved by Benders decomposition to the gap."""
    run = _Run(lp, options)
    try:
        status = run.relaxation() or run.branch()
    finally:
        run.sub.close()
    p, best = run.progress, run.best
    solve_s = time.perf_counter() - run.start
    if best.y is None or best.x is None:
        return RawResult(status if status is not Status.OPTIMAL else Status.ERROR, "engine",
                         "benders", solve_s=solve_s,
                         message=f"Benders stopped without a build: {status.value}")
    x = np.zeros(lp.n_vars)
    x[run.s.yi], x[run.s.xi] = best.y, best.x
    note = (f"Benders: {p.rounds_lp} LP and {p.rounds_mip} MIP master rounds (highspy), "
            f"{run.master.cuts:,} cuts over {run.s.groups} subproblem part(s) solved "
            f"{run.sub.pool.where}{run.fallback}, "
            f"{run.sub.solves} subproblem LPs, {run.sub.feasibility_cuts} feasibility cuts, "
            f"{run.fixed} builds fixed by reduced cost, stretch penalty raised "
            f"{run.sub.raised} times; "
            f"subproblems {p.sub_s:.2f} s, masters "
            f"{p.master_s:.2f} s; bound {p.lower:.10g}, gap {p.gap:.2e} (asked {run.gap:g})")
    if status is Status.OPTIMAL:
        final = Status.OPTIMAL
    else:
        final = Status.TIME_LIMIT if status is Status.TIME_LIMIT else Status.FEASIBLE
    return RawResult(final, "engine", "benders", x=x, duals=best.duals,
                     objective=float(lp.c @ x), bound=p.lower, solve_s=solve_s,
                     duals_from="Benders subproblem (highspy), integers fixed", notes=[note],
                     message="" if final is Status.OPTIMAL else
                     f"Benders stopped ({run.trouble or status.value}) at gap {p.gap:.2e}")


"""Benders decomposition's subproblem (:mod:`optimizer.engine.benders`): the operating LP at a
given build, split into independent parts, and the cuts it gives.

The parts are the connected components of the LP over its continuous columns (periods, cases),
packed into at most :data:`MAX_CUT_GROUPS`; each is its own LP (:mod:`~optimizer.engine.parts`),
solved in this process, in worker processes or on Dask (:mod:`~optimizer.engine.workers`), and
gives its own cut (multi-cut).

Rows with one continuous entry (``x <= d * open``: the valid inequalities) become column bounds
of the subproblem (100,000 rows fewer on OR-Library's capa) and their duals are read from the
reduced costs. Every other row may stretch at a cost of :data:`PENALTY` times the dearest cost,
so that the subproblem has an optimum at every build (a first build can break a utilisation
floor): ``z_M(y) <= z(y)`` is what the optimality cuts bound, valid all the same. A build that
stretches a row is not an incumbent; the elastic LP of each part that stretched (rows
stretching at a cost of 1, nothing else costing) cuts it off for good:
``0 >= w(y0) - pi^T A_y (y - y0)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from optimizer.backends.base import Status
from optimizer.engine.parts import PartData, PartOut, seconds_left
from optimizer.engine.workers import Pool
from optimizer.model.lp import LinearProgram

MAX_CUT_GROUPS = 64
"""At most this many ``theta`` (parts of the subproblem beyond it share one)."""
PENALTY = 2.0
"""The cost of stretching a subproblem row, times the dearest cost of the LP (raised tenfold
where it proves too low at a build, up to :data:`MAX_PENALTY`). Twice, not once: a row whose
only way out is the dearest column (unmet demand) would tie with its stretch."""
MAX_PENALTY = 1e8
PART_UNIT = 1e6
"""Each part's LP has its costs in units of the dearest cost over this (at least 1), as the
master has: a plan's stretch penalty raised to 4e8 left HiGHS's simplex lost (status
unknown), while costs in units of the dearest one made its optima 1e-6 off (its dual
tolerance, 1e-7, is in those units)."""
SMALL_PART = 0.01
"""A component with fewer columns and rows than this share of the largest has no ``theta``
of its own: it joins a part (generated plans have dozens of 1-column components)."""


@dataclass
class Split:
    """The LP's columns and rows, sorted for the decomposition."""

    yi: np.ndarray  # integer (master) columns
    xi: np.ndarray  # continuous (subproblem) columns
    master_rows: np.ndarray  # rows over y only
    sub_rows: np.ndarray  # rows with two or more x entries (or one x and no y)
    bound_rows: np.ndarray  # rows with one x entry and some y: bounds of that x
    bound_col: np.ndarray  # (bound rows,) the x (position in xi) each one bounds
    bound_coef: np.ndarray  # its coefficient
    Ay_sub: sp.csr_matrix
    Ay_bound: sp.csr_matrix
    row_group: np.ndarray  # (sub rows,) the part of the subproblem each row is in
    col_group: np.ndarray  # (xi,) the part of each x column
    groups: int


def split(lp: LinearProgram) -> Split:
    yi, xi = np.flatnonzero(lp.integer), np.flatnonzero(~lp.integer)
    A = lp.A.tocsc()
    Ax, Ay = A[:, xi].tocsr(), A[:, yi].tocsr()
    nx_row, ny_row = np.diff(Ax.indptr), np.diff(Ay.indptr)
    one = (nx_row == 1) & (ny_row > 0)
    bound_rows = np.flatnonzero(one)
    coo = Ax[bound_rows].tocoo()
    order = np.argsort(coo.row, kind="stable")
    bound_col, bound_coef = coo.col[order], coo.data[order]
    if len(np.unique(bound_col)) < len(bound_col):  # two bound rows on one column: keep rows
        one[:] = False
        bound_rows = bound_col = np.zeros(0, dtype=np.int64)
        bound_coef = np.zeros(0)
    master_rows = np.flatnonzero(nx_row == 0)
    sub_rows = np.flatnonzero((nx_row > 0) & ~one)
    row_group, col_group, groups = _parts(Ax[sub_rows], len(xi))
    return Split(yi, xi, master_rows, sub_rows, bound_rows, bound_col, bound_coef,
                 Ay[sub_rows].tocsr(), Ay[bound_rows].tocsr(), row_group, col_group, groups)


def _parts(Ax: sp.csr_matrix, n: int) -> tuple[np.ndarray, np.ndarray, int]:
    """(part of each row, of each column, how many): the connected components of the
    bipartite row-column graph, one part each for up to :data:`MAX_CUT_GROUPS` of the large
    ones (at least :data:`SMALL_PART` of the largest), the rest dealt among them (largest
    first, back and forth, so that the parts stay about even)."""
    from scipy.sparse.csgraph import connected_components  # at use: the CLI starts faster

    m = Ax.shape[0]
    graph = sp.bmat([[None, Ax], [Ax.T, None]], format="csr")
    count, label = connected_components(graph, directed=False)
    size = np.bincount(label, minlength=count)
    large = int((size >= SMALL_PART * size.max(initial=0)).sum())
    groups = max(1, min(MAX_CUT_GROUPS, large))
    order = np.argsort(-size, kind="stable")
    rank = np.empty(count, dtype=np.int64)
    rank[order] = np.arange(count)
    lap, pos = np.divmod(rank, groups)
    part = np.where(lap % 2 == 0, pos, groups - 1 - pos)[label]
    return part[:m], part[m:m + n], groups


@dataclass
class Evaluation:
    """The subproblem at one build: an optimality cut per part that has an optimum, a
    feasibility cut per part that has none (or, from :meth:`Subproblem.elastic_cuts`, per
    part whose rows stretched)."""

    z: np.ndarray  # (groups,) each part's cost (stretches at the penalty included)
    grad: np.ndarray  # (groups, y) each part's subgradient in y
    cut: np.ndarray  # (groups,) bool: the part has an optimum, so an optimality cut
    feas_z: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (k,) elastic optima w
    feas_grad: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (k, y)
    stretched: np.ndarray | None = None  # (groups,) bool: the part stretched a row
    x: np.ndarray | None = None  # the subproblem's columns, where every part has an optimum
    duals: np.ndarray | None = None  # (rows of the LP,) d objective / d row bound

    @property
    def complete(self) -> bool:
        """Every part has an optimum: ``z.sum()`` bounds the (penalised) subproblem."""
        return bool(self.cut.all())

    @property
    def feasible(self) -> bool:
        """Complete, and no row stretched: the build is feasible and ``z`` its cost."""
        return self.complete and self.stretched is not None and not self.stretched.any()


def part_data(lp: LinearProgram, s: Split, A_sub: sp.csr_matrix, g: int,
              penalty: float) -> PartData:
    """Part ``g`` of the subproblem (``A_sub``: the sub rows over the continuous columns),
    ready to travel."""
    cols = np.flatnonzero(s.col_group == g)
    rows = np.flatnonzero(s.row_group == g)
    A = A_sub[rows][:, cols].tocsr()
    bsel = np.flatnonzero(s.col_group[s.bound_col] == g)
    local = np.full(len(s.xi), -1, dtype=np.int64)
    local[cols] = np.arange(len(cols))
    br = s.bound_rows[bsel]
    return PartData(
        c=lp.c[s.xi[cols]], A=A, row_lb=lp.row_lb[s.sub_rows[rows]],
        row_ub=lp.row_ub[s.sub_rows[rows]], col_lb=lp.col_lb[s.xi[cols]],
        col_ub=lp.col_ub[s.xi[cols]], Ay=s.Ay_sub[rows].tocsr(),
        bound_col=local[s.bound_col[bsel]], bound_coef=s.bound_coef[bsel],
        bound_lb=lp.row_lb[br], bound_ub=lp.row_ub[br], Ay_bound=s.Ay_bound[bsel].tocsr(),
        penalty=penalty, unit=max(1.0, float(np.abs(lp.c[s.xi]).max(initial=0.0)) / PART_UNIT))


class Subproblem:
    """The operating LP at a given build, its parts solved by a :class:`~.workers.Pool`."""

    def __init__(self, lp: LinearProgram, s: Split, pool: type[Pool] | None = None,
                 **where: object) -> None:
        self.lp, self.s = lp, s
        c = lp.c[s.xi]
        self.base = max(1.0, float(np.abs(c).max(initial=0.0)))
        self.penalty = PENALTY * self.base
        A_sub = lp.A.tocsr()[s.sub_rows][:, s.xi].tocsr()
        datas = [part_data(lp, s, A_sub, g, self.penalty) for g in range(s.groups)]
        self.cols = [np.flatnonzero(s.col_group == g) for g in range(s.groups)]
        self.rows = [np.flatnonzero(s.row_group == g) for g in range(s.groups)]
        self.brows = [np.flatnonzero(s.col_group[s.bound_col] == g) for g in range(s.groups)]
        self.pool = (pool or Pool)(datas, **where)
        finite = np.abs(np.concatenate([lp.row_lb[s.sub_rows], lp.row_ub[s.sub_rows]]))
        self.stretch_tol = 1e-6 * (1.0 + float(finite[np.isfinite(finite)].max(initial=0.0)))
        self.all = list(range(s.groups))
        self.solves = 0
        self.feasibility_cuts = 0
        self.raised = 0

    def close(self) -> None:
        self.pool.close()

    def raise_penalty(self) -> bool:
        """Ten times the cost of stretching a row (where the elastic LP found the build
        feasible yet the subproblem stretched a row: the penalty was too low to be exact);
        False once it is beyond :data:`MAX_PENALTY` times the dearest cost."""
        if self.penalty * 10 > MAX_PENALTY * self.base:
            return False
        self.penalty *= 10
        self.pool.call("set_penalty", self.all, self.penalty)
        self.raised += 1
        return True

    def evaluate(self, y: np.ndarray, deadline: float | None) -> Evaluation | Status:
        """The subproblem at ``y``: its parts' costs and cuts, or a status where one stopped
        (a time limit, an error)."""
        outs = self.pool.call("evaluate", self.all, y, seconds_left(deadline))
        self.solves += 1
        bad = [o.status for o in outs if o.status not in (Status.OPTIMAL, Status.INFEASIBLE)]
        if bad:
            return bad[0]
        ok = np.array([o.status is Status.OPTIMAL for o in outs])
        ny, groups = len(y), self.s.groups
        z, grad = np.zeros(groups), np.zeros((groups, ny))
        for g in np.flatnonzero(ok):
            z[g], grad[g] = outs[g].z, outs[g].grad
        ev = Evaluation(z, grad, ok, stretched=np.array(
            [o.stretched > self.stretch_tol for o in outs]))
        if not ok.all():  # bounds that leave no room: the elastic LP says why
            cut = self.elastic_cuts(y, deadline, np.flatnonzero(~ok))
            if isinstance(cut, Status):
                return cut
            ev.feas_z, ev.feas_grad = cut.feas_z, cut.feas_grad
            return ev
        ev.x, ev.duals = self._assemble(outs)
        return ev

    def _assemble(self, outs: Sequence[PartOut]) -> tuple[np.ndarray, np.ndarray]:
        s = self.s
        x, duals = np.zeros(len(s.xi)), np.zeros(self.lp.n_rows)
        for g, o in enumerate(outs):
            assert o.x is not None
            assert o.pi is not None
            assert o.pib is not None
            x[self.cols[g]] = o.x
            duals[s.sub_rows[self.rows[g]]] = o.pi
            duals[s.bound_rows[self.brows[g]]] = o.pib
        return x, duals

    def elastic_cuts(self, y: np.ndarray, deadline: float | None,
                         parts: Sequence[int] | np.ndarray) -> Evaluation | Status:
        """The elastic LP of each part in ``parts`` at ``y``: a feasibility cut for each whose
        optimum ``w`` is above the stretch tolerance (none: the build is feasible there)."""
        which = [int(g) for g in parts]
        outs = self.pool.call("feasibility", which, y, seconds_left(deadline))
        bad = [o.status for o in outs if o.status is not Status.OPTIMAL]
        if bad:
            return bad[0]
        cut = [o for o in outs if o.z > self.stretch_tol]
        self.feasibility_cuts += len(cut)
        groups = self.s.groups
        return Evaluation(np.zeros(groups), np.zeros((groups, len(y))),
                          np.zeros(groups, dtype=bool), np.array([o.z for o in cut]),
                          np.array([o.grad for o in cut]).reshape(len(cut), len(y)))

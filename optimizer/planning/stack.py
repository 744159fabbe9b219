r"""The planning LP (DESIGN.md §7): every case's version-1 LP, side by side, sharing one build.

Each case's LP is formulated by the registry's families on the case's arrays, as in version 1;
its ``open[s]`` and ``build[e]`` columns are then mapped onto the build of its year,
``open[s,y]`` and ``build[e,y]`` (what exists in year y, cumulative). With ``P_c`` the 0/1
matrix that maps case c's columns to the planning LP's, the planning LP is::

    A = [ A_c P_c  for every case c ]      (stacked; the entries' columns renumbered, no product)
        [ linking rows                ]
    c = sum_c weight_c * c_c P_c  (operating costs; the cases' own build costs dropped)
        + sum_y D[y] * (open_cost[y] . open[.,y] + annual_cost[y] . build[.,y])

with the linking rows, once per year::

    open[s,y] - open[s,y-1] >= 0,   build[e,y] - build[e,y-1] >= 0       (what is built stays)
    build[e,y] - max_units[e,y] * open[s(e),y] <= 0                      (candidate sites)

(the cases' own ``expansion_needs_open`` rows are dropped for these). Blocks keep their names
with the case's label (``flow[2027/dry]``), so that :func:`case_view` reads a case back as the
version-1 LP it was built as; named expressions are concatenated over the cases, each scaled
by the case's factor in the horizon's expected totals (``span * probability``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from optimizer.cases import Plan
from optimizer.model.lp import COST_CATEGORIES, Block, Expression, LinearProgram

BUILD_BLOCKS = ("open", "build")
DROPPED_ROWS = ("expansion_needs_open",)


@dataclass(frozen=True)
class CaseView:
    """Where a case's own LP sits in the planning LP."""

    lp: LinearProgram
    cols: np.ndarray  # (lp.n_vars,) the planning column of each of the case's columns
    rows: np.ndarray  # (lp.n_rows,) the planning row of each of its rows; -1 where dropped


@dataclass(frozen=True)
class Stacked:
    lp: LinearProgram
    views: list[CaseView]
    candidates: np.ndarray  # (C,) site indices with an open decision
    open_cols: np.ndarray  # (Y, C) the planning columns of open[s, y]
    build_cols: np.ndarray  # (Y, E) of build[e, y]


def _build_columns(plan: Plan) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Block],
                                        list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    first = plan.build[0]
    cand = np.flatnonzero(first.candidate)
    Y, C, E = len(plan.years), len(cand), len(first.exp_ids)
    open_cols = np.arange(Y * C).reshape(Y, C)
    build_cols = Y * C + np.arange(Y * E).reshape(Y, E)
    blocks = {
        "open": Block("open", 0, Y * C, {"site": np.tile(cand, Y),
                                         "year": np.repeat(np.arange(Y), C)}),
        "build": Block("build", Y * C, Y * E, {"option": np.tile(np.arange(E), Y),
                                               "site": np.tile(first.exp_site, Y),
                                               "year": np.repeat(np.arange(Y), E)}),
    }
    ub = [np.ones(Y * C), np.concatenate([b.exp_max.astype(float) for b in plan.build])
          if E else np.zeros(0)]
    cost_cols = [open_cols.ravel(), build_cols.ravel()]
    cost_vals = [np.concatenate([y.discount * b.open_cost[cand]
                                 for y, b in zip(plan.years, plan.build, strict=True)]),
                 np.concatenate([y.discount * b.exp_cost
                                 for y, b in zip(plan.years, plan.build, strict=True)])
                 if E else np.zeros(0)]
    return cand, open_cols, build_cols, blocks, ub, cost_cols, cost_vals


@dataclass
class _Parts:
    """The planning LP's pieces, collected case by case."""

    n: int
    m: int = 0
    col_lb: list[np.ndarray] = field(default_factory=list)
    col_ub: list[np.ndarray] = field(default_factory=list)
    integer: list[np.ndarray] = field(default_factory=list)
    row_lb: list[np.ndarray] = field(default_factory=list)
    row_ub: list[np.ndarray] = field(default_factory=list)
    entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    costs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    variables: dict[str, Block] = field(default_factory=dict)
    rows: dict[str, Block] = field(default_factory=dict)


def stack(plan: Plan, lps: list[LinearProgram]) -> Stacked:
    """The planning LP of ``plan`` from its cases' LPs (``lps[i]`` of ``plan.cases[i]``)."""
    cand, open_cols, build_cols, variables, build_ub, cost_cols, cost_vals = \
        _build_columns(plan)
    n = open_cols.size + build_cols.size
    parts = _Parts(n, col_lb=[np.zeros(n)], col_ub=[np.concatenate(build_ub)],
                   integer=[np.ones(n, dtype=bool)], variables=variables)
    parts.costs += [(np.full(len(cost_cols[0]), COST_CATEGORIES.index("opening")),
                     cost_cols[0], cost_vals[0]),
                    (np.full(len(cost_cols[1]), COST_CATEGORIES.index("expansion")),
                     cost_cols[1], cost_vals[1])]
    views = [_place_case(parts, plan.label(case), case.weight,
                         (open_cols[case.year], build_cols[case.year]), lp)
             for case, lp in zip(plan.cases, lps, strict=True)]
    for name, (block, lb, ub, r, c, v) in _linking_rows(plan, open_cols, build_cols, cand,
                                                        parts.m).items():
        parts.rows[name] = block
        parts.row_lb.append(lb)
        parts.row_ub.append(ub)
        parts.entries.append((r, c, v))
        parts.m += block.size
    n, m = parts.n, parts.m
    A = sp.csr_matrix((np.concatenate([e[2] for e in parts.entries]),
                       (np.concatenate([e[0] for e in parts.entries]),
                        np.concatenate([e[1] for e in parts.entries]))), shape=(m, n))
    cat, cc, cv = (np.concatenate([c[i] for c in parts.costs]) for i in range(3))
    cost_matrix = sp.csr_matrix((cv, (cat, cc)), shape=(len(COST_CATEGORIES), n))
    lp = LinearProgram(
        c=np.bincount(cc, weights=cv, minlength=n).astype(float), A=A,
        row_lb=np.concatenate(parts.row_lb), row_ub=np.concatenate(parts.row_ub),
        col_lb=np.concatenate(parts.col_lb), col_ub=np.concatenate(parts.col_ub),
        integer=np.concatenate(parts.integer), variables=parts.variables, rows=parts.rows,
        cost_matrix=cost_matrix, build_s=sum(x.build_s for x in lps),
        expressions=_expressions(plan, views))
    return Stacked(lp, views, cand, open_cols, build_cols)


def _place_case(parts: _Parts, label: str, weight: float,
                build: tuple[np.ndarray, np.ndarray], lp: LinearProgram) -> CaseView:
    """Append one case's columns, rows, entries and weighted operating costs to ``parts``;
    its open and build columns become its year's (``build``)."""
    is_build = np.zeros(lp.n_vars, dtype=bool)
    cols = np.empty(lp.n_vars, dtype=np.int64)
    for name, target in zip(BUILD_BLOCKS, build, strict=True):
        block = lp.variables[name]
        is_build[block.slice] = True
        cols[block.slice] = target[:block.size]
    own = np.flatnonzero(~is_build)
    cols[own] = parts.n + np.arange(len(own))
    for name, block in lp.variables.items():
        if name not in BUILD_BLOCKS:
            start = int(cols[block.start]) if block.size else parts.n
            parts.variables[f"{name}[{label}]"] = Block(f"{name}[{label}]", start, block.size,
                                                        block.index)
    parts.n += len(own)
    parts.col_lb.append(lp.col_lb[own])
    parts.col_ub.append(lp.col_ub[own])
    parts.integer.append(lp.integer[own])

    keep = np.ones(lp.n_rows, dtype=bool)
    for name in DROPPED_ROWS:
        if name in lp.rows:
            keep[lp.rows[name].slice] = False
    rmap = np.full(lp.n_rows, -1, dtype=np.int64)
    rmap[keep] = parts.m + np.arange(int(keep.sum()))
    for name, block in lp.rows.items():
        if name not in DROPPED_ROWS:
            start = int(rmap[block.start]) if block.size else parts.m
            parts.rows[f"{name}[{label}]"] = Block(f"{name}[{label}]", start, block.size,
                                                   block.index)
    parts.m += int(keep.sum())
    parts.row_lb.append(lp.row_lb[keep])
    parts.row_ub.append(lp.row_ub[keep])
    coo = lp.A.tocoo()
    ok = keep[coo.row]
    parts.entries.append((rmap[coo.row[ok]], cols[coo.col[ok]], coo.data[ok]))
    cost = lp.cost_matrix.tocoo()
    ok = ~is_build[cost.col]
    parts.costs.append((cost.row[ok], cols[cost.col[ok]], weight * cost.data[ok]))
    return CaseView(lp, cols, rmap)


LinkRows = dict[str, tuple[Block, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


def _linking_rows(plan: Plan, open_cols: np.ndarray, build_cols: np.ndarray,
                  cand: np.ndarray, m: int) -> LinkRows:
    """Monotone builds and expansion-needs-open, once per year."""
    Y, C = open_cols.shape
    E = build_cols.shape[1]
    out: LinkRows = {}
    one, inf = np.ones, np.inf
    if Y > 1 and C:
        k = (Y - 1) * C
        r = m + np.arange(k)
        out["open_monotone"] = (
            Block("open_monotone", m, k, {"site": np.tile(cand, Y - 1),
                                          "year": np.repeat(np.arange(1, Y), C)}),
            np.zeros(k), np.full(k, inf), np.concatenate([r, r]),
            np.concatenate([open_cols[1:].ravel(), open_cols[:-1].ravel()]),
            np.concatenate([one(k), -one(k)]))
        m += k
    if Y > 1 and E:
        k = (Y - 1) * E
        r = m + np.arange(k)
        out["build_monotone"] = (
            Block("build_monotone", m, k, {"option": np.tile(np.arange(E), Y - 1),
                                           "year": np.repeat(np.arange(1, Y), E)}),
            np.zeros(k), np.full(k, inf), np.concatenate([r, r]),
            np.concatenate([build_cols[1:].ravel(), build_cols[:-1].ravel()]),
            np.concatenate([one(k), -one(k)]))
        m += k
    where = np.full(len(plan.build[0].sites), -1)
    where[cand] = np.arange(C)
    exp_site = plan.build[0].exp_site
    at = np.flatnonzero(where[exp_site] >= 0)
    if len(at):
        k = Y * len(at)
        r = m + np.arange(k)
        ys = np.repeat(np.arange(Y), len(at))
        es = np.tile(at, Y)
        max_units = np.stack([b.exp_max for b in plan.build]).astype(float)  # (Y, E)
        out["expansion_needs_open"] = (
            Block("expansion_needs_open", m, k, {"option": es, "year": ys}),
            np.full(k, -inf), np.zeros(k), np.concatenate([r, r]),
            np.concatenate([build_cols[ys, es], open_cols[ys, where[exp_site[es]]]]),
            np.concatenate([one(k), -max_units[ys, es]]))
    return out


def _expressions(plan: Plan, views: list[CaseView]) -> dict[str, Expression]:
    """Each named expression over every case, scaled by the case's factor (``span x
    probability``): its sum is the horizon's expected total (undiscounted)."""
    names: list[str] = []
    for v in views:
        names += [k for k in v.lp.expressions if k not in names]
    out = {}
    for name in names:
        parts = [(c, case, v.lp.expressions[name]) for c, (case, v)
                 in enumerate(zip(plan.cases, views, strict=True)) if name in v.lp.expressions]
        offsets = np.cumsum([0] + [e.size for _, _, e in parts])
        dims = list(parts[0][2].index)
        index = {"case": np.concatenate([np.full(e.size, c) for c, _, e in parts])}
        index.update({d: np.concatenate([e.index[d] for _, _, e in parts]) for d in dims})
        out[name] = Expression(
            name, index,
            rows=np.concatenate([e.rows + off for (_, _, e), off in zip(parts, offsets,
                                                                        strict=False)]),
            cols=np.concatenate([views[c].cols[e.cols] for c, _, e in parts]),
            weight=np.concatenate([np.broadcast_to(e.weight, e.rows.shape) * case.factor
                                   for _, case, e in parts]),
            coef=np.concatenate([np.broadcast_to(e.coef, e.rows.shape) for _, _, e in parts]))
    return out


def case_x(view: CaseView, x: np.ndarray) -> np.ndarray:
    """The case's own solution vector."""
    return x[view.cols]


def case_duals(view: CaseView, duals: np.ndarray | None, weight: float) -> np.ndarray | None:
    """The case's duals in its own (annual, undiscounted) units: the planning duals over the
    case's weight; the dropped rows' (its expansion-needs-open, shared by the year) are 0.
    None where the case has no weight in the objective (a contingency of probability 0): its
    rows' duals price the build, not a year of operation."""
    if duals is None or weight <= 0:
        return None
    out = np.zeros(view.lp.n_rows)
    kept = view.rows >= 0
    out[kept] = duals[view.rows[kept]] / weight
    return out

"""The backend-neutral linear programme.

``min c x  s.t.  row_lb <= A x <= row_ub,  col_lb <= x <= col_ub`` (some x integer).

Variables and constraints come in named blocks (``flow``, ``unmet``, ``capacity``, ...), each with
integer coordinates per dimension, so that a solution vector maps back to names without a solver.
The objective is kept split by cost category (DESIGN.md §2) as a sparse matrix ``cost_matrix``
(categories x variables); ``c`` is its column sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp

COST_CATEGORIES = (
    "energy", "renewable", "carbon", "transfer", "latency", "unmet", "expansion", "opening",
    "certificates", "water",
)
"""Every cost category of the model: DESIGN.md §2's, then §8's (version 2)."""
V1_COST_CATEGORIES = COST_CATEGORIES[:8]


def cost_categories(version: int) -> tuple[str, ...]:
    """The categories a solution of an instance of format ``version`` reports: a version-1
    instance keeps its version-1 costs (the §8 categories are always 0 there)."""
    return V1_COST_CATEGORIES if version < 2 else COST_CATEGORIES


@dataclass(frozen=True)
class ModelOptions:
    """Choices about the formulation (not about the instance)."""

    valid_inequalities: bool = True
    """Add ``x[r,s,k,t] <= d[r,k,t] * o[s]`` for candidate sites (tightens the LP relaxation)."""


@dataclass(frozen=True)
class Block:
    """A contiguous range of variables or rows with their coordinates."""

    name: str
    start: int
    size: int
    index: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def stop(self) -> int:
        return self.start + self.size

    @property
    def slice(self) -> slice:
        return slice(self.start, self.stop)

    def ids(self) -> np.ndarray:
        """Global positions of the block's members."""
        return np.arange(self.start, self.stop)


def _is_one(value: np.ndarray | float) -> bool:
    return bool(np.isscalar(value) and value == 1.0)


@dataclass(frozen=True)
class Expression:
    r"""A named linear expression over the variables, one value per member (GenX-style shared
    expressions: defined once by the family that owns them, read by rows, reports and goals).

    ``value[m] = sum over entries e with rows[e] == m of (x[cols[e]] * weight[e]) * coef[e]``.
    ``weight`` is the hours a year an entry's period stands for (``a[t]``) in an annual quantity
    (energy, emissions) and 1 in a power-valued one (IT load); ``coef`` is the per-MWh (or per-MW)
    coefficient. Readers scale the two in this order, ``(weight * scale) * coef``, so that a cost
    or a row written from an expression is the same float as when it was written by hand.
    ``weight`` and ``coef`` may be scalars (broadcast).
    """

    name: str
    index: dict[str, np.ndarray]  # coordinates of the members
    rows: np.ndarray  # (entries,) member of each entry
    cols: np.ndarray  # (entries,) variable of each entry
    weight: np.ndarray | float
    coef: np.ndarray | float

    @property
    def size(self) -> int:
        return len(next(iter(self.index.values()))) if self.index else 0

    def terms(self, scale: np.ndarray | float = 1.0) -> np.ndarray | float:
        """Each entry's coefficient ``(weight * scale[member]) * coef``."""
        if not np.isscalar(scale):
            scale = np.asarray(scale)[self.rows]
        out: Any = scale
        if not _is_one(self.weight):  # multiplying by 1.0 is exact: skip the pass over entries
            out = self.weight * out
        if not _is_one(self.coef):
            out = out * self.coef
        return out

    def value(self, x: np.ndarray) -> np.ndarray:
        """(size,) the expression's value at ``x``."""
        contrib = (x[self.cols] * self.weight) * self.coef
        contrib = np.broadcast_to(contrib, self.rows.shape)
        return np.bincount(self.rows, contrib, minlength=self.size).astype(float)

    def coefficients(self, n_vars: int) -> np.ndarray:
        """(n_vars,) the expression summed over its members, as objective coefficients."""
        terms = np.broadcast_to(self.terms(), self.cols.shape)
        return np.bincount(self.cols, terms, minlength=n_vars).astype(float)


@dataclass(frozen=True)
class LinearProgram:
    c: np.ndarray
    A: sp.csr_matrix
    row_lb: np.ndarray
    row_ub: np.ndarray
    col_lb: np.ndarray
    col_ub: np.ndarray
    integer: np.ndarray
    variables: dict[str, Block]
    rows: dict[str, Block]
    cost_matrix: sp.csr_matrix
    build_s: float = 0.0
    expressions: dict[str, Expression] = field(default_factory=dict)

    @property
    def n_vars(self) -> int:
        return int(self.c.shape[0])

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    @property
    def nnz(self) -> int:
        return int(self.A.nnz)

    @property
    def is_mip(self) -> bool:
        return bool(self.integer.any())

    def fix_integers(self, x: np.ndarray) -> LinearProgram:
        """The LP with every integer variable fixed at its (rounded) value in ``x``."""
        fixed = np.round(x[self.integer])
        lb, ub = self.col_lb.copy(), self.col_ub.copy()
        lb[self.integer] = fixed
        ub[self.integer] = fixed
        return replace(self, col_lb=lb, col_ub=ub, integer=np.zeros_like(self.integer))

    def costs(self, x: np.ndarray) -> dict[str, float]:
        values = self.cost_matrix @ x
        return {cat: float(v) for cat, v in zip(COST_CATEGORIES, values, strict=True)}

    def var_name(self, j: int) -> str:
        for block in self.variables.values():
            if block.start <= j < block.stop:
                coords = ",".join(str(int(v[j - block.start])) for v in block.index.values())
                return f"{block.name}[{coords}]"
        raise IndexError(j)

    def row_name(self, i: int) -> str:
        for block in self.rows.values():
            if block.start <= i < block.stop:
                coords = ",".join(str(int(v[i - block.start])) for v in block.index.values())
                return f"{block.name}[{coords}]"
        raise IndexError(i)


class Builder:
    """Collects blocks of columns, rows, coefficients and costs; ``build()`` assembles the LP."""

    def __init__(self, options: ModelOptions | None = None) -> None:
        self.options = options or ModelOptions()
        self.variables: dict[str, Block] = {}
        self.rows: dict[str, Block] = {}
        self._n = 0
        self._m = 0
        self._col_lb: list[np.ndarray] = []
        self._col_ub: list[np.ndarray] = []
        self._integer: list[np.ndarray] = []
        self._row_lb: list[np.ndarray] = []
        self._row_ub: list[np.ndarray] = []
        self._terms: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._costs: list[tuple[int, np.ndarray, np.ndarray]] = []
        self.expressions: dict[str, Expression] = {}

    def add_vars(
        self,
        name: str,
        index: dict[str, np.ndarray],
        lb: np.ndarray | float = 0.0,
        ub: np.ndarray | float = np.inf,
        integer: bool = False,
    ) -> Block:
        size = len(next(iter(index.values()))) if index else 0
        block = Block(name, self._n, size, index)
        self.variables[name] = block
        self._n += size
        self._col_lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (size,)))
        self._col_ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (size,)))
        self._integer.append(np.full(size, integer))
        return block

    def add_rows(
        self,
        name: str,
        index: dict[str, np.ndarray],
        lb: np.ndarray | float,
        ub: np.ndarray | float,
    ) -> Block:
        size = len(next(iter(index.values()))) if index else 0
        block = Block(name, self._m, size, index)
        self.rows[name] = block
        self._m += size
        self._row_lb.append(np.broadcast_to(np.asarray(lb, dtype=float), (size,)))
        self._row_ub.append(np.broadcast_to(np.asarray(ub, dtype=float), (size,)))
        return block

    def add_terms(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray | float) -> None:
        """Coefficients ``A[rows, cols] += vals`` (global positions)."""
        rows = np.asarray(rows, dtype=np.int64)
        vals_arr = np.broadcast_to(np.asarray(vals, dtype=float), rows.shape)
        self._terms.append((rows, np.asarray(cols, dtype=np.int64), vals_arr))

    def add_expression(self, name: str, index: dict[str, np.ndarray], rows: np.ndarray,
                       cols: np.ndarray, weight: np.ndarray | float = 1.0,
                       coef: np.ndarray | float = 1.0) -> Expression:
        """Define the named expression ``name`` (see :class:`Expression`); once."""
        if name in self.expressions:
            raise ValueError(f"expression {name!r} is defined twice")
        expr = Expression(name, index, np.asarray(rows, dtype=np.int64),
                          np.asarray(cols, dtype=np.int64), weight, coef)
        self.expressions[name] = expr
        return expr

    def add_terms_from(self, rows: np.ndarray, expr: Expression,
                       scale: np.ndarray | float = 1.0,
                       members: np.ndarray | None = None) -> None:
        """Coefficients ``A[rows[m], :] += scale[m] * expr[m]`` (``rows``: a global row per
        member of the expression; ``members``: a mask of the members to use, default all)."""
        rows = np.asarray(rows)
        if members is None:
            self.add_terms(rows[expr.rows], expr.cols, expr.terms(scale))
            return
        keep = np.asarray(members, dtype=bool)[expr.rows]
        terms = np.broadcast_to(expr.terms(scale), expr.rows.shape)
        self.add_terms(rows[expr.rows[keep]], expr.cols[keep], terms[keep])

    def add_cost_from(self, category: str, expr: Expression,
                      scale: np.ndarray | float = 1.0) -> None:
        """Cost ``sum_m scale[m] * expr[m]`` in ``category`` (e.g. a price times emissions)."""
        self.add_cost(category, expr.cols, expr.terms(scale))

    def add_cost(self, category: str, cols: np.ndarray, coeffs: np.ndarray | float) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        coeffs_arr = np.broadcast_to(np.asarray(coeffs, dtype=float), cols.shape)
        nonzero = coeffs_arr != 0  # e.g. a zero latency cost: no entry at all
        self._costs.append((COST_CATEGORIES.index(category), cols[nonzero], coeffs_arr[nonzero]))

    def build(self) -> LinearProgram:
        n, m = self._n, self._m

        def cat(parts: list[np.ndarray], dtype: type = float) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        index = np.int32 if max(n, m) < np.iinfo(np.int32).max else np.int64
        if self._terms:
            # COO -> CSR is a counting sort in scipy (linear); duplicates are summed, explicit
            # zeros (e.g. a coefficient that cancels) removed in place afterwards
            r = np.concatenate([t[0] for t in self._terms]).astype(index, copy=False)
            c = np.concatenate([t[1] for t in self._terms]).astype(index, copy=False)
            v = np.concatenate([t[2] for t in self._terms])
            A = sp.csr_matrix((v, (r, c)), shape=(m, n))
            A.eliminate_zeros()
        else:
            A = sp.csr_matrix((m, n))

        # the cost matrix (categories x variables) is assembled as CSR directly: terms grouped
        # by category; a column may repeat within a row, which products handle correctly
        order = sorted(range(len(self._costs)), key=lambda i: self._costs[i][0])
        counts = np.zeros(len(COST_CATEGORIES) + 1, dtype=np.int64)
        for k, cols, _ in self._costs:
            counts[k + 1] += len(cols)
        cost_cols = cat([self._costs[i][1] for i in order], index)
        cost_vals = cat([self._costs[i][2] for i in order])
        cost_matrix = sp.csr_matrix((cost_vals, cost_cols, np.cumsum(counts)),
                                    shape=(len(COST_CATEGORIES), n))
        return LinearProgram(
            c=np.bincount(cost_cols, weights=cost_vals, minlength=n).astype(float),
            A=A,
            row_lb=cat(self._row_lb),
            row_ub=cat(self._row_ub),
            col_lb=cat(self._col_lb),
            col_ub=cat(self._col_ub),
            integer=cat(self._integer, bool),
            variables=dict(self.variables),
            rows=dict(self.rows),
            cost_matrix=cost_matrix,
            expressions=dict(self.expressions),
        )

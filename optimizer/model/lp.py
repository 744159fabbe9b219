"""The backend-neutral linear programme.

``min c x  s.t.  row_lb <= A x <= row_ub,  col_lb <= x <= col_ub`` (some x integer).

Variables and constraints come in named blocks (``flow``, ``unmet``, ``capacity``, ...), each with
integer coordinates per dimension, so that a solution vector maps back to names without a solver.
The objective is kept split by cost category (DESIGN.md §2) as a sparse matrix ``cost_matrix``
(categories x variables); ``c`` is its column sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp

COST_CATEGORIES = (
    "energy", "renewable", "carbon", "transfer", "latency", "unmet", "expansion", "opening",
)


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

    def add_cost(self, category: str, cols: np.ndarray, coeffs: np.ndarray | float) -> None:
        cols = np.asarray(cols, dtype=np.int64)
        coeffs_arr = np.broadcast_to(np.asarray(coeffs, dtype=float), cols.shape)
        self._costs.append((COST_CATEGORIES.index(category), cols, coeffs_arr))

    def build(self) -> LinearProgram:
        n, m = self._n, self._m

        def cat(parts: list[np.ndarray], dtype: type = float) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        def coo(triplets: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
                shape: tuple[int, int]) -> sp.csr_matrix:
            if not triplets:
                return sp.csr_matrix(shape)
            r = np.concatenate([t[0] for t in triplets])
            c = np.concatenate([t[1] for t in triplets])
            v = np.concatenate([t[2] for t in triplets])
            keep = v != 0
            mat = sp.csr_matrix((v[keep], (r[keep], c[keep])), shape=shape)
            mat.sum_duplicates()
            return mat

        cost_matrix = coo(
            [(np.full(len(cols), k), cols, v) for k, cols, v in self._costs],
            (len(COST_CATEGORIES), n),
        )
        return LinearProgram(
            c=np.asarray(cost_matrix.sum(axis=0)).ravel(),
            A=coo(self._terms, (m, n)),
            row_lb=cat(self._row_lb),
            row_ub=cat(self._row_ub),
            col_lb=cat(self._col_lb),
            col_ub=cat(self._col_ub),
            integer=cat(self._integer, bool),
            variables=dict(self.variables),
            rows=dict(self.rows),
            cost_matrix=cost_matrix,
        )

"""A LinearProgram restricted to some of its columns and rows, its blocks renumbered.

A column left out is fixed at 0 (it must allow 0); a row left out is dropped (a relaxation).
Blocks keep their names and the coordinates of the members kept.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.lp import Block, LinearProgram


def _blocks(blocks: dict[str, Block], keep: np.ndarray, new: np.ndarray) -> dict[str, Block]:
    out = {}
    for name, block in blocks.items():
        sel = np.flatnonzero(keep[block.slice])
        # the kept members of a block stay contiguous: every column (row) kept is renumbered
        # in order
        start = int(new[block.start + sel[0]]) if len(sel) else 0
        out[name] = Block(name, start, len(sel), {k: v[sel] for k, v in block.index.items()})
    return out


def restrict(lp: LinearProgram, keep_cols: np.ndarray, keep_rows: np.ndarray
             ) -> tuple[LinearProgram, np.ndarray, np.ndarray]:
    """(the restricted LP, the full LP's index of each kept column, of each kept row)."""
    cols, rows = np.flatnonzero(keep_cols), np.flatnonzero(keep_rows)
    new_col = np.full(lp.n_vars, -1, dtype=np.int64)
    new_col[cols] = np.arange(len(cols))
    new_row = np.full(lp.n_rows, -1, dtype=np.int64)
    new_row[rows] = np.arange(len(rows))
    sub = LinearProgram(
        c=lp.c[cols], A=lp.A[rows][:, cols].tocsr(), row_lb=lp.row_lb[rows],
        row_ub=lp.row_ub[rows], col_lb=lp.col_lb[cols], col_ub=lp.col_ub[cols],
        integer=lp.integer[cols], variables=_blocks(lp.variables, keep_cols, new_col),
        rows=_blocks(lp.rows, keep_rows, new_row), cost_matrix=lp.cost_matrix[:, cols].tocsr())
    return sub, cols, rows

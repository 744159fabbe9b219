"""A guard on the numbers of a built model: what the solvers can hold.

The solvers take a magnitude of 1e20 or more for infinity (HiGHS' ``kHighsInf`` threshold,
CLP's and CBC's ``1e20`` bound, GLOP's and SCIP's "infinity" defaults), so a coefficient that
large is no longer a number to them, and a bound that large silently becomes no bound. Each
field of an instance is within ±1e15 (``schema.MAX_VALUE``), but the model multiplies them
(a price by the hours and weight of a period, by a PUE): :func:`check_numbers` refuses, naming
the block, a model with a matrix coefficient or objective entry that is not finite or is
:data:`LARGEST` or more in magnitude, or with a finite bound that large (an infinite bound is no
bound, as the model means it) or a bound that is not a number. Run by
:func:`optimizer.pipeline.solve_document` after formulate, and on a plan's stacked LP.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from optimizer.errors import InstanceError, Problem
from optimizer.model.lp import Block, LinearProgram

LARGEST = 1e20
"""The smallest magnitude the solvers take for infinity."""


def _block(blocks: dict[str, Block], position: int) -> Block:
    return next(b for b in blocks.values() if b.start <= position < b.stop)


def _bad_value(values: np.ndarray) -> np.ndarray:
    return ~np.isfinite(values) | (np.abs(values) >= LARGEST)


def _bad_bound(values: np.ndarray) -> np.ndarray:
    return np.isnan(values) | (np.isfinite(values) & (np.abs(values) >= LARGEST))


def _by_block(what: str, bad: np.ndarray, values: np.ndarray, blocks: dict[str, Block],
              name: Callable[[int], str]) -> Iterator[str]:
    """One sentence per block with bad entries: how many, the first, its value."""
    positions = np.flatnonzero(bad)
    done: set[str] = set()
    for k in positions:
        block = _block(blocks, int(k))
        if block.name in done:
            continue
        done.add(block.name)
        members = positions[(positions >= block.start) & (positions < block.stop)]
        first = int(members[0])
        yield (f"{len(members):,} {what} of the {block.name} block not finite or 1e20 or more "
               f"in magnitude (the first: {name(first)} = {values[first]:g})")


def number_problems(lp: LinearProgram) -> list[str]:
    """Every block with a number the solvers cannot hold, in words; empty when all fit."""
    out = list(_by_block("objective coefficients", _bad_value(lp.c), lp.c, lp.variables,
                         lp.var_name))
    for what, values in (("lower bounds", lp.col_lb), ("upper bounds", lp.col_ub)):
        out += _by_block(f"variable {what}", _bad_bound(values), values, lp.variables,
                         lp.var_name)
    for what, values in (("lower bounds", lp.row_lb), ("upper bounds", lp.row_ub)):
        out += _by_block(f"row {what}", _bad_bound(values), values, lp.rows, lp.row_name)
    A = lp.A.tocsr()
    bad = np.flatnonzero(_bad_value(A.data))
    if len(bad):
        rows = np.searchsorted(A.indptr, bad, side="right") - 1
        row_bad = np.zeros(lp.n_rows, dtype=bool)
        row_bad[rows] = True
        worst = np.zeros(lp.n_rows)
        worst[rows] = A.data[bad]
        out += _by_block("matrix coefficients in rows", row_bad, worst, lp.rows, lp.row_name)
    return out


def check_numbers(lp: LinearProgram, file: str) -> None:
    """Raise InstanceError, a problem per block (:func:`number_problems`), when ``lp`` has a
    number the solvers cannot hold; ``file`` is the instance's."""
    numbers = number_problems(lp)
    if numbers:
        raise InstanceError([Problem(f"the model has {n}: solvers take that for infinity; "
                                     "the instance's numbers multiply (a price by a period's "
                                     "hours and weight, by a PUE): scale them down (e.g. money "
                                     "in thousands)", (), file) for n in numbers])

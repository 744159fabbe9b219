r"""Deferrable work (DESIGN.md §2, constraint 1 for classes with ``max_delay_periods = D > 0``).

Backlog ``b[r,k,t] >= 0`` (MWh waiting at the end of period t), cyclic over the periods::

    b[r,k,t] = b[r,k,t-1] + hours[t] * (d[r,k,t] - sum_s x[r,s,k,t] - u[r,k,t])
    b[r,k,t] <= sum_{tau in the D periods ending at t} hours[tau] * d[r,k,tau]

The first line is the demand row of :mod:`optimizer.model.demand` (written in energy for these
classes) with ``+ b[t] - b[t-1]`` added; the second is the backlog's upper bound: work waits at
most D periods.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.demand import pair_counts
from optimizer.model.family import EXACT, Family
from optimizer.model.lp import Builder


def backlog_bound(hd: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Cyclic sums of the last ``D[i]`` values of each row of ``hd`` (P, T), ending at each t."""
    P, T = hd.shape
    out = np.zeros_like(hd)
    for delay in np.unique(D):  # a loop over distinct windows, not over variables
        sel = delay == D
        width = int(min(delay, T))
        tiled = np.concatenate([hd[sel], hd[sel]], axis=1)
        c = np.concatenate([np.zeros((sel.sum(), 1)), np.cumsum(tiled, axis=1)], axis=1)
        ends = np.arange(T, 2 * T)  # window (end - width, end] in the tiled array
        out[sel] = c[:, ends + 1] - c[:, ends + 1 - width]
    return out


def define(arrays: Arrays, b: Builder) -> None:
    T = len(arrays.periods)
    rows = b.rows["demand"]
    row_class = rows.index["class"]
    deferrable = arrays.max_delay[row_class] > 0
    sel = np.flatnonzero(deferrable)  # demand rows of deferrable pairs, pair-major, t-minor
    region, klass, t = (rows.index[k][sel] for k in ("region", "class", "period"))
    P = len(sel) // T if T else 0
    hd = (arrays.hours[t] * arrays.demand[region, klass, t]).reshape(P, T)
    ub = backlog_bound(hd, arrays.max_delay[klass.reshape(P, T)[:, 0]]).ravel()
    backlog = b.add_vars("backlog", {"region": region, "class": klass, "period": t},
                         lb=0.0, ub=ub)
    b.add_terms(rows.start + sel, backlog.ids(), 1.0)
    prev = (t - 1) % T  # the same pair's previous period, cyclic
    b.add_terms(rows.start + sel, backlog.start + (np.arange(len(sel)) - t + prev), -1.0)


def size(arrays: Arrays) -> tuple[int, int]:
    """A backlog variable per deferrable pair and period, in two demand rows each."""
    n = pair_counts(arrays)[1] * len(arrays.periods)
    return n, 2 * n


FAMILY = Family(
    "deferral", define, presolve=EXACT, size=size,
    doc="deferrable work: a cyclic backlog, each unit waiting at most max_delay_periods")

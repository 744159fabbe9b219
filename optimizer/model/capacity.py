r"""IT capacity (DESIGN.md §2, constraint 2)::

    sum_{r,k} x[r,s,k,t] <= cap[s]*o[s] + sum_{e at s} size[e]*n[e]   for every site s, period t

with ``o[s] = 1`` for existing sites (the term moves to the right-hand side) and the ``open`` and
``build`` variables of :mod:`optimizer.model.expansion` otherwise.

The dual of this row, summed over periods, is the site's ``capacity_price``: the annual saving from
one more MW of IT capacity (currency per MW-year).
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import EXACT, Family, Price
from optimizer.model.lp import Builder


def define(arrays: Arrays, b: Builder) -> None:
    S, T = len(arrays.sites), len(arrays.periods)
    cand = arrays.candidate
    rows = b.add_rows(
        "capacity",
        {"site": np.repeat(np.arange(S), T), "period": np.tile(np.arange(T), S)},
        lb=-np.inf,
        ub=np.repeat(np.where(cand, 0.0, arrays.capacity), T),
    )
    b.add_terms_from(rows.ids(), b.expressions["it_load"])

    opened = b.variables["open"]
    os_ = opened.index["site"]
    b.add_terms(rows.start + np.repeat(os_ * T, T) + np.tile(np.arange(T), len(os_)),
                np.repeat(opened.ids(), T), -np.repeat(arrays.capacity[os_], T))
    build = b.variables["build"]
    es = build.index["site"]
    b.add_terms(rows.start + np.repeat(es * T, T) + np.tile(np.arange(T), len(es)),
                np.repeat(build.ids(), T), -np.repeat(arrays.exp_size, T))


def size(arrays: Arrays) -> tuple[int, int]:
    """One entry per flow variable (and the open/build terms, counted by expansion)."""
    return 0, len(arrays.arc_region) * len(arrays.periods)


FAMILY = Family(
    "capacity", define, presolve=EXACT, size=size,
    prices=(Price("capacity", "capacity", "site", "IT capacity", "{cur} per MW-year",
                  "one more MW of IT capacity at {subject} would save {value:,.0f} {cur} "
                  "a year{suffix}"),),
    doc="IT load within each site's capacity (existing, opened and built) in every period")

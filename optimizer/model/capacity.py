r"""IT capacity (DESIGN.md §2, constraint 2, without expansion)::

    sum_{r,k} x[r,s,k,t] <= cap[s]        for every site s and period t

The dual of this row, summed over periods, is the site's ``capacity_price``: the annual saving from
one more MW of IT capacity (currency per MW-year).
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.lp import Builder


def define(arrays: Arrays, b: Builder) -> None:
    S, T = len(arrays.sites), len(arrays.periods)
    flow = b.variables["flow"]
    rows = b.add_rows(
        "capacity",
        {"site": np.repeat(np.arange(S), T), "period": np.tile(np.arange(T), S)},
        lb=-np.inf,
        ub=np.repeat(arrays.capacity, T),
    )
    site, t = flow.index["site"], flow.index["period"]
    b.add_terms(rows.start + site * T + t, flow.ids(), 1.0)

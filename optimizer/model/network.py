r"""Bandwidth corridors (DESIGN.md §2, constraint 4).

For corridor ``l`` joining a set of regions and a set of sites, in every period::

    sum_{(r,s) in l} sum_k data_gb_per_mwh[k] * x[r,s,k,t] * 8/3600 <= capacity_gbps[l]

(MW of IT load = MWh per hour; times GB per MWh = GB per hour; times 8/3600 = Gbps.)
The dual of a corridor's rows, summed over periods, is its shadow price in currency per Gbps-year.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.lp import Builder

GBPS_PER_GB_PER_HOUR = 8.0 / 3600.0


def define(arrays: Arrays, b: Builder) -> None:
    L, T = len(arrays.corridor_ids), len(arrays.periods)
    rows = b.add_rows("corridor", {"corridor": np.repeat(np.arange(L), T),
                                   "period": np.tile(np.arange(T), L)},
                      lb=-np.inf, ub=np.repeat(arrays.corridor_capacity, T))
    if not L:
        return
    flow = b.variables["flow"]
    fr, fs, fk, ft = (flow.index[k] for k in ("region", "site", "class", "period"))
    coef = arrays.data_gb[fk] * GBPS_PER_GB_PER_HOUR
    # (corridor, flow) pairs where the flow's region and site both belong to the corridor
    member = arrays.corridor_region[:, fr] & arrays.corridor_site[:, fs] & (coef > 0)[None, :]
    lidx, fidx = np.nonzero(member)
    b.add_terms(rows.start + lidx * T + ft[fidx], flow.ids()[fidx], coef[fidx])

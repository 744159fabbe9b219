r"""Bandwidth corridors (DESIGN.md §2, constraint 4).

For corridor ``l`` joining a set of regions and a set of sites, in every period::

    sum_{(r,s) in l} sum_k data_gb_per_mwh[k] * x[r,s,k,t] * 8/3600 <= capacity_gbps[l]

(MW of IT load = MWh per hour; times GB per MWh = GB per hour; times 8/3600 = Gbps.)
The dual of a corridor's rows, summed over periods, is its shadow price in currency per Gbps-year.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import DEARER_THAN_UNMET, Family, Price, Stance
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


MAX_CORRIDORS_FOR_DOMINANCE = 62
"""The dominance rule compares the corridors two arcs cross as a bit mask in an int64."""


def size(arrays: Arrays) -> tuple[int, int]:
    """About one entry per flow variable when there are corridors."""
    return 0, len(arrays.arc_region) * len(arrays.periods) * int(arrays.corridor_region.any())


FAMILY = Family(
    "network", define, size=size,
    presolve=Stance(
        frozenset({DEARER_THAN_UNMET}),
        "less load never breaks a corridor; the dominance rule moves load only to arcs that "
        "cross no corridor the moved arc avoids, which it can test for up to 62 corridors",
        where=lambda arrays: len(arrays.corridor_ids) > MAX_CORRIDORS_FOR_DOMINANCE),
    prices=(Price("corridor", "corridor", "corridor", "corridor bandwidth",
                  "{cur} per Gbps-year",
                  "one more Gbps on the {subject} corridor would save {value:,.0f} {cur} "
                  "a year{suffix}"),),
    doc="bandwidth corridors between groups of regions and sites")

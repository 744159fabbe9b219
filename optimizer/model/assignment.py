r"""Single-site assignment (``assignment: single`` on a class).

Each region's demand of such a class is served by exactly one site: a binary ``assign[a]`` per arc
``a = (r, s, k)`` with::

    x[r,s,k,t] = d[r,k,t] * assign[r,s,k]      for every period t
    sum_s assign[r,s,k] <= 1

With the demand rows (``sum_s x + u = d``) the unmet part is ``d * (1 - sum_s assign)``: all or
nothing. For hard demand (no ``u``) the demand rows force ``sum_s assign = 1``.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import Family, Stance, no_size
from optimizer.model.lp import Builder


def define(arrays: Arrays, b: Builder) -> None:
    T = len(arrays.periods)
    arcs = np.flatnonzero(arrays.single[arrays.arc_class])
    assign = b.add_vars("assign", {"arc": arcs, "region": arrays.arc_region[arcs],
                                   "site": arrays.arc_site[arcs],
                                   "class": arrays.arc_class[arcs]},
                        lb=0.0, ub=1.0, integer=True)
    if not len(arcs):
        return
    flow = b.variables["flow"]
    # flow columns are arc-major: flow[a, t] = flow.start + a*T + t
    cols = flow.start + np.repeat(arcs * T, T) + np.tile(np.arange(T), len(arcs))
    t = np.tile(np.arange(T), len(arcs))
    d = arrays.demand[np.repeat(arrays.arc_region[arcs], T), np.repeat(arrays.arc_class[arcs], T),
                      t]
    link = b.add_rows("assign_link", {"arc": np.repeat(arcs, T), "period": t}, lb=0.0, ub=0.0)
    b.add_terms(link.ids(), cols, 1.0)
    b.add_terms(link.ids(), np.repeat(assign.ids(), T), -d)

    # one row per (region, class) pair with single arcs
    pair = arrays.arc_region[arcs] * len(arrays.classes) + arrays.arc_class[arcs]
    keys, which = np.unique(pair, return_inverse=True)
    one = b.add_rows("assign_one", {"region": keys // len(arrays.classes),
                                    "class": keys % len(arrays.classes)}, lb=-np.inf, ub=1.0)
    b.add_terms(one.start + which, assign.ids(), 1.0)


FAMILY = Family(
    "assignment", define, size=no_size,
    presolve=Stance(
        frozenset(),
        "an arc of a single-site class carries an all-or-nothing assignment decision: its flow "
        "can be neither left unmet alone nor moved alone",
        where=lambda arrays: arrays.single[arrays.arc_class]),
    doc="single-site assignment: each region's demand of a class served by one site")

r"""Demand (DESIGN.md §2, constraint 1, non-deferrable classes) and the flow variables.

Variables
    ``flow[a, t] >= 0``: IT load (MW) on arc ``a = (r, s, k)`` in period ``t``;
    ``unmet[r, k, t]`` in ``[0, d[r,k,t]]`` for classes with a finite ``unmet_penalty``.

Rows, one per region-class pair with demand and period::

    sum_{s} x[r,s,k,t] + u[r,k,t] = d[r,k,t]

For deferrable classes the same rows are written in energy, ``hours[t] * (sum_s x + u) = hours[t]
* d``, and :mod:`optimizer.model.deferral` adds the backlog to them. ``u <= d`` bounds the unmet
part of non-deferrable classes (implied by the row); deferrable work may be dropped later than
it arrived, so there ``u`` has no upper bound.

Costs, with ``a[t] = hours[t] * weight[t]``::

    transfer = sum a[t] * data_gb_per_mwh[k] * transfer_cost[r,s] * x[r,s,k,t]
    latency  = sum a[t] * latency_cost[k] * latency(r,s) * x[r,s,k,t]
    unmet    = sum a[t] * unmet_penalty[k] * u[r,k,t]
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.lp import Builder


def demand_pairs(arrays: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """Region-class pairs with demand in some period: (region index, class index)."""
    pr, pk = np.nonzero(arrays.demand.sum(axis=2) > 0)
    return pr.astype(np.int64), pk.astype(np.int64)


def define(arrays: Arrays, b: Builder) -> None:
    T = len(arrays.periods)
    t_range = np.arange(T)
    A = len(arrays.arc_region)
    annual = arrays.annual

    # flow[a, t], arc-major
    arc = np.repeat(np.arange(A), T)
    t_of = np.tile(t_range, A)
    flow = b.add_vars("flow", {
        "region": arrays.arc_region[arc], "site": arrays.arc_site[arc],
        "class": arrays.arc_class[arc], "period": t_of,
    })

    # one demand row per (pair, t)
    pr, pk = demand_pairs(arrays)
    P = len(pr)
    pair_of = np.full(arrays.demand.shape[:2], -1, dtype=np.int64)
    pair_of[pr, pk] = np.arange(P)
    row_pair = np.repeat(np.arange(P), T)
    row_t = np.tile(t_range, P)
    d = arrays.demand[pr[row_pair], pk[row_pair], row_t]
    deferrable = arrays.max_delay[pk[row_pair]] > 0
    scale = np.where(deferrable, arrays.hours[row_t], 1.0)
    rows = b.add_rows("demand", {"region": pr[row_pair], "class": pk[row_pair],
                                 "period": row_t}, lb=scale * d, ub=scale * d)

    arc_pair = pair_of[arrays.arc_region, arrays.arc_class]
    flow_row = arc_pair[arc] * T + t_of
    b.add_terms(rows.start + flow_row, flow.ids(), scale[flow_row])

    # unmet demand for soft classes
    soft = ~np.isnan(arrays.unmet_penalty[pk[row_pair]])
    unmet = b.add_vars(
        "unmet",
        {"region": pr[row_pair][soft], "class": pk[row_pair][soft], "period": row_t[soft]},
        lb=0.0, ub=np.where(deferrable[soft], np.inf, d[soft]),
    )
    b.add_terms(rows.start + np.flatnonzero(soft), unmet.ids(), scale[soft])

    # costs
    r, s, k = arrays.arc_region[arc], arrays.arc_site[arc], arrays.arc_class[arc]
    a = annual[t_of]
    b.add_cost("transfer", flow.ids(), a * arrays.data_gb[k] * arrays.transfer_cost[r, s])
    b.add_cost("latency", flow.ids(), a * arrays.latency_cost[k] * arrays.latency[r, s])
    b.add_cost("unmet", unmet.ids(),
               annual[row_t[soft]] * arrays.unmet_penalty[pk[row_pair][soft]])

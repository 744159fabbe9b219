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
    latency  = sum latency_cost[k] * latency_mwh_ms[k]
    unmet    = sum unmet_penalty[k] * unmet_energy[r,k,t]

Named expressions (defined here, read by capacity, power, interpret and study goals)::

    it_load[s,t]        = sum_{r,k} x[r,s,k,t]                        MW of IT load
    latency_mwh_ms[k]   = sum_{r,s,t} a[t] * latency(r,s) * x[r,s,k,t]  MWh x ms a year
    unmet_energy[r,k,t] = a[t] * u[r,k,t]                              MWh a year
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import EXACT, Family
from optimizer.model.lp import Builder


def demand_pairs(arrays: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """Region-class pairs with demand in some period: (region index, class index)."""
    pr, pk = np.nonzero(arrays.demand.sum(axis=2) > 0)
    return pr.astype(np.int64), pk.astype(np.int64)


def pair_counts(arrays: Arrays) -> tuple[int, int]:
    """(soft, deferrable): region-class pairs with demand whose class may go unmet, or wait."""
    has = arrays.demand.sum(axis=2) > 0
    return (int(has[:, ~np.isnan(arrays.unmet_penalty)].sum()),
            int(has[:, arrays.max_delay > 0].sum()))


def size(arrays: Arrays) -> tuple[int, int]:
    """Flow and unmet variables; one demand-row entry for each."""
    T = len(arrays.periods)
    flows = len(arrays.arc_region) * T
    soft = pair_counts(arrays)[0] * T
    return flows + soft, flows + soft


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

    # named expressions, and the costs written from them
    r, s, k = arrays.arc_region[arc], arrays.arc_site[arc], arrays.arc_class[arc]
    S, K = len(arrays.sites), len(arrays.classes)
    a = annual[t_of]
    b.add_expression("it_load", {"site": np.repeat(np.arange(S), T), "period": np.tile(t_range, S)},
                     rows=s * T + t_of, cols=flow.ids())
    latency = b.add_expression("latency_mwh_ms", {"class": np.arange(K)}, rows=k,
                               cols=flow.ids(), weight=a, coef=arrays.latency[r, s])
    unmet_energy = b.add_expression(
        "unmet_energy", dict(unmet.index), rows=np.arange(unmet.size), cols=unmet.ids(),
        weight=annual[row_t[soft]])
    b.add_cost("transfer", flow.ids(), a * arrays.data_gb[k] * arrays.transfer_cost[r, s])
    b.add_cost_from("latency", latency, arrays.latency_cost)
    b.add_cost_from("unmet", unmet_energy, arrays.unmet_penalty[pk[row_pair][soft]])


FAMILY = Family(
    "demand", define, presolve=EXACT, size=size,
    doc="flows and unmet demand; every region-class pair's demand met in each period")

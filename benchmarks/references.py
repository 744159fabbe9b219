"""The two references eastwest's vectorised build is measured against (benchmarks/build.py).

- :func:`raw_csr`: the same LP (matrix, costs, bounds, in the same order) assembled from the
  compiled Arrays as numpy triplets, then one scipy CSR: the floor for what a build can cost;
  :func:`same_lp` checks that it is the same model as ``formulate``'s.
- :func:`pulp_build`: the same LP written the idiomatic PuLP way (dicts of variables, ``lpSum``
  per row and per cost category): what an element-by-element build costs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

import numpy as np
import scipy.sparse as sp


def raw_csr(ar: Any) -> dict[str, Any]:
    """The same LP (matrix, costs, bounds, same order) as triplets with numpy, then scipy CSR.

    The minimal assembly: a floor for what a build from these Arrays can cost.
    """
    T, S, A = len(ar.periods), len(ar.sites), len(ar.arc_region)
    annual = ar.hours * ar.weight
    arc = np.repeat(np.arange(A), T)
    t = np.tile(np.arange(T), A)
    r, s, k = ar.arc_region[arc], ar.arc_site[arc], ar.arc_class[arc]

    pr, pk = np.nonzero(ar.demand.sum(axis=2) > 0)
    P = len(pr)
    pair_of = np.full(ar.demand.shape[:2], -1, dtype=np.int64)
    pair_of[pr, pk] = np.arange(P)
    d = ar.demand[pr, pk].ravel()  # (P*T,), pair-major
    soft = np.repeat(~np.isnan(ar.unmet_penalty[pk]), T)
    soft_rows = np.flatnonzero(soft)

    nx, nu, ST = A * T, len(soft_rows), S * T
    u0, g0 = nx, nx + len(soft_rows)
    v0 = g0 + ST
    n = v0 + ST
    capped = np.repeat(np.isfinite(ar.power_cap), T)
    capped_idx = np.flatnonzero(capped)
    c0, b0 = P * T, P * T + ST
    p0 = b0 + ST
    m = p0 + len(capped_idx)

    st = s * T + t
    st_all = np.arange(ST)
    rows = np.concatenate([
        pair_of[ar.arc_region, ar.arc_class][arc] * T + t, c0 + st, b0 + st,  # flow
        soft_rows,  # unmet
        b0 + st_all, b0 + st_all,  # grid, renewable in the balance
        p0 + np.arange(len(capped_idx)), p0 + np.arange(len(capped_idx)),  # power cap
    ])
    cols = np.concatenate([
        np.arange(nx), np.arange(nx), np.arange(nx),
        u0 + np.arange(nu),
        g0 + st_all, v0 + st_all,
        g0 + capped_idx, v0 + capped_idx,
    ])
    vals = np.concatenate([
        np.ones(2 * nx), ar.pue[s, t],
        np.ones(nu),
        np.full(2 * ST, -1.0),
        np.ones(2 * len(capped_idx)),
    ])
    matrix = sp.csr_matrix((vals, (rows, cols)), shape=(m, n))

    t_st = np.tile(np.arange(T), S)
    s_st = np.repeat(np.arange(S), T)
    t_p = np.tile(np.arange(T), P)
    k_p = np.repeat(pk, T)
    cost = np.concatenate([
        annual[t] * (ar.data_gb[k] * ar.transfer_cost[r, s]
                     + ar.latency_cost[k] * ar.latency[r, s]),
        annual[t_p[soft]] * ar.unmet_penalty[k_p[soft]],
        annual[t_st] * (ar.price.ravel() + ar.carbon_price * ar.carbon_intensity.ravel()),
        annual[t_st] * ar.renewable_price[s_st],
    ])
    col_lb = np.zeros(n)
    col_ub = np.concatenate([np.full(nx, np.inf), d[soft], np.full(ST, np.inf),
                             ar.renewable.ravel()])
    cap_ub = np.repeat(ar.capacity, T)
    row_lb = np.concatenate([d, np.full(ST, -np.inf), np.zeros(ST), np.full(len(capped_idx),
                                                                            -np.inf)])
    row_ub = np.concatenate([d, cap_ub, np.zeros(ST), ar.power_cap[s_st[capped]]])
    return {"A": matrix, "c": cost, "col_lb": col_lb, "col_ub": col_ub,
            "row_lb": row_lb, "row_ub": row_ub}


def same_lp(raw: dict[str, Any], lp: Any) -> list[str]:
    """Differences between the raw floor's LP and eastwest's (empty: the same model)."""
    diffs = []
    if raw["A"].shape != lp.A.shape:
        return [f"shape {raw['A'].shape} != {lp.A.shape}"]
    delta = abs(raw["A"] - lp.A)
    if delta.nnz and delta.max() > 1e-12:
        diffs.append(f"A differs in {delta.nnz} entries")
    for key, ours in (("c", lp.c), ("col_lb", lp.col_lb), ("col_ub", lp.col_ub),
                      ("row_lb", lp.row_lb), ("row_ub", lp.row_ub)):
        if not np.allclose(raw[key], ours, rtol=1e-12, atol=0.0, equal_nan=True):
            diffs.append(f"{key} differs")
    return diffs


def pulp_build(ar: Any) -> tuple[Any, dict[str, int]]:
    """The same LP written the idiomatic PuLP way: dicts of variables, lpSum per row."""
    import pulp  # only here: highspy imported before OR-Tools breaks OR-Tools' HiGHS
    T = len(ar.periods)
    R, S, K = len(ar.regions), len(ar.sites), len(ar.classes)
    periods = range(T)
    a = (ar.hours * ar.weight).tolist()
    demand = ar.demand.tolist()
    latency, transfer = ar.latency.tolist(), ar.transfer_cost.tolist()
    pue, price = ar.pue.tolist(), ar.price.tolist()
    ci, renewable = ar.carbon_intensity.tolist(), ar.renewable.tolist()
    capacity, power_cap = ar.capacity.tolist(), ar.power_cap.tolist()
    data_gb, latency_cost = ar.data_gb.tolist(), ar.latency_cost.tolist()
    penalty, ren_price = ar.unmet_penalty.tolist(), ar.renewable_price.tolist()
    arcs = list(zip(ar.arc_region.tolist(), ar.arc_site.tolist(), ar.arc_class.tolist(),
                    strict=True))

    sites_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    served_at: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for r, s, k in arcs:
        sites_of[r, k].append(s)
        served_at[s].append((r, k))
    pairs = [(r, k) for r in range(R) for k in range(K) if sum(demand[r][k]) > 0]
    soft = [(r, k) for r, k in pairs if not math.isnan(penalty[k])]

    prob = pulp.LpProblem("eastwest", pulp.LpMinimize)
    x = pulp.LpVariable.dicts("x", [(r, s, k, t) for r, s, k in arcs for t in periods],
                              lowBound=0)
    u = pulp.LpVariable.dicts("u", [(r, k, t) for r, k in soft for t in periods], lowBound=0)
    for (r, k, t), var in u.items():
        var.upBound = demand[r][k][t]
    st = [(s, t) for s in range(S) for t in periods]
    g = pulp.LpVariable.dicts("g", st, lowBound=0)
    v = pulp.LpVariable.dicts("v", st, lowBound=0)
    for (s, t), var in v.items():
        var.upBound = renewable[s][t]

    lpsum = pulp.lpSum
    energy = lpsum(a[t] * price[s][t] * g[s, t] for s, t in st)
    carbon = ar.carbon_price * lpsum(a[t] * ci[s][t] * g[s, t] for s, t in st)
    renew = lpsum(a[t] * ren_price[s] * v[s, t] for s, t in st)
    transfer_cost = lpsum(a[t] * data_gb[k] * transfer[r][s] * x[r, s, k, t]
                          for r, s, k in arcs for t in periods)
    latency_term = lpsum(a[t] * latency_cost[k] * latency[r][s] * x[r, s, k, t]
                         for r, s, k in arcs for t in periods if latency_cost[k])
    unmet = lpsum(a[t] * penalty[k] * u[r, k, t] for r, k, t in u)
    prob += energy + carbon + renew + transfer_cost + latency_term + unmet

    soft_set = set(soft)
    for r, k in pairs:
        for t in periods:
            served = lpsum(x[r, s, k, t] for s in sites_of[r, k])
            if (r, k) in soft_set:
                served += u[r, k, t]
            prob += served == demand[r][k][t], f"demand_{r}_{k}_{t}"
    for s in range(S):
        for t in periods:
            it_load = lpsum(x[r, s, k, t] for r, k in served_at[s])
            prob += it_load <= capacity[s], f"capacity_{s}_{t}"
            prob += pue[s][t] * it_load == g[s, t] + v[s, t], f"power_balance_{s}_{t}"
            if math.isfinite(power_cap[s]):
                prob += g[s, t] + v[s, t] <= power_cap[s], f"power_cap_{s}_{t}"
    counts = {"variables": len(x) + len(u) + len(g) + len(v), "constraints": len(prob.constraints)}
    return prob, counts

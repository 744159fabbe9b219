r"""Power balance, renewable availability and power cap (DESIGN.md §2, constraint 3).

Variables ``grid[s,t] >= 0`` and ``renewable[s,t]`` in ``[0, renewable_mw[s,t]]`` (MW, facility
side; renewable power not used is curtailed). Rows::

    pue[s,t] * sum_{r,k} x[r,s,k,t] - g[s,t] - v[s,t] = 0
    g[s,t] + v[s,t] <= power_cap_mw[s]                     (sites with a power cap)

Costs::

    energy    = sum a[t] * price[s,t] * g[s,t]
    carbon    = carbon_price * sum a[t] * ci[s,t] * g[s,t]
    renewable = sum a[t] * renewable_price[s] * v[s,t]
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.lp import Builder


def define(arrays: Arrays, b: Builder) -> None:
    S, T = len(arrays.sites), len(arrays.periods)
    site = np.repeat(np.arange(S), T)
    t = np.tile(np.arange(T), S)
    index = {"site": site, "period": t}
    grid = b.add_vars("grid", index)
    ren = b.add_vars("renewable", index, ub=arrays.renewable.ravel())

    balance = b.add_rows("power_balance", index, lb=0.0, ub=0.0)
    flow = b.variables["flow"]
    fs, ft = flow.index["site"], flow.index["period"]
    b.add_terms(balance.start + fs * T + ft, flow.ids(), arrays.pue[fs, ft])
    b.add_terms(balance.ids(), grid.ids(), -1.0)
    b.add_terms(balance.ids(), ren.ids(), -1.0)

    capped = np.isfinite(arrays.power_cap[site])
    cap_rows = b.add_rows("power_cap", {"site": site[capped], "period": t[capped]},
                          lb=-np.inf, ub=arrays.power_cap[site[capped]])
    b.add_terms(cap_rows.ids(), grid.ids()[capped], 1.0)
    b.add_terms(cap_rows.ids(), ren.ids()[capped], 1.0)

    a = arrays.annual[t]
    b.add_cost("energy", grid.ids(), a * arrays.price.ravel())
    b.add_cost("carbon", grid.ids(), a * arrays.carbon_price * arrays.carbon_intensity.ravel())
    b.add_cost("renewable", ren.ids(), a * arrays.renewable_price[site])

r"""Power balance, renewable availability and power cap (DESIGN.md §2, constraint 3).

Variables ``grid[s,t] >= 0`` and ``renewable[s,t]`` in ``[0, renewable_mw[s,t]]`` (MW, facility
side; renewable power not used is curtailed). Rows::

    pue[s,t] * it_load[s,t] - g[s,t] - v[s,t] = 0
    g[s,t] + v[s,t] <= power_cap_mw[s]                     (sites with a power cap)

Named expressions (defined here; the carbon cap, the renewable floor, interpret and study goals
read them), with ``a[t] = hours[t] * weight[t]``::

    emissions[s,t]        = a[t] * ci[s,t] * g[s,t]     tonnes CO2 a year
    grid_energy[s,t]      = a[t] * g[s,t]               MWh a year
    renewable_energy[s,t] = a[t] * v[s,t]               MWh a year

Costs::

    energy    = sum a[t] * price[s,t] * g[s,t]
    carbon    = carbon_price * sum emissions[s,t]
    renewable = sum a[t] * renewable_price[s] * v[s,t]

The dual of a site's power-cap rows, summed over periods, prices one more MW of facility power.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import EXACT, Family, Price
from optimizer.model.lp import Builder


def define(arrays: Arrays, b: Builder) -> None:
    S, T = len(arrays.sites), len(arrays.periods)
    site = np.repeat(np.arange(S), T)
    t = np.tile(np.arange(T), S)
    index = {"site": site, "period": t}
    grid = b.add_vars("grid", index)
    ren = b.add_vars("renewable", index, ub=arrays.renewable.ravel())

    balance = b.add_rows("power_balance", index, lb=0.0, ub=0.0)
    b.add_terms_from(balance.ids(), b.expressions["it_load"], arrays.pue.ravel())
    b.add_terms(balance.ids(), grid.ids(), -1.0)
    b.add_terms(balance.ids(), ren.ids(), -1.0)

    capped = np.isfinite(arrays.power_cap[site])
    cap_rows = b.add_rows("power_cap", {"site": site[capped], "period": t[capped]},
                          lb=-np.inf, ub=arrays.power_cap[site[capped]])
    b.add_terms(cap_rows.ids(), grid.ids()[capped], 1.0)
    b.add_terms(cap_rows.ids(), ren.ids()[capped], 1.0)

    a = arrays.annual[t]
    members = np.arange(S * T)
    emissions = b.add_expression("emissions", index, members, grid.ids(), a,
                                 arrays.carbon_intensity.ravel())
    b.add_expression("grid_energy", index, members, grid.ids(), a)
    b.add_expression("renewable_energy", index, members, ren.ids(), a)
    b.add_cost("energy", grid.ids(), a * arrays.price.ravel())
    b.add_cost_from("carbon", emissions, arrays.carbon_price)
    b.add_cost("renewable", ren.ids(), a * arrays.renewable_price[site])


def size(arrays: Arrays) -> tuple[int, int]:
    """Grid and renewable variables; balance entries per flow and per variable; cap rows."""
    S, T = len(arrays.sites), len(arrays.periods)
    capped = int(np.isfinite(arrays.power_cap).sum())
    return 2 * S * T, len(arrays.arc_region) * T + 2 * (S + capped) * T


FAMILY = Family(
    "power", define, presolve=EXACT, size=size,
    prices=(Price("power_cap", "power_cap", "site", "power cap", "{cur} per MW-year",
                  "one more MW of facility power allowed at {subject} would save "
                  "{value:,.0f} {cur} a year{suffix}"),),
    doc="facility power from the grid and renewables, within each site's power cap")

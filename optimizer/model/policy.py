r"""Carbon cap and renewable share (DESIGN.md §2, constraints 5 and 6), network-wide.

    sum_{s,t} a[t] * ci[s,t] * g[s,t] <= carbon_cap_t
    sum_{s,t} a[t] * v[s,t] >= min_renewable_share * sum_{s,t} a[t] * (g[s,t] + v[s,t])

The second is written ``sum a*((1 - share)*v - share*g) >= 0``. The dual of the cap is the
implied carbon price (currency per tonne); the dual of the floor, the cost of requiring one
more MWh of renewable energy.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.lp import Builder


def define(arrays: Arrays, b: Builder) -> None:
    S, T = len(arrays.sites), len(arrays.periods)
    grid, ren = b.variables["grid"], b.variables["renewable"]
    a = np.tile(arrays.annual, S)
    if arrays.carbon_cap is not None:
        cap = b.add_rows("carbon_cap", {"policy": np.zeros(1, dtype=np.int64)},
                         lb=-np.inf, ub=arrays.carbon_cap)
        b.add_terms(np.full(S * T, cap.start), grid.ids(), a * arrays.carbon_intensity.ravel())
    share = arrays.min_renewable_share
    if share > 0:
        floor = b.add_rows("renewable_share", {"policy": np.zeros(1, dtype=np.int64)},
                           lb=0.0, ub=np.inf)
        b.add_terms(np.full(S * T, floor.start), ren.ids(), a * (1.0 - share))
        b.add_terms(np.full(S * T, floor.start), grid.ids(), -a * share)

r"""Green-electricity certificates (DESIGN.md §8, version 2), when ``certificate_price`` is set.

Variable ``certificates[s] >= 0``: certificates bought for site ``s``, in MWh a year (one
certificate a MWh, 发改能源〔2023〕1044号). Row, per site::

    q[s] - sum_t grid_energy[s,t] <= 0          (no more than the site's grid energy)

Cost ``certificates = certificate_price * sum_s q[s]``. Named expression (defined here, read by
the renewable floor of :mod:`optimizer.model.policy` and by :mod:`optimizer.model.green_share`,
which count certificates as green energy; emissions stay location-based, ``ci * g``)::

    certificate_energy[s] = q[s]                 MWh a year

Presolve: both rules stay exact. Certificates enter no row but their own limit and the share
rows (whose families state their own stances); when an exchange lowers a site's grid energy
below its certificates, fewer are bought, which costs nothing more.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import RULES, Family, Stance
from optimizer.model.lp import Builder


def define(arrays: Arrays, b: Builder) -> None:
    if arrays.certificate_price is None:
        return
    S = len(arrays.sites)
    site = np.arange(S)
    q = b.add_vars("certificates", {"site": site})
    rows = b.add_rows("certificate_limit", {"site": site}, lb=-np.inf, ub=0.0)
    b.add_terms(rows.ids(), q.ids(), 1.0)
    grid = b.expressions["grid_energy"]  # members (site, period)
    b.add_terms_from(rows.start + grid.index["site"], grid, -1.0)
    energy = b.add_expression("certificate_energy", {"site": site}, site, q.ids())
    b.add_cost_from("certificates", energy, arrays.certificate_price)


def size(arrays: Arrays) -> tuple[int, int]:
    """One variable a site; its limit row: the certificate and the site's grid variables."""
    if arrays.certificate_price is None:
        return 0, 0
    S, T = len(arrays.sites), len(arrays.periods)
    return S, S * (T + 1)


FAMILY = Family(
    "certificates", define, size=size,
    presolve=Stance(
        frozenset(RULES),
        "certificates enter only their own limit and the share rows (whose families say "
        "where they constrain); less grid energy at a site means fewer certificates, no cost"),
    doc="green-electricity certificates bought per site, up to its grid energy")

r"""A floor on each site's green share (DESIGN.md §8, ``sites[].min_green_share``, version 2).

For every site with a floor ``share[s]``::

    sum_t a[t]*v[s,t] + q[s] >= share[s] * sum_t a[t]*(g[s,t] + v[s,t])

written ``sum_t ((1 - share)*renewable_energy - share*grid_energy) + q >= 0`` from the named
expressions of :mod:`optimizer.model.power` and, where certificates are sold,
``certificate_energy`` (:mod:`optimizer.model.certificates`; ``q`` is 0 without them). A site
with no load meets its floor.

The row's dual is the cost of one more MWh a year of green energy required; times the site's
facility energy over 100 it is the cost of one more percentage point of its share (the shadow
price reported, currency a year per point).

Presolve: neither rule stays exact (less load at a site may mean less renewable power used and
a broken floor; load moved to a site adds grid energy there), wherever a floor is given.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import Family, Price, Stance
from optimizer.model.lp import Builder, LinearProgram


def floored(arrays: Arrays) -> np.ndarray:
    """(S,) bool: sites with a green-share floor."""
    return ~np.isnan(arrays.min_green_share)


def define(arrays: Arrays, b: Builder) -> None:
    has = floored(arrays)
    if not has.any():
        return
    site = np.flatnonzero(has)
    rows = b.add_rows("green_share", {"site": site}, lb=0.0, ub=np.inf)
    row_of = np.full(len(arrays.sites), -1, dtype=np.int64)
    row_of[site] = rows.ids()
    share = np.where(has, arrays.min_green_share, 0.0)
    for name, scale in (("renewable_energy", 1.0 - share), ("grid_energy", -share)):
        expr = b.expressions[name]  # members (site, period)
        member_site = expr.index["site"]
        b.add_terms_from(row_of[member_site], expr, scale[member_site],
                         members=has[member_site])
    if "certificate_energy" in b.expressions:
        cert = b.expressions["certificate_energy"]  # members: sites
        b.add_terms_from(row_of[cert.index["site"]], cert, members=has[cert.index["site"]])


def facility_points(arrays: Arrays, lp: LinearProgram, x: np.ndarray) -> np.ndarray:
    """(S,) MWh a year of each site's facility energy per percentage point of its share."""
    S, T = len(arrays.sites), len(arrays.periods)
    energy = lp.expressions["grid_energy"].value(x) + lp.expressions["renewable_energy"].value(x)
    return energy.reshape(S, T).sum(axis=1) / 100.0


def floor_fields(arrays: Arrays) -> list[dict[str, str] | None]:
    return [None if np.isnan(share) else {"share": f"{100 * share:g}"}
            for share in arrays.min_green_share.tolist()]


def size(arrays: Arrays) -> tuple[int, int]:
    """A row per floored site: its grid and renewable variables, and its certificates."""
    return 0, int(floored(arrays).sum()) * (2 * len(arrays.periods) + 1)


FAMILY = Family(
    "green_share", define, size=size,
    presolve=Stance(
        frozenset(),
        "less load at a site may mean less renewable power used and a broken floor; load "
        "moved to a site adds grid energy there",
        where=lambda arrays: bool(floored(arrays).any())),
    prices=(Price("green_share", "green_share", "site", "green-share floor",
                  "{cur} a year per percentage point",
                  "the {share}% green-share floor at {subject} costs {value:,.0f} {cur} a year "
                  "per percentage point (each MWh of green energy it requires costs "
                  "{per_row:,.1f} {cur}){suffix}",
                  sign=-1.0, per=facility_points, each=floor_fields),),
    doc="a floor on each listed site's green share (renewable energy and certificates)")

r"""A floor on each site's rack utilisation (DESIGN.md §8, ``sites[].min_utilization``, v2).

For every site with a floor ``m[s]`` that is not lost in this operating case (``Arrays.lost``,
a contingency of §7)::

    sum_t a[t]*it_load[s,t] >= m[s] * (sum_t a[t]) * Cap[s]
    Cap[s] = capacity_mw[s]*o[s] + sum_{e at s} size[e]*n[e]

the site's mean IT load over the year at least that share of its IT capacity. ``o[s]`` is the
``open`` variable of a candidate site and 1 for an existing one (the term moves to the
right-hand side); ``n[e]`` the ``build`` variables of :mod:`optimizer.model.expansion`, as in
:mod:`optimizer.model.capacity`. Written::

    sum_t a[t]*it_load[s,t] - m[s]*A*(capacity_mw[s]*o[s] + sum_e size[e]*n[e]) >= m[s]*A*cap0[s]

with ``A = sum_t a[t]`` and ``cap0`` the capacity of an existing site (0 for a candidate).

The row's dual is the cost of one more MWh a year of load required at the site; times
``A * Cap[s] / 100`` (one percentage point of the floor, at the capacity solved for) it is the
shadow price reported, currency a year per point.

Presolve: neither rule stays exact on the arcs to a floored site (leaving their load unmet, or
moving it elsewhere, may break the floor); load moved *to* a floored site only helps it, so the
rules stay exact on every other arc.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import Family, Price, Stance
from optimizer.model.lp import Builder, LinearProgram


def floored(arrays: Arrays) -> np.ndarray:
    """(S,) bool: sites with a utilisation floor in this case (not lost)."""
    return ~np.isnan(arrays.min_utilization) & ~arrays.lost


def define(arrays: Arrays, b: Builder) -> None:
    has = floored(arrays)
    if not has.any():
        return
    site = np.flatnonzero(has)
    hours = float(arrays.annual.sum())
    m = np.where(has, arrays.min_utilization, 0.0)
    existing = np.where(arrays.candidate, 0.0, arrays.capacity)
    rows = b.add_rows("utilization", {"site": site}, lb=(m * hours * existing)[site],
                      ub=np.inf)
    row_of = np.full(len(arrays.sites), -1, dtype=np.int64)
    row_of[site] = rows.ids()

    load = b.expressions["it_load"]  # members (site, period)
    member_site = load.index["site"]
    b.add_terms_from(row_of[member_site], load, arrays.annual[load.index["period"]],
                     members=has[member_site])
    opened = b.variables["open"]
    os_ = opened.index["site"]
    at = has[os_]
    b.add_terms(row_of[os_[at]], opened.ids()[at], -(m * hours * arrays.capacity)[os_[at]])
    build = b.variables["build"]
    es = build.index["site"]
    at = has[es]
    b.add_terms(row_of[es[at]], build.ids()[at], -(m[es] * hours * arrays.exp_size)[at])


def capacity_solved(arrays: Arrays, lp: LinearProgram, x: np.ndarray) -> np.ndarray:
    """(S,) MW of IT capacity at ``x``: existing or opened, plus the units built."""
    S = len(arrays.sites)
    opened = np.where(arrays.candidate, 0.0, 1.0)
    block = lp.variables["open"]
    opened[block.index["site"]] = x[block.slice]
    units = x[lp.variables["build"].slice]
    return opened * arrays.capacity + np.bincount(arrays.exp_site, units * arrays.exp_size,
                                                  minlength=S)


def capacity_points(arrays: Arrays, lp: LinearProgram, x: np.ndarray) -> np.ndarray:
    """(S,) MWh a year of load per percentage point of each site's floor."""
    return float(arrays.annual.sum()) * capacity_solved(arrays, lp, x) / 100.0


def floor_fields(arrays: Arrays) -> list[dict[str, str] | None]:
    return [{"share": f"{100 * m:g}"} if on else None
            for m, on in zip(arrays.min_utilization.tolist(), floored(arrays).tolist(),
                             strict=True)]


def size(arrays: Arrays) -> tuple[int, int]:
    """A row per floored site: its flow variables in every period, its open and build terms."""
    has = floored(arrays)
    flows = int(has[arrays.arc_site].sum()) * len(arrays.periods)
    return 0, flows + int(has[arrays.exp_site].sum()) + int((has & arrays.candidate).sum())


FAMILY = Family(
    "utilization", define, size=size,
    presolve=Stance(
        frozenset(),
        "leaving load at a floored site unmet, or moving it elsewhere, may break its floor; "
        "load moved to it only helps",
        where=lambda arrays: floored(arrays)[arrays.arc_site]),
    prices=(Price("utilization", "utilization", "site", "utilisation floor",
                  "{cur} a year per percentage point",
                  "the {share}% utilisation floor at {subject} costs {value:,.0f} {cur} a year "
                  "per percentage point (each MWh of load it requires costs {per_row:,.1f} "
                  "{cur}){suffix}",
                  sign=-1.0, per=capacity_points, each=floor_fields),),
    doc="a floor on each listed site's mean IT load as a share of its capacity")

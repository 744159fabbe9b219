r"""Water drawn by the sites (DESIGN.md §8: ``sites[].wue``, ``sites[].water_cap_m3``,
``policy.water_price``; version 2).

Named expression (defined here for every version-2 instance; the cost, the caps, interpret and
study goals read it), with ``a[t] = hours[t] * weight[t]`` and WUE in litres per kWh of IT
energy, i.e. m3 per MWh::

    water_m3[s] = sum_t a[t] * wue[s,t] * it_load[s,t]          m3 a year

Rows, for the sites with a cap::

    water_m3[s] <= water_cap_m3[s]

Cost ``water = water_price * sum_s water_m3[s]``. The dual of a site's cap is the annual saving
from one more m3 a year allowed (the shadow price reported, currency per m3).

Presolve: the water price is a cost per MWh of IT load at a site, ``water_price * wue[s,t]``,
that :func:`optimizer.presolve.site_costs` adds to what a site saves or pays for a MWh (so both
rules stay exact with it). A cap keeps *dearer than unmet* exact (less load, less water) but
not dominance (load moved to another site draws its water there).
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import DEARER_THAN_UNMET, Family, Price, Stance
from optimizer.model.lp import Builder


def capped(arrays: Arrays) -> np.ndarray:
    """(S,) bool: sites with a water cap."""
    return np.isfinite(arrays.water_cap)


def define(arrays: Arrays, b: Builder) -> None:
    if arrays.version < 2:
        return
    S = len(arrays.sites)
    load = b.expressions["it_load"]  # members (site, period), weight 1, coefficient 1
    member_site, member_t = load.index["site"], load.index["period"]
    s, t = member_site[load.rows], member_t[load.rows]
    water = b.add_expression("water_m3", {"site": np.arange(S)}, s, load.cols,
                             weight=arrays.annual[t], coef=arrays.wue[s, t])
    if arrays.water_price > 0:
        b.add_cost_from("water", water, arrays.water_price)
    has = capped(arrays)
    if not has.any():
        return
    site = np.flatnonzero(has)
    rows = b.add_rows("water_cap", {"site": site}, lb=-np.inf, ub=arrays.water_cap[site])
    row_of = np.full(S, -1, dtype=np.int64)
    row_of[site] = rows.ids()
    b.add_terms_from(row_of, water, members=has)


def cap_fields(arrays: Arrays) -> list[dict[str, str] | None]:
    return [{"cap": f"{cap:,.0f}"} if np.isfinite(cap) else None
            for cap in arrays.water_cap.tolist()]


def size(arrays: Arrays) -> tuple[int, int]:
    """A cap row per capped site: its flow variables in every period."""
    return 0, int(capped(arrays)[arrays.arc_site].sum()) * len(arrays.periods)


FAMILY = Family(
    "water", define, size=size,
    presolve=Stance(
        frozenset({DEARER_THAN_UNMET}),
        "less load draws less water and never breaks a cap; load moved to another site draws "
        "its water there (the water price is in presolve's site costs)",
        where=lambda arrays: bool(capped(arrays).any())),
    prices=(Price("water_cap", "water_cap", "site", "water cap", "{cur} per m3",
                  "one more m3 a year of water allowed at {subject} (capped at {cap} m3) would "
                  "save {value:,.1f} {cur} a year{suffix}", each=cap_fields),),
    doc="water drawn per site (WUE x IT energy), its price and each site's cap")

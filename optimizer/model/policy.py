r"""Carbon cap and renewable share (DESIGN.md §2, constraints 5 and 6), network-wide.

    sum_{s,t} emissions[s,t] <= carbon_cap_t
    sum_{s,t} a[t] * v[s,t] >= min_renewable_share * sum_{s,t} a[t] * (g[s,t] + v[s,t])

Both read the named expressions of :mod:`optimizer.model.power` (``emissions``, ``grid_energy``,
``renewable_energy``). The second is written ``sum a*((1 - share)*v - share*g) >= 0``; in
version 2, certificates (``certificate_energy`` of :mod:`optimizer.model.certificates`) count
as green energy: ``... + sum_s q[s] >= 0`` (DESIGN.md §8). The dual
of the cap is the implied carbon price (currency per tonne); the dual of the floor, the cost of
requiring one more MWh of renewable energy, and times the facility energy over 100 the cost of
one more percentage point of the share.
"""

from __future__ import annotations

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.family import DEARER_THAN_UNMET, Family, Price, Stance, no_size
from optimizer.model.lp import Builder, LinearProgram

ONE = {"policy": np.zeros(1, dtype=np.int64)}


def define_carbon_cap(arrays: Arrays, b: Builder) -> None:
    if arrays.carbon_cap is None:
        return
    emissions = b.expressions["emissions"]
    cap = b.add_rows("carbon_cap", ONE, lb=-np.inf, ub=arrays.carbon_cap)
    b.add_terms_from(np.full(emissions.size, cap.start), emissions)


def define_renewable_share(arrays: Arrays, b: Builder) -> None:
    share = arrays.min_renewable_share
    if share <= 0:
        return
    grid, ren = b.expressions["grid_energy"], b.expressions["renewable_energy"]
    floor = b.add_rows("renewable_share", ONE, lb=0.0, ub=np.inf)
    b.add_terms_from(np.full(ren.size, floor.start), ren, 1.0 - share)
    b.add_terms_from(np.full(grid.size, floor.start), grid, -share)
    if "certificate_energy" in b.expressions:  # version 2: certificates count as green
        cert = b.expressions["certificate_energy"]
        b.add_terms_from(np.full(cert.size, floor.start), cert)


def facility_points(arrays: Arrays, lp: LinearProgram, x: np.ndarray) -> float:
    """MWh a year of facility energy per percentage point of share: lowering the share by 1
    point lowers the floor row's bound by that much."""
    del arrays
    energy = lp.expressions["grid_energy"].value(x) + lp.expressions["renewable_energy"].value(x)
    return float(energy.sum()) / 100.0


def share_fields(arrays: Arrays) -> dict[str, str]:
    share = 100.0 * arrays.min_renewable_share
    return {"share": f"{share:g}", "lower": f"{share - 1:g}"}


CARBON_CAP = Family(
    "carbon_cap", define_carbon_cap, size=no_size,
    presolve=Stance(
        frozenset({DEARER_THAN_UNMET}),
        "leaving load unmet lowers grid power, so emissions, and never breaks the cap; moving it "
        "to another site may raise them",
        where=lambda arrays: arrays.carbon_cap is not None),
    prices=(Price("carbon_cap", "carbon_cap", None, "carbon cap", "{cur} per tonne-year",
                  "allowing one more tonne of CO2 a year would save {value:,.1f} {cur} a year "
                  "(the cap's implied carbon price){suffix}"),),
    doc="a network-wide cap on the emissions of grid power")

RENEWABLE_SHARE = Family(
    "renewable_share", define_renewable_share, size=no_size,
    presolve=Stance(
        frozenset(),
        "less load, or load moved, may mean less renewable power used and a broken floor",
        where=lambda arrays: arrays.min_renewable_share > 0),
    prices=(Price("renewable_floor", "renewable_share", None, "renewable floor",
                  "{cur} a year per percentage point",
                  "lowering the renewable floor from {share}% to {lower}% would save "
                  "{value:,.0f} {cur} a year (each MWh that must move from grid to renewable "
                  "supply costs {per_row:,.1f} {cur}){suffix}",
                  sign=-1.0, per=facility_points, fields=share_fields),),
    doc="a network-wide floor on the renewable share of facility energy")

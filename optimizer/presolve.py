r"""Presolve by structure: remove flow arcs that some optimal solution never uses (exact).

Compile already leaves out arcs without demand and arcs beyond a class's latency limit or
``allowed_sites``. Two more rules remove an arc ``a = (r, s, k)`` only where an exchange argument
proves that an optimal solution with no flow on ``a`` exists, so the optimum is unchanged. With,
per MW of IT load in period ``t`` (all costs scale with the same ``hours * weight``):

- ``kappa[a] = data_gb[k] * transfer_cost[r,s] + latency_cost[k] * latency[r,s]``, the arc's cost;
- ``saving[s,t] = pue[s,t] * min(grid[s,t], renewable_price[s])`` (the renewable price only where
  renewable power is available), the least a site saves when its load falls: its facility power
  falls by ``pue`` and it drops the dearer source first;
- ``extra[s,t] = pue[s,t] * grid[s,t]``, the most a site pays for more load while it has room
  (grid power is always there), with ``grid = price + carbon_price * carbon_intensity``;
- in version 2 both include ``water_price * wue[s,t]``, the water a MWh of IT load draws
  (DESIGN.md §8): an exact cost of the load itself, so the rules stay exact with it.

**Dearer than unmet.** Where ``kappa[a] + saving[s,t] >= unmet_penalty[k]`` in every period, any
flow on ``a`` can be left unmet instead at no extra cost. Not for hard classes (no penalty).

**Dominated by a site with room to spare.** An *anchor* is an existing site whose IT capacity
and power cap cover, in every period, all the demand that can reach it (deferrable energy counted
as if served in one period): it never fills. Arc ``a`` is dominated by ``b = (r, s', k)`` to an
anchor ``s'`` when ``kappa[b] + extra[s',t] <= kappa[a] + saving[s,t]`` in every period and ``b``
crosses no corridor that ``a`` does not: moving flow from ``a`` to ``b`` is feasible and costs
nothing. Arcs to anchors are never removed this way, so no chain of moves loops. The rule fires
where a planner models a hub as effectively unlimited; no site of the shipped or generated instances
qualifies (each could be filled by the demand that reaches it).

**Which families keep a rule exact** is read from the registry (``Family.presolve``, a
:class:`~optimizer.model.family.Stance`), never listed here: a rule runs only on the arcs where
every family either keeps it exact or adds no rows. On the shipped families: single-site classes
(assignment) keep neither rule on their arcs; a carbon cap keeps only the first (leaving load
unmet lowers emissions, moving it may raise them); a renewable floor neither; corridors keep the
second only up to 62 corridors (the crossing test above is a bit mask). Version 2: certificates
keep both; a site's green-share floor neither; a utilisation floor neither on the arcs to its
site; a water cap only the first.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimizer.compile import Arrays
from optimizer.model import FAMILIES
from optimizer.model.family import DEARER_THAN_UNMET as UNMET_RULE
from optimizer.model.family import DOMINANCE, RULES, Family

DEARER_THAN_UNMET = "dearer than leaving the demand unmet"
DOMINATED = "dominated by an arc to a site with room to spare"
CHUNK = 20_000  # arcs per block of the (arcs x sites) dominance test: bounded memory


def site_costs(arrays: Arrays) -> tuple[np.ndarray, np.ndarray]:
    """(saving, extra), each (S, T): currency per MWh of IT load, as in the module docstring."""
    grid = arrays.price + arrays.carbon_price * arrays.carbon_intensity
    cheapest = np.where(arrays.renewable > 0,
                        np.minimum(grid, arrays.renewable_price[:, None]), grid)
    saving, extra = arrays.pue * cheapest, arrays.pue * grid
    if arrays.water_price > 0:  # version 2: every MWh of IT load draws wue m3 of water
        water = arrays.water_price * arrays.wue
        saving, extra = saving + water, extra + water
    return saving, extra


def arc_cost(arrays: Arrays) -> np.ndarray:
    """kappa (A,): the arc's transfer and latency cost per MWh of IT load."""
    r, s, k = arrays.arc_region, arrays.arc_site, arrays.arc_class
    return (arrays.data_gb[k] * arrays.transfer_cost[r, s]
            + arrays.latency_cost[k] * arrays.latency[r, s])


def anchors(arrays: Arrays) -> np.ndarray:
    """(S,) bool: existing sites that never fill (module docstring)."""
    deferrable = arrays.max_delay > 0
    day_energy = (arrays.demand * arrays.hours).sum(axis=2, keepdims=True)
    peak = np.where(deferrable[None, :, None], day_energy / arrays.hours, arrays.demand)
    load = np.zeros((len(arrays.sites), len(arrays.periods)))
    np.add.at(load, arrays.arc_site, peak[arrays.arc_region, arrays.arc_class])
    return ((load <= arrays.capacity[:, None]).all(axis=1)
            & (arrays.pue * load <= arrays.power_cap[:, None]).all(axis=1)
            & ~arrays.candidate)


def exact_arcs(arrays: Arrays, families: list[Family] | None = None) -> dict[str, np.ndarray]:
    """Per rule, the (A,) arcs on which it stays exact: every family of the registry either keeps
    the rule or constrains elsewhere (``Stance.where``)."""
    A = len(arrays.arc_region)
    allowed = {rule: np.ones(A, dtype=bool) for rule in RULES}
    for family in FAMILIES if families is None else families:
        stance = family.presolve
        broken = [rule for rule in RULES if rule not in stance.keeps]
        if not broken:
            continue
        where = stance.where(arrays)
        for rule in broken:
            if isinstance(where, np.ndarray):
                allowed[rule] &= ~where
            elif where:
                allowed[rule][:] = False
    return allowed


def prune_arcs(arrays: Arrays) -> Arrays:
    """``arrays`` without the arcs the two rules remove; ``arcs_removed`` counts them."""
    r, s, k = arrays.arc_region, arrays.arc_site, arrays.arc_class
    A = len(r)
    saving, extra = site_costs(arrays)
    kappa = arc_cost(arrays)
    exact = exact_arcs(arrays)
    dearer = np.zeros(A, dtype=bool)
    penalty = arrays.unmet_penalty[k]
    soft = exact[UNMET_RULE] & ~np.isnan(penalty)
    if soft.any():
        least = saving.min(axis=1)  # in every period <=> in the cheapest one
        dearer[soft] = kappa[soft] + least[s[soft]] >= penalty[soft]
    dominated = np.zeros(A, dtype=bool)
    anchor = anchors(arrays)
    if exact[DOMINANCE].any() and anchor.any():
        dominated = _dominated(arrays, kappa, saving, extra, anchor) & exact[DOMINANCE] & ~dearer
    keep = ~(dearer | dominated)
    removed = {**arrays.arcs_removed, DEARER_THAN_UNMET: int(dearer.sum()),
               DOMINATED: int(dominated.sum())}
    return dataclasses.replace(arrays, arc_region=r[keep], arc_site=s[keep],
                               arc_class=k[keep], arcs_removed=removed)


def _dominated(arrays: Arrays, kappa: np.ndarray, saving: np.ndarray, extra: np.ndarray,
               anchor: np.ndarray) -> np.ndarray:
    """(A,) bool: arcs to non-anchors dominated by an arc of the same region and class to an
    anchor that crosses no corridor the arc does not."""
    r, s, k = arrays.arc_region, arrays.arc_site, arrays.arc_class
    R, S, K = len(arrays.regions), len(arrays.sites), len(arrays.classes)
    # margin[s, s'] = min_t saving[s, t] - extra[s', t]: how much dearer b may be than a
    margin = (saving[:, None, :] - extra[None, :, :]).min(axis=2)
    # an anchor's arc cost per (region, site, class); inf where there is no such arc
    to_anchor = np.full((R, S, K), np.inf)
    on_anchor = anchor[s]
    to_anchor[r[on_anchor], s[on_anchor], k[on_anchor]] = kappa[on_anchor]
    # the corridors an (r, s) pair crosses, as a bit mask
    bits = (1 << np.arange(len(arrays.corridor_ids), dtype=np.int64))
    crossing = ((arrays.corridor_region.T[:, None, :] & arrays.corridor_site.T[None, :, :])
                * bits).sum(axis=2)  # (R, S)
    out = np.zeros(len(r), dtype=bool)
    for lo in range(0, len(r), CHUNK):
        sl = slice(lo, lo + CHUNK)
        ra, sa, ka = r[sl], s[sl], k[sl]
        ok = to_anchor[ra, :, ka] - margin[sa] <= kappa[sl, None]  # (chunk, S)
        ok &= (crossing[ra] & ~crossing[ra, sa][:, None]) == 0  # no corridor that a avoids
        out[sl] = ok.any(axis=1) & ~anchor[sa]
    return out

"""Stage 2: Instance -> Arrays: numpy index sets, series expanded, latency-pruned arcs.

An arc ``(r, s, k)`` exists only where region ``r`` has demand of class ``k`` in some period,
``latency(r, s) <= max_latency_ms[k]`` and ``s`` is allowed for ``k``. This pruning is what keeps
national-scale models small. Everything here is numpy; nothing loops over arcs or variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer import geo
from optimizer.schema import Instance
from optimizer.series import period_table, stack


@dataclass(frozen=True)
class Arrays:
    """The instance as arrays. Axes: R regions, S sites, K classes, T periods, A arcs."""

    name: str
    currency: str
    regions: list[str]
    sites: list[str]
    zones: list[str | None]  # per site: a label for reports (east, west, ...)
    classes: list[str]
    periods: list[str]
    hours: np.ndarray  # (T,)
    weight: np.ndarray  # (T,)
    demand: np.ndarray  # (R, K, T) MW
    capacity: np.ndarray  # (S,) MW IT
    power_cap: np.ndarray  # (S,) MW facility, inf where none
    pue: np.ndarray  # (S, T)
    price: np.ndarray  # (S, T) currency/MWh
    carbon_intensity: np.ndarray  # (S, T) t/MWh
    renewable: np.ndarray  # (S, T) MW available
    renewable_price: np.ndarray  # (S,) currency/MWh
    km: np.ndarray  # (R, S) great-circle distance
    latency: np.ndarray  # (R, S) round-trip ms
    transfer_cost: np.ndarray  # (R, S) currency/GB
    max_latency: np.ndarray  # (K,) ms, inf where none
    allowed: np.ndarray  # (K, S) bool
    data_gb: np.ndarray  # (K,) GB/MWh
    unmet_penalty: np.ndarray  # (K,) currency/MWh, nan where the demand is hard
    latency_cost: np.ndarray  # (K,) currency per ms per MWh
    arc_region: np.ndarray  # (A,) int
    arc_site: np.ndarray  # (A,) int
    arc_class: np.ndarray  # (A,) int
    carbon_price: float
    # planning: candidate sites and expansion options (E options)
    open_cost: np.ndarray  # (S,) currency/yr, nan where the site is not a candidate
    exp_ids: list[str]
    exp_site: np.ndarray  # (E,) int
    exp_size: np.ndarray  # (E,) MW per unit
    exp_cost: np.ndarray  # (E,) currency/yr per unit
    exp_max: np.ndarray  # (E,) int
    # classes: deferral window (periods) and single-site assignment
    max_delay: np.ndarray  # (K,) int
    single: np.ndarray  # (K,) bool
    # network corridors (L corridors)
    corridor_ids: list[str]
    corridor_capacity: np.ndarray  # (L,) Gbps
    corridor_region: np.ndarray  # (L, R) bool
    corridor_site: np.ndarray  # (L, S) bool
    # policy
    carbon_cap: float | None
    min_renewable_share: float
    # version 2 (DESIGN.md §8): certificates, site floors, water; nan / inf / None where none
    version: int  # the instance's format version
    certificate_price: float | None  # currency per MWh; None: no certificates
    water_price: float  # currency per m3
    min_green_share: np.ndarray  # (S,) 0..1, nan where none
    min_utilization: np.ndarray  # (S,) 0..1, nan where none
    wue: np.ndarray  # (S, T) litres per kWh of IT energy (m3 per MWh)
    water_cap: np.ndarray  # (S,) m3 a year, inf where none
    max_pue: np.ndarray  # (S,) the rules' PUE cap (reported, not a constraint), nan where none
    lost: np.ndarray  # (S,) bool: sites lost in this operating case (a contingency, §7)
    # presolve by structure: arcs (r, s, k) not built, by reason (optimizer.presolve adds its own)
    arcs_removed: dict[str, int] = field(default_factory=dict)

    @property
    def candidate(self) -> np.ndarray:
        """(S,) bool: sites with an open decision."""
        return ~np.isnan(self.open_cost)

    @property
    def annual(self) -> np.ndarray:
        """``a[t] = hours[t] * weight[t]``: hours a year that period t stands for."""
        return self.hours * self.weight

    @property
    def shape(self) -> dict[str, int]:
        return {"R": len(self.regions), "S": len(self.sites), "K": len(self.classes),
                "T": len(self.periods), "A": len(self.arc_region)}


def _demand(instance: Instance, T: int) -> np.ndarray:
    """(R, K, T) MW, each region's demand per class expanded to the periods."""
    class_ids = [k.id for k in instance.classes]
    demand = np.zeros((len(instance.regions), len(class_ids), T))
    for i, region in enumerate(instance.regions):
        for kid, value in region.demand.items():
            demand[i, class_ids.index(kid)] = stack([value], T, instance.profiles)[0]
    return demand


def _arcs(instance: Instance, demand: np.ndarray) -> dict[str, Any]:
    """Distances, latencies and the arcs (r, s, k) within each class's limit and allowed sites,
    with the counts of those left out."""
    sites, classes = instance.sites, instance.classes
    site_ids = [s.id for s in sites]
    km = geo.distance_matrix(instance)
    latency = geo.latency_matrix(instance, km)
    max_latency = np.array(
        [np.inf if k.max_latency_ms is None else k.max_latency_ms for k in classes]
    )
    allowed = np.ones((len(classes), len(sites)), dtype=bool)
    for i, k in enumerate(classes):
        if k.allowed_sites is not None:
            allowed[i] = np.isin(site_ids, k.allowed_sites)
    has_demand = demand.sum(axis=2) > 0  # (R, K)
    mask = (
        (latency[:, :, None] <= max_latency[None, None, :])
        & allowed.T[None, :, :]
        & has_demand[:, None, :]
    )
    arc_region, arc_site, arc_class = np.nonzero(mask)
    return {
        "km": km, "latency": latency, "transfer_cost": geo.transfer_matrix(instance, km),
        "max_latency": max_latency, "allowed": allowed,
        "arc_region": arc_region.astype(np.int64), "arc_site": arc_site.astype(np.int64),
        "arc_class": arc_class.astype(np.int64),
        "arcs_removed": {
            "no demand": int((~has_demand).sum()) * len(sites),
            "beyond the latency limit or not allowed": int(has_demand.sum()) * len(sites)
            - len(arc_region),
        },
    }


def _sites(instance: Instance, T: int) -> dict[str, Any]:
    sites, prof = instance.sites, instance.profiles
    return {
        "capacity": np.array([s.capacity_mw for s in sites], dtype=float),
        "power_cap": np.array(
            [np.inf if s.power_cap_mw is None else s.power_cap_mw for s in sites], dtype=float
        ),
        "pue": stack([s.pue for s in sites], T, prof),
        "price": stack([s.price for s in sites], T, prof),
        "carbon_intensity": stack([s.carbon_intensity for s in sites], T, prof),
        "renewable": stack([s.renewable_mw for s in sites], T, prof),
        "renewable_price": np.array([s.renewable_price for s in sites], dtype=float),
        "wue": stack([s.wue for s in sites], T, prof),
    }


def _optional(values: list[float | None], none: float) -> np.ndarray:
    return np.array([none if v is None else v for v in values], dtype=float)


def _policy_v2(instance: Instance) -> dict[str, Any]:
    """The fields of DESIGN.md §8 (defaults in a version-1 instance: nothing applies)."""
    sites, policy = instance.sites, instance.policy
    return {
        "version": instance.version,
        "certificate_price": policy.certificate_price,
        "water_price": policy.water_price,
        "min_green_share": _optional([s.min_green_share for s in sites], np.nan),
        "min_utilization": _optional([s.min_utilization for s in sites], np.nan),
        "water_cap": _optional([s.water_cap_m3 for s in sites], np.inf),
        "max_pue": _optional([s.max_pue for s in sites], np.nan),
        "lost": np.zeros(len(sites), dtype=bool),
    }


def _classes(instance: Instance) -> dict[str, Any]:
    classes = instance.classes
    return {
        "data_gb": np.array([k.data_gb_per_mwh for k in classes], dtype=float),
        "unmet_penalty": np.array(
            [np.nan if k.unmet_penalty is None else k.unmet_penalty for k in classes]
        ),
        "latency_cost": np.array([k.latency_cost for k in classes], dtype=float),
        "max_delay": np.array([k.max_delay_periods for k in classes], dtype=np.int64),
        "single": np.array([k.assignment == "single" for k in classes], dtype=bool),
    }


def _planning(instance: Instance) -> dict[str, Any]:
    sites = instance.sites
    exps = [(j, e) for j, s in enumerate(sites) for e in s.expansions]
    return {
        "open_cost": np.array([np.nan if s.open_cost is None else s.open_cost for s in sites],
                              dtype=float),
        "exp_ids": [f"{sites[j].id}/{e.id}" for j, e in exps],
        "exp_site": np.array([j for j, _ in exps], dtype=np.int64),
        "exp_size": np.array([e.size_mw for _, e in exps], dtype=float),
        "exp_cost": np.array([e.annual_cost for _, e in exps], dtype=float),
        "exp_max": np.array([e.max_units for _, e in exps], dtype=np.int64),
    }


def _network_and_policy(instance: Instance) -> dict[str, Any]:
    region_ids = [r.id for r in instance.regions]
    site_ids = [s.id for s in instance.sites]
    corridors = instance.network.corridors
    return {
        "corridor_ids": [c.id for c in corridors],
        "corridor_capacity": np.array([c.capacity_gbps for c in corridors], dtype=float),
        "corridor_region": np.array([np.isin(region_ids, c.regions) for c in corridors],
                                    dtype=bool).reshape(len(corridors), len(region_ids)),
        "corridor_site": np.array([np.isin(site_ids, c.sites) for c in corridors],
                                  dtype=bool).reshape(len(corridors), len(site_ids)),
        "carbon_price": instance.policy.carbon_price,
        "carbon_cap": instance.policy.carbon_cap_t,
        "min_renewable_share": instance.policy.min_renewable_share,
    }


def compile_instance(instance: Instance) -> Arrays:
    periods, hours, weight = period_table(instance)
    T = len(periods)
    demand = _demand(instance, T)
    return Arrays(
        name=instance.name or "instance",
        currency=instance.currency,
        regions=[r.id for r in instance.regions],
        sites=[s.id for s in instance.sites],
        zones=[s.zone for s in instance.sites],
        classes=[k.id for k in instance.classes],
        periods=periods,
        hours=hours,
        weight=weight,
        demand=demand,
        **_arcs(instance, demand),
        **_sites(instance, T),
        **_classes(instance),
        **_planning(instance),
        **_network_and_policy(instance),
        **_policy_v2(instance),
    )

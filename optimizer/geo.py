"""Distances, latencies and transfer costs between regions and sites (DESIGN.md §2).

``latency(r,s) = base_ms + route_factor * great_circle_km(r,s) / 100`` unless given explicitly;
``transfer_cost(r,s) = per_gb + per_gb_per_1000km * great_circle_km / 1000`` unless given.
Great-circle distances use the haversine formula with a mean Earth radius of 6371.0 km.
"""

from __future__ import annotations

import numpy as np

from optimizer.schema import Instance

EARTH_RADIUS_KM = 6371.0


def great_circle_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise haversine distances (km) between ``a`` (n, 2) and ``b`` (m, 2), degrees."""
    lat1, lon1 = np.radians(a[:, 0])[:, None], np.radians(a[:, 1])[:, None]
    lat2, lon2 = np.radians(b[:, 0])[None, :], np.radians(b[:, 1])[None, :]
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def distance_matrix(instance: Instance) -> np.ndarray:
    regions = np.array([r.location for r in instance.regions], dtype=float).reshape(-1, 2)
    sites = np.array([s.location for s in instance.sites], dtype=float).reshape(-1, 2)
    return great_circle_km(regions, sites)


def latency_matrix(instance: Instance, km: np.ndarray | None = None) -> np.ndarray:
    """Round-trip latency in ms, (R, S)."""
    km = distance_matrix(instance) if km is None else km
    model = instance.network.latency
    ms = model.base_ms + model.route_factor * km / 100.0
    _apply_pairs(instance, ms, [(p.region, p.site, p.ms) for p in model.pairs])
    return ms


def transfer_matrix(instance: Instance, km: np.ndarray | None = None) -> np.ndarray:
    """Transfer cost in currency per GB, (R, S)."""
    km = distance_matrix(instance) if km is None else km
    model = instance.network.transfer
    cost = model.per_gb + model.per_gb_per_1000km * km / 1000.0
    _apply_pairs(instance, cost, [(p.region, p.site, p.per_gb) for p in model.pairs])
    return cost


def _apply_pairs(
    instance: Instance, matrix: np.ndarray, pairs: list[tuple[str, str, float]]
) -> None:
    if not pairs:
        return
    rid = {x.id: i for i, x in enumerate(instance.regions)}
    sid = {x.id: i for i, x in enumerate(instance.sites)}
    known = [(rid[r], sid[s], v) for r, s, v in pairs if r in rid and s in sid]
    if known:
        r_idx, s_idx, vals = map(np.asarray, zip(*known, strict=True))
        matrix[r_idx.astype(int), s_idx.astype(int)] = vals.astype(float)

"""The semantic pass: every problem that needs more than one field, collected at once.

Unknown or duplicate ids, series of the wrong length or with out-of-range values, profiles that
cannot be scaled, and demand that can reach no site (an error where the demand is hard, a warning
otherwise: that demand is then unmet and priced by its penalty).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from optimizer import geo
from optimizer.errors import Path, Problem
from optimizer.plan_check import planning_problems
from optimizer.schema import VERSION_2_FIELDS, Instance, ProfileRef, WorkloadClass
from optimizer.series import SeriesValue, expand, n_periods, period_table
from optimizer.yamlio import LineMap, line_of


class _Collector:
    def __init__(self, file: str, lines: LineMap):
        self.file, self.lines = file, lines
        self.problems: list[Problem] = []

    def error(self, path: Path, message: str, *value: Any) -> None:
        self._add(path, message, value, "error")

    def warn(self, path: Path, message: str, *value: Any) -> None:
        self._add(path, message, value, "warning")

    def _add(self, path: Path, message: str, value: tuple[Any, ...], severity: str) -> None:
        kwargs: dict[str, Any] = {"value": value[0]} if value else {}
        self.problems.append(
            Problem(message, path, self.file, line_of(self.lines, path), severity=severity,  # type: ignore[arg-type]
                    **kwargs)
        )

    def unique(self, base: Path, ids: Sequence[str], what: str, key: str = "id") -> None:
        counts = Counter(ids)
        seen: set[str] = set()
        for i, x in enumerate(ids):
            if counts[x] > 1 and x in seen:
                self.error((*base, i, key), f"duplicate {what} id", x)
            seen.add(x)

    def known(self, path: Path, value: str, known: Iterable[str], what: str) -> bool:
        if value in known:
            return True
        self.error(path, f"unknown {what} id", value)
        return False


def semantic_problems(instance: Instance, file: str, lines: LineMap,
                      complete: bool = True) -> list[Problem]:
    """Every semantic problem of ``instance``; warnings carry ``severity="warning"``.

    ``complete=False``: ``instance`` lacks items of the file (left out for shape errors), so the
    checks over the whole network (reachability, hard demand against all capacity) are skipped.
    """
    c = _Collector(file, lines)
    T = n_periods(instance)
    region_ids = [r.id for r in instance.regions]
    site_ids = [s.id for s in instance.sites]
    class_ids = [k.id for k in instance.classes]
    _check_version(c, instance)
    c.unique(("regions",), region_ids, "region")
    c.unique(("sites",), site_ids, "site")
    c.unique(("classes",), class_ids, "class")
    if isinstance(instance.periods, list):
        c.unique(("periods",), [p.id for p in instance.periods], "period")

    _check_profiles(c, instance.profiles, T)
    good_profiles = {
        name: v for name, v in instance.profiles.items()
        if len(v) == T and min(v, default=0) >= 0 and sum(v) > 0
    }

    series = _series_checker(c, instance.profiles, good_profiles, T)
    for i, r in enumerate(instance.regions):
        for k, value in r.demand.items():
            if c.known(("regions", i, "demand", k), k, class_ids, "class"):
                series(("regions", i, "demand", k), value, 0.0, "demand")
    for j, s in enumerate(instance.sites):
        base: Path = ("sites", j)
        series((*base, "pue"), s.pue, 1.0, "PUE")
        series((*base, "price"), s.price, 0.0, "price")
        series((*base, "carbon_intensity"), s.carbon_intensity, 0.0, "carbon intensity")
        series((*base, "renewable_mw"), s.renewable_mw, 0.0, "renewable power")
        series((*base, "wue"), s.wue, 0.0, "WUE")
        c.unique((*base, "expansions"), [e.id for e in s.expansions], "expansion")
    for i, klass in enumerate(instance.classes):
        for j, sid in enumerate(klass.allowed_sites or []):
            c.known(("classes", i, "allowed_sites", j), sid, site_ids, "site")

    net = instance.network
    pair_lists = {
        "latency": [(p.region, p.site) for p in net.latency.pairs],
        "transfer": [(p.region, p.site) for p in net.transfer.pairs],
    }
    for kind, pairs in pair_lists.items():
        seen: set[tuple[str, str]] = set()
        for i, (rid, sid) in enumerate(pairs):
            base = ("network", kind, "pairs", i)
            c.known((*base, "region"), rid, region_ids, "region")
            c.known((*base, "site"), sid, site_ids, "site")
            if (rid, sid) in seen:
                c.error(base, f"duplicate {kind} pair", f"{rid}->{sid}")
            seen.add((rid, sid))
    c.unique(("network", "corridors"), [x.id for x in net.corridors], "corridor")
    for i, cor in enumerate(net.corridors):
        for j, rid in enumerate(cor.regions):
            c.known(("network", "corridors", i, "regions", j), rid, region_ids, "region")
        for j, sid in enumerate(cor.sites):
            c.known(("network", "corridors", i, "sites", j), sid, site_ids, "site")

    c.problems.extend(planning_problems(instance, file, lines))
    if not complete or any(p.severity == "error" for p in c.problems):
        return c.problems
    reach = _reach(instance, good_profiles)
    _check_reachability(c, instance, reach)
    if not any(p.severity == "error" for p in c.problems):
        _check_hard_capacity(c, instance, good_profiles)
    if not any(p.severity == "error" for p in c.problems):
        _check_site_floors(c, instance, good_profiles, reach)
    return c.problems


def _check_version(c: _Collector, instance: Instance) -> None:
    """The fields of version 2 (``schema.VERSION_2_FIELDS``) set in a version-1 file, each
    named. A field at its default value changes nothing and passes (a version-1 instance
    dumped with every field, as ``solve --sensitivity`` does, reads back)."""
    if instance.version >= 2:
        return
    for base, model in ((("policy",), instance.policy),
                        *((("sites", j), site) for j, site in enumerate(instance.sites))):
        for name in VERSION_2_FIELDS[str(base[0])]:
            if getattr(model, name) != type(model).model_fields[name].default:
                c.error((*base, name), f"{name} needs version: 2")


def _series_checker(c: _Collector, profiles: Mapping[str, Sequence[float]],
                    good: Mapping[str, Sequence[float]], T: int
                    ) -> Callable[[Path, SeriesValue, float, str], None]:
    """``series(path, value, lower, what)``: a series' length, profile, finiteness and lower
    bound; ``good`` are the profiles that can be scaled."""
    def series(path: Path, value: SeriesValue, lower: float, what: str) -> None:
        if isinstance(value, ProfileRef):
            if value.profile not in profiles:
                c.error((*path, "profile"), "unknown profile", value.profile)
                return
            if value.profile not in good:
                return  # already reported under profiles
        elif not isinstance(value, int | float) and len(value) != T:
            c.error(path, f"series has {len(value)} values, expected one per period ({T})")
            return
        arr = expand(value, T, good)
        if not np.isfinite(arr).all():
            bad = float(arr[~np.isfinite(arr)][0])
            c.error(path, f"{what} is not a finite number in every period once scaled", bad)
        elif (arr < lower).any():
            bad = float(arr[arr < lower][0])
            c.error(path, f"{what} must be >= {lower:g} in every period", bad)

    return series


def _check_profiles(c: _Collector, profiles: Mapping[str, Sequence[float]], T: int) -> None:
    for name, values in profiles.items():
        path: Path = ("profiles", name)
        if len(values) != T:
            c.error(path, f"profile has {len(values)} values, expected one per period ({T})")
        elif min(values, default=0) < 0:
            c.error(path, "profile values must be >= 0", min(values))
        elif sum(values) <= 0:
            c.error(path, "profile has mean 0: it cannot be scaled", 0)


def _check_hard_capacity(
    c: _Collector, instance: Instance, profiles: Mapping[str, Sequence[float]]
) -> None:
    """Obvious infeasibility of hard demand (``unmet_penalty: null``), before any model is built:
    in some period, the hard demand that must be served in that period exceeds all the IT
    capacity there could be (every candidate site open, every expansion built)."""
    T = n_periods(instance)
    hard = [k.id for k in instance.classes
            if k.unmet_penalty is None and k.max_delay_periods == 0]
    if not hard:
        return
    need = np.zeros(T)
    for region in instance.regions:
        for kid in hard:
            if kid in region.demand:
                need += expand(region.demand[kid], T, profiles)
    most = sum(s.capacity_mw + sum(e.size_mw * e.max_units for e in s.expansions)
               for s in instance.sites)
    short = np.flatnonzero(need > most * (1 + 1e-9))
    if len(short):
        t = int(short[np.argmax(need[short])])
        c.error(("classes",), f"hard demand cannot be met: in period {period_table(instance)[0][t]}"
                f" it needs "
                f"{need[t]:,.1f} MW but all sites together have at most {most:,.1f} MW of IT "
                f"capacity (even with every expansion built); give these classes an "
                f"unmet_penalty or add capacity", ", ".join(hard))


def _reach(instance: Instance, profiles: Mapping[str, Sequence[float]]
           ) -> list[tuple[int, WorkloadClass, np.ndarray]]:
    """(region index, class, (S,) bool) for each region-class pair with demand: the sites
    within the class's latency limit and residency."""
    T = n_periods(instance)
    latency = geo.latency_matrix(instance)
    site_index = {s.id: j for j, s in enumerate(instance.sites)}
    out = []
    for i, region in enumerate(instance.regions):
        for k in instance.classes:
            value = region.demand.get(k.id)
            if value is None or not expand(value, T, profiles).any():
                continue
            reach = np.ones(len(instance.sites), dtype=bool)
            if k.max_latency_ms is not None:
                reach &= latency[i] <= k.max_latency_ms
            if k.allowed_sites is not None:
                allowed = np.zeros_like(reach)
                allowed[[site_index[s] for s in k.allowed_sites]] = True
                reach &= allowed
            out.append((i, k, reach))
    return out


def _check_site_floors(
    c: _Collector, instance: Instance, profiles: Mapping[str, Sequence[float]],
    reach: list[tuple[int, WorkloadClass, np.ndarray]]
) -> None:
    """Version 2 (DESIGN.md §8): a utilisation floor that cannot be met, because no demand can
    reach the site, and a green-share floor that only an empty site meets (no renewable
    power, no certificates). Only what is provable from the data: an existing site with
    capacity (a candidate may stay closed, a site may leave its halls unbuilt) and a year of
    positive length."""
    T = n_periods(instance)
    _, hours, weight = period_table(instance)
    if not (hours * weight).sum() > 0:
        return
    reached = np.zeros(len(instance.sites), dtype=bool)
    for _, _, sites in reach:
        reached |= sites
    for j, s in enumerate(instance.sites):
        floor = s.min_utilization or 0.0
        must_carry = floor > 0 and s.open_cost is None and s.capacity_mw > 0
        if must_carry and not reached[j]:
            c.warn(("sites", j, "min_utilization"),
                   f"no demand can reach site {s.id!r} (latency limits, allowed_sites): its "
                   f"{100 * floor:g}% utilisation floor cannot be met, and the instance is "
                   "infeasible")
        green = s.min_green_share or 0.0
        no_green = (instance.policy.certificate_price is None
                    and not expand(s.renewable_mw, T, profiles).any())
        if green > 0 and no_green:
            c.warn(("sites", j, "min_green_share"),
                   f"site {s.id!r} has no renewable power and there are no certificates "
                   "(policy.certificate_price): it meets its green-share floor only empty, "
                   + ("so its utilisation floor cannot be met, and the instance is infeasible"
                      if must_carry else "and will serve no load"))


def _check_reachability(c: _Collector, instance: Instance,
                        reach: list[tuple[int, WorkloadClass, np.ndarray]]) -> None:
    """Demand of a class that can reach no site within its latency limit and residency."""
    latency = geo.latency_matrix(instance)
    for i, k, sites in reach:
        if sites.any():
            continue
        nearest = float(latency[i].min())
        why = (f"no site within {k.max_latency_ms:g} ms (nearest {nearest:.1f} ms)"
               if k.max_latency_ms is not None and nearest > k.max_latency_ms
               else "no allowed site within the latency limit")
        path: Path = ("regions", i, "demand", k.id)
        if k.unmet_penalty is None:
            c.error(path, f"hard demand of class {k.id!r} can reach no site: {why}")
        else:
            c.warn(path, f"demand of class {k.id!r} can reach no site ({why}): "
                   "it will be unmet, priced at the class's unmet_penalty")


BYTES_PER_NONZERO = 500
"""Memory per matrix entry, end to end: measured on the large benchmark LP (about 460 bytes,
reports/benchmarks/build.md). The same numbers as ``optimizer.model.size``'s post-compile guard,
which cannot be imported here (the model is a later stage, and imports ``load``): a test keeps
them equal."""
HEADROOM = 0.8  # use at most this share of the memory available


def available_bytes() -> int:
    """Memory available to a new allocation (MemAvailable), or the physical pages free."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return int(np.iinfo(np.int64).max)


def _nonzero(value: SeriesValue) -> bool:
    """Whether a demand series may be non-zero in some period (without expanding it)."""
    if isinstance(value, ProfileRef):
        return (value.mean if value.mean is not None else value.max) != 0
    if isinstance(value, int | float):
        return value != 0
    return any(v != 0 for v in value)


def count_floor(instance: Instance) -> tuple[int, int]:
    """(matrix entries, bytes): the least the model of ``instance`` needs, from its counts.

    Least, so that no instance that latency pruning or presolve would make small is refused:
    the power family's ``2 (S + S_capped) T`` entries, and at least one entry per period for
    each region-class pair with demand (a flow, or its unmet variable), at
    ``BYTES_PER_NONZERO`` each; plus the dense arrays compile allocates, ``(R K + 4 S + 2) T``
    floats.
    """
    R, S, K, T = (len(instance.regions), len(instance.sites), len(instance.classes),
                  n_periods(instance))
    capped = sum(s.power_cap_mw is not None for s in instance.sites)
    pairs = sum(_nonzero(v) for r in instance.regions for v in r.demand.values())
    nonzeros = T * (2 * (S + capped) + pairs)
    return nonzeros, nonzeros * BYTES_PER_NONZERO + 8 * T * (R * K + 4 * S + 2)


def count_guard(instance: Instance, file: str = "<instance>", lines: LineMap | None = None,
                available: int | None = None) -> list[Problem]:
    """A size guard from the instance's counts alone, before any series is expanded: a problem
    if even the least model the instance can give (:func:`count_floor`) would not fit in
    memory. The post-compile guard (``model.size.check_size``) then checks the model itself."""
    nonzeros, need = count_floor(instance)
    budget = int((available_bytes() if available is None else available) * HEADROOM)
    if need <= budget:
        return []
    R, S, K, T = (len(instance.regions), len(instance.sites), len(instance.classes),
                  n_periods(instance))
    allowed = {k.id: S if k.allowed_sites is None else len(set(k.allowed_sites))
               for k in instance.classes}
    flows = T * sum(allowed.get(k, 0) for r in instance.regions for k in r.demand)
    path: Path = max((("periods",), T), (("regions",), R), (("sites",), S),
                     key=lambda item: item[1])[0]
    return [Problem(
        f"this model could not fit in memory: {R:,} regions x {S:,} sites x {K:,} classes x "
        f"{T:,} periods need at least {nonzeros:,} matrix entries, about {need / 2**30:,.1f} GB "
        f"(and up to {flows:,} flow variables before latency pruning), and "
        f"{budget / 2**30:,.1f} GB are available. Use fewer periods, regions or sites",
        path, file, line_of(lines or {}, path))]

"""The named, typed result of a solve (DESIGN.md §5): what :mod:`optimizer.interpret` builds from
a solver's raw answer and every renderer reads.

The solution JSON (version 1) is :meth:`Solution.to_dict`; ``shadow_prices`` lists every price the
registry's families offer (:mod:`optimizer.model.prices`), by constraint and subject.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optimizer import __version__
from optimizer.backends.base import Notice, Status

SOLUTION_VERSION = 2
"""The newest solution format; a version-1 instance gets a version-1 solution (``version``)."""


@dataclass(frozen=True)
class FlowTable:
    """Non-zero flows, columnar: indices into the name lists of the Solution."""

    region: np.ndarray
    site: np.ndarray
    klass: np.ndarray
    period: np.ndarray
    mw: np.ndarray
    case: np.ndarray | None = None  # version 2: the operating case of each flow

    def __len__(self) -> int:
        return len(self.mw)


@dataclass
class Solution:
    instance: str
    currency: str
    status: Status
    objective: float | None
    bound: float | None
    gap: float | None
    message: str
    regions: list[str]
    sites: list[str]
    classes: list[str]
    periods: list[str]
    annual: np.ndarray  # (T,) hours a year each period stands for
    costs: dict[str, float]
    totals: dict[str, float]
    flows: FlowTable
    site_table: list[dict[str, Any]]
    class_table: list[dict[str, Any]]
    region_table: list[dict[str, Any]]
    site_load: np.ndarray  # (S, T) IT MW
    solver: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    region_site_mwh: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (R, S)
    site_zone: list[str | None] = field(default_factory=list)
    site_capacity: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (S,) after building
    class_load: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # (S, K, T) MW
    renewable_available: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (S, T)
    build_table: list[dict[str, Any]] = field(default_factory=list)
    corridor_table: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, Any] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)
    shadow_prices: list[dict[str, Any]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)  # the backend's, worded by the reader
    version: int = 1  # the solution format: the instance's version (DESIGN.md §5, §7)
    plan: dict[str, Any] | None = None  # version 2: years, scenarios, contingencies
    cases: list[dict[str, Any]] = field(default_factory=list)  # version 2: one per case
    case_labels: list[tuple[str, str]] = field(default_factory=list)  # (year, scenario)
    measures: dict[str, Any] | None = None  # version 2: resilience, EVPI, VSS where solved
    compliance: list[dict[str, Any]] = field(default_factory=list)  # version 2, per site
    price_words: dict[tuple[str, str], str] = field(default_factory=dict)
    """Each shadow price in plain words, by (constraint, subject); not in the JSON."""

    @property
    def has_values(self) -> bool:
        return self.objective is not None

    def to_dict(self) -> dict[str, Any]:
        """The solution JSON (DESIGN.md §5), version 1 or, for a version-2 instance, 2 (with
        the policy ``compliance`` table of §8 and, for a plan, ``planning`` and ``cases``)."""
        flows = self.flow_records()
        out = {
            "version": self.version,
            "eastwest": __version__,
            "instance": self.instance,
            "overrides": self.overrides,
            "currency": self.currency,
            "status": self.status.value,
            "message": self.message,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "costs": self.costs,
            "totals": self.totals,
            "flows": flows,
            "sites": self.site_table,
            "classes": self.class_table,
            "regions": self.region_table,
            "build": self.build_table,
            "corridors": self.corridor_table,
            "policy": self.policy,
            **({"compliance": self.compliance} if self.version >= 2 else {}),
            "shadow_prices": self.shadow_prices,
            "solver": self.solver,
            "warnings": self.warnings,
            "notes": self.notes,
        }
        if self.plan is not None:  # version 2 (DESIGN.md §7)
            out["planning"] = self.plan
            out["cases"] = self.cases
            if self.measures is not None:
                out["measures"] = self.measures
        return out

    def flow_records(self) -> list[dict[str, Any]]:
        f = self.flows
        rows = zip(f.region.tolist(), f.site.tolist(), f.klass.tolist(), f.period.tolist(),
                   f.mw.tolist(), strict=True)
        if f.case is None or not self.case_labels:
            return [{"region": self.regions[r], "site": self.sites[s],
                     "class": self.classes[k], "period": self.periods[t], "mw": mw}
                    for r, s, k, t, mw in rows]
        labels = [self.case_labels[c] for c in f.case.tolist()]
        return [{"year": y, "scenario": w, "region": self.regions[r], "site": self.sites[s],
                 "class": self.classes[k], "period": self.periods[t], "mw": mw}
                for (y, w), (r, s, k, t, mw) in zip(labels, rows, strict=True)]

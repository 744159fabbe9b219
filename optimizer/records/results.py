"""What a study found: typed records of points, sweeps and Pareto fronts.

A point's record (:class:`PointResult`) is its cache file ``points/<key>.json``:
:meth:`PointResult.to_json` gives exactly the fields, in the order, that file has always had, and
:meth:`PointResult.from_json` reads any file written since cache version 1 (``warm`` came later
and may be missing). ``kpis`` is ``{}`` in the file for a point without a solution, ``None`` here.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal, Protocol

from optimizer import __version__
from optimizer.backends.base import SolveOptions, Status
from optimizer.records.inputs import Base, Goal, Point, Study

CACHE_VERSION = 1
OPTIMAL = Status.OPTIMAL.value
Second = Literal["carbon", "latency", "water"]


@dataclass(frozen=True)
class OptionsKey:
    """The solver options a result depends on (part of its cache key)."""

    backend: str
    solver: str
    time_limit: float | None
    gap: float | None

    @classmethod
    def of(cls, options: SolveOptions) -> OptionsKey:
        return cls(options.backend, options.solver, options.time_limit, options.gap)

    def to_json(self) -> dict[str, Any]:
        return {"backend": self.backend, "solver": self.solver,
                "time_limit": self.time_limit, "gap": self.gap}


@dataclass(frozen=True)
class GoalValues:
    """What a point solved with a :class:`~optimizer.records.inputs.Goal` adds to its KPIs."""

    carbon: float | None
    """t CO2 a year (the carbon metric of the solution)."""
    latency_mwh_ms: float | None
    """MWh x round-trip ms a year."""
    latency_cap_price: float | None
    """Shadow price of a latency bound, when the goal has one."""
    goal_objective: float | None
    """The value of the objective the goal minimised last (carbon, latency, water or cost)."""
    water_m3: float | None = None
    """m3 a year (version 2; a plan: the horizon's expected total). None in version 1."""
    water_cap_price: float | None = None
    """Shadow price of a water bound, when the goal has one (currency per m3)."""
    carbon_bound_price: float | None = None
    """Shadow price of a carbon bound, when the goal has one: a plan's carbon cap, currency
    (discounted) per t of the horizon's expected carbon. (A single case's carbon cap is its
    ``policy.carbon_cap_t``, priced in :attr:`Kpis.carbon_cap_price`.)"""

    def to_json(self) -> dict[str, Any]:
        """Its fields; the version-2 ones only where set (a version-1 record is unchanged)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in OPTIONAL_GOAL_FIELDS or getattr(self, f.name) is not None}


OPTIONAL_GOAL_FIELDS = ("water_m3", "water_cap_price", "carbon_bound_price")


@dataclass(frozen=True)
class Kpis:
    """The numbers a study tabulates for one solved point. For a goal's point ``objective`` is
    the cost (annual; a plan's: its discounted objective), and ``goal`` holds the goal's own
    objective beside the metrics."""

    objective: float | None
    cost: float
    costs: dict[str, float]
    carbon_t: float
    renewable_share: float
    unmet_mwh: float
    served_mwh: float
    demand_mwh: float
    west_share: float | None
    latency_ms: dict[str, float | None]
    built_mw: dict[str, float]
    carbon_cap_price: float | None
    goal: GoalValues | None = None

    def to_json(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "goal"}
        if self.goal is not None:
            data.update(self.goal.to_json())
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Kpis | None:
        if not data:
            return None
        goal = (GoalValues(**{f.name: data.get(f.name) for f in fields(GoalValues)})
                if "goal_objective" in data else None)
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name != "goal"},
                   goal=goal)


@dataclass(frozen=True)
class PointResult:
    """One solved (or failed) point: its cache record. ``transient`` marks unexpected failures
    (not cached); ``cached`` says the record was read from the cache (not in the file)."""

    key: str
    index: int
    label: str
    instance: str
    instance_sha256: str
    overrides: tuple[str, ...]
    options: OptionsKey
    goal: Goal | None
    worker: str
    status: str
    message: str
    kpis: Kpis | None
    transient: bool = False
    solve_s: float | None = None
    total_s: float | None = None
    warm: bool | None = None
    """True when the solve started from the previous point's basis."""
    eastwest: str = __version__
    cache_version: int = CACHE_VERSION
    cached: bool = False

    @property
    def optimal(self) -> bool:
        return self.status == OPTIMAL

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "cache_version": self.cache_version, "key": self.key, "index": self.index,
            "label": self.label, "eastwest": self.eastwest, "instance": self.instance,
            "instance_sha256": self.instance_sha256, "overrides": list(self.overrides),
            "options": self.options.to_json(),
            "goal": None if self.goal is None else self.goal.to_dict(),
            "worker": self.worker, "status": self.status, "message": self.message,
            "kpis": {} if self.kpis is None else self.kpis.to_json(),
            "transient": self.transient,
        }
        for name in ("solve_s", "total_s", "warm"):  # only solved points have them
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PointResult:
        """Raises KeyError, TypeError or ValueError for a record that is not one."""
        goal = data["goal"]
        return cls(
            key=data["key"], index=data["index"], label=data["label"],
            instance=data["instance"], instance_sha256=data["instance_sha256"],
            overrides=tuple(data["overrides"]), options=OptionsKey(**data["options"]),
            goal=None if goal is None else Goal.from_dict(goal), worker=data["worker"],
            status=data["status"], message=data["message"], kpis=Kpis.from_json(data["kpis"]),
            transient=data.get("transient", False), solve_s=data.get("solve_s"),
            total_s=data.get("total_s"), warm=data.get("warm"), eastwest=data["eastwest"],
            cache_version=data["cache_version"])


class Row(Protocol):
    """A table row: a point's result with what the table adds to it."""

    @property
    def result(self) -> PointResult: ...


@dataclass(frozen=True)
class SweepRow:
    """A sweep's point with its result: a row of the sweep's tables."""

    levels: tuple[Any, ...]
    result: PointResult


@dataclass(frozen=True)
class SweepResult:
    study: Study
    base: Base
    options: SolveOptions
    points: list[Point]
    results: list[PointResult]
    seconds: float = 0.0

    @property
    def failed(self) -> list[tuple[Point, PointResult]]:
        return [(p, r) for p, r in zip(self.points, self.results, strict=True) if not r.optimal]

    @property
    def cached(self) -> int:
        return sum(1 for r in self.results if r.cached)

    def rows(self) -> list[SweepRow]:
        """Each result with its point's levels (the table's rows, before formatting)."""
        return [SweepRow(p.levels, r) for p, r in zip(self.points, self.results, strict=True)]


@dataclass(frozen=True)
class FrontPoint:
    """A point of a Pareto study: its result, its step (``min cost``, ``min carbon``,
    ``cap 3``), its cap, and its place on the front (``on_front`` and ``knee`` are None when
    the study stopped before the front was traced; ``same_as``: the earlier point it repeats)."""

    result: PointResult
    role: str
    cap: float | None = None
    on_front: bool | None = None
    knee: bool | None = None
    same_as: int | None = None


def second_value(result: PointResult, second: str) -> float | None:
    """The second objective of a point: t CO2, ms x MWh of served energy, or m3 of water (a
    plan: the horizon's expected totals)."""
    k = result.kpis
    if k is None:
        return None
    if second == "carbon":
        return k.carbon_t
    if k.goal is None:
        return None
    return k.goal.water_m3 if second == "water" else k.goal.latency_mwh_ms


@dataclass(frozen=True)
class ParetoResult:
    base: Base
    second: Second
    service: Literal["held", "free"]
    options: SolveOptions
    results: list[FrontPoint]
    seconds: float = 0.0

    @property
    def failed(self) -> list[FrontPoint]:
        return [r for r in self.results if not r.result.optimal]

    @property
    def cached(self) -> int:
        return sum(1 for r in self.results if r.result.cached)

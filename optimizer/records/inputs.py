"""What a study is asked to do: the study-file schema, its points, goals and base instance.

Reading and checking study files and ``--vary`` options is :mod:`optimizer.studies.spec`;
preparing the base instance is :mod:`optimizer.studies.base`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from optimizer.backends.options import Gap, TimeLimit
from optimizer.load import Document

LEX_TOL = 1e-7
"""Relative slack when an objective is held at its optimum (lexicographic step, service)."""

Metric = Literal["cost", "carbon", "latency", "unmet", "water"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Parameter(_Strict):
    """One varied quantity: one path, or several that move together, and its levels."""

    path: str | None = None
    """An override path, e.g. ``sites[zhongwei].price``."""
    paths: list[str] | None = Field(None, min_length=1)
    """Several paths set to the same level at every point."""
    label: str | None = None
    """Column name in the results (default: the path)."""
    values: list[Any] | None = Field(None, min_length=1)
    """Levels set with ``PATH=value``."""
    factors: list[float] | None = Field(None, min_length=1)
    """Levels applied with ``PATH*=factor``."""
    range: tuple[float, float, int] | None = None
    """``[a, b, n]``: n evenly spaced values from a to b inclusive, set with ``PATH=value``."""
    factor_range: tuple[float, float, int] | None = None
    """``[a, b, n]``: n evenly spaced factors from a to b inclusive (``PATH*=factor``)."""

    @model_validator(mode="after")
    def _one_of_each(self) -> Parameter:
        if (self.path is None) == (self.paths is None):
            raise ValueError("give either 'path' or 'paths'")
        given = [k for k in ("values", "factors", "range", "factor_range")
                 if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'values', 'factors', 'range', 'factor_range'")
        for key in ("range", "factor_range"):
            spec = getattr(self, key)
            if spec is not None:
                if spec[2] < 1:
                    raise ValueError(f"'{key}' is [a, b, n] with n >= 1")
                if not (math.isfinite(spec[0]) and math.isfinite(spec[1])):
                    raise ValueError(f"'{key}' bounds must be finite numbers")
        if self.factors is not None and not all(math.isfinite(f) for f in self.factors):
            raise ValueError("factors must be finite numbers")
        return self

    @property
    def size(self) -> int:
        """The number of levels, read from the spec without building them."""
        for given in (self.values, self.factors):
            if given is not None:
                return len(given)
        spec = self.range if self.range is not None else self.factor_range
        assert spec is not None
        return spec[2]

    @property
    def targets(self) -> list[str]:
        return [self.path] if self.path is not None else list(self.paths or [])

    @property
    def multiplies(self) -> bool:
        return self.factors is not None or self.factor_range is not None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        targets = self.targets
        return targets[0] if len(targets) == 1 else f"{targets[0]} (+{len(targets) - 1})"

    def levels(self) -> list[Any]:
        if self.values is not None:
            return list(self.values)
        if self.factors is not None:
            return [float(f) for f in self.factors]
        spec = self.range if self.range is not None else self.factor_range
        assert spec is not None
        a, b, n = spec
        levels = [float(f"{v:.12g}") for v in np.linspace(a, b, n)]
        if self.range is not None and all(v.is_integer() for v in levels):
            return [int(v) for v in levels]  # 5, 10, ... rather than 5.0, 10.0
        return levels

    def overrides(self, level: Any) -> list[str]:
        op = "*=" if self.multiplies else "="
        return [f"{p}{op}{yaml_value(level)}" for p in self.targets]

    def level_text(self, level: Any) -> str:
        """A level as tables and labels show it: ``×0.7`` for a factor, ``null`` for None."""
        if self.multiplies:
            return f"×{level:g}"
        if isinstance(level, float):
            return f"{level:g}"
        return "null" if level is None else str(level)


class Study(_Strict):
    """A sweep: an instance, base overrides and the parameters to vary."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    """Names the results folder (``reports/studies/<name>/``)."""
    description: str | None = None
    instance: str | None = None
    """Instance file, relative to the study file; default: the national instance."""
    scenarios: list[str] = Field(default_factory=list)
    set_: list[str] = Field(default_factory=list, alias="set")
    mode: Literal["grid", "zip"] = "grid"
    backend: Literal["ortools", "pulp"] | None = None
    solver: str | None = None
    time_limit: TimeLimit | None = None
    """Seconds per point: finite, above 0."""
    gap: Gap | None = None
    """Relative MIP gap: from 0 to below 1."""
    parameters: list[Parameter] = Field(min_length=1)


def yaml_value(value: Any) -> str:
    """A value as override text: JSON is YAML flow syntax, and floats keep every digit."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return json.dumps(value, allow_nan=False)


@dataclass(frozen=True)
class Point:
    """One point of a sweep: a level per parameter, and the overrides that set them."""

    index: int
    levels: tuple[Any, ...]
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class Goal:
    """A changed objective: minimise ``minimize`` subject to ``bounds`` (``metric <= value``);
    with ``then``, minimise ``then`` next, ``minimize`` held at its optimum (lexicographic).
    ``hold_service``: in that second step, also keep unmet energy at the first step's level.
    Solved by :class:`optimizer.studies.goals.GoalStrategy`."""

    minimize: Metric = "cost"
    then: Metric | None = None
    bounds: tuple[tuple[Metric, float], ...] = ()
    hold_service: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"minimize": self.minimize, "then": self.then,
                "bounds": [list(b) for b in self.bounds], "hold_service": self.hold_service}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Goal:
        return cls(data["minimize"], data["then"],
                   tuple((metric, bound) for metric, bound in data["bounds"]),
                   data["hold_service"])


@dataclass(frozen=True)
class Base:
    """The instance text with its base overrides (scenarios' first, then ``set``), validated."""

    file: str
    text: str
    sha256: str
    overrides: tuple[str, ...]
    document: Document

    @property
    def name(self) -> str:
        return self.document.instance.name or Path(self.file).stem

    @property
    def planned(self) -> bool:
        """A plan (version 2 with ``planning``): its metrics are the horizon's expected totals
        and its cost the discounted objective."""
        return self.document.instance.planning is not None

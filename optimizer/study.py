"""What-if studies: parameter sweeps and Pareto fronts that drive the pipeline many times.

A **sweep** solves one instance at every point of a parameter grid (or along a zipped list) and
tabulates the results; a **Pareto front** traces cost against carbon or latency with the
epsilon-constraint method. Both run their points serially, in a process pool or on a Dask
cluster, and cache every point on disk so that an interrupted study resumes where it stopped.
This module is the engine: it never prints and knows nothing of the command line
(:mod:`optimizer.cli_study` is the CLI).

A study file (YAML; paths relative to the file)::

    name: west-price
    instance: ../china-national.yaml          # optional: the national instance by default
    scenarios: [high-carbon]                  # optional, applied first
    set: ["policy.carbon_price=80"]           # optional base overrides
    mode: grid                                # grid (cartesian product) | zip (in step)
    parameters:
      - {path: "sites[zhongwei].price", factors: [0.7, 0.85, 1.0, 1.15, 1.3]}   # PATH*=factor
      - {path: "policy.carbon_price", values: [0, 100, 200, 300]}               # PATH=value
      - {path: "classes[interactive].max_latency_ms", range: [5, 40, 8]}         # 8 values
      - {paths: ["sites[guian].price", "sites[qingyang].price"], label: west,
         factor_range: [0.7, 1.3, 5]}                                           # move together

Each point is ``load(instance, base overrides + one override per path)`` then
:func:`optimizer.pipeline.solve_document`. A point that fails is a row with its status and
message, never a crash.

**Cache.** A point's key is the sha256 of (the instance file's sha256, the point's full override
list — the scenarios' overrides expanded, then the base ``set``, then the point's own —, the
solver options and, for Pareto points, the objective). Its result is one JSON file
``<out>/points/<key>.json`` written atomically; a re-run reads those and solves only the rest.

**Pareto** (``cost`` against ``carbon`` or ``latency``): the two extreme points first, each a
lexicographic optimum (min cost, then min carbon with the cost held at its optimum within
``LEX_TOL``; min carbon, then min cost with the carbon held), then N evenly spaced caps on the
second objective between them, minimising cost (carbon caps through the instance's own
``policy.carbon_cap_t``, so that the cap's shadow price is the implied carbon price). The
second objective is built from the LP's blocks:

    carbon  = sum_{s,t} a[t] * ci[s,t] * grid[s,t]                  (t CO2 a year)
    latency = sum_{r,s,k,t} a[t] * latency[r,s] * flow[r,s,k,t]     (ms x MWh a year)

With ``service="held"`` (the default) every point also keeps the unmet energy at most what the
cost optimum leaves unmet: without it, the least-carbon (or least-latency) "solution" is to
serve nothing and pay the unmet penalty. ``service="free"`` gives the front of the model as it
stands. Dominated points are marked, and the knee is the point farthest from the straight line
between the two extremes, both objectives normalised to [0, 1].
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import itertools
import json
import logging
import math
import multiprocessing
import os
import re
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optimizer import __version__, backends
from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import Arrays, compile_instance
from optimizer.errors import InstanceError, Problem, UsageError
from optimizer.interpret import Solution, interpret
from optimizer.load import Document, default_instance_text, parse_text
from optimizer.model import COST_CATEGORIES, LinearProgram, formulate
from optimizer.model.lp import Block
from optimizer.overrides import apply, apply_all, parse_override
from optimizer.pipeline import solve_document
from optimizer.report.files import solution_json, write_atomic
from optimizer.report.markdown import table_md
from optimizer.report.plots import save_figure
from optimizer.report.tables import Table
from optimizer.warm import WarmSolver
from optimizer.warm import available as warm_available
from optimizer.yamlio import line_of, read_yaml

logger = logging.getLogger(__name__)

CACHE_VERSION = 1
LEX_TOL = 1e-7
"""Relative slack when an objective is held at its optimum (lexicographic step, service)."""
SERVICE_TOL = 1e-9
"""Relative (to the demand) slack when unmet energy is held at the cost optimum's level: the
bound comes from a feasible point, so it only has to absorb rounding."""
FRONT_TOL = 1e-6
"""Relative (to the front's range) tolerance when comparing points for dominance; at least
10 x LEX_TOL of the values themselves (what holding an optimum may move them)."""
PLOTS_HINT = "plots skipped: matplotlib is not installed (pip install 'eastwest[plots]')"
DASK_HINT = "--dask needs Dask: pip install 'eastwest[dask]'"
DASK_TIMEOUT = 20.0
"""Seconds to wait for a Dask scheduler to answer."""
WEST = "west"

# --------------------------------------------------------------------------------------------
# study files
# --------------------------------------------------------------------------------------------


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
        return [f"{p}{op}{_yaml_value(level)}" for p in self.targets]


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
    time_limit: float | None = Field(None, gt=0)
    gap: float | None = Field(None, ge=0)
    parameters: list[Parameter] = Field(min_length=1)


def _yaml_value(value: Any) -> str:
    """A value as override text: JSON is YAML flow syntax, and floats keep every digit."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"not a finite number: {value}")
    return json.dumps(value)


def _problems_from(exc: ValidationError, file: str, lines: dict[Any, int]) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(Problem(message, loc, file, line_of(lines, loc)))
    return problems


def load_study(path: str | Path) -> tuple[Study, Path, dict[Any, int]]:
    """Read and validate a study file: (study, its folder, line map). Raises InstanceError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError([Problem(f"cannot read the study: {exc}", (), str(path))]) from None
    data, lines = read_yaml(text, str(path))
    if isinstance(data, dict) and "regions" in data and "sites" in data:
        raise InstanceError([Problem(
            "this is an instance file, not a study: vary it with "
            "`eastwest sweep INSTANCE --vary PATH=LO:HI:N`", (), str(path), 1)])
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        raise InstanceError(_problems_from(exc, str(path), lines)) from None
    problems = study_problems(study, str(path), lines)
    if problems:
        raise InstanceError(problems)
    return study, path.parent, lines


def study_problems(study: Study, file: str, lines: dict[Any, int] | None = None) -> list[Problem]:
    """What pydantic cannot see: override syntax, unique labels, zip lengths."""
    lines = lines or {}
    problems = []
    seen: dict[str, int] = {}
    for i, param in enumerate(study.parameters):
        where: tuple[str | int, ...] = ("parameters", i)
        key = "path" if param.path is not None else "paths"
        for j, target in enumerate(param.targets):
            loc = (*where, key) if key == "path" else (*where, key, j)
            try:
                parse_override(f"{target}{'*=' if param.multiplies else '='}1")
            except InstanceError as exc:
                message = exc.problems[0].message if exc.problems else "bad path"
                problems.append(Problem(message, loc, file, line_of(lines, loc), value=target))
        if param.name in seen:
            loc = (*where, "label")
            problems.append(Problem(f"the label {param.name!r} is used by parameters"
                                    f"[{seen[param.name]}] too: give each a unique 'label'",
                                    loc, file, line_of(lines, loc)))
        seen.setdefault(param.name, i)
        if param.values is not None:
            for j, value in enumerate(param.values):
                if isinstance(value, float) and not math.isfinite(value):
                    loc = (*where, "values", j)
                    problems.append(Problem("values must be finite", loc, file,
                                            line_of(lines, loc), value=value))
    if study.mode == "zip":
        sizes = [len(p.levels()) for p in study.parameters]
        for i, size in enumerate(sizes):
            if size != sizes[0]:
                loc = ("parameters", i)
                problems.append(Problem(
                    f"mode zip needs the same number of levels in every parameter: "
                    f"{size} here, {sizes[0]} in parameters[0]", loc, file, line_of(lines, loc)))
    return problems


_RANGE = re.compile(r"^\s*([^:,]+):([^:,]+):\s*(\d+)\s*$")


def parse_vary(text: str) -> Parameter:
    """``--vary PATH=a:b:n``, ``PATH=v1,v2,...``, ``PATH*=a:b:n`` or ``PATH*=f1,f2,...``;
    PATH may be several paths separated by commas (``P1,P2*=0.7:1.3:5``): they move together.
    Raises InstanceError."""
    m = re.match(r"^(?P<paths>[^=]+?)(?P<op>\*=|=)(?P<levels>.*)$", text.strip())
    if not m or not m.group("levels").strip():
        raise InstanceError([Problem("expected PATH=LO:HI:N, PATH=V1,V2,... or PATH*=LO:HI:N",
                                     (text,), "--vary")])
    paths = [p.strip() for p in _split_paths(m.group("paths")) if p.strip()]
    multiply = m.group("op") == "*="
    levels_text = m.group("levels").strip()
    spec: dict[str, Any] = {"paths": paths} if len(paths) > 1 else {"path": paths[0]}
    rng = _RANGE.match(levels_text)
    if (levels_text.count(":") == 2 and "," not in levels_text
            and not (rng and _is_number(rng.group(1)) and _is_number(rng.group(2)))):
        raise InstanceError([Problem("LO:HI:N needs numbers LO and HI and a whole number N",
                                     (text,), "--vary")])
    try:
        if rng and _is_number(rng.group(1)) and _is_number(rng.group(2)):
            triple = (float(rng.group(1)), float(rng.group(2)), int(rng.group(3)))
            spec["factor_range" if multiply else "range"] = triple
        else:
            values = [read_yaml(v.strip() or "null", "--vary")[0]
                      for v in levels_text.split(",")]
            spec["factors" if multiply else "values"] = values
        param = Parameter.model_validate(spec)
    except (ValidationError, InstanceError) as exc:
        message = (exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
                   if isinstance(exc, ValidationError)
                   else "; ".join(p.message for p in exc.problems))
        raise InstanceError([Problem(f"cannot read the levels: {message}", (text,),
                                     "--vary")]) from None
    problems = study_problems(Study(name="vary", parameters=[param]), "--vary")
    if problems:
        raise InstanceError([dataclasses.replace(p, path=(text,)) for p in problems])
    return param


def _split_paths(text: str) -> list[str]:
    """Split on commas outside brackets."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


@dataclass(frozen=True)
class Point:
    """One point of a sweep: a level per parameter, and the overrides that set them."""

    index: int
    levels: tuple[Any, ...]
    overrides: tuple[str, ...]


def expand(study: Study) -> list[Point]:
    """The points of a study: the cartesian product of the levels (the first parameter varies
    slowest) in mode ``grid``; the levels in step in mode ``zip``."""
    per_param = [p.levels() for p in study.parameters]
    combos: Iterator[tuple[Any, ...]] = (itertools.product(*per_param) if study.mode == "grid"
                                         else zip(*per_param, strict=True))
    points = []
    for i, combo in enumerate(combos):
        overrides = [o for p, level in zip(study.parameters, combo, strict=True)
                     for o in p.overrides(level)]
        points.append(Point(i, tuple(combo), tuple(overrides)))
    return points


# --------------------------------------------------------------------------------------------
# the instance a study runs on
# --------------------------------------------------------------------------------------------


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


def prepare_base(path: str | Path | None, scenarios: Sequence[str] = (),
                 overrides: Sequence[str] = ()) -> Base:
    """Read the instance (the national one when ``path`` is None) and validate it with the
    base overrides applied. Raises InstanceError."""
    if path is None:
        file, text = default_instance_text()
    else:
        file = str(path)
        try:
            text = Path(path).read_bytes().decode("utf-8")
        except OSError as exc:
            raise InstanceError([Problem(f"cannot read the file: {exc.strerror}", (),
                                         file)]) from None
        except UnicodeDecodeError as exc:
            raise InstanceError([Problem(f"not UTF-8 text ({exc.reason})", (), file)]) from None
    document = parse_text(text, file, overrides, scenarios)
    return Base(file, text, document.sha256, document.overrides, document)


def parameter_problems(base: Base, parameters: Sequence[Parameter], file: str,
                       lines: dict[Any, int] | None = None,
                       where: Sequence[str] | None = None) -> list[Problem]:
    """Paths that do not resolve in the instance (or cannot be multiplied), found before any
    point is solved. ``where`` names each parameter (e.g. its ``--vary`` text) instead of its
    place in a study file."""
    lines = lines or {}
    data = apply_all(read_yaml(base.text, base.file)[0], base.overrides)
    problems = []
    for i, param in enumerate(parameters):
        level = param.levels()[0]
        for j, text in enumerate(param.overrides(level)):
            try:
                apply(data, parse_override(text))
            except InstanceError as exc:
                message = exc.problems[0].message if exc.problems else "cannot apply"
                if where is not None:
                    problems.append(Problem(message, (where[i],), file))
                    continue
                loc: tuple[str | int, ...] = (("parameters", i, "path") if param.path
                                              else ("parameters", i, "paths", j))
                problems.append(Problem(f"{message} (in {base.file})", loc, file,
                                        line_of(lines, loc)))
    return problems


# --------------------------------------------------------------------------------------------
# tasks: what a worker solves, and the solve
# --------------------------------------------------------------------------------------------

Metric = Literal["cost", "carbon", "latency", "unmet"]


@dataclass(frozen=True)
class Goal:
    """A changed objective: minimise ``minimize`` subject to ``bounds`` (``metric <= value``);
    with ``then``, minimise ``then`` next, ``minimize`` held at its optimum (lexicographic).
    ``hold_service``: in that second step, also keep unmet energy at the first step's level."""

    minimize: Metric = "cost"
    then: Metric | None = None
    bounds: tuple[tuple[Metric, float], ...] = ()
    hold_service: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"minimize": self.minimize, "then": self.then,
                "bounds": [list(b) for b in self.bounds], "hold_service": self.hold_service}


@dataclass(frozen=True)
class Task:
    """Everything a worker needs (it may run on another machine): the instance text itself."""

    index: int
    key: str
    file: str
    text: str
    sha256: str
    overrides: tuple[str, ...]
    options: SolveOptions
    goal: Goal | None = None
    label: str = ""
    solution_path: str | None = None  # also write the point's full solution JSON here


def _options_dict(options: SolveOptions) -> dict[str, Any]:
    return {"backend": options.backend, "solver": options.solver,
            "time_limit": options.time_limit, "gap": options.gap}


def task_key(sha256: str, overrides: Sequence[str], options: SolveOptions,
             goal: Goal | None = None) -> str:
    """sha256 of (instance sha256, the full override list, the solver options, the goal)."""
    payload = {"cache": CACHE_VERSION, "instance_sha256": sha256, "overrides": list(overrides),
               "options": _options_dict(options),
               "goal": None if goal is None else goal.to_dict()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def make_task(base: Base, index: int, overrides: Sequence[str], options: SolveOptions,
              goal: Goal | None = None, label: str = "") -> Task:
    full = (*base.overrides, *overrides)
    return Task(index, task_key(base.sha256, full, options, goal), base.file, base.text,
                base.sha256, full, options, goal, label)


def metric_vector(lp: LinearProgram, arrays: Arrays, metric: Metric) -> np.ndarray:
    """Objective coefficients of a metric, from the LP's blocks (numpy, no loop)."""
    a = arrays.annual
    vec = np.zeros(lp.n_vars)
    if metric == "cost":
        vec[:] = np.asarray(lp.cost_matrix.sum(axis=0)).ravel()
    elif metric == "carbon":
        g = lp.variables["grid"]
        t = g.index["period"]
        vec[g.slice] = a[t] * arrays.carbon_intensity[g.index["site"], t]
    elif metric == "latency":
        f = lp.variables["flow"]
        vec[f.slice] = a[f.index["period"]] * arrays.latency[f.index["region"], f.index["site"]]
    elif metric == "unmet":
        u = lp.variables["unmet"]
        vec[u.slice] = a[u.index["period"]]
    else:
        raise ValueError(f"unknown metric {metric!r}")
    return vec


def with_objective(lp: LinearProgram, c: np.ndarray,
                   rows: Sequence[tuple[np.ndarray, float]] = ()) -> LinearProgram:
    """``lp`` minimising ``c``, with rows ``vec @ x <= bound`` appended (block ``study_bound``)."""
    if not rows:
        return dataclasses.replace(lp, c=c)
    extra = sp.csr_matrix(np.vstack([vec for vec, _ in rows]))
    A = sp.vstack([lp.A, extra], format="csr")
    block = Block("study_bound", lp.n_rows, len(rows), {"bound": np.arange(len(rows))})
    return dataclasses.replace(
        lp, c=c, A=A, row_lb=np.concatenate([lp.row_lb, np.full(len(rows), -np.inf)]),
        row_ub=np.concatenate([lp.row_ub, [bound for _, bound in rows]]),
        rows={**lp.rows, "study_bound": block})


def held(value: float, scale: float = 0.0, tol: float = SERVICE_TOL) -> float:
    """A value held as a bound, with a tiny slack so the next step stays feasible."""
    return value + tol * max(abs(value), abs(scale), 1.0)


@dataclass
class GoalRun:
    solution: Solution
    arrays: Arrays
    solve_s: float
    metrics: dict[str, float | None]
    cap_price: float | None


def solve_goal(document: Document, goal: Goal, options: SolveOptions) -> GoalRun:
    """Solve ``document`` with a changed objective (and bounds); see :class:`Goal`."""
    # no presolve here: its exchange arguments hold for the cost objective without extra rows
    arrays = compile_instance(document.instance)
    lp = formulate(arrays)
    needed = {goal.minimize, *(m for m, _ in goal.bounds), "unmet",
              *([goal.then] if goal.then else [])}
    vec = {m: metric_vector(lp, arrays, m) for m in needed}
    rows = [(vec[m], float(bound)) for m, bound in goal.bounds]
    current = with_objective(lp, vec[goal.minimize], rows)
    raw = backends.solve(current, options)
    solve_s = raw.solve_s
    if goal.then is not None and raw.x is not None and raw.status is Status.OPTIMAL:
        best = float(vec[goal.minimize] @ raw.x)
        tol = max(LEX_TOL, options.gap or 0.0)
        rows.append((vec[goal.minimize], best + tol * max(abs(best), 1.0)))
        if goal.hold_service:
            demand = float((arrays.demand * arrays.annual).sum())
            rows.append((vec["unmet"], held(float(vec["unmet"] @ raw.x), demand)))
        current = with_objective(lp, vec[goal.then], rows)
        raw = backends.solve(current, options)
        solve_s += raw.solve_s
    solution = interpret(arrays, current, raw)
    metrics: dict[str, float | None] = {m: None for m in ("carbon", "latency")}
    cap_price = None
    if raw.x is not None and solution.has_values:
        metrics = {"carbon": float(metric_vector(lp, arrays, "carbon") @ raw.x),
                   "latency": float(metric_vector(lp, arrays, "latency") @ raw.x)}
        lat = [i for i, (m, _) in enumerate(goal.bounds) if m == "latency"]
        if lat and raw.duals is not None:
            cap_price = float(-raw.duals[lp.n_rows + lat[0]]) + 0.0
    return GoalRun(solution, arrays, solve_s, metrics, cap_price)


def kpis(sol: Solution, arrays: Arrays) -> dict[str, Any]:
    """The numbers a study tabulates for one solved point (plain JSON types)."""
    if not sol.has_values:
        return {}
    total = float(sol.region_site_mwh.sum())
    west = [s for s, z in enumerate(sol.site_zone) if z == WEST]
    built: dict[str, float] = {}
    if sol.solver.get("integer_variables"):
        decidable = arrays.candidate.copy()
        decidable[arrays.exp_site] = True
        built = {arrays.sites[s]: 0.0 for s in np.flatnonzero(decidable)}
        for b in sol.build_table:
            built[b["site"]] = built.get(b["site"], 0.0) + float(b["capacity_mw"])
    return {
        "objective": sol.objective,
        "cost": float(sum(sol.costs.values())),
        "costs": {c: float(sol.costs.get(c, 0.0)) for c in COST_CATEGORIES},
        "carbon_t": float(sol.totals["carbon_t"]),
        "renewable_share": float(sol.totals["renewable_share"]),
        "unmet_mwh": float(sol.totals["unmet_mwh"]),
        "served_mwh": float(sol.totals["served_mwh"]),
        "demand_mwh": float(sum(k["demand_mwh"] for k in sol.class_table)),
        "west_share": (float(sol.region_site_mwh[:, west].sum()) / total if total > 0 else 0.0)
        if west else None,
        "latency_ms": {k["id"]: k["mean_latency_ms"] for k in sol.class_table},
        "built_mw": built,
        "carbon_cap_price": sol.policy.get("carbon_cap_price"),
    }


def _failed(task: Task, status: str, message: str, transient: bool = False) -> dict[str, Any]:
    return {**_header(task), "status": status, "message": message[:2000], "kpis": {},
            "transient": transient}


def _header(task: Task) -> dict[str, Any]:
    return {"cache_version": CACHE_VERSION, "key": task.key, "index": task.index,
            "label": task.label, "eastwest": __version__, "instance": task.file,
            "instance_sha256": task.sha256, "overrides": list(task.overrides),
            "options": _options_dict(task.options),
            "goal": None if task.goal is None else task.goal.to_dict(),
            "worker": f"{socket.gethostname()}:{os.getpid()}"}


def solve_task(task: Task, warm: WarmSolver | None = None) -> dict[str, Any]:
    """Solve one point (in this process, a pool worker or a Dask worker): a JSON-able record.
    Failures are records too; ``transient`` marks the unexpected ones, which are not cached."""
    start = time.perf_counter()
    try:
        document = parse_text(task.text, task.file, task.overrides)
    except InstanceError as exc:
        return _failed(task, "invalid", "; ".join(p.format() for p in exc.problems))
    try:
        if task.goal is None:
            # a serial sweep with the default solver warm-starts HiGHS from the last point
            use_warm = (warm is not None and task.options.backend == "ortools"
                        and task.options.solver == "auto")
            run = solve_document(document, task.options, warm.solve if use_warm and warm
                                 else None)
            sol, arrays, solve_s = run.solution, run.arrays, run.timings["solve"]
            extra: dict[str, Any] = {}
        else:
            goal_run = solve_goal(document, task.goal, task.options)
            sol, arrays, solve_s = goal_run.solution, goal_run.arrays, goal_run.solve_s
            extra = {"carbon": goal_run.metrics["carbon"],
                     "latency_mwh_ms": goal_run.metrics["latency"],
                     "latency_cap_price": goal_run.cap_price}
    except InstanceError as exc:
        return _failed(task, "invalid", "; ".join(p.format() for p in exc.problems))
    except Exception as exc:  # a failed point is a row, not a crash
        transient = not isinstance(exc, UsageError)
        return _failed(task, "error", f"{type(exc).__name__}: {exc}", transient)
    if task.solution_path is not None:
        write_atomic(task.solution_path, solution_json(sol, {"overrides": list(task.overrides)}))
    values = kpis(sol, arrays)
    if values and task.goal is not None:
        # "objective" stays the annual cost; the value of the objective the goal minimised last
        # (carbon, latency or cost) is kept beside it
        values.update(extra, goal_objective=values["objective"], objective=values["cost"])
    return {**_header(task), "status": sol.status.value, "message": sol.message,
            "kpis": values, "transient": False, "solve_s": solve_s,
            "total_s": time.perf_counter() - start,
            "warm": any(n.startswith("warm: yes") for n in sol.notes)}


_kept_warm: dict[SolveOptions, WarmSolver] = {}  # per worker process, by solver options


def solve_task_kept_warm(task: Task) -> dict[str, Any]:
    """:func:`solve_task` in a pool or Dask worker, warm-started from the last point this
    worker solved with the same options (each worker keeps its own HiGHS between points)."""
    if not warm_available():
        return solve_task(task)
    if task.options not in _kept_warm:
        _kept_warm[task.options] = WarmSolver(task.options)
    return solve_task(task, _kept_warm[task.options])


# --------------------------------------------------------------------------------------------
# cache and execution
# --------------------------------------------------------------------------------------------


class Cache:
    """One JSON file per point, ``<folder>/<key>.json``, written atomically."""

    def __init__(self, folder: Path, read: bool = True):
        self.folder = folder
        self.read = read

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def clean(self) -> int:
        """Remove temporary files an interrupted run left (``write_atomic``'s ``.*.tmp``)."""
        removed = 0
        if self.folder.is_dir():
            for tmp in self.folder.glob(".*.tmp"):
                with contextlib.suppress(OSError):
                    tmp.unlink()
                    removed += 1
        return removed

    def load(self, key: str) -> dict[str, Any] | None:
        if not self.read:
            return None
        path = self.path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            logger.warning("ignoring a damaged cache file %s: the point is solved again", path)
            return None
        if (not isinstance(data, dict) or data.get("key") != key
                or data.get("cache_version") != CACHE_VERSION):
            logger.warning("ignoring a cache file that does not match %s", path)
            return None
        return data

    def save(self, result: dict[str, Any]) -> None:
        write_atomic(self.path(result["key"]),
                     json.dumps(result, indent=1, allow_nan=False, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class Listener:
    """Progress events (the CLI draws a progress bar from them); every method may be a no-op.
    ``tick`` is called about every 0.2 s while points run in other processes."""

    def begin(self, total: int) -> None:
        """``total`` points in the study."""

    def cached(self, result: dict[str, Any]) -> None:
        """A point read from the cache."""

    def finished(self, result: dict[str, Any]) -> None:
        """A point solved (or failed)."""

    def tick(self) -> None:
        """Nothing finished yet."""


class Runner:
    """Runs tasks; yields (task, result) as they finish, in any order. Serial: in-process."""

    description = "serial"

    def run(self, tasks: Sequence[Task], tick: Callable[[], None]) -> Iterator[
            tuple[Task, dict[str, Any]]]:
        warm = WarmSolver(tasks[0].options) if tasks and warm_available() else None
        for task in tasks:
            yield task, solve_task(task, warm)

    def close(self, abort: bool = False) -> None:
        """Release workers; ``abort`` (an exception, e.g. Ctrl-C): stop running points too."""

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close(abort=exc_type is not None)


def one_process(task: Task) -> Task:
    """``task`` solved in its worker alone: the points already use every core, so a point's
    period LPs are not spread over more processes."""
    return dataclasses.replace(task, options=dataclasses.replace(task.options, workers=1))


class PoolRunner(Runner):
    """A local process pool (spawn: no fork of a process that holds solver state)."""

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.description = f"{jobs} processes"
        self._pool: ProcessPoolExecutor | None = None

    def run(self, tasks: Sequence[Task], tick: Callable[[], None]) -> Iterator[
            tuple[Task, dict[str, Any]]]:
        if not tasks:
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.jobs,
                                             mp_context=multiprocessing.get_context("spawn"))
        futures: dict[Future[dict[str, Any]], Task] = {
            self._pool.submit(solve_task_kept_warm, one_process(t)): t for t in tasks}
        pending = set(futures)
        # no cancelling here when the consumer stops early (Ctrl-C): close(abort=True) stops
        # the workers, which marks every pending future broken (cancelling first makes
        # Python 3.11's pool thread fail on the cancelled futures and the exit hang)
        while pending:
            done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            if not done:
                tick()
            for future in sorted(done, key=lambda f: futures[f].index):
                task = futures[future]
                exc = future.exception()
                yield task, (future.result() if exc is None else _failed(
                    task, "error", f"worker failed: {type(exc).__name__}: {exc}", True))

    def close(self, abort: bool = False) -> None:
        if self._pool is None:
            return
        if abort:  # do not wait for running solves: stop the workers (they write no files)
            for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=not abort)
        self._pool = None


class DaskRunner(Runner):
    """Points on a Dask distributed scheduler: ``address`` (``tcp://host:8786``), or ``local``
    for a LocalCluster of two single-threaded worker processes. Raises ImportError when Dask is
    not installed, OSError when the scheduler cannot be reached."""

    def __init__(self, address: str, timeout: float | None = None):
        from dask.distributed import Client, LocalCluster

        timeout = DASK_TIMEOUT if timeout is None else timeout
        self._cluster: Any = None
        if address == "local":
            self._cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                         dashboard_address=None, silence_logs=logging.ERROR)
            self.client: Any = Client(self._cluster, timeout=timeout)
        else:
            try:
                self.client = Client(address, timeout=timeout)
            except TimeoutError as exc:
                raise OSError(f"no Dask scheduler answered at {address}: {exc}") from None
        self.description = f"dask {address}"

    def run(self, tasks: Sequence[Task], tick: Callable[[], None]) -> Iterator[
            tuple[Task, dict[str, Any]]]:
        futures = {self.client.submit(solve_task_kept_warm, one_process(t), pure=False): t
                   for t in tasks}
        pending = set(futures)
        try:
            while pending:
                done = [f for f in pending if f.done()]
                if not done:
                    tick()
                    time.sleep(0.1)
                    continue
                for future in sorted(done, key=lambda f: futures[f].index):
                    pending.discard(future)
                    task = futures[future]
                    if future.status == "finished":
                        yield task, future.result()
                    else:
                        exc = future.exception()
                        yield task, _failed(task, "error",
                                            f"dask worker failed: {type(exc).__name__}: {exc}",
                                            True)
        finally:
            if pending:
                self.client.cancel(list(pending))

    def close(self, abort: bool = False) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def execute(tasks: Sequence[Task], cache: Cache | None, runner: Runner,
            listener: Listener) -> list[dict[str, Any]]:
    """Results in the order of ``tasks``: from the cache where there, else solved (and saved)."""
    results: dict[int, dict[str, Any]] = {}
    todo = []
    for task in tasks:
        hit = cache.load(task.key) if cache is not None else None
        if hit is None or (task.solution_path and not Path(task.solution_path).exists()):
            todo.append(task)
            continue
        results[task.index] = {**hit, "index": task.index, "label": task.label, "cached": True}
        listener.cached(results[task.index])
    for task, result in runner.run(todo, listener.tick):
        if cache is not None and not result.get("transient"):
            cache.save(result)
        results[task.index] = {**result, "cached": False}
        listener.finished(results[task.index])
    return [results[t.index] for t in tasks]


# --------------------------------------------------------------------------------------------
# sweeps
# --------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    study: Study
    base: Base
    options: SolveOptions
    points: list[Point]
    results: list[dict[str, Any]]
    seconds: float = 0.0

    @property
    def failed(self) -> list[tuple[Point, dict[str, Any]]]:
        return [(p, r) for p, r in zip(self.points, self.results, strict=True)
                if r["status"] != Status.OPTIMAL.value]

    @property
    def cached(self) -> int:
        return sum(1 for r in self.results if r.get("cached"))


def run_sweep(study: Study, base: Base, options: SolveOptions, out: Path,
              runner: Runner | None = None, listener: Listener | None = None,
              use_cache: bool = True, solutions: bool = False) -> SweepResult:
    """Solve every point of ``study`` (cached ones are read, not solved). With ``solutions``,
    each point's full solution JSON goes to ``out/solutions/point-NNNN.json`` (a cached point
    without one is solved again)."""
    listener = listener or Listener()
    start = time.perf_counter()
    points = expand(study)
    cache = Cache(out / "points", read=use_cache)
    cache.clean()
    tasks = [make_task(base, p.index, p.overrides, options, label=_point_label(study, p))
             for p in points]
    if solutions:
        tasks = [dataclasses.replace(
            t, solution_path=str(out / "solutions" / f"point-{t.index:04d}.json"))
            for t in tasks]
    listener.begin(len(tasks))
    with contextlib.ExitStack() as stack:
        if runner is None:
            runner = stack.enter_context(Runner())
        results = execute(tasks, cache, runner, listener)
    return SweepResult(study, base, options, points, results, time.perf_counter() - start)


def _point_label(study: Study, point: Point) -> str:
    return ", ".join(f"{p.name}={_level_text(p, v)}"
                     for p, v in zip(study.parameters, point.levels, strict=True))


def _level_text(param: Parameter, level: Any) -> str:
    if param.multiplies:
        return f"×{level:g}"
    if isinstance(level, float):
        return f"{level:g}"
    return "null" if level is None else str(level)


@dataclass(frozen=True)
class Column:
    """A results column: CSV name, display header, how to read it from a result, and how to
    show it (``fmt``: a format spec applied after ``scale``)."""

    name: str
    header: str
    get: Callable[[dict[str, Any]], Any]
    fmt: str = ",.2f"
    scale: float = 1.0
    unit: str = ""
    group: Literal["param", "status", "cost", "kpi", "note"] = "kpi"

    def show(self, result: dict[str, Any]) -> str:
        value = self.get(result)
        if value is None:
            return "-"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return format(value / self.scale if self.scale != 1.0 else value, self.fmt)
        return str(value)


def _kpi(*keys: str) -> Callable[[dict[str, Any]], Any]:
    def get(result: dict[str, Any]) -> Any:
        node: Any = result.get("kpis") or {}
        for key in keys:
            if not isinstance(node, dict):
                return None
            node = node.get(key)
        return node
    return get


def money_unit(results: Sequence[dict[str, Any]], currency: str) -> tuple[float, str]:
    """One unit for every money column of a table, from the largest cost in it."""
    top = max((abs(_kpi("cost")(r) or 0.0) for r in results), default=0.0)
    for divisor, prefix in ((1e8, "m "), (1e5, "k ")):
        if top >= divisor:
            return divisor / 100, prefix + currency
    return 1.0, currency


def carbon_column(results: Sequence[dict[str, Any]]) -> Column:
    """Emissions in kt CO2, or in t when every point emits less than 10 kt."""
    top = max((abs(_kpi("carbon_t")(r) or 0.0) for r in results), default=0.0)
    if top >= 1e4:
        return Column("carbon_t", "carbon kt", _kpi("carbon_t"), ",.1f", 1e3, "kt CO2")
    return Column("carbon_t", "carbon t", _kpi("carbon_t"), ",.1f", 1.0, "t CO2")


def kpi_columns(results: Sequence[dict[str, Any]], currency: str = "CNY") -> list[Column]:
    """The KPI columns, from what the results hold (classes and built sites vary by instance)."""
    classes: dict[str, None] = {}
    built: dict[str, None] = {}
    for r in results:
        k = r.get("kpis") or {}
        classes.update(dict.fromkeys(k.get("latency_ms") or {}))
        built.update(dict.fromkeys(k.get("built_mw") or {}))
    scale, money = money_unit(results, currency)
    fmt = ",.2f" if scale > 1 else ",.0f"
    cols = [
        Column("objective", f"objective {money}", _kpi("objective"), fmt, scale, money, "cost"),
        *(Column(f"cost_{c}", f"{c} {money}", _kpi("costs", c), fmt, scale, money, "cost")
          for c in COST_CATEGORIES),
        carbon_column(results),
        Column("renewable_share", "renewable %", _kpi("renewable_share"), ".1f", 0.01, "%"),
        Column("unmet_mwh", "unmet MWh", _kpi("unmet_mwh"), ",.0f", unit="MWh"),
        Column("west_share", "served west %", _kpi("west_share"), ".1f", 0.01, "%"),
        *(Column(f"latency_ms_{k}", f"{k} ms", _kpi("latency_ms", k), ".1f", unit="ms")
          for k in classes),
        *(Column(f"built_mw_{s}", f"{s} MW built", _kpi("built_mw", s), ",.0f", unit="MW")
          for s in built),
    ]
    return cols


def _shown(col: Column, results: Sequence[dict[str, Any]]) -> bool:
    """Display tables leave out cost categories that are zero at every point."""
    if col.group != "cost" or col.name == "objective":
        return True
    return any(abs(col.get(r) or 0.0) > 1e-9 for r in results)


def sweep_columns(sweep: SweepResult) -> list[Column]:
    """Every column of ``results.csv``, in order."""
    params = [
        Column(p.name, p.name + (" ×" if p.multiplies else ""), _level_of(i), "g",
               group="param")
        for i, p in enumerate(sweep.study.parameters)
    ]
    return [
        Column("point", "#", lambda r: r["index"], "d", group="param"),
        *params,
        Column("status", "status", lambda r: r["status"], group="status"),
        *kpi_columns(sweep.results, sweep.base.document.instance.currency),
        Column("message", "message", lambda r: r.get("message") if r["status"] !=
               Status.OPTIMAL.value else "", group="note"),
    ]


def _level_of(i: int) -> Callable[[dict[str, Any]], Any]:
    def get(record: dict[str, Any]) -> Any:
        return record["levels"][i]
    return get


def sweep_records(sweep: SweepResult) -> list[dict[str, Any]]:
    """Each result with its point's levels (the table's rows, before formatting)."""
    return [{**r, "levels": list(p.levels)}
            for p, r in zip(sweep.points, sweep.results, strict=True)]


def csv_text(columns: Sequence[Column], records: Sequence[dict[str, Any]]) -> str:
    """Tidy CSV: one row per point, raw numbers, empty where there is no value."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([c.name for c in columns])
    for rec in records:
        row = []
        for c in columns:
            v = c.get(rec)
            row.append("" if v is None else json.dumps(v) if isinstance(v, list | dict) else v)
        writer.writerow(row)
    return buf.getvalue()


def sweep_tables(sweep: SweepResult) -> list[Table]:
    cols = sweep_columns(sweep)
    records = sweep_records(sweep)
    keys = [c for c in cols if c.group in ("param", "status")]
    money = [c for c in cols if c.group == "cost" and _shown(c, records)]
    other = [c for c in cols if c.group == "kpi"]

    def table(title: str, body: list[Column], caption: str = "") -> Table:
        shown = [*keys, *body]
        rows = [[_param_cell(c, rec, sweep.study) for c in shown] for rec in records]
        numeric = {i for i, c in enumerate(shown) if c.group not in ("status", "note")}
        return Table(title, [c.header for c in shown], rows, caption=caption, numeric=numeric)

    unit = money_unit(records, sweep.base.document.instance.currency)[1]
    return [
        table(f"{sweep.study.name}: annual cost ({len(records)} points)", money,
              f"{unit} a year; cost categories that are zero at every point left out"),
        table(f"{sweep.study.name}: indicators", other,
              "carbon: CO2 a year; served west: share of IT energy served in sites of zone "
              "west; latency: mean round trip per MWh served, per class"),
    ]


def _param_cell(col: Column, rec: dict[str, Any], study: Study) -> str:
    if col.group == "param" and col.name != "point":
        i = [p.name for p in study.parameters].index(col.name)
        return _level_text(study.parameters[i], rec["levels"][i])
    return col.show(rec)


def failure_lines(records: Sequence[dict[str, Any]]) -> list[str]:
    return [f"point {r['index']} ({r.get('label') or '-'}): {r['status']}"
            + (f" — {r['message']}" if r.get("message") else "")
            for r in records if r["status"] != Status.OPTIMAL.value]


def sweep_markdown(sweep: SweepResult, plots: Sequence[Path] = ()) -> str:
    study, base = sweep.study, sweep.base
    ok = len(sweep.results) - len(sweep.failed)
    lines = [f"# Study: {study.name}", ""]
    if study.description:
        lines += [study.description.strip(), ""]
    lines += [
        f"- **instance**: {base.document.instance.name} (`{Path(base.file).name}`, sha256 "
        f"`{base.sha256[:12]}`)",
        f"- **base overrides**: {', '.join(f'`{o}`' for o in base.overrides) or 'none'}",
        f"- **mode**: {study.mode}, {len(sweep.points)} points ({ok} optimal, "
        f"{len(sweep.failed)} not)",
        "- **parameters**: " + "; ".join(
            (f"{p.name}: " if p.name != p.targets[0] else "")
            + f"`{', '.join(p.targets)}` {'×' if p.multiplies else '='} "
            f"{', '.join(_level_text(p, v).lstrip('×') for v in p.levels())}"
            for p in study.parameters),
        f"- **solver**: {sweep.options.backend}/{sweep.options.solver}"
        + (f", time limit {sweep.options.time_limit:g} s" if sweep.options.time_limit else ""),
        f"- eastwest {__version__}; every point's overrides, status and numbers are in "
        "`points/<key>.json`, the table in `results.csv`",
        "",
    ]
    lines += [table_md(t) for t in sweep_tables(sweep)]
    fails = failure_lines(sweep_records(sweep))
    if fails:
        lines += ["## Points without an optimal solution", "", *(f"- {f}" for f in fails), ""]
    svgs = [p for p in plots if p.suffix == ".svg"]
    if svgs:
        lines += ["## Plots", ""]
        lines += [f"![{p.stem}](plots/{p.name})" for p in svgs]
        lines.append("")
    return "\n".join(lines)


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    plots_skipped: str | None = None


def write_sweep(sweep: SweepResult, out: Path, plots: bool = True) -> Written:
    """``results.csv``, ``results.md``, ``study.json`` and ``plots/`` into ``out``."""
    written = Written()
    cols = sweep_columns(sweep)
    records = sweep_records(sweep)
    if plots:
        if plots_available():
            written.plots = sweep_plots(sweep, cols, records, out / "plots")
        else:
            written.plots_skipped = PLOTS_HINT
    files = {
        "results.csv": csv_text(cols, records),
        "results.md": sweep_markdown(sweep, written.plots),
        "study.json": json.dumps({
            "study": sweep.study.model_dump(by_alias=True, exclude_none=True),
            "eastwest": __version__, "instance": sweep.base.file,
            "instance_sha256": sweep.base.sha256, "base_overrides": list(sweep.base.overrides),
            "options": _options_dict(sweep.options), "points": len(sweep.points),
            "optimal": len(sweep.points) - len(sweep.failed), "cached": sweep.cached,
            "seconds": sweep.seconds,
            "point_files": [f"points/{r['key']}.json" for r in sweep.results],
        }, indent=1) + "\n",
    }
    for name, text in files.items():
        write_atomic(out / name, text)
        written.files.append(out / name)
    return written


# --------------------------------------------------------------------------------------------
# Pareto fronts
# --------------------------------------------------------------------------------------------

SECOND_OBJECTIVES = ("carbon", "latency")


@dataclass
class ParetoResult:
    base: Base
    second: Literal["carbon", "latency"]
    service: Literal["held", "free"]
    options: SolveOptions
    results: list[dict[str, Any]]
    seconds: float = 0.0

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] != Status.OPTIMAL.value]

    @property
    def cached(self) -> int:
        return sum(1 for r in self.results if r.get("cached"))


def second_value(result: dict[str, Any], second: str) -> float | None:
    """The second objective of a point: t CO2, or ms x MWh of served energy."""
    k = result.get("kpis") or {}
    if second == "carbon":
        return k.get("carbon_t")
    return k.get("latency_mwh_ms")


def run_pareto(base: Base, second: Literal["carbon", "latency"], points: int,
               options: SolveOptions, out: Path, runner: Runner | None = None,
               listener: Listener | None = None, use_cache: bool = True,
               service: Literal["held", "free"] = "held") -> ParetoResult:
    """The epsilon-constraint front of cost against ``second``: two lexicographic extremes,
    then ``points`` caps evenly spaced between them. Rows are marked ``on_front`` / ``knee``."""
    if second not in SECOND_OBJECTIVES:
        raise ValueError(f"the second objective is carbon or latency, not {second!r}")
    listener = listener or Listener()
    start = time.perf_counter()
    cache = Cache(out / "points", read=use_cache)
    cache.clean()
    listener.begin(points + 2)
    results: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        if runner is None:
            runner = stack.enter_context(Runner())
        low_cost = make_task(base, 0, (), options,
                             Goal("cost", then=second, hold_service=service == "held"),
                             label="min cost")
        [a] = execute([low_cost], cache, runner, listener)
        results.append({**a, "role": "min cost", "cap": None})
        if a["status"] != Status.OPTIMAL.value:
            return ParetoResult(base, second, service, options, results,
                                time.perf_counter() - start)
        bounds: tuple[tuple[Metric, float], ...] = ()
        if service == "held":
            k = a["kpis"]
            bounds = (("unmet", held(k["unmet_mwh"], k["demand_mwh"])),)
        low_second = make_task(base, 1, (), options, Goal(second, then="cost", bounds=bounds),
                               label=f"min {second}")
        [b] = execute([low_second], cache, runner, listener)
        results.append({**b, "role": f"min {second}", "cap": None})
        if b["status"] != Status.OPTIMAL.value:
            return ParetoResult(base, second, service, options, results,
                                time.perf_counter() - start)
        hi, lo = second_value(a, second), second_value(b, second)
        assert hi is not None
        assert lo is not None
        caps = [lo + (hi - lo) * i / (points + 1) for i in range(1, points + 1)]
        tasks = []
        for i, cap in enumerate(caps, start=2):
            if second == "carbon":
                overrides: tuple[str, ...] = (f"policy.carbon_cap_t={_yaml_value(cap)}",)
                goal = Goal("cost", bounds=bounds) if bounds else None
            else:
                overrides, goal = (), Goal("cost", bounds=(*bounds, ("latency", cap)))
            tasks.append(make_task(base, i, overrides, options, goal, label=f"cap {i - 1}"))
        for task, cap, r in zip(tasks, caps, execute(tasks, cache, runner, listener),
                                strict=True):
            results.append({**r, "role": task.label, "cap": cap})
    mark_front(results, second)
    return ParetoResult(base, second, service, options, results, time.perf_counter() - start)


def mark_front(results: list[dict[str, Any]], second: str) -> None:
    """Set ``on_front`` (not dominated, not a repeat), ``same_as`` (the index of the earlier
    point a repeat equals, within tolerance) and ``knee`` on every result."""
    ok = [r for r in results if r["status"] == Status.OPTIMAL.value
          and second_value(r, second) is not None]
    for r in results:
        r["on_front"], r["knee"], r["same_as"] = False, False, None
    if not ok:
        return
    f1 = np.array([r["kpis"]["cost"] for r in ok])
    f2 = np.array([second_value(r, second) for r in ok], dtype=float)
    tol1 = max(FRONT_TOL * np.ptp(f1), 10 * LEX_TOL * np.abs(f1).max(), 1e-9)
    tol2 = max(FRONT_TOL * np.ptp(f2), 10 * LEX_TOL * np.abs(f2).max(), 1e-9)
    keep = np.ones(len(ok), dtype=bool)
    for i in range(len(ok)):  # a handful of points: pairwise is fine
        no_worse = (f1 <= f1[i] + tol1) & (f2 <= f2[i] + tol2)
        better = (f1 < f1[i] - tol1) | (f2 < f2[i] - tol2)
        twins = np.flatnonzero(no_worse & ~better & (np.arange(len(ok)) < i))
        if (no_worse & better).any():
            keep[i] = False
        elif len(twins):
            keep[i] = False
            ok[i]["same_as"] = ok[int(twins[0])]["index"]
    front = np.flatnonzero(keep)
    for j in front:
        ok[j]["on_front"] = True
    if len(front) >= 3:
        n1 = (f1[front] - f1[front].min()) / max(np.ptp(f1[front]), 1e-12)
        n2 = (f2[front] - f2[front].min()) / max(np.ptp(f2[front]), 1e-12)
        distance = (1.0 - n1 - n2) / math.sqrt(2.0)  # to the line through (0, 1) and (1, 0)
        ok[front[int(np.argmax(distance))]]["knee"] = True
    else:
        ok[front[0]]["knee"] = True


def front_order(pareto: ParetoResult) -> list[dict[str, Any]]:
    """The results sorted by the second objective (failed points last, in their order)."""
    ok = [r for r in pareto.results if second_value(r, pareto.second) is not None
          and r["status"] == Status.OPTIMAL.value]
    ok.sort(key=lambda r: (second_value(r, pareto.second), r["kpis"]["cost"]))
    return ok + [r for r in pareto.results if r not in ok]


def pareto_columns(pareto: ParetoResult) -> list[Column]:
    currency = pareto.base.document.instance.currency
    scale, money = money_unit(pareto.results, currency)
    fmt = ",.2f" if scale > 1 else ",.0f"
    carbon = carbon_column(pareto.results)
    if pareto.second == "carbon":
        second = [
            Column("cap_t", carbon.header.replace("carbon", "carbon cap"), lambda r: r.get("cap"),
                   carbon.fmt, carbon.scale, carbon.unit),
            carbon,
            Column("carbon_price", f"implied carbon price {currency}/t",
                   _kpi("carbon_cap_price"), ",.1f"),
        ]
    else:
        second = [
            Column("cap_mwh_ms", "latency cap GWh·ms", lambda r: r.get("cap"), ",.1f", 1e3),
            Column("latency_mwh_ms", "latency GWh·ms", _kpi("latency_mwh_ms"), ",.1f", 1e3),
            Column("mean_latency_ms", "mean latency ms", _mean_latency, ".2f", unit="ms"),
            Column("latency_price", f"latency price {currency}/(MWh·ms)",
                   _kpi("latency_cap_price"), ",.3f"),
            carbon,
        ]
    cols = [
        Column("point", "#", lambda r: r["index"], "d", group="param"),
        Column("role", "step", lambda r: r.get("role"), group="status"),
        Column("status", "status", lambda r: r["status"], group="status"),
        Column("cost", f"cost {money}", _kpi("cost"), fmt, scale, money, "cost"),
        *second,
        Column("unmet_mwh", "unmet MWh", _kpi("unmet_mwh"), ",.0f", unit="MWh"),
        Column("renewable_share", "renewable %", _kpi("renewable_share"), ".1f", 0.01, "%"),
        Column("west_share", "served west %", _kpi("west_share"), ".1f", 0.01, "%"),
        Column("on_front", "on front", lambda r: r.get("on_front"), group="status"),
        Column("knee", "knee", lambda r: r.get("knee"), group="status"),
        Column("same_as", "same as", lambda r: r.get("same_as"), "d", group="status"),
        *(Column(f"cost_{c}", f"{c} {money}", _kpi("costs", c), fmt, scale, money, "cost")
          for c in COST_CATEGORIES),
        Column("message", "message", lambda r: r.get("message") if r["status"] !=
               Status.OPTIMAL.value else "", group="note"),
    ]
    return cols


def _mean_latency(result: dict[str, Any]) -> float | None:
    k = result.get("kpis") or {}
    total, served = k.get("latency_mwh_ms"), k.get("served_mwh")
    return total / served if total is not None and served else None


def pareto_table(pareto: ParetoResult) -> Table:
    records = front_order(pareto)
    cols = [c for c in pareto_columns(pareto)
            if not c.name.startswith("cost_") and c.group != "note" and c.name != "same_as"]
    rows = []
    for r in records:
        row = []
        for c in cols:
            if c.name == "on_front":
                row.append("yes" if r.get("on_front") else "-" if r["status"] !=
                           Status.OPTIMAL.value else "dominated" if r.get("same_as") is None
                           else f"= #{r['same_as']}")
            elif c.name == "knee":
                row.append("◆ knee" if r.get("knee") else "")
            else:
                row.append(c.show(r))
        rows.append(row)
    numeric = {i for i, c in enumerate(cols) if c.group not in ("status", "note")}
    what = "carbon" if pareto.second == "carbon" else "latency"
    caption = (f"sorted by {what}; cost is the whole annual cost; "
               + ("unmet energy held at the cost optimum's level at every point; "
                  if pareto.service == "held" else "unmet energy free (priced by its penalty); ")
               + ("implied carbon price: the carbon cap's shadow price"
                  if what == "carbon" else
                  "latency: sum of MWh x round-trip ms a year; latency price: the cap's shadow "
                  "price"))
    on_front = sum(1 for r in records if r.get("on_front"))
    return Table(f"Pareto front: cost vs {what} ({on_front} of {len(records)} points on the "
                 "front)", [c.header for c in cols], rows, caption=caption, numeric=numeric)


def pareto_markdown(pareto: ParetoResult, plots: Sequence[Path] = ()) -> str:
    base = pareto.base
    lines = [f"# Pareto front: cost vs {pareto.second} ({base.name})", "",
             f"- **instance**: {base.document.instance.name} (`{Path(base.file).name}`, sha256 "
             f"`{base.sha256[:12]}`)",
             f"- **base overrides**: {', '.join(f'`{o}`' for o in base.overrides) or 'none'}",
             f"- **method**: epsilon-constraint; both extremes lexicographic (cost then "
             f"{pareto.second}, {pareto.second} then cost, the first held within a relative "
             f"{LEX_TOL:g}); {len(pareto.results) - 2} caps evenly spaced between them, "
             "each minimising cost",
             f"- **service**: {pareto.service}" + (
                 " (unmet energy at most the cost optimum's at every point)"
                 if pareto.service == "held" else " (dropping demand allowed, at its penalty)"),
             f"- **solver**: {pareto.options.backend}/{pareto.options.solver}",
             f"- eastwest {__version__}; every point's numbers are in `points/<key>.json`, the "
             "table in `results.csv`", "",
             table_md(pareto_table(pareto))]
    knee = [r for r in pareto.results if r.get("knee")]
    ends = [r for r in pareto.results[:2] if r["status"] == Status.OPTIMAL.value]
    if knee and len(ends) == 2:
        k, a, b = knee[0]["kpis"], ends[0]["kpis"], ends[1]["kpis"]
        v = (second_value(knee[0], pareto.second), second_value(ends[0], pareto.second),
             second_value(ends[1], pareto.second))
        assert None not in v
        span = (v[1] or 0.0) - (v[2] or 0.0)
        if span > 0 and b["cost"] > a["cost"]:
            lines += ["## Knee", "",
                      f"The knee ({knee[0]['role']}) achieves "
                      f"{100 * ((v[1] or 0.0) - (v[0] or 0.0)) / span:.0f}% of the possible "
                      f"{pareto.second} reduction for "
                      f"{100 * (k['cost'] - a['cost']) / (b['cost'] - a['cost']):.0f}% of the "
                      "extra cost.", ""]
    fails = failure_lines(pareto.results)
    if fails:
        lines += ["## Points without an optimal solution", "", *(f"- {f}" for f in fails), ""]
    svgs = [p for p in plots if p.suffix == ".svg"]
    if svgs:
        lines += ["## Plot", "", *(f"![{p.stem}](plots/{p.name})" for p in svgs), ""]
    return "\n".join(lines)


def write_pareto(pareto: ParetoResult, out: Path, plots: bool = True) -> Written:
    written = Written()
    records = front_order(pareto)
    if plots:
        if plots_available():
            written.plots = pareto_plot(pareto, out / "plots")
        else:
            written.plots_skipped = PLOTS_HINT
    files = {
        "results.csv": csv_text(pareto_columns(pareto), records),
        "results.md": pareto_markdown(pareto, written.plots),
        "study.json": json.dumps({
            "pareto": ["cost", pareto.second], "service": pareto.service,
            "eastwest": __version__, "instance": pareto.base.file,
            "instance_sha256": pareto.base.sha256,
            "base_overrides": list(pareto.base.overrides),
            "options": _options_dict(pareto.options), "points": len(pareto.results),
            "optimal": len(pareto.results) - len(pareto.failed), "cached": pareto.cached,
            "seconds": pareto.seconds,
            "point_files": [f"points/{r['key']}.json" for r in pareto.results],
        }, indent=1) + "\n",
    }
    for name, text in files.items():
        write_atomic(out / name, text)
        written.files.append(out / name)
    return written


# --------------------------------------------------------------------------------------------
# plots (matplotlib, an optional extra; the Agg canvas, no pyplot and no global backend)
# --------------------------------------------------------------------------------------------


def plots_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def sweep_plots(sweep: SweepResult, columns: Sequence[Column],
                records: Sequence[dict[str, Any]], folder: Path) -> list[Path]:
    """A PNG and an SVG per KPI against the first parameter; in a grid, one line per
    combination of the other parameters."""
    from matplotlib.figure import Figure

    study = sweep.study
    first = study.parameters[0]
    xs_all = first.levels()
    numeric_x = _numeric(xs_all)
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for rec in records:
        rest = tuple(rec["levels"][1:]) if study.mode == "grid" else ()
        groups.setdefault(tuple(map(_freeze, rest)), []).append(rec)
    kpis_to_plot = [c for c in columns if c.group in ("cost", "kpi") and _shown(c, records)
                    and any(c.get(r) is not None for r in records)]
    written: list[Path] = []
    for col in kpis_to_plot:
        fig = Figure(figsize=(6.4, 4.0), layout="constrained")
        ax = fig.subplots()
        for rest, recs in groups.items():
            xs = [r["levels"][0] for r in recs]
            pos = xs if numeric_x else [xs_all.index(x) for x in xs]
            ys = [np.nan if col.get(r) is None else col.get(r) / col.scale for r in recs]
            label = ", ".join(f"{p.name}={_level_text(p, v)}"
                              for p, v in zip(study.parameters[1:], rest, strict=True))
            ax.plot(pos, ys, marker="o", label=label or None)
        if not numeric_x:
            ax.set_xticks(range(len(xs_all)), [_level_text(first, x) for x in xs_all])
        ax.set_xlabel(first.name + (" (factor)" if first.multiplies else ""))
        ax.set_ylabel(col.header if not col.unit or col.unit in col.header
                      else f"{col.header} ({col.unit})")
        ax.set_title(f"{study.name}: {col.header}", fontsize=10)
        ax.grid(True, alpha=0.3)
        if len(groups) > 1:
            ax.legend(fontsize=7)
        written += save_figure(fig, folder, col.name)
    return written


def _freeze(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, list | dict) else value


def pareto_plot(pareto: ParetoResult, folder: Path) -> list[Path]:
    from matplotlib.figure import Figure

    records = front_order(pareto)
    ok = [r for r in records if r["status"] == Status.OPTIMAL.value]
    if not ok:
        return []
    if pareto.second == "carbon":
        xlabel = "carbon (kt CO2 a year)"

        def x_of(r: dict[str, Any]) -> float:
            return float(r["kpis"]["carbon_t"]) / 1e3
    else:
        xlabel = "mean latency (ms round trip per MWh served)"

        def x_of(r: dict[str, Any]) -> float:
            return float(_mean_latency(r) or 0.0)
    scale, money = money_unit(ok, pareto.base.document.instance.currency)
    fig = Figure(figsize=(6.4, 4.4), layout="constrained")
    ax = fig.subplots()
    front = [r for r in ok if r.get("on_front")]
    dominated = [r for r in ok if not r.get("on_front")]
    ax.plot([x_of(r) for r in front], [r["kpis"]["cost"] / scale for r in front], marker="o",
            label="Pareto front")
    if dominated:
        ax.scatter([x_of(r) for r in dominated], [r["kpis"]["cost"] / scale for r in dominated],
                   marker="x", color="grey", label="dominated or repeated")
    for r in ok:
        if r.get("knee"):
            ax.scatter([x_of(r)], [r["kpis"]["cost"] / scale], marker="D", s=80, color="tab:red",
                       zorder=3, label="knee")
        if r["role"].startswith("min"):
            ax.annotate(r["role"], (x_of(r), r["kpis"]["cost"] / scale), fontsize=8,
                        textcoords="offset points", xytext=(6, 6))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"annual cost ({money})")
    ax.set_title(f"{pareto.base.name}: cost vs {pareto.second}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, folder, f"pareto-{pareto.second}")

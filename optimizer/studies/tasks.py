"""Tasks: what a worker solves (it may run on another machine: the instance text travels with
it), its cache key, and the solve, through :func:`optimizer.pipeline.solve_document`."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from optimizer.backends.base import SolveOptions
from optimizer.compile import Arrays
from optimizer.errors import InstanceError, UsageError
from optimizer.interpret import Solution
from optimizer.load import parse_text
from optimizer.model.lp import cost_categories
from optimizer.pipeline import solve_document
from optimizer.records.inputs import Base, Goal
from optimizer.records.results import CACHE_VERSION, Kpis, OptionsKey, PointResult
from optimizer.report.files import solution_json, write_atomic
from optimizer.studies.goals import GoalStrategy, goal_values
from optimizer.warm import WarmSolver
from optimizer.warm import available as warm_available

WEST = "west"


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


def task_key(sha256: str, overrides: Sequence[str], options: SolveOptions,
             goal: Goal | None = None) -> str:
    """sha256 of (instance sha256, the full override list, the solver options, the goal)."""
    payload: dict[str, Any] = {
        "cache": CACHE_VERSION, "instance_sha256": sha256, "overrides": list(overrides),
        "options": OptionsKey.of(options).to_json(),
        "goal": None if goal is None else goal.to_dict()}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def make_task(base: Base, index: int, overrides: Sequence[str], options: SolveOptions,
              goal: Goal | None = None, label: str = "") -> Task:
    full = (*base.overrides, *overrides)
    return Task(index, task_key(base.sha256, full, options, goal), base.file, base.text,
                base.sha256, full, options, goal, label)


def kpis(sol: Solution, arrays: Arrays) -> Kpis | None:
    """The numbers a study tabulates for one solved point (None without a solution)."""
    if not sol.has_values:
        return None
    total = float(sol.region_site_mwh.sum())
    west = [s for s, z in enumerate(sol.site_zone) if z == WEST]
    built: dict[str, float] = {}
    if sol.solver.get("integer_variables"):
        decidable = arrays.candidate.copy()
        decidable[arrays.exp_site] = True
        built = {arrays.sites[s]: 0.0 for s in np.flatnonzero(decidable)}
        for b in sol.build_table:  # a plan (version 2): what is new over the years
            mw = b["new_mw"] if sol.plan is not None else b["capacity_mw"]
            built[b["site"]] = built.get(b["site"], 0.0) + float(mw)
    return Kpis(
        objective=sol.objective,
        cost=float(sum(sol.costs.values())),
        costs={c: float(sol.costs.get(c, 0.0)) for c in cost_categories(arrays.version)},
        carbon_t=float(sol.totals["carbon_t"]),
        renewable_share=float(sol.totals["renewable_share"]),
        unmet_mwh=float(sol.totals["unmet_mwh"]),
        served_mwh=float(sol.totals["served_mwh"]),
        demand_mwh=float(sum(k["demand_mwh"] for k in sol.class_table)) if sol.plan is None
        else float(sol.totals["served_mwh"] + sol.totals["unmet_mwh"]),  # a plan: expected
        west_share=(float(sol.region_site_mwh[:, west].sum()) / total if total > 0 else 0.0)
        if west else None,
        latency_ms={k["id"]: k["mean_latency_ms"] for k in sol.class_table},
        built_mw=built,
        carbon_cap_price=sol.policy.get("carbon_cap_price"),
    )


def result_of(task: Task, status: str, message: str, values: Kpis | None = None,
              transient: bool = False, solve_s: float | None = None,
              total_s: float | None = None, warm: bool | None = None) -> PointResult:
    """A point's record, written by the worker that solved it."""
    return PointResult(
        key=task.key, index=task.index, label=task.label, instance=task.file,
        instance_sha256=task.sha256, overrides=task.overrides,
        options=OptionsKey.of(task.options), goal=task.goal,
        worker=f"{socket.gethostname()}:{os.getpid()}", status=status, message=message,
        kpis=values, transient=transient, solve_s=solve_s, total_s=total_s, warm=warm)


def failed(task: Task, status: str, message: str, transient: bool = False) -> PointResult:
    return result_of(task, status, message[:2000], transient=transient)


def solve_task(task: Task, warm: WarmSolver | None = None) -> PointResult:
    """Solve one point (in this process, a pool worker or a Dask worker): its record.
    Failures are records too; ``transient`` marks the unexpected ones, which are not cached."""
    start = time.perf_counter()
    try:
        document = parse_text(task.text, task.file, task.overrides)
    except InstanceError as exc:
        return failed(task, "invalid", "; ".join(p.format() for p in exc.problems))
    try:
        # a serial sweep with the default solver warm-starts HiGHS from the last point
        use_warm = (warm is not None and task.goal is None and task.options.backend == "ortools"
                    and task.options.solver == "auto")
        run = solve_document(document, task.options, warm.solve if use_warm and warm else None,
                             strategy=None if task.goal is None else GoalStrategy(task.goal))
    except InstanceError as exc:
        return failed(task, "invalid", "; ".join(p.format() for p in exc.problems))
    except Exception as exc:  # a failed point is a row, not a crash
        transient = not isinstance(exc, UsageError)
        return failed(task, "error", f"{type(exc).__name__}: {exc}", transient)
    sol = run.solution
    if task.solution_path is not None:
        write_atomic(task.solution_path, solution_json(sol, {"overrides": list(task.overrides)}))
    values = kpis(sol, run.arrays)
    if values is not None and task.goal is not None:
        # "objective" stays the annual cost; the value of the objective the goal minimised last
        # (carbon, latency or cost) is kept beside it
        values = dataclasses.replace(values, objective=values.cost,
                                     goal=goal_values(run, task.goal))
    return result_of(task, sol.status.value, sol.message, values,
                     solve_s=run.timings["solve"], total_s=time.perf_counter() - start,
                     warm=any(n.startswith("warm: yes") for n in sol.notes))


_kept_warm: dict[SolveOptions, WarmSolver] = {}  # per worker process, by solver options


def solve_task_kept_warm(task: Task) -> PointResult:
    """:func:`solve_task` in a pool or Dask worker, warm-started from the last point this
    worker solved with the same options (each worker keeps its own HiGHS between points)."""
    if not warm_available():
        return solve_task(task)
    if task.options not in _kept_warm:
        _kept_warm[task.options] = WarmSolver(task.options)
    return solve_task(task, _kept_warm[task.options])

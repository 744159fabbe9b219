"""Pareto fronts of cost against carbon, latency or water, by the epsilon-constraint method: two
lexicographic extremes, then caps evenly spaced between them (see :mod:`optimizer.studies`)."""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Literal

import numpy as np

from optimizer.backends.base import SolveOptions
from optimizer.errors import InstanceError, Problem
from optimizer.records.inputs import LEX_TOL, Base, Goal, Metric, yaml_value
from optimizer.records.results import FrontPoint, ParetoResult, Second, second_value
from optimizer.studies.cache import Cache
from optimizer.studies.goals import held
from optimizer.studies.runners import Listener, Runner, execute, serial_unless
from optimizer.studies.tasks import Task, make_task

SECOND_OBJECTIVES = ("carbon", "latency", "water")
VERSION_2_OBJECTIVES = ("water",)
"""Second objectives a version-1 instance does not have (water: ``sites[].wue``, DESIGN.md §8)."""
FRONT_TOL = 1e-6
"""Relative (to the front's range) tolerance when comparing points for dominance; at least
10 x LEX_TOL of the values themselves (what holding an optimum may move them)."""


def run_pareto(base: Base, second: Second, points: int,
               options: SolveOptions, out: Path, runner: Runner | None = None,
               listener: Listener | None = None, use_cache: bool = True,
               service: Literal["held", "free"] = "held") -> ParetoResult:
    """The epsilon-constraint front of cost against ``second``: two lexicographic extremes,
    then ``points`` caps evenly spaced between them. Points are marked ``on_front`` / ``knee``."""
    if second not in SECOND_OBJECTIVES:
        raise ValueError(f"the second objective is carbon, latency or water, not {second!r}")
    check_second(base, second)
    listener = listener or Listener()
    start = time.perf_counter()
    cache = Cache(out / "points", read=use_cache)
    cache.clean()
    listener.begin(points + 2)
    results: list[FrontPoint] = []

    def done() -> ParetoResult:
        return ParetoResult(base, second, service, options, results,
                            time.perf_counter() - start)

    def solve(tasks: list[Task], caps: list[float | None], running: Runner) -> bool:
        """Solve ``tasks`` (their label is their role); False if one is not optimal."""
        for task, cap, r in zip(tasks, caps, execute(tasks, cache, running, listener),
                                strict=True):
            results.append(FrontPoint(r, task.label, cap))
        return all(p.result.optimal for p in results[-len(tasks):])

    with serial_unless(runner) as running:
        low_cost = make_task(base, 0, (), options,
                             Goal("cost", then=second, hold_service=service == "held"),
                             label="min cost")
        if not solve([low_cost], [None], running):
            return done()
        bounds: tuple[tuple[Metric, float], ...] = ()
        k = results[0].result.kpis
        if service == "held" and k is not None:
            bounds = (("unmet", held(k.unmet_mwh, k.demand_mwh)),)
        low_second = make_task(base, 1, (), options, Goal(second, then="cost", bounds=bounds),
                               label=f"min {second}")
        if not solve([low_second], [None], running):
            return done()
        hi, lo = (second_value(p.result, second) for p in results)
        assert hi is not None
        assert lo is not None
        caps = [lo + (hi - lo) * i / (points + 1) for i in range(1, points + 1)]
        solve([_cap_task(base, i, cap, second, bounds, options)
               for i, cap in enumerate(caps, start=2)], list(caps), running)
    results[:] = mark_front(results, second)
    return done()


def check_second(base: Base, second: Second) -> None:
    """Raise InstanceError (naming the file and its ``version``) for a second objective the
    instance does not have: water needs version 2."""
    version = base.document.instance.version
    if second in VERSION_2_OBJECTIVES and version < 2:
        raise InstanceError([Problem(
            f"--objectives cost,{second} needs a version-2 instance (water: sites[].wue, "
            f"DESIGN.md §8); {Path(base.file).name} is version {version}", ("version",),
            base.file, base.document.line(("version",)), version)])


def _cap_task(base: Base, index: int, cap: float, second: Second,
              bounds: tuple[tuple[Metric, float], ...], options: SolveOptions) -> Task:
    """Minimise cost with ``second`` capped by a bound row on its expression (the cap's shadow
    price is its implied price; on a plan the expression is the horizon's expected total, the
    value the extremes and caps are spaced on). Carbon on a single-case instance goes through
    its own ``policy.carbon_cap_t`` instead: the same annual total there, and its shadow price
    the policy's carbon cap price, so version-1 fronts are as they were. (On a plan that field
    caps each case a year, not the horizon's total.)"""
    if second == "carbon" and not base.planned:
        overrides: tuple[str, ...] = (f"policy.carbon_cap_t={yaml_value(cap)}",)
        goal = Goal("cost", bounds=bounds) if bounds else None
    else:
        overrides, goal = (), Goal("cost", bounds=(*bounds, (second, cap)))
    return make_task(base, index, overrides, options, goal, label=f"cap {index - 1}")


def mark_front(results: list[FrontPoint], second: str) -> list[FrontPoint]:
    """``results`` with ``on_front`` (not dominated, not a repeat), ``same_as`` (the index of
    the earlier point a repeat equals, within tolerance) and ``knee`` set."""
    n = len(results)
    on_front, knee = [False] * n, [False] * n
    same_as: list[int | None] = [None] * n
    ok = [i for i, p in enumerate(results)
          if p.result.optimal and second_value(p.result, second) is not None]
    if ok:
        f1 = np.array([_cost(results[i]) for i in ok])
        f2 = np.array([second_value(results[i].result, second) for i in ok], dtype=float)
        keep, twin = _non_dominated(f1, f2)
        for j, i in enumerate(ok):
            on_front[i] = bool(keep[j])
            if twin[j] >= 0:
                same_as[i] = results[ok[twin[j]]].result.index
        knee[ok[_knee(f1, f2, np.flatnonzero(keep))]] = True
    return [dataclasses.replace(p, on_front=on_front[i], knee=knee[i], same_as=same_as[i])
            for i, p in enumerate(results)]


def _cost(point: FrontPoint) -> float:
    assert point.result.kpis is not None
    return point.result.kpis.cost


def _non_dominated(f1: np.ndarray, f2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which points are kept (neither dominated nor a repeat of an earlier one), and for each
    repeat the position of the earlier point it equals (-1 otherwise)."""
    tol1 = max(FRONT_TOL * np.ptp(f1), 10 * LEX_TOL * np.abs(f1).max(), 1e-9)
    tol2 = max(FRONT_TOL * np.ptp(f2), 10 * LEX_TOL * np.abs(f2).max(), 1e-9)
    keep = np.ones(len(f1), dtype=bool)
    twin = np.full(len(f1), -1)
    for i in range(len(f1)):  # a handful of points: pairwise is fine
        no_worse = (f1 <= f1[i] + tol1) & (f2 <= f2[i] + tol2)
        better = (f1 < f1[i] - tol1) | (f2 < f2[i] - tol2)
        twins = np.flatnonzero(no_worse & ~better & (np.arange(len(f1)) < i))
        if (no_worse & better).any():
            keep[i] = False
        elif len(twins):
            keep[i] = False
            twin[i] = int(twins[0])
    return keep, twin


def _knee(f1: np.ndarray, f2: np.ndarray, front: np.ndarray) -> int:
    """The front point farthest from the line between the extremes (both normalised)."""
    if len(front) < 3:
        return int(front[0])
    n1 = (f1[front] - f1[front].min()) / max(np.ptp(f1[front]), 1e-12)
    n2 = (f2[front] - f2[front].min()) / max(np.ptp(f2[front]), 1e-12)
    distance = (1.0 - n1 - n2) / math.sqrt(2.0)  # to the line through (0, 1) and (1, 0)
    return int(front[int(np.argmax(distance))])

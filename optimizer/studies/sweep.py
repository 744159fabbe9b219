"""Sweeps: one instance solved at every point of a study's parameter grid (or zip)."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from optimizer.backends.base import SolveOptions
from optimizer.records.inputs import Base, Study
from optimizer.records.results import SweepResult
from optimizer.studies.cache import Cache
from optimizer.studies.runners import Listener, Runner, execute, serial_unless
from optimizer.studies.spec import expand, point_label
from optimizer.studies.tasks import make_task


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
    tasks = [make_task(base, p.index, p.overrides, options, label=point_label(study, p))
             for p in points]
    if solutions:
        tasks = [dataclasses.replace(
            t, solution_path=str(out / "solutions" / f"point-{t.index:04d}.json"))
            for t in tasks]
    listener.begin(len(tasks))
    with serial_unless(runner) as running:
        results = execute(tasks, cache, running, listener)
    return SweepResult(study, base, options, points, results, time.perf_counter() - start)

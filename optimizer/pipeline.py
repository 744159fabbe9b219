"""The pipeline end to end: load -> compile -> formulate -> solve -> interpret.

Studies (later) drive :func:`solve_document` many times; the CLI calls :func:`run`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from optimizer import backends
from optimizer.backends.base import RawResult, SolveOptions
from optimizer.compile import Arrays, compile_instance
from optimizer.errors import InstanceError
from optimizer.interpret import Solution, interpret
from optimizer.load import Document, load
from optimizer.model import LinearProgram, formulate, unsupported
from optimizer.model.size import check_size
from optimizer.presolve import prune_arcs


@dataclass
class Run:
    document: Document
    arrays: Arrays
    lp: LinearProgram
    raw: RawResult
    solution: Solution
    timings: dict[str, float] = field(default_factory=dict)


def solve_document(document: Document, options: SolveOptions | None = None,
                   solver: Callable[[LinearProgram], RawResult] | None = None) -> Run:
    """Solve a validated instance; ``solver`` replaces the backend call (e.g. a warm-started
    :class:`optimizer.warm.WarmSolver` in a serial sweep)."""
    options = options or SolveOptions()
    refused = unsupported(document)
    if refused:
        raise InstanceError(refused)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    arrays = compile_instance(document.instance)
    if options.prune:
        arrays = prune_arcs(arrays)
    check_size(arrays)  # refuse, with the numbers, what would not fit in memory
    t1 = time.perf_counter()
    lp = formulate(arrays)
    t2 = time.perf_counter()
    raw = backends.solve(lp, options) if solver is None else solver(lp)
    t3 = time.perf_counter()
    solution = interpret(arrays, lp, raw)
    t4 = time.perf_counter()
    solution.warnings.extend(p.format() for p in document.warnings)
    solution.overrides = list(document.overrides)
    timings.update(compile=t1 - t0, formulate=t2 - t1, solve=t3 - t2, interpret=t4 - t3)
    return Run(document, arrays, lp, raw, solution, timings)


def run(path: str | Path | None = None, options: SolveOptions | None = None) -> Run:
    """Load (the national instance when ``path`` is None) and solve."""
    t0 = time.perf_counter()
    document = load(path)
    load_s = time.perf_counter() - t0
    result = solve_document(document, options)
    result.timings = {"load": load_s, **result.timings}
    return result

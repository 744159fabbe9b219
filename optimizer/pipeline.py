"""The pipeline end to end: load -> compile -> formulate -> solve -> interpret.

Studies drive :func:`solve_document` many times (a goal's changed objective as a
:class:`Strategy`); the CLI calls :func:`run`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from optimizer import engine
from optimizer.backends.base import RawResult, SolveOptions
from optimizer.backends.options import option_problems
from optimizer.cases import build_plan
from optimizer.compile import Arrays, compile_instance
from optimizer.errors import InstanceError, UsageError
from optimizer.interpret import Solution, interpret
from optimizer.load import Document, load
from optimizer.model import LinearProgram, formulate, unsupported
from optimizer.model.numbers import check_numbers
from optimizer.model.size import check_size
from optimizer.planning import PlanRun, solve_plan
from optimizer.planning.result import reference_case, single_case
from optimizer.presolve import prune_arcs

LpSolver = Callable[[LinearProgram], RawResult]


@dataclass
class Run:
    document: Document
    arrays: Arrays
    lp: LinearProgram
    """The LP the solution was read from: the formulated one, or a strategy's."""
    raw: RawResult
    solution: Solution
    timings: dict[str, float] = field(default_factory=dict)
    plan: PlanRun | None = None  # version 2 with a planning block: the cases and their build


class Strategy(Protocol):
    """Decides what is solved once the model is formulated (DESIGN.md: strategies above
    backends), e.g. :class:`optimizer.studies.goals.GoalStrategy`: another objective, extra
    rows, two lexicographic steps."""

    @property
    def presolve(self) -> bool:
        """Whether arcs may be pruned first (``SolveOptions.prune``): presolve's exchange
        arguments hold for the cost objective without extra rows only."""

    def solve(self, lp: LinearProgram, arrays: Arrays, options: SolveOptions,
              solve: LpSolver) -> tuple[LinearProgram, RawResult]:
        """The LP the solution is read from and its result; ``solve`` is the backend call
        (or the caller's ``solver``), to be called once or more."""


def solve_document(document: Document, options: SolveOptions | None = None,
                   solver: LpSolver | None = None, strategy: Strategy | None = None) -> Run:
    """Solve a validated instance; ``solver`` replaces the backend call (e.g. a warm-started
    :class:`optimizer.warm.WarmSolver` in a serial sweep); ``strategy`` decides what is
    solved (default: the formulated LP, once)."""
    options = options or SolveOptions()
    bad_options = option_problems(options)
    if bad_options:  # the CLI checks them before any work; this is for library callers
        raise UsageError("; ".join(n.words() for n in bad_options), bad_options[0])
    refused = unsupported(document)
    if refused:
        raise InstanceError(refused)
    if document.instance.planning is not None:
        return _solve_planned(document, options, solver, strategy)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    arrays = compile_instance(document.instance)
    if options.prune and (strategy is None or strategy.presolve):
        arrays = prune_arcs(arrays)
    check_size(arrays)  # refuse, with the numbers, what would not fit in memory
    t1 = time.perf_counter()
    lp = formulate(arrays)
    check_numbers(lp, document.file)  # nothing the solvers would take for infinity
    t2 = time.perf_counter()
    solve = solver or functools.partial(engine.solve, options=options)
    if strategy is None:
        raw = solve(lp)
    else:
        lp, raw = strategy.solve(lp, arrays, options, solve)
    t3 = time.perf_counter()
    solution = interpret(arrays, lp, raw)
    t4 = time.perf_counter()
    if document.instance.version == 2:
        solution = single_case(solution, arrays, lp, raw)
    solution.warnings.extend(p.format() for p in document.warnings)
    solution.overrides = list(document.overrides)
    timings.update(compile=t1 - t0, formulate=t2 - t1, solve=t3 - t2, interpret=t4 - t3)
    return Run(document, arrays, lp, raw, solution, timings)


def _solve_planned(document: Document, options: SolveOptions, solver: LpSolver | None,
                   strategy: Strategy | None) -> Run:
    """A version-2 instance with a planning block: its cases, sharing one build."""
    t0 = time.perf_counter()
    plan = build_plan(document)
    t1 = time.perf_counter()
    run = solve_plan(plan, options, solver, strategy, file=document.file)
    t2 = time.perf_counter()
    solution = run.solution
    solution.warnings.extend(p.format() for p in [*document.warnings, *plan.warnings])
    solution.overrides = list(document.overrides)
    arrays = run.plan.cases[reference_case(run.plan)].arrays
    build = run.stacked.lp.build_s
    return Run(document, arrays, run.lp, run.raw, solution,
               {"compile": t1 - t0, "formulate": build, "solve": run.raw.solve_s,
                "interpret": max(t2 - t1 - build - run.raw.solve_s, 0.0)}, plan=run)


def run(path: str | Path | None = None, options: SolveOptions | None = None) -> Run:
    """Load (the national instance when ``path`` is None) and solve."""
    t0 = time.perf_counter()
    document = load(path)
    load_s = time.perf_counter() - t0
    result = solve_document(document, options)
    result.timings = {"load": load_s, **result.timings}
    return result

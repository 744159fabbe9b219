"""Benchmark suites: a list of instances x solvers, each case a row (DESIGN.md §4 ``bench``).

A suite file (YAML)::

    name: orlib-cap
    time_limit: 600                      # per case, seconds (optional)
    solvers: [{backend: ortools, solver: scip}]
    cases:
      - {name: cap41, import: orlib-cap, file: data/orlib-cap/cap41.txt, optimum: 1040444.375}
      - {name: capa1, import: orlib-cap, file: data/orlib-cap/capa.txt, capacity: 8000, ...}
      - {name: tiny, instance: ../instances/tiny.yaml}

Paths are relative to the suite file. A case whose ``optimum`` is given passes when the solve
is proven optimal and ``|objective - optimum| <= max(rel_tol * |optimum|, abs_tol)`` (defaults
1e-6 and 0.001: published optima are rounded to three decimals).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from optimizer.backends.base import SolveOptions, Status
from optimizer.errors import InstanceError, Problem, UsageError
from optimizer.importers import FORMATS, import_file
from optimizer.load import Document, load, parse
from optimizer.pipeline import solve_document
from optimizer.yamlio import line_of, read_yaml_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SolverSpec(_Strict):
    backend: Literal["ortools", "pulp"] = "ortools"
    solver: str = "auto"

    @property
    def label(self) -> str:
        return f"{self.backend}/{self.solver}"


class Case(_Strict):
    name: str
    instance: str | None = None
    """An instance file (YAML), relative to the suite."""
    import_: Literal["orlib-cap", "holmberg"] | None = Field(None, alias="import")
    """Or a public benchmark file to import."""
    file: str | None = None
    capacity: float | None = None
    optimum: float | None = None
    """Published optimum, if any."""
    source: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Case:
        if (self.instance is None) == (self.import_ is None):
            raise ValueError("give either 'instance' or 'import' (with 'file')")
        if self.import_ is not None and self.file is None:
            raise ValueError("'import' needs 'file'")
        return self


class Suite(_Strict):
    name: str
    description: str | None = None
    time_limit: float | None = Field(None, gt=0)
    gap: float | None = Field(None, ge=0)
    rel_tol: float = 1e-6
    abs_tol: float = 1e-3
    solvers: list[SolverSpec] = Field(default_factory=lambda: [SolverSpec()], min_length=1)
    cases: list[Case] = Field(min_length=1)


def load_suite(path: str | Path) -> tuple[Suite, Path]:
    path = Path(path)
    data, lines = read_yaml_file(path, "suite")
    try:
        return Suite.model_validate(data), path.parent
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            problems.append(Problem(err["msg"].removeprefix("Value error, "), loc, str(path),
                                    line_of(lines, loc)))
        raise InstanceError(problems) from None


def case_document(case: Case, base: Path) -> Document:
    if case.instance is not None:
        return load(base / case.instance)
    assert case.import_ in FORMATS
    assert case.file is not None
    return parse(import_file(case.import_, base / case.file, case.capacity, case.name),
                 file=str(base / case.file))


def run_case(case: Case, spec: SolverSpec, suite: Suite, base: Path,
             overrides: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"case": case.name, "solver": spec.label, "status": "error",
                           "objective": None, "optimum": case.optimum, "rel_error": None,
                           "match": None, "gap": None, "load_s": None, "build_s": None,
                           "solve_s": None, "total_s": None, "variables": None,
                           "constraints": None, "integer_variables": None, "message": ""}
    start = time.perf_counter()
    try:
        document = case_document(case, base)
        row["load_s"] = time.perf_counter() - start
        options = SolveOptions(backend=spec.backend, solver=spec.solver,
                               time_limit=overrides.get("time_limit") or suite.time_limit,
                               gap=overrides.get("gap", suite.gap),
                               workers=overrides.get("workers"))
        result = solve_document(document, options)
    except InstanceError as exc:
        row["message"] = "; ".join(p.format() for p in exc.problems)[:500]
        return row
    except UsageError as exc:
        row["message"] = str(exc)
        return row
    except Exception as exc:  # a failed case is a row, not a crash
        row["message"] = f"{type(exc).__name__}: {exc}"
        return row
    sol = result.solution
    row.update(
        status=sol.status.value, objective=sol.objective, gap=sol.gap,
        build_s=result.timings["compile"] + result.timings["formulate"],
        solve_s=result.timings["solve"], total_s=time.perf_counter() - start,
        variables=sol.solver["variables"], constraints=sol.solver["constraints"],
        integer_variables=sol.solver["integer_variables"], message=sol.message,
    )
    if case.optimum is not None and sol.objective is not None:
        err = abs(sol.objective - case.optimum)
        row["rel_error"] = err / max(abs(case.optimum), 1e-12)
        row["match"] = (sol.status is Status.OPTIMAL
                        and err <= max(suite.rel_tol * abs(case.optimum), suite.abs_tol))
    elif case.optimum is not None:
        row["match"] = False
    return row


def run_suite(suite: Suite, base: Path, only: str | None = None,
              overrides: dict[str, Any] | None = None,
              on_row: Callable[[dict[str, Any]], None] | None = None,
              jobs: int = 1) -> Iterator[dict[str, Any]]:
    """Rows in the suite's order with ``jobs=1``; in the order they finish with ``jobs > 1``
    (cases in a pool of ``jobs`` fresh processes, each case solved in its worker alone:
    :func:`order_rows` puts them back in the suite's order)."""
    cases = [c for c in suite.cases if only is None or only in c.name]
    pairs = [(case, spec) for case in cases for spec in suite.solvers]
    overrides = overrides or {}
    if jobs <= 1:
        rows: Iterator[dict[str, Any]] = (run_case(c, s, suite, base, overrides)
                                          for c, s in pairs)
    else:
        rows = _in_pool(pairs, suite, base, {**overrides, "workers": 1}, jobs)
    for row in rows:
        if on_row is not None:
            on_row(row)
        yield row


def _in_pool(pairs: list[tuple[Case, SolverSpec]], suite: Suite, base: Path,
             overrides: dict[str, Any], jobs: int) -> Iterator[dict[str, Any]]:
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
    finished = False
    try:
        futures = [pool.submit(run_case, c, s, suite, base, overrides) for c, s in pairs]
        for future in as_completed(futures):
            yield future.result()
        finished = True
    finally:
        if not finished:  # interrupted: stop the running cases instead of waiting for them
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def order_rows(suite: Suite, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` in the suite's order: cases as listed, each case's solvers as listed."""
    place = {(c.name, s.label): (i, j) for i, c in enumerate(suite.cases)
             for j, s in enumerate(suite.solvers)}
    return sorted(rows, key=lambda r: place.get((r["case"], r["solver"]), (len(place), 0)))


def case_count(suite: Suite, only: str | None = None) -> int:
    return len([c for c in suite.cases if only is None or only in c.name]) * len(suite.solvers)

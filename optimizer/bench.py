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
1e-6 and 0.001: published optima are rounded to three decimals; at most :data:`MAX_REL_TOL` and
:data:`MAX_ABS_TOL`). Every field is checked before any case runs (:func:`load_suite`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import time
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from optimizer.backends import registry
from optimizer.backends.base import Notice, SolveOptions, Status, argument_words
from optimizer.backends.options import (
    Gap,
    TimeLimit,
    option_problems,
    solver_problem,
    workers_problem,
)
from optimizer.errors import InstanceError, Problem, UsageError, naming
from optimizer.importers import FORMATS, import_file
from optimizer.load import Document, load, parse
from optimizer.pipeline import solve_document
from optimizer.schema import MAX_VALUE
from optimizer.yamlio import line_of, read_yaml_file

MAX_REL_TOL = 0.01
"""The loosest relative tolerance a suite may set: a proven optimum agrees with a published one
to about 1e-6, and a solution 1% off is another solution; a wider one would match anything."""
MAX_ABS_TOL = 1.0
"""The loosest absolute tolerance: published optima are given to three decimals (OR-Library)
or whole units (Holmberg), so a whole unit covers any rounding of them."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SolverSpec(_Strict):
    backend: Literal["ortools", "pulp"] = "ortools"
    solver: str = "auto"

    @field_validator("solver")
    @classmethod
    def _known(cls, solver: str, info: ValidationInfo) -> str:
        backend = info.data.get("backend")  # absent when it was refused itself
        problem = None if backend is None else solver_problem(backend, solver)
        if problem is not None:
            raise ValueError(f"{solver!r} {problem[1]}")
        return solver

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
    capacity: float | None = Field(None, gt=0, le=MAX_VALUE, allow_inf_nan=False)
    optimum: float | None = Field(None, allow_inf_nan=False)
    """Published optimum, if any: a finite number."""
    source: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Case:
        if (self.instance is None) == (self.import_ is None):
            raise ValueError("give either 'instance' or 'import' (with 'file')")
        if self.import_ is not None and self.file is None:
            raise ValueError("'import' needs 'file'")
        if self.capacity is not None and self.import_ != "orlib-cap":
            raise ValueError("'capacity' applies to 'import: orlib-cap' only")
        return self


class Suite(_Strict):
    name: str
    description: str | None = None
    time_limit: TimeLimit | None = None
    gap: Gap | None = None
    rel_tol: float = Field(1e-6, ge=0, le=MAX_REL_TOL, allow_inf_nan=False)
    abs_tol: float = Field(1e-3, ge=0, le=MAX_ABS_TOL, allow_inf_nan=False)
    solvers: list[SolverSpec] = Field(default_factory=lambda: [SolverSpec()], min_length=1)
    cases: list[Case] = Field(min_length=1)


def load_suite(path: str | Path) -> tuple[Suite, Path]:
    """Read and check a suite before any case runs: every field in its range, every solver
    known, case names unique, every case's file there. Raises InstanceError with every
    problem, each with its line and field path."""
    path = Path(path)
    data, lines = read_yaml_file(path, "suite")
    problems = [Problem(message, loc, str(path), line_of(lines, loc))
                for loc, message in _case_problems(data, path.parent)]
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
            problems.append(Problem(err["msg"].removeprefix("Value error, "), loc, str(path),
                                    line_of(lines, loc)))
        raise InstanceError(sorted(problems, key=lambda p: p.line or 0)) from None
    if problems:
        raise InstanceError(problems)
    return suite, path.parent


@dataclass(frozen=True)
class PreparedBench:
    """A suite read and checked (:func:`prepare_bench`), no case run yet."""

    suite: Suite
    folder: Path
    """The suite file's folder: its cases' paths are relative to it."""
    file: Path

    @property
    def inputs(self) -> tuple[tuple[str, Path], ...]:
        """The suite file and the files its cases read: no output may replace one of them."""
        files = [("the suite file", self.file)]
        for case in self.suite.cases:
            for given in (case.instance, case.file):
                if given is not None:
                    files.append((f"a file of case {case.name}", self.folder / given))
        return tuple(files)

    def count(self, only: str | None = None) -> int:
        """The rows a run gives: cases whose name contains ``only``, times solvers."""
        return case_count(self.suite, only)


def prepare_bench(path: str | Path) -> PreparedBench:
    """:func:`load_suite` as a :class:`PreparedBench`; InstanceError naming the file."""
    with naming(str(path)):
        suite, folder = load_suite(path)
    return PreparedBench(suite, folder, Path(path))


def _items(data: Any, key: str) -> list[dict[str, Any]]:
    """``data[key]``'s mappings, as given (whatever else is wrong with them)."""
    items = data.get(key) if isinstance(data, dict) else None
    return [i if isinstance(i, dict) else {} for i in items] if isinstance(items, list) else []


def _case_problems(data: Any, base: Path) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(field path, message) for what pydantic cannot see, read from the data as given (so that
    it is found whatever else is wrong): a case name used twice, a case's file missing, an LP
    solver for the MIPs that every imported case is (facilities open or not)."""
    cases = _items(data, "cases")
    seen: dict[str, int] = {}
    for i, case in enumerate(cases):
        name = case.get("name")
        if isinstance(name, str) and name in seen:
            yield ("cases", i, "name"), f"the name {name!r} is used by cases[{seen[name]}] too"
        elif isinstance(name, str):
            seen[name] = i
        for key in ("instance", "file"):
            file = case.get(key)
            if isinstance(file, str) and not (base / file).exists():
                yield ("cases", i, key), f"no such file: {base / file}"
    imported = next((c.get("name") for c in cases if c.get("import") is not None), None)
    for j, spec in enumerate(_items(data, "solvers") if imported is not None else []):
        info = registry.lookup(str(spec.get("backend", "ortools")), str(spec.get("solver")))
        if info is not None and not info.mip:
            mip = [s.name for s in registry.SOLVERS
                   if s.backend == info.backend and s.mip and not s.warm_start]
            yield (("solvers", j, "solver"), f"{info.name!r} solves LPs only, and imported "
                   f"cases such as {imported!r} are MIPs: choose auto or one of "
                   f"{', '.join(mip)}")


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


def _refuse(notices: list[Notice | None]) -> None:
    refused = [n for n in notices if n is not None]
    if refused:
        raise UsageError("; ".join(n.words(argument_words) for n in refused), notices=refused)


def bench(suite: str | Path | PreparedBench, only: str | None = None, *,
          time_limit: float | None = None, jobs: int = 1,
          on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """:func:`optimizer.api.bench`: the suite's rows, in its order (UsageError for ``jobs`` or
    ``time_limit`` out of range, or no case matching ``only``)."""
    _refuse([workers_problem(jobs)])
    prepared = suite if isinstance(suite, PreparedBench) else prepare_bench(suite)
    if time_limit is not None:
        _refuse(list(option_problems(SolveOptions(time_limit=time_limit))))
    if prepared.count(only) == 0:
        raise UsageError(f"no case of {prepared.suite.name} matches {only!r}")
    overrides = {"time_limit": time_limit} if time_limit else {}
    return order_rows(prepared.suite, list(run_suite(prepared.suite, prepared.folder, only,
                                                     overrides, on_row, jobs=jobs)))


class _CallableModule(types.ModuleType):
    """``optimizer.bench`` is this module and, in the library, the function :func:`bench`
    (as ``optimizer.load`` is ``load``): once this module is imported, the package's ``bench``
    attribute is the module (Python sets it), so calling the module calls the function."""

    def __call__(self, suite: str | Path | PreparedBench, only: str | None = None, *,
                 time_limit: float | None = None, jobs: int = 1,
                 on_row: Callable[[dict[str, Any]], None] | None = None
                 ) -> list[dict[str, Any]]:
        return bench(suite, only, time_limit=time_limit, jobs=jobs, on_row=on_row)


sys.modules[__name__].__class__ = _CallableModule

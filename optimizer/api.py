"""The Python library (issue #13): what the CLI does, for notebooks and scripts.

    import optimizer as ew
    result = ew.solve(None)                      # the national instance shipped with the package
    result.to_frames()["costs"]                  # pandas DataFrames (pandas: the `frames` extra)
    plan = ew.solve("instances/china-2030-plan.yaml")   # with EVPI, VSS, cost of resilience
    front = ew.pareto(None, "carbon", points=5).to_frame()

Everything here is a thin layer over the pipeline, the studies and the benchmark runner, and
the CLI is a thin layer over this (it parses its options, calls these, prints and writes what
they return: tests/unit/test_architecture.py keeps it so). A study or suite can be read and
checked first, nothing solved (``prepare_sweep``, ``prepare_pareto``, ``prepare_bench``: the
CLI checks its outputs against what they read), then run. Bad input raises
:class:`InstanceError` (``.problems``: the same typed problems, with file, line and field path,
that the CLI prints; ``.source``: the input they are in) and bad options :class:`UsageError`.
pandas and xarray are imported only by :meth:`Result.to_frames` and :meth:`Result.to_dataset`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from optimizer.backends.base import Notice, SolveOptions, Status, argument_words
from optimizer.backends.options import option_problems, workers_problem
from optimizer.errors import InstanceError, UsageError
from optimizer.load import Document, parse
from optimizer.load import load as _load
from optimizer.pipeline import Run, solve_document
from optimizer.solution import Solution
from optimizer.studies.prepare import PreparedPareto, PreparedSweep
from optimizer.studies.prepare import prepare_pareto as _prepare_pareto
from optimizer.studies.prepare import prepare_sweep as _prepare_sweep
from optimizer.studies.spec import MAX_POINTS

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from optimizer.bench import PreparedBench
    from optimizer.records.results import ParetoResult, SweepResult
    from optimizer.studies.runners import Listener, Runner

__all__ = ["InstanceError", "PreparedBench", "PreparedPareto", "PreparedSweep", "Result",
           "Study", "UsageError", "bench", "load", "pareto", "prepare_bench", "prepare_pareto",
           "prepare_sweep", "solve", "sweep"]

Steps = Callable[[str], AbstractContextManager[Any]]
"""Progress: called with what is about to run (``solving tiny``), and the context it returns
is held while that runs (the CLI's spinner)."""

Instance = str | Path | Document | Mapping[str, Any] | None
"""A path to an instance file, a loaded Document, the data as YAML would give it, or None (the
national instance shipped with the package)."""


def load(path: str | Path | None = None, set: Sequence[str] = (),  # noqa: A002 (the CLI's name)
         scenarios: Sequence[str] = ()) -> Document:
    """Read and validate an instance (``set``: ``PATH=VALUE`` overrides, ``scenarios``: the
    instance's named scenarios, applied first). Raises :class:`InstanceError`."""
    return _load(path, overrides=set, scenarios=scenarios)


def _document(instance: Instance, set: Sequence[str],  # noqa: A002
              scenarios: Sequence[str]) -> Document:
    if isinstance(instance, Document):
        if set or scenarios:
            raise UsageError("set and scenarios apply when an instance is loaded: pass its path")
        return instance
    if isinstance(instance, Mapping):
        from optimizer.overrides import apply_all

        return parse(apply_all(dict(instance), set))
    return load(instance, set, scenarios)


def _refuse(notices: Sequence[Notice]) -> None:
    """UsageError listing every refused option (``notices``, for a caller to word them)."""
    if notices:
        raise UsageError("; ".join(n.words(argument_words) for n in notices), notices=notices)


@contextlib.contextmanager
def _silently(message: str) -> Iterator[None]:
    yield


def solve(instance: Instance = None, *, solver: str = "auto", backend: str = "ortools",
          strategy: str = "auto", time_limit: float | None = None, gap: float | None = None,
          threads: int | None = None, set: Sequence[str] = (),  # noqa: A002
          scenarios: Sequence[str] = (), measures: bool = True, jobs: int | None = None,
          decompose: bool = True, prune: bool = True, log: bool = False,
          dask: str | None = None, progress: Steps | None = None) -> Result:
    """Solve an instance; ``measures`` (a version-2 plan with scenarios or contingencies,
    on by default): also the cost of resilience, EVPI and VSS, each plan solved. ``jobs``:
    worker processes for the period LPs or the Benders subproblem's parts (None: one per core
    for an LP of 100,000 variables or more); ``dask``: those parts on a Dask scheduler
    (``tcp://host:8786``, or ``local``); ``decompose``: one LP per period where no row couples
    periods; ``prune``: leave out arcs no optimum needs (both exact); ``log``: the solver's
    log kept in ``raw.log`` (and echoed by some solvers); ``progress``: see :data:`Steps`.
    Raises :class:`InstanceError` for bad input, :class:`UsageError` for bad options
    (``notices``: each refused option); a problem without a solution is a Result whose
    ``status`` says so."""
    from optimizer.engine import STRATEGIES

    if strategy not in STRATEGIES:
        raise UsageError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    options = SolveOptions(backend=backend, solver=solver, strategy=strategy,
                           time_limit=time_limit, gap=gap, threads=threads, log=log,
                           decompose=decompose, workers=jobs, prune=prune, dask=dask)
    _refuse(option_problems(options))
    document = _document(instance, set, scenarios)
    steps = progress or _silently
    with steps(f"solving {document.instance.name or document.file}"):
        run = solve_document(document, options)
    if measures and run.plan is not None:
        from optimizer.planning import solve_measures

        started = time.perf_counter()
        with steps("solving the plans it is compared with (resilience, EVPI, VSS)"):
            run.solution.measures = solve_measures(run.plan, options)
        run.timings["measures"] = time.perf_counter() - started
    return Result(run, options)


@dataclass
class Result:
    """A solved instance: the solution's records, as frames, as a dataset, or as a report."""

    run: Run
    """The pipeline's run: the document, arrays, LP, raw result, timings, a plan's cases."""
    options: SolveOptions = dataclasses.field(default_factory=SolveOptions)
    """The options it was solved with."""

    @property
    def solution(self) -> Solution:
        return self.run.solution

    @property
    def status(self) -> Status:
        return self.solution.status

    @property
    def objective(self) -> float | None:
        return self.solution.objective

    @property
    def costs(self) -> dict[str, float]:
        return dict(self.solution.costs)

    def to_dict(self) -> dict[str, Any]:
        """The solution JSON (DESIGN.md §5, §7) as a dict."""
        import json

        from optimizer.report.files import solution_json

        out: dict[str, Any] = json.loads(solution_json(self.solution))
        return out

    def to_frames(self) -> dict[str, pd.DataFrame]:
        """pandas DataFrames: flows, sites, regions, classes, costs, totals, build, and for a
        plan cases and case_costs (every table per case, with its year and scenario)."""
        import pandas as pd

        data = self.to_dict()
        frames = {
            "flows": pd.DataFrame(data["flows"]), "sites": pd.DataFrame(data["sites"]),
            "regions": pd.DataFrame(data["regions"]), "classes": pd.DataFrame(data["classes"]),
            "costs": pd.DataFrame({"category": list(data["costs"]),
                                   "cost": list(data["costs"].values())}),
            "totals": pd.DataFrame({"quantity": list(data["totals"]),
                                    "value": list(data["totals"].values())}),
            "build": pd.DataFrame(data["build"]),
        }
        if "cases" in data:
            cases = data["cases"]
            frames["cases"] = pd.DataFrame([
                {k: v for k, v in c.items() if k not in ("costs", "totals", "sites", "classes",
                                                        "regions", "policy")}
                | {f"total_{k}": v for k, v in c["totals"].items()} for c in cases])
            frames["case_costs"] = pd.DataFrame(
                [{"year": c["year"], "scenario": c["scenario"], "category": k, "cost": v}
                 for c in cases for k, v in c["costs"].items()])
            for table in ("sites", "classes", "regions"):
                frames[table] = pd.DataFrame(
                    [{"year": c["year"], "scenario": c["scenario"], **row}
                     for c in cases for row in c[table]])
        return frames

    def to_dataset(self) -> xr.Dataset:
        """An xarray Dataset of the flows (MW), indexed by region, site, class and period (and
        year and scenario for a plan); write it with ``.to_netcdf(path)``."""
        import xarray as xr

        flows = self.to_frames()["flows"]
        dims = [d for d in ("year", "scenario", "region", "site", "class", "period")
                if d in flows.columns]
        mw = flows.set_index(dims)["mw"]
        return xr.Dataset({"flow_mw": xr.DataArray.from_series(mw).fillna(0.0)},
                          attrs={"instance": self.solution.instance,
                                 "objective": self.objective or float("nan"),
                                 "currency": self.solution.currency})

    def report(self, kind: Literal["markdown", "text"] = "markdown") -> str:
        """The report the CLI prints (``text``) or writes with ``--report`` (``markdown``)."""
        from optimizer.report import markdown

        if kind == "markdown":
            return markdown.render(self.solution)
        from io import StringIO

        from rich.console import Console

        from optimizer.report import console

        buffer = StringIO()
        console.render(self.solution, Console(file=buffer, width=120, emoji=False,
                                              highlight=False, color_system=None))
        return buffer.getvalue()


@dataclass
class Study:
    """A sweep's or Pareto front's points: ``.records`` (the engine's), ``.to_frame()``."""

    records: SweepResult | ParetoResult
    runner: str = "serial"
    """Where the points were solved: ``serial``, ``2 processes``, ``dask ADDRESS``."""

    def to_frame(self) -> pd.DataFrame:
        """One row a point: its label, status, objective and indicators."""
        import pandas as pd

        from optimizer.records.results import ParetoResult

        rec = self.records
        results = ([p.result for p in rec.results] if isinstance(rec, ParetoResult)
                   else list(rec.results))
        rows = []
        for r in results:
            row: dict[str, Any] = {"index": r.index, "label": r.label, "status": r.status,
                                   "overrides": list(r.overrides)}
            if r.kpis is not None:
                kpis = dataclasses.asdict(r.kpis)
                costs = kpis.pop("costs")
                row.update({k: v for k, v in kpis.items() if not isinstance(v, dict)})
                row.update({f"cost_{k}": v for k, v in costs.items()})
            rows.append(row)
        return pd.DataFrame(rows)


def _out(out: str | Path | None) -> Path:
    return Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="eastwest-study-"))


@contextlib.contextmanager
def _runner(jobs: int, dask: str | None, runner: Runner | None) -> Iterator[Runner]:
    """``runner`` as given (the caller closes it), or one opened for ``jobs`` or ``dask``."""
    from optimizer.studies.runners import open_runner

    if runner is not None:
        if jobs != 1 or dask is not None:
            raise UsageError("give a runner, or jobs or dask: not both")
        yield runner
        return
    _refuse([p for p in [workers_problem(jobs)] if p is not None])
    with open_runner(jobs, dask) as opened:
        yield opened


def _unprepared(what: str, given: dict[str, Any]) -> None:
    """UsageError when a prepared study comes with what preparing it decides."""
    def is_given(key: str, value: Any) -> bool:
        if key in ("mode", "max_points"):
            return value != {"mode": "grid", "max_points": MAX_POINTS}[key]
        return bool(value) if isinstance(value, list | tuple) else value is not None

    named = [key for key, value in given.items() if is_given(key, value)]
    if named:
        raise UsageError(f"{', '.join(named)}: a prepared {what} has its own; give them to "
                         f"prepare_{what}")


def prepare_sweep(study: str | Path | None = None, vary: Sequence[str] = (), *,
                  instance: str | Path | None = None, set: Sequence[str] = (),  # noqa: A002
                  scenarios: Sequence[str] = (), mode: Literal["grid", "zip"] = "grid",
                  name: str | None = None, max_points: int | None = MAX_POINTS,
                  backend: str | None = None, solver: str | None = None,
                  time_limit: float | None = None, gap: float | None = None) -> PreparedSweep:
    """Read and check a sweep, nothing solved: a study file, or ``vary`` (``PATH=LO:HI:N``
    as the CLI's ``--vary``; ``mode`` grid or zip, ``name`` default ``<instance>-<paths>``)
    on ``instance``; ``set`` and ``scenarios`` after the study file's own; at most
    ``max_points`` points (None: no cap); solve options not given are the study file's,
    else ortools / auto. ``.name``, ``.points``, ``.inputs`` (the files it reads). Raises
    :class:`InstanceError` (every problem; ``source`` names the input) or UsageError."""
    return _prepare_sweep(study, vary, instance=instance, overrides=set, scenarios=scenarios,
                          mode=mode, name=name, max_points=max_points, backend=backend,
                          solver=solver, time_limit=time_limit, gap=gap)


def sweep(study: str | Path | PreparedSweep | None = None, vary: Sequence[str] = (), *,
          instance: str | Path | None = None, out: str | Path | None = None,
          solver: str | None = None, set: Sequence[str] = (),  # noqa: A002
          scenarios: Sequence[str] = (), mode: Literal["grid", "zip"] = "grid",
          name: str | None = None, max_points: int | None = MAX_POINTS,
          backend: str | None = None, time_limit: float | None = None,
          gap: float | None = None, jobs: int = 1, dask: str | None = None,
          runner: Runner | None = None, listener: Listener | None = None,
          use_cache: bool = True, solutions: bool = False) -> Study:
    """A sweep: a study file, or ``instance`` with ``vary``, as :func:`prepare_sweep` (or
    what it returned). Points are cached under ``out`` (a temporary folder by default;
    ``use_cache=False`` solves each again, still writing the cache) and solved in this
    process, in ``jobs`` processes, on the Dask scheduler at ``dask`` (``local``: a local
    cluster; the ``dask`` extra) or by ``runner`` (an open
    :class:`~optimizer.studies.runners.Runner`); ``listener``
    (:class:`~optimizer.studies.runners.Listener`) hears of each point; ``solutions``: each
    point's solution JSON in ``out/solutions/``."""
    from optimizer.studies.sweep import run_sweep

    if isinstance(study, PreparedSweep):
        _unprepared("sweep", {"vary": vary, "instance": instance, "solver": solver, "set": set,
                     "scenarios": scenarios, "mode": mode, "name": name,
                     "max_points": max_points, "backend": backend, "time_limit": time_limit,
                     "gap": gap})
        prepared = study
    else:
        prepared = prepare_sweep(study, vary, instance=instance, set=set, scenarios=scenarios,
                                 mode=mode, name=name, max_points=max_points, backend=backend,
                                 solver=solver, time_limit=time_limit, gap=gap)
    with _runner(jobs, dask, runner) as running:
        records = run_sweep(prepared.study, prepared.base, prepared.options, _out(out), running,
                            listener, use_cache=use_cache, solutions=solutions)
        return Study(records, running.description)


def prepare_pareto(instance: str | Path | None = None,
                   second: Literal["carbon", "latency", "water"] = "carbon", *,
                   set: Sequence[str] = (),  # noqa: A002
                   scenarios: Sequence[str] = (), name: str | None = None,
                   backend: str | None = None, solver: str | None = None,
                   time_limit: float | None = None, gap: float | None = None
                   ) -> PreparedPareto:
    """Read and check a Pareto front's instance (with ``set`` and ``scenarios``), its second
    objective (water needs a version-2 instance) and solve options (ortools / auto unless
    given), nothing solved; ``name`` defaults to ``<instance>-pareto-<second>``. Raises
    :class:`InstanceError` (``source`` names the input) or UsageError."""
    return _prepare_pareto(instance, second, overrides=set, scenarios=scenarios, name=name,
                           backend=backend, solver=solver, time_limit=time_limit, gap=gap)


def pareto(instance: str | Path | PreparedPareto | None = None,
           second: Literal["carbon", "latency", "water"] | None = None, *, points: int = 5,
           out: str | Path | None = None, solver: str | None = None,
           set: Sequence[str] = (),  # noqa: A002
           scenarios: Sequence[str] = (), name: str | None = None, backend: str | None = None,
           time_limit: float | None = None, gap: float | None = None,
           service: Literal["held", "free"] = "held", jobs: int = 1, dask: str | None = None,
           runner: Runner | None = None, listener: Listener | None = None,
           use_cache: bool = True) -> Study:
    """The front of cost against ``second`` (carbon by default; ``points`` caps between the
    two extremes; water needs a version-2 instance: InstanceError otherwise), on an instance
    or what :func:`prepare_pareto` returned. ``service="held"``: unmet energy at most the
    cost optimum's at every point (``free``: dropping demand at its penalty is allowed).
    ``out``, ``jobs``, ``dask``, ``runner``, ``listener`` and ``use_cache`` as for
    :func:`sweep`."""
    from optimizer.studies.pareto import run_pareto

    if service not in ("held", "free"):
        raise UsageError(f"service must be held or free, not {service!r}")
    if isinstance(instance, PreparedPareto):
        _unprepared("pareto", {"solver": solver, "set": set, "scenarios": scenarios,
                               "name": name, "backend": backend, "time_limit": time_limit,
                               "gap": gap})
        if second not in (None, instance.second):
            raise UsageError(f"second: the prepared front's is {instance.second}")
        prepared = instance
    else:
        prepared = prepare_pareto(instance, second or "carbon", set=set, scenarios=scenarios,
                                  name=name, backend=backend, solver=solver,
                                  time_limit=time_limit, gap=gap)
    with _runner(jobs, dask, runner) as running:
        records = run_pareto(prepared.base, prepared.second, points, prepared.options,
                             _out(out), running, listener, use_cache=use_cache,
                             service=service)
        return Study(records, running.description)


def prepare_bench(suite: str | Path) -> PreparedBench:
    """Read and check a benchmark suite (DESIGN.md §4: every field in its range, every solver
    known, every case's file there), nothing run: ``.suite``, ``.inputs`` (the suite file and
    its cases' files), ``.count(only)``. Raises :class:`InstanceError` (``source``: the file)."""
    from optimizer.bench import prepare_bench as prepare

    return prepare(suite)


def bench(suite: str | Path | PreparedBench, only: str | None = None, *,
          time_limit: float | None = None, jobs: int = 1,
          on_row: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Run a benchmark suite (a file, or what :func:`prepare_bench` returned): one row per
    case and solver, in the suite's order, with the published optimum and whether it was
    reproduced. ``only``: cases whose name contains it; ``time_limit``: seconds per case
    (instead of the suite's); ``jobs``: cases at a time, each in its own process; ``on_row``:
    called with each row as it finishes. Raises InstanceError (a bad suite) or UsageError."""
    from optimizer.bench import bench as run

    return run(suite, only, time_limit=time_limit, jobs=jobs, on_row=on_row)


def __getattr__(name: str) -> Any:
    """``PreparedBench``, from :mod:`optimizer.bench` on first use (the CLI's start-up does not
    import the benchmark runner)."""
    if name == "PreparedBench":
        from optimizer.bench import PreparedBench

        return PreparedBench
    raise AttributeError(f"module 'optimizer.api' has no attribute {name!r}")

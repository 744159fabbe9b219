"""The Python library (issue #13): what the CLI does, for notebooks and scripts.

    import optimizer as ew
    result = ew.solve(None)                      # the national instance shipped with the package
    result.to_frames()["costs"]                  # pandas DataFrames (pandas: the `frames` extra)
    plan = ew.solve("instances/china-2030-plan.yaml")   # with EVPI, VSS, cost of resilience
    front = ew.pareto(None, "carbon", points=5).to_frame()

Everything here is a thin layer over the pipeline, the studies and the benchmark runner; the
CLI prints and writes what these return. Bad input raises :class:`InstanceError` (``.problems``:
the same typed problems, with file, line and field path, that the CLI prints) and bad options
:class:`UsageError`. pandas and xarray are imported only by :meth:`Result.to_frames` and
:meth:`Result.to_dataset`.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from optimizer.backends.base import SolveOptions, Status
from optimizer.errors import InstanceError, UsageError
from optimizer.load import Document, parse
from optimizer.load import load as _load
from optimizer.pipeline import Run, solve_document
from optimizer.solution import Solution

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from optimizer.records.results import ParetoResult, SweepResult

__all__ = ["InstanceError", "Result", "Study", "UsageError", "bench", "load", "pareto", "solve",
           "sweep"]

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


def solve(instance: Instance = None, *, solver: str = "auto", backend: str = "ortools",
          strategy: str = "auto", time_limit: float | None = None, gap: float | None = None,
          threads: int | None = None, set: Sequence[str] = (),  # noqa: A002
          scenarios: Sequence[str] = (), measures: bool = True, workers: int | None = None,
          dask: str | None = None) -> Result:
    """Solve an instance; ``measures`` (a version-2 plan with scenarios or contingencies,
    on by default): also the cost of resilience, EVPI and VSS, each plan solved.
    ``workers``: processes for the period LPs or the Benders subproblem's parts; ``dask``:
    those parts on a Dask scheduler (``tcp://host:8786``, or ``local``). Raises
    :class:`InstanceError` for bad input, :class:`UsageError` for bad options; a problem
    without a solution is a Result whose ``status`` says so."""
    from optimizer.engine import STRATEGIES

    if strategy not in STRATEGIES:
        raise UsageError(f"strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    options = SolveOptions(backend=backend, solver=solver, strategy=strategy,
                           time_limit=time_limit, gap=gap, threads=threads, workers=workers,
                           dask=dask)
    run = solve_document(_document(instance, set, scenarios), options)
    if measures and run.plan is not None:
        from optimizer.planning import solve_measures

        run.solution.measures = solve_measures(run.plan, options)
    return Result(run)


@dataclass
class Result:
    """A solved instance: the solution's records, as frames, as a dataset, or as a report."""

    run: Run

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


def sweep(study: str | Path | None = None, vary: Sequence[str] = (), *,
          instance: str | Path | None = None, out: str | Path | None = None,
          solver: str = "auto", set: Sequence[str] = ()) -> Study:  # noqa: A002
    """A sweep: a study file, or ``instance`` with ``vary`` (``PATH=LO:HI:N`` as the CLI's
    ``--vary``). Points are cached under ``out`` (a temporary folder by default)."""
    import os

    from optimizer.records.inputs import Study as StudySpec
    from optimizer.studies.base import parameter_problems, prepare_base
    from optimizer.studies.spec import load_study, parse_vary, study_problems
    from optimizer.studies.sweep import run_sweep

    if study is not None:
        spec, folder, lines = load_study(study)
        path = (None if spec.instance is None
                else Path(os.path.normpath(folder / spec.instance)))
        base = prepare_base(path, spec.scenarios, [*spec.set_, *set])
        problems = parameter_problems(base, spec.parameters, str(study), lines)
    else:
        if not vary:
            raise UsageError("give a study file or vary=['PATH=LO:HI:N', ...]")
        spec = StudySpec(name="sweep", parameters=[parse_vary(v) for v in vary])
        base = prepare_base(instance, (), set)
        problems = [*study_problems(spec, "vary"),
                    *parameter_problems(base, spec.parameters, "vary", where=list(vary))]
    if problems:
        raise InstanceError(problems)
    return Study(run_sweep(spec, base, SolveOptions(solver=solver), _out(out)))


def pareto(instance: str | Path | None = None,
           second: Literal["carbon", "latency", "water"] = "carbon", *, points: int = 5,
           out: str | Path | None = None, solver: str = "auto",
           set: Sequence[str] = ()) -> Study:  # noqa: A002
    """The front of cost against ``second`` (``points`` caps between the two extremes; water
    needs a version-2 instance: InstanceError otherwise)."""
    from optimizer.studies.base import prepare_base
    from optimizer.studies.pareto import run_pareto

    base = prepare_base(instance, (), set)
    return Study(run_pareto(base, second, points, SolveOptions(solver=solver), _out(out)))


def bench(suite: str | Path, only: str | None = None) -> list[dict[str, Any]]:
    """Run a benchmark suite (DESIGN.md §4): one row per case and solver, with the published
    optimum and whether it was reproduced."""
    from optimizer.bench import load_suite, run_suite

    spec, folder = load_suite(suite)
    return list(run_suite(spec, folder, only))

"""``eastwest sweep`` and ``eastwest pareto``: what-if studies on the command line.

The commands are registered on :data:`optimizer.cli.app` (``optimizer.cli`` imports this module
at its end). The engine is :mod:`optimizer.studies`; this module parses options, draws the
progress bar (stderr, no auto-refresh: during an in-process solve the solver's output is
redirected at the file-descriptor level, so nothing may write to the terminal then), prints
the tables (stdout) and sets the exit code: 0 when every point is solved to optimality, 3
otherwise, 2 for a bad study file, instance, override or option.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.progress import TimeElapsedColumn as Elapsed

from optimizer.backends.base import SolveOptions
from optimizer.cli import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    EXIT_USAGE,
    InstanceArg,
    ScenarioOption,
    SetOption,
    _check_solver,
    _report_problems,
    _safe_name,
    _setup_logging,
    _stderr,
    _stdout,
    _unwritable,
    _usage,
    app,
)
from optimizer.errors import InstanceError, Problem
from optimizer.records.inputs import Base, Study
from optimizer.records.results import PointResult
from optimizer.report.console import to_rich
from optimizer.report.studies import failure_lines, pareto_table, sweep_tables
from optimizer.report.study_files import Written, write_pareto, write_sweep
from optimizer.report.tables import Table
from optimizer.studies.base import parameter_problems, prepare_base
from optimizer.studies.pareto import SECOND_OBJECTIVES, run_pareto
from optimizer.studies.runners import DASK_HINT, DaskRunner, Listener, PoolRunner, Runner
from optimizer.studies.spec import load_study, parse_vary, study_problems
from optimizer.studies.sweep import run_sweep

OutOption = Annotated[Path | None, typer.Option(
    "--out", help="Results folder (default: reports/studies/<name>/).", show_default=False)]
BackendOption = Annotated[str | None, typer.Option(
    help="ortools or pulp (default: the study's, else ortools).", show_default=False)]
SolverOption = Annotated[str | None, typer.Option(
    help="auto, clp, glop, pdlp, highs, scip, cbc (ortools); auto, cbc, highs (pulp).",
    show_default=False)]
TimeLimitOption = Annotated[float | None, typer.Option(
    "--time-limit", help="Seconds per point.", show_default=False)]
GapOption = Annotated[float | None, typer.Option(min=0.0, help="Relative MIP gap.",
                                                 show_default=False)]
JobsOption = Annotated[int, typer.Option(
    "--jobs", "-j", min=1, help="Solve points in N processes.")]
DaskOption = Annotated[str | None, typer.Option(
    "--dask", metavar="ADDRESS", help="Send points to a Dask scheduler (tcp://host:8786), or "
    "'local' for a local cluster of 2 worker processes. Needs eastwest\\[dask].",
    show_default=False)]
NoCacheOption = Annotated[bool, typer.Option(
    "--no-cache", help="Solve every point again (the cache is still written).")]
PlotsOption = Annotated[bool, typer.Option(
    "--plots/--no-plots", help="Write PNG and SVG plots (needs eastwest\\[plots]).")]
QuietOption = Annotated[bool, typer.Option("-q", "--quiet", help="No tables on the console.")]


def _rich(table: Table) -> Any:
    """A table for rich, its text escaped: paths such as ``sites[far]`` are not markup."""
    return to_rich(Table(escape(table.title), [escape(c) for c in table.columns],
                         [[escape(c) for c in row] for row in table.rows],
                         escape(table.caption), table.numeric, table.footer))


def _scenarios(text: str | None) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()] if text else []


def _options(backend: str | None, solver: str | None, time_limit: float | None,
             gap: float | None, defaults: Study | None = None) -> SolveOptions:
    backend = backend or (defaults.backend if defaults else None) or "ortools"
    solver = solver or (defaults.solver if defaults else None) or "auto"
    time_limit = time_limit if time_limit is not None else (
        defaults.time_limit if defaults else None)
    gap = gap if gap is not None else (defaults.gap if defaults else None)
    _check_solver(backend, solver, time_limit)
    return SolveOptions(backend=backend, solver=solver, time_limit=time_limit, gap=gap)


def _fail(problems: list[Problem], warnings: list[Problem], file: str) -> None:
    _report_problems(problems, warnings, file)
    raise typer.Exit(EXIT_USAGE)


def _cannot_write(exc: OSError) -> None:
    _stderr().print(f"[red]cannot write output:[/] {escape(str(exc))}")
    raise typer.Exit(EXIT_USAGE)


def _check_out(out: Path) -> None:
    problem = _unwritable(out)
    if problem:
        _usage(f"cannot write into {out}: {problem}")


@contextlib.contextmanager
def _runner(jobs: int, dask: str | None) -> Iterator[Runner]:
    if dask is not None and jobs > 1:
        _usage("--jobs and --dask exclude each other (the Dask workers set the parallelism)")
    runner: Runner
    if dask is not None:
        try:
            runner = DaskRunner(dask)
        except ImportError:
            _usage(DASK_HINT)
            raise
        except (OSError, ValueError) as exc:
            _usage(f"cannot reach the Dask scheduler at {dask}: {exc}")
            raise
    elif jobs > 1:
        runner = PoolRunner(jobs)
    else:
        runner = Runner()
    with runner:
        yield runner


class _Bar(Listener):
    """Points done of total, failed, from the cache, elapsed and ETA (from solved points only:
    cached ones take no time). Refreshed by hand, never by a thread."""

    def __init__(self, progress: Progress, name: str):
        self.progress = progress
        self.name = name
        self.task: TaskID | None = None
        self.total = 0
        self.done = self.failed = self.from_cache = self.solved = 0
        self.first_start: float | None = None

    def begin(self, total: int) -> None:
        self.total = total
        self.task = self.progress.add_task(self.name, total=total, failed="", cached="",
                                           eta="", last="")
        self.first_start = time.perf_counter()
        self.progress.refresh()

    def cached(self, result: PointResult) -> None:
        self.from_cache += 1
        self._count(result)

    def finished(self, result: PointResult) -> None:
        self.solved += 1
        self._count(result)

    def _count(self, result: PointResult) -> None:
        self.done += 1
        if not result.optimal:
            self.failed += 1
        assert self.task is not None
        assert self.first_start is not None
        elapsed = time.perf_counter() - self.first_start
        remaining = self.total - self.done
        eta = ""
        if self.solved and remaining:
            eta = f"eta {_clock(elapsed / self.solved * remaining)}"
        self.progress.update(
            self.task, completed=self.done, failed=f"failed {self.failed}" if self.failed else "",
            cached=f"{self.from_cache} from cache" if self.from_cache else "", eta=eta,
            last=f"{result.label or ''} {result.status}")
        self.progress.refresh()

    def tick(self) -> None:
        self.progress.refresh()


def _clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _progress() -> Progress:
    # no auto-refresh: solver output is redirected at the file-descriptor level during solves
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("[red]{task.fields[failed]}"), TextColumn("{task.fields[cached]}"),
                    Elapsed(), TextColumn("{task.fields[eta]}"), TextColumn("{task.fields[last]}"),
                    console=_stderr(), auto_refresh=False, transient=True)


def _finish(written: Written, out: Path, solved: int, cached: int, failed: int,
            total: int, seconds: float, runner: str) -> None:
    err = _stderr()
    if written.plots_skipped:
        err.print(f"[yellow]{escape(written.plots_skipped)}[/]")
    n = len(written.plots) // 2
    plots = f", {n} plot{'s' if n != 1 else ''} (PNG and SVG)" if written.plots else ""
    err.print(f"{total} points: {total - failed} optimal, {failed} not; {solved} solved "
              f"({escape(runner)}), {cached} from cache; {seconds:.1f} s")
    err.print(f"results: {escape(str(out))}/results.csv, results.md{plots}")


@app.command()
def sweep(
    study_file: Annotated[Path | None, typer.Argument(
        metavar="[STUDY|INSTANCE]", help="A study file (YAML); with --vary, an instance file "
        "(default: the national instance).", show_default=False)] = None,
    vary: Annotated[list[str] | None, typer.Option(
        "--vary", metavar="PATH=LO:HI:N", help="Vary a field: PATH=LO:HI:N (N values from LO "
        "to HI), PATH=V1,V2,..., PATH*=LO:HI:N or PATH*=F1,F2 (factors); P1,P2*=... moves "
        "several together (repeatable: a grid).")] = None,
    zip_: Annotated[bool, typer.Option(
        "--zip", help="With several --vary: move them in step instead of a grid.")] = False,
    name: Annotated[str | None, typer.Option(help="Study name (with --vary).",
                                             show_default=False)] = None,
    out: OutOption = None,
    set_: SetOption = None,
    scenario: ScenarioOption = None,
    backend: BackendOption = None,
    solver: SolverOption = None,
    time_limit: TimeLimitOption = None,
    gap: GapOption = None,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    no_cache: NoCacheOption = False,
    solutions: Annotated[bool, typer.Option(
        "--solutions", help="Also write each point's full solution JSON into "
                            "<out>/solutions/.")] = False,
    plots: PlotsOption = True,
    quiet: QuietOption = False,
) -> None:
    """Solve an instance at every point of a parameter grid; tables, CSV, Markdown, plots."""
    _setup_logging(0)
    if vary:
        study, base = _short_form(study_file, vary, zip_, name, set_, scenario)
    elif study_file is None:
        _usage("give a study file, or --vary PATH=LO:HI:N (on an instance, default the national "
               "one)")
        raise AssertionError
    else:
        study, base = _study_form(study_file, set_, scenario)
    options = _options(backend, solver, time_limit, gap, study)
    out = out if out is not None else Path("reports") / "studies" / _safe_name(study.name)
    _check_out(out)
    try:
        with _runner(jobs, dask) as runner, _progress() as progress:
            result = run_sweep(study, base, options, out, runner,
                                      _Bar(progress, study.name), use_cache=not no_cache,
                                      solutions=solutions)
            description = runner.description
        written = write_sweep(result, out, plots=plots)
    except OSError as exc:
        _cannot_write(exc)
        raise
    if not quiet:
        console = _stdout()
        for table in sweep_tables(result):
            console.print(_rich(table))
        for line in failure_lines(result.results):
            console.print(f"[yellow]not optimal:[/] {escape(line)}", soft_wrap=True)
    failed = len(result.failed)
    _finish(written, out, len(result.points) - result.cached, result.cached, failed,
            len(result.points), result.seconds, description)
    raise typer.Exit(EXIT_NO_SOLUTION if failed else EXIT_OK)


def _study_form(path: Path, set_: list[str] | None,
                scenario: str | None) -> tuple[Study, Base]:
    try:
        study, folder, lines = load_study(path)
    except InstanceError as exc:
        _fail(exc.problems, exc.warnings, str(path))
        raise
    instance = (Path(os.path.normpath(folder / study.instance)) if study.instance is not None
                else None)
    try:
        base = prepare_base(instance, [*study.scenarios, *_scenarios(scenario)],
                                   [*study.set_, *(set_ or [])])
    except InstanceError as exc:
        _fail(exc.problems, exc.warnings, str(instance or "the national instance"))
        raise
    problems = parameter_problems(base, study.parameters, str(path), lines)
    if problems:
        _fail(problems, [], str(path))
    return study, base


def _short_form(instance: Path | None, vary: list[str], zip_: bool, name: str | None,
                set_: list[str] | None,
                scenario: str | None) -> tuple[Study, Base]:
    params, problems = [], []
    for text in vary:
        try:
            params.append(parse_vary(text))
        except InstanceError as exc:
            problems += exc.problems
    if problems:
        _fail(problems, [], "--vary")
    try:
        base = prepare_base(instance, _scenarios(scenario), set_ or [])
    except InstanceError as exc:
        _fail(exc.problems, exc.warnings, str(instance or "the national instance"))
        raise
    slugs = (p.targets[0].replace("[", "-").replace("]", "") for p in params)
    default = f"{base.name}-{'-'.join(slugs)}"
    study_name = _safe_name(name or default)[:100]
    try:
        study = Study(name=study_name, mode="zip" if zip_ else "grid", parameters=params)
    except ValueError as exc:
        _usage(str(exc))
        raise
    problems = study_problems(study, "--vary")
    problems += parameter_problems(base, study.parameters, "--vary", where=vary)
    if problems:
        _fail(problems, [], "--vary")
    return study, base


@app.command()
def pareto(
    instance: InstanceArg = None,
    objectives: Annotated[str, typer.Option(
        help="cost,carbon or cost,latency.")] = "cost,carbon",
    points: Annotated[int, typer.Option(
        min=0, max=200, help="Caps evenly spaced between the two extreme points.")] = 8,
    service: Annotated[str, typer.Option(
        help="held: unmet energy at most the cost optimum's at every point; free: dropping "
             "demand is allowed at its penalty.")] = "held",
    name: Annotated[str | None, typer.Option(
        help="Study name (default: <instance>-pareto-<objective>).", show_default=False)]
    = None,
    out: OutOption = None,
    set_: SetOption = None,
    scenario: ScenarioOption = None,
    backend: BackendOption = None,
    solver: SolverOption = None,
    time_limit: TimeLimitOption = None,
    gap: GapOption = None,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    no_cache: NoCacheOption = False,
    plots: PlotsOption = True,
    quiet: QuietOption = False,
) -> None:
    """Trace the Pareto front of cost against carbon or latency (epsilon-constraint)."""
    _setup_logging(0)
    pair = [o.strip() for o in objectives.split(",") if o.strip()]
    if len(pair) != 2 or "cost" not in pair or not set(pair) - {"cost"} <= set(
            SECOND_OBJECTIVES) or pair[0] == pair[1]:
        _usage(f"--objectives must be cost,carbon or cost,latency, not {objectives!r}")
    second: Literal["carbon", "latency"] = "carbon" if "carbon" in pair else "latency"
    if service not in ("held", "free"):
        _usage(f"--service must be held or free, not {service!r}")
    held: Literal["held", "free"] = "held" if service == "held" else "free"
    options = _options(backend, solver, time_limit, gap)
    try:
        base = prepare_base(instance, _scenarios(scenario), set_ or [])
    except InstanceError as exc:
        _fail(exc.problems, exc.warnings, str(instance or "the national instance"))
        raise
    study_name = _safe_name(name or f"{base.name}-pareto-{second}")
    out = out if out is not None else Path("reports") / "studies" / study_name
    _check_out(out)
    try:
        with _runner(jobs, dask) as runner, _progress() as progress:
            result = run_pareto(base, second, points, options, out, runner,
                                       _Bar(progress, study_name), use_cache=not no_cache,
                                       service=held)
            description = runner.description
        written = write_pareto(result, out, plots=plots)
    except OSError as exc:
        _cannot_write(exc)
        raise
    if not quiet:
        console = _stdout()
        console.print(_rich(pareto_table(result)))
        for line in failure_lines([p.result for p in result.results]):
            console.print(f"[yellow]not optimal:[/] {escape(line)}", soft_wrap=True)
    failed = len(result.failed)
    total = len(result.results)
    _finish(written, out, total - result.cached, result.cached, failed, total, result.seconds,
            description)
    raise typer.Exit(EXIT_NO_SOLUTION if failed else EXIT_OK)

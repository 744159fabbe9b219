"""``eastwest sweep`` and ``eastwest pareto``: what-if studies on the command line.

The engine is :mod:`optimizer.studies`; this module parses options, draws the progress bar
(stderr, no auto-refresh: during an in-process solve the solver's output is redirected at the
file-descriptor level, so nothing may write to the terminal then), prints the tables (stdout)
and sets the exit code: 0 when every point is solved to optimality, 3 otherwise, 2 for a bad
study file, instance, override or option.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal, cast

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.progress import TimeElapsedColumn as Elapsed

from optimizer.backends.base import SolveOptions
from optimizer.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    DaskOption,
    HtmlOption,
    InstanceArg,
    JobsOption,
    MaxPointsOption,
    NoCacheOption,
    ObjectivesOption,
    OutOption,
    ParetoNameOption,
    PlotsOption,
    PointsOption,
    PointTimeLimitOption,
    QuietOption,
    ScenarioOption,
    ServiceOption,
    SetOption,
    SolutionsOption,
    StudyArg,
    StudyBackendOption,
    StudyGapOption,
    StudyNameOption,
    StudySolverOption,
    VaryOption,
    ZipOption,
    cannot_write,
    check_html,
    check_jobs,
    check_options,
    check_outputs,
    err_console,
    fail,
    out_console,
    safe_name,
    scenario_names,
    setup_logging,
    usage,
    write_study_html,
)
from optimizer.errors import InstanceError
from optimizer.records.inputs import Base, Study
from optimizer.records.results import PointResult, Second
from optimizer.report.console import to_rich
from optimizer.report.outputs import Output
from optimizer.report.studies import failure_lines, pareto_table, sweep_tables
from optimizer.report.study_files import (
    STUDY_FILES,
    STUDY_FOLDERS,
    Written,
    write_pareto,
    write_sweep,
)
from optimizer.report.tables import Table
from optimizer.studies.base import parameter_problems, prepare_base
from optimizer.studies.pareto import SECOND_OBJECTIVES, check_second, run_pareto
from optimizer.studies.runners import DASK_HINT, DaskRunner, Listener, PoolRunner, Runner
from optimizer.studies.spec import (
    MAX_POINTS,
    load_study,
    parse_vary,
    points_problem,
    study_problems,
)
from optimizer.studies.sweep import run_sweep


def _rich(table: Table) -> Any:
    """A table for rich, its text escaped: paths such as ``sites[far]`` are not markup."""
    return to_rich(Table(escape(table.title), [escape(c) for c in table.columns],
                         [[escape(c) for c in row] for row in table.rows],
                         escape(table.caption), table.numeric, table.footer))


def _options(backend: str | None, solver: str | None, time_limit: float | None,
             gap: float | None, defaults: Study | None = None) -> SolveOptions:
    backend = backend or (defaults.backend if defaults else None) or "ortools"
    solver = solver or (defaults.solver if defaults else None) or "auto"
    time_limit = time_limit if time_limit is not None else (
        defaults.time_limit if defaults else None)
    gap = gap if gap is not None else (defaults.gap if defaults else None)
    options = SolveOptions(backend=backend, solver=solver, time_limit=time_limit, gap=gap)
    check_options(options)
    return options


def _base(instance: Path | None, scenarios: list[str], overrides: list[str]) -> Base:
    try:
        return prepare_base(instance, scenarios, overrides)
    except InstanceError as exc:
        fail(exc.problems, exc.warnings, str(instance or "the national instance"))


def _out(out: str | None, name: str, inputs: list[tuple[str, str | Path]],
         html: Path | None = None) -> Path:
    """The results folder (default ``reports/studies/<name>/``), checked with the files and
    folders a study writes into it before any point is solved (exit 2 listing each problem)."""
    folder = out if out is not None else str(Path("reports") / "studies" / safe_name(name))
    check_outputs([Output("--out", folder, True, STUDY_FILES, STUDY_FOLDERS),
                   *([Output("--html", html)] if html is not None else [])], inputs)
    return Path(folder)


@contextlib.contextmanager
def _runner(jobs: int, dask: str | None) -> Iterator[Runner]:
    if dask is not None and jobs > 1:
        usage("--jobs and --dask exclude each other (the Dask workers set the parallelism)")
    runner: Runner
    if dask is not None:
        try:
            runner = DaskRunner(dask)
        except ImportError:
            usage(DASK_HINT)
        except (OSError, ValueError) as exc:
            usage(f"cannot reach the Dask scheduler at {dask}: {exc}")
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
                    console=err_console(), auto_refresh=False, transient=True)


def _finish(written: Written, out: Path, results: list[PointResult], seconds: float,
            runner: str, tables: list[Table] | None) -> None:
    """The tables and failures on stdout (unless ``tables`` is None: --quiet), the summary on
    stderr; exit 0 when every point is optimal, else 3."""
    if tables is not None:
        console = out_console()
        for table in tables:
            console.print(_rich(table))
        for line in failure_lines(results):
            console.print(f"[yellow]not optimal:[/] {escape(line)}", soft_wrap=True)
    total, cached = len(results), sum(1 for r in results if r.cached)
    failed = sum(1 for r in results if not r.optimal)
    err = err_console()
    if written.plots_skipped:
        err.print(f"[yellow]{escape(written.plots_skipped)}[/]")
    n = len(written.plots) // 2
    plots = f", {n} plot{'s' if n != 1 else ''} (PNG and SVG)" if written.plots else ""
    err.print(f"{total} points: {total - failed} optimal, {failed} not; {total - cached} solved "
              f"({escape(runner)}), {cached} from cache; {seconds:.1f} s")
    err.print(f"results: {escape(str(out))}/results.csv, results.md{plots}")
    raise typer.Exit(EXIT_NO_SOLUTION if failed else EXIT_OK)


def sweep(
    study_file: StudyArg = None,
    vary: VaryOption = None,
    zip_: ZipOption = False,
    name: StudyNameOption = None,
    out: OutOption = None,
    set_: SetOption = None,
    scenario: ScenarioOption = None,
    backend: StudyBackendOption = None,
    solver: StudySolverOption = None,
    time_limit: PointTimeLimitOption = None,
    gap: StudyGapOption = None,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    max_points: MaxPointsOption = MAX_POINTS,
    no_cache: NoCacheOption = False,
    solutions: SolutionsOption = False,
    plots: PlotsOption = True,
    html: HtmlOption = None,
    quiet: QuietOption = False,
) -> None:
    """Solve an instance at every point of a parameter grid; tables, CSV, Markdown, plots."""
    setup_logging(0)
    check_jobs(jobs)
    check_options(SolveOptions(time_limit=time_limit, gap=gap))  # the study's come with it
    if vary:
        study, base = _short_form(study_file, vary, zip_, name, set_, scenario, max_points)
    elif study_file is None:
        usage("give a study file, or --vary PATH=LO:HI:N (on an instance, default the national "
              "one)")
    else:
        study, base = _study_form(study_file, set_, scenario, max_points)
    options = _options(backend, solver, time_limit, gap, study)
    inputs: list[tuple[str, str | Path]] = [("the instance file", base.file)]
    if not vary and study_file is not None:  # with --vary, STUDY is the instance
        inputs.append(("the study file", study_file))
    folder = _out(out, study.name, inputs, html)
    check_html(html)
    try:
        with _runner(jobs, dask) as runner, _progress() as progress:
            result = run_sweep(study, base, options, folder, runner, _Bar(progress, study.name),
                               use_cache=not no_cache, solutions=solutions)
            description = runner.description
        written = write_sweep(result, folder, plots=plots)
        write_study_html(html, result)
    except OSError as exc:
        cannot_write(exc)
    _finish(written, folder, result.results, result.seconds, description,
            None if quiet else sweep_tables(result))


def _study_form(path: Path, set_: list[str] | None, scenario: str | None,
                max_points: int) -> tuple[Study, Base]:
    try:
        study, folder, lines = load_study(path, max_points)
    except InstanceError as exc:
        fail(exc.problems, exc.warnings, str(path))
    instance = (Path(os.path.normpath(folder / study.instance)) if study.instance is not None
                else None)
    base = _base(instance, [*study.scenarios, *scenario_names(scenario)],
                 [*study.set_, *(set_ or [])])
    problems = parameter_problems(base, study.parameters, str(path), lines)
    if problems:
        fail(problems, [], str(path))
    return study, base


def _short_form(instance: Path | None, vary: list[str], zip_: bool, name: str | None,
                set_: list[str] | None, scenario: str | None,
                max_points: int) -> tuple[Study, Base]:
    params, problems = [], []
    for text in vary:
        try:
            params.append(parse_vary(text))
        except InstanceError as exc:
            problems += exc.problems
    if problems:
        fail(problems, [], "--vary")
    base = _base(instance, scenario_names(scenario), set_ or [])
    slugs = (p.targets[0].replace("[", "-").replace("]", "") for p in params)
    default = f"{base.name}-{'-'.join(slugs)}"
    study_name = safe_name(name or default)[:100]
    try:
        study = Study(name=study_name, mode="zip" if zip_ else "grid", parameters=params)
    except ValueError as exc:
        usage(str(exc))
    problems = study_problems(study, "--vary")
    too_many = points_problem(study, "--vary", max_points=max_points, where=vary)
    if too_many is not None:  # the paths are checked on a level: not before the count is
        fail([*problems, too_many], [], "--vary")
    problems += parameter_problems(base, study.parameters, "--vary", where=vary)
    if problems:
        fail(problems, [], "--vary")
    return study, base


def pareto(
    instance: InstanceArg = None,
    objectives: ObjectivesOption = "cost,carbon",
    points: PointsOption = 8,
    service: ServiceOption = "held",
    name: ParetoNameOption = None,
    out: OutOption = None,
    set_: SetOption = None,
    scenario: ScenarioOption = None,
    backend: StudyBackendOption = None,
    solver: StudySolverOption = None,
    time_limit: PointTimeLimitOption = None,
    gap: StudyGapOption = None,
    jobs: JobsOption = 1,
    dask: DaskOption = None,
    no_cache: NoCacheOption = False,
    plots: PlotsOption = True,
    html: HtmlOption = None,
    quiet: QuietOption = False,
) -> None:
    """Trace the Pareto front of cost against carbon, latency or water (epsilon-constraint)."""
    setup_logging(0)
    check_jobs(jobs)
    second = _second(objectives)
    if service not in ("held", "free"):
        usage(f"--service must be held or free, not {service!r}")
    held: Literal["held", "free"] = "held" if service == "held" else "free"
    options = _options(backend, solver, time_limit, gap)
    base = _base(instance, scenario_names(scenario), set_ or [])
    try:
        check_second(base, second)
    except InstanceError as exc:
        fail(exc.problems, [], base.file)
    study_name = safe_name(name or f"{base.name}-pareto-{second}")
    folder = _out(out, study_name, [("the instance file", base.file)], html)
    check_html(html)
    try:
        with _runner(jobs, dask) as runner, _progress() as progress:
            result = run_pareto(base, second, points, options, folder, runner,
                                _Bar(progress, study_name), use_cache=not no_cache,
                                service=held)
            description = runner.description
        written = write_pareto(result, folder, plots=plots)
        write_study_html(html, result)
    except OSError as exc:
        cannot_write(exc)
    _finish(written, folder, [p.result for p in result.results], result.seconds, description,
            None if quiet else [pareto_table(result)])


def _second(objectives: str) -> Second:
    """The second objective of ``--objectives cost,X`` (either order); exit 2 otherwise."""
    pair = [o.strip() for o in objectives.split(",") if o.strip()]
    others = [o for o in pair if o != "cost"]
    if len(pair) != 2 or len(others) != 1 or others[0] not in SECOND_OBJECTIVES:
        pairs = [f"cost,{o}" for o in SECOND_OBJECTIVES]
        usage(f"--objectives must be {', '.join(pairs[:-1])} or {pairs[-1]}, not {objectives!r}")
    return cast(Second, others[0])

"""``eastwest sweep`` and ``eastwest pareto``: what-if studies on the command line.

The engine is :mod:`optimizer.studies`, reached through :mod:`optimizer.api` (``prepare_sweep``
and ``prepare_pareto`` read and check the study, the outputs are checked against what they read,
then ``sweep`` and ``pareto`` run it); this module parses options, draws the progress bar
(stderr, no auto-refresh: during an in-process solve the solver's output is redirected at the
file-descriptor level, so nothing may write to the terminal then), prints the tables (stdout)
and sets the exit code: 0 when every point is solved to optimality, 3 otherwise, 2 for a bad
study file, instance, override or option.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal, cast

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.progress import TimeElapsedColumn as Elapsed

from optimizer import api
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
    failed,
    out_console,
    refused,
    scenario_names,
    setup_logging,
    usage,
    write_study_html,
)
from optimizer.errors import InstanceError, UsageError
from optimizer.records.results import ParetoResult, PointResult, Second, SweepResult
from optimizer.report.console import to_rich
from optimizer.report.outputs import Output, safe_name
from optimizer.report.studies import failure_lines, pareto_table, sweep_tables
from optimizer.report.study_files import (
    STUDY_FILES,
    STUDY_FOLDERS,
    Written,
    write_pareto,
    write_sweep,
)
from optimizer.report.tables import Table
from optimizer.studies.pareto import SECOND_OBJECTIVES
from optimizer.studies.prepare import Inputs
from optimizer.studies.runners import Listener
from optimizer.studies.spec import MAX_POINTS


def _rich(table: Table) -> Any:
    """A table for rich, its text escaped: paths such as ``sites[far]`` are not markup."""
    return to_rich(Table(escape(table.title), [escape(c) for c in table.columns],
                         [[escape(c) for c in row] for row in table.rows],
                         escape(table.caption), table.numeric, table.footer))


def _out(out: str | None, name: str, inputs: Inputs, html: Path | None = None) -> Path:
    """The results folder (default ``reports/studies/<name>/``), checked with the files and
    folders a study writes into it before any point is solved (exit 2 listing each problem)."""
    folder = out if out is not None else str(Path("reports") / "studies" / safe_name(name))
    check_outputs([Output("--out", folder, True, STUDY_FILES, STUDY_FOLDERS),
                   *([Output("--html", html)] if html is not None else [])], inputs)
    return Path(folder)


def _check_runner(jobs: int, dask: str | None) -> None:
    if dask is not None and jobs > 1:
        usage("--jobs and --dask exclude each other (the Dask workers set the parallelism)")


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
    if not vary and study_file is None:
        usage("give a study file, or --vary PATH=LO:HI:N (on an instance, default the national "
              "one)")
    try:  # with --vary, STUDY is the instance
        prepared = api.prepare_sweep(
            None if vary else study_file, vary or (), instance=study_file if vary else None,
            set=set_ or (), scenarios=scenario_names(scenario), mode="zip" if zip_ else "grid",
            name=name, max_points=max_points, backend=backend, solver=solver,
            time_limit=time_limit, gap=gap)
    except InstanceError as exc:
        failed(exc, str(study_file or "the national instance"))
    except UsageError as exc:
        refused(exc)
    folder = _out(out, prepared.name, prepared.inputs, html)
    check_html(html)
    _check_runner(jobs, dask)
    try:
        with _progress() as progress:
            result = api.sweep(prepared, out=folder, jobs=jobs, dask=dask,
                               listener=_Bar(progress, prepared.name), use_cache=not no_cache,
                               solutions=solutions)
        records = cast(SweepResult, result.records)
        written = write_sweep(records, folder, plots=plots)
        write_study_html(html, records)
    except UsageError as exc:
        refused(exc)
    except OSError as exc:
        cannot_write(exc)
    _finish(written, folder, records.results, records.seconds, result.runner,
            None if quiet else sweep_tables(records))


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
    try:
        prepared = api.prepare_pareto(instance, second, set=set_ or (),
                                      scenarios=scenario_names(scenario), name=name,
                                      backend=backend, solver=solver, time_limit=time_limit,
                                      gap=gap)
    except InstanceError as exc:
        failed(exc, str(instance or "the national instance"))
    except UsageError as exc:
        refused(exc)
    folder = _out(out, prepared.name, prepared.inputs, html)
    check_html(html)
    _check_runner(jobs, dask)
    try:
        with _progress() as progress:
            result = api.pareto(prepared, points=points, out=folder, service=held, jobs=jobs,
                                dask=dask, listener=_Bar(progress, prepared.name),
                                use_cache=not no_cache)
        records = cast(ParetoResult, result.records)
        written = write_pareto(records, folder, plots=plots)
        write_study_html(html, records)
    except UsageError as exc:
        refused(exc)
    except OSError as exc:
        cannot_write(exc)
    _finish(written, folder, [p.result for p in records.results], records.seconds,
            result.runner, None if quiet else [pareto_table(records)])


def _second(objectives: str) -> Second:
    """The second objective of ``--objectives cost,X`` (either order); exit 2 otherwise."""
    pair = [o.strip() for o in objectives.split(",") if o.strip()]
    others = [o for o in pair if o != "cost"]
    if len(pair) != 2 or len(others) != 1 or others[0] not in SECOND_OBJECTIVES:
        pairs = [f"cost,{o}" for o in SECOND_OBJECTIVES]
        usage(f"--objectives must be {', '.join(pairs[:-1])} or {pairs[-1]}, not {objectives!r}")
    return cast(Second, others[0])

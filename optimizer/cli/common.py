"""What every ``eastwest`` command shares: exit codes, the two consoles, logging, loading an
instance with its problems reported, the option checks, and the options themselves (as
``Annotated`` aliases, so that a command's signature is one line per option).

stdout carries results only; progress, logs and warnings go to stderr (:func:`err_console`).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from optimizer import api
from optimizer.backends.base import Notice, SolveOptions, option_words
from optimizer.backends.options import MAX_THREADS, option_problems, workers_problem
from optimizer.errors import InstanceError, Problem, UsageError
from optimizer.load import DEFAULT_INSTANCE, Document
from optimizer.report.outputs import Output, output_problems, written_error

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_NO_SOLUTION, EXIT_NOT_OPTIMAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130

logger = logging.getLogger("optimizer.cli")


def err_console() -> Console:
    return Console(stderr=True, highlight=False, emoji=False)


def out_console() -> Console:
    # results on stdout; when piped, do not squeeze the tables into 80 columns
    console = Console(highlight=False, emoji=False)
    if not console.is_terminal:
        console = Console(highlight=False, emoji=False, width=160)
    return console


def setup_logging(verbosity: int) -> None:
    level = {-1: logging.ERROR, 0: logging.WARNING}.get(verbosity, logging.INFO)
    root = logging.getLogger("optimizer")
    root.handlers.clear()
    handler = RichHandler(console=err_console(), show_path=False, show_time=False)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def report_problems(problems: list[Problem], warnings: list[Problem], file: str) -> None:
    err = err_console()
    for p in problems:
        err.print(f"[red]error[/]  {escape(p.format())}", highlight=False, soft_wrap=True)
    for w in warnings:
        err.print(f"[yellow]warning[/]  {escape(w.format())}", highlight=False, soft_wrap=True)
    if problems:
        n = len(problems)
        err.print(f"[bold red]{escape(file)}: {n} problem{'s' if n > 1 else ''}; "
                  "nothing was solved.[/]")


def fail(problems: list[Problem], warnings: list[Problem], file: str) -> NoReturn:
    """Report the problems of an input and exit 2."""
    report_problems(problems, warnings, file)
    raise typer.Exit(EXIT_USAGE)


def failed(exc: InstanceError, file: str) -> NoReturn:
    """The library's InstanceError: its problems, the closing line naming the input it names
    (else ``file``), and exit 2."""
    fail(exc.problems, exc.warnings, exc.source or file)


def refused(exc: UsageError) -> NoReturn:
    """The library's UsageError: every option it refuses, named by its flag, else its
    message; exit 2."""
    notices = [n for n in exc.notices if isinstance(n, Notice)]
    usage_all([n.words(flag_words) for n in notices] if notices else [str(exc)])


def usage(message: str) -> NoReturn:
    usage_all([message])


def usage_all(messages: list[str]) -> NoReturn:
    """Each message as a usage error on stderr, then exit 2."""
    err = err_console()
    for message in messages:
        err.print(f"[red]usage error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


def cannot_write(exc: OSError) -> NoReturn:
    """A write that failed after the checks (a disk filled, a reader gone): its file and why,
    worded, no errno number."""
    err_console().print(f"[red]{escape(written_error(exc))}[/]", soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


def check_outputs(outputs: Sequence[Output], inputs: Sequence[tuple[str, str | Path]]) -> None:
    """Exit 2 before any work, listing every output that cannot be written or would replace
    an input (``inputs``: each input file with what it is)."""
    problems = output_problems(outputs, inputs)
    if problems:
        err = err_console()
        for problem in problems:
            err.print(f"[red]error[/]  {escape(problem)}", highlight=False, soft_wrap=True)
        n = len(problems)
        err.print(f"[bold red]{n} problem{'s' if n > 1 else ''} with the outputs; nothing "
                  "was written.[/]")
        raise typer.Exit(EXIT_USAGE)


def instance_input(instance: Path | None) -> tuple[str, Path]:
    """The instance file as an input of :func:`check_outputs` (the shipped one by default)."""
    if instance is not None:
        return ("the instance file", instance)
    from optimizer import data

    return ("the national instance", Path(data.__file__).parent / DEFAULT_INSTANCE)


def scenario_names(text: str | None) -> list[str]:
    """``--scenario A,B``: the names, in order."""
    return [s.strip() for s in text.split(",") if s.strip()] if text else []


def load_document(instance: Path | None, overrides: list[str] | None = None,
                  scenarios: str | None = None) -> Document:
    try:
        return api.load(instance, overrides or [], scenario_names(scenarios))
    except InstanceError as exc:
        failed(exc, str(instance or "the national instance"))


def check_options(options: SolveOptions, more: Sequence[str] = ()) -> None:
    """Exit 2 before any work when an option is out of its range or names an unknown backend
    or solver (:func:`optimizer.backends.options.option_problems`), or for ``more`` problems
    the caller found, every problem at once."""
    problems = [notice.words(flag_words) for notice in option_problems(options)]
    if problems or more:
        usage_all([*problems, *more])


def check_jobs(jobs: int) -> None:
    """Exit 2 before any work for a ``--jobs`` out of its range (1 to four per core)."""
    problem = workers_problem(jobs)
    if problem is not None:
        usage(problem.words(flag_words))


# --------------------------------------------------------------------------------------------
# options: the same names on every command (DESIGN.md §4), declared once
# --------------------------------------------------------------------------------------------

InstanceArg = Annotated[
    Path | None,
    typer.Argument(help="Instance file (YAML). Default: the national instance shipped with "
                        "eastwest.", show_default=False),
]
SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE",
    help="Override a field, e.g. sites\\[zhongwei].price=400, policy.carbon_price=300, "
         "sites\\[*].price*=1.2 (repeatable).")]
ScenarioOption = Annotated[str | None, typer.Option(
    "--scenario", metavar="A,B", help="Apply the instance's named scenarios, in order.")]
OutputOption = Annotated[str, typer.Option("-o", "--output", metavar="PATH",
                                            help="Instance file to write.")]

# solve
BackendOption = Annotated[str, typer.Option(help="ortools or pulp.")]
SolverOption = Annotated[str, typer.Option(
    help="auto, clp, glop, pdlp, highs, scip, cbc (ortools; cbc for MIPs); "
         "auto, cbc, highs (pulp).")]
TimeLimitOption = Annotated[float | None, typer.Option(
    "--time-limit", min=0.0, help="Seconds (finite, above 0).")]
GapOption = Annotated[float | None, typer.Option(
    min=0.0, help="Relative MIP gap, from 0 to below 1 (0.01 is 1%).")]
ThreadsOption = Annotated[int | None, typer.Option(
    min=1, help=f"Solver threads (1 to {MAX_THREADS}).")]
PeriodJobsOption = Annotated[int | None, typer.Option(
    "--jobs", "-j", min=1,
    help="Worker processes for the period LPs, or for the Benders subproblem's parts "
         "(default: one per core when the LP has 100,000 variables or more; 1: solve them in "
         "this process; at most 4 per core).")]
SolveDaskOption = Annotated[str | None, typer.Option(
    "--dask", metavar="ADDRESS", help="With --strategy benders: solve the subproblem's parts "
    "on a Dask scheduler (tcp://host:8786), or 'local' for a local cluster of 2 worker "
    "processes. Needs eastwest\\[dask].", show_default=False)]
JsonOption = Annotated[str | None, typer.Option(
    "--json", metavar="PATH", help="Write the solution JSON to PATH ('-': stdout).")]
CsvOption = Annotated[str | None, typer.Option("--csv", metavar="DIR",
                                               help="Write tidy CSV tables into DIR.")]
ReportOption = Annotated[str | None, typer.Option(
    "--report", metavar="PATH", help="Write a Markdown report to PATH.md.")]
SensitivityOption = Annotated[bool, typer.Option(
    "--sensitivity", help="List the binding constraints ranked by shadow price, in plain "
                          "words, and the cost of each class's latency budget (re-solves "
                          "with the limit relaxed by 5 ms).")]
SolvePlotsOption = Annotated[str | None, typer.Option(
    "--plots", metavar="DIR",
    help="Draw a flow map, site load profiles and the cost breakdown (PNG and SVG) into DIR; "
         "the Markdown report embeds them.")]
LogOption = Annotated[bool, typer.Option("--log", help="Show the solver log on stderr.")]
DecomposeOption = Annotated[bool, typer.Option(
    "--decompose/--no-decompose",
    help="Solve one LP per period when no constraint couples periods (exact).")]
StrategyOption = Annotated[str, typer.Option(
    help="How the LP is solved: auto, monolithic (the backend, by period where the periods are "
         "independent), colgen (column generation over the flow columns: exact, for LPs "
         "whose periods are coupled), lagrange (a price on the one row that couples the "
         "periods, a carbon cap or renewable floor: exact) or benders (Benders "
         "decomposition for MIPs whose integer decisions are builds, to --gap, default "
         "1e-4).")]
PruneOption = Annotated[bool, typer.Option(
    "--prune/--no-prune",
    help="Leave out arcs no optimal solution needs: dearer than unmet demand, or dominated "
         "by an arc to a site that never fills (exact).")]
AcceptFeasibleOption = Annotated[bool, typer.Option(
    "--accept-feasible", help="Exit 0 for a solution not proven optimal.")]
SolveQuietOption = Annotated[bool, typer.Option("-q", "--quiet",
                                                help="No report on the console.")]
VerboseOption = Annotated[bool, typer.Option("-v", "--verbose", help="More progress output.")]

# bench
SuiteArg = Annotated[Path, typer.Argument(metavar="SUITE", help="Suite file (YAML).")]
OnlyOption = Annotated[str | None, typer.Option(help="Only cases whose name contains this.")]
CaseTimeLimitOption = Annotated[float | None, typer.Option(
    "--time-limit", help="Seconds per case (overrides the suite).")]
BenchOutOption = Annotated[str, typer.Option(metavar="DIR",
                                             help="Folder for the Markdown and JSON results.")]
CaseJobsOption = Annotated[int, typer.Option(
    "--jobs", "-j", min=1, help="Cases solved at a time, each in its own process (at most 4 "
    "per core).")]

# sweep and pareto
StudyArg = Annotated[Path | None, typer.Argument(
    metavar="[STUDY|INSTANCE]", help="A study file (YAML); with --vary, an instance file "
    "(default: the national instance).", show_default=False)]
VaryOption = Annotated[list[str] | None, typer.Option(
    "--vary", metavar="PATH=LO:HI:N", help="Vary a field: PATH=LO:HI:N (N values from LO "
    "to HI), PATH=V1,V2,..., PATH*=LO:HI:N or PATH*=F1,F2 (factors); P1,P2*=... moves "
    "several together (repeatable: a grid).")]
ZipOption = Annotated[bool, typer.Option(
    "--zip", help="With several --vary: move them in step instead of a grid.")]
StudyNameOption = Annotated[str | None, typer.Option(help="Study name (with --vary).",
                                                     show_default=False)]
ParetoNameOption = Annotated[str | None, typer.Option(
    help="Study name (default: <instance>-pareto-<objective>).", show_default=False)]
ObjectivesOption = Annotated[str, typer.Option(
    help="cost,carbon, cost,latency or cost,water (water: version-2 instances).")]
PointsOption = Annotated[int, typer.Option(
    min=0, max=200, help="Caps evenly spaced between the two extreme points.")]
ServiceOption = Annotated[str, typer.Option(
    help="held: unmet energy at most the cost optimum's at every point; free: dropping "
         "demand is allowed at its penalty.")]
OutOption = Annotated[str | None, typer.Option(
    "--out", metavar="DIR", help="Results folder (default: reports/studies/<name>/).",
    show_default=False)]
StudyBackendOption = Annotated[str | None, typer.Option(
    help="ortools or pulp (default: the study's, else ortools).", show_default=False)]
StudySolverOption = Annotated[str | None, typer.Option(
    help="auto, clp, glop, pdlp, highs, scip, cbc (ortools); auto, cbc, highs (pulp).",
    show_default=False)]
PointTimeLimitOption = Annotated[float | None, typer.Option(
    "--time-limit", help="Seconds per point.", show_default=False)]
StudyGapOption = Annotated[float | None, typer.Option(
    min=0.0, help="Relative MIP gap, from 0 to below 1.", show_default=False)]
JobsOption = Annotated[int, typer.Option(
    "--jobs", "-j", min=1, help="Solve points in N processes (at most 4 per core).")]
DaskOption = Annotated[str | None, typer.Option(
    "--dask", metavar="ADDRESS", help="Send points to a Dask scheduler (tcp://host:8786), or "
    "'local' for a local cluster of 2 worker processes. Needs eastwest\\[dask].",
    show_default=False)]
MaxPointsOption = Annotated[int, typer.Option(
    "--max-points", min=1, help="Refuse a study of more points than this (counted before "
    "anything is built or solved).")]
NoCacheOption = Annotated[bool, typer.Option(
    "--no-cache", help="Solve every point again (the cache is still written).")]
SolutionsOption = Annotated[bool, typer.Option(
    "--solutions", help="Also write each point's full solution JSON into "
                        "<out>/solutions/.")]
PlotsOption = Annotated[bool, typer.Option(
    "--plots/--no-plots", help="Write PNG and SVG plots (needs eastwest\\[plots]).")]
QuietOption = Annotated[bool, typer.Option("-q", "--quiet", help="No tables on the console.")]


# SolveOptions field -> the `eastwest solve` flag that sets it (a test checks both sides)
CLI_FLAGS = {
    "backend": "--backend", "solver": "--solver", "time_limit": "--time-limit", "gap": "--gap",
    "threads": "--threads", "log": "--log", "decompose": "--decompose", "workers": "--jobs",
    "prune": "--prune", "strategy": "--strategy", "dask": "--dask",
}


def flag_words(option: str, value: Any) -> str:
    """An option as the command line writes it: ``--gap``, ``--jobs 2``, ``--no-decompose``;
    the library's name where the option has no flag."""
    flag = CLI_FLAGS.get(option)
    if flag is None:
        return option_words(option, value)
    if isinstance(value, bool):
        return flag if value else "--no-" + flag.removeprefix("--")
    return flag if value is None else f"{flag} {value}"


# --- --html PATH on solve, sweep and pareto: the interactive, offline HTML report
# (optimizer.report.html). The html extra (plotly) is looked for before any work and imported
# only when the page is written: the CLI's start-up does not pay for it.

HTML_HINT = "pip install 'eastwest[html]'"

HtmlOption = Annotated[Path | None, typer.Option(
    "--html", help="Write an interactive, self-contained HTML report to PATH (opens offline: "
                   "map, charts, tables; needs eastwest\\[html]).")]


def check_html(path: Path | None) -> None:
    """Exit 2 before any work when ``--html`` is given without the extra (the path itself is
    checked with the command's other outputs: :func:`check_outputs`)."""
    if path is None:
        return
    if importlib.util.find_spec("plotly") is None:
        usage(f"--html needs plotly, which is not installed ({HTML_HINT})")


def write_solution_html(path: Path | None, result: Any, document: Document) -> None:
    """The page of one solve, its map at the instance's region and site locations."""
    if path is None:
        return
    import numpy as np

    from optimizer.report.html import HtmlUnavailable, write_solution

    inst = document.instance
    try:
        write_solution(path, result.solution,
                       np.array([r.location for r in inst.regions], dtype=float),
                       np.array([s.location for s in inst.sites], dtype=float), flag_words)
    except HtmlUnavailable as exc:
        usage(str(exc))
    err_console().print(f"html: {escape(str(path))}", soft_wrap=True)


def write_study_html(path: Path | None, study: Any) -> None:
    """The page of a sweep or a Pareto study: its tables and curves."""
    if path is None:
        return
    from optimizer.report.html import HtmlUnavailable, write_study

    try:
        write_study(path, study)
    except HtmlUnavailable as exc:
        usage(str(exc))
    err_console().print(f"html: {escape(str(path))}", soft_wrap=True)


@contextlib.contextmanager
def working(message: str, quiet: bool = False) -> Iterator[None]:
    """A spinner with the time elapsed on stderr while a long step runs (a solve, a plan's
    measures), gone when it ends; off with ``-q`` and when stderr is not a terminal.

    Solves capture file descriptors 1 and 2 (their solvers print there), so the spinner writes
    to a duplicate of the terminal's descriptor, which the capture does not redirect."""
    if quiet or not sys.stderr.isatty():
        yield
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with os.fdopen(os.dup(sys.stderr.fileno()), "w") as stream:
        console = Console(file=stream, force_terminal=True, emoji=False, highlight=False)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=console, transient=True) as progress:
            task = progress.add_task(escape(message), total=None)
            from optimizer.engine.progress import reporting

            with reporting(lambda line: progress.update(
                    task, description=escape(f"{message} · {line}"))):
                yield

"""``eastwest solve``: solve an instance; the report on stdout, result files on request (every
path checked before solving), the solver log and ``run.json`` always (beside the results, else
in the user cache: never in the working directory unless asked)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from rich.markup import escape

from optimizer import __version__, api
from optimizer.backends.base import SolveOptions, Status
from optimizer.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_NOT_OPTIMAL,
    EXIT_OK,
    AcceptFeasibleOption,
    BackendOption,
    CsvOption,
    DecomposeOption,
    GapOption,
    HtmlOption,
    InstanceArg,
    JsonOption,
    LogOption,
    PeriodJobsOption,
    PruneOption,
    ReportOption,
    ScenarioOption,
    SensitivityOption,
    SetOption,
    SolveDaskOption,
    SolvePlotsOption,
    SolveQuietOption,
    SolverOption,
    StrategyOption,
    ThreadsOption,
    TimeLimitOption,
    VerboseOption,
    cannot_write,
    check_html,
    check_options,
    check_outputs,
    err_console,
    failed,
    flag_words,
    instance_input,
    load_document,
    logger,
    out_console,
    refused,
    setup_logging,
    usage,
    working,
    write_solution_html,
)
from optimizer.engine import STRATEGIES
from optimizer.errors import InstanceError, UsageError
from optimizer.load import Document
from optimizer.report.outputs import (
    Output,
    names_stdout,
    output_problems,
    safe_name,
    user_log_folder,
    writes_through,
    written_error,
)

if TYPE_CHECKING:
    from optimizer.report.tables import Table

MeasuresOption = Annotated[bool, typer.Option(
    "--measures/--no-measures", help="For a version-2 plan with scenarios or contingencies: "
    "also solve the plans it is compared with (the cost of resilience, EVPI and VSS: one solve "
    "each, and one per scenario). On by default; --no-measures for the plan alone.")]


def solve(
    instance: InstanceArg = None,
    set_: SetOption = None,
    scenario: ScenarioOption = None,
    backend: BackendOption = "ortools",
    solver: SolverOption = "auto",
    time_limit: TimeLimitOption = None,
    gap: GapOption = None,
    threads: ThreadsOption = None,
    jobs: PeriodJobsOption = None,
    dask: SolveDaskOption = None,
    json_out: JsonOption = None,
    csv_dir: CsvOption = None,
    report: ReportOption = None,
    sensitivity: SensitivityOption = False,
    plots: SolvePlotsOption = None,
    html: HtmlOption = None,
    log: LogOption = False,
    decompose: DecomposeOption = True,
    prune: PruneOption = True,
    strategy: StrategyOption = "auto",
    accept_feasible: AcceptFeasibleOption = False,
    measures: MeasuresOption = True,
    quiet: SolveQuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Solve an instance and report where compute goes, at what cost, carbon and latency."""
    setup_logging(-1 if quiet else (1 if verbose else 0))
    check_options(SolveOptions(backend=backend, solver=solver, time_limit=time_limit, gap=gap,
                               threads=threads, log=log, decompose=decompose, workers=jobs,
                               prune=prune, strategy=strategy, dask=dask),
                  [] if strategy in STRATEGIES else [
                      f"--strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}"])
    check_html(html)
    started = time.perf_counter()
    document = load_document(instance, set_, scenario)
    load_s = time.perf_counter() - started
    logger.info("loaded %s in %.2f s", document.file, load_s)
    if sensitivity and document.instance.planning is not None:
        usage("--sensitivity is for instances without a planning block: a plan's shadow "
              "prices are in each case's sites and shadow_prices (--json)")
    # every output checked before solving, not after: nothing is lost
    if json_out not in (None, "-", "") and names_stdout(json_out):
        json_out = "-"  # /dev/stdout: the JSON alone on stdout, the report on stderr
    outputs = _outputs(Outputs(json_out, csv_dir, report, plots, html, log, quiet,
                               safe_name(document.instance.name or "")), instance)
    try:
        result = api.solve(document, backend=backend, solver=solver, time_limit=time_limit,
                           gap=gap, threads=threads, log=log, decompose=decompose, jobs=jobs,
                           prune=prune, strategy=strategy, measures=measures, dask=dask,
                           progress=lambda step: working(step, quiet))
    except InstanceError as exc:
        failed(exc, document.file)
    except UsageError as exc:
        refused(exc)
    sol = result.solution
    try:
        tab = _sensitivity(result) if sensitivity and sol.has_values else None
        _write_outputs(result, {"load": load_s, **result.run.timings}, outputs, tab)
        write_solution_html(html, result, document)
    except OSError as exc:
        cannot_write(exc)
    raise typer.Exit(exit_code(sol.status, sol.has_values, accept_feasible))


@dataclass(frozen=True)
class Outputs:
    json_out: str | None
    csv_dir: str | None
    report: str | None
    plots: str | None
    """The paths as given (Path('') would be '.', the working directory)."""
    html: Path | None
    log: bool
    quiet: bool
    name: str
    """The instance's name as a file name: the solver log is ``<name>.solver.log``."""
    log_dir: Path = Path()
    """Where the solver log and ``run.json`` go."""
    cached: bool = False
    """``log_dir`` is the user cache: no file was asked for, so a failure there only warns."""

    def asked(self) -> list[Output]:
        """The files and folders the options ask for."""
        from optimizer.report.files import CSV_NAMES, PLAN_CSV_NAMES

        found = [Output("--json", self.json_out) if self.json_out not in (None, "-") else None,
                 Output("--csv", self.csv_dir, True, CSV_NAMES + PLAN_CSV_NAMES)
                 if self.csv_dir is not None else None,
                 Output("--report", self.report) if self.report is not None else None,
                 Output("--plots", self.plots, True) if self.plots is not None else None,
                 Output("--html", self.html) if self.html is not None else None]
        return [f for f in found if f is not None]

    def beside(self) -> Path | None:
        """The folder of the results (the CSV folder, else the JSON's or the report's), where
        the solver log and ``run.json`` go; None when no result goes to a file."""
        if self.csv_dir is not None:
            return Path(self.csv_dir)
        files = [f for f in (self.json_out if self.json_out != "-" else None, self.report)
                 if f is not None]
        return next((Path(f).parent for f in files if not writes_through(f)), None)

    def side_files(self, folder: Path) -> list[Output]:
        return [Output("the solver log", folder / f"{self.name}.solver.log"),
                Output("run.json", folder / f"{self.name}.run.json")]


def _outputs(out: Outputs, instance: Path | None) -> Outputs:
    """``out`` with its paths checked (exit 2 listing every problem) and its log folder: beside
    the results, else the user cache (``-v`` says where; skipped with a warning when it cannot
    be written): a run that asks for no file writes nothing in the working directory."""
    inputs = [instance_input(instance)]
    beside = out.beside()
    # the log beside results that cannot be written would only repeat their problem
    side = (out.side_files(beside) if beside is not None
            and not output_problems(out.asked(), inputs) else [])
    check_outputs([*out.asked(), *side], inputs)
    if beside is not None:
        return replace(out, log_dir=beside)
    return replace(out, log_dir=user_log_folder(), cached=True)


def _write_outputs(result: api.Result, timings: dict[str, float], out: Outputs,
                   tab: Table | None) -> None:
    from optimizer.report import console as console_report
    from optimizer.report import files, markdown

    json_out, csv_dir, report, log, quiet = (out.json_out, out.csv_dir, out.report, out.log,
                                             out.quiet)
    sol, raw = result.solution, result.run.raw
    run_info = _run_info(result.run.document, result.options, timings, sol.solver)
    shown_log = _write_log(raw.log, run_info, out)
    if log:
        sys.stderr.write(raw.log)
        sys.stderr.flush()

    if json_out == "-":
        sys.stdout.write(files.solution_json(sol, {"run": run_info}, flag_words))
        sys.stdout.flush()
    elif json_out is not None:
        files.write_atomic(json_out, files.solution_json(sol, {"run": run_info}, flag_words))
    if csv_dir is not None:
        files.write_csv_dir(sol, csv_dir)
    images = _plots(result, out) if out.plots is not None and sol.has_values else ""
    if report is not None:
        text = markdown.render(sol, shown_log, images, flag_words)
        files.write_atomic(report, text if tab is None else text + "\n" + markdown.table_md(tab))
    console = err_console() if json_out == "-" else out_console()
    if not quiet:
        console_report.render(sol, console, shown_log, flag_words)
    if tab is not None:
        console.print(console_report.to_rich(tab))


def _write_log(text: str, run_info: dict[str, Any], out: Outputs) -> str | None:
    """Write the solver log and ``run.json`` into ``out.log_dir``: the log's path, or None
    when the user cache could not take them (a warning: the run asked for no file)."""
    from optimizer.report.files import write_atomic

    log_path, run_path = (o.path for o in out.side_files(out.log_dir))
    try:
        write_atomic(log_path, text)
        write_atomic(run_path, json.dumps(run_info, indent=1) + "\n")
    except OSError as exc:
        if not out.cached:
            raise
        err_console().print(f"[yellow]warning[/]  no solver log in the user cache: "
                            f"{escape(written_error(exc))}", soft_wrap=True)
        return None
    logger.info("solver log and run.json: %s", out.log_dir)
    return str(log_path)


def _plots(result: api.Result, out: Outputs) -> str:
    """Draw the plots into ``out.plots``; the Markdown that embeds them ("" without them)."""
    from optimizer.report.plots import PlotsUnavailable, markdown_images, render_plots

    assert out.plots is not None
    inst, folder = result.run.document.instance, Path(out.plots)
    try:
        paths = render_plots(result.solution, folder,
                             np.array([r.location for r in inst.regions], dtype=float),
                             np.array([s.location for s in inst.sites], dtype=float))
    except PlotsUnavailable as exc:
        err_console().print(f"[yellow]no plots:[/] {escape(str(exc))}")
        return ""
    images = markdown_images(paths, Path(out.report).parent if out.report is not None else folder)
    err_console().print(f"plots: {escape(str(out.plots))} (flows, load, costs; PNG and SVG)")
    return images


def _sensitivity(result: api.Result) -> Table:
    """The binding constraints ranked (re-solving for the latency budgets), before any file is
    written; the notes about what is not ranked go to stderr."""
    from optimizer.sensitivity import sensitivity, table

    findings = sensitivity(result.run, options=result.options)
    for note in (f for f in findings if not f.ranked):
        err_console().print(f"[dim]note:[/] {escape(note.sentence)}")
    return table(findings, result.solution.currency)


def exit_code(status: Status, has_values: bool, accept_feasible: bool) -> int:
    if status is Status.OPTIMAL:
        return EXIT_OK
    if has_values and status in (Status.FEASIBLE, Status.TIME_LIMIT):
        return EXIT_OK if accept_feasible else EXIT_NOT_OPTIMAL
    return EXIT_NO_SOLUTION


def _run_info(document: Document, options: SolveOptions, timings: dict[str, float],
              solver: dict[str, Any]) -> dict[str, Any]:
    return {
        "eastwest": __version__,
        "instance": document.file,
        "instance_sha256": document.sha256,
        "overrides": list(document.overrides),
        "options": {"backend": options.backend, "solver": options.solver,
                    "time_limit": options.time_limit, "gap": options.gap,
                    "threads": options.threads, "jobs": options.workers,
                    "decompose": options.decompose, "prune": options.prune,
                    "strategy": options.strategy},
        "timings_s": timings,
        "model": {k: solver[k] for k in ("variables", "constraints", "nonzeros")},
        "solver": solver["solver"],
    }

"""``eastwest solve``: solve an instance; the report on stdout, result files on request, the
solver log and ``run.json`` always (beside the results, else under ``reports/logs/``)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.markup import escape

from optimizer import __version__
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
    SolvePlotsOption,
    SolveQuietOption,
    SolverOption,
    ThreadsOption,
    TimeLimitOption,
    VerboseOption,
    cannot_write,
    check_html,
    check_solver,
    check_writable,
    err_console,
    fail,
    flag_words,
    load_document,
    logger,
    out_console,
    safe_name,
    setup_logging,
    usage,
    write_solution_html,
)
from optimizer.errors import InstanceError, UsageError
from optimizer.load import Document
from optimizer.report.notices import word_error

MeasuresOption = Annotated[bool, typer.Option(
    "--measures", help="For a version-2 plan: also solve the plans it is compared with (the "
    "cost of resilience, EVPI and VSS: one solve each, and one per scenario).")]


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
    json_out: JsonOption = None,
    csv_dir: CsvOption = None,
    report: ReportOption = None,
    sensitivity: SensitivityOption = False,
    plots: SolvePlotsOption = None,
    html: HtmlOption = None,
    log: LogOption = False,
    decompose: DecomposeOption = True,
    prune: PruneOption = True,
    accept_feasible: AcceptFeasibleOption = False,
    measures: MeasuresOption = False,
    quiet: SolveQuietOption = False,
    verbose: VerboseOption = False,
) -> None:
    """Solve an instance and report where compute goes, at what cost, carbon and latency."""
    from optimizer.pipeline import solve_document

    setup_logging(-1 if quiet else (1 if verbose else 0))
    check_solver(backend, solver, time_limit)
    options = SolveOptions(backend=backend, solver=solver, time_limit=time_limit, gap=gap,
                           threads=threads, log=log, decompose=decompose, workers=jobs,
                           prune=prune)
    outputs = Outputs(json_out, csv_dir, report, plots, log, quiet)
    for folder in outputs.folders():
        check_writable(folder)  # fail before solving, not after: nothing is lost
    check_html(html)

    started = time.perf_counter()
    document = load_document(instance, set_, scenario)
    load_s = time.perf_counter() - started
    logger.info("loaded %s in %.2f s", document.file, load_s)
    if sensitivity and document.instance.planning is not None:
        usage("--sensitivity is for instances without a planning block: a plan's shadow "
              "prices are in each case's sites and shadow_prices (--json)")
    try:
        result = solve_document(document, options)
    except InstanceError as exc:
        fail(exc.problems, exc.warnings, document.file)
    except UsageError as exc:
        usage(word_error(exc, flag_words))
    sol = result.solution
    timings = {"load": load_s, **result.timings}
    if result.plan is not None and measures:
        from optimizer.planning import solve_measures

        started = time.perf_counter()
        sol.measures = solve_measures(result.plan, options)
        timings["measures"] = time.perf_counter() - started

    try:
        _write_outputs(result, document, options, timings, outputs)
        write_solution_html(html, result, document)
        if sensitivity and sol.has_values:
            _sensitivity(result, options, report, json_out == "-")
    except OSError as exc:
        cannot_write(exc)
    raise typer.Exit(exit_code(sol.status, sol.has_values, accept_feasible))


@dataclass(frozen=True)
class Outputs:
    json_out: str | None
    csv_dir: Path | None
    report: Path | None
    plots: Path | None
    log: bool
    quiet: bool

    def folders(self) -> list[Path]:
        """The folders files will be written into."""
        found = [Path(self.json_out).parent if self.json_out not in (None, "-") else None,
                 self.csv_dir, self.report.parent if self.report is not None else None,
                 self.plots]
        return [f for f in found if f is not None]


def _write_outputs(result: Any, document: Document, options: SolveOptions,
                   timings: dict[str, float], out: Outputs) -> None:
    from optimizer.report import console as console_report
    from optimizer.report import files, markdown

    json_out, csv_dir, report, log, quiet = (out.json_out, out.csv_dir, out.report, out.log,
                                             out.quiet)
    sol = result.solution
    name = safe_name(sol.instance)
    out_dir = (csv_dir if csv_dir is not None
               else Path(json_out).parent if json_out not in (None, "-")
               else report.parent if report is not None else Path("reports") / "logs")
    log_path = out_dir / f"{name}.solver.log"
    files.write_atomic(log_path, result.raw.log)
    run_info = _run_info(document, options, timings, sol.solver)
    files.write_atomic(out_dir / f"{name}.run.json", json.dumps(run_info, indent=1) + "\n")
    if log:
        sys.stderr.write(result.raw.log)
        sys.stderr.flush()

    if json_out == "-":
        sys.stdout.write(files.solution_json(sol, {"run": run_info}, flag_words))
        sys.stdout.flush()
    elif json_out is not None:
        files.write_atomic(json_out, files.solution_json(sol, {"run": run_info}, flag_words))
    if csv_dir is not None:
        files.write_csv_dir(sol, csv_dir)
    images = _plots(result, document, out) if out.plots is not None and sol.has_values else ""
    if report is not None:
        files.write_atomic(report, markdown.render(sol, str(log_path), images, flag_words))
    if not quiet:
        target = err_console() if json_out == "-" else out_console()
        console_report.render(sol, target, str(log_path), flag_words)


def _plots(result: Any, document: Document, out: Outputs) -> str:
    """Draw the plots into ``out.plots``; the Markdown that embeds them ("" without them)."""
    from optimizer.report.plots import PlotsUnavailable, markdown_images, render_plots

    assert out.plots is not None
    inst = document.instance
    try:
        paths = render_plots(result.solution, out.plots,
                             np.array([r.location for r in inst.regions], dtype=float),
                             np.array([s.location for s in inst.sites], dtype=float))
    except PlotsUnavailable as exc:
        err_console().print(f"[yellow]no plots:[/] {escape(str(exc))}")
        return ""
    images = markdown_images(paths, out.report.parent if out.report is not None else out.plots)
    err_console().print(f"plots: {escape(str(out.plots))} (flows, load, costs; PNG and SVG)")
    return images


def _sensitivity(result: Any, options: SolveOptions, report: Path | None,
                 json_on_stdout: bool) -> None:
    from optimizer.report.console import to_rich
    from optimizer.report.files import write_atomic
    from optimizer.report.markdown import table_md
    from optimizer.sensitivity import sensitivity, table

    findings = sensitivity(result, options=options)
    tab = table(findings, result.solution.currency)
    (err_console() if json_on_stdout else out_console()).print(to_rich(tab))
    for note in (f for f in findings if not f.ranked):
        err_console().print(f"[dim]note:[/] {escape(note.sentence)}")
    if report is not None:
        with open(report, encoding="utf-8") as f:
            text = f.read()
        write_atomic(report, text + "\n" + table_md(tab))


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
                    "decompose": options.decompose, "prune": options.prune},
        "timings_s": timings,
        "model": {k: solver[k] for k in ("variables", "constraints", "nonzeros")},
        "solver": solver["solver"],
    }

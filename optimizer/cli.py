"""The ``eastwest`` command line (DESIGN.md §4).

stdout carries results only (the report, or the JSON with ``--json -``); progress, logs and
warnings go to stderr. Exit codes: 0 solved; 1 internal error; 2 bad usage or invalid instance;
3 no acceptable solution; 4 solution not proven optimal (unless ``--accept-feasible``);
130 interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape

from optimizer import __version__
from optimizer.backends import SOLVER_CHOICES
from optimizer.backends.base import SolveOptions, Status
from optimizer.errors import InstanceError, Problem, UsageError
from optimizer.load import Document, load
from optimizer.report.notices import word_error

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_NO_SOLUTION, EXIT_NOT_OPTIMAL = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="eastwest",
    help="Place compute in a national computing network (Eastern Data, Western Computing).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
logger = logging.getLogger("optimizer.cli")


def _stderr() -> Console:
    return Console(stderr=True, highlight=False)


def _stdout() -> Console:
    # results on stdout; when piped, do not squeeze the tables into 80 columns
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=160)
    return console


def _setup_logging(verbosity: int) -> None:
    level = {-1: logging.ERROR, 0: logging.WARNING}.get(verbosity, logging.INFO)
    root = logging.getLogger("optimizer")
    root.handlers.clear()
    handler = RichHandler(console=_stderr(), show_path=False, show_time=False)
    root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def _report_problems(problems: list[Problem], warnings: list[Problem], file: str) -> None:
    err = _stderr()
    for p in problems:
        err.print(f"[red]error[/]  {escape(p.format())}", highlight=False, soft_wrap=True)
    for w in warnings:
        err.print(f"[yellow]warning[/]  {escape(w.format())}", highlight=False, soft_wrap=True)
    if problems:
        n = len(problems)
        err.print(f"[bold red]{escape(file)}: {n} problem{'s' if n > 1 else ''}; "
                  "nothing was solved.[/]")


SetOption = Annotated[list[str] | None, typer.Option(
    "--set", metavar="PATH=VALUE",
    help="Override a field, e.g. sites\\[zhongwei].price=400, policy.carbon_price=300, "
         "sites\\[*].price*=1.2 (repeatable).")]
ScenarioOption = Annotated[str | None, typer.Option(
    "--scenario", metavar="A,B", help="Apply the instance's named scenarios, in order.")]


def _load(instance: Path | None, overrides: list[str] | None = None,
          scenarios: str | None = None) -> Document:
    names = [s.strip() for s in scenarios.split(",") if s.strip()] if scenarios else []
    try:
        return load(instance, overrides or [], names)
    except InstanceError as exc:
        _report_problems(exc.problems, exc.warnings, str(instance or "the national instance"))
        raise typer.Exit(EXIT_USAGE) from None


InstanceArg = Annotated[
    Path | None,
    typer.Argument(help="Instance file (YAML). Default: the national instance shipped with "
                        "eastwest.", show_default=False),
]


@app.command()
def solve(
    instance: InstanceArg = None,
    set_: SetOption = None,
    scenario: ScenarioOption = None,
    backend: Annotated[str, typer.Option(help="ortools or pulp.")] = "ortools",
    solver: Annotated[str, typer.Option(
        help="auto, clp, glop, pdlp, highs, scip, cbc (ortools; cbc for MIPs); "
             "auto, cbc, highs (pulp).")] = "auto",
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", min=0.0, help="Seconds.")] = None,
    gap: Annotated[float | None, typer.Option(min=0.0, help="Relative MIP gap.")] = None,
    threads: Annotated[int | None, typer.Option(min=1, help="Solver threads.")] = None,
    jobs: Annotated[int | None, typer.Option(
        "--jobs", "-j", min=1,
        help="Worker processes for the period LPs (default: one per core when the LP has "
             "100,000 variables or more; 1: solve them in this process).")] = None,
    json_out: Annotated[str | None, typer.Option(
        "--json", help="Write the solution JSON to PATH ('-': stdout).")] = None,
    csv_dir: Annotated[Path | None, typer.Option(
        "--csv", help="Write tidy CSV tables into DIR.")] = None,
    report: Annotated[Path | None, typer.Option(
        "--report", help="Write a Markdown report to PATH.md.")] = None,
    sensitivity: Annotated[bool, typer.Option(
        "--sensitivity", help="List the binding constraints ranked by shadow price, in plain "
                              "words, and the cost of each class's latency budget (re-solves "
                              "with the limit relaxed by 5 ms).")] = False,
    plots: Annotated[Path | None, typer.Option(
        "--plots", help="Draw a flow map, site load profiles and the cost breakdown (PNG and "
                        "SVG) into DIR; the Markdown report embeds them.")] = None,
    log: Annotated[bool, typer.Option("--log", help="Show the solver log on stderr.")] = False,
    decompose: Annotated[bool, typer.Option(
        "--decompose/--no-decompose",
        help="Solve one LP per period when no constraint couples periods (exact).")] = True,
    prune: Annotated[bool, typer.Option(
        "--prune/--no-prune",
        help="Leave out arcs no optimal solution needs: dearer than unmet demand, or dominated "
             "by an arc to a site that never fills (exact).")] = True,
    accept_feasible: Annotated[bool, typer.Option(
        "--accept-feasible", help="Exit 0 for a solution not proven optimal.")] = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="No report on the console.")]
    = False,
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="More progress output.")]
    = False,
) -> None:
    """Solve an instance and report where compute goes, at what cost, carbon and latency."""
    from optimizer.pipeline import solve_document

    _setup_logging(-1 if quiet else (1 if verbose else 0))
    _check_solver(backend, solver, time_limit)
    options = SolveOptions(backend=backend, solver=solver, time_limit=time_limit, gap=gap,
                           threads=threads, log=log, decompose=decompose, workers=jobs,
                           prune=prune)
    outputs = [Path(json_out).parent if json_out not in (None, "-") else None,
               csv_dir, report.parent if report is not None else None, plots]
    for folder in (f for f in outputs if f is not None):
        problem = _unwritable(folder)  # fail before solving, not after: nothing is lost
        if problem:
            _usage(f"cannot write into {folder}: {problem}")

    started = time.perf_counter()
    document = _load(instance, set_, scenario)
    load_s = time.perf_counter() - started
    logger.info("loaded %s in %.2f s", document.file, load_s)
    try:
        result = solve_document(document, options)
    except InstanceError as exc:
        _report_problems(exc.problems, exc.warnings, document.file)
        raise typer.Exit(EXIT_USAGE) from None
    except UsageError as exc:
        _usage(word_error(exc, flags=True))
        raise
    sol = result.solution
    timings = {"load": load_s, **result.timings}

    try:
        _write_outputs(result, document, options, timings,
                       Outputs(json_out, csv_dir, report, plots, log, quiet))
        if sensitivity and sol.has_values:
            _sensitivity(result, options, report, json_out == "-")
    except OSError as exc:
        _stderr().print(f"[red]cannot write output:[/] {escape(str(exc))}")
        raise typer.Exit(EXIT_USAGE) from None
    raise typer.Exit(_exit_code(sol.status, sol.has_values, accept_feasible))


@dataclass(frozen=True)
class Outputs:
    json_out: str | None
    csv_dir: Path | None
    report: Path | None
    plots: Path | None
    log: bool
    quiet: bool


def _write_outputs(result: Any, document: Document, options: SolveOptions,
                   timings: dict[str, float], out: Outputs) -> None:
    from optimizer.report import console as console_report
    from optimizer.report import files, markdown

    json_out, csv_dir, report, log, quiet = (out.json_out, out.csv_dir, out.report, out.log,
                                             out.quiet)
    sol = result.solution
    name = _safe_name(sol.instance)
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
        sys.stdout.write(files.solution_json(sol, {"run": run_info}))
        sys.stdout.flush()
    elif json_out is not None:
        files.write_atomic(json_out, files.solution_json(sol, {"run": run_info}))
    if csv_dir is not None:
        files.write_csv_dir(sol, csv_dir)
    images = ""
    if out.plots is not None and sol.has_values:
        from optimizer.report.plots import PlotsUnavailable, markdown_images, render_plots

        inst = document.instance
        try:
            paths = render_plots(sol, out.plots,
                                 np.array([r.location for r in inst.regions], dtype=float),
                                 np.array([s.location for s in inst.sites], dtype=float))
            images = markdown_images(paths, report.parent if report is not None else out.plots)
            _stderr().print(f"plots: {escape(str(out.plots))} (flows, load, costs; PNG and SVG)")
        except PlotsUnavailable as exc:
            _stderr().print(f"[yellow]no plots:[/] {escape(str(exc))}")
    if report is not None:
        files.write_atomic(report, markdown.render(sol, str(log_path), images))
    if not quiet:
        target = _stderr() if json_out == "-" else _stdout()
        console_report.render(sol, target, str(log_path))


def _sensitivity(result: Any, options: SolveOptions, report: Path | None,
                 json_on_stdout: bool) -> None:
    from optimizer.report.console import to_rich
    from optimizer.report.files import write_atomic
    from optimizer.report.markdown import table_md
    from optimizer.sensitivity import sensitivity, table

    findings = sensitivity(result, options=options)
    tab = table(findings, result.solution.currency)
    (_stderr() if json_on_stdout else _stdout()).print(to_rich(tab))
    for note in (f for f in findings if not f.ranked):
        _stderr().print(f"[dim]note:[/] {escape(note.sentence)}")
    if report is not None:
        with open(report, encoding="utf-8") as f:
            text = f.read()
        write_atomic(report, text + "\n" + table_md(tab))


def _unwritable(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (created if missing), or None."""
    probe = folder.absolute()
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return f"{probe} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"{probe} is not writable"
    return None


def _exit_code(status: Status, has_values: bool, accept_feasible: bool) -> int:
    if status is Status.OPTIMAL:
        return EXIT_OK
    if has_values and status in (Status.FEASIBLE, Status.TIME_LIMIT):
        return EXIT_OK if accept_feasible else EXIT_NOT_OPTIMAL
    return EXIT_NO_SOLUTION


def _usage(message: str) -> None:
    _stderr().print(f"[red]usage error:[/] {escape(message)}")
    raise typer.Exit(EXIT_USAGE)


def _safe_name(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "instance"


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


@app.command()
def validate(
    instance: Annotated[Path, typer.Argument(help="Instance file (YAML).")],
    set_: SetOption = None,
    scenario: ScenarioOption = None,
) -> None:
    """Check an instance and list every problem at once (exit 2 if there is one)."""
    document = _load(instance, set_, scenario)
    _report_problems([], list(document.warnings), document.file)
    inst = document.instance
    _stdout().print(
        f"{document.file}: valid ({len(inst.regions)} regions, {len(inst.sites)} sites, "
        f"{len(inst.classes)} classes"
        + (f", {len(document.warnings)} warnings" if document.warnings else "") + ")"
    )


@app.command("import")
def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="orlib-cap or holmberg.")],
    file: Annotated[Path, typer.Argument(help="The benchmark file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Instance file to write.")],
    capacity: Annotated[float | None, typer.Option(
        help="Capacity of every facility (needed for OR-Library capa/capb/capc).")] = None,
) -> None:
    """Turn a public facility-location benchmark file into a v1 instance."""
    import yaml

    from optimizer.importers import FORMATS, import_file
    from optimizer.report.files import write_atomic

    if fmt not in FORMATS:
        _usage(f"FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    try:
        data = import_file(fmt, file, capacity, output.stem)
    except InstanceError as exc:
        _report_problems(exc.problems, exc.warnings, str(file))
        raise typer.Exit(EXIT_USAGE) from None
    header = (f"# yaml-language-server: $schema={_schema_hint(output)}\n"
              f"# imported by `eastwest import {fmt} {file}"
              + (f" --capacity {capacity:g}" if capacity is not None else "") + "`\n")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    body = yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=None, width=100)
    write_atomic(output, header + body)
    _stderr().print(f"wrote {escape(str(output))}: {len(data['regions'])} customers, "
                    f"{len(data['sites'])} facilities")


def _schema_hint(output: Path) -> str:
    schema = Path(__file__).parent / "data" / "instance.schema.json"
    try:
        return os.path.relpath(schema, output.absolute().parent)
    except ValueError:
        return str(schema)


@app.command()
def bench(
    suite_file: Annotated[Path, typer.Argument(metavar="SUITE", help="Suite file (YAML).")],
    only: Annotated[str | None, typer.Option(help="Only cases whose name contains this.")]
    = None,
    time_limit: Annotated[float | None, typer.Option(
        "--time-limit", help="Seconds per case (overrides the suite).")] = None,
    out: Annotated[Path, typer.Option(help="Folder for the Markdown and JSON results.")]
    = Path("reports/bench"),
    jobs: Annotated[int, typer.Option(
        "--jobs", "-j", min=1, help="Cases solved at a time, each in its own process.")] = 1,
) -> None:
    """Run a benchmark suite: instances x solvers, against published optima where given."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.progress import TimeElapsedColumn as Elapsed

    from optimizer.bench import case_count, load_suite, order_rows, run_suite
    from optimizer.report import bench as bench_report
    from optimizer.report.files import write_atomic

    _setup_logging(0)
    try:
        suite, base = load_suite(suite_file)
    except InstanceError as exc:
        _report_problems(exc.problems, exc.warnings, str(suite_file))
        raise typer.Exit(EXIT_USAGE) from None
    if time_limit is not None and time_limit <= 0:
        _usage("--time-limit must be a positive number of seconds")
    problem = _unwritable(out)
    if problem:
        _usage(f"cannot write into {out}: {problem}")
    total = case_count(suite, only)
    if total == 0:
        _usage(f"no case of {suite.name} matches {only!r}")
    rows = []
    overrides = {"time_limit": time_limit} if time_limit else {}
    # no auto-refresh: solver output is redirected at the file-descriptor level during solves
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  Elapsed(), TextColumn("{task.fields[last]}"), console=_stderr(),
                  auto_refresh=False, transient=True) as progress:
        task = progress.add_task(suite.name, total=total, last="")
        progress.refresh()
        for row in run_suite(suite, base, only, overrides, jobs=jobs):
            rows.append(row)
            mark = {True: "ok", False: "MISMATCH", None: row["status"]}[row["match"]]
            progress.update(task, advance=1, last=f"{row['case']} {mark}")
            progress.refresh()
    rows = order_rows(suite, rows)
    table = bench_report.table(suite, rows)
    from optimizer.report.console import to_rich

    _stdout().print(to_rich(table))
    name = _safe_name(suite.name)
    write_atomic(out / f"{name}.md", bench_report.markdown(suite, rows, table, jobs))
    write_atomic(out / f"{name}.json", json.dumps(
        {"suite": suite.name, "eastwest": __version__, "jobs": jobs, "rows": rows},
        indent=1) + "\n")
    _stderr().print(f"results: {escape(str(out / name))}.md and .json")
    failed = [r for r in rows if r["match"] is False or r["status"] == "error"]
    raise typer.Exit(EXIT_NO_SOLUTION if failed else EXIT_OK)


@app.command()
def generate(
    output: Annotated[Path, typer.Option("-o", "--output", help="Instance file to write.")],
    regions: Annotated[int, typer.Option(min=1, help="Demand regions.")] = 20,
    sites: Annotated[int, typer.Option(min=1, help="Sites (2/3 western).")] = 10,
    periods: Annotated[int, typer.Option(min=1, help="Periods of the day.")] = 24,
    classes: Annotated[int, typer.Option(min=1, max=4, help="Workload classes (1-4).")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same instance).")] = 20240601,
) -> None:
    """Write a realistic generated instance of any size (deterministic for a seed)."""
    import yaml

    from optimizer.generate import generate as make
    from optimizer.report.files import write_atomic

    data = make(regions, sites, periods, classes, seed)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    header = (f"# yaml-language-server: $schema={_schema_hint(output)}\n"
              f"# eastwest generate --regions {regions} --sites {sites} --periods {periods} "
              f"--classes {classes} --seed {seed}\n")
    write_atomic(output, header + yaml.dump(data, Dumper=dumper, sort_keys=False,
                                            default_flow_style=None, width=100))
    _stderr().print(f"wrote {escape(str(output))}")


@app.command()
def schema() -> None:
    """Print the JSON Schema of instance files."""
    from optimizer.schema import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Show the version.")] = False,
) -> None:
    if version:
        typer.echo(f"eastwest {__version__}")
        raise typer.Exit(EXIT_OK)


def _check_solver(backend: str, solver: str, time_limit: float | None) -> None:
    """Exit 2 with a clear message for an unknown backend or solver, or a bad time limit."""
    if backend not in SOLVER_CHOICES:
        _usage(f"--backend must be one of {', '.join(SOLVER_CHOICES)}, not {backend!r}")
    if solver not in SOLVER_CHOICES[backend]:
        _usage(f"--solver {solver!r} is not available with --backend {backend}: "
               f"choose one of {', '.join(SOLVER_CHOICES[backend])}")
    if time_limit is not None and time_limit <= 0:
        _usage("--time-limit must be a positive number of seconds")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        _stderr().print("[yellow]interrupted[/]")
        sys.exit(EXIT_INTERRUPTED)
    except Exception:  # an internal error: say so plainly, exit 1
        logger.exception("internal error")
        _stderr().print("[red]internal error[/]: please report it with the instance file.")
        sys.exit(EXIT_INTERNAL)


from optimizer import cli_study  # noqa: E402,F401  (registers sweep and pareto)

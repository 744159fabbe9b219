"""``eastwest bench``: a benchmark suite (instances x solvers) against published optima."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from optimizer import __version__
from optimizer.backends.base import SolveOptions
from optimizer.cli.common import (
    EXIT_NO_SOLUTION,
    EXIT_OK,
    BenchOutOption,
    CaseJobsOption,
    CaseTimeLimitOption,
    OnlyOption,
    SuiteArg,
    check_jobs,
    check_options,
    check_outputs,
    err_console,
    fail,
    out_console,
    safe_name,
    setup_logging,
    usage,
)
from optimizer.errors import InstanceError
from optimizer.report.outputs import Output

if TYPE_CHECKING:
    from optimizer.bench import Suite


def bench(
    suite_file: SuiteArg,
    only: OnlyOption = None,
    time_limit: CaseTimeLimitOption = None,
    out: BenchOutOption = "reports/bench",
    jobs: CaseJobsOption = 1,
) -> None:
    """Run a benchmark suite: instances x solvers, against published optima where given."""
    from optimizer.bench import case_count, load_suite, order_rows
    from optimizer.report import bench as bench_report
    from optimizer.report.console import to_rich
    from optimizer.report.files import write_atomic

    setup_logging(0)
    check_options(SolveOptions(time_limit=time_limit))
    check_jobs(jobs)
    try:
        suite, base = load_suite(suite_file)
    except InstanceError as exc:
        fail(exc.problems, exc.warnings, str(suite_file))
    name = safe_name(suite.name)
    check_outputs([Output("--out", out, True, (f"{name}.md", f"{name}.json"))],
                  _inputs(suite_file, suite, base))
    total = case_count(suite, only)
    if total == 0:
        usage(f"no case of {suite.name} matches {only!r}")
    overrides = {"time_limit": time_limit} if time_limit else {}
    rows = order_rows(suite, _run(suite, base, only, overrides, jobs, total))
    table = bench_report.table(suite, rows)
    out_console().print(to_rich(table))
    folder = Path(out)
    write_atomic(folder / f"{name}.md", bench_report.markdown(suite, rows, table, jobs))
    write_atomic(folder / f"{name}.json", json.dumps(
        {"suite": suite.name, "eastwest": __version__, "jobs": jobs, "rows": rows},
        indent=1) + "\n")
    err_console().print(f"results: {escape(str(folder / name))}.md and .json")
    failed = [r for r in rows if r["match"] is False or r["status"] == "error"]
    raise typer.Exit(EXIT_NO_SOLUTION if failed else EXIT_OK)


def _inputs(suite_file: Path, suite: Suite, base: Path) -> list[tuple[str, Path]]:
    """The suite file and the files its cases read: no output may replace one of them."""
    files = [("the suite file", suite_file)]
    for case in suite.cases:
        for given in (case.instance, case.file):
            if given is not None:
                files.append((f"a file of case {case.name}", base / given))
    return files


def _run(suite: Suite, base: Path, only: str | None, overrides: dict[str, Any], jobs: int,
         total: int) -> list[dict[str, Any]]:
    """The suite's rows as they finish, with a progress bar on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.progress import TimeElapsedColumn as Elapsed

    from optimizer.bench import run_suite

    rows = []
    # no auto-refresh: solver output is redirected at the file-descriptor level during solves
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  Elapsed(), TextColumn("{task.fields[last]}"), console=err_console(),
                  auto_refresh=False, transient=True) as progress:
        task = progress.add_task(suite.name, total=total, last="")
        progress.refresh()
        for row in run_suite(suite, base, only, overrides, jobs=jobs):
            rows.append(row)
            mark = {True: "ok", False: "MISMATCH", None: row["status"]}[row["match"]]
            progress.update(task, advance=1, last=f"{row['case']} {mark}")
            progress.refresh()
    return rows

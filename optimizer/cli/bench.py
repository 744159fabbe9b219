"""``eastwest bench``: a benchmark suite (instances x solvers) against published optima."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape

from optimizer import __version__, api
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
    failed,
    out_console,
    refused,
    setup_logging,
    usage,
)
from optimizer.errors import InstanceError, UsageError
from optimizer.report.outputs import Output, safe_name


def bench(
    suite_file: SuiteArg,
    only: OnlyOption = None,
    time_limit: CaseTimeLimitOption = None,
    out: BenchOutOption = "reports/bench",
    jobs: CaseJobsOption = 1,
) -> None:
    """Run a benchmark suite: instances x solvers, against published optima where given."""
    from optimizer.report import bench as bench_report
    from optimizer.report.console import to_rich
    from optimizer.report.files import write_atomic

    setup_logging(0)
    check_options(SolveOptions(time_limit=time_limit))
    check_jobs(jobs)
    try:
        prepared = api.prepare_bench(suite_file)
    except InstanceError as exc:
        failed(exc, str(suite_file))
    suite, name = prepared.suite, safe_name(prepared.suite.name)
    check_outputs([Output("--out", out, True, (f"{name}.md", f"{name}.json"))],
                  prepared.inputs)
    total = prepared.count(only)
    if total == 0:
        usage(f"no case of {suite.name} matches {only!r}")
    rows = _run(prepared, only, time_limit, jobs, total)
    table = bench_report.table(suite, rows)
    out_console().print(to_rich(table))
    folder = Path(out)
    write_atomic(folder / f"{name}.md", bench_report.markdown(suite, rows, table, jobs))
    write_atomic(folder / f"{name}.json", json.dumps(
        {"suite": suite.name, "eastwest": __version__, "jobs": jobs, "rows": rows},
        indent=1) + "\n")
    err_console().print(f"results: {escape(str(folder / name))}.md and .json")
    failed_rows = [r for r in rows if r["match"] is False or r["status"] == "error"]
    raise typer.Exit(EXIT_NO_SOLUTION if failed_rows else EXIT_OK)


def _run(prepared: api.PreparedBench, only: str | None, time_limit: float | None, jobs: int,
         total: int) -> list[dict[str, Any]]:
    """The suite's rows (in its order), with a progress bar on stderr as they finish."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
    from rich.progress import TimeElapsedColumn as Elapsed

    # no auto-refresh: solver output is redirected at the file-descriptor level during solves
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  Elapsed(), TextColumn("{task.fields[last]}"), console=err_console(),
                  auto_refresh=False, transient=True) as progress:
        task = progress.add_task(prepared.suite.name, total=total, last="")
        progress.refresh()

        def advance(row: dict[str, Any]) -> None:
            mark = {True: "ok", False: "MISMATCH", None: row["status"]}[row["match"]]
            progress.update(task, advance=1, last=f"{row['case']} {mark}")
            progress.refresh()

        try:
            return api.bench(prepared, only, time_limit=time_limit, jobs=jobs, on_row=advance)
        except UsageError as exc:
            refused(exc)

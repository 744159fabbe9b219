"""Benchmark results as a table (console and Markdown)."""

from __future__ import annotations

import platform
from datetime import UTC, datetime
from typing import Any

from optimizer import __version__
from optimizer.bench import Suite
from optimizer.report.markdown import table_md
from optimizer.report.tables import Table


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def table(suite: Suite, rows: list[dict[str, Any]]) -> Table:
    out = []
    for r in rows:
        match = {True: "yes", False: "NO", None: "-"}[r["match"]]
        out.append([r["case"], r["solver"], r["status"], _num(r["objective"], ",.3f"),
                    _num(r["optimum"], ",.3f"), _num(r["rel_error"], ".1e"), match,
                    _num(r["gap"], ".1e"), _num(r["build_s"], ".2f"), _num(r["solve_s"], ".2f"),
                    f"{r['variables']:,}" if r["variables"] else "-",
                    f"{r['integer_variables']:,}" if r["integer_variables"] is not None
                    else "-"])
    matched = sum(1 for r in rows if r["match"])
    with_opt = sum(1 for r in rows if r["optimum"] is not None)
    solve = sum(r["solve_s"] or 0.0 for r in rows)
    return Table(f"{suite.name}: {matched}/{with_opt} published optima reproduced",
                 ["case", "solver", "status", "objective", "published", "rel. error", "match",
                  "gap", "build s", "solve s", "variables", "integers"], out,
                 numeric={3, 4, 5, 7, 8, 9, 10, 11},
                 caption=f"total solve time {solve:,.1f} s; match: proven optimal and within "
                         f"max({suite.rel_tol:g} relative, {suite.abs_tol:g} absolute)")


def markdown(suite: Suite, rows: list[dict[str, Any]], tab: Table, jobs: int = 1) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    at_once = f"; {jobs} cases at a time (`--jobs {jobs}`)" if jobs > 1 else ""
    head = [f"# Benchmark: {suite.name}", "",
            suite.description or "", "",
            f"eastwest {__version__}, {when}, Python {platform.python_version()} on "
            f"{platform.machine()}; time limit {suite.time_limit or 'none'} s per case"
            f"{at_once}.", ""]
    failures = [r for r in rows if r["message"] and r["status"] != "optimal"]
    tail = (["## Messages", "", *(f"- {r['case']} ({r['solver']}): {r['message']}"
                                  for r in failures), ""] if failures else [])
    return "\n".join(head) + "\n" + table_md(tab) + "\n" + "\n".join(tail)

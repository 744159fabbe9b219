"""``--html PATH`` on ``solve``, ``sweep`` and ``pareto``: the interactive, offline HTML report
(:mod:`optimizer.report.html`). The ``html`` extra (plotly) is looked for before any work and
imported only when the page is written: the CLI's start-up does not pay for it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.markup import escape

from optimizer.cli.common import check_writable, err_console, flag_words, usage
from optimizer.load import Document

HTML_HINT = "pip install 'eastwest[html]'"

HtmlOption = Annotated[Path | None, typer.Option(
    "--html", help="Write an interactive, self-contained HTML report to PATH (opens offline: "
                   "map, charts, tables; needs eastwest\\[html]).")]


def check_html(path: Path | None) -> None:
    """Exit 2 before any work when ``--html`` is given without the extra, or its folder cannot
    be written."""
    if path is None:
        return
    if importlib.util.find_spec("plotly") is None:
        usage(f"--html needs plotly, which is not installed ({HTML_HINT})")
    if path.is_dir():
        usage(f"--html {path}: is a folder; give the path of the .html file to write")
    check_writable(path.parent)


def write_solution_html(path: Path | None, result: Any, document: Document) -> None:
    """The page of one solve, its map at the instance's region and site locations."""
    if path is None:
        return
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

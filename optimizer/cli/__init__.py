"""The ``eastwest`` command line (DESIGN.md §4): the Typer app, its commands and ``main``.

stdout carries results only (the report, or the JSON with ``--json -``); progress, logs and
warnings go to stderr. Exit codes: 0 solved; 1 internal error; 2 bad usage or invalid instance;
3 no acceptable solution; 4 solution not proven optimal (unless ``--accept-feasible``);
130 interrupted.

Each command group is a module (:mod:`~optimizer.cli.solve`, :mod:`~optimizer.cli.instances`,
:mod:`~optimizer.cli.bench`, :mod:`~optimizer.cli.studies`) that imports what they share from
:mod:`~optimizer.cli.common` and never another command module; the commands are registered here,
in the order ``--help`` lists them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from optimizer import __version__
from optimizer.cli import bench, instances, solve, studies
from optimizer.cli.common import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_OK, err_console, logger

app = typer.Typer(
    name="eastwest",
    help="Place compute in a national computing network (Eastern Data, Western Computing).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

app.command()(solve.solve)
app.command()(instances.validate)
app.command("import")(instances.import_)
app.command()(bench.bench)
app.command()(instances.generate)
app.command()(instances.schema)
app.command()(studies.sweep)
app.command()(studies.pareto)


@app.callback(invoke_without_command=True)
def _main(
    version: Annotated[bool, typer.Option("--version", help="Show the version.")] = False,
) -> None:
    if version:
        typer.echo(f"eastwest {__version__}")
        raise typer.Exit(EXIT_OK)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console().print("[yellow]interrupted[/]")
        sys.exit(EXIT_INTERRUPTED)
    except Exception:  # an internal error: say so plainly, exit 1
        logger.exception("internal error")
        err_console().print("[red]internal error[/]: please report it with the instance file.")
        sys.exit(EXIT_INTERNAL)

"""Instance files: ``eastwest validate``, ``import``, ``generate`` and ``schema``."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from optimizer.cli.common import (
    OutputOption,
    ScenarioOption,
    SetOption,
    cannot_write,
    check_outputs,
    err_console,
    fail,
    load_document,
    out_console,
    report_problems,
    usage,
)
from optimizer.errors import InstanceError
from optimizer.report.outputs import Output


def validate(
    instance: Annotated[Path, typer.Argument(help="Instance file (YAML).")],
    set_: SetOption = None,
    scenario: ScenarioOption = None,
) -> None:
    """Check an instance and list every problem at once (exit 2 if there is one)."""
    document = load_document(instance, set_, scenario)
    warnings = list(document.warnings)
    inst = document.instance
    cases = ""
    if inst.planning is not None:  # every case's data, validated and compiled (DESIGN.md §7)
        from optimizer.cases import build_plan

        try:
            plan = build_plan(document)
        except InstanceError as exc:
            fail(exc.problems, exc.warnings, document.file)
        warnings = [*warnings, *(p for p in plan.warnings if p not in warnings)]
        if plan.unsurvivable:
            fail([replace(p, file=document.file, line=document.line(p.path))
                  for p in plan.unsurvivable], warnings, document.file)
        cases = f", {len(plan.cases)} operating cases"
    report_problems([], warnings, document.file)
    out_console().print(
        f"{document.file}: valid ({len(inst.regions)} regions, {len(inst.sites)} sites, "
        f"{len(inst.classes)} classes{cases}"
        + (f", {len(warnings)} warnings" if warnings else "") + ")"
    )


def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="orlib-cap or holmberg.")],
    file: Annotated[Path, typer.Argument(help="The benchmark file.")],
    output: OutputOption,
    capacity: Annotated[float | None, typer.Option(
        help="Capacity of every facility (needed for OR-Library capa/capb/capc).")] = None,
) -> None:
    """Turn a public facility-location benchmark file into a v1 instance."""
    from optimizer.importers import FORMATS, import_file

    if fmt not in FORMATS:
        usage(f"FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    check_outputs([Output("-o", output)], [("the benchmark file", file)])
    try:
        data = import_file(fmt, file, capacity, Path(output).stem)
    except InstanceError as exc:
        fail(exc.problems, exc.warnings, str(file))
    _write_instance(output, data, f"imported by `eastwest import {fmt} {file}"
                    + (f" --capacity {capacity:g}" if capacity is not None else "") + "`")
    err_console().print(f"wrote {escape(str(output))}: {len(data['regions'])} customers, "
                        f"{len(data['sites'])} facilities")


def generate(
    output: OutputOption,
    regions: Annotated[int, typer.Option(min=1, help="Demand regions.")] = 20,
    sites: Annotated[int, typer.Option(min=1, help="Sites (2/3 western).")] = 10,
    periods: Annotated[int, typer.Option(min=1, help="Periods of the day.")] = 24,
    classes: Annotated[int, typer.Option(min=1, max=4, help="Workload classes (1-4).")] = 3,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same instance).")] = 20240601,
    candidates: Annotated[int, typer.Option(
        min=0, metavar="N",
        help="A planning MIP: N of the sites (at most --sites) become candidate sites, each "
             "with an opening cost and one expansion option (integer halls): 2N integer "
             "decisions. 0: an LP. The benchmarks' medium MIP is 100 x 30 x 24 x 4 with "
             "--candidates 20 (40 integers), the large one 300 x 60 x 24 x 4 with 20.")] = 0,
) -> None:
    """Write a realistic generated instance of any size (deterministic for a seed)."""
    from optimizer.generate import CANDIDATE_NOTE
    from optimizer.generate import generate as make

    if candidates > sites:
        usage(f"--candidates ({candidates}) must be at most --sites ({sites})")
    check_outputs([Output("-o", output)], [])
    data = make(regions, sites, periods, classes, seed, candidates=candidates)
    origin = (f"eastwest generate --regions {regions} --sites {sites} --periods {periods} "
              f"--classes {classes} --seed {seed}"
              + (f" --candidates {candidates}" if candidates else ""))
    _write_instance(output, data, origin, [CANDIDATE_NOTE] if candidates else [])
    err_console().print(f"wrote {escape(str(output))}")


def schema() -> None:
    """Print the JSON Schema of instance files."""
    from optimizer.schema import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


def _write_instance(output: str, data: dict[str, Any], origin: str,
                    notes: Sequence[str] = ()) -> None:
    """``data`` as YAML that reads back as ``data`` (``yamlio.dump_yaml``), after a line
    pointing editors at the JSON Schema, one saying where it came from and ``notes`` (comments,
    wrapped)."""
    from optimizer.report.files import write_atomic
    from optimizer.yamlio import dump_yaml

    header = f"# yaml-language-server: $schema={_schema_hint(Path(output))}\n# {origin}\n"
    header += "".join(f"# {line}\n" for note in notes for line in textwrap.wrap(note, 96))
    try:
        write_atomic(output, header + dump_yaml(data))
    except OSError as exc:
        cannot_write(exc)


def _schema_hint(output: Path) -> str:
    schema = Path(__file__).parent.parent / "data" / "instance.schema.json"
    try:
        return os.path.relpath(schema, output.absolute().parent)
    except ValueError:
        return str(schema)

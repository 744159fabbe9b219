"""The instance a study runs on: read once, validated with the base overrides, and the
study's paths checked against it before any point is solved."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from optimizer.errors import InstanceError, Problem
from optimizer.load import default_instance_text, parse_text
from optimizer.overrides import apply, apply_all, parse_override
from optimizer.records.inputs import Base, Parameter
from optimizer.yamlio import line_of, read_text, read_yaml


def prepare_base(path: str | Path | None, scenarios: Sequence[str] = (),
                 overrides: Sequence[str] = ()) -> Base:
    """Read the instance (the national one when ``path`` is None) and validate it with the
    base overrides applied. Raises InstanceError."""
    if path is None:
        file, text = default_instance_text()
    else:
        file = str(path)
        text = read_text(path, file)  # bounded (64 MiB, devices too), errors as problems
    document = parse_text(text, file, overrides, scenarios)
    return Base(file, text, document.sha256, document.overrides, document)


def parameter_problems(base: Base, parameters: Sequence[Parameter], file: str,
                       lines: dict[Any, int] | None = None,
                       where: Sequence[str] | None = None) -> list[Problem]:
    """Paths that do not resolve in the instance (or cannot be multiplied), found before any
    point is solved. ``where`` names each parameter (e.g. its ``--vary`` text) instead of its
    place in a study file."""
    lines = lines or {}
    data = apply_all(read_yaml(base.text, base.file)[0], base.overrides)
    problems = []
    for i, param in enumerate(parameters):
        level = param.levels()[0]
        for j, text in enumerate(param.overrides(level)):
            try:
                apply(data, parse_override(text))
            except InstanceError as exc:
                message = exc.problems[0].message if exc.problems else "cannot apply"
                if where is not None:
                    problems.append(Problem(message, (where[i],), file))
                    continue
                loc: tuple[str | int, ...] = (("parameters", i, "path") if param.path
                                              else ("parameters", i, "paths", j))
                problems.append(Problem(f"{message} (in {base.file})", loc, file,
                                        line_of(lines, loc)))
    return problems

"""Study files and ``--vary`` options, read and checked; the points of a study.

The schema itself (:class:`~optimizer.records.inputs.Study`,
:class:`~optimizer.records.inputs.Parameter`) is a record the report reads too.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from optimizer.errors import InstanceError, Problem
from optimizer.overrides import parse_override
from optimizer.records.inputs import Parameter, Point, Study
from optimizer.yamlio import line_of, read_yaml, read_yaml_file


def _problems_from(exc: ValidationError, file: str, lines: dict[Any, int]) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(Problem(message, loc, file, line_of(lines, loc)))
    return problems


def load_study(path: str | Path) -> tuple[Study, Path, dict[Any, int]]:
    """Read and validate a study file: (study, its folder, line map). Raises InstanceError."""
    path = Path(path)
    data, lines = read_yaml_file(path, "study")
    if isinstance(data, dict) and "regions" in data and "sites" in data:
        raise InstanceError([Problem(
            "this is an instance file, not a study: vary it with "
            "`eastwest sweep INSTANCE --vary PATH=LO:HI:N`", (), str(path), 1)])
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        raise InstanceError(_problems_from(exc, str(path), lines)) from None
    problems = study_problems(study, str(path), lines)
    if problems:
        raise InstanceError(problems)
    return study, path.parent, lines


def study_problems(study: Study, file: str, lines: dict[Any, int] | None = None) -> list[Problem]:
    """What pydantic cannot see: override syntax, unique labels, zip lengths."""
    lines = lines or {}
    problems = []
    seen: dict[str, int] = {}
    for i, param in enumerate(study.parameters):
        where: tuple[str | int, ...] = ("parameters", i)
        key = "path" if param.path is not None else "paths"
        for j, target in enumerate(param.targets):
            loc = (*where, key) if key == "path" else (*where, key, j)
            try:
                parse_override(f"{target}{'*=' if param.multiplies else '='}1")
            except InstanceError as exc:
                message = exc.problems[0].message if exc.problems else "bad path"
                problems.append(Problem(message, loc, file, line_of(lines, loc), value=target))
        if param.name in seen:
            loc = (*where, "label")
            problems.append(Problem(f"the label {param.name!r} is used by parameters"
                                    f"[{seen[param.name]}] too: give each a unique 'label'",
                                    loc, file, line_of(lines, loc)))
        seen.setdefault(param.name, i)
        if param.values is not None:
            for j, value in enumerate(param.values):
                if isinstance(value, float) and not math.isfinite(value):
                    loc = (*where, "values", j)
                    problems.append(Problem("values must be finite", loc, file,
                                            line_of(lines, loc), value=value))
    if study.mode == "zip":
        sizes = [len(p.levels()) for p in study.parameters]
        for i, size in enumerate(sizes):
            if size != sizes[0]:
                loc = ("parameters", i)
                problems.append(Problem(
                    f"mode zip needs the same number of levels in every parameter: "
                    f"{size} here, {sizes[0]} in parameters[0]", loc, file, line_of(lines, loc)))
    return problems


_RANGE = re.compile(r"^\s*([^:,]+):([^:,]+):\s*(\d+)\s*$")


def parse_vary(text: str) -> Parameter:
    """``--vary PATH=a:b:n``, ``PATH=v1,v2,...``, ``PATH*=a:b:n`` or ``PATH*=f1,f2,...``;
    PATH may be several paths separated by commas (``P1,P2*=0.7:1.3:5``): they move together.
    Raises InstanceError."""
    m = re.match(r"^(?P<paths>[^=]+?)(?P<op>\*=|=)(?P<levels>.*)$", text.strip())
    if not m or not m.group("levels").strip():
        raise InstanceError([Problem("expected PATH=LO:HI:N, PATH=V1,V2,... or PATH*=LO:HI:N",
                                     (text,), "--vary")])
    paths = [p.strip() for p in _split_paths(m.group("paths")) if p.strip()]
    multiply = m.group("op") == "*="
    levels_text = m.group("levels").strip()
    spec: dict[str, Any] = {"paths": paths} if len(paths) > 1 else {"path": paths[0]}
    rng = _RANGE.match(levels_text)
    if (levels_text.count(":") == 2 and "," not in levels_text
            and not (rng and _is_number(rng.group(1)) and _is_number(rng.group(2)))):
        raise InstanceError([Problem("LO:HI:N needs numbers LO and HI and a whole number N",
                                     (text,), "--vary")])
    try:
        if rng and _is_number(rng.group(1)) and _is_number(rng.group(2)):
            triple = (float(rng.group(1)), float(rng.group(2)), int(rng.group(3)))
            spec["factor_range" if multiply else "range"] = triple
        else:
            values = [read_yaml(v.strip() or "null", "--vary")[0]
                      for v in levels_text.split(",")]
            spec["factors" if multiply else "values"] = values
        param = Parameter.model_validate(spec)
    except (ValidationError, InstanceError) as exc:
        message = (exc.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
                   if isinstance(exc, ValidationError)
                   else "; ".join(p.message for p in exc.problems))
        raise InstanceError([Problem(f"cannot read the levels: {message}", (text,),
                                     "--vary")]) from None
    problems = study_problems(Study(name="vary", parameters=[param]), "--vary")
    if problems:
        raise InstanceError([dataclasses.replace(p, path=(text,)) for p in problems])
    return param


def _split_paths(text: str) -> list[str]:
    """Split on commas outside brackets."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "["
        depth -= ch == "]"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def expand(study: Study) -> list[Point]:
    """The points of a study: the cartesian product of the levels (the first parameter varies
    slowest) in mode ``grid``; the levels in step in mode ``zip``."""
    per_param = [p.levels() for p in study.parameters]
    combos: Iterator[tuple[Any, ...]] = (itertools.product(*per_param) if study.mode == "grid"
                                         else zip(*per_param, strict=True))
    points = []
    for i, combo in enumerate(combos):
        overrides = [o for p, level in zip(study.parameters, combo, strict=True)
                     for o in p.overrides(level)]
        points.append(Point(i, tuple(combo), tuple(overrides)))
    return points


def point_label(study: Study, point: Point) -> str:
    """``name=level, ...``: how progress and failure lines name a point."""
    return ", ".join(f"{p.name}={p.level_text(v)}"
                     for p, v in zip(study.parameters, point.levels, strict=True))

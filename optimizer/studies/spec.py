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

from optimizer.backends.options import solver_problem
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


MAX_POINTS = 10_000
"""The most points a study may have unless raised (``--max-points``): counted from the spec
before any level is built (a range of 10**8 levels took 2 GB before anything was solved)."""


def load_study(path: str | Path, max_points: int | None = MAX_POINTS
               ) -> tuple[Study, Path, dict[Any, int]]:
    """Read and validate a study file: (study, its folder, line map). Raises InstanceError with
    every problem, a study of more than ``max_points`` points among them (None: no cap)."""
    path = Path(path)
    data, lines = read_yaml_file(path, "study")
    if isinstance(data, dict) and "regions" in data and "sites" in data:
        raise InstanceError([Problem(
            "this is an instance file, not a study: vary it with "
            "`eastwest sweep INSTANCE --vary PATH=LO:HI:N`", (), str(path), 1)])
    try:
        study = Study.model_validate(data)
    except ValidationError as exc:
        shape = _problems_from(exc, str(path), lines)
        rest = _despite(exc, data)  # the study without its bad top-level fields, if any
        more = [] if rest is None else study_problems(rest, str(path), lines, max_points)
        raise InstanceError([*shape, *more]) from None
    problems = study_problems(study, str(path), lines, max_points)
    if problems:
        raise InstanceError(problems)
    return study, path.parent, lines


def _despite(exc: ValidationError, data: Any) -> Study | None:
    """The study without the top-level fields pydantic refused (``time_limit``, ``gap``,
    ``solver``, ...), so that the other problems are found too; None when ``parameters`` or the
    document itself is what is wrong."""
    bad = {err["loc"][0] if err["loc"] else None for err in exc.errors()}
    if not isinstance(data, dict) or bad & {None, "parameters"}:
        return None
    kept = {k: v for k, v in data.items() if k not in bad}
    if "name" in bad:
        kept["name"] = "study"  # its problem is reported; a placeholder to go on
    try:
        return Study.model_validate(kept)
    except ValidationError:
        return None


def point_count(study: Study) -> int:
    """The number of points, from the spec alone (nothing is expanded)."""
    sizes = [p.size for p in study.parameters]
    return math.prod(sizes) if study.mode == "grid" else max(sizes)


def _levels_field(param: Parameter) -> str:
    return next(k for k in ("values", "factors", "range", "factor_range")
                if getattr(param, k) is not None)


def points_problem(study: Study, file: str, lines: dict[Any, int] | None = None,
                   max_points: int | None = MAX_POINTS,
                   where: list[str] | None = None) -> Problem | None:
    """A study with more than ``max_points`` points, named at the parameter that alone has too
    many levels (else at ``parameters``), with the count; None when within the cap. ``where``
    names each parameter (its ``--vary`` text) instead of its place in a file."""
    count = point_count(study)
    if max_points is None or count <= max_points:
        return None
    sizes = [p.size for p in study.parameters]
    how = (" x ".join(f"{n:,}" for n in sizes) + " levels" if study.mode == "grid"
           and len(sizes) > 1 else f"{count:,} levels")
    message = (f"this study has {count:,} points ({how}), more than the limit of "
               f"{max_points:,}: use fewer levels, or raise the limit with --max-points N")
    alone = next((i for i, n in enumerate(sizes) if n > max_points), None)
    loc: tuple[str | int, ...] = ("parameters",)
    if where is not None:
        loc = (where[alone] if alone is not None else ", ".join(where),)
    elif alone is not None:
        loc = ("parameters", alone, _levels_field(study.parameters[alone]))
    return Problem(message, loc, file, line_of(lines or {}, loc) if where is None else None)


def _json_problems(value: Any, loc: tuple[str | int, ...]) -> Iterator[tuple[Any, str, Any]]:
    """(where, message, value) for what JSON cannot hold in a level, at any depth: a number
    that is not finite, a mapping key that is not a string."""
    if isinstance(value, float) and not math.isfinite(value):
        yield loc, "values must be finite", value
    elif isinstance(value, list):
        for j, item in enumerate(value):
            yield from _json_problems(item, (*loc, j))
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                yield loc, "a key in a value must be a string (quote it)", key
            else:
                yield from _json_problems(item, (*loc, key))


def study_problems(study: Study, file: str, lines: dict[Any, int] | None = None,
                   max_points: int | None = None) -> list[Problem]:
    """What pydantic cannot see: override syntax, unique labels, zip lengths, levels JSON
    cannot hold, an unknown solver, and more than ``max_points`` points (None: no cap)."""
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
        for loc, message, value in _json_problems(param.values or [], (*where, "values")):
            problems.append(Problem(message, loc, file, line_of(lines, loc), value=value))
    unknown = solver_problem(study.backend or "ortools", study.solver or "auto")
    if unknown is not None:  # the backend is one of the choices (pydantic): the solver is not
        problems.append(Problem(f"{study.solver!r} {unknown[1]}", ("solver",), file,
                                line_of(lines, ("solver",))))
    if study.mode == "zip":
        sizes = [p.size for p in study.parameters]
        for i, size in enumerate(sizes):
            if size != sizes[0]:
                loc = ("parameters", i)
                problems.append(Problem(
                    f"mode zip needs the same number of levels in every parameter: "
                    f"{size} here, {sizes[0]} in parameters[0]", loc, file, line_of(lines, loc)))
    too_many = points_problem(study, file, lines, max_points)
    return problems if too_many is None else [*problems, too_many]


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

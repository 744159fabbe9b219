"""A sweep or a Pareto front read and checked before any point is solved: the study (a study
file, or ``--vary`` options on an instance), its base instance and its solve options, every
problem at once. Each :class:`~optimizer.errors.InstanceError` names the input it is about
(``source``: the study file, the instance, ``--vary``), as the CLI's closing line does.

:mod:`optimizer.api` runs what is prepared here (:func:`~optimizer.studies.sweep.run_sweep`,
:func:`~optimizer.studies.pareto.run_pareto`); the CLI checks its outputs in between.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from optimizer.backends.base import SolveOptions
from optimizer.backends.options import option_problems
from optimizer.errors import InstanceError, UsageError, naming
from optimizer.records.inputs import Base, Study
from optimizer.records.results import Second
from optimizer.report.outputs import safe_name
from optimizer.studies.base import parameter_problems, prepare_base
from optimizer.studies.pareto import SECOND_OBJECTIVES, check_second
from optimizer.studies.spec import (
    MAX_POINTS,
    load_study,
    parse_vary,
    point_count,
    points_problem,
    study_problems,
)

Mode = Literal["grid", "zip"]
Inputs = tuple[tuple[str, str | Path], ...]
"""(what it is, path) of each file a study reads: no output may replace one."""


@dataclass(frozen=True)
class PreparedSweep:
    """A sweep read and checked, nothing solved yet."""

    study: Study
    base: Base
    options: SolveOptions
    """Each point's solve options: those given, else the study file's, else the defaults."""
    inputs: Inputs

    @property
    def name(self) -> str:
        return self.study.name

    @property
    def points(self) -> int:
        return point_count(self.study)


@dataclass(frozen=True)
class PreparedPareto:
    """A Pareto front's instance and second objective read and checked, nothing solved yet."""

    base: Base
    second: Second
    options: SolveOptions
    name: str

    @property
    def inputs(self) -> Inputs:
        return (("the instance file", self.base.file),)


def study_options(backend: str | None = None, solver: str | None = None,
                  time_limit: float | None = None, gap: float | None = None,
                  defaults: Study | None = None) -> SolveOptions:
    """The options given, else the study's (``defaults``), else ortools / auto; UsageError
    listing every one out of its range or unknown (``notices``)."""
    backend = backend or (defaults.backend if defaults else None) or "ortools"
    solver = solver or (defaults.solver if defaults else None) or "auto"
    if time_limit is None and defaults is not None:
        time_limit = defaults.time_limit
    if gap is None and defaults is not None:
        gap = defaults.gap
    options = SolveOptions(backend=backend, solver=solver, time_limit=time_limit, gap=gap)
    refused = option_problems(options)
    if refused:
        raise UsageError("; ".join(n.words() for n in refused), notices=refused)
    return options


def base_instance(instance: str | Path | None, scenarios: Sequence[str] = (),
                  overrides: Sequence[str] = ()) -> Base:
    """The instance a study runs on (the national one for None); InstanceError naming it."""
    with naming(str(instance or "the national instance")):
        return prepare_base(instance, scenarios, overrides)


def prepare_sweep(study: str | Path | None = None, vary: Sequence[str] = (), *,
                  instance: str | Path | None = None, overrides: Sequence[str] = (),
                  scenarios: Sequence[str] = (), mode: Mode = "grid", name: str | None = None,
                  max_points: int | None = MAX_POINTS, backend: str | None = None,
                  solver: str | None = None, time_limit: float | None = None,
                  gap: float | None = None) -> PreparedSweep:
    """A study file, or ``vary`` (``PATH=LO:HI:N`` as ``--vary``) on ``instance``, with the
    base ``overrides`` and ``scenarios`` (after a study file's own), at most ``max_points``
    points (None: no cap). Raises InstanceError (every problem, ``source`` naming the input)
    or UsageError."""
    if vary:
        if study is not None:
            raise UsageError("give a study file or vary, not both")
        spec, base = _short_form(instance, list(vary), mode, name, overrides, scenarios,
                                 max_points)
        inputs: Inputs = (("the instance file", base.file),)
    elif study is None:
        raise UsageError("give a study file or vary=['PATH=LO:HI:N', ...]")
    else:
        spec, base = _study_form(study, overrides, scenarios, max_points)
        inputs = (("the instance file", base.file), ("the study file", study))
    return PreparedSweep(spec, base, study_options(backend, solver, time_limit, gap, spec),
                         inputs)


def _study_form(path: str | Path, overrides: Sequence[str], scenarios: Sequence[str],
                max_points: int | None) -> tuple[Study, Base]:
    with naming(str(path)):
        study, folder, lines = load_study(path, max_points)
    instance = (Path(os.path.normpath(folder / study.instance)) if study.instance is not None
                else None)
    base = base_instance(instance, [*study.scenarios, *scenarios], [*study.set_, *overrides])
    problems = parameter_problems(base, study.parameters, str(path), lines)
    if problems:
        raise InstanceError(problems, source=str(path))
    return study, base


def _short_form(instance: str | Path | None, vary: list[str], mode: Mode, name: str | None,
                overrides: Sequence[str], scenarios: Sequence[str],
                max_points: int | None) -> tuple[Study, Base]:
    params, problems = [], []
    for text in vary:
        try:
            params.append(parse_vary(text))
        except InstanceError as exc:
            problems += exc.problems
    if problems:
        raise InstanceError(problems, source="--vary")
    base = base_instance(instance, scenarios, overrides)
    slugs = (p.targets[0].replace("[", "-").replace("]", "") for p in params)
    study_name = safe_name(name or f"{base.name}-{'-'.join(slugs)}")[:100]
    try:
        study = Study(name=study_name, mode=mode, parameters=params)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    problems = study_problems(study, "--vary")
    too_many = points_problem(study, "--vary", max_points=max_points, where=vary)
    if too_many is not None:  # the paths are checked on a level: not before the count is
        raise InstanceError([*problems, too_many], source="--vary")
    problems += parameter_problems(base, study.parameters, "--vary", where=vary)
    if problems:
        raise InstanceError(problems, source="--vary")
    return study, base


def prepare_pareto(instance: str | Path | None = None, second: Second = "carbon", *,
                   overrides: Sequence[str] = (), scenarios: Sequence[str] = (),
                   name: str | None = None, backend: str | None = None,
                   solver: str | None = None, time_limit: float | None = None,
                   gap: float | None = None) -> PreparedPareto:
    """The front's instance with ``overrides`` and ``scenarios``, its second objective (water
    needs a version-2 instance) and options; the name defaults to
    ``<instance>-pareto-<second>``. Raises InstanceError or UsageError."""
    if second not in SECOND_OBJECTIVES:
        raise UsageError(f"the second objective is {', '.join(SECOND_OBJECTIVES[:-1])} or "
                         f"{SECOND_OBJECTIVES[-1]}, not {second!r}")
    options = study_options(backend, solver, time_limit, gap)
    base = base_instance(instance, scenarios, overrides)
    with naming(base.file):
        check_second(base, second)
    return PreparedPareto(base, second, options,
                          safe_name(name or f"{base.name}-pareto-{second}"))

"""The semantic checks of the ``planning`` block (DESIGN.md §7), run with the rest of
:mod:`optimizer.validate`: what one file can show without building any case.

Years strictly increasing with unique ids, scenario probabilities summing to 1, known sites and
classes in the contingencies, and every ``set`` entry an override whose path starts at a data
field. What needs the cases' data (an override that changes the structure, a contingency that a
capacity count proves cannot be survived) is checked by :mod:`optimizer.cases`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from optimizer.errors import InstanceError, Path, Problem
from optimizer.overrides import parse_override
from optimizer.schema import Instance
from optimizer.yamlio import LineMap, line_of

SET_ROOTS = ("regions", "sites", "classes", "network", "policy", "profiles")
"""Where the paths of a year's or scenario's ``set`` may start (DESIGN.md §7)."""
PROBABILITY_TOL = 1e-9


def planning_problems(instance: Instance, file: str, lines: LineMap) -> list[Problem]:
    """Every problem of the ``planning`` block (none where there is none)."""
    plan = instance.planning
    if plan is None:
        return []
    out: list[Problem] = []

    def error(path: Path, message: str, value: object = None) -> None:
        full = ("planning", *path)
        kwargs = {} if value is None else {"value": value}
        out.append(Problem(message, full, file, line_of(lines, full), **kwargs))  # type: ignore[arg-type]

    if instance.version != 2:
        out.append(Problem("'planning' needs version: 2", ("planning",), file,
                           line_of(lines, ("planning",))))
    _unique(error, ("years",), [y.id for y in plan.years], "year")
    for i in range(1, len(plan.years)):
        if plan.years[i].year <= plan.years[i - 1].year:
            error(("years", i, "year"), "years must be strictly increasing (the year before is "
                  f"{plan.years[i - 1].year})", plan.years[i].year)
    _unique(error, ("scenarios",), [w.id for w in plan.scenarios], "scenario")
    total = math.fsum(w.probability for w in plan.scenarios)
    if abs(total - 1.0) > PROBABILITY_TOL:
        error(("scenarios",), f"the scenarios' probabilities sum to {total:.12g}, not 1")
    sets = [("years", i, y.set) for i, y in enumerate(plan.years)]
    sets += [("scenarios", i, w.set) for i, w in enumerate(plan.scenarios)]
    for kind, i, texts in sets:
        for j, text in enumerate(texts):
            why = set_problem(text)
            if why:
                error((kind, i, "set", j), why, text)
    cont = plan.contingencies
    if cont is not None:
        site_ids = [s.id for s in instance.sites]
        class_ids = [k.id for k in instance.classes]
        if cont.lose != "each":
            _unique(error, ("contingencies", "lose"), list(cont.lose), "site", key=None)
            for j, sid in enumerate(cont.lose):
                if sid not in site_ids:
                    error(("contingencies", "lose", j), "unknown site id", sid)
        for j, kid in enumerate(cont.protect):
            if kid not in class_ids:
                error(("contingencies", "protect", j), "unknown class id", kid)
        clash = {w.id for w in plan.scenarios} & set(contingency_labels(instance))
        for label in sorted(clash):
            error(("scenarios",), f"scenario id {label!r} is also a contingency's label")
    return out


def contingency_labels(instance: Instance) -> list[str]:
    """``lose:SITE`` per contingency, in the file's order (every site for ``each``)."""
    plan = instance.planning
    if plan is None or plan.contingencies is None:
        return []
    lose = plan.contingencies.lose
    sites = [s.id for s in instance.sites] if lose == "each" else list(lose)
    return [f"lose:{s}" for s in sites]


def set_problem(text: str) -> str | None:
    """Why ``text`` is not a valid entry of a ``set`` list, or None."""
    try:
        override = parse_override(text)
    except InstanceError as exc:
        return "; ".join(p.message for p in exc.problems)
    root = override.path[0][0]
    if root not in SET_ROOTS:
        return (f"a year's or scenario's override may change the data under "
                f"{', '.join(SET_ROOTS)}; not {root!r}")
    return None


def _unique(error: object, base: Path, ids: Sequence[str], what: str,
            key: str | None = "id") -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            path = (*base, i) if key is None else (*base, i, key)
            error(path, f"duplicate {what} id", x)  # type: ignore[operator]
        seen.add(x)

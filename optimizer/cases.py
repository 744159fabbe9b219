"""Stage 2 for version 2: a validated Document -> its operating cases (DESIGN.md §7).

A case ``(y, w)`` pairs a planning year with an operating scenario or an N-1 contingency. Its
data are the base instance with the year's ``set`` and then the scenario's applied (a
contingency uses the first scenario's data); each is validated like a file and compiled to
:class:`~optimizer.compile.Arrays`, so that every family of the version-1 model is reused per
case unchanged. Build data (candidate status, ``open_cost``, ``annual_cost``, ``max_units``)
are the year's, written into every case of that year.

A contingency that loses site ``s`` removes every arc to ``s`` (its load is 0), makes the
protected classes hard in that case (no unmet variable) and marks ``s`` lost (``Arrays.lost``:
the utilisation floor is not applied there). Where a capacity count proves a contingency cannot
be survived, :attr:`Plan.unsurvivable` says so, before anything is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from optimizer.compile import Arrays, compile_instance
from optimizer.errors import InstanceError, Path, Problem
from optimizer.load import Document, parse
from optimizer.overrides import apply, parse_override, set_by
from optimizer.plan_check import contingency_labels
from optimizer.schema import Instance, Planning
from optimizer.series import period_table

__all__ = ["Case", "Plan", "YearInfo", "build_plan", "lose"]


@dataclass(frozen=True)
class YearInfo:
    id: str
    year: int
    span: int
    discount: float  # D[y] = span / (1 + rate)^(year - first year)


@dataclass(frozen=True)
class Case:
    """One operating case: the version-1 model on its data, with the build of its year."""

    year: int  # index into Plan.years
    scenario: str  # the scenario's id, or ``lose:SITE`` for a contingency
    probability: float  # the scenario's probability, or the contingencies' probability
    weight: float  # the factor of the case's annual operating cost in the objective
    factor: float  # the factor of its annual totals in the horizon's expected totals
    arrays: Arrays
    lost: int | None = None  # the site a contingency loses

    @property
    def contingency(self) -> bool:
        return self.lost is not None


@dataclass(frozen=True)
class Plan:
    """The cases of a version-2 instance, ordered by year, then scenarios, then contingencies."""

    years: list[YearInfo]
    scenarios: list[tuple[str, float]]
    contingencies: list[str]  # the labels, lose:SITE
    protect: list[str]
    contingency_probability: float
    discount_rate: float
    cases: list[Case]
    build: list[Arrays]  # per year: the arrays whose build data (candidates, costs) are the year's
    planned: bool  # False: no planning block (one case, solved exactly as version 1)
    warnings: list[Problem] = field(default_factory=list)
    unsurvivable: list[Problem] = field(default_factory=list)

    def label(self, case: Case) -> str:
        return f"{self.years[case.year].id}/{case.scenario}"


def discounts(planning: Planning) -> list[YearInfo]:
    first = planning.years[0].year
    rate = planning.discount_rate
    return [YearInfo(y.id, y.year, y.span, y.span / (1.0 + rate) ** (y.year - first))
            for y in planning.years]


def build_plan(document: Document) -> Plan:
    """The plan's cases, validated and compiled; raises InstanceError with every problem of
    every case at once (naming the year or scenario whose override caused it)."""
    instance = document.instance
    if instance.planning is None:
        arrays = compile_instance(instance)
        return Plan([YearInfo("base", 0, 1, 1.0)], [("base", 1.0)], [], [], 0.0, 0.0,
                    [Case(0, "base", 1.0, 1.0, 1.0, arrays)], [arrays], planned=False)
    planning = instance.planning
    years = discounts(planning)
    raw = instance.model_dump(exclude_unset=True)
    raw.pop("planning", None)
    problems: list[Problem] = []
    warnings: dict[str, Problem] = {p.format(): p for p in document.warnings}
    built: dict[tuple[int, int], Arrays] = {}
    year_arrays: list[Arrays] = []
    for i, year in enumerate(planning.years):
        origin = f"year {year.id!r}"
        year_data = _applied(raw, year.set, ("planning", "years", i, "set"), origin, document,
                             problems)
        for j, scen in enumerate(planning.scenarios):
            where = ("planning", "scenarios", j, "set")
            data = _applied(year_data, scen.set, where, f"scenario {scen.id!r}", document,
                            problems)
            if data is None:
                continue
            case = _parsed(data, [*year.set, *scen.set], raw, f"{origin}, scenario {scen.id!r}",
                           document, problems, warnings)
            if case is not None:
                built[i, j] = compile_instance(case)
        if year_data is None:
            continue
        if not any(s.set for s in planning.scenarios) and (i, 0) in built:
            year_arrays.append(built[i, 0])
            continue
        year_instance = _parsed(year_data, year.set, raw, origin, document, problems, warnings)
        if year_instance is not None:
            year_arrays.append(compile_instance(year_instance))
    if problems:
        raise InstanceError(problems)
    plan = _assemble(instance, planning, years, built, year_arrays, list(warnings.values()))
    return replace(plan, warnings=[
        replace(p, file=document.file, line=document.line(p.path)) if p.file == "<instance>"
        else p for p in plan.warnings])


def _assemble(instance: Instance, planning: Planning, years: list[YearInfo],
              built: dict[tuple[int, int], Arrays], year_arrays: list[Arrays],
              warnings: list[Problem]) -> Plan:
    labels = contingency_labels(instance)
    cont = planning.contingencies
    protect = list(cont.protect) if cont is not None else []
    p_cont = cont.probability if cont is not None else 0.0
    site_ids = year_arrays[0].sites
    cases: list[Case] = []
    for i, info in enumerate(years):
        build = year_arrays[i]
        for j, scen in enumerate(planning.scenarios):
            if not _same_build(built[i, j], build):
                warnings.append(Problem(
                    f"scenario {scen.id!r} changes build data (open_cost, annual_cost or "
                    f"max_units) in year {info.id!r}: build data are the year's, so the "
                    "change has no effect (set it in the year instead)",
                    ("planning", "scenarios", j, "set"), severity="warning"))
            arrays = _with_build(built[i, j], build)
            cases.append(Case(i, scen.id, scen.probability, info.discount * scen.probability,
                              info.span * scen.probability, arrays))
        for label in labels:
            site = site_ids.index(label.removeprefix("lose:"))
            arrays = lose(_with_build(built[i, 0], build), site, protect)
            cases.append(Case(i, label, p_cont, info.discount * p_cont, info.span * p_cont,
                              arrays, lost=site))
    plan = Plan(years, [(w.id, w.probability) for w in planning.scenarios], labels, protect,
                p_cont, planning.discount_rate, cases, year_arrays, planned=True,
                warnings=warnings)
    return replace(plan, unsurvivable=_unsurvivable(plan, instance))


def _same_build(arrays: Arrays, year: Arrays) -> bool:
    return (np.array_equal(arrays.open_cost, year.open_cost, equal_nan=True)
            and np.array_equal(arrays.exp_cost, year.exp_cost)
            and np.array_equal(arrays.exp_max, year.exp_max))


def _with_build(arrays: Arrays, year: Arrays) -> Arrays:
    """The case's arrays with the year's build data (candidates, costs and unit limits)."""
    return replace(arrays, open_cost=year.open_cost, exp_cost=year.exp_cost,
                   exp_max=year.exp_max)


def lose(arrays: Arrays, site: int, protect: Sequence[str]) -> Arrays:
    """The arrays of the contingency that loses ``site``: no arc to it, the ``protect`` classes
    hard (fully served), the site marked lost."""
    keep = arrays.arc_site != site
    penalty = arrays.unmet_penalty.copy()
    penalty[[arrays.classes.index(k) for k in protect]] = np.nan
    lost = np.zeros(len(arrays.sites), dtype=bool)
    lost[site] = True
    removed = {**arrays.arcs_removed, "lost in this contingency": int((~keep).sum())}
    return replace(arrays, arc_region=arrays.arc_region[keep], arc_site=arrays.arc_site[keep],
                   arc_class=arrays.arc_class[keep], unmet_penalty=penalty, lost=lost,
                   arcs_removed=removed)


def _applied(data: Any, texts: Sequence[str], where: Path, origin: str, document: Document,
             problems: list[Problem]) -> Any:
    """``data`` with the overrides applied, or None (with the problems at their entries)."""
    if data is None:
        return None
    for n, text in enumerate(texts):
        path = (*where, n)
        try:
            data = apply(data, parse_override(text))
        except InstanceError as exc:
            problems.extend(
                replace(p, file=document.file, path=path, line=document.line(path),
                        message=f"{p.message} (in {origin}: {text.strip()})")
                for p in exc.problems)
            return None
    return data


def _parsed(data: Any, texts: Sequence[str], raw: Any, origin: str, document: Document,
            problems: list[Problem], warnings: dict[str, Problem]) -> Instance | None:
    """The case's data validated like a file and checked against the base's structure."""
    try:
        doc = parse(data, document.file, document.lines, sha256="-")
    except InstanceError as exc:
        setters = set_by(raw, texts) if texts else {}
        for p in [*exc.problems, *exc.warnings]:
            owner = next((setters[p.path[:n]] for n in range(len(p.path), 0, -1)
                          if p.path[:n] in setters), None)
            note = f" [in {origin}" + (f": set by {owner}]" if owner else "]")
            problems.append(replace(p, message=p.message + note))
        return None
    for p in doc.warnings:
        warnings.setdefault(p.format(), replace(p, message=f"{p.message} [in {origin}]"))
    changed = _structure_changes(document.instance, doc.instance)
    if changed:
        problems.append(Problem(f"the overrides of {origin} change the structure: {changed} "
                                "(a year or scenario may change values, not ids or periods)",
                                ("planning",), document.file, document.line(("planning",))))
        return None
    return doc.instance


def _structure_changes(base: Instance, case: Instance) -> str:
    """What differs in structure (ids, periods, candidate status), in words; '' if nothing."""
    def ids(inst: Instance) -> dict[str, list[Any]]:
        return {
            "the region ids": [r.id for r in inst.regions],
            "the site ids": [s.id for s in inst.sites],
            "the class ids": [k.id for k in inst.classes],
            "the expansion options": [(s.id, e.id) for s in inst.sites for e in s.expansions],
            "the corridor ids": [c.id for c in inst.network.corridors],
            "the candidate sites": [s.id for s in inst.sites if s.open_cost is not None],
        }
    before, after = ids(base), ids(case)
    changed = [what for what in before if before[what] != after[what]]
    (p0, h0, w0), (p1, h1, w1) = period_table(base), period_table(case)
    if p0 != p1 or not (np.array_equal(h0, h1) and np.array_equal(w0, w1)):
        changed.append("the periods")
    return ", ".join(changed)


def _unsurvivable(plan: Plan, instance: Instance) -> list[Problem]:
    """Contingencies a capacity count proves cannot be survived: hard demand (the protected and
    the hard classes, non-deferrable) in some period above all the capacity that could remain,
    or hard demand left with no site it may use. One problem per lost site, naming its first
    year that fails and how many do."""
    cont = instance.planning.contingencies if instance.planning else None
    found: dict[int, list[tuple[Case, str]]] = {}
    for case in plan.cases:
        if case.lost is not None:
            why = _why_unsurvivable(case.arrays, np.isnan(case.arrays.unmet_penalty),
                                    case.lost)
            if why:
                found.setdefault(case.lost, []).append((case, why))
    out = []
    for s, failing in found.items():
        case, why = failing[0]
        site = case.arrays.sites[s]
        path: Path = ("planning", "contingencies", "lose")
        if cont is not None and cont.lose != "each":
            path = (*path, list(cont.lose).index(site))
        years = (f" (and in {len(failing) - 1} later year(s))" if len(failing) > 1 else "")
        out.append(Problem(f"losing site {site!r} cannot be survived in "
                           f"{plan.years[case.year].id}{years}: {why}", path))
    return out


def _why_unsurvivable(a: Arrays, hard: np.ndarray, s: int) -> str:
    R, K = len(a.regions), len(a.classes)
    reach = np.zeros((R, K), dtype=bool)
    reach[a.arc_region, a.arc_class] = True
    stranded = np.argwhere(hard[None, :] & (a.demand.sum(axis=2) > 0) & ~reach)
    if len(stranded):
        r, k = stranded[0]
        return (f"the {a.classes[k]} demand of {a.regions[r]} can use no other site "
                f"({len(stranded)} region-class pair(s) in all)")
    most = a.capacity.copy()
    np.add.at(most, a.exp_site, a.exp_size * a.exp_max)
    most[s] = 0.0
    need = a.demand[:, hard & (a.max_delay == 0), :].sum(axis=(0, 1))
    t = int(np.argmax(need - most.sum()))
    if need[t] > most.sum() * (1 + 1e-9):
        return (f"its hard demand in period {a.periods[t]} is {need[t]:,.6g} MW, above the "
                f"{most.sum():,.6g} MW of IT capacity the other sites could have")
    return ""



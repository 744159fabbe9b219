"""What a plan is worth against the plans a planner compares it with, each one solved.

- **cost of resilience**: the plan against the same plan without its contingencies;
- **EVPI** (expected value of perfect information): the stochastic plan (RP) against the
  wait-and-see plans, one per scenario with its own build, weighted by probability
  (``EVPI = RP - sum_w p_w WS_w``, >= 0 for a minimisation);
- **VSS** (value of the stochastic solution): the plan built for the mean scenario, then operated
  in every scenario (EEV: the stochastic plan with that build held fixed) against RP
  (``VSS = EEV - RP`` >= 0). The mean scenario averages every number of the scenarios' data
  by probability, year by year; where the scenarios differ in structure (their arcs: a changed
  latency limit), it is not defined and VSS is not reported.

Contingency cases stay in every comparison but the first: they are a requirement of the plan,
not a scenario of the future. All values are in the objective's units (discounted over the
horizon). Birge and Louveaux, *Introduction to Stochastic Programming* (2011), ch. 4.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from optimizer.backends.base import Status
from optimizer.cases import Case, Plan
from optimizer.compile import Arrays

Solver = Callable[[Plan, np.ndarray | None], tuple[float | None, np.ndarray | None, Any]]
"""Solve a plan (with its build held at a planning vector's, or free): objective, x, its run."""


def measures(plan: Plan, objective: float, solve: Solver) -> dict[str, dict[str, Any]]:
    """The measures that apply to ``plan`` (solved with optimum ``objective``)."""
    out: dict[str, dict[str, Any]] = {}
    if plan.contingencies:
        without = restrict(plan, keep_contingencies=False)
        value, _, _ = solve(without, None)
        out["resilience"] = _measure(
            "cost of resilience", None if value is None else objective - value,
            f"the plan that survives its {len(plan.contingencies)} N-1 contingencies, against "
            "the cheapest plan that need not" + ("" if value is not None else
                                                 " (that plan could not be solved)"))
    if len(plan.scenarios) > 1:
        out["evpi"] = _evpi(plan, objective, solve)
        out["vss"] = _vss(plan, objective, solve)
    return out


def _measure(label: str, value: float | None, meaning: str) -> dict[str, Any]:
    return {"label": label, "value": None if value is None else value + 0.0,
            "meaning": meaning}


def _evpi(plan: Plan, objective: float, solve: Solver) -> dict[str, Any]:
    parts = []
    for w, p in plan.scenarios:
        value, _, _ = solve(restrict(plan, scenarios={w: 1.0}), None)
        if value is None:
            return _measure("EVPI", None, f"not defined: the wait-and-see plan for scenario "
                                          f"{w!r} has no solution")
        parts.append(p * value)
    wait_and_see = math.fsum(parts)
    return _measure("EVPI", objective - wait_and_see,
                    "what knowing the scenario before building would save: the stochastic "
                    f"plan against the {len(plan.scenarios)} wait-and-see plans, weighted by "
                    "probability")


def _vss(plan: Plan, objective: float, solve: Solver) -> dict[str, Any]:
    mean = mean_plan(plan)
    if mean is None:
        return _measure("VSS", None, "not defined: the scenarios differ in structure (arcs), "
                                     "so there is no mean scenario")
    value, x, _ = solve(mean, None)
    if value is None or x is None:
        return _measure("VSS", None, "not defined: the mean-scenario plan has no solution")
    eev, _, run = solve(plan, x)
    if eev is None:
        status = getattr(run, "status", Status.INFEASIBLE)
        return _measure("VSS", None,
                        "unbounded: the build of the mean-scenario plan cannot serve every "
                        f"scenario ({status.value}), so planning for the mean is not an option"
                        if status is Status.INFEASIBLE else
                        f"not defined: the mean-scenario build could not be evaluated "
                        f"({status.value})")
    return _measure("VSS", eev - objective,
                    "what planning for every scenario saves against building for the mean "
                    "scenario and then operating that build in each scenario")


def restrict(plan: Plan, scenarios: dict[str, float] | None = None,
             keep_contingencies: bool = True) -> Plan:
    """``plan`` with only the given scenarios (and their new probabilities), and with or
    without its contingencies."""
    cases = []
    for case in plan.cases:
        if case.contingency:
            if keep_contingencies:
                cases.append(case)
            continue
        if scenarios is not None and case.scenario not in scenarios:
            continue
        p = case.probability if scenarios is None else scenarios[case.scenario]
        cases.append(_reweighted(plan, case, p))
    kept = [(w, p) for w, p in plan.scenarios if scenarios is None or w in scenarios]
    if scenarios is not None:
        kept = [(w, scenarios[w]) for w, _ in kept]
    return replace(plan, cases=cases, scenarios=kept,
                   contingencies=plan.contingencies if keep_contingencies else [],
                   unsurvivable=plan.unsurvivable if keep_contingencies else [])


def _reweighted(plan: Plan, case: Case, probability: float) -> Case:
    info = plan.years[case.year]
    return replace(case, probability=probability, weight=info.discount * probability,
                   factor=info.span * probability)


def mean_plan(plan: Plan) -> Plan | None:
    """The plan with one scenario, ``mean``: per year, the probability-weighted mean of the
    scenarios' arrays; None where they differ in anything but numbers."""
    cases: list[Case] = []
    for y in range(len(plan.years)):
        year_cases = [c for c in plan.cases if c.year == y and not c.contingency]
        arrays = mean_arrays([c.arrays for c in year_cases],
                             [c.probability for c in year_cases])
        if arrays is None:
            return None
        cases.append(_reweighted(plan, replace(year_cases[0], scenario="mean",
                                               arrays=arrays), 1.0))
        cases += [c for c in plan.cases if c.year == y and c.contingency]
    return replace(plan, cases=cases, scenarios=[("mean", 1.0)])


def mean_arrays(arrays: list[Arrays], p: list[float]) -> Arrays | None:
    """The probability-weighted mean of every float field; None where another field (ids,
    arcs, integer data) differs."""
    first = arrays[0]
    weights = np.asarray(p, dtype=float)
    weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(p), 1 / len(p))
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(Arrays):
        values = [getattr(a, f.name) for a in arrays]
        v0 = values[0]
        if isinstance(v0, np.ndarray) and v0.dtype.kind == "f":
            if any(v.shape != v0.shape for v in values):
                return None
            mean = _nan_mean(np.stack(values), weights)
            if mean is None:
                return None
            changes[f.name] = mean
        elif isinstance(v0, float) or (v0 is None and any(isinstance(v, float)
                                                           for v in values)):
            if any(v is None for v in values):
                return None
            changes[f.name] = float(weights @ np.asarray(values, dtype=float))
        elif not all(_same(v, v0) for v in values):
            return None
    return replace(first, **changes)


def _nan_mean(stacked: np.ndarray, weights: np.ndarray) -> np.ndarray | None:
    """The weighted mean where no scenario has nan, nan where all have (a hard class)."""
    nan = np.isnan(stacked)
    if not nan.any():
        return np.tensordot(weights, stacked, axes=1)
    all_nan = nan.all(axis=0)
    if (nan.any(axis=0) & ~all_nan).any():
        return None
    out = np.tensordot(weights, np.where(nan, 0.0, stacked), axes=1)
    out[all_nan] = np.nan
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))
    return bool(a == b)

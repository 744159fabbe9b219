"""Every shadow price the package reports, against a finite difference of the reference.

The solution's ``shadow_prices`` (and the same numbers where the report shows them: a site's
``capacity_price``, a corridor's ``shadow_price``, the policy's ``carbon_cap_price`` and
``renewable_floor_price``) say what relaxing a constraint by one unit saves a year. Each is
checked against the element-by-element reference (``reference.py``, PuLP with HiGHS, which
shares no code with ``optimizer``): the instance's own number behind the constraint (a site's
``capacity_mw`` or ``power_cap_mw``, a corridor's ``capacity_gbps``, ``carbon_cap_t``,
``min_renewable_share``) moved by ``delta`` each way, the reference re-solved, and the change of
its optimum per unit compared with the package's price.

The draws: random instances of ``generate.py`` (the LP model, the whole model's LPs and MIPs,
and the MIPs whose hard demand needs building), only those with some ``a[t] = hours * weight``
not 1. For a MIP the package's prices come from its LP with the integer decisions fixed; the
reference is solved with the same decisions fixed (``reference.Fixed``), read from the
package's solution JSON.

A price is compared only where it is unique: where the reference's optimum, as a function of
the moved number, has the same slope on both sides (a breakpoint has a whole interval of duals,
any of which an LP solver may return). Such draws are skipped and counted, as are capacity
prices at closed candidate sites (their row, load <= 0, cannot be loosened and tightened alike);
``test_most_draws_are_checked`` asserts that they stay few and that every kind of price is
checked where it is not zero. The renewable floor's share moves a coefficient, not a bound, so
the optimum is curved in it: there the jump at a breakpoint is estimated free of the curvature
(two step sizes, Richardson's extrapolation).
"""

from __future__ import annotations

import copy
import functools
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest
from generate import is_mip, random_instance, random_instance_build, random_instance_full
from reference import Fixed, decisions, read_instance, solve_full

from optimizer.backends.base import SolveOptions, Status
from optimizer.interpret import Solution
from optimizer.load import parse
from optimizer.pipeline import solve_document

REL_DELTA = 1e-3  # the step, relative to the number moved
AGREE = 1e-4  # relative: slopes that agree, and a price that matches its estimate
NOISE = 1e-11  # relative error of a reference optimum (HiGHS in doubles; measured below 1e-15)
SEEDS = {"lp": range(48), "full": range(84), "build": range(32)}
DEFAULT = SolveOptions()  # CLP for LPs (CBC or SCIP for MIPs, CLP for their duals)
GLOP = SolveOptions(backend="ortools", solver="glop")


def instance(kind: str, seed: int) -> dict[str, Any]:
    if kind == "lp":
        return random_instance(seed)
    return random_instance_build(seed) if kind == "build" else random_instance_full(seed)


@functools.cache
def draws(kind: str, mip: bool | None = None) -> list[int]:
    """The seeds of ``kind`` with some a[t] != 1 (and, for ``full``, LPs or MIPs only)."""
    out = []
    for seed in SEEDS[kind]:
        data = instance(kind, seed)
        if any(a != 1 for a in read_instance(data).annual) and mip in (None, is_mip(data)):
            out.append(seed)
    return out


@functools.cache
def package(kind: str, seed: int, options: SolveOptions = DEFAULT) -> Solution:
    return solve_document(parse(instance(kind, seed)), options).solution


# --------------------------------------------------------------------------------------------
# The finite difference
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Knob:
    """The number of the instance behind one price: ``path`` into the instance dict, and
    ``scale``: the price is ``scale`` times the slope of the optimum in that number (-1: the
    saving from a higher bound; 0.01: one percentage point of a share)."""

    path: tuple[Any, ...]
    scale: float = -1.0


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


def _moved(data: dict[str, Any], path: tuple[Any, ...], value: float) -> dict[str, Any]:
    out = copy.deepcopy(data)
    _get(out, path[:-1])[path[-1]] = value
    return out


@dataclass(frozen=True)
class Estimate:
    value: float  # the reference's price
    tol: float  # how far the package's may be from it
    facility: float | None = None  # for the renewable floor: the optimum's facility energy


def optimum(data: dict[str, Any], fixed: Fixed | None) -> float | None:
    result = solve_full(data, solver="highs", fixed=fixed)
    return result.objective if result.status == "Optimal" else None


def finite_difference(data: dict[str, Any], fixed: Fixed | None, knob: Knob) -> Estimate | str:
    """The reference's price of ``knob`` (see the module docstring), or why there is none."""
    value = float(_get(data, knob.path))
    delta = REL_DELTA * value
    at = optimum(data, fixed)
    assert at is not None
    steps = (delta, delta / 2) if knob.path[-1] == "min_renewable_share" else (delta,)
    slopes = []  # (left, right) per step, as prices (times scale)
    for step in steps:
        below, above = (optimum(_moved(data, knob.path, value + sign * step), fixed)
                        for sign in (-1, 1))
        if below is None or above is None:
            return f"infeasible {step:g} from {value:g}"
        slopes.append((knob.scale * (at - below) / step, knob.scale * (above - at) / step))
    noise = NOISE * max(1.0, abs(at)) / (delta / 2)
    (left, right), *half = slopes
    if half:  # the jump at a breakpoint, without the curvature's term linear in the step
        jump = 2 * (half[0][1] - half[0][0]) - (right - left)
        central = (4 * sum(half[0]) - (left + right)) / 6  # Richardson: error O(step^4)
    else:
        jump, central = right - left, (left + right) / 2
    size = max(abs(left), abs(right))
    if abs(jump) > AGREE * size + 4 * noise:
        return f"breakpoint: slopes {left:.8g} left, {right:.8g} right"
    tol = AGREE * abs(central) + 4 * noise
    if knob.path[-1] != "min_renewable_share":
        return Estimate(central, tol)
    return Estimate(central, tol, facility_energy(data, fixed))


def facility_energy(data: dict[str, Any], fixed: Fixed | None) -> float:
    """The reference optimum's facility energy, MWh a year."""
    result = solve_full(data, solver="highs", fixed=fixed)
    a = result.data.annual
    return sum(a[t] * (g + result.v[s, t]) for (s, t), g in result.g.items())


# --------------------------------------------------------------------------------------------
# What the package reports, price by price
# --------------------------------------------------------------------------------------------

Outcome = tuple[str, str, str]  # (kind, subject, "checked" | "zero" | a reason for skipping)


def knob_for(data: dict[str, Any], kind: str, subject: str) -> Knob | None:
    """The instance's number behind a price, or None where the instance has no such row (a site
    without a power cap: then the price must be 0)."""
    site_ids = [site["id"] for site in data["sites"]]
    if kind == "capacity":
        return Knob(("sites", site_ids.index(subject), "capacity_mw"))
    if kind == "power_cap":
        s = site_ids.index(subject)
        return Knob(("sites", s, "power_cap_mw")) if "power_cap_mw" in data["sites"][s] else None
    if kind == "corridor":
        ids = [c["id"] for c in data["network"]["corridors"]]
        return Knob(("network", "corridors", ids.index(subject), "capacity_gbps"))
    if kind == "carbon_cap":
        return Knob(("policy", "carbon_cap_t"))
    if kind == "renewable_floor":
        return Knob(("policy", "min_renewable_share"), scale=0.01)
    raise AssertionError(f"a price this test does not know how to check: {kind}")


def expected_prices(data: dict[str, Any]) -> set[tuple[str, str]]:
    """(constraint, subject) of every price the package must report for ``data``."""
    sites = [site["id"] for site in data["sites"]]
    out = {(kind, s) for kind in ("capacity", "power_cap") for s in sites}
    out |= {("corridor", c["id"]) for c in data.get("network", {}).get("corridors", [])}
    policy = data.get("policy", {})
    if policy.get("carbon_cap_t") is not None:
        out.add(("carbon_cap", "policy"))
    if policy.get("min_renewable_share", 0) > 0:
        out.add(("renewable_floor", "policy"))
    return out


def shown(sol: Solution) -> dict[tuple[str, str], float]:
    """The prices where the report shows them, each asserted equal to its ``shadow_prices``
    entry; by (constraint, subject)."""
    out = sol.to_dict()
    prices = {(p["constraint"], p["subject"]): p["value"] for p in out["shadow_prices"]}
    assert len(prices) == len(out["shadow_prices"]), "a price reported twice"
    for row in out["sites"]:
        assert row["capacity_price"] == prices["capacity", row["id"]]
    for row in out.get("corridors", []):
        assert row["shadow_price"] == prices["corridor", row["id"]]
    if ("carbon_cap", "policy") in prices:
        assert out["policy"]["carbon_cap_price"] == prices["carbon_cap", "policy"]
    return prices


def check_prices(kind: str, seed: int, options: SolveOptions = DEFAULT) -> list[Outcome]:
    """Assert every price of the package's solution against the reference; the outcomes."""
    data = instance(kind, seed)
    sol = package(kind, seed, options)
    assert sol.status is Status.OPTIMAL
    d = read_instance(data)
    fixed = decisions(sol.to_dict(), d) if is_mip(data) else None
    at = optimum(data, fixed)
    assert at is not None
    assert sol.objective == pytest.approx(at, rel=1e-9), "not the reference's LP"
    prices = shown(sol)
    assert set(prices) == expected_prices(data)
    outcomes: list[Outcome] = []
    for (what, subject), value in sorted(prices.items()):
        knob = knob_for(data, what, subject)
        if knob is None:
            assert value == 0.0, (what, subject)
            continue
        if what == "capacity" and fixed is not None and fixed.o.get(knob.path[1]) == 0.0:
            # any saving >= the one-sided slope is a dual of load <= 0: only its sign is known
            assert value >= -NOISE * max(1.0, abs(at)), (what, subject)
            outcomes.append((what, subject, "closed candidate site"))
            continue
        estimate = finite_difference(data, fixed, knob)
        if isinstance(estimate, str):
            outcomes.append((what, subject, estimate))
            continue
        assert value == pytest.approx(estimate.value, rel=0, abs=estimate.tol), (what, subject)
        if estimate.facility:
            # per MWh of the row: d optimum / d share is the row's price times facility energy
            per_row = sol.to_dict()["policy"]["renewable_floor_price"]
            assert per_row == pytest.approx(100 * estimate.value / estimate.facility, rel=0,
                                            abs=100 * estimate.tol / estimate.facility)
        outcomes.append((what, subject, "checked" if abs(estimate.value) > estimate.tol
                         else "zero"))
    return outcomes


@functools.cache
def outcomes(kind: str, seed: int) -> tuple[Outcome, ...]:
    return tuple(check_prices(kind, seed))


# --------------------------------------------------------------------------------------------
# The tests
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", draws("lp"))
def test_lp_prices_match_the_reference(seed: int) -> None:
    """The LP model: capacity and power-cap prices (solved by period: the duals are joined)."""
    outcomes("lp", seed)


@pytest.mark.parametrize("seed", draws("full", False))
def test_full_lp_prices_match_the_reference(seed: int) -> None:
    """The whole model's LPs: corridors, carbon cap, renewable floor, deferral too."""
    outcomes("full", seed)


@pytest.mark.parametrize("seed", draws("full", True))
def test_mip_prices_match_the_reference_with_the_decisions_fixed(seed: int) -> None:
    outcomes("full", seed)


@pytest.mark.parametrize("seed", draws("build"))
def test_prices_where_building_is_needed_match_the_reference(seed: int) -> None:
    outcomes("build", seed)


@pytest.mark.parametrize("seed", draws("full", False)[::3])
def test_glop_prices_match_the_reference(seed: int) -> None:
    """GLOP's own duals (the default LP solver's, CLP's, are checked above)."""
    check_prices("full", seed, GLOP)


RUNS = (("lp", None), ("full", False), ("full", True), ("build", None))
"""(kind, mip) of every draw above: the LP model, the whole model's LPs and MIPs, building."""
KINDS = ("capacity", "power_cap", "corridor", "carbon_cap", "renewable_floor")


def test_most_draws_are_checked() -> None:
    """Skipped prices (breakpoints, closed candidate sites) are few, and each kind of price is
    checked where it is not zero on several draws."""
    done: Counter[str] = Counter()
    skipped = []
    for kind, mip in RUNS:
        for seed in draws(kind, mip):
            for what, subject, outcome in outcomes(kind, seed):
                done[what if outcome == "checked" else outcome] += 1
                if outcome not in ("checked", "zero"):
                    skipped.append((kind, seed, what, subject, outcome))
    total = sum(done.values())
    assert total >= 500
    assert len(skipped) <= 0.1 * total, skipped
    assert min(done[k] for k in KINDS) >= 5, done

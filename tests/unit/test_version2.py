"""Instance version 2 (DESIGN.md §7-§8): accepted, and without its new fields solved exactly
as version 1.

A version-1 file and the same file with ``version: 2`` and no §8 field must build the same LP,
bit for bit (``c``, ``A``, every bound), and report the same costs but for the two §8 categories,
which are 0; the version-2 solution is version 2 and adds ``water_m3`` and
``certificates_mwh`` to its totals and the compliance table. A version-1 file that gives a
version-2 field is refused, naming every such field at once.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.errors import InstanceError
from optimizer.load import parse
from optimizer.model import formulate
from optimizer.model.lp import COST_CATEGORIES, V1_COST_CATEGORIES, LinearProgram
from optimizer.pipeline import Run, solve_document
from optimizer.presolve import prune_arcs
from optimizer.yamlio import read_yaml

REPO = Path(__file__).parents[2]
NEW = ("certificates", "water")


def read(name: str) -> dict[str, Any]:
    path = REPO / "instances" / name
    return read_yaml(path.read_text(encoding="utf-8"), str(path))[0]


def as_version_2(data: dict[str, Any]) -> dict[str, Any]:
    moved = copy.deepcopy(data)
    moved["version"] = 2
    return moved


def lp_of(data: dict[str, Any]) -> LinearProgram:
    return formulate(prune_arcs(compile_instance(parse(copy.deepcopy(data)).instance)))


def assert_same_lp(one: LinearProgram, two: LinearProgram) -> None:
    for name in ("c", "row_lb", "row_ub", "col_lb", "col_ub", "integer"):
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
        assert getattr(one, name).dtype == getattr(two, name).dtype, name
    for part in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(one.A, part), getattr(two.A, part)), part
    assert one.variables.keys() == two.variables.keys()
    assert one.rows.keys() == two.rows.keys()


@pytest.mark.parametrize("name", ["tiny.yaml", "china-national.yaml", "china-2025-plan.yaml"])
def test_version_2_without_new_fields_builds_the_same_lp(name: str) -> None:
    data = read(name)
    assert data["version"] == 1
    assert_same_lp(lp_of(data), lp_of(as_version_2(data)))


def solved(data: dict[str, Any]) -> Run:
    run = solve_document(parse(copy.deepcopy(data)), SolveOptions(solver="clp"))
    assert run.solution.status is Status.OPTIMAL
    return run


@pytest.mark.parametrize("name", ["tiny.yaml", "china-national.yaml"])
def test_version_2_without_new_fields_reports_the_same_costs(name: str) -> None:
    data = read(name)
    one, two = solved(data).solution.to_dict(), solved(as_version_2(data)).solution.to_dict()
    assert (one["version"], two["version"]) == (1, 2)
    assert list(one["costs"]) == list(V1_COST_CATEGORIES)
    assert list(two["costs"]) == list(COST_CATEGORIES)
    assert {c: two["costs"][c] for c in V1_COST_CATEGORIES} == one["costs"]
    assert [two["costs"][c] for c in NEW] == [0.0, 0.0]
    assert two["objective"] == one["objective"]
    assert {k: v for k, v in two["totals"].items()
            if k not in ("water_m3", "certificates_mwh")} == one["totals"]
    assert (two["totals"]["water_m3"], two["totals"]["certificates_mwh"]) == (0.0, 0.0)
    # §7: a version-2 solution's flows carry their case (here the one case base/base)
    assert {(f.pop("year"), f.pop("scenario")) for f in two["flows"]} == {("base", "base")}
    assert two["flows"] == one["flows"]
    assert two["shadow_prices"] == one["shadow_prices"]
    assert "compliance" not in one
    assert [row["site"] for row in two["compliance"]] == [s["id"] for s in one["sites"]]
    new_site_keys = {"water_m3", "certificates_mwh", "green_share", "mean_pue", "utilization"}
    for a, b in zip(one["sites"], two["sites"], strict=True):
        assert set(b) - set(a) == new_site_keys
        assert {k: b[k] for k in a} == a


def test_version_2_fields_in_a_version_1_file_are_refused_all_at_once() -> None:
    data = read("tiny.yaml")
    data["policy"]["certificate_price"] = 50
    data["policy"]["water_price"] = 0.5
    data["sites"][0]["wue"] = 0.3
    data["sites"][1]["min_utilization"] = 0.6
    data["sites"][1]["max_pue"] = 1.2
    data["sites"][1]["capacity_mw"] = -1  # a shape error does not hide them
    with pytest.raises(InstanceError) as caught:
        parse(data, "tiny.yaml")
    found = {(p.path, p.message) for p in caught.value.problems}
    assert found >= {
        (("policy", "certificate_price"), "certificate_price needs version: 2"),
        (("policy", "water_price"), "water_price needs version: 2"),
        (("sites", 0, "wue"), "wue needs version: 2"),
    }
    assert any(p.path == ("sites", 1, "capacity_mw") for p in caught.value.problems)
    del data["sites"][1]["capacity_mw"]
    data["sites"][1]["capacity_mw"] = 100
    with pytest.raises(InstanceError) as caught:
        parse(data, "tiny.yaml")
    assert {p.path for p in caught.value.problems} == {
        ("policy", "certificate_price"), ("policy", "water_price"), ("sites", 0, "wue"),
        ("sites", 1, "min_utilization"), ("sites", 1, "max_pue")}
    parse(as_version_2(data))  # valid as version 2
    for site in data["sites"]:  # at their defaults they change nothing, and pass
        site.update(wue=0.0, min_utilization=None, max_pue=None)
    data["policy"].update(certificate_price=None, water_price=0)
    parse(data)


@pytest.mark.parametrize(("path", "value", "message"), [
    (("policy", "certificate_price"), -1, "greater than or equal to 0"),
    (("policy", "water_price"), -0.5, "greater than or equal to 0"),
    (("sites", 0, "min_green_share"), 1.2, "less than or equal to 1"),
    (("sites", 0, "min_utilization"), -0.1, "greater than or equal to 0"),
    (("sites", 0, "water_cap_m3"), -3, "greater than or equal to 0"),
    (("sites", 0, "max_pue"), 0.9, "greater than or equal to 1"),
    (("sites", 0, "wue"), [0.3, -0.1], "WUE must be >= 0 in every period"),
    (("sites", 0, "wue"), [0.3], "series has 1 values, expected one per period (2)"),
])
def test_version_2_ranges(path: tuple[str | int, ...], value: Any, message: str) -> None:
    data = as_version_2(read("tiny.yaml"))
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    with pytest.raises(InstanceError) as caught:
        parse(data, "tiny.yaml")
    assert [(p.path, message in p.message) for p in caught.value.problems] == [(path, True)]


def test_version_must_be_1_or_2() -> None:
    data = read("tiny.yaml")
    data["version"] = 3
    with pytest.raises(InstanceError, match="Input should be 1 or 2"):
        parse(data)


def floors(**at_far: Any) -> dict[str, Any]:
    """Tiny as version 2 with ``at_far`` set on the far site, which only batch can reach
    (web's 10 ms limit keeps it near)."""
    data = as_version_2(read("tiny.yaml"))
    data["sites"][1].update(at_far)
    return data


def warnings_of(data: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    return [(w.path, w.message) for w in parse(data).warnings]


def test_a_utilisation_floor_no_demand_can_reach_is_a_warning() -> None:
    """Batch (the only class that reaches far) allowed at near only: nothing reaches far, and
    its 30% floor cannot be met: a warning in validate, and the solve is infeasible. A
    candidate site may stay closed (no warning); so may a site whose capacity is all halls."""
    data = floors(min_utilization=0.3)
    data["classes"][1]["allowed_sites"] = ["near"]
    assert warnings_of(data) == [(("sites", 1, "min_utilization"),
                                  "no demand can reach site 'far' (latency limits, "
                                  "allowed_sites): its 30% utilisation floor cannot be met, "
                                  "and the instance is infeasible")]
    sol = solve_document(parse(data), SolveOptions(solver="clp")).solution
    assert sol.status is Status.INFEASIBLE
    assert warnings_of(floors(min_utilization=0.3)) == []  # batch reaches it
    data["sites"][1]["open_cost"] = 100
    assert warnings_of(data) == []
    data["sites"][1].pop("open_cost")
    data["sites"][1].update(capacity_mw=0, expansions=[{"id": "hall", "size_mw": 10,
                                                        "annual_cost": 1}])
    assert warnings_of(data) == []


def test_a_green_floor_without_renewable_power_or_certificates_is_a_warning() -> None:
    """near has no renewable power: with no certificates its 50% green-share floor is met only
    if it serves nothing (a warning); with its utilisation floor as well, the instance is
    infeasible (the warning says so, and the solve agrees)."""
    data = as_version_2(read("tiny.yaml"))
    data["sites"][0]["min_green_share"] = 0.5
    assert warnings_of(data) == [(("sites", 0, "min_green_share"),
                                  "site 'near' has no renewable power and there are no "
                                  "certificates (policy.certificate_price): it meets its "
                                  "green-share floor only empty, and will serve no load")]
    sol = solve_document(parse(data), SolveOptions(solver="clp")).solution
    assert sol.site_table[0]["it_energy_mwh"] == 0.0
    data["sites"][0]["min_utilization"] = 0.1
    assert warnings_of(data)[0][1].endswith("so its utilisation floor cannot be met, and the "
                                            "instance is infeasible")
    sol = solve_document(parse(data), SolveOptions(solver="clp")).solution
    assert sol.status is Status.INFEASIBLE
    data["policy"]["certificate_price"] = 30
    assert warnings_of(data) == []
    del data["policy"]["certificate_price"]
    data["sites"][0]["renewable_mw"] = 1
    assert warnings_of(data) == []

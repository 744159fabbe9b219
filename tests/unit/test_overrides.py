"""--set PATH=VALUE, PATH*=FACTOR and scenarios: selectors, forms, errors, re-validation."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from optimizer.backends.base import SolveOptions
from optimizer.errors import InstanceError
from optimizer.load import load, parse, parse_text
from optimizer.overrides import apply_all
from optimizer.pipeline import solve_document

TINY = Path(__file__).parents[2] / "instances" / "tiny.yaml"


def tiny() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(TINY.read_text())
    return data


def test_id_index_and_star_selectors() -> None:
    out = apply_all(tiny(), ["sites[far].price=400", "sites[0].pue=1.2",
                             "regions[*].demand.batch=5"])
    assert out["sites"][1]["price"] == 400
    assert out["sites"][0]["pue"] == pytest.approx(1.2)
    assert out["regions"][0]["demand"]["batch"] == 5


def test_multiplicative_forms() -> None:
    data = tiny()
    data["regions"][0]["demand"]["batch"] = {"profile": "p", "mean": 10}
    out = apply_all(data, ["sites[*].price*=2", "classes[web].max_latency_ms*=3",
                           "regions[east].demand.batch*=1.5"])
    assert out["sites"][0]["price"] == [200, 400]  # a list: every number
    assert out["sites"][1]["price"] == 100
    assert out["classes"][0]["max_latency_ms"] == 30
    assert out["regions"][0]["demand"]["batch"] == {"profile": "p", "mean": 15}


def test_multiplying_keeps_integers_integer() -> None:
    """``*=`` of an integer stays an integer where the product is whole (``*=2``, ``*=1.0``,
    ``*=1.5`` of 2); an integer field then refuses a product that is not whole."""
    data = tiny()
    data["periods"] = {"count": 2}
    out = apply_all(data, ["periods.count*=2", "sites[*].price*=1.0"])
    assert out["periods"]["count"] == 4
    assert isinstance(out["periods"]["count"], int)
    assert out["sites"][0]["price"] == [100, 200]
    assert all(isinstance(v, int) for v in out["sites"][0]["price"])
    assert apply_all(data, ["periods.count*=1.5"])["periods"]["count"] == 3
    assert apply_all(data, ["periods.count*=1.25"])["periods"]["count"] == 2.5
    with pytest.raises(InstanceError) as info:
        parse(apply_all(data, ["periods.count*=1.25"]))
    assert info.value.problems[0].field == "periods.count"


def test_setting_an_absent_optional_field() -> None:
    out = apply_all(tiny(), ["sites[near].power_cap_mw=20", "policy.carbon_cap_t=1e3"])
    assert out["sites"][0]["power_cap_mw"] == 20
    assert out["policy"]["carbon_cap_t"] == 1000.0


def test_the_input_is_not_modified() -> None:
    data = tiny()
    before = copy.deepcopy(data)
    apply_all(data, ["sites[*].price*=2"])
    assert data == before


def test_values_are_yaml_never_code() -> None:
    out = apply_all(tiny(), ["name=__import__('os').getcwd()", "classes[web].allowed_sites=[near]"])
    assert out["name"] == "__import__('os').getcwd()"
    assert out["classes"][0]["allowed_sites"] == ["near"]


@pytest.mark.parametrize(("text", "message"), [
    ("sites[nope].price=1", "no element with id 'nope'"),
    ("sites[7].price=1", "has 2 elements"),
    ("sites[*].colour*=2", "no field"),
    ("policy.carbon_price*=x", "needs a number"),
    ("sites[far].price.x=1", "is not a mapping"),
    ("name[0]=x", "is not a list"),
    ("noequals", "expected PATH=VALUE"),
    ("sites[far].name*=2", "no field"),
    ("classes[web].id*=2", "cannot multiply"),
    # values are read by the files' reader: no tags, no recursive aliases
    ("name=!!python/object/apply:os.system [ls]", "YAML tags are not allowed: !!python"),
    ("name=!foo x", "YAML tags are not allowed: !foo"),
    ("sites[0].price=[1, !!binary aGk=]", "!!binary"),
    ("sites[0].price=&a [*a]", "recursive alias"),
    ("policy.carbon_price*=.nan", "*= needs a finite number"),
])
def test_bad_overrides_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(InstanceError) as info:
        apply_all(tiny(), [text])
    (problem,) = info.value.problems
    assert problem.file == "--set"
    assert text in problem.format()
    assert message in problem.message


def test_an_override_is_validated_like_the_file() -> None:
    with pytest.raises(InstanceError) as info:
        load(TINY, ["sites[far].pue=0.5"])
    (problem,) = info.value.problems
    assert problem.field == "sites[1].pue"
    assert "PUE must be >= 1" in problem.message
    assert problem.message.endswith("[set by --set sites[far].pue=0.5]")


def test_problems_say_which_override_set_the_value() -> None:
    """The line points at the file's (old) value; the message names the override that set the
    new one. A problem in a value no override touched says nothing more."""
    text = TINY.read_text() + "scenarios:\n  bad: ['sites[*].capacity_mw=-1']\n"
    text = text.replace("renewable_price: 20", "renewable_price: -20")
    with pytest.raises(InstanceError) as info:
        parse_text(text, "t.yaml", ["sites[near].capacity_mw=15", "sites[*].pue*=0.5"], ["bad"])
    found = {p.field: p.message for p in info.value.problems}
    assert found["sites[0].pue"].endswith("[set by --set sites[*].pue*=0.5]")
    assert found["sites[1].capacity_mw"].endswith(
        "[set by scenario 'bad' sites[*].capacity_mw=-1]")
    assert "sites[0].capacity_mw" not in found  # set again, validly, by --set
    assert "[set by" not in found["sites[1].renewable_price"]


def test_an_override_solves_like_the_same_edit_by_hand() -> None:
    by_hand = tiny()
    by_hand["sites"][1]["price"] = 400
    by_hand["policy"]["carbon_price"] = 20
    direct = solve_document(parse(by_hand), SolveOptions()).solution
    doc = load(TINY, ["sites[far].price=400", "policy.carbon_price*=2"])
    sol = solve_document(doc, SolveOptions()).solution
    assert sol.objective == pytest.approx(direct.objective, rel=1e-9)
    assert sol.overrides == ["sites[far].price=400", "policy.carbon_price*=2"]
    assert sol.to_dict()["overrides"] == sol.overrides


SCENARIOS = TINY.read_text() + """
scenarios:
  cheap: ["sites[far].price=10"]
  double: ["sites[far].price*=2"]
"""


def test_scenarios_compose_in_order_then_set() -> None:
    def far_price(names: list[str], sets: list[str] | None = None) -> float:
        doc = parse_text(SCENARIOS, "s.yaml", sets or [], names)
        return float(doc.instance.sites[1].price)  # type: ignore[arg-type]

    assert far_price(["cheap", "double"]) == 20
    assert far_price(["double", "cheap"]) == 10
    assert far_price(["cheap"], ["sites[far].price*=3"]) == 30
    doc = parse_text(SCENARIOS, "s.yaml", ["policy.carbon_price=1"], ["double"])
    assert doc.overrides == ("sites[far].price*=2", "policy.carbon_price=1")


def test_a_bad_scenario_entry_is_blamed_on_the_scenario() -> None:
    text = SCENARIOS + "  typo: ['policy.carbon_price=1', 'sites[far].colour*=2']\n"
    line = text.splitlines().index("  typo: ['policy.carbon_price=1', 'sites[far].colour*=2']")
    with pytest.raises(InstanceError) as info:
        parse_text(text, "s.yaml", ["policy.carbon_price=2"], ["typo"])
    (problem,) = info.value.problems
    assert problem.format().startswith(f"s.yaml:{line + 1}  scenarios.typo[1]  no field ")
    assert "(in scenario 'typo': sites[far].colour*=2)" in problem.message
    assert "--set" not in problem.format()


def test_unknown_scenario_lists_the_defined_ones() -> None:
    with pytest.raises(InstanceError, match="defines: cheap, double"):
        parse_text(SCENARIOS, "s.yaml", [], ["nope"])


def test_national_scenarios_move_the_optimum_the_right_way() -> None:
    """A higher carbon price cannot raise emissions; dearer western power cannot lower cost."""
    base = solve_document(load(), SolveOptions()).solution
    carbon = solve_document(load(None, [], ["high-carbon"]), SolveOptions()).solution
    west = solve_document(load(None, [], ["west-price-up"]), SolveOptions()).solution
    assert carbon.totals["carbon_t"] <= base.totals["carbon_t"] * (1 + 1e-9)
    assert west.objective is not None
    assert base.objective is not None
    assert west.objective >= base.objective

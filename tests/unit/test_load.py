"""Loading: YAML details, series expansion, periods and the error locations."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.compile import compile_instance
from optimizer.errors import InstanceError
from optimizer.load import load, parse_text

MINIMAL = """\
version: 1
periods: {count: 4}
profiles:
  shape: [1, 2, 3, 2]
regions:
  - id: r
    location: [30, 120]
    demand: {k: {profile: shape, mean: 10}, j: {profile: shape, max: 6}}
sites:
  - id: s
    location: [30, 120]
    capacity_mw: 1e2
    pue: [1.1, 1.2, 1.3, 1.4]
    price: 50
classes:
  - id: k
  - id: j
"""


def test_series_forms_expand() -> None:
    arrays = compile_instance(parse_text(MINIMAL).instance)
    shape = np.array([1, 2, 3, 2.0])
    np.testing.assert_allclose(arrays.demand[0, 0], shape / shape.mean() * 10)
    np.testing.assert_allclose(arrays.demand[0, 1], shape / shape.max() * 6)
    np.testing.assert_allclose(arrays.pue[0], [1.1, 1.2, 1.3, 1.4])
    np.testing.assert_allclose(arrays.price[0], 50.0)
    assert arrays.capacity[0] == 100.0  # YAML 1.2 float 1e2 read as a number
    assert arrays.periods == ["t00", "t01", "t02", "t03"]


def test_period_list_form() -> None:
    text = MINIMAL.replace("periods: {count: 4}", "periods: [{id: a, hours: 2, weight: 3}, "
                           "{id: b}, {id: c, hours: 0.5}, {id: d, weight: 0}]")
    arrays = compile_instance(parse_text(text).instance)
    assert arrays.periods == ["a", "b", "c", "d"]
    np.testing.assert_allclose(arrays.annual, [6.0, 1.0, 0.5, 0.0])


def errors_of(text: str) -> list[str]:
    with pytest.raises(InstanceError) as info:
        parse_text(text, "x.yaml")
    return [p.format() for p in info.value.problems]


def test_error_has_file_line_and_path() -> None:
    text = MINIMAL.replace("pue: [1.1, 1.2, 1.3, 1.4]", "pue: [1.1, 0.9, 1.3, 1.4]")
    line = text.splitlines().index("    pue: [1.1, 0.9, 1.3, 1.4]") + 1
    (message,) = errors_of(text)
    assert message.startswith(f"x.yaml:{line}  sites[0].pue  PUE must be >= 1")
    assert "(0.9)" in message


def test_union_tags_do_not_leak_into_paths() -> None:
    text = MINIMAL.replace("pue: [1.1, 1.2, 1.3, 1.4]", "pue: [1.1, x, 1.3, 1.4]")
    (message,) = errors_of(text)
    assert "sites[0].pue[1]" in message
    assert ".list" not in message


def test_duplicate_keys_are_rejected_with_both_lines() -> None:
    text = MINIMAL.replace("    price: 50\n", "    price: 50\n    price: 60\n")
    (message,) = errors_of(text)
    assert "duplicate key 'price'" in message
    assert "sites[0].price" in message


def test_every_problem_at_once() -> None:
    text = (MINIMAL.replace("capacity_mw: 1e2", "capacity_mw: 1e2\n    colour: red")
            .replace("location: [30, 120]\n    demand", "location: [95, 120]\n    demand"))
    messages = errors_of(text)
    assert len(messages) == 2
    assert any("sites[0].colour  unknown field" in m for m in messages)
    assert any("regions[0].location[0]" in m for m in messages)


def test_shipped_national_instance_loads() -> None:
    doc = load()
    assert len(doc.instance.sites) == 10
    assert len(doc.instance.regions) >= 15
    assert len(doc.instance.classes) >= 4
    assert not doc.warnings


MIXED = """\
version: 1
periods: {count: 2}
regions:
  - {id: r0, location: [30, 110], demand: {web: 10, nosuch: 5}}
  - {id: r1, location: [30, 110], demand: {web: -1}}
sites:
  - {id: A, location: [30, 110], capacity_mw: -5, pue: 1.2, price: 100}
  - {id: B, location: [30, 110], capacity_mw: 5, pue: 0.9, price: [1, 2, 3]}
classes:
  - {id: web, unmet_penalty: 100, allowed_sites: [A, C]}
"""


def test_shape_and_semantic_errors_are_listed_together() -> None:
    """Site A has a shape error (negative capacity): it is left out and the rest is checked.
    B keeps its index and line in the file; 'A' in allowed_sites is not called unknown."""
    messages = errors_of(MIXED)
    assert messages == [
        "x.yaml:7  sites[0].capacity_mw  Input should be greater than or equal to 0  (-5)",
        "x.yaml:4  regions[0].demand.nosuch  unknown class id  ('nosuch')",
        "x.yaml:5  regions[1].demand.web  demand must be >= 0 in every period  (-1.0)",
        "x.yaml:8  sites[1].pue  PUE must be >= 1 in every period  (0.9)",
        "x.yaml:8  sites[1].price  series has 3 values, expected one per period (2)",
        "x.yaml:10  classes[0].allowed_sites[1]  unknown site id  ('C')",
    ]


def test_a_left_out_region_shifts_no_later_index() -> None:
    text = MIXED.replace("capacity_mw: -5", "capacity_mw: 5").replace(
        "{id: r0, location: [30, 110]", "{id: r0, location: [95, 110]")
    messages = errors_of(text)
    assert messages[0].startswith("x.yaml:4  regions[0].location[0]")
    assert "x.yaml:5  regions[1].demand.web  demand must be >= 0 in every period  (-1.0)" \
        in messages
    assert not any("nosuch" in m for m in messages)  # r0 was left out, with its demand


@pytest.mark.parametrize(("edit", "shape_error"), [
    ("periods: {count: 2}\npolicy: {carbon_price: -1}", "x.yaml:3  policy.carbon_price  "),
    ("periods: {count: 2}\npolicy: 5", "x.yaml:3  policy  expected a mapping"),
    ("periods: {count: 2}\ncolour: red", "x.yaml:3  colour  unknown field"),
    ("periods: {count: 2}\nnetwork: {latency: {base_ms: x}}", "x.yaml:3  network.latency.base_ms"),
    ("periods: {count: 2}\nscenarios: {a: [1]}", "x.yaml:3  scenarios.a[0]  "),
    ("periods: {count: 2}\nname: [x]", "x.yaml:3  name  "),
])
def test_a_shape_error_in_a_top_level_block_hides_no_semantic_error(edit: str,
                                                                     shape_error: str) -> None:
    """The field with the shape error is left out (its default stands in) and the rest is
    checked: every semantic error of MIXED is still listed, one line lower."""
    messages = errors_of(MIXED.replace("periods: {count: 2}", edit))
    (shape,) = [m for m in messages if m.startswith(shape_error)]
    assert [m for m in messages if m != shape] == [
        "x.yaml:8  sites[0].capacity_mw  Input should be greater than or equal to 0  (-5)",
        "x.yaml:5  regions[0].demand.nosuch  unknown class id  ('nosuch')",
        "x.yaml:6  regions[1].demand.web  demand must be >= 0 in every period  (-1.0)",
        "x.yaml:9  sites[1].pue  PUE must be >= 1 in every period  (0.9)",
        "x.yaml:9  sites[1].price  series has 3 values, expected one per period (2)",
        "x.yaml:11  classes[0].allowed_sites[1]  unknown site id  ('C')",
    ]


def test_a_bad_version_hides_no_semantic_error() -> None:
    messages = errors_of(MIXED.replace("version: 1", "version: true"))
    assert messages[0] == "x.yaml:1  version  expected the number 1 or 2, not true  (True)"
    assert len(messages) == 7


def test_no_semantic_pass_when_the_shape_error_is_outside_an_item() -> None:
    """A bad period count leaves no way to check series lengths: the shape error alone."""
    messages = errors_of(MIXED.replace("periods: {count: 2}", "periods: {count: -2}"))
    assert len(messages) == 2  # the period count and site A's capacity
    assert all("count" in m or "capacity_mw" in m for m in messages)

"""Study files and ``--vary``: parameters, levels, grid and zip expansion, bad files (exit 2)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from optimizer.errors import InstanceError
from optimizer.records.inputs import Parameter, Study
from optimizer.studies.spec import expand, load_study, parse_vary

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny.yaml"


def test_values_factors_and_ranges() -> None:
    assert Parameter(path="a.b", values=[0, "x", None]).levels() == [0, "x", None]
    assert Parameter(path="a.b", factors=[0.5, 2]).levels() == [0.5, 2.0]
    # n evenly spaced values from a to b inclusive; integral ones are ints
    assert Parameter(path="a.b", range=(5, 40, 8)).levels() == [5, 10, 15, 20, 25, 30, 35, 40]
    assert Parameter(path="a.b", range=(0, 1, 3)).levels() == [0.0, 0.5, 1.0]
    assert Parameter(path="a.b", factor_range=(0.7, 1.3, 5)).levels() == [0.7, 0.85, 1.0,
                                                                           1.15, 1.3]
    assert Parameter(path="a.b", range=(3, 3, 1)).levels() == [3]


def test_overrides_set_or_multiply_every_path() -> None:
    p = Parameter(paths=["sites[a].price", "sites[b].price"], factors=[0.85], label="west")
    assert p.name == "west"
    assert p.overrides(0.85) == ["sites[a].price*=0.85", "sites[b].price*=0.85"]
    q = Parameter(path="policy.carbon_cap_t", values=[None, 100.5, "x"])
    assert [q.overrides(v)[0] for v in q.levels()] == [
        "policy.carbon_cap_t=null", "policy.carbon_cap_t=100.5", 'policy.carbon_cap_t="x"']
    assert Parameter(paths=["a.b", "c.d", "e.f"], values=[1]).name == "a.b (+2)"


def test_grid_is_the_cartesian_product_first_parameter_slowest() -> None:
    study = Study(name="s", parameters=[
        Parameter(path="policy.carbon_price", values=[0, 100]),
        Parameter(path="sites[far].price", factors=[0.5, 1.0, 2.0]),
    ])
    points = expand(study)
    assert [p.levels for p in points] == [(0, 0.5), (0, 1.0), (0, 2.0),
                                          (100, 0.5), (100, 1.0), (100, 2.0)]
    assert points[4].overrides == ("policy.carbon_price=100", "sites[far].price*=1.0")
    assert [p.index for p in points] == list(range(6))


def test_zip_moves_the_parameters_in_step() -> None:
    study = Study(name="s", mode="zip", parameters=[
        Parameter(path="policy.carbon_price", range=(0, 200, 3)),
        Parameter(paths=["sites[near].price", "sites[far].price"], factors=[1.0, 1.1, 1.2]),
    ])
    points = expand(study)
    assert [p.levels for p in points] == [(0, 1.0), (100, 1.1), (200, 1.2)]
    assert points[1].overrides == ("policy.carbon_price=100", "sites[near].price*=1.1",
                                   "sites[far].price*=1.1")


@pytest.mark.parametrize(("text", "expected"), [
    ("policy.carbon_price=0:300:4", {"path": "policy.carbon_price", "levels": [0, 100, 200, 300],
                                     "multiplies": False}),
    ("policy.carbon_price=0,50,null", {"path": "policy.carbon_price", "levels": [0, 50, None],
                                       "multiplies": False}),
    ("sites[far].price*=0.5:1.5:3", {"path": "sites[far].price", "levels": [0.5, 1.0, 1.5],
                                     "multiplies": True}),
    ("sites[far].price*=0.9,1.1", {"path": "sites[far].price", "levels": [0.9, 1.1],
                                   "multiplies": True}),
    ("sites[a].price,sites[b].price*=0.5,1", {"paths": ["sites[a].price", "sites[b].price"],
                                              "levels": [0.5, 1.0], "multiplies": True}),
])
def test_vary_forms(text: str, expected: dict[str, Any]) -> None:
    p = parse_vary(text)
    assert p.levels() == expected["levels"]
    assert p.multiplies is expected["multiplies"]
    assert p.targets == expected.get("paths", [expected.get("path")])


@pytest.mark.parametrize("text", ["policy.carbon_price", "policy.carbon_price=",
                                  "sites[x.price=1", "a.b*=x,y", "a.b=0:1:0"])
def test_bad_vary_is_refused(text: str) -> None:
    with pytest.raises(InstanceError):
        parse_vary(text)


def test_study_file_paths_are_relative_to_it(write_study: Callable[..., Path]) -> None:
    path = write_study({"name": "s", "instance": "../tiny.yaml", "set": ["policy.carbon_price=5"],
                        "parameters": [{"path": "policy.carbon_price", "values": [1]}]})
    study, folder, _ = load_study(path)
    assert folder == path.parent
    assert study.set_ == ["policy.carbon_price=5"]
    assert study.instance == "../tiny.yaml"


GOOD = {"name": "s", "instance": str(TINY),
        "parameters": [{"path": "policy.carbon_price", "values": [0, 10]}]}


@pytest.mark.parametrize(("text", "where", "message"), [
    ("name: s\ninstance: {tiny}\nparameters:\n  - {{path: policy.carbon_price, values: [1],\n"
     "     colour: red}}\n", ":5  parameters[0].colour", "unknown field"),
    ("instance: {tiny}\nparameters:\n  - {{path: policy.carbon_price, values: [1]}}\n",
     "name", "required"),
    ("name: s\ninstance: {tiny}\nparameters:\n  - {{path: a.b, paths: [c.d], values: [1]}}\n",
     ":4  parameters[0]", "either 'path' or 'paths'"),
    ("name: s\ninstance: {tiny}\nparameters:\n  - {{path: a.b, values: [1], factors: [2]}}\n",
     ":4  parameters[0]", "exactly one of"),
    ("name: s\ninstance: {tiny}\nparameters:\n  - {{path: a.b, range: [0, 1, 0]}}\n",
     ":4  parameters[0]", "n >= 1"),
    ("name: s\ninstance: {tiny}\nmode: zip\nparameters:\n  - {{path: a.b, values: [1, 2]}}\n"
     "  - {{path: c.d, values: [1, 2, 3]}}\n", ":6  parameters[1]", "same number of levels"),
    ("name: s\ninstance: {tiny}\nparameters:\n  - {{path: a.b, values: [1]}}\n"
     "  - {{path: a.b, values: [2]}}\n", ":5  parameters[1].label", "unique"),
    ("name: s\ninstance: {tiny}\nparameters:\n  - {{path: 'sites[nowhere].price', "
     "values: [1]}}\n", ":4  parameters[0].path", "no element with id 'nowhere'"),
    ("name: s\ninstance: {tiny}\nparameters:\n  - {{path: policy.no_such_field, "
     "factors: [2]}}\n", ":4  parameters[0].path", "no field"),
    ("name: s\ninstance: {tiny}\nparameters:\n  - {{paths: ['sites[near].price', 'classes[web]"
     ".id'], factors: [2]}}\n", ":4  parameters[0].paths[1]", "cannot multiply"),
    ("name: bad name\ninstance: {tiny}\nparameters:\n  - {{path: a.b, values: [1]}}\n",
     ":1  name", "pattern"),
    ("name: s\ninstance: {tiny}\nparameters: []\n", ":3  parameters", "at least 1"),
    ("name: s\nname: t\n", ":2  name", "duplicate key"),
    ("name: s\n  bad: [\n", "study.yaml", "invalid YAML"),
])
def test_bad_study_file_exits_2_with_line_and_path(
        text: str, where: str, message: str, write_study: Callable[..., Path],
        cli: Callable[..., Any]) -> None:
    path = write_study(text.format(tiny=TINY))
    ran = cli(["sweep", path, "--out", path.parent / "out", "--no-plots"])
    assert ran.code == 2, ran.stderr
    assert where in ran.stderr, ran.stderr
    assert message in ran.stderr, ran.stderr
    assert "Traceback" not in ran.stderr
    assert not (path.parent / "out" / "results.csv").exists()


def test_an_instance_file_is_not_a_study(cli: Callable[..., Any], tmp_path: Path) -> None:
    ran = cli(["sweep", TINY, "--out", tmp_path / "out"])
    assert ran.code == 2
    assert "this is an instance file, not a study" in ran.stderr
    assert "--vary" in ran.stderr


def test_missing_study_and_unknown_base_override(cli: Callable[..., Any],
                                                 write_study: Callable[..., Path],
                                                 tmp_path: Path) -> None:
    assert cli(["sweep"]).code == 2
    ran = cli(["sweep", tmp_path / "nope.yaml"])
    assert ran.code == 2
    assert "cannot read the study" in ran.stderr
    path = write_study({**GOOD, "set": ["sites[nowhere].price=1"]})
    ran = cli(["sweep", path, "--out", tmp_path / "out"])
    assert ran.code == 2
    assert "nowhere" in ran.stderr
    ran = cli(["sweep", path, "--out", tmp_path / "out", "--scenario", "nope"])
    assert ran.code == 2


def test_bad_vary_on_the_command_line_exits_2(cli: Callable[..., Any], tmp_path: Path) -> None:
    ran = cli(["sweep", TINY, "--vary", "sites[nowhere].price*=1,2", "--out", tmp_path / "o"])
    assert ran.code == 2
    assert "sites[nowhere].price*=1,2" in ran.stderr
    assert "no element with id 'nowhere'" in ran.stderr
    ran = cli(["sweep", TINY, "--vary", "policy.carbon_price=1:2:x", "--out", tmp_path / "o"])
    assert ran.code == 2
    ran = cli(["sweep", TINY, "--vary", "a.b=1,2", "--vary", "c.d=1", "--zip",
               "--out", tmp_path / "o"])
    assert ran.code == 2
    assert "same number of levels" in ran.stderr


def test_bad_options_exit_2(cli: Callable[..., Any], tmp_path: Path) -> None:
    base = ["sweep", TINY, "--vary", "policy.carbon_price=0,1", "--out", tmp_path / "o"]
    assert cli([*base, "--solver", "nope"]).code == 2
    assert cli([*base, "--backend", "nope"]).code == 2
    assert cli([*base, "--time-limit", "0"]).code == 2
    assert cli([*base, "--jobs", "2", "--dask", "local"]).code == 2
    blocker = tmp_path / "file"
    blocker.write_text("")
    ran = cli(["sweep", TINY, "--vary", "policy.carbon_price=0,1", "--out", blocker / "o"])
    assert ran.code == 2
    assert f"--out {blocker / 'o'}: {blocker} is not a folder" in ran.stderr

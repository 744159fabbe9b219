"""The study engine is a library: no command line, no terminal; the CLI registers the commands.
Its records serialise to the JSON the cache has always held."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import optimizer
from optimizer.backends.base import SolveOptions
from optimizer.records.inputs import Goal
from optimizer.records.results import PointResult
from optimizer.studies.cache import Cache
from optimizer.studies.tasks import task_key

PACKAGE = Path(optimizer.__file__).parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


LIBRARY = [*(PACKAGE / "studies").glob("*.py"), *(PACKAGE / "records").glob("*.py"),
           PACKAGE / "study.py"]


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_engine_knows_no_cli_and_never_prints(path: Path) -> None:
    names = imports_of(path)
    assert not {n for n in names if n.split(".")[0] in ("typer", "rich", "click")}
    assert not {n for n in names if n.startswith("optimizer.cli")}
    assert "print(" not in path.read_text()


def test_report_modules_read_records_not_the_engine() -> None:
    for path in (PACKAGE / "report").glob("*.py"):
        names = imports_of(path)
        assert not {n for n in names if n.startswith("optimizer.stud")}, path


def test_sweep_and_pareto_are_registered(cli: Callable[..., Any]) -> None:
    ran = cli(["--help"])
    assert ran.code == 0
    assert "sweep" in ran.stdout
    assert "pareto" in ran.stdout


def test_cache_key_covers_instance_overrides_options_and_goal() -> None:
    key = task_key("a" * 64, ["x=1"], SolveOptions())
    assert key == task_key("a" * 64, ["x=1"], SolveOptions(log=True, threads=4))
    assert key != task_key("b" * 64, ["x=1"], SolveOptions())
    assert key != task_key("a" * 64, ["x=2"], SolveOptions())
    assert key != task_key("a" * 64, ["x=1", "y=1"], SolveOptions())
    assert key != task_key("a" * 64, ["x=1"], SolveOptions(solver="glop"))
    assert key != task_key("a" * 64, ["x=1"], SolveOptions(time_limit=5))
    assert key != task_key("a" * 64, ["x=1"], SolveOptions(), Goal("carbon"))


# A goal's point (the min-latency end of a cost-latency front) and a failed point, as the
# cache files written before the records were typed hold them (a failed point has no timings);
# OLD_POINT is the goal's point without "warm", which came after the first cache version.
GOAL_POINT = """{
 "cache_version": 1,
 "key": "9a4c",
 "index": 1,
 "label": "min latency",
 "eastwest": "0.1.0",
 "instance": "instances/tiny.yaml",
 "instance_sha256": "e3b0",
 "overrides": [],
 "options": {
  "backend": "ortools",
  "solver": "auto",
  "time_limit": null,
  "gap": null
 },
 "goal": {
  "minimize": "latency",
  "then": "cost",
  "bounds": [
   [
    "unmet",
    0.0
   ]
  ],
  "hold_service": false
 },
 "worker": "vm:101",
 "status": "optimal",
 "message": "optimal (clp)",
 "kpis": {
  "objective": 1234.5,
  "cost": 1234.5,
  "costs": {
   "energy": 1000.0,
   "unmet": 234.5
  },
  "carbon_t": 12.25,
  "renewable_share": 0.1,
  "unmet_mwh": 0.0,
  "served_mwh": 24.0,
  "demand_mwh": 24.0,
  "west_share": null,
  "latency_ms": {
   "web": 2.0,
   "batch": null
  },
  "built_mw": {},
  "carbon_cap_price": null,
  "carbon": 12.25,
  "latency_mwh_ms": 48.0,
  "latency_cap_price": null,
  "goal_objective": 48.0
 },
 "transient": false,
 "solve_s": 0.01,
 "total_s": 0.02,
 "warm": false
}
"""
FAILED_POINT = """{
 "cache_version": 1,
 "key": "77f0",
 "index": 3,
 "label": "x=1",
 "eastwest": "0.1.0",
 "instance": "<package>/china-national.yaml",
 "instance_sha256": "e3b0",
 "overrides": [
  "sites[near].capacity_mw=-1"
 ],
 "options": {
  "backend": "ortools",
  "solver": "glop",
  "time_limit": 5.0,
  "gap": null
 },
 "goal": null,
 "worker": "vm:102",
 "status": "invalid",
 "message": "capacity_mw: must be >= 0",
 "kpis": {},
 "transient": false
}
"""
OLD_POINT = GOAL_POINT.replace(',\n "warm": false', "")


@pytest.mark.parametrize("text", [GOAL_POINT, FAILED_POINT, OLD_POINT],
                         ids=["goal", "failed", "without-warm"])
def test_cache_files_read_and_write_back_unchanged(text: str, tmp_path: Path) -> None:
    key = json.loads(text)["key"]
    (tmp_path / f"{key}.json").write_text(text)
    cache = Cache(tmp_path)
    result = cache.load(key)
    assert result is not None
    assert result.cached is False
    cache.save(result)
    assert (tmp_path / f"{key}.json").read_text() == text
    assert PointResult.from_json(json.loads(text)).to_json() == json.loads(text)


def test_a_goal_points_record_is_typed() -> None:
    result = PointResult.from_json(json.loads(GOAL_POINT))
    assert result.goal == Goal("latency", then="cost", bounds=(("unmet", 0.0),))
    assert result.kpis is not None
    assert result.kpis.goal is not None
    assert result.kpis.goal.latency_mwh_ms == 48.0
    assert result.kpis.latency_ms == {"web": 2.0, "batch": None}
    failed = PointResult.from_json(json.loads(FAILED_POINT))
    assert failed.kpis is None
    assert failed.warm is None
    assert not failed.optimal
    assert PointResult.from_json(json.loads(OLD_POINT)).warm is None


def test_a_record_that_is_not_one_is_solved_again(tmp_path: Path) -> None:
    data = json.loads(FAILED_POINT)
    del data["status"]
    (tmp_path / "77f0.json").write_text(json.dumps(data))
    assert Cache(tmp_path).load("77f0") is None

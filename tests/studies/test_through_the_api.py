"""The CLI over the library (optimizer.api): what the commands pass through it and get back
that the other CLI tests did not pin down. The closing line of refused input names the input
the problems are in (the library's ``InstanceError.source``): ``--vary``, the study file, the
instance it names, the suite; ``--no-cache`` and ``--solutions`` reach the run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny.yaml"
Runner = Callable[..., Any]


def _inputs(folder: Path) -> dict[str, Path]:
    bad = folder / "bad.yaml"
    bad.write_text(TINY.read_text(encoding="utf-8").replace("pue: 1.5", "pue: 0.5"),
                   encoding="utf-8")
    files = {"bad": bad}
    for name, body in {
        "on_bad": "instance: bad.yaml\nparameters: [{path: policy.carbon_price, values: [1]}]",
        "bad_path": f"instance: {TINY}\nparameters: [{{path: 'sites[nowhere].price', "
                    "values: [1]}]",
        "bad_field": f"instance: {TINY}\nparameters: [{{path: policy.carbon_price, "
                     "valus: [1]}]",
        "suite": "cases: [{name: x, instance: nowhere.yaml}]",
    }.items():
        files[name] = folder / f"{name}.yaml"
        files[name].write_text(f"name: s\n{body}\n", encoding="utf-8")
    return files


# (arguments, the input the closing line names, how many problems); {name} is a file above
CASES = [
    (["sweep", TINY, "--vary", "nonsense", "--vary", "policy.carbon_price=a:b:3"], "--vary", 2),
    (["sweep", TINY, "--vary", "sites[nowhere].price=1:2:2"], "--vary", 1),
    (["sweep", TINY, "--vary", "policy.carbon_price=1:2:2000", "--max-points", "100"],
     "--vary", 1),
    (["sweep", "{bad}", "--vary", "policy.carbon_price=1:2:2"], "{bad}", 1),
    (["sweep", "--vary", "policy.carbon_price=1:2:2", "--set", "policy.carbon_price=-5"],
     "the national instance", 1),
    (["sweep", "{on_bad}"], "{bad}", 1),
    (["sweep", "{bad_path}"], "{bad_path}", 1),
    (["sweep", "{bad_field}"], "{bad_field}", 1),
    (["pareto", TINY, "--objectives", "cost,water"], str(TINY), 1),
    (["pareto", "{bad}"], "{bad}", 1),
    (["bench", "{suite}"], "{suite}", 1),
]


@pytest.mark.parametrize(("args", "source", "count"), CASES,
                         ids=[f"{a[0]}-{i}" for i, (a, _, _) in enumerate(CASES)])
def test_the_closing_line_names_the_input_with_the_problems(
        args: list[str | Path], source: str, count: int, cli: Runner,
        tmp_path: Path) -> None:
    files = {k: str(v) for k, v in _inputs(tmp_path).items()}
    ran = cli([str(a).format(**files) for a in args]
                        + ["--out", str(tmp_path / "out")])
    assert ran.code == 2, ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    closing = ran.stderr.strip().splitlines()[-1]
    plural = "s" if count > 1 else ""
    assert closing == f"{source.format(**files)}: {count} problem{plural}; nothing was solved."
    assert not (tmp_path / "out").exists()


def test_no_cache_solves_every_point_again_and_solutions_are_written(
        cli: Runner, tmp_path: Path) -> None:
    args = ["sweep", TINY, "--vary", "policy.carbon_price=0:20:3", "--out", tmp_path,
            "--no-plots", "-q"]
    first = cli([*args, "--solutions"])
    assert first.code == 0, first.stderr
    assert "3 solved (serial), 0 from cache" in first.stderr
    assert sorted(p.name for p in (tmp_path / "solutions").iterdir()) == [
        "point-0000.json", "point-0001.json", "point-0002.json"]
    again = cli(args)
    assert "0 solved (serial), 3 from cache" in again.stderr, again.stderr
    fresh = cli([*args, "--no-cache"])
    assert "3 solved (serial), 0 from cache" in fresh.stderr, fresh.stderr

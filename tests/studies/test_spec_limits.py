"""A study's points counted from its spec and capped; its fields checked before any work.

The cap (``MAX_POINTS``, 10,000 unless ``--max-points`` raises it) is checked on counts alone:
a range of 10**8 levels is refused without building one level. Levels JSON cannot hold (a
number that is not finite, at any depth; a key that is not a string), tagged values (dates,
binary), an unknown solver and time limits or gaps out of range are refused naming the file,
the line and the field path, every problem at once, and nothing is solved.
"""

from __future__ import annotations

import csv
import tracemalloc
from pathlib import Path

import pytest

from optimizer.errors import InstanceError
from optimizer.records.inputs import Parameter, Study
from optimizer.studies.base import prepare_base
from optimizer.studies.spec import MAX_POINTS, load_study, point_count

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny.yaml"


def _line(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error  ")]


def study_text(levels: str, extra: str = "", second: str = "") -> str:
    return (f"name: s\ninstance: {TINY}\n{extra}parameters:\n"
            f"  - path: policy.carbon_price\n    {levels}\n{second}")


def test_points_are_counted_from_the_spec_without_building_a_level() -> None:
    """3 x 10**8 points in a grid, 10**8 in step: counted with a few kilobytes."""
    grid = Study(name="s", parameters=[Parameter(path="a.b", range=(0, 1, 10**8)),
                                       Parameter(path="c.d", values=[1, 2, 3])])
    zipped = Study(name="s", mode="zip", parameters=[Parameter(path="a.b",
                                                               factor_range=(0, 1, 10**8))])
    tracemalloc.start()
    try:
        counts = point_count(grid), point_count(zipped)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert counts == (3 * 10**8, 10**8)
    assert peak < 1_000_000  # a built range of 10**8 floats would be 800 MB


@pytest.mark.parametrize(("levels", "second", "count", "field", "fragment"), [
    ("range: [0, 1, 100000000]", "", "100,000,000 points (100,000,000 levels)",
     "parameters[0].range", "range:"),
    ("range: [0, 1, 101]", "  - path: sites[far].price\n    factors: [" + ", ".join(
        ["1"] * 100) + "]\n", "10,100 points (101 x 100 levels)", "parameters", "parameters:"),
], ids=["one-range", "a-grid-of-two"])
def test_more_points_than_the_cap_are_refused_naming_the_field(
        levels: str, second: str, count: str, field: str, fragment: str, write_study, cli,
        nothing_solved: list[str], tmp_path: Path) -> None:
    text = study_text(levels, second=second)
    path = write_study(text)
    out = tmp_path / "out"
    ran = cli(["sweep", path, "--out", out, "-q", "--no-plots"])
    assert ran.code == 2, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    assert _errors(ran.stderr) == [
        f"error  {path}:{_line(text, fragment)}  {field}  this study has {count}, more than "
        f"the limit of {MAX_POINTS:,}: use fewer levels, or raise the limit with --max-points N"]
    assert nothing_solved == []
    assert not out.exists()


def test_max_points_raises_the_cap(write_study, cli, tmp_path: Path) -> None:
    """Four points (carbon prices 0, 10, 20, 30 on tiny): refused under --max-points 3, all
    four solved under --max-points 4."""
    path = write_study(study_text("range: [0, 30, 4]"))
    refused = cli(["sweep", path, "--max-points", "3", "--out", tmp_path / "a", "-q",
                   "--no-plots"])
    assert refused.code == 2
    assert "this study has 4 points (4 levels), more than the limit of 3" in refused.stderr
    solved = cli(["sweep", path, "--max-points", "4", "--out", tmp_path / "b", "-q",
                  "--no-plots"])
    assert solved.code == 0, solved.stderr
    with (tmp_path / "b" / "results.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["policy.carbon_price"] for r in rows] == ["0", "10", "20", "30"]
    assert all(r["status"] == "optimal" for r in rows)


def test_the_default_cap_is_ten_thousand(write_study) -> None:
    assert MAX_POINTS == 10_000
    exactly = write_study(study_text("range: [0, 1, 10000]"), "ok.yaml")
    assert point_count(load_study(exactly)[0]) == 10_000
    with pytest.raises(InstanceError) as caught:
        load_study(write_study(study_text("range: [0, 1, 10001]"), "over.yaml"))
    assert "10,001 points" in caught.value.problems[0].message
    assert point_count(load_study(write_study(study_text("range: [0, 1, 10001]"), "over.yaml"),
                                  max_points=None)[0]) == 10_001


@pytest.mark.parametrize("vary", [["policy.carbon_price=0:1:100000000"],
                                  ["policy.carbon_price=0:1:200", "sites[far].price=0:1:200"]],
                         ids=["one", "a-grid"])
def test_the_cap_holds_for_vary_too(vary: list[str], cli, nothing_solved: list[str],
                                    tmp_path: Path) -> None:
    args = [a for v in vary for a in ("--vary", v)]
    ran = cli(["sweep", TINY, *args, "--out", tmp_path / "out", "-q", "--no-plots"])
    assert ran.code == 2, ran.stderr
    named = vary[0] if len(vary) == 1 else ", ".join(vary)
    errors = _errors(ran.stderr)
    assert len(errors) == 1
    assert errors[0].startswith(f"error  --vary  {named}  this study has ")
    assert "more than the limit of 10,000" in errors[0]
    assert nothing_solved == []


# -- study fields: (id, the study's levels line, extra top-level lines, field, line fragment,
# message)
FIELDS = [
    ("nested-inf", "values: [[1, .inf]]", "", "parameters[0].values[0][1]", "values:",
     "values must be finite  (inf)"),
    ("nan-in-a-mapping", "values: [{a: .nan}]", "", "parameters[0].values[0].a", "values:",
     "values must be finite  (nan)"),
    ("number-as-key", "values: [{1.5: 2}]", "", "parameters[0].values[0]", "values:",
     "a key in a value must be a string (quote it)  (1.5)"),
    ("bool-as-key", "values: [{true: 2}]", "", "parameters[0].values[0]", "values:",
     "a key in a value must be a string (quote it)  (True)"),
    ("timestamp", "values: [!!timestamp 2001-12-14]", "", "parameters[0].values[0]", "values:",
     "YAML tags are not allowed: !!timestamp"),
    ("binary", "values: [!!binary aGVsbG8=]", "", "parameters[0].values[0]", "values:",
     "YAML tags are not allowed: !!binary"),
    ("time-limit-inf", "values: [1]", "time_limit: .inf\n", "time_limit", "time_limit",
     "Input should be a finite number"),
    ("time-limit-nan", "values: [1]", "time_limit: .nan\n", "time_limit", "time_limit",
     "Input should be a finite number"),
    ("gap-inf", "values: [1]", "gap: .inf\n", "gap", "gap", "Input should be a finite number"),
    ("gap-one", "values: [1]", "gap: 1\n", "gap", "gap", "Input should be less than 1"),
    ("solver-unknown", "values: [1]", "solver: gurobi\n", "solver", "solver",
     "'gurobi' is not available with the ortools backend"),
    ("solver-of-another-backend", "values: [1]", "backend: pulp\nsolver: glop\n", "solver",
     "solver", "'glop' is not available with the pulp backend"),
]


@pytest.mark.parametrize(("levels", "extra", "field", "fragment", "message"),
                         [f[1:] for f in FIELDS], ids=[f[0] for f in FIELDS])
def test_a_bad_study_field_is_refused_with_its_line(levels: str, extra: str, field: str,
                                                    fragment: str, message: str, write_study,
                                                    cli, nothing_solved: list[str],
                                                    tmp_path: Path) -> None:
    text = study_text(levels, extra)
    path = write_study(text)
    out = tmp_path / "out"
    ran = cli(["sweep", path, "--out", out, "-q", "--no-plots"])
    assert ran.code == 2, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    prefix = f"error  {path}:{_line(text, fragment)}  {field}  "
    hits = [e for e in _errors(ran.stderr) if e.startswith(prefix)]
    assert any(message in e for e in hits), ran.stderr
    assert nothing_solved == []
    assert not out.exists()


def test_every_study_problem_at_once(write_study, cli, nothing_solved: list[str]) -> None:
    """A refused top-level field (time_limit, gap) hides neither the levels' problems nor the
    solver's nor the count."""
    text = study_text("values: [[.inf], {1: 2}]", "solver: gurobi\ntime_limit: .inf\ngap: 5\n",
                      "  - path: sites[far].price\n    range: [0, 1, 100000]\n")
    ran = cli(["sweep", write_study(text), "-q", "--no-plots"])
    assert ran.code == 2
    fields = sorted(e.split("  ")[2] for e in _errors(ran.stderr))
    assert fields == ["gap", "parameters[0].values[0][0]", "parameters[0].values[1]",
                      "parameters[1].range", "solver", "time_limit"], ran.stderr
    assert nothing_solved == []


def test_a_study_instance_is_read_with_the_bounded_reader(tmp_path: Path) -> None:
    """prepare_base reads through yamlio.read_text: a 65 MiB file is refused unread, bytes that
    are not UTF-8 are named with their line."""
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(65 * 2**20)
    with pytest.raises(InstanceError) as caught:
        prepare_base(big)
    assert caught.value.problems[0].message == "the file is larger than the limit of 64 MiB"
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(TINY.read_bytes().replace(b"name: tiny", b"name: t\xffny"))
    with pytest.raises(InstanceError) as caught:
        prepare_base(bad)
    problem = caught.value.problems[0]
    assert (problem.line, problem.message[:27]) == (_line(TINY.read_text(), "name: tiny"),
                                                    "not UTF-8 text: byte 0xff (")

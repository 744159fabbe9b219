"""Published optima nobody here computed: OR-Library (multi-source) and Holmberg (single-source).

The small OR-Library problems (cap41..cap134) and the first Holmberg instances run here; the
large capa/capb/capc run only in the benchmark (``eastwest bench benchmarks/orlib-cap.yaml``).
Tolerance: 1e-6 relative, at least 0.001 absolute (the published values have three decimals).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.backends.base import SolveOptions, Status
from optimizer.errors import InstanceError
from optimizer.importers import import_file, read_holmberg
from optimizer.load import load, parse
from optimizer.pipeline import solve_document

DATA = Path(__file__).parents[2] / "benchmarks" / "data"
REL, ABS = 1e-6, 1e-3


def published(folder: str) -> dict[str, tuple[str, str, float]]:
    lines = (line for line in (DATA / folder / "optima.tsv").read_text().splitlines()
             if not line.startswith("#"))
    rows = list(csv.DictReader(lines, delimiter="\t"))
    return {r["instance"]: (r["file"], r["capacity"], float(r["optimum"])) for r in rows}


ORLIB = published("orlib-cap")
HOLMBERG = published("holmberg-sscflp")
SMALL_ORLIB = [name for name, (file, _, _) in ORLIB.items() if file[3] in "0123456789"]
FIRST_HOLMBERG = [f"p{i}" for i in range(1, 25)] + ["p41", "p47", "p50"]


def assert_matches(objective: float | None, optimum: float) -> None:
    assert objective is not None
    assert abs(objective - optimum) <= max(REL * abs(optimum), ABS)


def test_the_small_set_is_all_37() -> None:
    assert len(SMALL_ORLIB) == 37
    assert len(ORLIB) == 49
    assert len(HOLMBERG) == 71


@pytest.mark.parametrize("name", SMALL_ORLIB)
def test_orlib_cap_published_optimum(name: str) -> None:
    file, _, optimum = ORLIB[name]
    doc = parse(import_file("orlib-cap", DATA / "orlib-cap" / file))
    sol = solve_document(doc, SolveOptions()).solution
    assert sol.status is Status.OPTIMAL
    assert_matches(sol.objective, optimum)


@pytest.mark.parametrize("name", FIRST_HOLMBERG)
def test_holmberg_published_optimum(name: str) -> None:
    file, _, optimum = HOLMBERG[name]
    doc = parse(import_file("holmberg", DATA / "holmberg-sscflp" / file))
    sol = solve_document(doc, SolveOptions()).solution
    assert sol.status is Status.OPTIMAL
    assert_matches(sol.objective, optimum)


def test_single_source_is_not_the_splittable_problem() -> None:
    """FORMAT.md: p1's splittable relaxation is 8772.098 < the single-source 8848."""
    data = import_file("holmberg", DATA / "holmberg-sscflp" / "p1")
    data["classes"][0]["assignment"] = "split"
    sol = solve_document(parse(data), SolveOptions()).solution
    assert sol.objective == pytest.approx(8772.098, abs=1e-3)


def test_cap63_single_source_differs_from_the_published_multi_source() -> None:
    """FORMAT.md: cap63 single-source 1 014 099.613 vs multi-source 1 014 062.050."""
    data = import_file("orlib-cap", DATA / "orlib-cap" / "cap63.txt")
    data["classes"][0]["assignment"] = "single"
    sol = solve_document(parse(data), SolveOptions()).solution
    assert_matches(sol.objective, 1014099.613)


def test_holmberg_quirks_are_read() -> None:
    """p2 has CRLF and trailing NULs; p47 has 17 extra tokens after the data."""
    assert b"\r\n" in (DATA / "holmberg-sscflp" / "p2").read_bytes()
    assert (DATA / "holmberg-sscflp" / "p2").read_bytes().endswith(b"\0")
    caps, fixed, demand, costs = read_holmberg(DATA / "holmberg-sscflp" / "p47")
    assert costs.shape == (10, 90)
    assert len(demand) == 90
    assert len(caps) == len(fixed) == 10


def test_capacity_placeholder_needs_a_capacity() -> None:
    with pytest.raises(InstanceError, match="capacity"):
        import_file("orlib-cap", DATA / "orlib-cap" / "capa.txt")


def test_truncated_file_is_a_clear_error(tmp_path: Path) -> None:
    short = tmp_path / "short.txt"
    short.write_text(" ".join((DATA / "orlib-cap" / "cap41.txt").read_text().split()[:100]))
    with pytest.raises(InstanceError, match="ends early"):
        import_file("orlib-cap", short)


def eastwest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "eastwest"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd,
                          check=False)


def test_import_command_writes_an_instance_with_the_same_optimum(tmp_path: Path) -> None:
    out = tmp_path / "cap41.yaml"
    ran = eastwest("import", "orlib-cap", str(DATA / "orlib-cap" / "cap41.txt"), "-o", str(out),
                   cwd=tmp_path)
    assert ran.returncode == 0, ran.stderr
    assert out.read_text().startswith("# yaml-language-server: $schema=")
    sol = solve_document(load(out), SolveOptions()).solution
    assert_matches(sol.objective, ORLIB["cap41"][2])


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_bench_command_rows_and_files(tmp_path: Path, jobs: str) -> None:
    """Three cases: a match, a deliberately wrong optimum (a mismatch row, exit 3) and a
    malformed file (an error row, not a crash; a missing one is refused before any case runs,
    tests/cli/test_options.py)."""
    suite = tmp_path / "suite.yaml"
    (tmp_path / "broken").write_text("abc 50\n")
    suite.write_text(
        "name: mini\nsolvers: [{backend: ortools, solver: auto}, {backend: pulp, solver: cbc}]\n"
        "cases:\n"
        f"  - {{name: cap41, import: orlib-cap, file: {DATA}/orlib-cap/cap41.txt, "
        f"optimum: {ORLIB['cap41'][2]}}}\n"
        f"  - {{name: wrong, import: holmberg, file: {DATA}/holmberg-sscflp/p1, optimum: 1}}\n"
        "  - {name: malformed, import: holmberg, file: broken}\n")
    ran = eastwest("bench", str(suite), "--out", str(tmp_path / "out"), "--jobs", jobs,
                   cwd=tmp_path)
    assert ran.returncode == 3, ran.stderr
    assert "Traceback" not in ran.stderr
    rows = json.loads((tmp_path / "out" / "mini.json").read_text())["rows"]
    assert [(r["case"], r["solver"]) for r in rows] == [
        ("cap41", "ortools/auto"), ("cap41", "pulp/cbc"), ("wrong", "ortools/auto"),
        ("wrong", "pulp/cbc"), ("malformed", "ortools/auto"), ("malformed", "pulp/cbc")]
    assert [r["match"] for r in rows[:4]] == [True, True, False, False]
    assert rows[4]["status"] == "error"
    assert "must be a whole number" in rows[4]["message"]
    report = (tmp_path / "out" / "mini.md").read_text()
    assert "2/4 published optima reproduced" in report
    assert ("2 cases at a time" in report) is (jobs == "2")

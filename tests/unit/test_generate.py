"""The instance generator: deterministic, valid, and shaped like the national problem."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from optimizer.compile import compile_instance
from optimizer.generate import generate
from optimizer.load import load, parse
from optimizer.model import formulate
from optimizer.presolve import prune_arcs
from optimizer.yamlio import dump_yaml


def test_same_seed_same_instance_other_seed_other_instance() -> None:
    assert generate(8, 4, 6, 3, seed=1) == generate(8, 4, 6, 3, seed=1)
    assert generate(8, 4, 6, 3, seed=1) != generate(8, 4, 6, 3, seed=2)


@pytest.mark.parametrize(("R", "S", "T", "K"), [(1, 1, 1, 1), (20, 10, 24, 3), (40, 12, 8, 4)])
def test_generated_instances_are_valid(R: int, S: int, T: int, K: int) -> None:
    doc = parse(generate(R, S, T, K, seed=7))
    assert (len(doc.instance.regions), len(doc.instance.sites), len(doc.instance.classes)) == (
        R, S, K)


def test_tight_classes_prune_arcs_and_capacity_exceeds_demand() -> None:
    arrays = compile_instance(parse(generate(60, 20, 24, 4, seed=3)).instance)
    kept = np.bincount(arrays.arc_class, minlength=4) / (60 * 20)
    assert kept[0] < 0.6  # realtime, 10 ms: most arcs pruned
    assert kept[1] < 0.9  # interactive, 25 ms
    assert kept[2] == pytest.approx(1.0)
    assert arrays.capacity.sum() > arrays.demand.sum(axis=(0, 1)).mean()
    assert {"west", "east"} == set(arrays.zones)


def test_generate_command_writes_a_loadable_file(tmp_path: Path) -> None:
    out = tmp_path / "g.yaml"
    exe = Path(sys.executable).parent / "eastwest"
    ran = subprocess.run([str(exe), "generate", "--regions", "5", "--sites", "3", "--periods",
                          "4", "--classes", "2", "--seed", "9", "-o", str(out)],
                         capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert load(out).instance == parse(generate(5, 3, 4, 2, seed=9)).instance


# --------------------------------------------------------------------------------------------
# --candidates: a planning MIP (issue #12)
# --------------------------------------------------------------------------------------------

# SHA-256 of the generator's output before --candidates existed (main at 5044627): the YAML
# body of ``generate(...)``, and the file ``eastwest generate`` wrote for (5, 3, 4, 2, seed 9)
# without its first line (the schema hint, a path relative to the output).
BEFORE_CANDIDATES = {
    (5, 3, 4, 2, 9): "97bbc40d672178bfe421319f11b215e2ecfd0561f1e84370efffdbbf24248eab",
    (20, 10, 24, 3, 7): "ee19f214dbd24377c4e8b933dca0c2b16468a3af11f71f3406d64d775dc651a6",
}
BEFORE_CANDIDATES_FILE = "20d50f68f3e8cf095b35b10bdb1ebda4b819220f340ef0595bf4fac7adbf875b"
SMALL = ["--regions", "5", "--sites", "3", "--periods", "4", "--classes", "2", "--seed", "9"]


def _eastwest(*args: str | Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "eastwest"
    return subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True,
                          check=False)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("key", sorted(BEFORE_CANDIDATES))
def test_no_candidates_is_the_output_of_before_byte_for_byte(key: tuple[int, ...]) -> None:
    *size, seed = key
    assert _sha(dump_yaml(generate(*size, seed=seed))) == BEFORE_CANDIDATES[key]
    assert generate(*size, seed=seed, candidates=0) == generate(*size, seed=seed)


def test_generate_command_without_candidates_writes_the_file_of_before(tmp_path: Path) -> None:
    plain, zero = tmp_path / "plain.yaml", tmp_path / "zero.yaml"
    assert _eastwest("generate", *SMALL, "-o", plain).returncode == 0
    assert _eastwest("generate", *SMALL, "--candidates", "0", "-o", zero).returncode == 0
    assert plain.read_bytes() == zero.read_bytes()
    assert _sha(plain.read_text().split("\n", 1)[1]) == BEFORE_CANDIDATES_FILE


CANDIDATE_SIZES = [(6, 4, 4, 2, 2), (20, 10, 24, 3, 4), (12, 5, 6, 4, 5)]


def _candidate_sites(data: dict[str, Any]) -> list[int]:
    return [j for j, s in enumerate(data["sites"]) if "open_cost" in s]


@pytest.mark.parametrize(("R", "S", "T", "K", "N"), CANDIDATE_SIZES)
def test_candidates_are_build_decisions_two_integers_each(R: int, S: int, T: int, K: int,
                                                          N: int) -> None:
    """Valid; exactly N sites are candidates, each with one expansion option; the LP the
    package builds (with and without the arc presolve) has 2N integer variables; the rest of
    the instance is the one without candidates (regions, classes, the other sites)."""
    data = generate(R, S, T, K, seed=5, candidates=N)
    plain = generate(R, S, T, K, seed=5)
    arrays = compile_instance(parse(data).instance)
    cand = _candidate_sites(data)
    assert len(cand) == N
    assert all(len(data["sites"][j]["expansions"]) == 1 for j in cand)
    assert not any("expansions" in s for j, s in enumerate(data["sites"]) if j not in cand)
    for lp in (formulate(arrays), formulate(prune_arcs(arrays))):
        assert int(lp.integer.sum()) == 2 * N
        assert lp.variables["open"].size == lp.variables["build"].size == N
    assert data["regions"] == plain["regions"]
    assert data["classes"] == plain["classes"]
    for j, (site, before) in enumerate(zip(data["sites"], plain["sites"], strict=True)):
        if j not in cand:
            assert site == before
        else:  # the same site, costed: only the build fields and a power cap that fits them
            changed = {k for k in site if site[k] != before.get(k)}
            assert changed <= {"open_cost", "expansions", "power_cap_mw"}
            assert site.get("power_cap_mw", 0) >= before.get("power_cap_mw", 0)
    assert data["name"] == plain["name"].replace("-seed", f"-c{N}-seed")


def test_candidates_are_deterministic_for_a_seed() -> None:
    """The same call, the same instance, candidates included (their own random stream, from the
    seed and the sizes: no state carried between calls)."""
    first = generate(20, 10, 6, 3, seed=1, candidates=4)
    generate(20, 10, 6, 3, seed=2, candidates=7)
    assert generate(20, 10, 6, 3, seed=1, candidates=4) == first


def test_candidate_costs_are_in_the_national_plans_range() -> None:
    """Halls at 0.9 m (west) / 1.2 m (east) CNY per MW-year +-15%, as
    instances/china-2025-plan.yaml; opening dearer per MW than a hall (so opening fewer sites
    and expanding them can pay), the fixed part 15-45 m CNY a year."""
    data = generate(100, 30, 24, 4, seed=1, candidates=30)
    for site in data["sites"]:
        hall = site["expansions"][0]
        per_mw = hall["annual_cost"] / hall["size_mw"]
        base = {"west": 0.9e6, "east": 1.2e6}[site["zone"]]
        assert 0.85 * base * 0.99 <= per_mw <= 1.15 * base * 1.01, site["id"]
        fixed = site["open_cost"] - site["capacity_mw"] * per_mw
        assert fixed >= 1.5e7 * 0.99, site["id"]
        assert site["open_cost"] <= site["capacity_mw"] * per_mw * 1.3 * 1.01 + 4.5e7 * 1.01
        assert 3 <= hall["max_units"] <= 6


def test_generate_command_writes_a_valid_planning_mip(tmp_path: Path) -> None:
    out = tmp_path / "mip.yaml"
    ran = _eastwest("generate", *SMALL, "--candidates", "2", "-o", out)
    assert ran.returncode == 0, ran.stderr
    assert load(out).instance == parse(generate(5, 3, 4, 2, seed=9, candidates=2)).instance
    text = out.read_text()
    assert "# eastwest generate " + " ".join(SMALL) + " --candidates 2\n" in text
    assert "ESTIMATES (E)" in text.split("version: 1")[0]  # the header says what is estimated
    checked = _eastwest("validate", out)
    assert checked.returncode == 0, checked.stderr
    assert "valid (5 regions, 3 sites" in checked.stdout


@pytest.mark.parametrize(("candidates", "message"), [
    ("4", "--candidates (4) must be at most --sites (3)"),
    ("-1", "--candidates"),
    ("two", "--candidates"),
])
def test_generate_refuses_candidates_out_of_range(tmp_path: Path, candidates: str,
                                                  message: str) -> None:
    out = tmp_path / "mip.yaml"
    ran = _eastwest("generate", *SMALL, "--candidates", candidates, "-o", out)
    assert ran.returncode == 2
    assert message in ran.stderr
    assert "Traceback" not in ran.stderr
    assert not out.exists()


def test_generate_function_refuses_candidates_out_of_range() -> None:
    with pytest.raises(ValueError, match="candidates"):
        generate(5, 3, 4, 2, candidates=4)
    with pytest.raises(ValueError, match="candidates"):
        generate(5, 3, 4, 2, candidates=-1)

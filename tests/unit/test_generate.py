"""The instance generator: deterministic, valid, and shaped like the national problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.compile import compile_instance
from optimizer.generate import generate
from optimizer.load import load, parse


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

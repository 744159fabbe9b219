"""Fixtures for the study tests: instance files, study files and an in-process CLI runner."""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "instances" / "tiny.yaml"

# One region (10 and 14 MW in two one-hour periods), four sites: coal and coal_b (both 50
# CNY/MWh; coal_b a little cleaner, 4 MW), gas (70), hydro (110, clean, west, 5 MW).
#   min cost:   1,200 CNY (24 MWh x 50) with any split between coal and coal_b: a tie, which the
#               lexicographic step breaks with coal_b full: 6 + 3.6 + 10 + 3.6 = 23.2 t CO2
#   min carbon, serving everything: hydro 5 / 5, gas 5 / 6, coal_b 0 / 3 MW:
#               0.5 + 5.5 + 2.7 = 8.7 t, cost 900 + 1,120 = 2,020 CNY
#   gas replaces coal at 40 CNY/t, hydro at 63.2 CNY/t: a convex front with a kink (the knee).
TRADEOFF: dict[str, Any] = {
    "version": 1,
    "name": "tradeoff",
    "periods": {"count": 2, "hours": 1, "weight": 1},
    "regions": [{"id": "city", "location": [31.0, 121.0], "demand": {"work": [10, 14]}}],
    "sites": [
        {"id": "coal", "location": [31.0, 121.0], "zone": "east", "capacity_mw": 14,
         "pue": 1.0, "price": 50, "carbon_intensity": 1.0},
        {"id": "coal_b", "location": [31.0, 121.0], "zone": "east", "capacity_mw": 4,
         "pue": 1.0, "price": 50, "carbon_intensity": 0.9},
        {"id": "gas", "location": [32.0, 119.0], "zone": "east", "capacity_mw": 6,
         "pue": 1.0, "price": 70, "carbon_intensity": 0.5},
        {"id": "hydro", "location": [30.5, 104.0], "zone": "west", "capacity_mw": 5,
         "pue": 1.0, "price": 110, "carbon_intensity": 0.05},
    ],
    "classes": [{"id": "work", "unmet_penalty": 1000}],
    "policy": {"carbon_price": 0},
}


@pytest.fixture
def tradeoff(tmp_path: Path) -> Path:
    path = tmp_path / "tradeoff.yaml"
    path.write_text(yaml.safe_dump(TRADEOFF, sort_keys=False))
    return path


@pytest.fixture
def write_study(tmp_path: Path) -> Callable[..., Path]:
    """``write_study(data_or_text, name="study.yaml")``: a study file in tmp_path."""

    def write(data: dict[str, Any] | str, name: str = "study.yaml") -> Path:
        path = tmp_path / name
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return write


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str


@pytest.fixture
def _restore_optimizer_logging() -> Iterator[None]:
    root = logging.getLogger("optimizer")
    saved = (list(root.handlers), root.level, root.propagate)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    root.propagate = saved[2]


@pytest.fixture
def cli(_restore_optimizer_logging: None) -> Callable[[Sequence[str | os.PathLike[str]]], Ran]:
    """``cli(args)``: the eastwest app in-process (typer's CliRunner)."""
    from typer.testing import CliRunner

    from optimizer.cli import app

    def run(args: Sequence[str | os.PathLike[str]]) -> Ran:
        env = {k: v for k, v in os.environ.items() if k != "FORCE_COLOR"}
        env["NO_COLOR"] = "1"
        env["COLUMNS"] = "200"
        result = CliRunner(env=env).invoke(app, [str(a) for a in args])
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            tb = "".join(traceback.format_exception(exc))
            return Ran(1, result.stdout, result.stderr + "internal error\n" + tb)
        return Ran(result.exit_code, result.stdout, result.stderr)

    return run

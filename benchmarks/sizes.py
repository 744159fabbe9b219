"""The benchmark sizes, one registry for every script: (regions, sites, periods, classes).

Instances come from the package's generator (``optimizer.generate.generate``, the same as
``eastwest generate``), deterministic from the seed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import eastwest, run_timed

from optimizer.generate import DEFAULT_SEED
from optimizer.generate import generate as generate_instance

Size = tuple[int, int, int, int]  # regions, sites, periods, classes

SMALL: Size = (20, 10, 24, 3)
MEDIUM: Size = (100, 30, 24, 4)
LARGE: Size = (300, 60, 24, 4)
XL: Size = (1000, 100, 96, 4)  # the size guard refuses it ("would not fit in memory")

NAMED: dict[str, Size] = {"small": SMALL, "medium": MEDIUM, "large": LARGE, "XL": XL}

LADDER: list[Size] = [  # the scaling study's points, small to XL
    SMALL,
    (50, 20, 24, 4),
    MEDIUM,
    (150, 40, 24, 4),
    (200, 50, 24, 4),
    LARGE,
    XL,
]


def size_name(size: Size) -> str:
    """``RxSxTxK``, e.g. ``300x60x24x4``."""
    return "x".join(map(str, size))


def generate(size: Size, seed: int = DEFAULT_SEED, name: str | None = None) -> dict[str, Any]:
    """The instance of ``size`` as a plain v1 dict (as YAML would load it)."""
    return generate_instance(*size, seed=seed, name=name)


def build_lp(size: Size, seed: int = DEFAULT_SEED) -> Any:
    """The instance's LinearProgram, parsed, compiled and formulated as ``eastwest solve`` does
    (without the arc presolve)."""
    from optimizer.compile import compile_instance
    from optimizer.load import parse
    from optimizer.model import formulate

    return formulate(compile_instance(parse(generate(size, seed)).instance))


def generate_file(size: Size, seed: int, path: Path, timeout: float,
                  tree: bool = True, candidates: int = 0) -> dict[str, Any]:
    """``eastwest generate`` of ``size`` into ``path``, timed as a subprocess (``run_timed``);
    with ``candidates``, a planning MIP (``--candidates``)."""
    R, S, T, K = size
    cmd = [*eastwest(), "generate", "--regions", str(R), "--sites", str(S), "--periods",
           str(T), "--classes", str(K), "--seed", str(seed), "-o", str(path)]
    if candidates:
        cmd += ["--candidates", str(candidates)]
    res = run_timed(cmd, timeout, tree=tree)
    res["bytes"] = path.stat().st_size if path.exists() else None
    return res

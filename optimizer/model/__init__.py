"""Stage 3: Arrays -> LinearProgram, one module per constraint family.

``FAMILIES`` is the ordered registry (oemof-style): adding a family is one module with a
``define(arrays, builder)`` function and one line here. Families may use the variable blocks of
the families before them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from optimizer.compile import Arrays
from optimizer.errors import Problem
from optimizer.load import Document
from optimizer.model import (
    assignment,
    capacity,
    deferral,
    demand,
    expansion,
    network,
    policy,
    power,
)
from optimizer.model.lp import COST_CATEGORIES, Block, Builder, LinearProgram, ModelOptions

Family = Callable[[Arrays, Builder], None]

FAMILIES: list[tuple[str, Family]] = [
    ("demand", demand.define),
    ("deferral", deferral.define),
    ("assignment", assignment.define),
    ("expansion", expansion.define),
    ("capacity", capacity.define),
    ("power", power.define),
    ("network", network.define),
    ("policy", policy.define),
]

__all__ = ["COST_CATEGORIES", "FAMILIES", "Block", "LinearProgram", "ModelOptions", "formulate",
           "unsupported"]


def formulate(arrays: Arrays, options: ModelOptions | None = None) -> LinearProgram:
    start = time.perf_counter()
    builder = Builder(options)
    for _, define in FAMILIES:
        define(arrays, builder)
    lp = builder.build()
    return replace(lp, build_s=time.perf_counter() - start)


def unsupported(document: Document) -> list[Problem]:
    """Fields the model does not formulate (refused, never silently ignored): none in v1."""
    del document
    return []

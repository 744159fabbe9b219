"""Stage 3: Arrays -> LinearProgram, one module per constraint family.

``FAMILIES`` is the ordered registry (oemof-style) of :class:`~optimizer.model.family.Family`
records: adding a family is one module with a ``define(arrays, builder)`` function and its record
(presolve stance, shadow prices, size), and one line here (docs/adding-a-family.md). Families may
use the variable blocks and named expressions of the families before them.
"""

from __future__ import annotations

import time
from dataclasses import replace

from optimizer.compile import Arrays
from optimizer.errors import Problem
from optimizer.load import Document
from optimizer.model import (
    assignment,
    capacity,
    certificates,
    deferral,
    demand,
    expansion,
    green_share,
    network,
    policy,
    power,
    utilization,
    water,
)
from optimizer.model.family import Family, Price, Stance, check_registry
from optimizer.model.lp import (
    COST_CATEGORIES,
    Block,
    Builder,
    Expression,
    LinearProgram,
    ModelOptions,
)

FAMILIES: list[Family] = [
    demand.FAMILY,
    deferral.FAMILY,
    assignment.FAMILY,
    expansion.FAMILY,
    capacity.FAMILY,
    power.FAMILY,
    network.FAMILY,
    certificates.FAMILY,  # before the share floors, which read its certificate_energy
    policy.CARBON_CAP,
    policy.RENEWABLE_SHARE,
    green_share.FAMILY,
    utilization.FAMILY,
    water.FAMILY,
]
check_registry(FAMILIES)

__all__ = ["COST_CATEGORIES", "FAMILIES", "Block", "Expression", "Family", "LinearProgram",
           "ModelOptions", "Price", "Stance", "formulate", "unsupported"]


def formulate(arrays: Arrays, options: ModelOptions | None = None) -> LinearProgram:
    start = time.perf_counter()
    builder = Builder(options)
    for family in FAMILIES:
        family.define(arrays, builder)
    lp = builder.build()
    return replace(lp, build_s=time.perf_counter() - start)


def unsupported(document: Document) -> list[Problem]:
    """Fields the model does not formulate (refused, never silently ignored): none in v1."""
    del document
    return []

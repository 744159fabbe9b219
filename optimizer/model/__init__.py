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
from optimizer.errors import Path, Problem, format_path
from optimizer.load import Document
from optimizer.model import capacity, demand, power
from optimizer.model.lp import COST_CATEGORIES, Block, Builder, LinearProgram

Family = Callable[[Arrays, Builder], None]

FAMILIES: list[tuple[str, Family]] = [
    ("demand", demand.define),
    ("capacity", capacity.define),
    ("power", power.define),
]

__all__ = ["COST_CATEGORIES", "FAMILIES", "Block", "LinearProgram", "formulate", "unsupported"]


def formulate(arrays: Arrays) -> LinearProgram:
    start = time.perf_counter()
    builder = Builder()
    for _, define in FAMILIES:
        define(arrays, builder)
    lp = builder.build()
    return replace(lp, build_s=time.perf_counter() - start)


def unsupported(document: Document) -> list[Problem]:
    """Fields the model does not formulate yet: refused, never silently ignored."""
    inst = document.instance
    found: list[tuple[Path, object]] = []
    for i, k in enumerate(inst.classes):
        if k.max_delay_periods > 0:
            found.append((("classes", i, "max_delay_periods"), k.max_delay_periods))
        if k.assignment != "split":
            found.append((("classes", i, "assignment"), k.assignment))
    for j, s in enumerate(inst.sites):
        if s.open_cost is not None:
            found.append((("sites", j, "open_cost"), s.open_cost))
        if s.expansions:
            found.append((("sites", j, "expansions"), len(s.expansions)))
    if inst.network.corridors:
        found.append((("network", "corridors"), len(inst.network.corridors)))
    if inst.policy.carbon_cap_t is not None:
        found.append((("policy", "carbon_cap_t"), inst.policy.carbon_cap_t))
    if inst.policy.min_renewable_share > 0:
        found.append((("policy", "min_renewable_share"), inst.policy.min_renewable_share))
    return [
        Problem(f"not supported yet: {format_path(path)} (this version does not formulate it)",
                path, document.file, document.line(path), value)
        for path, value in found
    ]

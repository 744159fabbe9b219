"""A size guard: estimate the model from the compiled arrays, before building it.

The estimate is the sum of each family's own (``Family.size`` in the registry): the flow, unmet,
backlog, grid, renewable and build variables, and about three matrix entries per flow variable
(demand, capacity and power-balance rows), plus corridor and valid-inequality entries. Memory
is estimated at ``BYTES_PER_NONZERO`` per matrix entry: measured on the large benchmark LP
(3.7 M non-zeros), the build peaked at 340 MB and the CLP solve at 1.3 GB above it, about
460 bytes per non-zero end to end (reports/benchmarks/build.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.compile import Arrays
from optimizer.errors import UsageError
from optimizer.model import FAMILIES
from optimizer.validate import BYTES_PER_NONZERO, HEADROOM, available_bytes

__all__ = ["BYTES_PER_NONZERO", "HEADROOM", "SizeEstimate", "available_bytes", "check_size",
           "check_sizes", "estimate"]



@dataclass(frozen=True)
class SizeEstimate:
    variables: int
    nonzeros: int
    bytes: int

    def describe(self) -> str:
        return (f"about {self.variables:,} variables and {self.nonzeros:,} non-zeros, "
                f"needing about {self.bytes / 2**30:,.1f} GB")


def estimate(arrays: Arrays) -> SizeEstimate:
    """The model's size from the compiled arrays: the sum of the families' estimates."""
    variables = nonzeros = 0
    for family in FAMILIES:
        v, nz = family.size(arrays)
        variables, nonzeros = variables + v, nonzeros + nz
    return SizeEstimate(variables, nonzeros, nonzeros * BYTES_PER_NONZERO)


def check_size(arrays: Arrays, available: int | None = None) -> SizeEstimate:
    """The estimate; raises UsageError (with the numbers and a hint) if it would not fit."""
    est = estimate(arrays)
    budget = int((available_bytes() if available is None else available) * HEADROOM)
    if est.bytes > budget:
        shape = arrays.shape
        raise UsageError(
            f"this model would not fit in memory: {est.describe()}, and "
            f"{budget / 2**30:,.1f} GB are available ({shape['R']} regions x {shape['S']} "
            f"sites x {shape['T']} periods, {shape['A']:,} arcs after latency pruning). "
            "Use fewer periods or regions, or tighter latency limits / allowed_sites.")
    return est


def check_sizes(cases: list[Arrays], available: int | None = None) -> SizeEstimate:
    """The planning model's estimate, the sum over its cases' (DESIGN.md §7); raises like
    :func:`check_size` if it would not fit."""
    if len(cases) == 1:
        return check_size(cases[0], available)
    parts = [estimate(a) for a in cases]
    est = SizeEstimate(sum(p.variables for p in parts), sum(p.nonzeros for p in parts),
                       sum(p.bytes for p in parts))
    budget = int((available_bytes() if available is None else available) * HEADROOM)
    if est.bytes > budget:
        raise UsageError(
            f"this plan would not fit in memory: {est.describe()} over its {len(cases)} "
            f"operating cases, and {budget / 2**30:,.1f} GB are available. Use fewer years, "
            "scenarios or contingencies, or fewer periods per case.")
    return est

"""Compatibility: the warm-started HiGHS solver lives in :mod:`optimizer.backends.highs_warm`.

The studies and benchmarks import it from here (``optimizer.warm.WarmSolver``)."""

from optimizer.backends.highs_warm import (
    HIGHS_STATUS,
    WarmSolver,
    available,
    highs_lp,
    map_status,
)

__all__ = ["HIGHS_STATUS", "WarmSolver", "available", "highs_lp", "map_status"]

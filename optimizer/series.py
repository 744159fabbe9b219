"""Expanding per-period values: periods, profiles and series (DESIGN.md §3)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from optimizer.schema import Instance, PeriodsShort, ProfileRef

SeriesValue = float | Sequence[float] | ProfileRef


def period_table(instance: Instance) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Period ids, their hours and their weights (occurrences a year)."""
    p = instance.periods
    if isinstance(p, PeriodsShort):
        width = max(2, len(str(p.count - 1)))
        ids = [f"t{t:0{width}d}" for t in range(p.count)]
        return ids, np.full(p.count, p.hours), np.full(p.count, p.weight)
    return (
        [q.id for q in p],
        np.array([q.hours for q in p], dtype=float),
        np.array([q.weight for q in p], dtype=float),
    )


def n_periods(instance: Instance) -> int:
    p = instance.periods
    return p.count if isinstance(p, PeriodsShort) else len(p)


def scaled(shape: np.ndarray, target: float, by_mean: bool) -> np.ndarray:
    """``shape`` scaled to the mean (or the maximum) ``target``; ``shape`` is finite, >= 0 and
    not all 0.

    Directly where the profile's mean or maximum is a normal number and the result finite (bit
    for bit as before); otherwise (values near 1e308, whose mean overflows, or subnormal ones,
    whose reciprocal does) the shape is first divided by its maximum, so that it lies in
    [0, 1] with a mean of at least 1/T: exact to rounding, never 0 or inf by overflow.
    """
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        base = shape.mean() if by_mean else shape.max()
        if np.isfinite(base) and base >= np.finfo(float).tiny:
            out = shape * (target / base)
            if np.isfinite(out).all():
                return out
        unit = shape / shape.max()
        return unit * (target / (unit.mean() if by_mean else 1.0))


def expand(value: SeriesValue, T: int, profiles: Mapping[str, Sequence[float]]) -> np.ndarray:
    """A series as an array of length T. Assumes the value was validated."""
    if isinstance(value, ProfileRef):
        shape = np.asarray(profiles[value.profile], dtype=float)
        if value.mean is not None:
            return scaled(shape, value.mean, by_mean=True)
        assert value.max is not None
        return scaled(shape, value.max, by_mean=False)
    if isinstance(value, int | float):
        return np.full(T, float(value))
    return np.asarray(value, dtype=float)


def stack(
    values: Sequence[SeriesValue], T: int, profiles: Mapping[str, Sequence[float]]
) -> np.ndarray:
    """Several series as a (len(values), T) array."""
    if not values:
        return np.zeros((0, T))
    return np.vstack([expand(v, T, profiles) for v in values])

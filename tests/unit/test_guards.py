"""Guards before compile: exact profile scaling (series.scaled), checked against what it
guards."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from optimizer import series
from optimizer.errors import InstanceError
from optimizer.load import parse_text

SMALL = """\
version: 1
periods: {count: 1000}
regions: [{id: r, location: [30, 120], demand: {k: 5}}]
sites: [{id: s, location: [30, 120], capacity_mw: 10, pue: 1.2, price: 5, power_cap_mw: 20}]
classes: [{id: k}]
"""


def test_scaling_is_unchanged_for_ordinary_profiles() -> None:
    shape = np.array([0.6, 1.0, 1.4, 0.2])
    np.testing.assert_array_equal(series.scaled(shape, 30.0, by_mean=True),
                                  shape * (30.0 / shape.mean()))
    np.testing.assert_array_equal(series.scaled(shape, 7.0, by_mean=False),
                                  shape * (7.0 / shape.max()))


@pytest.mark.parametrize(("shape", "target", "by_mean", "expected"), [
    ([1e308, 1e308], 30, True, [30, 30]),  # the mean overflows: 30 / inf was 0
    ([1e308, 5e307], 30, True, [40, 20]),
    ([5e-324, 1e-323], 30, True, [20, 40]),  # subnormal: 30 / 5e-324 was inf
    ([5e-324, 1e-323], 30, False, [15, 30]),
    ([1e-300, 3e-300], 1e15, True, [5e14, 1.5e15]),
])
def test_extreme_profiles_scale_exactly(shape: list[float], target: float, by_mean: bool,
                                        expected: list[float]) -> None:
    out = series.scaled(np.array(shape), target, by_mean)
    exact = [Fraction(e) for e in expected]
    assert [abs(Fraction(v) - e) <= e * Fraction(1, 10**12) for v, e in zip(out, exact,
            strict=True)] == [True] * len(expected)


def test_validate_refuses_a_series_that_is_not_finite(monkeypatch: pytest.MonkeyPatch) -> None:
    """The finite check behind the scaling: with the naive scaling back, a subnormal profile's
    demand is inf and must be refused, naming the field."""
    def naive(shape: np.ndarray, target: float, by_mean: bool) -> np.ndarray:
        with np.errstate(all="ignore"):
            return shape * (target / (shape.mean() if by_mean else shape.max()))

    monkeypatch.setattr(series, "scaled", naive)
    text = SMALL.replace("periods: {count: 1000}", "periods: {count: 2}\n"
                         "profiles: {p: [5e-324, 1e-323]}").replace(
        "demand: {k: 5}", "demand: {k: {profile: p, mean: 30}}")
    with pytest.raises(InstanceError) as info:
        parse_text(text, "x.yaml")
    (problem,) = info.value.problems
    assert problem.field == "regions[0].demand.k"
    assert "not a finite number in every period" in problem.message

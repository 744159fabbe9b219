"""Guards before compile: the size guard from counts alone (validate.count_guard) and exact
profile scaling (series.scaled), checked against what they guard."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from optimizer import series, validate
from optimizer.compile import compile_instance
from optimizer.errors import InstanceError
from optimizer.generate import generate
from optimizer.load import load, parse, parse_text
from optimizer.model import size
from optimizer.presolve import prune_arcs
from optimizer.validate import count_floor, count_guard

INSTANCES = Path(__file__).parents[2] / "instances"

SMALL = """\
version: 1
periods: {count: 1000}
regions: [{id: r, location: [30, 120], demand: {k: 5}}]
sites: [{id: s, location: [30, 120], capacity_mw: 10, pue: 1.2, price: 5, power_cap_mw: 20}]
classes: [{id: k}]
"""


def test_both_guards_share_one_memory_model() -> None:
    """The count guard (validate, before compile) and the size guard (model/size.py, after)
    use the same bytes per non-zero, headroom and memory reading: the model's are validate's."""
    assert size.BYTES_PER_NONZERO is validate.BYTES_PER_NONZERO
    assert size.HEADROOM is validate.HEADROOM
    assert size.available_bytes is validate.available_bytes
    assert validate.available_bytes() > 0


def test_count_guard_refuses_with_the_counts() -> None:
    """1 site with a power cap: 2 * (1 + 1) * 1000 power entries and 1000 demand-pair entries,
    4,000 + 1,000 = 5,000 entries at 500 bytes, plus (1 + 4 + 2) * 1000 floats: 2,556,000 bytes."""
    instance = parse_text(SMALL).instance
    assert count_guard(instance, available=int(2_556_000 / 0.8) + 2) == []
    (problem,) = count_guard(instance, "x.yaml", {("periods",): 2},
                             available=int(2_556_000 / 0.8) - 2)
    assert problem.format().startswith("x.yaml:2  periods  this model could not fit in memory: "
                                       "1 regions x 1 sites x 1 classes x 1,000 periods need at "
                                       "least 5,000 matrix entries")


def test_load_runs_the_count_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(validate, "available_bytes", lambda: 1_000)
    with pytest.raises(InstanceError, match="could not fit in memory"):
        parse_text(SMALL, "x.yaml")


@pytest.mark.parametrize("name", ["tiny", "china-national", "china-2025-plan", "generated"])
def test_count_floor_never_exceeds_the_model(name: str) -> None:
    """The guard's entries are a lower bound of the model's (after latency pruning and
    presolve): it never refuses what the post-compile guard would accept."""
    document = (parse(generate(regions=30, sites=12, periods=24, classes=4, seed=3))
                if name == "generated" else load(INSTANCES / f"{name}.yaml"))
    estimate = size.estimate(prune_arcs(compile_instance(document.instance)))
    nonzeros, need = count_floor(document.instance)
    assert 0 < nonzeros <= estimate.nonzeros
    assert need > nonzeros * size.BYTES_PER_NONZERO


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

"""The size guard: close estimates, and a clear refusal of what would not fit."""

from __future__ import annotations

import pytest

from optimizer.backends.base import SolveOptions
from optimizer.compile import compile_instance
from optimizer.errors import UsageError
from optimizer.generate import generate
from optimizer.load import parse
from optimizer.model import formulate
from optimizer.model.size import BYTES_PER_NONZERO, check_size, estimate
from optimizer.pipeline import solve_document


@pytest.mark.parametrize("dims", [(20, 10, 24, 3), (60, 20, 12, 4), (5, 3, 4, 1)])
def test_estimate_is_close_to_the_built_model(dims: tuple[int, int, int, int]) -> None:
    arrays = compile_instance(parse(generate(*dims, seed=5)).instance)
    est, lp = estimate(arrays), formulate(arrays)
    assert lp.n_vars <= est.variables <= 1.3 * lp.n_vars
    assert lp.nnz <= est.nonzeros <= 1.3 * lp.nnz
    assert est.bytes == est.nonzeros * BYTES_PER_NONZERO


def test_too_large_is_refused_with_the_numbers() -> None:
    arrays = compile_instance(parse(generate(20, 10, 24, 3, seed=5)).instance)
    with pytest.raises(UsageError, match=r"would not fit in memory: about [\d,]+ variables"):
        check_size(arrays, available=1_000_000)
    assert check_size(arrays, available=10**12).variables > 0


def test_the_pipeline_guards_before_building(monkeypatch: pytest.MonkeyPatch) -> None:
    import optimizer.model.size as size

    monkeypatch.setattr(size, "available_bytes", lambda: 1_000)
    with pytest.raises(UsageError, match="would not fit"):
        solve_document(parse(generate(5, 3, 4, 1, seed=5)), SolveOptions())

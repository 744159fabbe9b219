"""The package's solution against the reference's optimum, for the crosscheck tests."""

from __future__ import annotations

from typing import Any

import pytest
from reference import CATEGORIES, Result, decisions, result_decisions, solve_full


def assert_reference_optimum(sol: Any, ref: Result, data: dict[str, Any], rel: float) -> None:
    """``sol`` (an ``optimizer.interpret.Solution``) has the optimum of ``ref`` (the reference
    solved on ``data``) within ``rel``, and every cost category of it: against the reference
    with ``sol``'s integer decisions fixed where the two differ (a tie, asserted)."""
    assert ref.objective is not None
    assert sol.objective == pytest.approx(ref.objective, rel=rel)
    chosen = decisions(sol.to_dict(), ref.data)
    if chosen != result_decisions(ref):
        tied = solve_full(data, fixed=chosen)
        assert tied.objective == pytest.approx(ref.objective, rel=rel)
        ref = tied
    for category in CATEGORIES:
        assert sol.costs[category] == pytest.approx(
            ref.costs[category], rel=0, abs=rel * max(1.0, ref.objective)), category

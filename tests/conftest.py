"""Imported by pytest before any test module.

OR-Tools first: once highspy (which ``import pulp`` loads) is in the process before OR-Tools,
OR-Tools' own HiGHS crashes the process (see ``ortools_backend.HIGHS_SHADOWED``). Test modules
import pulp at the top; without this, running one of them alone would crash HiGHS tests.
"""

import pytest

import optimizer.backends  # noqa: F401


@pytest.fixture
def nothing_solved(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Compile, the first step of every solve, sweep or Pareto point and bench case, replaced by
    a sentinel that records the call and fails it: a test that an input is refused before any
    work asserts the list stays empty."""
    calls: list[str] = []

    def sentinel(*args: object, **kwargs: object) -> None:
        calls.append("compile")
        raise AssertionError("an instance was compiled: something was solved")

    monkeypatch.setattr("optimizer.pipeline.compile_instance", sentinel)
    return calls

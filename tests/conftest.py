"""Imported by pytest before any test module.

OR-Tools first: once highspy (which ``import pulp`` loads) is in the process before OR-Tools,
OR-Tools' own HiGHS crashes the process (see ``ortools_backend.HIGHS_SHADOWED``). Test modules
import pulp at the top; without this, running one of them alone would crash HiGHS tests.
"""

import json
import os
import re
from collections.abc import Callable, Iterator
from typing import Any

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


@pytest.fixture(autouse=True, scope="session")
def _user_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A run that asks for no output file keeps its solver log in the user cache
    (``$XDG_CACHE_HOME/eastwest/logs``): a temporary one here, for this process and the
    ``eastwest`` subprocesses the tests start, never the real one."""
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    yield
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved
Figures = dict[str, tuple[list[dict[str, Any]], dict[str, Any]]]


def read_figures(page: str) -> Figures:
    """Each chart of an HTML report: its data and layout, read back from its
    ``Plotly.newPlot(id, data, layout`` call (after the inlined plotly.js)."""
    decoder = json.JSONDecoder()
    gap = re.compile(r"[\s,]*")
    start = page.index("</script>")
    found = {}
    for match in re.finditer(r"Plotly\.newPlot\(", page[start:]):
        at = start + match.end()
        values = []
        for _ in range(3):
            skip = gap.match(page, at)
            assert skip is not None
            value, at = decoder.raw_decode(page, skip.end())
            values.append(value)
        found[values[0]] = (values[1], values[2])
    return found


@pytest.fixture(scope="session")
def figures() -> Callable[[str], Figures]:
    """``figures(page)``: the charts of an HTML report (:func:`read_figures`)."""
    return read_figures

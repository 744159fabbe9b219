"""Imported by pytest before any test module.

OR-Tools first: once highspy (which ``import pulp`` loads) is in the process before OR-Tools,
OR-Tools' own HiGHS crashes the process (see ``ortools_backend.HIGHS_SHADOWED``). Test modules
import pulp at the top; without this, running one of them alone would crash HiGHS tests.
"""

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

import optimizer.backends  # noqa: F401

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

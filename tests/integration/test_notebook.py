"""docs/tutorial.ipynb runs: its code cells executed in order in one namespace, as a kernel
would (no Jupyter needed), and what it shows checked against the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "tutorial.ipynb"


def test_the_tutorial_notebook_runs() -> None:
    pytest.importorskip("pandas")
    pytest.importorskip("xarray")
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    code = [("".join(c["source"]), i) for i, c in enumerate(cells) if c["cell_type"] == "code"]
    assert len(code) >= 4
    namespace: dict[str, Any] = {}
    for source, i in code:
        exec(compile(source, f"{NOTEBOOK.name}[cell {i}]", "exec"), namespace)  # noqa: S102
    # what the cells computed holds together: the dearer east costs more, the front is sorted
    assert namespace["dearer"].objective > namespace["result"].objective
    front = namespace["front"]
    assert (front["status"] == "optimal").all()
    assert float(namespace["ds"]["flow_mw"].sum()) > 0

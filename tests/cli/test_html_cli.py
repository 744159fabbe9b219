"""``eastwest solve --html PATH``: one offline page; without the extra, exit 2 before solving."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "instances" / "tiny.yaml"


def test_solve_writes_one_html_page(run_subprocess, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("plotly")
    page = tmp_path / "out" / "tiny.html"
    ran = run_subprocess(["solve", TINY, "--html", page, "-q"])
    assert ran.code == 0, ran.both
    assert f"html: {page}" in ran.stderr
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script src" not in text.lower()
    for name in ("near", "far", "web", "batch"):
        assert name in text
    assert sorted(p.name for p in page.parent.iterdir()) == ["tiny.html"]  # no temp file left


def test_without_the_extra_solve_stops_before_solving(run_inprocess, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "plotly" or m.startswith("plotly.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "plotly", None)
    monkeypatch.chdir(tmp_path)
    ran = run_inprocess(["solve", TINY, "--html", tmp_path / "x.html"])
    assert ran.code == 2, ran.both
    said = " ".join(ran.stderr.split())  # rich wraps the line
    assert "--html needs plotly" in said
    assert "(pip install 'eastwest[html]')" in said
    assert "Traceback" not in ran.both
    assert list(tmp_path.iterdir()) == []  # nothing solved, nothing written (no solver log)


def test_html_path_that_is_a_folder_is_refused(run_inprocess, tmp_path: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("plotly")
    monkeypatch.chdir(tmp_path)
    ran = run_inprocess(["solve", TINY, "--html", tmp_path])
    assert ran.code == 2, ran.both
    assert "is a folder" in ran.stderr
    assert list(tmp_path.iterdir()) == []

"""Single-solve pictures: flow map, site load profiles and cost breakdown, as PNG and SVG."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.pipeline import Run, run
from optimizer.report.plots import PlotsUnavailable, markdown_images, render_plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def national() -> Run:
    return run()


def _coordinates(r: Run) -> tuple[np.ndarray, np.ndarray]:
    inst = r.document.instance
    return (np.array([x.location for x in inst.regions], dtype=float),
            np.array([x.location for x in inst.sites], dtype=float))


def test_national_pictures_are_written(national: Run, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    region_xy, site_xy = _coordinates(national)
    folder = tmp_path / "plots"
    paths = render_plots(national.solution, folder, region_xy, site_xy)
    names = sorted(p.name for p in paths)
    assert names == sorted(f"{stem}.{fmt}" for stem in ("flows", "load", "costs")
                           for fmt in ("png", "svg"))
    for path in paths:
        assert path.parent == folder
        data = path.read_bytes()
        assert len(data) > 1000, path
        if path.suffix == ".png":
            assert data.startswith(PNG_SIGNATURE), path
        else:
            assert b"<svg" in data[:2000], path
            assert data.rstrip().endswith(b"</svg>"), path
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]
    assert sorted(p.name for p in folder.iterdir()) == names


def test_site_ids_label_the_map(national: Run, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    region_xy, site_xy = _coordinates(national)
    render_plots(national.solution, tmp_path, region_xy, site_xy)
    svg = (tmp_path / "flows.svg").read_text()  # svg.fonttype none: text stays text
    for site in national.solution.sites:
        assert site in svg
    assert "CNY" in (tmp_path / "costs.svg").read_text() or national.solution.currency == ""


def test_svg_is_reproducible(national: Run, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    region_xy, site_xy = _coordinates(national)
    render_plots(national.solution, tmp_path / "a", region_xy, site_xy)
    render_plots(national.solution, tmp_path / "b", region_xy, site_xy)
    for name in ("flows.svg", "load.svg", "costs.svg"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_wrong_coordinate_shapes_are_refused(national: Run, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    region_xy, site_xy = _coordinates(national)
    with pytest.raises(ValueError, match=r"\(S, 2\)"):
        render_plots(national.solution, tmp_path, region_xy, site_xy[:-1])
    assert not list(tmp_path.iterdir())


def test_missing_matplotlib_raises_with_install_hint(
        national: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    region_xy, site_xy = _coordinates(national)
    with pytest.raises(PlotsUnavailable, match=r"pip install 'eastwest\[plots\]'"):
        render_plots(national.solution, tmp_path, region_xy, site_xy)
    assert not list(tmp_path.iterdir())
    assert issubclass(PlotsUnavailable, Exception)


def test_markdown_images_are_relative_pngs(tmp_path: Path) -> None:
    folder = tmp_path / "out" / "plots"
    paths = [folder / "flows.png", folder / "flows.svg", folder / "costs.png"]
    text = markdown_images(paths, tmp_path / "out")
    assert text == "![flows](plots/flows.png)\n![costs](plots/costs.png)\n"
    assert markdown_images(paths, folder).splitlines()[0] == "![flows](flows.png)"
    assert markdown_images(paths, tmp_path / "elsewhere").splitlines()[1] == (
        "![costs](../out/plots/costs.png)")
    assert markdown_images([], tmp_path) == ""

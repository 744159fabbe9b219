"""``--html`` on ``sweep`` and ``pareto``: one offline page with the study's curves and tables."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("plotly")


def test_sweep_html_has_a_curve_per_indicator_with_the_csv_numbers(
        tradeoff: Path, cli: Callable[..., Any], tmp_path: Path, figures: Any) -> None:
    out, page = tmp_path / "sweep", tmp_path / "sweep.html"
    ran = cli(["sweep", tradeoff, "--vary", "policy.carbon_price=0:80:5", "--out", out,
               "--no-plots", "-q", "--html", page])
    assert ran.code == 0, ran.stderr
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", text)
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    charts = {layout["title"]["text"].split(": ", 1)[1]: data
              for data, layout in figures(text).values()}
    assert len(charts) == 8
    for title, column, scale in (("objective CNY", "objective", 1.0),
                                 ("carbon t", "carbon_t", 1.0),
                                 ("served west %", "west_share", 0.01)):
        (curve,) = charts[title]
        assert curve["x"] == [float(r["policy.carbon_price"]) for r in rows]
        assert [y * scale for y in curve["y"]] == pytest.approx(
            [float(r[column]) for r in rows], rel=1e-12)
    assert "indicators" in text
    assert "annual cost (5 points)" in text


def test_pareto_html_has_the_front_and_its_knee(tradeoff: Path, cli: Callable[..., Any],
                                                tmp_path: Path, figures: Any) -> None:
    out, page = tmp_path / "front", tmp_path / "front.html"
    ran = cli(["pareto", tradeoff, "--points", "4", "--out", out, "--no-plots", "-q",
               "--html", page])
    assert ran.code == 0, ran.stderr
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    data, layout = figures(page.read_text(encoding="utf-8"))["front-0"]
    names = [t["name"] for t in data]
    assert "Pareto front" in names
    assert "knee" in names
    knee = data[names.index("knee")]
    (knee_row,) = [r for r in rows if r["knee"] == "True"]
    assert knee["x"] == pytest.approx([float(knee_row["carbon_t"]) / 1e3])
    on_front = [r for r in rows if r["on_front"] == "True"]
    assert len(data[names.index("Pareto front")]["x"]) == len(on_front)
    assert json.dumps(layout["xaxis"]["title"]["text"]) == '"carbon (kt CO2 a year)"'

"""The library API (optimizer.api, exported from optimizer): typed (this file is checked by mypy
in .ci/run), tested on instances whose answers are known: tiny's optimum is derived by hand in
test_tiny.py (14,085 CNY), the plan's in test_planning.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import optimizer as ew
from optimizer.backends.base import Status

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "instances" / "tiny.yaml"
pd = pytest.importorskip("pandas")


def test_solve_a_file_and_read_the_frames() -> None:
    result = ew.solve(TINY)
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(14085.0, rel=1e-9)
    frames = result.to_frames()
    assert {"flows", "sites", "regions", "classes", "costs", "totals", "build"} <= set(frames)
    assert frames["costs"]["cost"].sum() == pytest.approx(14085.0, rel=1e-9)
    assert set(frames["sites"]["id"]) == {"near", "far"}
    served = frames["classes"].set_index("id")["served_mwh"]
    assert served["batch"] == pytest.approx(60.0)  # 30 MW in each of two 1-hour periods


def test_the_dataset_holds_every_flow() -> None:
    pytest.importorskip("xarray")
    result = ew.solve(TINY)
    ds = result.to_dataset()
    assert set(ds["flow_mw"].dims) == {"region", "site", "class", "period"}
    total = float(ds["flow_mw"].sum())
    assert total == pytest.approx(sum(f["mw"] for f in result.to_dict()["flows"]))


def test_overrides_data_and_documents_are_accepted() -> None:
    doubled = ew.solve(TINY, set=["policy.carbon_price=20"])
    assert doubled.objective is not None
    assert doubled.objective > 14085.0
    document = ew.load(TINY, set=["policy.carbon_price=20"])
    assert ew.solve(document).objective == pytest.approx(doubled.objective, rel=1e-12)


def test_bad_input_raises_the_problems_the_cli_prints(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text(encoding="utf-8").replace("pue: 1.5", "pue: 0.5"),
                   encoding="utf-8")
    with pytest.raises(ew.InstanceError) as exc:
        ew.solve(bad)
    [problem] = exc.value.problems
    assert problem.field == "sites[0].pue"
    assert problem.line is not None
    assert str(bad) in problem.format()
    with pytest.raises(ew.UsageError, match="strategy"):
        ew.solve(TINY, strategy="bogus")


def test_a_plan_gives_its_cases_as_frames() -> None:
    text = TINY.read_text(encoding="utf-8").replace("version: 1", "version: 2") + """
planning:
  years:
    - {id: y1, year: 2025}
    - {id: y2, year: 2026, set: ["regions[*].demand.batch*=1.5"]}
"""
    from optimizer.load import parse_text

    result = ew.solve(parse_text(text, "plan.yaml"))
    frames = result.to_frames()
    assert list(frames["cases"]["year"]) == ["y1", "y2"]
    assert set(frames["case_costs"]["year"]) == {"y1", "y2"}
    # y1 is tiny itself: its operating cost is tiny's optimum (nothing to build)
    y1 = frames["case_costs"].query("year == 'y1'")["cost"].sum()
    assert y1 == pytest.approx(14085.0, rel=1e-9)


def test_sweep_and_pareto_return_frames(tmp_path: Path) -> None:
    swept = ew.sweep(vary=["policy.carbon_price=0:20:3"], instance=TINY, out=tmp_path / "s")
    frame = swept.to_frame()
    assert len(frame) == 3
    assert (frame["status"] == "optimal").all()
    at10 = frame[frame["overrides"].map(lambda o: o == ["policy.carbon_price=10"])]
    assert float(at10["objective"].iloc[0]) == pytest.approx(14085.0, rel=1e-9)
    front = ew.pareto(TINY, "carbon", points=2, out=tmp_path / "p").to_frame()
    assert len(front) == 4  # two extremes and two caps
    assert front["objective"].min() == pytest.approx(14085.0, rel=1e-6)


def test_the_report_is_the_clis() -> None:
    text = ew.solve(TINY).report("text")
    assert "14,085" in text
    assert "# eastwest report: tiny" in ew.solve(TINY).report("markdown")


def test_importing_the_package_imports_no_solver_and_no_pandas() -> None:
    code = ("import sys, optimizer; print(any(m.startswith(('ortools', 'pandas', 'xarray'))"
            " for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"

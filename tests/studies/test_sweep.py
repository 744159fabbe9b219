"""Sweeps: the table equals solving each point by hand; failures are rows; the cache resumes an
interrupted study without solving a point twice; a process pool and a Dask cluster give the
serial table."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from optimizer.backends.base import SolveOptions
from optimizer.load import load
from optimizer.model.lp import V1_COST_CATEGORIES
from optimizer.pipeline import solve_document
from optimizer.report.study_files import write_sweep
from optimizer.studies import runners, tasks
from optimizer.studies.base import prepare_base
from optimizer.studies.spec import expand, load_study
from optimizer.studies.sweep import run_sweep

TINY = Path(__file__).resolve().parents[2] / "instances" / "tiny.yaml"
REL = 1e-9


def rows_of(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def assert_same_table(a: Path, b: Path) -> None:
    """The same rows and columns; numbers equal to 1e-12 relative (a dense dot product may sum
    in another order in another process, so the last bit of the objective can differ)."""
    ra, rb = rows_of(a), rows_of(b)
    assert len(ra) == len(rb)
    for x, y in zip(ra, rb, strict=True):
        assert list(x) == list(y)
        for key in x:
            try:
                fx, fy = float(x[key]), float(y[key])
            except ValueError:
                assert x[key] == y[key], key
                continue
            assert math.isclose(fx, fy, rel_tol=1e-12, abs_tol=1e-12), (key, fx, fy)


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-9)


def num(text: str) -> float | None:
    return None if text == "" else float(text)


@pytest.fixture
def grid_study(write_study: Callable[..., Path]) -> Path:
    """Six points of tiny: carbon price x the far site's price x the near site's capacity,
    the last a multi-path parameter (both sites' PUE) in a grid."""
    return write_study({
        "name": "tiny-grid",
        "instance": str(TINY),
        "set": ["policy.carbon_price=20"],
        "parameters": [
            {"path": "policy.carbon_price", "values": [0, 100, 250]},
            {"path": "sites[far].price", "factors": [0.5, 2.0]},
            {"paths": ["sites[near].pue", "sites[far].pue"], "label": "pue",
             "factor_range": [1.0, 1.2, 2]},
        ],
    })


class Counter:
    """Counts (and records) the points solved in this process: ``solve_document`` wrapped."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, fail_at: int | None = None):
        self.solved: list[tuple[str, ...]] = []
        self.fail_at = fail_at

        def counting(document: Any, options: Any = None, solver: Any = None,
                     strategy: Any = None) -> Any:
            if self.fail_at is not None and len(self.solved) == self.fail_at:
                raise KeyboardInterrupt  # the user presses Ctrl-C during this solve
            self.solved.append(document.overrides)
            return solve_document(document, options, solver, strategy)

        monkeypatch.setattr(tasks, "solve_document", counting)


def test_sweep_table_equals_solving_each_point_by_hand(
        grid_study: Path, cli: Callable[..., Any], tmp_path: Path) -> None:
    out = tmp_path / "out"
    ran = cli(["sweep", grid_study, "--out", out, "--no-plots"])
    assert ran.code == 0, ran.stderr
    rows = rows_of(out / "results.csv")
    assert len(rows) == 12
    points = expand(load_study(grid_study)[0])
    for row, point in zip(rows, points, strict=True):
        overrides = ["policy.carbon_price=20", *point.overrides]
        sol = solve_document(load(TINY, overrides)).solution
        assert row["status"] == "optimal"
        assert float(row["policy.carbon_price"]) == point.levels[0]
        assert float(row["sites[far].price"]) == point.levels[1]
        assert float(row["pue"]) == point.levels[2]
        assert close(num(row["objective"]), sol.objective)
        for cat in V1_COST_CATEGORIES:
            assert close(num(row[f"cost_{cat}"]), sol.costs[cat])
        assert close(num(row["carbon_t"]), sol.totals["carbon_t"])
        assert close(num(row["renewable_share"]), sol.totals["renewable_share"])
        assert close(num(row["unmet_mwh"]), sol.totals["unmet_mwh"])
        for k in sol.class_table:
            assert close(num(row[f"latency_ms_{k['id']}"]), k["mean_latency_ms"])
        west = sol.region_site_mwh[:, sol.site_zone.index("west")].sum()
        assert close(num(row["west_share"]), west / sol.region_site_mwh.sum())
    # the point files hold the full override list, in load() order
    data = json.loads(next((out / "points").glob("*.json")).read_text())
    assert data["overrides"][0] == "policy.carbon_price=20"
    # the tables are printed with rich on stdout, the summary on stderr
    assert "tiny-grid: annual cost (12 points)" in ran.stdout
    assert "sites[far].price" in ran.stdout
    assert "12 points: 12 optimal, 0 not; 12 solved" in ran.stderr
    md = (out / "results.md").read_text()
    assert "| # | policy.carbon_price | sites[far].price × | pue × | status |" in md


def test_short_form_on_the_national_default_name(cli: Callable[..., Any], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """``--vary`` without an instance uses the national one; the default out folder is
    reports/studies/<name>/ under the working directory."""
    monkeypatch.chdir(tmp_path)
    ran = cli(["sweep", "--vary", "policy.carbon_price=0,300", "--no-plots", "-q"])
    assert ran.code == 0, ran.stderr
    rows = rows_of(tmp_path / "reports/studies/china-national-policy.carbon_price/results.csv")
    assert [r["policy.carbon_price"] for r in rows] == ["0", "300"]
    assert float(rows[1]["carbon_t"]) < float(rows[0]["carbon_t"])
    assert 0.0 < float(rows[0]["west_share"]) < 1.0
    assert ran.stdout == ""


def test_a_failing_point_is_an_error_row(write_study: Callable[..., Path],
                                         cli: Callable[..., Any], tmp_path: Path) -> None:
    """Capacity -1 is invalid (refused by validation); 1 MW for hard web demand is infeasible;
    the other points solve. Exit 3, every point a row."""
    path = write_study({"name": "fails", "instance": str(TINY),
                        "set": ["classes[web].unmet_penalty=null"],
                        "parameters": [{"path": "sites[near].capacity_mw",
                                        "values": [25, -1, 1, 30]}]})
    out = tmp_path / "out"
    ran = cli(["sweep", path, "--out", out, "--no-plots"])
    assert ran.code == 3, ran.stderr
    rows = rows_of(out / "results.csv")
    assert [r["status"] for r in rows] == ["optimal", "invalid", "infeasible", "optimal"]
    assert "capacity_mw" in rows[1]["message"]
    assert rows[1]["objective"] == ""
    assert rows[0]["message"] == ""
    assert "not optimal: point 1" in ran.stdout
    assert "4 points: 2 optimal, 2 not" in ran.stderr
    md = (out / "results.md").read_text()
    assert "## Points without an optimal solution" in md
    # a bad value's failure is cached like any result: a re-run solves nothing
    again = cli(["sweep", path, "--out", out, "--no-plots"])
    assert again.code == 3
    assert "0 solved (serial), 4 from cache" in again.stderr


def test_resume_after_an_interruption(grid_study: Path, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during the 5th solve: 4 points are cached. Then a finished run; then 3 point files
    deleted, one damaged, and a half-written temporary file left: the re-run solves exactly the
    missing and damaged points, none twice, and writes the same table; no .tmp file is left."""
    study, folder, _ = load_study(grid_study)
    base = prepare_base(TINY, [], study.set_)
    out = tmp_path / "out"
    options = SolveOptions()
    interrupted = Counter(monkeypatch, fail_at=4)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(study, base, options, out)
    assert len(interrupted.solved) == 4
    assert len(list((out / "points").glob("*.json"))) == 4

    resumed = Counter(monkeypatch)
    first = run_sweep(study, base, options, out)
    assert len(resumed.solved) == 8  # only the 8 points not solved before
    assert first.cached == 4
    assert not set(interrupted.solved) & set(resumed.solved)
    write_sweep(first, out, plots=False)
    table = (out / "results.csv").read_text()

    files = sorted((out / "points").glob("*.json"))
    assert len(files) == 12
    for gone in files[:3]:
        gone.unlink()
    damaged = files[3]
    damaged.write_text(damaged.read_text()[:100])
    (out / "points" / f".{files[5].name}.x1y2z3.tmp").write_text('{"cache_version": 1, "ke')

    again = Counter(monkeypatch)
    second = run_sweep(study, base, options, out)
    assert len(again.solved) == 4
    assert len(set(again.solved)) == 4  # none twice
    solved_keys = {r.key for r in second.results if not r.cached}
    assert solved_keys == {f.stem for f in files[:4]}
    (tmp_path / "first.csv").write_text(table)
    write_sweep(second, out, plots=False)
    assert_same_table(out / "results.csv", tmp_path / "first.csv")
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    json.loads(damaged.read_text())  # rewritten whole

    # the cache key covers the instance, the overrides and the solver options
    third = Counter(monkeypatch)
    run_sweep(study, base, SolveOptions(solver="glop"), out)
    assert len(third.solved) == 12
    run_sweep(study, base, options, out, use_cache=False)
    assert len(third.solved) == 24


def test_progress_reports_points_from_the_cache(grid_study: Path, cli: Callable[..., Any],
                                                tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli(["sweep", grid_study, "--out", out, "--no-plots", "-q"]).code == 0
    ran = cli(["sweep", grid_study, "--out", out, "--no-plots", "-q"])
    assert ran.code == 0
    assert "0 solved (serial), 12 from cache" in ran.stderr


def test_a_process_pool_gives_the_serial_table(grid_study: Path, cli: Callable[..., Any],
                                               tmp_path: Path) -> None:
    serial = cli(["sweep", grid_study, "--out", tmp_path / "serial", "--no-plots", "-q"])
    pooled = cli(["sweep", grid_study, "--out", tmp_path / "pool", "--no-plots", "-q",
                  "--jobs", "2"])
    assert serial.code == pooled.code == 0, pooled.stderr
    assert "12 solved (2 processes)" in pooled.stderr
    assert_same_table(tmp_path / "pool" / "results.csv", tmp_path / "serial" / "results.csv")
    workers = {json.loads(p.read_text())["worker"]
               for p in (tmp_path / "pool" / "points").glob("*.json")}
    assert len(workers) >= 1
    assert all(not w.endswith(f":{os.getpid()}") for w in workers)


@pytest.mark.parametrize("runner", [["--jobs", "2"], ["--dask", "local"]])
def test_workers_keep_their_solver_warm_between_points(cli: Callable[..., Any], tmp_path: Path,
                                                       runner: list[str]) -> None:
    """Only the carbon price moves (costs only): each worker's points after its first start
    from the previous basis, and the table is the serial one."""
    if runner[0] == "--dask":
        pytest.importorskip("dask.distributed")
    vary = ["--vary", "policy.carbon_price=0:300:8"]
    serial = cli(["sweep", TINY, *vary, "--out", tmp_path / "serial", "--no-plots", "-q"])
    ran = cli(["sweep", TINY, *vary, "--out", tmp_path / "par", "--no-plots", "-q", *runner])
    assert serial.code == ran.code == 0, ran.stderr
    assert_same_table(tmp_path / "par" / "results.csv", tmp_path / "serial" / "results.csv")
    points = [json.loads(p.read_text()) for p in (tmp_path / "par" / "points").glob("*.json")]
    workers = {p["worker"] for p in points}
    assert len(points) == 8
    assert sum(p["warm"] for p in points) == 8 - len(workers), points


def test_a_dask_cluster_gives_the_serial_table(grid_study: Path, cli: Callable[..., Any],
                                               tmp_path: Path) -> None:
    pytest.importorskip("dask")
    distributed = pytest.importorskip("dask.distributed")
    serial = cli(["sweep", grid_study, "--out", tmp_path / "serial", "--no-plots", "-q"])
    assert serial.code == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        ran = cli(["sweep", grid_study, "--out", tmp_path / "dask", "--no-plots", "-q",
                   "--dask", cluster.scheduler_address])
    assert ran.code == 0, ran.stderr
    assert f"12 solved (dask {cluster.scheduler_address})" in ran.stderr
    assert_same_table(tmp_path / "dask" / "results.csv", tmp_path / "serial" / "results.csv")


def test_dask_missing_or_unreachable_exits_2(grid_study: Path, cli: Callable[..., Any],
                                             tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # import fails
    ran = cli(["sweep", grid_study, "--out", tmp_path / "o", "--dask", "local"])
    assert ran.code == 2
    assert "pip install 'eastwest[dask]'" in ran.stderr
    monkeypatch.undo()
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(runners, "DASK_TIMEOUT", 1.0)
    ran = cli(["sweep", grid_study, "--out", tmp_path / "o", "--dask", "tcp://127.0.0.1:1"])
    assert ran.code == 2
    assert "cannot reach the Dask scheduler" in ran.stderr


def test_plots_one_png_and_svg_per_kpi(write_study: Callable[..., Path],
                                       cli: Callable[..., Any], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = write_study({"name": "plots", "instance": str(TINY), "parameters": [
        {"path": "policy.carbon_price", "range": [0, 100, 3]},
        {"path": "policy.carbon_cap_t", "values": [None, 60]}]})
    out = tmp_path / "out"
    ran = cli(["sweep", path, "--out", out, "-q"])
    assert ran.code == 0, ran.stderr
    pngs = {p.stem for p in (out / "plots").glob("*.png")}
    svgs = {p.stem for p in (out / "plots").glob("*.svg")}
    assert pngs == svgs
    assert {"objective", "carbon_t", "renewable_share", "unmet_mwh", "west_share",
            "latency_ms_web", "latency_ms_batch", "cost_energy"} <= pngs
    assert "cost_expansion" not in pngs  # zero at every point
    assert (out / "plots" / "objective.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (out / "plots" / "objective.svg").read_text()
    assert "![objective](plots/objective.svg)" in (out / "results.md").read_text()


def test_without_matplotlib_one_line_and_the_tables(grid_study: Path, cli: Callable[..., Any],
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    out = tmp_path / "out"
    ran = cli(["sweep", grid_study, "--out", out, "-q"])
    assert ran.code == 0
    lines = [line for line in ran.stderr.splitlines() if "pip install" in line]
    assert lines == ["plots skipped: matplotlib is not installed (pip install "
                     "'eastwest[plots]')"]
    assert (out / "results.csv").exists()
    assert (out / "results.md").exists()
    assert not (out / "plots").exists()


def test_mip_points_report_the_mw_built_per_site(cli: Callable[..., Any],
                                                 tmp_path: Path) -> None:
    """The far site as a candidate (open_cost) with an expansion: a MIP; the built MW per
    site is a column."""
    out = tmp_path / "out"
    ran = cli(["sweep", TINY, "--set", "sites[far].open_cost=50", "--set",
               "sites[near].expansions=[{id: hall, size_mw: 5, annual_cost: 10, max_units: 2}]",
               "--vary", "sites[far].open_cost=50,1e9", "--out", out, "--no-plots", "-q"])
    assert ran.code == 0, ran.stderr
    rows = rows_of(out / "results.csv")
    assert float(rows[0]["built_mw_far"]) == 100.0  # cheap to open: opened
    assert float(rows[1]["built_mw_far"]) == 0.0    # too dear: not opened
    assert float(rows[1]["built_mw_near"]) == 10.0  # both halls instead


def test_per_point_solution_jsons_on_request(grid_study: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """--solutions writes each point's full solution JSON, whose objective is the table's; a
    re-run solves again only the points whose solution file is missing."""
    import json

    study, _folder, _ = load_study(grid_study)
    base = prepare_base(TINY, [], study.set_)
    out = tmp_path / "out"
    first = run_sweep(study, base, SolveOptions(), out, solutions=True)
    files = sorted((out / "solutions").glob("point-*.json"))
    assert len(files) == len(first.results) == 12
    for result in first.results:
        assert result.kpis is not None
        saved = json.loads((out / "solutions" / f"point-{result.index:04d}.json").read_text())
        assert saved["objective"] == pytest.approx(result.kpis.objective, rel=1e-12)
        assert saved["overrides"][-1] in result.overrides
    files[0].unlink()
    again = Counter(monkeypatch)
    run_sweep(study, base, SolveOptions(), out, solutions=True)
    assert len(again.solved) == 1
    assert files[0].exists()

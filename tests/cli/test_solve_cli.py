"""``eastwest solve`` / ``schema`` / ``--version`` end to end (DESIGN.md §4, §5).

Everything runs the console script in a subprocess, except the bad-usage cases, which stop
before any solve and run in-process.

The tiny instance's optimum is not restated here (tests/unit derives it by hand): backends and
solvers are compared with each other, and files with each other (JSON, CSV, Markdown).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from importlib import metadata
from pathlib import Path

import pytest

import optimizer
from optimizer.model.lp import V1_COST_CATEGORIES

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "instances" / "tiny.yaml"
SCHEMA_FILE = REPO / "optimizer" / "data" / "instance.schema.json"

SOLUTION_KEYS = {"version", "instance", "status", "objective", "bound", "gap", "costs", "totals",
                 "flows", "sites", "solver"}
TOTALS = {"served_mwh", "unmet_mwh", "it_energy_mwh", "facility_energy_mwh", "grid_energy_mwh",
          "renewable_energy_mwh", "carbon_t"}
FLOW_KEYS = {"region", "site", "class", "period", "mw"}
SITE_KEYS = {"id", "open", "expansion_units", "peak_utilization", "it_energy_mwh",
             "capacity_price"}
SOLVER_KEYS = {"backend", "solver", "variables", "constraints", "nonzeros", "build_s", "solve_s"}
STATUSES = {"optimal", "feasible", "infeasible", "unbounded", "time_limit", "error"}
# DESIGN.md §4: 0 solved; 3 no acceptable solution; 4 a solution not proven optimal
EXIT_FOR_STATUS = {"optimal": {0}, "feasible": {4}, "time_limit": {3, 4}, "infeasible": {3},
                   "unbounded": {3}, "error": {3}}

# the tiny instance with batch demand made hard and the far site shrunk to 1 MW: batch needs
# 30 MW in each period but near (15 MW) + far (1 MW) offer 16 MW, so no solution exists
# batch (30 MW) made hard and allowed only at far, cut to 20 MW: the network has 35 MW, so the
# obvious pre-solve check passes, but the LP is infeasible
INFEASIBLE_EDITS = (("  - id: batch\n",
                     "  - id: batch\n    unmet_penalty: null\n    allowed_sites: [far]\n"),
                    ("capacity_mw: 100", "capacity_mw: 20"))


def _no_traceback(ran) -> None:
    assert "Traceback" not in ran.both
    assert "internal error" not in ran.both


def _tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


@pytest.fixture(scope="module")
def tiny_outputs(tmp_path_factory: pytest.TempPathFactory, run_eastwest):
    """One full run on tiny with every output file; several tests read its results."""
    out = tmp_path_factory.mktemp("tiny-out")
    ran = run_eastwest(["solve", TINY, "--json", out / "solution.json", "--csv", out / "csv",
                        "--report", out / "report.md"], cwd=out)
    return out, ran


def test_solve_tiny_exits_0_without_traceback(tiny_outputs) -> None:
    _, ran = tiny_outputs
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    assert "optimal" in ran.stdout


def test_solution_json_has_every_design_field(tiny_outputs) -> None:
    out, _ = tiny_outputs
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol.keys() >= SOLUTION_KEYS
    assert sol["version"] == 1
    assert sol["instance"] == "tiny"
    assert sol["status"] == "optimal"
    assert set(V1_COST_CATEGORIES) == {"energy", "renewable", "carbon", "transfer", "latency",
                                       "unmet", "expansion", "opening"}
    assert sol["costs"].keys() == set(V1_COST_CATEGORIES)  # a version-1 instance
    assert sol["totals"].keys() >= TOTALS
    assert sol["flows"], "tiny serves some demand: flows cannot be empty"
    for flow in sol["flows"]:
        assert flow.keys() >= FLOW_KEYS
        assert flow["mw"] != 0  # non-zero flows only
    assert [s["id"] for s in sol["sites"]] == ["near", "far"]
    for site in sol["sites"]:
        assert site.keys() >= SITE_KEYS
    assert sol["solver"].keys() >= SOLVER_KEYS
    assert sol["solver"]["backend"] == "ortools"
    for key in ("variables", "constraints", "nonzeros"):
        assert isinstance(sol["solver"][key], int)
        assert sol["solver"][key] > 0


def test_solution_json_is_internally_consistent(tiny_outputs) -> None:
    """tiny has 2 periods of 1 hour with weight 1, so a flow of X MW is X MWh a year."""
    out, _ = tiny_outputs
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert math.isclose(sum(sol["costs"].values()), sol["objective"], rel_tol=1e-9)
    assert math.isclose(sol["bound"], sol["objective"], rel_tol=1e-6)
    assert sol["gap"] == pytest.approx(0, abs=1e-6)
    served = sum(f["mw"] for f in sol["flows"])
    assert math.isclose(sol["totals"]["served_mwh"], served, rel_tol=1e-9)
    site_energy = sum(s["it_energy_mwh"] for s in sol["sites"])
    assert math.isclose(sol["totals"]["it_energy_mwh"], site_energy, rel_tol=1e-9)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_csv_tables_parse_and_agree_with_the_json(tiny_outputs) -> None:
    out, _ = tiny_outputs
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    folder = out / "csv"
    for name in ("flows.csv", "sites.csv", "costs.csv", "classes.csv", "regions.csv"):
        rows = _read_csv(folder / name)
        assert rows, f"{name} has no rows"
    costs = _read_csv(folder / "costs.csv")
    assert {r["category"] for r in costs} == set(V1_COST_CATEGORIES)
    assert math.isclose(sum(float(r["cost"]) for r in costs), sol["objective"], rel_tol=1e-9)
    flows = _read_csv(folder / "flows.csv")
    assert len(flows) == len(sol["flows"])
    assert flows[0].keys() >= FLOW_KEYS
    assert [r["id"] for r in _read_csv(folder / "sites.csv")] == [s["id"] for s in sol["sites"]]
    assert {r["id"] for r in _read_csv(folder / "classes.csv")} == {"web", "batch"}
    assert {r["id"] for r in _read_csv(folder / "regions.csv")} == {"east"}


def test_run_json_and_solver_log_go_beside_the_results(tiny_outputs) -> None:
    out, _ = tiny_outputs
    run = json.loads((out / "csv" / "tiny.run.json").read_text(encoding="utf-8"))
    assert run["instance_sha256"] == hashlib.sha256(TINY.read_bytes()).hexdigest()
    assert run["eastwest"] == optimizer.__version__
    assert (out / "csv" / "tiny.solver.log").exists()


def test_markdown_report_has_the_cost_table(tiny_outputs) -> None:
    out, _ = tiny_outputs
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    report = (out / "report.md").read_text(encoding="utf-8")
    lines = report.splitlines()
    assert "## Annual cost by category" in lines
    start = lines.index("## Annual cost by category")
    end = next((n for n in range(start + 1, len(lines)) if lines[n].startswith("## ")),
               len(lines))
    section = "\n".join(lines[start:end])
    lines = section.splitlines()
    assert "| category | cost a year | share |" in lines
    currency = sol["currency"]
    assert all(abs(v) < 1e6 for v in sol["costs"].values())  # shown to the unit below 1e6
    for category, value in sol["costs"].items():
        if round(value) != 0:
            assert f"| {category} | {value:,.0f} {currency} |" in section, category
    total = [line for line in lines if line.startswith("| **total** |")]
    assert len(total) == 1
    assert f"**{sol['objective']:,.0f} {currency}**" in total[0]


def test_outputs_are_written_atomically(tiny_outputs) -> None:
    out, _ = tiny_outputs
    assert (out / "solution.json").exists()
    assert _tmp_files(out) == []


def test_json_to_stdout_is_the_only_thing_on_stdout(run_subprocess) -> None:
    ran = run_subprocess(["solve", TINY, "--json", "-"])
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    sol = json.loads(ran.stdout)  # one document, nothing before or after
    assert sol["status"] == "optimal"
    assert "Annual cost by category" in ran.stderr  # the human report moved to stderr


# (solver options, a line that solver writes in its log and eastwest itself never does)
SOLVER_LOGS = {"clp": (["--backend", "ortools", "--solver", "clp"], "Clp0032I Optimal objective"),
               "highs": (["--backend", "ortools", "--solver", "highs"], "Running HiGHS"),
               "pulp-cbc": (["--backend", "pulp", "--solver", "cbc"], "Welcome to the CBC")}


@pytest.mark.parametrize("solver", list(SOLVER_LOGS))
def test_solver_log_never_leaks_into_stdout(solver: str, run_subprocess) -> None:
    """--log shows the solver's own log on stderr (and only there); without it, it is not."""
    args, banner = SOLVER_LOGS[solver]
    ran = run_subprocess(["solve", TINY, *args, "--log", "--json", "-"])
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    assert json.loads(ran.stdout)["status"] == "optimal"
    assert banner in ran.stderr, "--log shows the solver log on stderr"
    quiet = run_subprocess(["solve", TINY, *args, "--json", "-"])
    assert quiet.code == 0, quiet.stderr
    assert json.loads(quiet.stdout)["status"] == "optimal"
    assert banner not in quiet.both


def test_quiet_prints_nothing_on_stdout(run_subprocess) -> None:
    ran = run_subprocess(["solve", TINY, "-q"])
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    assert ran.stdout == ""


@pytest.fixture(scope="module")
def reference_objective(run_eastwest, tmp_path_factory: pytest.TempPathFactory) -> float:
    """The objective of the default solver on tiny, which the others must reproduce."""
    ran = run_eastwest(["solve", TINY, "--json", "-", "-q"], cwd=tmp_path_factory.mktemp("ref"))
    assert ran.code == 0, ran.stderr
    return float(json.loads(ran.stdout)["objective"])


@pytest.mark.parametrize(("backend", "solver"), [
    ("ortools", "clp"), ("ortools", "glop"), ("ortools", "highs"), ("ortools", "pdlp"),
    ("ortools", "scip"), ("pulp", "cbc"), ("pulp", "highs"),
])
def test_every_solver_finds_the_same_optimum(
    backend: str, solver: str, reference_objective: float, run_subprocess
) -> None:
    ran = run_subprocess(["solve", TINY, "--backend", backend, "--solver", solver,
                          "--json", "-", "-q"])
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    sol = json.loads(ran.stdout)
    assert sol["status"] == "optimal"
    assert (sol["solver"]["backend"], sol["solver"]["solver"]) == (backend, solver)
    assert math.isclose(sol["objective"], reference_objective, rel_tol=1e-6)


@pytest.mark.parametrize(("args", "mentions"), [
    (["--solver", "cbc"], "--solver cbc cannot solve an LP with the ortools backend"),
    (["--backend", "pulp", "--solver", "glop"], "glop"),
    (["--backend", "nope"], "nope"),
    (["--time-limit", "-1"], "--time-limit"),
    (["--threads", "0"], "--threads"),
    (["--no-such-option"], "--no-such-option"),
], ids=["cbc-with-ortools", "glop-with-pulp", "unknown-backend", "negative-time-limit",
        "zero-threads", "unknown-option"])
def test_bad_usage_exits_2(args: list[str], mentions: str, tmp_path: Path,
                           run_inprocess) -> None:
    out = tmp_path / "out"
    ran = run_inprocess(["solve", TINY, *args, "--json", out / "solution.json"])
    assert ran.code == 2, ran.both
    _no_traceback(ran)
    assert mentions in ran.stderr
    assert not out.exists()


def test_unwritable_output_path_is_not_an_internal_error(tmp_path: Path,
                                                         run_subprocess) -> None:
    """``--json`` below a regular file cannot be written: a plain error (exit 2), no
    traceback."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    ran = run_subprocess(["solve", TINY, "-q", "--json", blocker / "solution.json"])
    assert ran.code == 2, ran.both
    _no_traceback(ran)
    assert str(blocker) in ran.stderr


def test_solve_without_argument_solves_the_national_instance(
        run_subprocess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ran = run_subprocess(["solve"], cwd=tmp_path / "cwd")
    assert ran.code == 0, ran.stderr
    _no_traceback(ran)
    assert "optimal" in ran.stdout
    assert "china-national" in ran.stdout
    # no output file asked for: the solver log and run.json go to the user cache, not the cwd
    logs = tmp_path / "cache" / "eastwest" / "logs"
    assert list(logs.glob("*.solver.log"))
    assert list(logs.glob("*.run.json"))
    assert list((tmp_path / "cwd").iterdir()) == []
    assert _tmp_files(tmp_path) == []


def test_schema_command_matches_the_committed_schema(run_subprocess) -> None:
    ran = run_subprocess(["schema"])
    assert ran.code == 0, ran.stderr
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert json.loads(ran.stdout) == committed


@pytest.mark.parametrize("instance", sorted((REPO / "instances").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_instance_files_point_editors_at_the_schema(instance: Path) -> None:
    first = instance.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    target = first.removeprefix("# yaml-language-server: $schema=").strip()
    assert (instance.parent / target).resolve() == SCHEMA_FILE.resolve()


def test_packaged_national_instance_is_the_committed_one() -> None:
    shipped = REPO / "optimizer" / "data" / "china-national.yaml"
    assert shipped.read_bytes() == (REPO / "instances" / "china-national.yaml").read_bytes()


def _infeasible_instance(folder: Path) -> Path:
    text = TINY.read_text(encoding="utf-8")
    for old, new in INFEASIBLE_EDITS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = folder / "infeasible.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_infeasible_instance_exits_3_without_solution_tables(tmp_path: Path,
                                                             run_subprocess) -> None:
    instance = _infeasible_instance(tmp_path)
    out = tmp_path / "out"
    ran = run_subprocess(["solve", instance, "--json", out / "solution.json",
                          "--report", out / "report.md"])
    assert ran.code == 3, ran.both
    _no_traceback(ran)
    assert "infeasible" in ran.stdout
    for title in ("Annual cost by category", "Sites", "Service by workload class"):
        assert title not in ran.stdout
        assert title not in (out / "report.md").read_text(encoding="utf-8")
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "infeasible"
    assert sol["flows"] == []
    assert _tmp_files(out) == []


def test_obviously_infeasible_hard_demand_is_refused_before_solving(tmp_path: Path,
                                                                  run_subprocess) -> None:
    """Hard batch demand (30 MW) beyond all the capacity there is (15 + 1 MW): exit 2 and a
    message that says so, before any model is built."""
    text = TINY.read_text(encoding="utf-8")
    text = text.replace("  - id: batch\n", "  - id: batch\n    unmet_penalty: null\n")
    text = text.replace("capacity_mw: 100", "capacity_mw: 1")
    path = tmp_path / "short.yaml"
    path.write_text(text, encoding="utf-8")
    ran = run_subprocess(["solve", path])
    assert ran.code == 2, ran.both
    _no_traceback(ran)
    assert "hard demand cannot be met" in ran.stderr
    assert "30.0 MW" in ran.stderr


def test_infeasible_instance_json_on_stdout(tmp_path: Path, run_subprocess) -> None:
    ran = run_subprocess(["solve", _infeasible_instance(tmp_path), "--json", "-", "-q"])
    assert ran.code == 3, ran.both
    _no_traceback(ran)
    assert json.loads(ran.stdout)["status"] == "infeasible"


@pytest.mark.parametrize("limit", ["0.001", "0.01"])
def test_tiny_time_limit_on_the_national_instance(limit: str, tmp_path: Path,
                                                  run_subprocess) -> None:
    """Whatever happens within the limit, the exit code and the JSON status agree (§4)."""
    out = tmp_path / "solution.json"
    ran = run_subprocess(["solve", "--time-limit", limit, "--json", out, "-q"])
    _no_traceback(ran)
    assert ran.code in (0, 3, 4), ran.both
    sol = json.loads(out.read_text(encoding="utf-8"))
    assert sol["status"] in STATUSES
    assert ran.code in EXIT_FOR_STATUS[sol["status"]], (ran.code, sol["status"])
    if ran.code == 4:
        assert sol["objective"] is not None
        assert sol["flows"]
    if ran.code == 3:
        assert sol["objective"] is None
        assert sol["flows"] == []
    assert _tmp_files(tmp_path) == []


def test_stop_at_the_time_limit_is_reported_as_time_limit(tmp_path: Path,
                                                          run_subprocess) -> None:
    """The national instance is feasible and bounded (it solves to optimality without a limit),
    so a run that does not end optimal within 1 ms was stopped by the time limit, and §5's
    status for that is ``time_limit`` (with or without a solution), not ``error``."""
    out = tmp_path / "solution.json"
    ran = run_subprocess(["solve", "--time-limit", "0.001", "--json", out, "-q"])
    _no_traceback(ran)
    sol = json.loads(out.read_text(encoding="utf-8"))
    if ran.code != 0:
        assert sol["status"] == "time_limit", (sol["status"], sol.get("message"))


def test_version(run_subprocess) -> None:
    ran = run_subprocess(["--version"])
    assert ran.code == 0
    assert ran.stdout.strip() == f"eastwest {optimizer.__version__}"
    assert optimizer.__version__ == metadata.version("eastwest")


def test_plots_and_sensitivity_on_tiny(tmp_path: Path, run_subprocess) -> None:
    """--plots writes the three pictures and the report embeds them; --sensitivity lists the
    binding capacity of `near` (683 CNY per MW-year, derived in tests/unit/test_tiny.py)."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "out"
    ran = run_subprocess(["solve", TINY, "--plots", out / "plots", "--report", out / "r.md",
                          "--sensitivity"])
    assert ran.code == 0, ran.both
    _no_traceback(ran)
    for name in ("flows", "load", "costs"):
        assert (out / "plots" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
        assert (out / "plots" / f"{name}.svg").exists()
    report = (out / "r.md").read_text(encoding="utf-8")
    assert "![flows](plots/flows.png)" in report
    assert "683" in ran.stdout
    assert "Binding constraints" in report

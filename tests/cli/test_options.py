"""Every command's options and every suite field validated before any work (issue #10).

A bad option exits 2 with a message naming it, no traceback, and nothing solved: each test runs
with the pipeline's compile step replaced by a sentinel that fails the run if it is reached, and
checks that no output file or folder was made. The bounds (optimizer/backends/options.py): time
limits finite and above 0; a gap from 0 to below 1; 1 to 1,024 threads; 1 to four worker
processes per core; suites' optima finite, rel_tol at most 0.01, abs_tol at most 1, solvers
known to the registry. A model whose numbers the solvers would take for infinity (1e20) is
refused naming its block.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from test_malformed import edited, error_lines, line_of

from optimizer.backends.base import SolveOptions
from optimizer.backends.options import MAX_THREADS, max_workers
from optimizer.errors import UsageError
from optimizer.load import load

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "instances" / "tiny.yaml"
TINY_OPTIMUM = 14085.0  # derived by hand in tests/unit/test_tiny.py's docstring
VARY = ["--vary", "policy.carbon_price=0:10:2"]
TOO_MANY_JOBS = str(max_workers() + 1)


def _refused(ran, mentions: list[str], calls: list[str], *absent: Path) -> None:
    assert ran.code == 2, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stdout + ran.stderr
    one_line = " ".join(ran.stderr.split())
    for text in mentions:
        assert text in one_line, f"{text!r} not in {ran.stderr}"
    assert calls == []
    for path in absent:
        assert not path.exists(), path


SOLVE_CASES = [
    (["--time-limit", "inf"], ["--time-limit inf must be a finite number of seconds above 0"]),
    (["--time-limit", "0"], ["--time-limit 0.0 must be a finite number of seconds above 0"]),
    (["--time-limit", "nan"], ["--time-limit"]),
    (["--gap", "inf"], ["--gap inf must be a relative gap from 0 to below 1"]),
    (["--gap", "1"], ["--gap 1.0 must be a relative gap from 0 to below 1"]),
    (["--gap", "5"], ["--gap 5.0 must be a relative gap"]),
    (["--threads", str(MAX_THREADS + 1)], [f"--threads {MAX_THREADS + 1} must be from 1 to "
                                           f"{MAX_THREADS}"]),
    (["--jobs", TOO_MANY_JOBS], [f"--jobs {TOO_MANY_JOBS} must be from 1 to {max_workers()}"]),
    (["--solver", "gurobi"], ["--solver gurobi is not available with the ortools backend"]),
    (["--backend", "cplex"], ["--backend cplex is not a backend: choose one of ortools, pulp"]),
    (["--strategy", "dantzig"], ["--strategy must be one of auto, monolithic, colgen, lagrange, "
                                  "benders, not 'dantzig'"]),
    (["--time-limit", "inf", "--gap", "2", "--threads", "100000", "--jobs", "100000",
      "--strategy", "x"],
     ["--time-limit inf", "--gap 2.0", "--threads 100000", "--jobs 100000", "--strategy must"]),
]


@pytest.mark.parametrize(("args", "mentions"), SOLVE_CASES,
                         ids=[" ".join(c[0]) if len(c[0]) == 2 else "all-at-once"
                              for c in SOLVE_CASES])
def test_solve_refuses_a_bad_option_before_any_work(args: list[str], mentions: list[str],
                                                     tmp_path: Path, run_inprocess,
                                                     nothing_solved: list[str]) -> None:
    out = tmp_path / "out"
    ran = run_inprocess(["solve", TINY, "-q", *args, "--json", out / "solution.json"])
    _refused(ran, mentions, nothing_solved, out)


def test_the_bounds_themselves_are_accepted(tmp_path: Path, run_inprocess) -> None:
    """The largest thread count and a gap just below 1 are legal (CLP ignores both on this LP),
    and so is the most workers: tiny solves to its hand-derived optimum."""
    out = tmp_path / "solution.json"
    ran = run_inprocess(["solve", TINY, "-q", "--threads", str(MAX_THREADS), "--gap", "0.999",
                         "--jobs", str(max_workers()), "--time-limit", "1e300", "--json", out])
    assert ran.code == 0, ran.stderr
    assert json.loads(out.read_text())["objective"] == pytest.approx(TINY_OPTIMUM, rel=1e-9)


def test_four_workers_per_core() -> None:
    assert max_workers() == 4 * len(os.sched_getaffinity(0))


STUDY_CASES = [
    ("inf-time", ["--time-limit", "inf"], ["--time-limit inf must be a finite number"]),
    ("nan-time", ["--time-limit", "nan"], ["--time-limit nan must be a finite number"]),
    ("negative-time", ["--time-limit", "-1"], ["--time-limit -1.0 must be a finite number"]),
    ("nan-gap", ["--gap", "nan"], ["--gap"]),
    ("jobs", ["--jobs", TOO_MANY_JOBS], [f"--jobs {TOO_MANY_JOBS} must be from 1 to"]),
    ("solver", ["--solver", "gurobi"], ["--solver gurobi is not available"]),
]
# pareto has no --max-points: its --points is at most 200, far below the cap
STUDY_RUNS = [(c, *case) for c in ("sweep", "pareto") for case in STUDY_CASES] + [
    ("sweep", "max-points-0", ["--max-points", "0"], ["--max-points"])]


@pytest.mark.parametrize(("command", "args", "mentions"), [r[:1] + r[2:] for r in STUDY_RUNS],
                         ids=[f"{r[0]}-{r[1]}" for r in STUDY_RUNS])
def test_studies_refuse_a_bad_option_before_any_work(command: str, args: list[str],
                                                     mentions: list[str], tmp_path: Path,
                                                     run_inprocess,
                                                     nothing_solved: list[str]) -> None:
    out = tmp_path / "study"
    head = ["sweep", TINY, *VARY] if command == "sweep" else ["pareto", TINY, "--points", "1"]
    ran = run_inprocess([*head, *args, "--out", out, "-q", "--no-plots"])
    _refused(ran, mentions, nothing_solved, out)


def test_a_sweep_checks_its_options_before_reading_the_study(tmp_path: Path,
                                                            run_inprocess) -> None:
    """The options given on the command line are checked first: a study file that is not
    there is not even read."""
    ran = run_inprocess(["sweep", tmp_path / "missing.yaml", "--time-limit", "inf"])
    _refused(ran, ["usage error: --time-limit inf must be a finite number"], [])
    assert "missing.yaml" not in ran.stderr


def test_library_callers_get_the_same_checks() -> None:
    """``solve_document`` refuses, every problem at once, in the library's names."""
    from optimizer.pipeline import solve_document

    with pytest.raises(UsageError) as caught:
        solve_document(load(TINY), SolveOptions(time_limit=math.inf, gap=-0.1, threads=0))
    assert str(caught.value) == ("time_limit=inf must be a finite number of seconds above 0; "
                                 "gap=-0.1 must be a relative gap from 0 to below 1 (0.01 is 1%); "
                                 "threads=0 must be from 1 to 1024")


# -- bench suites: every field checked, every problem at once, before any case runs
SUITE = f"""\
name: s
time_limit: 60
solvers: [{{backend: ortools, solver: auto}}]
cases:
  - {{name: tiny, instance: {TINY}, optimum: {TINY_OPTIMUM}}}
  - {{name: cap41, import: orlib-cap, file: {REPO}/benchmarks/data/orlib-cap/cap41.txt}}
"""

def _suite(tmp_path: Path, edits: tuple[tuple[str, str], ...]) -> tuple[Path, str]:
    text = edited(SUITE, edits)
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


@pytest.mark.parametrize(("args", "mentions"), [
    (["--time-limit", "inf"], ["--time-limit inf must be a finite number"]),
    (["--time-limit", "0"], ["--time-limit 0.0 must be a finite number"]),
    (["--jobs", TOO_MANY_JOBS], [f"--jobs {TOO_MANY_JOBS} must be from 1 to"]),
], ids=["inf-time", "zero-time", "jobs"])
def test_bench_refuses_a_bad_option_before_any_work(args: list[str], mentions: list[str],
                                                    tmp_path: Path, run_inprocess,
                                                    nothing_solved: list[str]) -> None:
    suite, _ = _suite(tmp_path, ())
    out = tmp_path / "bench"
    ran = run_inprocess(["bench", suite, "--out", out, *args])
    _refused(ran, mentions, nothing_solved, out)


SUITE_CASES = [
    ("optimum-inf", ((f"optimum: {TINY_OPTIMUM}", "optimum: .inf"),), "cases[0].optimum",
     r"name: tiny", "Input should be a finite number"),
    ("optimum-nan", ((f"optimum: {TINY_OPTIMUM}", "optimum: .nan"),), "cases[0].optimum",
     r"name: tiny", "Input should be a finite number"),
    ("rel-tol-huge", (("time_limit: 60", "time_limit: 60\nrel_tol: 1e9"),), "rel_tol",
     r"^rel_tol", "less than or equal to 0.01"),
    ("rel-tol-negative", (("time_limit: 60", "time_limit: 60\nrel_tol: -1e-6"),), "rel_tol",
     r"^rel_tol", "greater than or equal to 0"),
    ("abs-tol-huge", (("time_limit: 60", "time_limit: 60\nabs_tol: 1e9"),), "abs_tol",
     r"^abs_tol", "less than or equal to 1"),
    ("time-limit-inf", (("time_limit: 60", "time_limit: .inf"),), "time_limit", r"^time_limit",
     "Input should be a finite number"),
    ("time-limit-zero", (("time_limit: 60", "time_limit: 0"),), "time_limit", r"^time_limit",
     "greater than 0"),
    ("gap-one", (("time_limit: 60", "time_limit: 60\ngap: 1"),), "gap", r"^gap",
     "less than 1"),
    ("solver-unknown", (("solver: auto", "solver: gurobi"),), "solvers[0].solver", r"^solvers",
     "'gurobi' is not available with the ortools backend"),
    ("solver-of-another-backend", (("backend: ortools, solver: auto", "backend: pulp, solver: "
                                    "glop"),), "solvers[0].solver", r"^solvers",
     "'glop' is not available with the pulp backend"),
    ("lp-solver-for-imported-mips", (("solver: auto", "solver: clp"),), "solvers[0].solver",
     r"^solvers", "'clp' solves LPs only, and imported cases such as 'cap41' are MIPs"),
    ("case-name-twice", (("name: cap41", "name: tiny"),), "cases[1].name", r"file:",
     "the name 'tiny' is used by cases[0] too"),
    ("case-file-missing", (("cap41.txt", "cap99.txt"),), "cases[1].file", r"file:",
     "no such file"),
    ("capacity-inf", (("cap41.txt}", "cap41.txt, capacity: .inf}"),), "cases[1].capacity",
     r"file:", "Input should be a finite number"),
    ("capacity-for-an-instance", ((f"optimum: {TINY_OPTIMUM}}}", f"optimum: {TINY_OPTIMUM}, "
                                   "capacity: 5}"),), "cases[0]", r"name: tiny",
     "'capacity' applies to 'import: orlib-cap' only"),
]


@pytest.mark.parametrize(("edits", "path", "line_at", "message"), [c[1:] for c in SUITE_CASES],
                         ids=[c[0] for c in SUITE_CASES])
def test_a_bad_suite_field_is_refused_before_any_case_runs(edits, path: str, line_at: str,
                                                           message: str, tmp_path: Path,
                                                           run_inprocess,
                                                           nothing_solved: list[str]) -> None:
    suite, text = _suite(tmp_path, edits)
    out = tmp_path / "bench"
    ran = run_inprocess(["bench", suite, "--out", out])
    prefix = f"error  {suite}:{line_of(text, line_at)}  {path}  "
    hits = [e for e in error_lines(ran.stderr) if e.startswith(prefix)]
    assert any(message in e for e in hits), ran.stderr
    _refused(ran, [], nothing_solved, out)


def test_every_suite_problem_at_once(tmp_path: Path, run_inprocess,
                                     nothing_solved: list[str]) -> None:
    suite, _ = _suite(tmp_path, ((f"optimum: {TINY_OPTIMUM}", "optimum: .inf"),
                                 ("time_limit: 60", "time_limit: 60\nrel_tol: 1e9"),
                                 ("solver: auto", "solver: gurobi"), ("name: cap41", "name: tiny"),
                                 ("cap41.txt", "cap99.txt")))
    ran = run_inprocess(["bench", suite, "--out", tmp_path / "bench"])
    fields = sorted(e.split("  ")[2] for e in error_lines(ran.stderr))
    assert fields == ["cases[0].optimum", "cases[1].file", "cases[1].name", "rel_tol",
                      "solvers[0].solver"], ran.stderr
    _refused(ran, ["5 problems; nothing was solved"], nothing_solved)


@pytest.mark.parametrize(("optimum", "match"), [
    (TINY_OPTIMUM * 1.009, True), (TINY_OPTIMUM * 1.011, False)])
def test_the_loosest_rel_tol_still_tells_optima_apart(optimum: float, match: bool,
                                                      tmp_path: Path, run_inprocess) -> None:
    """rel_tol 0.01 (the bound) is accepted; a published optimum 0.9% off matches, 1.1% off
    does not."""
    suite, _ = _suite(tmp_path, (("time_limit: 60", "time_limit: 60\nrel_tol: 0.01"),
                                 (f"optimum: {TINY_OPTIMUM}", f"optimum: {optimum!r}")))
    out = tmp_path / "bench"
    ran = run_inprocess(["bench", suite, "--out", out, "--only", "tiny"])
    assert ran.code == (0 if match else 3), ran.stderr
    rows = json.loads((out / "s.json").read_text())["rows"]
    assert [r["match"] for r in rows] == [match]


# -- the numbers of the built model: 1e20 is the solvers' infinity
def test_a_model_the_solvers_would_misread_is_refused_naming_the_block(
        tmp_path: Path, run_inprocess, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each field within 1e15, but a grid MWh costs price x hours x weight = 1e15 x 1 x 1e15 =
    1e30 in the objective: refused before the solver is called."""
    calls: list[str] = []
    monkeypatch.setattr("optimizer.engine.solve", lambda *a, **k: calls.append("solve"))
    out = tmp_path / "solution.json"
    ran = run_inprocess(["solve", TINY, "-q", "--set", "periods.weight=1e15",
                         "--set", "sites[*].price=1e15", "--json", out])
    _refused(ran, ["the model has 4 objective coefficients of the grid block not finite or "
                   "1e20 or more in magnitude (the first: grid[0,0] = 1e+30)"], calls, out)
    assert f"error  {TINY}  (document)  the model has" in ran.stderr

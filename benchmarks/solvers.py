"""Exact LP solver paths side by side: CLP, GLOP, HiGHS, PDLP (through OR-Tools) and highspy.

Run from the repository root::

    python benchmarks/solvers.py [--quick] [--time-limit 300] [--period 12]
                                 [--paths clp,glop,...] [--out reports/benchmarks]

Two LPs, generated in-process (``sizes.build_lp``: ``optimizer.generate.generate``,
deterministic from ``--seed``), parsed, compiled and formulated as ``eastwest solve`` does:

- ``medium``: ``generate(100, 30, 24, 4)`` as one monolithic LP (219,504 variables);
- ``period``: one period LP (``--period``, default 12) of the large instance
  ``generate(300, 60, 24, 4)``, sliced out with ``period_partition`` exactly as
  ``solve_by_period`` (``optimizer/backends/decompose.py``) slices it.

``--quick`` measures only the period LP. On each LP every path below is solved once, in its own
process forked from the benchmark after the LP is built (``harness.run_isolated``; a crash, a
hard timeout, the time limit + 120 s, or a solver's process-wide state, such as HiGHS's global
thread scheduler, cannot reach the other paths):

- ``clp`` / ``glop``: ``ortools_backend.solve(lp, SolveOptions(solver=...))``, the package's own
  paths (CLP through the exported proto, GLOP through model_builder);
- ``glop ...``, ``highs ...``, ``pdlp ...``: OR-Tools ``model_builder`` directly
  (``to_model(lp)``, ``ModelSolverHelper(name)``, ``set_solver_specific_parameters(text)``):
  GLOP and PDLP read protobuf text format, HiGHS ``name=value`` lines (OR-Tools splits on
  newlines and commas and calls ``Highs::setOptionValue``);
- ``highspy ...``: HiGHS from the highspy package, the LP passed column-wise as a ``HighsLp``
  (``optimizer.warm.highs_lp``), ``solver`` set to ``simplex`` or ``ipm``. highspy is imported
  in the forked child only, after OR-Tools (imported first, it makes OR-Tools' HiGHS crash).

Wall time (``harness.Clock``: ``time.perf_counter``; CPU time beside it) runs from the
``LinearProgram`` to the objective: the model load (``to_model`` / the proto export /
``passModel``) is included, and recorded separately in the JSON with the solver's own time.
Every path has the time limit ``--time-limit`` (300 s); a PDLP variant that cannot be faster
than one that hit it is skipped. Solver logs go to the raw file descriptors and are captured
(``capture_fd_output``); their tails are kept in the JSON. The objective is compared with CLP's
(relative difference, flagged beyond 1e-7). A rejected parameter string is recorded as such, not
raised.

Writes ``solvers.md`` and ``solvers.json`` under ``--out`` (atomically, after every path, so an
interrupted run leaves what it measured; rendered by ``benchmarks/solvers_report.py``). One
solve per path on a shared, noisy 2-core machine: read the ratios, not the third digit.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
from benchinfo import machine
from harness import Clock, command_line, run_isolated
from rich.console import Console
from rich.markup import escape
from sizes import LARGE, MEDIUM, build_lp
from solvers_report import REL, fmt_obj, fmt_s, print_table, save

import optimizer.backends  # noqa: F401 - OR-Tools before highspy (see HIGHS_SHADOWED)
from optimizer.backends import ortools_backend
from optimizer.backends.base import SolveOptions, capture_fd_output
from optimizer.backends.decompose import period_partition
from optimizer.generate import DEFAULT_SEED
from optimizer.model.lp import LinearProgram
from optimizer.warm import highs_lp

GRACE_S = 120.0  # a child still alive this long after the time limit is killed
PDLP_TOL = ("termination_criteria { simple_optimality_criteria { "
            "eps_optimal_relative: 1e-7 eps_optimal_absolute: 1e-7 } }")


@dataclasses.dataclass(frozen=True)
class Path_:
    """One way to solve the LP: ``kind`` backend (ortools_backend.solve), mb (model_builder),
    mb-after-highs (model_builder, after a default HiGHS solve in the same process) or highspy."""

    name: str
    kind: str
    solver: str
    params: str = ""
    label: str = ""


PATHS: list[Path_] = [
    Path_("clp", "backend", "clp", label="CLP: ortools_backend.solve(solver='clp') (reference)"),
    Path_("glop", "backend", "glop", label="GLOP default: ortools_backend.solve(solver='glop')"),
    Path_("glop-nopresolve", "mb", "glop", "use_preprocessing: false",
          label="GLOP `use_preprocessing: false`"),
    Path_("glop-dual", "mb", "glop", "use_dual_simplex: true",
          label="GLOP `use_dual_simplex: true`"),
    Path_("glop-nopresolve-dual", "mb", "glop",
          "use_preprocessing: false use_dual_simplex: true",
          label="GLOP `use_preprocessing: false use_dual_simplex: true`"),
    Path_("highs", "mb", "highs", label="HiGHS default (simplex), model_builder"),
    Path_("highs-ipm", "mb", "highs", "solver=ipm", label="HiGHS `solver=ipm` (crossover on)"),
    Path_("highs-ipm-nocrossover", "mb", "highs", "solver=ipm\nrun_crossover=off",
          label="HiGHS `solver=ipm` `run_crossover=off`"),
    Path_("highs-threads2", "mb", "highs", "threads=2",
          label="HiGHS `threads=2` (fresh process)"),
    Path_("highs-threads2-after", "mb-after-highs", "highs", "threads=2",
          label="HiGHS `threads=2` after a default HiGHS solve in the same process"),
    Path_("pdlp", "mb", "pdlp", label="PDLP default"),
    Path_("pdlp-1e-7", "mb", "pdlp", PDLP_TOL,
          label="PDLP eps_optimal 1e-7 (the backend's tolerance)"),
    Path_("pdlp-threads2", "mb", "pdlp", "num_threads: 2",
          label="PDLP `num_threads: 2` (default tolerance)"),
    Path_("highspy-simplex", "highspy", "simplex", label="highspy `solver=simplex`"),
    Path_("highspy-ipm", "highspy", "ipm", label="highspy `solver=ipm`"),
]
BY_NAME = {p.name: p for p in PATHS}
LABELS = {p.name: p.label for p in PATHS}
SKIP_IF_TIMED_OUT = {"pdlp-1e-7": "pdlp"}  # tighter tolerance: no faster than the default


# --------------------------------------------------------------------------------------------
# The two LPs
# --------------------------------------------------------------------------------------------


def period_lp(lp: LinearProgram, period: int) -> LinearProgram:
    """Period ``period``'s LP, sliced as ``solve_by_period`` slices it (one permutation that
    makes each period's block contiguous, then the block)."""
    partition = period_partition(lp)
    if partition is None:
        raise SystemExit("the large LP couples periods: no period LP to slice")
    col_p, row_p = partition
    T = int(col_p.max()) + 1
    if not 0 <= period < T:
        raise SystemExit(f"--period must be in 0..{T - 1}")
    corder = np.argsort(col_p, kind="stable")
    rorder = np.argsort(row_p, kind="stable")
    cstart = np.searchsorted(col_p[corder], np.arange(T + 1))
    rstart = np.searchsorted(row_p[rorder], np.arange(T + 1))
    A = lp.A[rorder][:, corder].tocsr()
    cs = corder[cstart[period]:cstart[period + 1]]
    rs = rorder[rstart[period]:rstart[period + 1]]
    return dataclasses.replace(
        lp, c=lp.c[cs], A=A[rstart[period]:rstart[period + 1], cstart[period]:cstart[period + 1]],
        row_lb=lp.row_lb[rs], row_ub=lp.row_ub[rs], col_lb=lp.col_lb[cs], col_ub=lp.col_ub[cs],
        integer=lp.integer[cs], variables={}, rows={}, cost_matrix=lp.cost_matrix[:, cs])


# --------------------------------------------------------------------------------------------
# The paths (run in a forked child)
# --------------------------------------------------------------------------------------------


def run_backend(lp: LinearProgram, path: Path_, limit: float) -> dict[str, Any]:
    with Clock() as clock:
        raw = ortools_backend.solve(lp, SolveOptions(solver=path.solver, time_limit=limit))
    return {"status": raw.status.value, "objective": raw.objective, "wall_s": clock.wall,
            "cpu_s": clock.cpu, "solver_s": raw.solve_s, "load_s": clock.wall - raw.solve_s,
            "message": raw.message, "notes": raw.notes, "log": raw.log}


def _mb_solve(lp: LinearProgram, solver_name: str, params: str,
              limit: float) -> dict[str, Any]:
    from ortools.linear_solver.python import model_builder_helper as mbh

    with Clock() as load:
        model = ortools_backend.to_model(lp)
    with Clock() as run:
        solver = mbh.ModelSolverHelper(solver_name)
        supported = solver.solver_is_supported()
        if supported:
            if params:
                solver.set_solver_specific_parameters(params)
            solver.set_time_limit_in_seconds(limit)
            solver.enable_output(True)
            with capture_fd_output() as captured:
                solver.solve(model)
    if not supported:
        return {"status": "unavailable", "objective": None, "wall_s": None,
                "message": f"{solver_name} is not in this OR-Tools build"}
    objective = float(solver.objective_value()) if solver.has_solution() else None
    name = solver.status().name
    if run.wall >= 0.95 * limit:
        state = "time limit"
    elif name == "OPTIMAL":
        state = "optimal"
    elif name == "INVALID_SOLVER_PARAMETERS":
        state = "parameters rejected"
    else:
        state = "error"
    version = re.search(r"Running HiGHS (\d+\.\d+\.\d+)", captured[0])
    return {"status": state, "objective": objective if state == "optimal" else None,
            "objective_at_stop": objective, "wall_s": load.wall + run.wall,
            "cpu_s": load.cpu + run.cpu, "solver_s": run.wall, "load_s": load.wall,
            "message": f"{name}: {solver.status_string()}".rstrip(": "),
            "highs_version": version.group(1) if version else None,
            "log": captured[0]}


def run_mb(lp: LinearProgram, path: Path_, limit: float) -> dict[str, Any]:
    return _mb_solve(lp, path.solver, path.params, limit)


def run_mb_after_highs(lp: LinearProgram, path: Path_, limit: float) -> dict[str, Any]:
    first = _mb_solve(lp, "highs", "", limit)  # untimed: it only sets up HiGHS in this process
    result = _mb_solve(lp, path.solver, path.params, limit)
    result["first_solve"] = {k: first.get(k) for k in ("status", "objective", "wall_s")}
    return result


def run_highspy(lp: LinearProgram, path: Path_, limit: float) -> dict[str, Any]:
    import highspy  # here only: after OR-Tools (imported by optimizer, in the parent)

    with capture_fd_output() as captured:
        with Clock() as load:
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", True)
            highs.setOptionValue("log_to_console", True)
            highs.setOptionValue("time_limit", float(limit))
            highs.setOptionValue("solver", path.solver)
            model = highs_lp(lp)
            pass_status = highs.passModel(model)
        with Clock() as run:
            run_status = highs.run()
    name = highs.getModelStatus().name
    info = highs.getInfo()
    state = ("time limit" if name == "kTimeLimit" else "optimal" if name == "kOptimal"
             else "error")
    objective = float(info.objective_function_value)
    return {"status": state, "objective": objective if state == "optimal" else None,
            "wall_s": load.wall + run.wall, "cpu_s": load.cpu + run.cpu, "solver_s": run.wall,
            "load_s": load.wall,
            "message": f"{name} (passModel {pass_status.name}, run {run_status.name})",
            "iterations": {"simplex": int(info.simplex_iteration_count),
                           "ipm": int(info.ipm_iteration_count),
                           "crossover": int(info.crossover_iteration_count)},
            "highs_version": f"{highs.versionMajor()}.{highs.versionMinor()}."
                             f"{highs.versionPatch()}",
            "log": captured[0]}


# each runner times its span with harness.Clock: wall and CPU (user + system, every thread of
# the process), the model load and the solve apart
RUNNERS = {"backend": run_backend, "mb": run_mb, "mb-after-highs": run_mb_after_highs,
           "highspy": run_highspy}


ITERATIONS = {  # what each solver's log says about its iterations (last match)
    "clp": r"Optimal objective \S+ - (\d+) iterations",
    "glop": r"^iterations: (\d+)$",
    "simplex": r"Simplex\s+iterations: (\d+)",
    "ipm": r"IPM\s+iterations: (\d+)",
    "crossover": r"Crossover\s+iterations: (\d+)",
    "pdlp": r"Final solution stats:\n[^\n]*\n\s*(\d+)",
}


def read_log(log: str) -> dict[str, Any]:
    """Iterations, PDLP's termination, HiGHS's errors: from a solver log."""
    found: dict[str, Any] = {}
    its = {}
    for key, pattern in ITERATIONS.items():
        hits = re.findall(pattern, log, flags=re.M)
        if hits and int(hits[-1]):
            its[key] = int(hits[-1])
    if its:
        found["iterations"] = its
    for key, pattern in (("pdlp_termination", r"Termination reason: (\S+)"),
                         ("pdlp_point", r"Solution point type: (\S+)")):
        hit = re.findall(pattern, log)
        if hit:
            found[key] = hit[-1]
    errors = [ln.strip() for ln in log.splitlines() if ln.startswith("ERROR")]
    if errors:
        found["log_errors"] = errors[-5:]
    return found


def run_path(lp: LinearProgram, path: Path_, limit: float) -> dict[str, Any]:
    """``path`` on ``lp`` in a forked child (it inherits the LP, ``harness.run_isolated``);
    exceptions, crashes and hangs are recorded, not raised: one path's failure is a result."""
    run = run_isolated(RUNNERS[path.kind], lp, path, limit, start="fork",
                       timeout=limit + GRACE_S)
    if run.returned:
        result = run.value
        log = result.pop("log", "")
        if log:
            result.update(read_log(log))
            result["log_tail"] = log[-1500:]
    else:
        result = {"status": "exception" if run.error else "crashed", "objective": None,
                  "wall_s": None, "message": run.failure}
    result["process_s"] = run.elapsed_s
    return result


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="only the period LP")
    ap.add_argument("--time-limit", type=float, default=300.0, help="per path (s)")
    ap.add_argument("--period", type=int, default=12, help="the period LP of the large instance")
    ap.add_argument("--paths", default=",".join(p.name for p in PATHS))
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--out", type=Path, default=Path("reports/benchmarks"))
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.paths.split(",") if n.strip()]
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        ap.error(f"unknown paths {unknown}; choose from {', '.join(BY_NAME)}")
    if "clp" not in names:
        names.insert(0, "clp")  # the reference
    args.names = names
    return args


def solve_paths(lp: LinearProgram, entry: dict[str, Any], record: dict[str, Any],
                args: argparse.Namespace, console: Console) -> None:
    """Every path on ``lp``, each in its own forked process; the record saved after each."""
    timed_out: set[str] = set()
    for name in args.names:
        path = BY_NAME[name]
        blocker = SKIP_IF_TIMED_OUT.get(name)
        if blocker in timed_out:
            r = {"status": "skipped", "objective": None, "wall_s": None,
                 "skipped": f"{blocker} hit the {args.time_limit:g} s time limit "
                            "(this variant is no faster)"}
        else:
            r = run_path(lp, path, args.time_limit)
        r = {"path": name, "kind": path.kind, "solver": path.solver, "params": path.params, **r}
        if r["status"] == "time limit":
            timed_out.add(name)
        entry["results"].append(r)
        save(record, args.out, LABELS)
        console.print(f"  {name:<22} {fmt_s(r.get('wall_s')):>8} s  "
                      f"{fmt_obj(r.get('objective'))}  {escape(r['status'])}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console(width=max(160, shutil.get_terminal_size().columns))
    record: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line("solvers.py", argv),
        "machine": machine("numpy", "scipy", "ortools", "highspy"), "seed": args.seed,
        "time_limit_s": args.time_limit, "rel_tol": REL, "lps": [],
        "parameter_strings": [(n, BY_NAME[n].solver, BY_NAME[n].params) for n in args.names
                              if BY_NAME[n].params],
    }
    lps: list[tuple[str, str, Any]] = []
    if not args.quick:
        lps.append(("medium", f"medium: generate{MEDIUM}, one monolithic LP",
                    lambda: build_lp(MEDIUM, args.seed)))
    lps.append(("period", f"period {args.period} of large generate{LARGE} (one period LP)",
                lambda: period_lp(build_lp(LARGE, args.seed), args.period)))

    for key, title, make in lps:
        with Clock() as building:
            lp = make()
        entry: dict[str, Any] = {
            "key": key, "title": title, "build_s": building.wall,
            "lp": {"variables": lp.n_vars, "rows": lp.n_rows, "nonzeros": lp.nnz},
            "results": []}
        record["lps"].append(entry)
        console.print(f"[bold]{escape(title)}[/]: {lp.n_vars:,} variables, {lp.n_rows:,} rows, "
                      f"{lp.nnz:,} non-zeros")
        solve_paths(lp, entry, record, args, console)
        save(record, args.out, LABELS)
        print_table(console, entry)
    console.print(f"wrote {args.out / 'solvers.md'} and {args.out / 'solvers.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

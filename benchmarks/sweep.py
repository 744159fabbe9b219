"""Sweep benchmark: warm re-solves along a serial sweep vs cold solves, and --jobs 2 vs serial.

Run from the repository root::

    python benchmarks/sweep.py [--points 20] [--out reports/benchmarks]

On a medium generated instance (``generate(100, 30, 24, 4, seed=20240601)``, ``sizes.MEDIUM``) a
price sweep moves every site's price by a factor from 0.8 to 1.2 (``--points`` values). Measured
side by side in one run:

- cold: every point a full ``solve_document(parse(data), SolveOptions())`` (the default path:
  OR-Tools, CLP through the exported proto; model_builder builds a new solver every solve, so it
  cannot warm-start);
- warm: every point parsed, compiled and formulated again (vectors rebuilt, same structure: no
  arc presolve, whose choice of arcs may move with the prices), solved by
  :class:`optimizer.warm.WarmSolver` (highspy: costs changed in place, simplex from the previous
  basis), then interpreted like the cold path (``solve_document(..., solver=warm.solve)``);
- the CLI: ``eastwest sweep --vary 'sites[*].price*=0.8:1.2:N' --no-cache`` with ``--jobs 1`` and
  ``--jobs 2`` (wall time of each process, start-up included; ``harness.run_timed``, without the
  process-tree memory sampler, which would take CPU from the two jobs).

Every warm objective is checked against the cold one (relative 1e-7). Writes ``sweep.md`` and
``sweep.json`` under ``--out`` (atomically). The machine is shared and noisy: read ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from benchinfo import machine
from harness import Clock, command_line, eastwest, ratio, rel_diff, run_timed, write_report
from rich.console import Console
from sizes import MEDIUM, build_lp, generate, generate_file

import optimizer.backends  # noqa: F401 - OR-Tools before highspy (see HIGHS_SHADOWED)
from optimizer.backends.base import SolveOptions, Status
from optimizer.generate import DEFAULT_SEED
from optimizer.load import parse
from optimizer.overrides import apply_all
from optimizer.pipeline import solve_document
from optimizer.report.console import to_rich
from optimizer.report.markdown import table_md
from optimizer.report.tables import Table
from optimizer.warm import WarmSolver, available

SIZE = MEDIUM
SEED = DEFAULT_SEED
REL = 1e-7
CLI_TIMEOUT_S = 1800.0  # per eastwest sweep process


def factors(points: int) -> list[float]:
    return [float(f) for f in np.linspace(0.8, 1.2, points)]


def _point(data: dict[str, Any], factor: float) -> Any:
    return parse(apply_all(data, [f"sites[*].price*={factor!r}"]))


def run_cold(data: dict[str, Any], points: int) -> tuple[float, list[float | None]]:
    objectives: list[float | None] = []
    with Clock() as clock:
        for f in factors(points):
            run = solve_document(_point(data, f), SolveOptions())
            objectives.append(run.raw.objective if run.raw.status is Status.OPTIMAL else None)
    return clock.wall, objectives


def run_warm(data: dict[str, Any], points: int) -> tuple[float, list[float | None], dict[str, Any]]:
    solver = WarmSolver()
    options = SolveOptions(prune=False)  # the same structure at every point, to warm-start
    objectives: list[float | None] = []
    build_s = solve_s = 0.0
    warm = 0
    with Clock() as total:
        for f in factors(points):
            with Clock() as parsing:
                document = _point(data, f)
            run = solve_document(document, options, solver=solver.solve)
            build_s += parsing.wall + run.timings["compile"] + run.timings["formulate"]
            solve_s += run.timings["solve"]
            warm += solver.last_warm
            objectives.append(run.raw.objective if run.raw.status is Status.OPTIMAL else None)
    return total.wall, objectives, {"build_s": build_s, "solve_s": solve_s, "warm_solves": warm}


def run_cli(instance: Path, points: int, jobs: int,
            folder: Path) -> tuple[float, list[str], int | None]:
    """One ``eastwest sweep`` process: wall seconds, the command, its exit code (None: killed
    at the timeout)."""
    command = [*eastwest(), "sweep", str(instance), "--vary",
               f"sites[*].price*=0.8:1.2:{points}", "--jobs", str(jobs), "--no-cache",
               "--out", str(folder / f"jobs{jobs}")]
    done = run_timed(command, CLI_TIMEOUT_S, tree=False)
    return done["wall_s"], command, done["returncode"]


def check(cold: list[float | None], warm: list[float | None], points: int) -> dict[str, Any]:
    """Warm against cold, point by point (relative ``REL``)."""
    checks, diffs = [], []
    for f, c, w in zip(factors(points), cold, warm, strict=True):
        rel = rel_diff(w, c)
        ok = rel is not None and rel <= REL
        checks.append({"factor": f, "cold": c, "warm": w, "ok": ok})
        diffs += [rel] if ok else []
    worst = max(diffs, default=float("nan"))
    return {"ok": all(ch["ok"] for ch in checks), "rel": REL, "worst_rel": worst,
            "points": checks}


def measure_cli(points: int) -> dict[str, Any]:
    """``eastwest sweep`` with --jobs 1 and --jobs 2 on the instance written to a file."""
    with tempfile.TemporaryDirectory(prefix="eastwest-sweep-bench-") as tmp:
        folder = Path(tmp)
        instance = folder / "medium.yaml"
        gen = generate_file(SIZE, SEED, instance, CLI_TIMEOUT_S, tree=False)
        if gen["status"] != "ok":
            raise SystemExit(f"eastwest generate failed: {gen['stderr'][-300:]}")
        serial_s, serial_cmd, serial_rc = run_cli(instance, points, 1, folder)
        jobs_s, jobs_cmd, jobs_rc = run_cli(instance, points, 2, folder)
    return {"serial_s": serial_s, "jobs2_s": jobs_s, "serial_over_jobs2": ratio(serial_s, jobs_s),
            "serial_command": shlex.join(serial_cmd), "jobs2_command": shlex.join(jobs_cmd),
            "serial_rc": serial_rc, "jobs2_rc": jobs_rc}


def _times(x: float | None, markdown: bool) -> str:
    text = "–" if x is None else f"{x:.2f}x"
    return f"**{text}** faster" if markdown else f"{text} faster"


def results_table(record: dict[str, Any], markdown: bool) -> Table:
    """The four paths: total and per-point seconds, and the speed-up of warm and of --jobs 2."""
    n, cli, warm = record["points"], record["cli"], record["warm"]
    cold_s, warm_s = record["cold_s"], record["warm_s"]
    labels = (["cold: `solve_document(parse(data), SolveOptions())` (OR-Tools, CLP)",
               "warm: parse + compile + formulate + `WarmSolver.solve` (highspy)",
               "`eastwest sweep --jobs 1 --no-cache`", "`eastwest sweep --jobs 2 --no-cache`"]
              if markdown else
              ["cold: solve_document (CLP)",
               f"warm: WarmSolver (highspy), {warm['warm_solves']} warm",
               f"CLI sweep --jobs 1 (rc {cli['serial_rc']})",
               f"CLI sweep --jobs 2 (rc {cli['jobs2_rc']})"])
    cells = [(cold_s, "1.00"), (warm_s, _times(record["cold_over_warm"], markdown)),
             (cli["serial_s"], "1.00"), (cli["jobs2_s"], _times(cli["serial_over_jobs2"],
                                                                markdown))]
    rows = [[label, f"{s:.2f}", f"{s / n:.3f}", r]
            for label, (s, r) in zip(labels, cells, strict=True)]
    return Table(f"{n}-point price sweep, generate{SIZE}",
                 ["path", "total s", "per point s", "ratio"], rows, numeric={1, 2, 3})


def render_markdown(record: dict[str, Any]) -> str:
    m, inst, warm = record["machine"], record["instance"], record["warm"]
    chk = record["objective_check"]
    return f"""# Sweep benchmark: warm re-solves and parallel points

`{record['command']}` — {record['date']}, {m['cpu']},
{m['nproc']} CPUs, Python {m['python']},
OR-Tools {m['ortools']}, highspy {m['highspy']},
commit {m['git_commit']}.

Instance: `generate{SIZE}` seed {SEED}: {inst['variables']} variables, {inst['rows']} rows,
{inst['nonzeros']} nonzeros. {record['points']} points, every site's price times 0.8 … 1.2.

{table_md(results_table(record, markdown=True))}
Warm path: {warm['warm_solves']} of {record['points']} solves warm (simplex from the previous
basis); build {warm['build_s']:.2f} s, solve {warm['solve_s']:.2f} s.
Objective check (warm == cold, relative {REL:g}): **{'OK' if chk['ok'] else 'FAILED'}**,
worst relative difference {chk['worst_rel']:.2e}.

OR-Tools' `model_builder` creates a new solver on every solve, so it has no warm start; the warm
path uses highspy (HiGHS kept between points: `changeColsCost` / `changeColsBounds` /
`changeRowsBounds`, then `run()` from the previous basis).

CLI commands (wall time of the whole process, start-up included):

    {record['cli']['serial_command']}
    {record['cli']['jobs2_command']}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("reports/benchmarks"))
    args = parser.parse_args(argv)
    console = Console()
    if not available():
        console.print("highspy is not installed: the warm path cannot run")
        return 2
    data = generate(SIZE, SEED)
    first = build_lp(SIZE, SEED)
    console.print(f"instance generate{SIZE} seed={SEED}: {first.n_vars} variables, "
                  f"{first.n_rows} rows, {first.nnz} nonzeros; {args.points} points")

    cold_s, cold_obj = run_cold(data, args.points)
    warm_s, warm_obj, warm_info = run_warm(data, args.points)
    chk = check(cold_obj, warm_obj, args.points)
    console.print(f"objective check (warm == cold, relative {REL:g}): "
                  f"{'OK' if chk['ok'] else 'FAILED'} on {sum(c['ok'] for c in chk['points'])}/"
                  f"{len(chk['points'])} points, worst relative difference "
                  f"{chk['worst_rel']:.2e}")
    cli = measure_cli(args.points)

    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command_line("sweep.py", argv), "machine": machine("numpy", "ortools",
                                                                      "highspy"),
        "instance": {"generate": list(SIZE), "seed": SEED, "variables": first.n_vars,
                     "rows": first.n_rows, "nonzeros": first.nnz},
        "points": args.points, "factors": factors(args.points),
        "cold_s": cold_s, "warm_s": warm_s, "cold_over_warm": ratio(cold_s, warm_s),
        "warm": warm_info, "objective_check": chk, "cli": cli,
    }
    console.print(to_rich(results_table(record, markdown=False)))
    console.print(f"warm path split: build (parse+compile+formulate) {warm_info['build_s']:.2f} s,"
                  f" solve {warm_info['solve_s']:.2f} s")
    write_report(args.out, "sweep", record, render_markdown(record))
    console.print(f"wrote {args.out / 'sweep.md'} and {args.out / 'sweep.json'}")
    return 0 if chk["ok"] and cli["serial_rc"] == 0 and cli["jobs2_rc"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

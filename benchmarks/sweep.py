"""Sweep benchmark: warm re-solves along a serial sweep vs cold solves, and --jobs 2 vs serial.

Run from the repository root::

    python benchmarks/sweep.py [--points 20] [--out reports/benchmarks]

On a medium generated instance (``generate(100, 30, 24, 4, seed=20240601)``) a price sweep moves
every site's price by a factor from 0.8 to 1.2 (``--points`` values). Measured side by side in
one run:

- cold: every point a full ``solve_document(parse(data), SolveOptions())`` (the default path:
  OR-Tools, CLP through the exported proto; model_builder builds a new solver every solve, so it
  cannot warm-start);
- warm: every point parsed, compiled and formulated again (vectors rebuilt, same structure),
  solved by :class:`optimizer.warm.WarmSolver` (highspy: costs changed in place, simplex from the
  previous basis), then interpreted like the cold path;
- the CLI: ``eastwest sweep --vary 'sites[*].price*=0.8:1.2:N' --no-cache`` with ``--jobs 1`` and
  ``--jobs 2`` (wall time of each process, start-up included).

Every warm objective is checked against the cold one (relative 1e-7). Writes ``sweep.md`` and
``sweep.json`` under ``--out`` (atomically). The machine is shared and noisy: read ratios.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from benchinfo import machine
from rich.console import Console
from rich.table import Table

import optimizer.backends  # noqa: F401 - OR-Tools before highspy (see HIGHS_SHADOWED)
from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.generate import generate
from optimizer.interpret import interpret
from optimizer.load import parse
from optimizer.model import formulate
from optimizer.overrides import apply_all
from optimizer.pipeline import solve_document
from optimizer.report.files import write_atomic
from optimizer.warm import WarmSolver, available

SIZE = (100, 30, 24, 4)
SEED = 20240601
REL = 1e-7


def _machine() -> dict[str, Any]:
    return machine("numpy", "ortools", "highspy")


def _eastwest() -> list[str]:
    script = Path(sys.executable).parent / "eastwest"
    if script.exists():
        return [str(script)]
    found = shutil.which("eastwest")
    return [found] if found else [sys.executable, "-m", "optimizer.cli"]


def factors(points: int) -> list[float]:
    return [float(f) for f in np.linspace(0.8, 1.2, points)]


def run_cold(data: dict[str, Any], points: int) -> tuple[float, list[float | None]]:
    objectives: list[float | None] = []
    start = time.perf_counter()
    for f in factors(points):
        document = parse(apply_all(data, [f"sites[*].price*={f!r}"]))
        run = solve_document(document, SolveOptions())
        objectives.append(run.raw.objective if run.raw.status is Status.OPTIMAL else None)
    return time.perf_counter() - start, objectives


def run_warm(data: dict[str, Any], points: int) -> tuple[float, list[float | None], dict[str, Any]]:
    solver = WarmSolver()
    objectives: list[float | None] = []
    build_s = solve_s = 0.0
    warm = 0
    start = time.perf_counter()
    for f in factors(points):
        t0 = time.perf_counter()
        document = parse(apply_all(data, [f"sites[*].price*={f!r}"]))
        arrays = compile_instance(document.instance)
        lp = formulate(arrays)
        t1 = time.perf_counter()
        raw = solver.solve(lp)
        t2 = time.perf_counter()
        interpret(arrays, lp, raw)
        build_s += t1 - t0
        solve_s += t2 - t1
        warm += solver.last_warm
        objectives.append(raw.objective if raw.status is Status.OPTIMAL else None)
    total = time.perf_counter() - start
    return total, objectives, {"build_s": build_s, "solve_s": solve_s, "warm_solves": warm}


def run_cli(instance: Path, points: int, jobs: int, folder: Path) -> tuple[float, list[str], int]:
    command = [*_eastwest(), "sweep", str(instance), "--vary",
               f"sites[*].price*=0.8:1.2:{points}", "--jobs", str(jobs), "--no-cache",
               "--out", str(folder / f"jobs{jobs}")]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, command, done.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=20)
    parser.add_argument("--out", type=Path, default=Path("reports/benchmarks"))
    args = parser.parse_args(argv)
    console = Console()
    if not available():
        console.print("highspy is not installed: the warm path cannot run")
        return 2
    data = generate(*SIZE, seed=SEED)
    first = formulate(compile_instance(parse(data).instance))
    console.print(f"instance generate{SIZE} seed={SEED}: {first.n_vars} variables, "
                  f"{first.n_rows} rows, {first.nnz} nonzeros; {args.points} points")

    cold_s, cold_obj = run_cold(data, args.points)
    warm_s, warm_obj, warm_info = run_warm(data, args.points)
    checks = []
    for f, c, w in zip(factors(args.points), cold_obj, warm_obj, strict=True):
        ok = c is not None and w is not None and abs(w - c) <= REL * max(1.0, abs(c))
        checks.append({"factor": f, "cold": c, "warm": w, "ok": ok})
    all_ok = all(ch["ok"] for ch in checks)
    worst = max((abs(ch["warm"] - ch["cold"]) / max(1.0, abs(ch["cold"]))
                 for ch in checks if ch["ok"]), default=float("nan"))
    console.print(f"objective check (warm == cold, relative {REL:g}): "
                  f"{'OK' if all_ok else 'FAILED'} on {sum(ch['ok'] for ch in checks)}/"
                  f"{len(checks)} points, worst relative difference {worst:.2e}")

    with tempfile.TemporaryDirectory(prefix="eastwest-sweep-bench-") as tmp:
        folder = Path(tmp)
        instance = folder / "medium.yaml"
        regions, sites, periods, classes = SIZE
        subprocess.run([*_eastwest(), "generate", "--regions", str(regions), "--sites",
                        str(sites), "--periods", str(periods), "--classes", str(classes),
                        "--seed", str(SEED), "-o", str(instance)],
                       capture_output=True, text=True, check=True)
        serial_s, serial_cmd, serial_rc = run_cli(instance, args.points, 1, folder)
        jobs_s, jobs_cmd, jobs_rc = run_cli(instance, args.points, 2, folder)

    table = Table(title=f"{args.points}-point price sweep, generate{SIZE}")
    table.add_column("path")
    table.add_column("total s", justify="right")
    table.add_column("per point s", justify="right")
    table.add_column("ratio", justify="right")
    n = args.points
    table.add_row("cold: solve_document (CLP)", f"{cold_s:.2f}", f"{cold_s / n:.3f}", "1.00")
    table.add_row(f"warm: WarmSolver (highspy), {warm_info['warm_solves']} warm",
                  f"{warm_s:.2f}", f"{warm_s / n:.3f}", f"{cold_s / warm_s:.2f}x faster")
    table.add_row(f"CLI sweep --jobs 1 (rc {serial_rc})", f"{serial_s:.2f}",
                  f"{serial_s / n:.3f}", "1.00")
    table.add_row(f"CLI sweep --jobs 2 (rc {jobs_rc})", f"{jobs_s:.2f}", f"{jobs_s / n:.3f}",
                  f"{serial_s / jobs_s:.2f}x faster")
    console.print(table)
    console.print(f"warm path split: build (parse+compile+formulate) {warm_info['build_s']:.2f} s,"
                  f" solve {warm_info['solve_s']:.2f} s")

    command = "python benchmarks/sweep.py " + " ".join(shlex.quote(a) for a in (argv or
                                                                                sys.argv[1:]))
    record = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command.strip(), "machine": _machine(),
        "instance": {"generate": list(SIZE), "seed": SEED, "variables": first.n_vars,
                     "rows": first.n_rows, "nonzeros": first.nnz},
        "points": n, "factors": factors(n),
        "cold_s": cold_s, "warm_s": warm_s, "cold_over_warm": cold_s / warm_s,
        "warm": warm_info, "objective_check": {"ok": all_ok, "rel": REL,
                                               "worst_rel": worst, "points": checks},
        "cli": {"serial_s": serial_s, "jobs2_s": jobs_s, "serial_over_jobs2": serial_s / jobs_s,
                "serial_command": shlex.join(serial_cmd), "jobs2_command": shlex.join(jobs_cmd),
                "serial_rc": serial_rc, "jobs2_rc": jobs_rc},
    }
    md = f"""# Sweep benchmark: warm re-solves and parallel points

`{record['command']}` — {record['date']}, {record['machine']['cpu']},
{record['machine']['nproc']} CPUs, Python {record['machine']['python']},
OR-Tools {record['machine']['ortools']}, highspy {record['machine']['highspy']},
commit {record['machine']['git_commit']}.

Instance: `generate{SIZE}` seed {SEED}: {first.n_vars} variables, {first.n_rows} rows,
{first.nnz} nonzeros. {n} points, every site's price times 0.8 … 1.2.

| path | total s | per point s | ratio |
|---|---:|---:|---:|
| cold: `solve_document(parse(data), SolveOptions())` (OR-Tools, CLP) | {cold_s:.2f} | \
{cold_s / n:.3f} | 1.00 |
| warm: parse + compile + formulate + `WarmSolver.solve` (highspy) | {warm_s:.2f} | \
{warm_s / n:.3f} | **{cold_s / warm_s:.2f}x** faster |
| `eastwest sweep --jobs 1 --no-cache` | {serial_s:.2f} | {serial_s / n:.3f} | 1.00 |
| `eastwest sweep --jobs 2 --no-cache` | {jobs_s:.2f} | {jobs_s / n:.3f} | \
**{serial_s / jobs_s:.2f}x** faster |

Warm path: {warm_info['warm_solves']} of {n} solves warm (simplex from the previous basis);
build {warm_info['build_s']:.2f} s, solve {warm_info['solve_s']:.2f} s.
Objective check (warm == cold, relative {REL:g}): **{'OK' if all_ok else 'FAILED'}**,
worst relative difference {worst:.2e}.

OR-Tools' `model_builder` creates a new solver on every solve, so it has no warm start; the warm
path uses highspy (HiGHS kept between points: `changeColsCost` / `changeColsBounds` /
`changeRowsBounds`, then `run()` from the previous basis).

CLI commands (wall time of the whole process, start-up included):

    {shlex.join(serial_cmd)}
    {shlex.join(jobs_cmd)}
"""
    write_atomic(args.out / "sweep.json", json.dumps(record, indent=2) + "\n")
    write_atomic(args.out / "sweep.md", md)
    console.print(f"wrote {args.out / 'sweep.md'} and {args.out / 'sweep.json'}")
    return 0 if all_ok and serial_rc == 0 and jobs_rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

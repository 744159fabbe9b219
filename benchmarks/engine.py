"""The solve strategies side by side (issue #12): ``eastwest solve --strategy S`` end to end, on
the generated LPs whose periods are coupled, against the monolithic CLP solve and against the
same instance uncoupled.

Cases (sizes from ``sizes.py``): each size uncoupled (solved by period), coupled by deferral
(``classes[analytics].max_delay_periods=6``) and, with ``--carbon``, coupled by a binding carbon
cap (80% of the uncoupled optimum's emissions). With ``--mips``, planning MIPs too
(``eastwest generate --candidates N``, :data:`MIP_CANDIDATES`: the medium one, 100 x 30 x 24 x 4
with 20 candidate sites and 40 integer decisions, by default; the large one only with
``--mip-sizes medium,large``), each solved by every run of :data:`MIP_RUNS` (Benders as
``auto`` picks it, with its parts in this process and on a local Dask cluster, and
monolithically by SCIP, CBC and HiGHS; ``--mip-runs`` picks some) to ``--gap 1e-4``, their
objectives checked against each other (:func:`mip_table`). Each run is a
subprocess under /usr/bin/time: wall time and peak memory of the whole command, interleaved
(strategy after strategy on the same file) because the machine is shared. The table gives each
run's ratio to the monolithic solve of the same case, its objective's relative difference from
it, and the coupled case's time over the uncoupled one.

With ``--orlib``, OR-Library's capa/capb/capc too (``engine_orlib.py``): the default strategy
(Benders) against the published optima and monolithic SCIP and CBC (``--orlib-ways``);
``--sizes none`` leaves the generated LPs out. The report is ``reports/benchmarks/engine.md``
(and ``.json``), or ``engine-mips`` / ``engine-orlib`` for a run of MIPs or OR-Library alone.

    python benchmarks/engine.py [--sizes medium,large|none] [--carbon] [--mips]
        [--mip-sizes medium,large] [--mip-runs Benders,HiGHS] [--orlib] [--timeout 900]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from engine_orlib import WAYS, orlib_rows, orlib_table
from harness import command_line, eastwest, fmt_ratio, ratio, rel_diff, run_timed, write_report
from sizes import NAMED, generate_file, size_name

REPORTS = Path(__file__).resolve().parent.parent / "reports" / "benchmarks"
STRATEGIES = ("auto", "monolithic")
DEFER = "classes[analytics].max_delay_periods=6"
LP_SIZES = "medium,large"

MIP_CANDIDATES = {"small": 4, "medium": 20, "large": 20}
"""Candidate sites of each size's planning MIP: one open and one expansion decision each."""
MIP_SIZES = "medium"  # without --sizes: the large MIP takes too long for the default set
MIP_GAP = 1e-4
MipRun = tuple[str, str, str, str, tuple[str, ...]]  # label, strategy, backend, solver, flags
MIP_RUNS: tuple[MipRun, ...] = (
    ("Benders (auto)", "auto", "ortools", "auto", ()),
    ("Benders, parts in this process", "benders", "ortools", "auto", ("--jobs", "1")),
    ("Benders, parts on Dask (local)", "benders", "ortools", "auto", ("--dask", "local")),
    ("SCIP", "monolithic", "ortools", "scip", ()),
    ("CBC (PuLP)", "monolithic", "pulp", "cbc", ()),  # OR-Tools' CBC ignores --gap
    ("HiGHS (OR-Tools)", "monolithic", "ortools", "highs", ()),
    ("HiGHS (PuLP: highspy)", "monolithic", "pulp", "highs", ()),
)


def solve(path: Path, sets: list[str], strategy: str, out: Path, timeout: float
          ) -> dict[str, Any]:
    cmd = [*eastwest(), "solve", str(path), "-q", "--json", str(out), "--strategy", strategy]
    for s in sets:
        cmd += ["--set", s]
    res = run_timed(cmd, timeout)
    if res["status"] == "ok" and out.exists():
        data = json.loads(out.read_text(encoding="utf-8"))
        res.update(objective=data["objective"], solver=data["solver"]["solver"],
                   solve_s=data["solver"]["solve_s"], carbon_t=data["totals"]["carbon_t"])
    return res


def run_case(path: Path, name: str, sets: list[str], timeout: float, tmp: Path
             ) -> list[dict[str, Any]]:
    rows = []
    for strategy in STRATEGIES:
        res = solve(path, sets, strategy, tmp / f"{name}-{strategy}.json", timeout)
        rows.append({"case": name, "strategy": strategy, **res})
        print(f"{name:28s} {strategy:10s} {res['status']:7s} {res['wall_s']:8.2f} s "
              f"{res.get('peak_mb') or 0:8.0f} MB {res.get('solver', '')}", flush=True)
    return rows


def table(rows: list[dict[str, Any]], uncoupled: dict[str, float]) -> str:
    mono = {r["case"]: r for r in rows if r["strategy"] == "monolithic"}
    lines = ["| case | strategy | solver | status | end to end s | peak MB | monolithic / "
             "this | objective vs monolithic | over uncoupled |", "|---|---|---|---|---:|---:|"
             "---:|---:|---:|"]
    for r in rows:
        m = mono.get(r["case"], {})
        base = uncoupled.get(r["case"].split(" ")[0])
        diff = rel_diff(r.get("objective"), m.get("objective"))
        lines.append(
            f"| {r['case']} | {r['strategy']} | {r.get('solver', '-')} | {r['status']} | "
            f"{r['wall_s']:.2f} | {r.get('peak_mb') or 0:,.0f} | "
            f"{fmt_ratio(ratio(m.get('wall_s'), r['wall_s']))} | "
            f"{'-' if diff is None else f'{diff:.1e}'} | "
            f"{fmt_ratio(ratio(r['wall_s'], base)) if 'uncoupled' not in r['case'] else '-'} |")
    return "\n".join(lines) + "\n"


def solve_mip(path: Path, run: MipRun, out: Path, timeout: float) -> dict[str, Any]:
    """One planning MIP solved by ``run`` to :data:`MIP_GAP`, stopped (and its incumbent kept)
    at 75% of ``timeout`` (the rest for loading, PuLP's build and writing)."""
    _label, strategy, backend, solver, flags = run
    cmd = [*eastwest(), "solve", str(path), "-q", "--json", str(out), "--strategy", strategy,
           "--backend", backend, "--solver", solver, "--gap", f"{MIP_GAP:g}",
           "--time-limit", f"{0.75 * timeout:g}", "--accept-feasible", *flags]
    res = run_timed(cmd, timeout)
    if res["status"] == "ok" and out.exists():
        data = json.loads(out.read_text(encoding="utf-8"))
        built = [b for b in data["build"] if b["units"] > 0]  # option None: an opening
        res.update(result=data["status"], objective=data["objective"], bound=data["bound"],
                   gap=data["gap"], integers=data["solver"].get("integer_variables"),
                   solve_s=data["solver"]["solve_s"],
                   opened=sum(b["option"] is None for b in built),
                   expanded=sum(b["option"] is not None for b in built),
                   halls=sum(b["units"] for b in built if b["option"] is not None))
    return res


def run_mips(names: list[str], timeout: float, tmp: Path,
             runs: tuple[MipRun, ...] = MIP_RUNS) -> list[dict[str, Any]]:
    """Every run of ``runs`` on the planning MIP of each size in ``names``."""
    rows = []
    for name in names:
        size, n = NAMED[name], MIP_CANDIDATES[name]
        path = tmp / f"{name}-mip.yaml"
        generate_file(size, 1, path, timeout, candidates=n)
        case = f"{name} {size_name(size)} MIP, {n} candidates"
        for k, run in enumerate(runs):
            res = solve_mip(path, run, tmp / f"{name}-mip-{k}.json", timeout)
            rows.append({"case": case, "run": run[0], **res})
            print(f"{case:36s} {run[0]:22s} {res['status']:7s} {res['wall_s']:8.2f} s "
                  f"{res.get('peak_mb') or 0:8.0f} MB gap {res.get('gap')}", flush=True)
    return rows


def mip_table(rows: list[dict[str, Any]]) -> str:
    """The planning MIP rows, each objective against the best of its case's runs that claim
    optimality (to :data:`MIP_GAP`): the same optimum when within the gap. A run stopped short
    is "not proven"; a lower bound above that best objective by more than the gap is flagged
    (a wrong bound, or a wrong optimum)."""
    best: dict[str, float] = {}
    for r in rows:
        if r.get("result") == "optimal" and r.get("objective") is not None:
            best[r["case"]] = min(best.get(r["case"], r["objective"]), r["objective"])
    lines = ["| case | run | status | end to end s | peak MB | integers | opened, expanded "
             "(halls) | objective | gap | objective vs best optimal | same optimum "
             f"(<= {MIP_GAP:g}) |", "|---|---|---|---:|---:|---:|---|---:|---:|---:|---|"]
    for r in rows:
        gap, obj, ref = r.get("gap"), r.get("objective"), best.get(r["case"])
        diff = rel_diff(obj, ref)
        check = ("-" if obj is None else "no run proven optimal" if diff is None else
                 ("yes" if diff <= MIP_GAP else "**no**") if r.get("result") == "optimal"
                 else "not proven")
        if ref is not None and r.get("bound") is not None and r["bound"] > ref + MIP_GAP * abs(
                ref):
            check += ", **bound above the best optimum**"
        lines.append(
            f"| {r['case']} | {r['run']} | {r.get('result', r['status'])} | {r['wall_s']:.2f} | "
            f"{r.get('peak_mb') or 0:,.0f} | {r.get('integers', '-')} | "
            f"{r.get('opened', '-')}, {r.get('expanded', '-')} ({r.get('halls', '-')}) | "
            f"{'-' if obj is None else f'{obj:.8e}'} | "
            f"{'-' if gap is None else f'{gap:.1e}'} | "
            f"{'-' if diff is None else f'{diff:.1e}'} | {check} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None,
                        help=f"LP sizes (default {LP_SIZES}; none: no LP)")
    parser.add_argument("--mip-sizes", default=MIP_SIZES,
                        help=f"with --mips, the MIP sizes (default {MIP_SIZES})")
    parser.add_argument("--carbon", action="store_true")
    parser.add_argument("--mips", action="store_true", help="add the planning MIPs")
    parser.add_argument("--mip-runs", default=None,
                        help="only the MIP runs whose label contains one of these "
                             "comma-separated words (e.g. Benders,HiGHS)")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--orlib", action="store_true")
    parser.add_argument("--orlib-ways", default=",".join(WAYS))
    parser.add_argument("--orlib-limit", type=float, default=120.0)
    args = parser.parse_args(argv)
    rows: list[dict[str, Any]] = []
    uncoupled: dict[str, float] = {}
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if args.orlib:
            orlib = orlib_rows(tmp, args.timeout, args.orlib_limit, args.orlib_ways.split(","))
        sizes = [] if args.sizes == "none" else (args.sizes or LP_SIZES).split(",")
        for name in sizes:
            size = NAMED[name]
            path = tmp / f"{name}.yaml"
            generate_file(size, 1, path, args.timeout)
            label = f"{name} {size_name(size)}"
            base = run_case(path, f"{label} uncoupled", [], args.timeout, tmp)
            rows += base
            uncoupled[name] = min(r["wall_s"] for r in base if r["status"] == "ok")
            rows += run_case(path, f"{label} deferral 6 h", [DEFER], args.timeout, tmp)
            carbon = next((r.get("carbon_t") for r in base if r.get("carbon_t")), None)
            if args.carbon and carbon:
                cap = f"policy.carbon_cap_t={0.8 * carbon:.6g}"
                rows += run_case(path, f"{label} carbon cap", [cap], args.timeout, tmp)
        runs = MIP_RUNS if args.mip_runs is None else tuple(
            r for r in MIP_RUNS if any(w in r[0] for w in args.mip_runs.split(",")))
        mips = run_mips(args.mip_sizes.split(","), args.timeout, tmp,
                        runs) if args.mips else []
    text = table(rows, uncoupled) if rows else ""
    text += (f"\nPlanning MIPs, `--gap {MIP_GAP:g}`:\n\n" + mip_table(mips)
             if mips else "")
    if args.orlib:
        text += ("\n## OR-Library capa, capb, capc\n\nEnd to end seconds; monolithic "
                 f"solves stopped at {args.orlib_limit:g} s.\n\n" + orlib_table(orlib))
        rows += orlib
    md = (f"# Solve strategies side by side\n\n`{command_line('engine.py', argv)}`, started "
          f"{started}; each row one `eastwest solve` end to end (load, build, solve, write "
          "the JSON), interleaved on a shared 2-core machine.\n\n" + text)
    print(text)
    # a run of one kind alone keeps the others' reports: engine-mips, engine-orlib
    name = ("engine" if sizes or (args.mips and args.orlib) else
            "engine-mips" if args.mips else "engine-orlib" if args.orlib else "engine")
    write_report(REPORTS, name, {"rows": rows, "mip_rows": mips,
                                     "command": command_line("engine.py", argv)}, md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

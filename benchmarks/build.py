"""Model-build benchmark: eastwest's vectorised build against a raw numpy floor and PuLP.

Run from the repository root::

    python benchmarks/build.py [--sizes small,medium,large] [--repeats 3] [--all-solvers]
                               [--out reports/benchmarks]

For each size (``benchmarks/sizes.py``) it generates an instance (a plain v1 dict,
deterministic from ``--seed``) and measures, side by side in one run:

- ``load``: YAML text -> validated Document (``parse_text``) and ``parse``: dict -> Document;
- eastwest's vectorised build: ``compile_instance`` + ``formulate`` (the build of the ratios);
- a raw numpy CSR assembly of the same matrix, costs and bounds from the same Arrays: the floor
  (``benchmarks/references.py``);
- the OR-Tools load ``to_model(lp)``;
- an idiomatic element-by-element PuLP build of the same model (build only;
  ``benchmarks/references.py``);
- solves with OR-Tools' LP solvers and PuLP+CBC, with an objective cross-check.

Every phase (``benchmarks/build_phases.py``) runs in its own fresh (spawned) process
(``harness.run_isolated``), so its memory is its own: before the phase the process's peak-RSS
mark is reset (``/proc/self/clear_refs``) and the phase's peak memory is ``VmHWM`` after it minus
``VmRSS`` before it (C++ allocations included, unlike tracemalloc). Where the reset is
unavailable the ``ru_maxrss`` delta is used instead (the output says which). A phase is repeated
``--repeats`` times (median reported) unless one run takes longer than ``--slow`` seconds; then
it runs once (``benchmarks/harness.py``). The machine is shared and noisy: read ratios.

Writes ``build.md`` and ``build.json`` under ``--out`` (atomically; the report is rendered by
``benchmarks/build_report.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

from benchinfo import git_commit, has_uncommitted_changes, machine
from build_phases import BUILD_SIZES, plan, profile_worker, worker
from harness import command_line, median, run_isolated, write_report

from optimizer.generate import DEFAULT_SEED


def _source_state() -> dict[str, Any]:
    """The commit and a hash per source file of the package: the code may change during a
    run (other people work in this checkout)."""
    import optimizer

    root = Path(optimizer.__file__).parent
    files = {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
             for path in sorted(root.rglob("*.py"))}
    overall = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()[:16]
    return {"git_commit": git_commit(cwd=root), "optimizer_sha256": overall, "files": files}


def _changed_files(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    a, b = before["files"], after["files"]
    return sorted(f for f in a.keys() | b.keys() if a.get(f) != b.get(f))


def _notes(args: argparse.Namespace, memory_method: str, min_cpu_s: float) -> list[str]:
    return [
        "Every phase runs in its own spawned process after its inputs are built there; "
        "the first run of a phase is therefore the first in a fresh process (cold heap), the "
        f"later ones reuse it. A phase whose run exceeds {args.slow:g} s is not repeated. The "
        "machine is shared and noisy: compare ratios, not absolute seconds.",
        "eastwest build = compile_instance + formulate from a validated Document (the load "
        "is timed apart and is not part of the ratios). The raw floor and the PuLP build both "
        "start from the same Arrays (compile output), so they do not pay for compile: the "
        "ratios are conservative for eastwest.",
        "raw numpy CSR builds the same matrix, cost vector and bounds, in the same order, as "
        "formulate (checked equal: build.json `same_lp_as_eastwest`); formulate also builds "
        "the per-category cost matrix and the named index blocks.",
        "PuLP build: LpVariable.dicts over arcs x periods, lpSum per demand / capacity / power "
        "balance / power cap row and per cost category; built, not solved.",
        "Solve times are the solver's own time (RawResult.solve_s); build.json also has the "
        "wall time of backends.solve (`wall_times`: model load, proto export and, for HiGHS, "
        "the CLP dual re-solve). `solve: OR-Tools PDLP` is the backend, which tightens PDLP's "
        "optimality tolerances to 1e-9; `PDLP, OR-Tools default tolerances` solves the same "
        "model through model_builder with the defaults (its solve time is the wall time of "
        "solve()).",
        f"Peak memory: {memory_method}. PuLP+CBC: the CBC process's own peak is in "
        "build.json (`cbc_process_peak_mb`). build.json also has user/system CPU seconds and "
        "minor page faults per run. User CPU ratios are shown only where both sides take "
        f"at least {min_cpu_s * 1000:.0f} ms of CPU (coarser accounting below that).",
        f"Instances: generated from seed {args.seed}; latency limits 10 / 25 / none / none ms "
        "RTT (latency = 2 + 1.5 km/100); unmet penalty 1e5; carbon price 80; total capacity "
        "1.3x mean demand.",
    ]


def _show_phase(console: Any, size: str, phase: str, out: dict[str, Any], info: Any,
                process_s: float) -> None:
    from build_report import fmt_s

    shown = ", ".join(f"{n} {fmt_s(median(v['times']))} s" for n, v in out.items())
    console.log(f"{size:6s} {phase:13s} {shown}  [dim](phase process {process_s:.1f} s)[/]")
    if phase == "build" and info:
        console.print(
            f"  [bold]{size}[/]: {info['variables']:,} variables, "
            f"{info['constraints']:,} constraints, {info['nonzeros']:,} non-zeros; "
            f"arcs {info['arcs']:,} of {info['arcs_possible']:,} "
            f"({info['arcs'] / info['arcs_possible']:.0%})")


def measure(args: argparse.Namespace, sizes: list[str],
            console: Any) -> tuple[dict[str, dict[str, Any]], str]:
    """Every phase of every size, each in a fresh spawned process; the results and the memory
    method the phases used."""
    results: dict[str, dict[str, Any]] = {}
    memory_method = ""
    for size in sizes:
        results[size] = {}
        for phase in plan(size, args.all_solvers):
            run = run_isolated(worker, size, phase, args.seed, args.repeats, args.slow)
            if not run.returned:  # report the phase as failed and go on
                console.print(f"[red]{size} {phase} failed: {run.failure}[/]")
                results[size][f"{phase}_error"] = {"error": run.error_repr or run.failure}
                continue
            out = run.value
            memory_method = out.pop("_meta")["memory_method"]
            info = out.pop("info", None)
            if info is not None:
                results[size][f"{phase}_info"] = info
            for name, value in out.items():
                value["process_peak_rss_mb"] = run.peak_mb
                results[size][name] = value
            _show_phase(console, size, phase, out, info, run.elapsed_s)
    return results, memory_method


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="small,medium,large",
                        help="comma-separated: small, medium, large (default: all three)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs per fast phase, median reported (default 3)")
    parser.add_argument("--slow", type=float, default=10.0,
                        help="a phase whose run takes longer is not repeated (default 10 s)")
    parser.add_argument("--all-solvers", action="store_true",
                        help="also glop, pdlp and highs on large (minutes each)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--out", default="reports/benchmarks", help="output folder")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the cProfile run made when the build is over 3x the floor")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in BUILD_SIZES]
    if unknown or not sizes:
        parser.error(f"unknown sizes {unknown}: choose from {', '.join(BUILD_SIZES)}")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    args.size_list = [s for s in BUILD_SIZES if s in sizes]  # small to large
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import build_report as br
    from rich.console import Console
    from rich.markup import escape

    console = Console() if sys.stdout.isatty() else Console(width=160)
    sizes = args.size_list
    command = command_line("build.py", argv)
    started = dt.datetime.now(dt.UTC)
    source_at_start = _source_state()
    results, memory_method = measure(args, sizes, console)

    summary = br.summarise({s: {k: v for k, v in r.items() if "times" in v}
                            for s, r in results.items()})
    profile = None
    failing = br.over_floor(summary, sizes)
    if failing and not args.no_profile:
        size = failing[-1]
        console.log(f"eastwest build over {br.TARGET_RAW_RATIO:g}x the floor on {size}: "
                    "profiling compile + formulate")
        run = run_isolated(profile_worker, size, args.seed, 25)
        if not run.returned:
            raise SystemExit(f"the profile run failed: {run.failure}")
        profile = {"size": size, **run.value}

    notes = _notes(args, memory_method, br.MIN_CPU_S)
    source_at_end = _source_state()
    changed = _changed_files(source_at_start, source_at_end)
    if changed:
        notes.insert(0, f"WARNING: optimizer/ files changed during this run "
                        f"(git {source_at_start['git_commit']} -> {source_at_end['git_commit']}"
                        f"): {', '.join(changed)}. Phases measured before and after the change "
                        "may not be comparable if these files are on their path.")
        console.print(f"[bold red]{escape(notes[0])}[/]")
    if "large" in sizes and not args.all_solvers:
        notes.append("large: only CLP is solved by default (glop/pdlp/highs: --all-solvers).")

    report = {
        "command": command,
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "duration_s": round((dt.datetime.now(dt.UTC) - started).total_seconds(), 1),
        "machine": {**machine("numpy", "scipy", "ortools", "pulp", "pydantic"),
                    "optimizer_has_uncommitted_changes": has_uncommitted_changes("optimizer")},
        "source": {"start": source_at_start, "end": source_at_end},
        "options": {k: v for k, v in vars(args).items() if k != "size_list"},
        "sizes": sizes,
        "targets": {"pulp_over_eastwest_min": br.TARGET_PULP_RATIO,
                    "eastwest_over_raw_max": br.TARGET_RAW_RATIO},
        "acceptance": br.acceptance(summary),
        "summary": summary,
        "results": results,
        "notes": notes,
        "profile": profile,
    }
    br.print_report(console, report)
    out_dir = Path(args.out)
    write_report(out_dir, "build", report, br.render_markdown(report))
    console.print(f"wrote {out_dir / 'build.md'} and {out_dir / 'build.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

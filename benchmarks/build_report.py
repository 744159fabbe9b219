"""The model-build benchmark's summary and report (benchmarks/build.py): ratios, the acceptance
criteria, the objective check, and the tables, rendered with the package's Markdown and rich
renderers (``optimizer.report.markdown.table_md``, ``optimizer.report.console.to_rich``).
"""

from __future__ import annotations

from typing import Any

from harness import fmt_ratio, median, ratio, rel_diff

from optimizer.report.markdown import table_md
from optimizer.report.tables import Table

REL_TOL = 1e-6
REL_TOL_PDLP = 1e-5
TARGET_PULP_RATIO = 30.0  # PuLP element-wise build / eastwest build, at least
TARGET_RAW_RATIO = 3.0  # eastwest build / raw numpy CSR, at most
MIN_CPU_S = 0.02  # below this, tick-based CPU accounting is too coarse to compare

ROWS: list[tuple[str, str]] = [
    ("load", "load: YAML text -> Document (parse_text)"),
    ("parse", "parse: dict -> Document (pydantic + semantic)"),
    ("compile", "compile_instance"),
    ("formulate", "formulate"),
    ("eastwest_build", "eastwest build = compile + formulate"),
    ("raw_csr", "raw numpy triplets -> scipy CSR (floor)"),
    ("ortools_load", "OR-Tools load: to_model(lp)"),
    ("pulp_build", "PuLP idiomatic build (no solve)"),
    ("solve_clp", "solve: OR-Tools CLP (proto)"),
    ("solve_glop", "solve: OR-Tools GLOP"),
    ("solve_pdlp", "solve: OR-Tools PDLP (backend: tolerances 1e-9)"),
    ("solve_pdlp_default", "solve: PDLP, OR-Tools default tolerances"),
    ("solve_highs", "solve: OR-Tools HiGHS"),
    ("pulp_cbc", "PuLP build + CBC solve"),
]
RATIO_NAMES = ["pulp_build / eastwest_build", "eastwest_build / raw_csr", "formulate / raw_csr",
               "ortools_load / raw_csr", "(eastwest_build + ortools_load) / raw_csr"]
SIZE_HEADER = ["size", "R x S x T x K", "arcs kept (share per class)", "variables",
               "constraints", "non-zeros", "load warnings"]
CHECK_HEADER = ["size", "solver", "status", "objective", "rel. diff vs clp", "tol", "check"]
STATS: list[tuple[str, str]] = [  # key, label; "median" is the criterion's statistic
    ("median", "median wall"),
    ("first", "first run wall (fresh process)"),
    ("min", "min wall"),
    ("user", "median user CPU"),
]
CRITERIA = [
    ("PuLP element-wise build / eastwest vectorised build", "pulp_over_eastwest"),
    ("eastwest vectorised build / raw numpy CSR", "eastwest_over_raw"),
]

# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


def _ratios(t: dict[str, float | None]) -> dict[str, float | None]:
    build = t.get("eastwest_build")
    load = t.get("ortools_load")
    both = None if build is None or load is None else build + load
    return {
        "pulp_build / eastwest_build": ratio(t.get("pulp_build"), build),
        "eastwest_build / raw_csr": ratio(build, t.get("raw_csr")),
        "formulate / raw_csr": ratio(t.get("formulate"), t.get("raw_csr")),
        "ortools_load / raw_csr": ratio(t.get("ortools_load"), t.get("raw_csr")),
        "(eastwest_build + ortools_load) / raw_csr": ratio(both, t.get("raw_csr")),
    }


def _stat(p: dict[str, Any], stat: str) -> float | None:
    if stat == "first":
        return float(p["times"][0])
    if stat == "min":
        return float(min(p["times"]))
    if stat == "user":
        user = median(p["user_s"]) if p.get("user_s") else None
        return user if user is not None and user >= MIN_CPU_S else None
    return median(p["times"])


def _objective_check(timed: dict[str, Any]) -> list[dict[str, Any]]:
    objectives = {name: p for name, p in timed.items()
                  if name.startswith("solve_") or name == "pulp_cbc"}
    ref_name = "solve_clp" if objectives.get("solve_clp", {}).get("objective") else next(
        (n for n, p in objectives.items() if p.get("objective") is not None), None)
    ref = objectives[ref_name]["objective"] if ref_name else None
    checks = []
    for name, p in objectives.items():
        obj = p.get("objective")
        tol = REL_TOL_PDLP if name.startswith("solve_pdlp") else REL_TOL
        rel = rel_diff(obj, ref)
        ok = p.get("status") == "optimal" and rel is not None and rel <= tol
        checks.append({"solver": name, "status": p.get("status"), "objective": obj,
                       "reference": ref_name, "rel_diff": rel, "tolerance": tol, "ok": ok})
    return checks


def summarise(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Seconds and ratios per statistic and size, and the objective check."""
    summary: dict[str, Any] = {}
    for size, phases in results.items():
        timed = {name: p for name, p in phases.items() if p.get("times")}
        seconds = {stat: {name: _stat(p, stat) for name, p in timed.items()}
                   for stat, _ in STATS}
        summary[size] = {"seconds": seconds,
                         "ratios": {stat: _ratios(sec) for stat, sec in seconds.items()},
                         "objective_check": _objective_check(timed)}
    return summary


def acceptance(summary: dict[str, Any]) -> dict[str, Any]:
    """The two criteria on large (or the largest size run), per statistic; median decides."""
    size = "large" if "large" in summary else next(reversed(summary))
    out: dict[str, Any] = {"size": size, "official": size == "large", "decided_by": "median",
                           "pulp_over_eastwest_target": f">= {TARGET_PULP_RATIO:g}x",
                           "eastwest_over_raw_target": f"<= {TARGET_RAW_RATIO:g}x"}
    for stat, _ in STATS:
        r = summary[size]["ratios"][stat]
        pulp_ratio, raw_ratio = r["pulp_build / eastwest_build"], r["eastwest_build / raw_csr"]
        out[stat] = {
            "pulp_over_eastwest": pulp_ratio,
            "pulp_over_eastwest_pass": pulp_ratio is not None and pulp_ratio >= TARGET_PULP_RATIO,
            "eastwest_over_raw": raw_ratio,
            "eastwest_over_raw_pass": raw_ratio is not None and raw_ratio <= TARGET_RAW_RATIO,
        }
    return out


def over_floor(summary: dict[str, Any], sizes: list[str]) -> list[str]:
    """The sizes whose build is over the target ratio to the raw floor (median or first run)."""
    return [s for s in sizes
            if max(summary[s]["ratios"][stat]["eastwest_build / raw_csr"] or 0
                   for stat in ("median", "first")) > TARGET_RAW_RATIO]


def verdict_lines(acc: dict[str, Any]) -> list[tuple[str, str]]:
    """(text, PASS|FAIL) per criterion on the medians, then the same ratio by the other
    statistics (context: the machine is noisy)."""
    lines = []
    for label, key in CRITERIA:
        m = acc["median"]
        others = "; ".join(
            f"{stat_label} {fmt_ratio(acc[stat][key])} "
            f"({'pass' if acc[stat][key + '_pass'] else 'fail'})"
            for stat, stat_label in STATS if stat != "median")
        lines.append((f"{label} ({acc['size']}, median of runs) = {fmt_ratio(m[key])} "
                      f"(target {acc[key + '_target']}) [other statistics: {others}]",
                      "PASS" if m[key + "_pass"] else "FAIL"))
    return lines


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------


def fmt_s(x: float | None) -> str:
    if x is None:
        return "–"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    if x >= 0.01:
        return f"{x:.3f}"
    return f"{x:.4f}"


def _fmt_mb(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def timings_table(results: dict[str, dict[str, Any]], sizes: list[str]) -> Table:
    header = ["phase"]
    for size in sizes:
        header += [f"{size} median s (n)", f"{size} 1st / min s", f"{size} peak MB"]
    rows = []
    for key, label in ROWS:
        if not any(key in results[s] for s in sizes):
            continue
        row = [label]
        for size in sizes:
            p = results[size].get(key)
            if p is None:
                row += ["–", "–", "–"]
            else:
                row += [f"{fmt_s(median(p['times']))} ({len(p['times'])})",
                        f"{fmt_s(p['times'][0])} / {fmt_s(min(p['times']))}",
                        _fmt_mb(p.get("peak_mb"))]
        rows.append(row)
    return Table("Timings and peak memory per phase", header, rows,
                 caption="Seconds: median of n runs; the first run (in a fresh process) and the "
                         "fastest run. Peak MB: the phase's peak RSS above the RSS before it, "
                         "the largest over its runs.",
                 numeric=set(range(1, len(header))))


def sizes_table(results: dict[str, dict[str, Any]], sizes: list[str]) -> Table:
    rows = []
    for size in sizes:
        info = results[size].get("build_info")
        if not info:
            continue
        share = ", ".join(f"{k} {v:.0%}" for k, v in info["arc_share_per_class"].items())
        warnings = results[size].get("load_info", {}).get("warnings", "–")
        rows.append([size, f"{info['R']} x {info['S']} x {info['T']} x {info['K']}",
                     f"{info['arcs']:,} of {info['arcs_possible']:,} ({share})",
                     f"{info['variables']:,}", f"{info['constraints']:,}",
                     f"{info['nonzeros']:,}", str(warnings)])
    return Table("Model sizes", SIZE_HEADER, rows, numeric={3, 4, 5, 6})


def ratios_table(summary: dict[str, Any], sizes: list[str]) -> Table:
    header = ["ratio", "statistic", *sizes]
    rows = []
    for name in RATIO_NAMES:
        for i, (stat, label) in enumerate(STATS):
            rows.append([name if i == 0 else "", label,
                         *[fmt_ratio(summary[s]["ratios"][stat][name]) for s in sizes]])
    return Table("Ratios", header, rows, numeric=set(range(2, len(header))))


def check_table(summary: dict[str, Any]) -> Table:
    rows = []
    for size, s in summary.items():
        for c in s["objective_check"]:
            rows.append([size, c["solver"], str(c["status"]),
                         "–" if c["objective"] is None else f"{c['objective']:.10g}",
                         "–" if c["rel_diff"] is None else f"{c['rel_diff']:.1e}",
                         f"{c['tolerance']:.0e}", "ok" if c["ok"] else "MISMATCH"])
    return Table("Objective check", CHECK_HEADER, rows, numeric={3, 4, 5})


def stages_table(profile: dict[str, Any]) -> Table | None:
    stages = profile.get("stages")
    if not stages:
        return None
    return Table(f"formulate by step ({profile['size']}, median of 3 warm runs)", ["step", "s"],
                 [[k, fmt_s(v)] for k, v in stages["median_s"].items() if v >= 0.0005],
                 caption="Collected: " + ", ".join(f"{k} {v:,}" for k, v in
                                                   stages["counts"].items()) + ".",
                 numeric={1})


def profile_title(profile: dict[str, Any], run: str) -> str:
    r = profile[run]
    return (f"cProfile of compile + formulate ({profile['size']}), {run} call in a fresh "
            f"process: {r['wall_s']:.3f} s wall, {r['user_s']:.3f} s user, {r['sys_s']:.3f} s "
            f"system, {r['minflt']:,} minor page faults")


# --------------------------------------------------------------------------------------------
# Markdown and console
# --------------------------------------------------------------------------------------------


def _head_md(report: dict[str, Any]) -> list[str]:
    m, acc = report["machine"], report["acceptance"]
    verdict = [f"- {text}: **{flag}**" for text, flag in verdict_lines(acc)]
    if not acc["official"]:
        verdict.append(f"- (measured on {acc['size']}: the criterion is defined on large)")
    return [
        "# Model-build benchmark",
        "",
        f"Generated {report['date']} by `{report['command']}` ({report['duration_s']:.0f} s).",
        "",
        f"Machine: nproc {m['nproc']}, {m['cpu']}, {m['memory_gb']} GB RAM, {m['platform']}; "
        f"Python {m['python']}, OR-Tools {m['ortools']}, PuLP {m['pulp']}, numpy {m['numpy']}, "
        f"scipy {m['scipy']}, pydantic {m['pydantic']}; git {m['git_commit']}, optimizer "
        f"sources sha256 {report['source']['end']['optimizer_sha256']}"
        + (" (optimizer/ has uncommitted changes)" if m["optimizer_has_uncommitted_changes"]
           else "") + ".",
        "",
        f"## Acceptance ratios ({acc['size']})",
        "",
        "The criterion as defined: wall-clock medians of the runs (PASS/FAIL). The same ratios "
        "by the first run of each phase in its fresh process (what a one-shot `eastwest "
        "solve` pays), by the fastest run, and by user CPU time are given as context: on this "
        "machine system time (page faults) varies a lot from run to run.",
        "",
        *verdict,
        "",
    ]


def tables(report: dict[str, Any]) -> list[Table]:
    sizes, results, summary = report["sizes"], report["results"], report["summary"]
    return [sizes_table(results, sizes), timings_table(results, sizes),
            ratios_table(summary, sizes), check_table(summary)]


def render_markdown(report: dict[str, Any]) -> str:
    parts = _head_md(report)
    parts += [table_md(t) for t in tables(report)]
    parts += ["## Notes", "", *[f"- {n}" for n in report["notes"]]]
    profile = report.get("profile")
    if profile:
        for run in ("first", "second"):
            parts += ["", f"## {profile_title(profile, run)}", "", "```",
                      profile[run]["tottime"].strip(), "```"]
        stages = stages_table(profile)
        if stages is not None:
            parts += ["", table_md(stages).rstrip("\n")]
    return "\n".join(parts) + "\n"


def print_report(console: Any, report: dict[str, Any]) -> None:
    from rich.markup import escape

    from optimizer.report.console import to_rich

    for table in tables(report):
        console.print(to_rich(table))
    for text, flag in verdict_lines(report["acceptance"]):
        colour = "green" if flag == "PASS" else "red"
        console.print(f"{escape(text)}: [bold {colour}]{flag}[/]")
    profile = report.get("profile")
    if profile:
        for run in ("first", "second"):
            console.rule(escape(profile_title(profile, run)))
            console.print(profile[run]["tottime"], markup=False, highlight=False)
        stages = stages_table(profile)
        if stages is not None:
            console.print(to_rich(stages))

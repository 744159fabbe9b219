"""The solver benchmark's report (benchmarks/solvers.py): each path's notes, the objective's
relative difference from CLP's, the reading of each LP's results, and the tables, rendered with
the package's Markdown and rich renderers (``table_md``, ``to_rich``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import ratio, write_report
from rich.console import Console
from rich.markup import escape

from optimizer.report.console import to_rich
from optimizer.report.markdown import table_md
from optimizer.report.tables import Table

REL = 1e-7  # an objective further than this from CLP's (relative) is flagged


def fmt_s(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}" if v < 10 else f"{v:.1f}"


def fmt_obj(v: float | None) -> str:
    return "–" if v is None else f"{v:.10e}"


def fmt_rel(v: float | None) -> str:
    return "–" if v is None else "0" if v == 0 else f"{v:+.1e}"


def _notes(r: dict[str, Any]) -> str:
    parts = [r["status"]]
    rel = r.get("rel_diff")
    if rel is not None and abs(rel) > REL:
        parts.append(f"objective off by more than {REL:g}")
    if r["status"] != "optimal" and r.get("message"):
        parts.append(r["message"].splitlines()[0][:160])
    if r["status"] != "optimal" and r.get("log_errors"):
        parts.append("log: " + " ".join(r["log_errors"])[:240])
    it = r.get("iterations")
    if it:
        parts.append(" + ".join(f"{v:,} {k}" for k, v in it.items()) + " iterations")
    if r.get("pdlp_point"):
        parts.append(r["pdlp_point"].removeprefix("POINT_TYPE_").lower().replace("_", " "))
    if r.get("cpu_s") and r.get("wall_s") and r["cpu_s"] > 1.2 * r["wall_s"]:
        parts.append(f"CPU/wall {r['cpu_s'] / r['wall_s']:.1f}")
    if r.get("skipped"):
        parts = [f"skipped: {r['skipped']}"]
    return "; ".join(parts)


def finish_lp(entry: dict[str, Any]) -> None:
    """Relative differences from CLP and the reading, from the results measured so far."""
    results = entry["results"]
    ref = next((r for r in results if r["path"] == "clp" and r.get("objective") is not None),
               None)
    for r in results:
        r["rel_diff"] = (None if ref is None or r.get("objective") is None
                         else (r["objective"] - ref["objective"]) / abs(ref["objective"]))
    entry["reading"] = reading(entry)


def reading(entry: dict[str, Any]) -> str:
    done = [r for r in entry["results"] if r["status"] == "optimal" and r.get("wall_s")]
    if not done:
        return "No path finished."
    by = {r["path"]: r for r in done}
    fastest = min(done, key=lambda r: r["wall_s"])
    exact = [r for r in done if r.get("rel_diff") is not None and abs(r["rel_diff"]) <= REL]
    slowest = max(done, key=lambda r: r["wall_s"])
    out = [f"Fastest: **{fastest['path']}** at {fastest['wall_s']:.3f} s"]
    comps = []
    for other in ("clp", "glop", "highs"):
        if other in by and other != fastest["path"]:
            comps.append(f"{ratio(by[other]['wall_s'], fastest['wall_s']):.2f}x faster than "
                         f"{other} ({by[other]['wall_s']:.3f} s)")
    ranked = sorted(done, key=lambda r: r["wall_s"])
    if len(ranked) > 1 and ranked[1]["path"] not in ("clp", "glop", "highs"):
        comps.append(f"{ratio(ranked[1]['wall_s'], fastest['wall_s']):.2f}x faster than the "
                     f"runner-up {ranked[1]['path']} ({ranked[1]['wall_s']:.3f} s)")
    if comps:
        out[0] += ", " + ", ".join(comps)
    out[0] += (f"; the slowest finished path, {slowest['path']}, took "
               f"{ratio(slowest['wall_s'], fastest['wall_s']):.1f}x as long "
               f"({slowest['wall_s']:.1f} s).")
    if exact:
        fx = min(exact, key=lambda r: r["wall_s"])
        if fx is not fastest:
            out.append(f"Fastest with the objective within {REL:g} of CLP's: **{fx['path']}** "
                       f"({fx['wall_s']:.3f} s, {ratio(by['clp']['wall_s'], fx['wall_s']):.2f}x "
                       "CLP's speed).")
        elif "clp" in by and fastest["path"] != "clp":
            out.append(f"Its objective is within {REL:g} of CLP's.")
    if "clp" in by:
        rank = [r["path"] for r in ranked].index("clp") + 1
        out.append(f"CLP, the package's default, ranks {rank} of {len(done)} finished paths.")
    off = [r for r in done if r.get("rel_diff") is not None and abs(r["rel_diff"]) > REL]
    if off:
        out.append("Objective off CLP's by more than 1e-7 relative: " + ", ".join(
            f"{r['path']} ({r['rel_diff']:+.1e})" for r in off) + ".")
    else:
        out.append("No finished path's objective differs from CLP's by more than 1e-7 "
                   "relative (largest: " + f"{max(abs(r['rel_diff']) for r in done):.1e}).")
    other = [r for r in entry["results"] if r["status"] != "optimal"]
    if other:
        out.append("Not solved: " + ", ".join(
            f"{r['path']} ({r.get('skipped') and 'skipped' or r['status']})" for r in other)
            + ".")
    return " ".join(out)


def render_markdown(record: dict[str, Any], labels: dict[str, str]) -> str:
    m = record["machine"]
    out = [
        "# Exact LP solver paths: CLP, GLOP, HiGHS, PDLP (OR-Tools) and highspy", "",
        f"`{record['command']}` — {record['date']}, {m['cpu']}, {m['nproc']} CPUs, "
        f"{m['memory_gb']} GB, Python {m['python']}, OR-Tools {m['ortools']} (HiGHS "
        f"{record.get('ortools_highs_version') or '?'} inside), highspy {m['highspy']}, "
        f"numpy {m['numpy']}, scipy {m['scipy']}, commit {m['git_commit']}.", "",
        "One solve per path, each in its own process forked after the LP was built. Wall time: "
        "from the `LinearProgram` to the objective (model load included: `to_model`, the proto "
        "export for CLP, `passModel` for highspy; the split is in `solvers.json`). Time limit "
        f"{record['time_limit_s']:g} s per path. Relative difference: (objective − CLP's) / "
        "|CLP's|. The machine is shared and noisy: read the ratios.", "",
    ]
    for entry in record["lps"]:
        out += [table_md(lp_table(entry, labels)),
                f"**Reading.** {entry.get('reading', '')}", ""]
    if record.get("parameter_strings"):
        out += ["## Parameter strings as passed", ""]
        out += [f"- `{name}` ({solver}): `{params!r}`"
                for name, solver, params in record["parameter_strings"]]
        out.append("")
    return "\n".join(out)


def lp_table(entry: dict[str, Any], labels: dict[str, str] | None) -> Table:
    """One LP's paths; with ``labels`` (Markdown) each path with its label and the LP's size as
    the caption, without (the console) the paths' names."""
    lp = entry["lp"]
    markdown = labels is not None
    rows = [[f"`{r['path']}`: {labels[r['path']]}" if labels else escape(r["path"]),
             fmt_s(r.get("wall_s")), fmt_obj(r.get("objective")),
             fmt_rel(r.get("rel_diff")), _notes(r) if markdown else escape(_notes(r))]
            for r in entry["results"]]
    return Table(entry["title"], ["path", "wall s", "objective",
                                  "rel. diff from CLP" if markdown else "rel. diff",
                                  "status/notes"], rows,
                 caption=f"{lp['variables']:,} variables, {lp['rows']:,} rows, "
                         f"{lp['nonzeros']:,} non-zeros (built in {entry['build_s']:.1f} s)."
                 if markdown else "", numeric={1, 2, 3})


def print_table(console: Console, entry: dict[str, Any]) -> None:
    console.print(to_rich(lp_table(entry, None)))
    console.print(escape(entry["reading"].replace("**", "")))


def save(record: dict[str, Any], out: Path, labels: dict[str, str]) -> None:
    for entry in record["lps"]:
        finish_lp(entry)
        for r in entry["results"]:
            if r["kind"].startswith("mb") and r.get("highs_version"):
                record["ortools_highs_version"] = r["highs_version"]
    write_report(out, "solvers", record, render_markdown(record, labels))

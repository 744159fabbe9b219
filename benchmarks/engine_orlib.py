"""OR-Library capa/capb/capc (Beasley: 100 candidate facilities x 1,000 customers, 12 problems)
for ``benchmarks/engine.py --orlib``: ``eastwest solve`` end to end with the default strategy
(Benders, chosen automatically) at gap 1e-6, against the published optimum, beside monolithic
solves (SCIP, the default before, and CBC), each stopped at ``--orlib-limit`` seconds (SCIP took
25-514 s each here, 2,132 s for the 12).

Each problem is imported once (``eastwest import orlib-cap --capacity C``), then solved by each
way in turn (interleaved: the machine is shared)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness import eastwest, run_timed

DATA = Path(__file__).resolve().parent / "data" / "orlib-cap"
PROBLEMS = {  # name: (file, capacity, published optimum: data/orlib-cap/optima.tsv)
    "capa1": ("capa.txt", 8000, 19240822.449), "capa2": ("capa.txt", 10000, 18438046.543),
    "capa3": ("capa.txt", 12000, 17765201.949), "capa4": ("capa.txt", 14000, 17160439.012),
    "capb1": ("capb.txt", 5000, 13656379.578), "capb2": ("capb.txt", 6000, 13361927.449),
    "capb3": ("capb.txt", 7000, 13198556.434), "capb4": ("capb.txt", 8000, 13082516.496),
    "capc1": ("capc.txt", 5000, 11646596.974), "capc2": ("capc.txt", 5750, 11570340.289),
    "capc3": ("capc.txt", 6500, 11518743.744), "capc4": ("capc.txt", 7250, 11505767.394),
}
WAYS = {  # label: extra solve options
    "auto": ["--gap", "1e-6"],
    "monolithic scip": ["--strategy", "monolithic", "--solver", "scip", "--gap", "1e-6"],
    "monolithic cbc": ["--strategy", "monolithic", "--solver", "cbc"],
}


def orlib_rows(tmp: Path, timeout: float, limit: float, ways: list[str]) -> list[dict[str, Any]]:
    rows = []
    for name, (file, capacity, optimum) in PROBLEMS.items():
        path = tmp / f"{name}.yaml"
        imported = run_timed([*eastwest(), "import", "orlib-cap", str(DATA / file),
                              "--capacity", str(capacity), "-o", str(path)], timeout)
        if imported["status"] != "ok":
            raise SystemExit(f"import of {name} failed: {imported['stderr']}")
        for way in ways:
            out = tmp / f"{name}-{way.replace(' ', '-')}.json"
            extra = WAYS[way] + ([] if way == "auto" else ["--time-limit", str(limit)])
            res = run_timed([*eastwest(), "solve", str(path), "-q", "--json", str(out),
                             "--accept-feasible", *extra], timeout)
            if out.exists():
                data = json.loads(out.read_text(encoding="utf-8"))
                res.update(objective=data["objective"], solver=data["solver"]["solver"],
                           solution_status=data["status"], gap=data.get("gap"))
            value = res.get("objective")
            res["vs_published"] = (None if value is None
                                   else (value - optimum) / optimum)
            rows.append({"case": name, "strategy": way, **res})
            print(f"{name:8s} {way:16s} {res['status']:7s} {res['wall_s']:8.2f} s "
                  f"{res.get('solution_status', '')} {res.get('solver', '')} "
                  f"{res['vs_published'] if res['vs_published'] is not None else '-'}",
                  flush=True)
    return rows


def orlib_table(rows: list[dict[str, Any]]) -> str:
    ways = list(dict.fromkeys(r["strategy"] for r in rows))
    lines = ["| problem | " + " | ".join(f"{w} s" for w in ways) + " | solver (auto) | "
             "auto vs published | auto status |",
             "|---|" + "---:|" * len(ways) + "---|---:|---|"]
    totals = dict.fromkeys(ways, 0.0)
    for case in dict.fromkeys(r["case"] for r in rows):
        mine = {r["strategy"]: r for r in rows if r["case"] == case}
        cells = []
        for w in ways:
            r = mine[w]
            totals[w] += r["wall_s"]
            proven = r.get("solution_status") == "optimal"
            cells.append(f"{r['wall_s']:.1f}" + ("" if proven else " (not proven)"))
        auto = mine.get("auto", {})
        diff = auto.get("vs_published")
        lines.append(f"| {case} | " + " | ".join(cells) + f" | {auto.get('solver', '-')} | "
                     f"{'-' if diff is None else f'{diff:.1e}'} | "
                     f"{auto.get('solution_status', auto.get('status', '-'))} |")
    lines.append("| all 12 | " + " | ".join(f"{totals[w]:.1f}" for w in ways) + " | | | |")
    return "\n".join(lines) + "\n"

"""A study's files: ``results.csv``, ``results.md``, ``study.json`` and ``plots/``, each written
atomically (the points' own files are the engine's cache)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer import __version__
from optimizer.records.inputs import Base
from optimizer.records.results import OptionsKey, ParetoResult, PointResult, SweepResult
from optimizer.report.files import write_atomic
from optimizer.report.studies import (
    csv_text,
    front_order,
    pareto_columns,
    pareto_markdown,
    sweep_columns,
    sweep_markdown,
)
from optimizer.report.study_plots import PLOTS_HINT, pareto_plot, plots_available, sweep_plots

STUDY_FILES = ("results.csv", "results.md", "study.json")
"""The files a study writes into its folder, besides its folders ``STUDY_FOLDERS``."""
STUDY_FOLDERS = ("points", "solutions", "plots")


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    plots_skipped: str | None = None


def _summary(base: Base, options: OptionsKey, results: list[PointResult], optimal: int,
             seconds: float) -> dict[str, Any]:
    """What study.json says about any study after its kind's own fields."""
    return {"eastwest": __version__, "instance": base.file, "instance_sha256": base.sha256,
            "base_overrides": list(base.overrides), "options": options.to_json(),
            "points": len(results), "optimal": optimal,
            "cached": sum(1 for r in results if r.cached), "seconds": seconds,
            "point_files": [f"points/{r.key}.json" for r in results]}


def _write(out: Path, files: dict[str, str], written: Written) -> Written:
    for name, text in files.items():
        write_atomic(out / name, text)
        written.files.append(out / name)
    return written


def write_sweep(sweep: SweepResult, out: Path, plots: bool = True) -> Written:
    """``results.csv``, ``results.md``, ``study.json`` and ``plots/`` into ``out``."""
    written = Written()
    cols = sweep_columns(sweep)
    rows = sweep.rows()
    if plots:
        if plots_available():
            written.plots = sweep_plots(sweep, cols, rows, out / "plots")
        else:
            written.plots_skipped = PLOTS_HINT
    study = {"study": sweep.study.model_dump(by_alias=True, exclude_none=True),
             **_summary(sweep.base, OptionsKey.of(sweep.options), sweep.results,
                        len(sweep.points) - len(sweep.failed), sweep.seconds)}
    return _write(out, {"results.csv": csv_text(cols, rows),
                        "results.md": sweep_markdown(sweep, written.plots),
                        "study.json": json.dumps(study, indent=1) + "\n"}, written)


def write_pareto(pareto: ParetoResult, out: Path, plots: bool = True) -> Written:
    written = Written()
    if plots:
        if plots_available():
            written.plots = pareto_plot(pareto, out / "plots")
        else:
            written.plots_skipped = PLOTS_HINT
    results = [p.result for p in pareto.results]
    study = {"pareto": ["cost", pareto.second], "service": pareto.service,
             **_summary(pareto.base, OptionsKey.of(pareto.options), results,
                        len(pareto.results) - len(pareto.failed), pareto.seconds)}
    return _write(out, {"results.csv": csv_text(pareto_columns(pareto), front_order(pareto)),
                        "results.md": pareto_markdown(pareto, written.plots),
                        "study.json": json.dumps(study, indent=1) + "\n"}, written)

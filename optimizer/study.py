"""Kept for compatibility: the study API now lives in optimizer.studies, .records and .report."""

from __future__ import annotations

from optimizer.records.inputs import Base, Goal, Parameter, Point, Study
from optimizer.records.results import ParetoResult, PointResult, SweepResult, second_value
from optimizer.report.study_files import write_pareto, write_sweep
from optimizer.studies.base import prepare_base
from optimizer.studies.pareto import run_pareto
from optimizer.studies.spec import expand, load_study, parse_vary
from optimizer.studies.sweep import run_sweep
from optimizer.studies.tasks import Task, solve_task, solve_task_kept_warm, task_key

__all__ = ["Base", "Goal", "Parameter", "ParetoResult", "Point", "PointResult", "Study",
           "SweepResult", "Task", "expand", "load_study", "parse_vary", "prepare_base",
           "run_pareto", "run_sweep", "second_value", "solve_task", "solve_task_kept_warm",
           "task_key", "write_pareto", "write_sweep"]

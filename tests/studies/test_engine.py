"""The study engine is a library: no command line, no terminal; the CLI registers the commands."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optimizer
from optimizer import study as engine
from optimizer.backends.base import SolveOptions

PACKAGE = Path(optimizer.__file__).parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_engine_knows_no_cli_and_never_prints() -> None:
    names = imports_of(PACKAGE / "study.py")
    assert not {n for n in names if n.split(".")[0] in ("typer", "rich", "click")}
    assert "optimizer.cli" not in names
    assert "optimizer.cli_study" not in names
    assert "print(" not in (PACKAGE / "study.py").read_text()


def test_report_modules_do_not_import_studies() -> None:
    for path in (PACKAGE / "report").glob("*.py"):
        assert not {n for n in imports_of(path) if n.startswith("optimizer.study")}, path


def test_sweep_and_pareto_are_registered(cli: Callable[..., Any]) -> None:
    ran = cli(["--help"])
    assert ran.code == 0
    assert "sweep" in ran.stdout
    assert "pareto" in ran.stdout


def test_cache_key_covers_instance_overrides_options_and_goal() -> None:
    key = engine.task_key("a" * 64, ["x=1"], SolveOptions())
    assert key == engine.task_key("a" * 64, ["x=1"], SolveOptions(log=True, threads=4))
    assert key != engine.task_key("b" * 64, ["x=1"], SolveOptions())
    assert key != engine.task_key("a" * 64, ["x=2"], SolveOptions())
    assert key != engine.task_key("a" * 64, ["x=1", "y=1"], SolveOptions())
    assert key != engine.task_key("a" * 64, ["x=1"], SolveOptions(solver="glop"))
    assert key != engine.task_key("a" * 64, ["x=1"], SolveOptions(time_limit=5))
    assert key != engine.task_key("a" * 64, ["x=1"], SolveOptions(), engine.Goal("carbon"))

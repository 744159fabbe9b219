"""The command line is a package without import cycles: each command module imports what the
commands share from ``optimizer.cli.common`` and never another command module, and nothing but
the entry points (``optimizer.cli:main``, ``python -m optimizer.cli``) imports the package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import optimizer

PACKAGE = Path(optimizer.__file__).parent
CLI = PACKAGE / "cli"


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "optimizer.cli":
                names.update(f"optimizer.cli.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_command_modules_import_only_the_shared_module() -> None:
    commands = [p for p in CLI.glob("*.py") if p.stem not in ("__init__", "__main__", "common")]
    assert {p.stem for p in commands} == {"solve", "instances", "bench", "studies"}
    for path in [*commands, CLI / "common.py"]:
        cli_imports = {n for n in imported(path) if n.startswith("optimizer.cli")}
        allowed = set() if path.stem == "common" else {"optimizer.cli.common"}
        assert cli_imports <= allowed, path


def test_nothing_but_the_entry_point_imports_the_package() -> None:
    for path in PACKAGE.rglob("*.py"):
        if path in (CLI / "__init__.py", CLI / "__main__.py"):
            continue
        assert "optimizer.cli" not in imported(path), path


def test_python_dash_m_runs_the_command_line() -> None:
    ran = subprocess.run([sys.executable, "-m", "optimizer.cli", "--version"],
                         capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("eastwest ")

"""The repository keeps its promises: the README's commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    """The README's two set-up blocks (from ``python3 -m venv`` to the end of the block)."""
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(python3 -m venv .*?)\n```", text, flags=re.DOTALL)


def test_readme_has_the_two_set_up_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("eastwest solve")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_exactly() -> None:
    """The README's test block, line for line and in order, is a run of lines of .ci/run; each
    step on a line of its own (no && list, whose failing first steps ``set -e`` ignores)."""
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    steps = readme_commands()[1].splitlines()
    assert len(steps) == 3
    assert not any("&&" in step or "||" in step for step in steps)
    starts = [i for i in range(len(ci)) if ci[i:i + len(steps)] == steps]
    assert len(starts) == 1, f"{steps} not a run of lines in .ci/run"
    assert "set -euo pipefail" in ci[:starts[0]]
    assert any(line.startswith(".venv/bin/ruff check") for line in ci)
    assert any(line.startswith(".venv/bin/mypy") for line in ci)


def test_packaged_national_instance_is_the_repository_copy() -> None:
    from importlib import resources

    shipped = resources.files("optimizer.data").joinpath("china-national.yaml").read_text()
    assert shipped == (ROOT / "instances" / "china-national.yaml").read_text()


def test_every_package_is_listed_for_installation() -> None:
    """pyproject.toml lists the packages explicitly: a package left out would be missing from
    a wheel (an editable install, as in CI, would not notice)."""
    import tomllib

    repo = Path(__file__).resolve().parents[2]
    listed = set(tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(repo).parts)
             for p in (repo / "optimizer").rglob("__init__.py")}
    assert found - listed == set()

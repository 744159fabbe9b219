"""The repository keeps its promises: the README's commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```bash\n(python3 -m venv .*?)\n```", text)


def test_readme_has_the_two_set_up_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("eastwest solve")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_exactly() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci
    assert any(line.startswith(".venv/bin/ruff check") for line in ci)
    assert any(line.startswith(".venv/bin/mypy") for line in ci)


def test_packaged_national_instance_is_the_repository_copy() -> None:
    from importlib import resources

    shipped = resources.files("optimizer.data").joinpath("china-national.yaml").read_text()
    assert shipped == (ROOT / "instances" / "china-national.yaml").read_text()

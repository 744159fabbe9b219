"""Fixtures for the command-line tests: run ``eastwest`` in a subprocess or in-process.

Both runners return a :class:`Ran` (exit code, stdout, stderr), so that a test can use either.
The subprocess runner is the real thing (the console script, fresh interpreter, real file
descriptors); the in-process runner (``typer.testing.CliRunner``) is used where many cases make
start-up time matter. An exception escaping the in-process app is turned into exit code 1 and a
``Traceback`` in stderr, which is what ``optimizer.cli.main`` would print.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTANCES = REPO / "instances"
TINY = INSTANCES / "tiny.yaml"
EASTWEST = Path(sys.executable).parent / "eastwest"


@dataclass(frozen=True)
class Ran:
    code: int
    stdout: str
    stderr: str

    @property
    def both(self) -> str:
        return self.stdout + self.stderr


Runner = Callable[..., Ran]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("FORCE_COLOR", None)
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture(scope="session")
def eastwest_exe() -> Path:
    assert EASTWEST.exists(), f"console script not found next to the interpreter: {EASTWEST}"
    return EASTWEST


@pytest.fixture(scope="session")
def run_eastwest(eastwest_exe: Path) -> Runner:
    """``run_eastwest(args, cwd, timeout=120)``: the console script in a subprocess."""

    def run(args: Sequence[str | os.PathLike[str]], cwd: Path, timeout: float = 120) -> Ran:
        proc = subprocess.run(
            [str(eastwest_exe), *map(str, args)], cwd=cwd, env=_env(),
            capture_output=True, text=True, timeout=timeout, check=False,
        )
        return Ran(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def run_subprocess(run_eastwest: Runner, tmp_path: Path) -> Runner:
    """``run_subprocess(args, cwd=None, timeout=120)``: the console script in a subprocess.

    The default working directory is a fresh temporary folder, so that side files
    (a study's ``reports/studies/``) never land in the repository.
    """
    workdir = tmp_path / "cwd"
    workdir.mkdir()

    def run(args: Sequence[str | os.PathLike[str]], cwd: Path | None = None,
            timeout: float = 120) -> Ran:
        return run_eastwest(args, cwd or workdir, timeout)

    return run


@pytest.fixture
def _restore_optimizer_logging() -> Iterator[None]:
    """``eastwest solve`` reconfigures the ``optimizer`` logger; undo it after in-process runs."""
    root = logging.getLogger("optimizer")
    saved = (list(root.handlers), root.level, root.propagate)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    root.propagate = saved[2]


@pytest.fixture
def run_inprocess(_restore_optimizer_logging: None) -> Runner:
    """``run_inprocess(args)``: the typer app through ``typer.testing.CliRunner``."""
    from typer.testing import CliRunner

    from optimizer.cli import app

    def run(args: Sequence[str | os.PathLike[str]]) -> Ran:
        result = CliRunner(env=_env()).invoke(app, [str(a) for a in args])
        exc = result.exception
        if exc is not None and not isinstance(exc, SystemExit):
            tb = "".join(traceback.format_exception(exc))
            return Ran(1, result.stdout, result.stderr + "internal error\n" + tb)
        return Ran(result.exit_code, result.stdout, result.stderr)

    return run

"""Progress on stderr (issue #13): a spinner with the elapsed time while a solve runs, on a
terminal only, never with -q, never in the solver log (solves capture fds 1 and 2)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "instances" / "tiny.yaml"
EASTWEST = [sys.executable, "-m", "optimizer.cli"]


def run_on_terminal(args: list[str]) -> tuple[int, bytes]:
    """Run eastwest with stderr on a pseudo-terminal; (exit code, what the terminal got)."""
    main, child = pty.openpty()
    proc = subprocess.Popen([*EASTWEST, *args], stdout=subprocess.DEVNULL, stderr=child,
                            cwd=REPO)
    os.close(child)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    return proc.wait(), seen


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_solve_shows_a_spinner_on_a_terminal_and_keeps_it_out_of_the_log(
        tmp_path: Path) -> None:
    code, seen = run_on_terminal(["solve", str(TINY), "--json", str(tmp_path / "s.json")])
    assert code == 0
    assert b"solving tiny" in seen
    log = (tmp_path / "tiny.solver.log").read_text(encoding="utf-8")
    assert "solving tiny" not in log


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_no_spinner_with_quiet(tmp_path: Path) -> None:
    code, seen = run_on_terminal(["solve", str(TINY), "-q", "--json", str(tmp_path / "s.json")])
    assert code == 0
    assert b"solving tiny" not in seen


def test_no_spinner_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    ran = subprocess.run([*EASTWEST, "solve", str(TINY), "--json", str(tmp_path / "s.json")],
                         capture_output=True, cwd=REPO, check=False)
    assert ran.returncode == 0
    assert b"solving tiny" not in ran.stderr

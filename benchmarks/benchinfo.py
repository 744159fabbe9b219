"""The machine and code a benchmark ran on, for its report (shared by the benchmark scripts)."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


def _git(*args: str, cwd: str | Path | None = None) -> str | None:
    """``git args`` (stdout, stripped), None where git or the checkout is missing."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              cwd=cwd).stdout.strip()
    return None


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The short commit checked out in ``cwd`` (default: the current folder)."""
    return _git("rev-parse", "--short", "HEAD", cwd=cwd)


def has_uncommitted_changes(path: str) -> bool | None:
    """Whether ``path`` (below the current folder) differs from the commit; None: unknown."""
    status = _git("status", "--porcelain", "--", path)
    return None if status is None else bool(status)


def machine(*packages: str) -> dict[str, Any]:
    """CPU, cores, memory, platform, Python, the given packages' versions and the git commit."""
    cpu = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = None
    with contextlib.suppress(OSError, ValueError):
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb,
            "platform": platform.platform(), "python": platform.python_version(),
            **{name: package_version(name) for name in packages}, "git_commit": git_commit()}

"""The machine and code a benchmark ran on, for its report (shared by the benchmark scripts)."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from typing import Any


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


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
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "memory_gb": mem_gb,
            "platform": platform.platform(), "python": platform.python_version(),
            **{name: package_version(name) for name in packages}, "git_commit": commit}

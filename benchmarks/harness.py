"""The benchmark harness, shared by every script in benchmarks/: timing, peak memory, isolation.

- A phase in this process: :class:`Clock` (wall time, user and system CPU time, minor page
  faults) and :class:`PeakMeter` (the peak RSS of a block above the RSS at its start: ``VmHWM``
  after it minus ``VmRSS`` before it, the peak mark reset through ``/proc/self/clear_refs``, C++
  allocations included; the ``ru_maxrss`` delta where the reset is unavailable).
- Repeats: :func:`repeat` / :func:`attempts` run a phase up to ``repeats`` times into
  :class:`Runs` (the median is reported) unless one run takes longer than ``slow_s`` seconds:
  a slow phase runs once.
- Isolation: :func:`run_isolated`, a function in a fresh (spawned or forked) process, with an
  optional hard timeout; its result, or how it failed, and the process's peak RSS.
- A command: :func:`run_timed`, a subprocess under ``/usr/bin/time -f "%e %M"`` in its own
  session with a timeout; wall time, the largest process's peak RSS (``%M``) and, with
  :class:`TreeMemory`, the peak of the PSS summed over its process tree.
- :func:`median`, :func:`ratio`, :func:`rel_diff`, :func:`fmt_ratio`, the ``eastwest`` script, the
  command line of a run and its report files (JSON and Markdown, written atomically).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import multiprocessing as mp
import os
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# --------------------------------------------------------------------------------------------
# A phase in this process: peak memory, clock, runs
# --------------------------------------------------------------------------------------------


def proc_status_kb(key: str) -> int | None:
    """A ``/proc/self/status`` field in kB (``VmRSS``, ``VmHWM``, ...), None if unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    """Reset this process's peak-RSS mark (``VmHWM``); False where the kernel does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


def malloc_trim() -> None:
    """Give freed heap memory back to the system (glibc), so it does not hide the next peak."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakMeter:
    """Peak RSS of this process during a block, above its RSS at the start of the block."""

    def __init__(self) -> None:
        self.reset_ok = reset_peak() and proc_status_kb("VmHWM") is not None
        self.method = ("VmHWM after minus VmRSS before, peak mark reset per phase "
                       "(/proc/self/clear_refs), each phase in its own spawned process"
                       if self.reset_ok else
                       "ru_maxrss delta, each phase in its own spawned process "
                       "(a lower bound: peaks of the setup hide those below them)")
        self.base_kb = 0

    def start(self) -> None:
        gc.collect()
        malloc_trim()
        if self.reset_ok:
            reset_peak()
            self.base_kb = proc_status_kb("VmRSS") or 0
        else:
            self.base_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def stop(self) -> float:
        """Peak above the start, MB."""
        if self.reset_ok:
            peak = proc_status_kb("VmHWM") or 0
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(0, peak - self.base_kb) / 1024.0

    @staticmethod
    def rss_mb() -> float:
        return (proc_status_kb("VmRSS") or 0) / 1024.0


class Clock:
    """Wall time, user and system CPU time and minor page faults of a block."""

    wall = user = sys = 0.0
    minflt = 0

    def __enter__(self) -> Clock:
        self._ru = resource.getrusage(resource.RUSAGE_SELF)
        self._t = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t
        ru = resource.getrusage(resource.RUSAGE_SELF)
        self.user = ru.ru_utime - self._ru.ru_utime
        self.sys = ru.ru_stime - self._ru.ru_stime
        self.minflt = ru.ru_minflt - self._ru.ru_minflt

    @property
    def cpu(self) -> float:
        """User + system CPU seconds, every thread of the process."""
        return self.user + self.sys


class Runs:
    """The runs of one phase: wall times (the first one is cold: a fresh process), CPU times,
    page faults, and the peak memory over the runs."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.user: list[float] = []
        self.sys: list[float] = []
        self.minflt: list[int] = []
        self.peak_mb = 0.0

    def add(self, wall: float, user: float, sys_s: float, minflt: int, peak_mb: float) -> None:
        self.times.append(wall)
        self.user.append(user)
        self.sys.append(sys_s)
        self.minflt.append(minflt)
        self.peak_mb = max(self.peak_mb, peak_mb)

    def add_clock(self, clock: Clock, peak_mb: float) -> None:
        self.add(clock.wall, clock.user, clock.sys, clock.minflt, peak_mb)

    def record(self, **extra: Any) -> dict[str, Any]:
        return {"times": self.times, "user_s": self.user, "sys_s": self.sys,
                "minflt": self.minflt, "peak_mb": self.peak_mb, **extra}


def attempts(repeats: int, slow_s: float, runs: Runs) -> Iterator[int]:
    """Up to ``repeats`` iterations; none after a run (the last of ``runs``) over ``slow_s``."""
    for i in range(repeats):
        yield i
        if runs.times and runs.times[-1] > slow_s:
            return


@contextlib.contextmanager
def measured(runs: Runs, meter: PeakMeter) -> Iterator[Clock]:
    """Time the block and meter its peak memory; the run is added to ``runs``."""
    meter.start()
    with Clock() as clock:
        yield clock
    runs.add_clock(clock, meter.stop())


def repeat(fn: Callable[[], Any], repeats: int, slow_s: float,
           meter: PeakMeter) -> tuple[Runs, Any]:
    """Run ``fn`` up to ``repeats`` times (once if a run takes over ``slow_s``); the runs and
    the last result."""
    runs = Runs()
    out = None
    for _ in attempts(repeats, slow_s, runs):
        out = None  # free the previous result before measuring
        with measured(runs, meter):
            out = fn()
    return runs, out


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def ratio(num: float | None, den: float | None) -> float | None:
    """``num / den``; None where either is missing or ``den`` is not positive."""
    if num is None or den is None or den <= 0:
        return None
    return num / den


def rel_diff(value: float | None, ref: float | None) -> float | None:
    """``|value - ref| / max(|ref|, 1)``: how far an objective is from the reference's."""
    if value is None or ref is None:
        return None
    return abs(value - ref) / max(abs(ref), 1.0)


def fmt_ratio(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f}x" if x >= 10 else f"{x:.2f}x"


# --------------------------------------------------------------------------------------------
# A function in a fresh process
# --------------------------------------------------------------------------------------------


@dataclass
class Isolated:
    """What :func:`run_isolated` saw: the function's result, or its exception, or the process
    dying or being killed at the timeout; the process's peak RSS (``ru_maxrss``)."""

    value: Any = None
    returned: bool = False
    error: str | None = None  # "Type: message" of an exception raised in the process
    error_repr: str | None = None
    exitcode: int | None = None
    timed_out: bool = False
    elapsed_s: float = 0.0
    peak_mb: float | None = None

    @property
    def failure(self) -> str:
        """Why there is no result ("" where there is one)."""
        if self.returned:
            return ""
        if self.error:
            return self.error
        if self.timed_out:
            return f"killed after {self.elapsed_s:.0f} s (hard timeout)"
        return f"child died (exit code {self.exitcode}; negative: signal)"


def _isolated_child(conn: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        payload: tuple[Any, ...] = ("ok", fn(*args))
    except Exception as exc:  # reported to the parent: a failure is a result
        payload = ("error", f"{type(exc).__name__}: {exc}", repr(exc))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send((*payload, peak_mb))
    conn.close()


def run_isolated(fn: Callable[..., Any], *args: Any, start: str = "spawn",
                 timeout: float | None = None) -> Isolated:
    """``fn(*args)`` in a fresh process: ``spawn`` (its own memory and peak; ``fn`` and the
    arguments must pickle) or ``fork`` (it inherits this process's data, e.g. a built LP).

    After ``timeout`` seconds without a result the process is killed (``timed_out``); one that
    is still alive 5 s after sending its result is killed too.
    """
    ctx = mp.get_context(start)
    recv, send = ctx.Pipe(duplex=False)
    # not a daemon: the function may start processes of its own (e.g. period LP workers)
    proc = ctx.Process(target=_isolated_child, args=(send, fn, args))
    t0 = time.perf_counter()
    proc.start()
    send.close()
    payload = None
    try:
        if recv.poll(timeout):
            with contextlib.suppress(EOFError):
                payload = recv.recv()
        proc.join(5)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
        recv.close()
    out = Isolated(exitcode=proc.exitcode, elapsed_s=time.perf_counter() - t0)
    if payload is None:
        out.timed_out = timeout is not None and out.elapsed_s >= timeout
    elif payload[0] == "ok":
        out.value, out.returned, out.peak_mb = payload[1], True, payload[2]
    else:
        out.error, out.error_repr, out.peak_mb = payload[1:4]
    return out


# --------------------------------------------------------------------------------------------
# A command in a subprocess
# --------------------------------------------------------------------------------------------


class TreeMemory:
    """Peak, over time, of the PSS summed over a process and its descendants (MB), sampled in a
    thread every ``every`` seconds; None where psutil is missing. Each sample walks the
    processes' page tables (``smaps``), which holds their memory maps: every 0.05 s it slowed
    the large deferral LP's solve by 1-2 s (21.2/20.4 s against 19.3/19.6 s unsampled); every
    0.25 s, within noise (20.4/19.0 s against 19.1/19.0 s), the same peak (729 MB)."""

    def __init__(self, pid: int, every: float = 0.25):
        self.peak_mb: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import psutil
        except ImportError:
            return
        self._root = psutil.Process(pid)
        self._psutil = psutil
        self._every = every
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        psutil = self._psutil
        while not self._stop.is_set():
            total = 0
            try:
                procs = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:
                break
            for proc in procs:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_full_info().pss
            if total:
                self.peak_mb = max(self.peak_mb or 0.0, total / 2**20)
            self._stop.wait(self._every)

    def stop(self) -> float | None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.peak_mb


def _time_output(err: str) -> tuple[float | None, list[str]]:
    """The ``%M`` peak (MB) of ``/usr/bin/time -f "%e %M"`` and the command's own stderr lines."""
    lines = err.rstrip().splitlines()
    peak_mb = None
    if lines:
        parts = lines[-1].split()
        if len(parts) == 2:
            with contextlib.suppress(ValueError):
                peak_mb = int(parts[1]) / 1024
                lines = lines[:-1]
    # /usr/bin/time reports "Command exited with non-zero status N" before its line
    return peak_mb, [ln for ln in lines if not ln.startswith("Command exited with non-zero")]


def run_timed(cmd: list[str], timeout: float, tree: bool = True) -> dict[str, Any]:
    """Run ``cmd`` under ``/usr/bin/time -f "%e %M"`` in its own session, killed (the whole
    session) after ``timeout`` s. Status ``ok``, ``error`` or ``timeout``; wall seconds
    (``perf_counter`` around it); peak MB: the larger of ``%M`` and, with ``tree``, the PSS peak
    of the process tree (:class:`TreeMemory`); the tails of stdout and stderr."""
    full = ["/usr/bin/time", "-f", "%e %M", *cmd]
    t0 = time.perf_counter()
    proc = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    sampler = TreeMemory(proc.pid) if tree else None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        if sampler is not None:
            sampler.stop()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group we started: time and the command
        out, err = proc.communicate()
        return {"status": "timeout", "wall_s": time.perf_counter() - t0, "peak_mb": None,
                "returncode": None, "stderr": (err or "")[-2000:], "stdout": (out or "")[-500:]}
    wall = time.perf_counter() - t0
    tree_mb = sampler.stop() if sampler is not None else None
    largest_mb, lines = _time_output(err or "")
    peak_mb = largest_mb if tree_mb is None else max(largest_mb or 0.0, tree_mb)
    return {"status": "ok" if proc.returncode == 0 else "error", "wall_s": wall,
            "peak_mb": peak_mb, "largest_process_mb": largest_mb, "tree_pss_mb": tree_mb,
            "returncode": proc.returncode,
            "stderr": "\n".join(lines)[-2000:], "stdout": (out or "")[-500:]}


def eastwest() -> list[str]:
    """The console script next to this interpreter (the venv's), else the one on PATH."""
    here = Path(sys.executable).with_name("eastwest")
    if here.exists():
        return [str(here)]
    found = shutil.which("eastwest")
    return [found] if found else [sys.executable, "-m", "optimizer.cli"]


# --------------------------------------------------------------------------------------------
# The run's command line and report files
# --------------------------------------------------------------------------------------------


def command_line(script: str, argv: list[str] | None) -> str:
    """``python benchmarks/SCRIPT ARGS`` as run (``argv``: main's argument, else sys.argv)."""
    return shlex.join(["python", f"benchmarks/{script}",
                       *(sys.argv[1:] if argv is None else argv)])


def write_report(out_dir: Path, stem: str, record: dict[str, Any], markdown: str) -> None:
    """``STEM.json`` and ``STEM.md`` under ``out_dir``, each written atomically."""
    # here, not at the top: a spawned phase process imports this module, and only what it needs
    from optimizer.report.files import write_atomic

    write_atomic(out_dir / f"{stem}.json", json.dumps(record, indent=2, default=str) + "\n")
    write_atomic(out_dir / f"{stem}.md", markdown)

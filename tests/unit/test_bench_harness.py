"""The benchmark harness (benchmarks/harness.py): repeats and the slow rule, ratios, peak memory,
isolated runs and timed subprocesses report what happened."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "benchmarks"))  # the scripts' own imports

import harness  # noqa: E402
from harness import PeakMeter, ratio, rel_diff, repeat, run_isolated, run_timed  # noqa: E402

MB = 2**20


def _allocate(mb: int) -> tuple[int, float]:
    """In the isolated process: touch ``mb`` MB; this process's id and its metered peak."""
    meter = PeakMeter()
    meter.start()
    block = np.ones(mb * MB // 8)  # written, so every page is resident
    peak = meter.stop()
    del block
    return os.getpid(), peak


def _fail() -> None:
    raise ValueError("boom")


def _hang() -> None:
    time.sleep(60)


def test_repeat_runs_every_repeat_of_a_fast_phase() -> None:
    calls: list[int] = []
    runs, out = repeat(lambda: calls.append(1) or len(calls), 5, 10.0, PeakMeter())
    assert len(calls) == 5
    assert len(runs.times) == len(runs.user) == len(runs.minflt) == 5
    assert out == 5  # the last run's result


def test_a_slow_phase_runs_once() -> None:
    calls: list[int] = []

    def slow() -> None:
        calls.append(1)
        time.sleep(0.05)

    runs, _ = repeat(slow, 5, 0.01, PeakMeter())
    assert len(calls) == 1
    assert runs.times[0] >= 0.05


def test_median_ratio_and_relative_difference() -> None:
    assert harness.median([3.0, 1.0, 2.0, 10.0]) == 2.5
    assert ratio(6.0, 3.0) == 2.0
    assert ratio(1.0, 0.0) is None
    assert ratio(None, 1.0) is None
    assert ratio(1.0, None) is None
    assert rel_diff(101.0, 100.0) == pytest.approx(0.01)
    assert rel_diff(0.5, 0.0) == 0.5  # the reference's magnitude counts as at least 1
    assert rel_diff(None, 1.0) is None
    assert harness.fmt_ratio(130.6) == "130.6x"
    assert harness.fmt_ratio(1.6) == "1.60x"
    assert harness.fmt_ratio(None) == "–"


def test_peak_meter_sees_an_allocation_in_this_process_and_not_an_earlier_one() -> None:
    meter = PeakMeter()
    if not meter.reset_ok:
        pytest.skip("no /proc/self/clear_refs: the ru_maxrss fallback is a lower bound")
    earlier = np.ones(160 * MB // 8)  # a higher peak before the block, freed (mmap) at once
    del earlier
    meter.start()
    block = np.ones(64 * MB // 8)
    peak = meter.stop()
    del block
    assert 64 * 0.95 <= peak < 64 * 1.5


def test_isolated_run_returns_its_result_and_its_peak_memory() -> None:
    run = run_isolated(_allocate, 100)  # spawned: a fresh interpreter
    assert run.returned, run.failure
    pid, peak = run.value
    assert pid != os.getpid()
    assert peak >= 100 * 0.95  # the phase meter, inside the isolated process
    assert run.peak_mb is not None
    assert run.peak_mb >= 100  # the process's own peak RSS
    assert run.failure == ""


def test_isolated_run_reports_an_exception() -> None:
    run = run_isolated(_fail, start="fork")
    assert not run.returned
    assert run.error == "ValueError: boom"
    assert run.error_repr == "ValueError('boom')"
    assert not run.timed_out


def test_isolated_run_past_its_timeout_is_killed() -> None:
    run = run_isolated(_hang, start="fork", timeout=0.5)
    assert not run.returned
    assert run.timed_out
    assert run.elapsed_s < 10
    assert run.failure.startswith("killed after")
    assert run.exitcode is not None
    assert run.exitcode < 0  # by a signal


def test_timed_subprocess_reports_its_peak_memory() -> None:
    res = run_timed([sys.executable, "-c", "block = b'x' * (80 * 2**20)"], timeout=60)
    assert res["status"] == "ok"
    assert res["returncode"] == 0
    assert res["largest_process_mb"] >= 80
    assert res["peak_mb"] >= res["largest_process_mb"]


def test_timed_subprocess_that_fails_keeps_its_own_stderr() -> None:
    res = run_timed([sys.executable, "-c", "import sys; sys.exit('bad input')"], timeout=60,
                    tree=False)
    assert res["status"] == "error"
    assert res["returncode"] == 1
    assert res["stderr"] == "bad input"  # without /usr/bin/time's own lines
    assert res["tree_pss_mb"] is None


def test_timed_subprocess_past_its_timeout_is_reported_as_timed_out() -> None:
    t0 = time.perf_counter()
    res = run_timed([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.5)
    assert res["status"] == "timeout"
    assert res["returncode"] is None
    assert 0.5 <= res["wall_s"] < 10
    assert time.perf_counter() - t0 < 10  # the session was killed, not waited for

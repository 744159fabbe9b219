"""Ctrl-C during a solve: recorded while the solver runs, raised as KeyboardInterrupt after it.

Left alone, solvers meet SIGINT in three ways (measured here, OR-Tools 9.15, highspy 1.16):
SCIP catches it and stops with its best solution, answering "feasible" (which the package then
wrote out, or cached as a finished study point); CBC through OR-Tools sets its own handler for
its solve (strace), which stops branch and bound but drops the signal before it (the run then
ended "optimal", files written); GLOP, PDLP, HiGHS and CLP run on, and Python raises
KeyboardInterrupt once they return. :func:`interruptible` gives every backend one behaviour:
during the solve SIGINT only records that it came, the solver is asked to stop where its API
allows it (``stop``, called by a watcher thread that :func:`signal.set_wakeup_fd` wakes while
the solver keeps the main thread; or :attr:`Interrupt.requested`, polled by a HiGHS callback),
a solver that caught SIGINT itself says so (:meth:`Interrupt.caught`), and when the solver has
returned KeyboardInterrupt is raised: no result is built, no file written, no study point
cached. The CLI turns it into exit 130. With ``hold`` (CLP and CBC, which hold the GIL and
have no interrupt), SIGINT is blocked in the main thread and taken by the watcher with
:func:`signal.sigwaitinfo`, out of CBC's reach; only a native thread started before the block
(numpy's OpenBLAS, a HiGHS pool), where SIGINT is not blocked, may still take it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

_DONE = b"\0"  # no signal has the number 0: the watcher's "stop watching"
_SIGINT = bytes([signal.SIGINT])


class Interrupt:
    """What :func:`interruptible` yields: ``requested`` turns true the moment SIGINT arrives."""

    def __init__(self) -> None:
        self.requested = False

    def caught(self) -> None:
        """The solver caught SIGINT itself (SCIP) and stopped early: an interrupt all the same."""
        self.requested = True


@contextlib.contextmanager
def interruptible(stop: Callable[[], object] | None = None,
                  hold: bool = False) -> Iterator[Interrupt]:
    """Run the block (one solve) with SIGINT recorded instead of raised; ``stop`` (the solver's
    own thread-safe interrupt) is called at the first SIGINT; ``hold``: keep SIGINT from the
    solver's own handlers (see the module). When the block ends, an interrupt raises
    KeyboardInterrupt (in place of any error it made the solver raise). Outside the main
    thread (a Dask worker runs tasks in threads), or where SIGINT is ignored, the block only
    runs, and :meth:`Interrupt.caught` alone raises."""
    interrupt = Interrupt()
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None)):
        yield interrupt
        if interrupt.requested:
            raise KeyboardInterrupt
        return

    def record(_signum: int, _frame: FrameType | None) -> None:  # main thread, after the solver
        interrupt.requested = True

    previous = signal.signal(signal.SIGINT, record)
    held = hold and sys.platform.startswith("linux")  # sigwaitinfo, real-time signals
    watcher = (_Holder if held else _Watcher)(interrupt, stop)
    try:
        yield interrupt
    finally:
        watcher.close()
        signal.signal(signal.SIGINT, previous)  # runs ``record`` first for a pending SIGINT
        if interrupt.requested:
            raise KeyboardInterrupt


def ignore_sigint() -> None:
    """Ignore SIGINT in this process (a study's worker: Ctrl-C, which the terminal sends to
    every process of its group, is for the process that runs the study, which stops its
    workers); a solver that catches SIGINT itself (SCIP) still stops."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in the block (in the main thread), so that the processes it starts
    inherit :func:`ignore_sigint`'s disposition (e.g. a local Dask cluster's workers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Watcher:
    """A thread woken through :func:`signal.set_wakeup_fd`, which Python's C-level handler
    writes the moment a signal arrives (while the main thread is still inside the solver): at
    SIGINT it sets ``requested`` and calls ``stop``."""

    def __init__(self, interrupt: Interrupt, stop: Callable[[], object] | None) -> None:
        self._interrupt, self._stop = interrupt, stop
        self._start()

    def _stopping(self) -> None:
        self._interrupt.requested = True
        stop, self._stop = self._stop, None  # once
        if stop is not None:
            with contextlib.suppress(Exception):
                stop()

    def _start(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._previous = signal.set_wakeup_fd(self._write, warn_on_full_buffer=False)
        self._thread = threading.Thread(target=self._watch, name="eastwest-interrupt",
                                        daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while True:
            data = os.read(self._read, 64)
            signals = data.replace(_DONE, b"")
            if signals and self._previous >= 0:  # the previous wake-up reader still hears them
                with contextlib.suppress(OSError):
                    os.write(self._previous, signals)
            if _SIGINT in signals:
                self._stopping()
            if not data or _DONE in data:
                return

    def close(self) -> None:
        signal.set_wakeup_fd(self._previous)
        os.write(self._write, _DONE)
        self._thread.join()
        os.close(self._read)
        os.close(self._write)


class _Holder(_Watcher):
    """SIGINT blocked in the main thread (and so in the watcher, started after), where a
    solver's ``signal()`` handler cannot take it; the watcher takes it with ``sigwaitinfo``,
    and ``close`` wakes it with a real-time signal (Linux)."""

    WAKE = signal.SIGRTMAX if hasattr(signal, "SIGRTMAX") else 0

    def _start(self) -> None:
        self._mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, self.WAKE})
        self._thread = threading.Thread(target=self._take, name="eastwest-interrupt",
                                        daemon=True)
        self._thread.start()

    def _take(self) -> None:
        while signal.sigwaitinfo({signal.SIGINT, self.WAKE}).si_signo == signal.SIGINT:
            self._stopping()

    def close(self) -> None:
        assert self._thread.ident is not None
        signal.pthread_kill(self._thread.ident, self.WAKE)
        self._thread.join()
        signal.pthread_sigmask(signal.SIG_SETMASK, self._mask)  # a SIGINT still pending: record


HIGHS_INTERRUPTS = ("kCallbackSimplexInterrupt", "kCallbackIpmInterrupt", "kCallbackMipInterrupt")
"""The HiGHS callbacks that may stop a solve (highspy's ``cb.HighsCallbackType`` names)."""


def highs_stop(interrupt: Interrupt) -> tuple[Callable[[int, str, Any, Any, Any], None],
                                              list[Any]]:
    """HiGHS has no thread-safe stop but its callbacks: (a callback in highspy's low-level form,
    for ``Highs.setCallback``, that stops HiGHS once ``interrupt.requested``; the callback
    types to start for it)."""
    import highspy  # lazily: after OR-Tools (ortools_backend.HIGHS_SHADOWED)

    def poll(_type: int, _message: str, _out: Any, data_in: Any, _user: Any) -> None:
        if interrupt.requested and data_in is not None:
            data_in.user_interrupt = True

    return poll, [getattr(highspy.cb.HighsCallbackType, k) for k in HIGHS_INTERRUPTS]

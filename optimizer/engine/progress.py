"""Progress of a long engine solve (Benders' bounds, column generation's rounds) for whoever
shows it: the CLI's spinner on stderr (``optimizer.cli.common.working``) registers a callback
with :func:`reporting`; the strategies call :func:`report` after each round. Without a
callback, :func:`report` does nothing (a library call, ``-q``, stderr not a terminal)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

_CALLBACK: contextvars.ContextVar[Callable[[str], None] | None] = contextvars.ContextVar(
    "engine_progress", default=None)


@contextlib.contextmanager
def reporting(callback: Callable[[str], None]) -> Iterator[None]:
    """Within the block, :func:`report` passes its line to ``callback``."""
    token = _CALLBACK.set(callback)
    try:
        yield
    finally:
        _CALLBACK.reset(token)


def report(line: str) -> None:
    callback = _CALLBACK.get()
    if callback is not None:
        callback(line)

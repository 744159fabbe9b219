"""The backends' notices in words: with the command line's flag names (``--gap``, ``--jobs 2``,
``--no-decompose``) for the CLI's console, Markdown and JSON, or with the names of the
:class:`~optimizer.backends.base.SolveOptions` fields (``gap``, ``workers=2``,
``decompose=False``) for library users. The backends only say which option a notice concerns.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from optimizer.backends.base import Notice, option_words
from optimizer.errors import UsageError

# SolveOptions field -> the `eastwest solve` flag that sets it (a test checks both sides)
CLI_FLAGS = {
    "backend": "--backend", "solver": "--solver", "time_limit": "--time-limit", "gap": "--gap",
    "threads": "--threads", "log": "--log", "decompose": "--decompose", "workers": "--jobs",
    "prune": "--prune",
}


def flag_words(option: str, value: Any) -> str:
    """An option as the command line writes it: ``--gap``, ``--jobs 2``, ``--no-decompose``."""
    flag = CLI_FLAGS.get(option)
    if flag is None:
        return option_words(option, value)
    if isinstance(value, bool):
        return flag if value else "--no-" + flag.removeprefix("--")
    return flag if value is None else f"{flag} {value}"


def word_notices(notices: Iterable[Notice], flags: bool) -> list[str]:
    """Each notice as a sentence: options named by their CLI flags (``flags``) or by their
    SolveOptions names."""
    name = flag_words if flags else option_words
    return [notice.words(name) for notice in notices]


def word_error(exc: UsageError, flags: bool) -> str:
    """A usage error's message, worded like the notices where it carries one."""
    notice = exc.notice
    return word_notices([notice], flags)[0] if isinstance(notice, Notice) else str(exc)

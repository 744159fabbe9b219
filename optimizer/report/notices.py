"""The backends' notices in words, with a reader's names for the options: by default the names
of the :class:`~optimizer.backends.base.SolveOptions` fields (``gap``, ``workers=2``,
``decompose=False``) for library users; the CLI passes its flag names (``--jobs 2``,
``--no-decompose``: :func:`optimizer.cli.common.flag_words`). The backends only say which option
a notice concerns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from optimizer.backends.base import Notice, option_words
from optimizer.errors import UsageError

OptionNamer = Callable[[str, Any], str]
"""(SolveOptions field, value) -> how the reader writes that option."""


def word_notices(notices: Iterable[Notice], name: OptionNamer = option_words) -> list[str]:
    """Each notice as a sentence, its options named by ``name``."""
    return [notice.words(name) for notice in notices]


def word_error(exc: UsageError, name: OptionNamer = option_words) -> str:
    """A usage error's message, worded like the notices where it carries one."""
    notice = exc.notice
    return word_notices([notice], name)[0] if isinstance(notice, Notice) else str(exc)

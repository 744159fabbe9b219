"""Problems found in input, collected rather than raised one at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """``("sites", 3, "pue")`` -> ``"sites[3].pue"``; a key that is empty or not printable (a
    line break, a terminal escape) is shown quoted and escaped: ``profiles['a\\x1b[31m']``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not part or not part.isprintable():
            out += f"[{part!r}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def printable(text: str) -> str:
    """``text`` with every character that is not printable escaped (``\\x1b``, ``\\n``)."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_MISSING = object()


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in an instance, located as precisely as we can."""

    message: str
    path: Path = ()
    file: str = "<instance>"
    line: int | None = None
    value: Any = _MISSING
    severity: Literal["error", "warning"] = "error"

    @property
    def field(self) -> str:
        return format_path(self.path) or "(document)"

    def format(self) -> str:
        """``FILE:LINE  FIELD.PATH  MESSAGE  (VALUE)``, printable: a control character or
        terminal escape from the input (in a file name, a message quoting the input) is shown
        escaped, never raw."""
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}  {self.field}  {self.message}"
        if self.value is not _MISSING:
            shown = repr(self.value)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            text += f"  ({shown})"
        return printable(text)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "severity": self.severity,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "message": self.message,
        }
        if self.value is not _MISSING:
            out["value"] = repr(self.value)
        return out


class InstanceError(Exception):
    """Raised with every problem found at once; the CLI turns it into exit code 2."""

    def __init__(self, problems: Sequence[Problem], source: str | None = None):
        self.problems = [p for p in problems if p.severity == "error"]
        self.warnings = [p for p in problems if p.severity == "warning"]
        # the input the problems are in as a reader names it (a file, "the national
        # instance", "--vary"), where the raiser knows it: the CLI's closing line names it
        self.source = source
        super().__init__("\n".join(p.format() for p in self.problems))


@contextmanager
def naming(source: str) -> Iterator[None]:
    """An :class:`InstanceError` raised inside names ``source`` as its input (unless it
    already names one)."""
    try:
        yield
    except InstanceError as exc:
        if exc.source is None:
            exc.source = source
        raise


class UsageError(Exception):
    """Bad options or combinations on the command line or in the API (exit code 2)."""

    def __init__(self, message: str, notice: Any = None, notices: Sequence[Any] = ()) -> None:
        super().__init__(message)
        # the structured form (optimizer.backends.base.Notice), for a caller to word the
        # options in its own terms (the CLI names its flags): ``notices`` every option
        # refused, ``notice`` the first; None and empty for a plain message
        self.notices = list(notices) if notices else ([] if notice is None else [notice])
        self.notice = notice if notice is not None else next(iter(self.notices), None)

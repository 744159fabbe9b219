"""Where a command may write: all of its output paths checked at once, before any work.

An output is a file (``--json``, ``--report``, ``-o``) or a folder that named files are written
into (``--csv``, ``--plots``, a study's ``--out``). :func:`output_problems` says, for every
output at once, why it could not be written or would replace what is not ours: an empty path;
a folder where a file goes, or a file where a folder goes; a block device or a socket; a
read-only file; a parent that is not a folder or not writable; an input of the run (the
instance, a study or suite file: compared by file identity, so that another spelling, a symlink
or a hard link to it is caught too); two outputs that are one file. Character devices and FIFOs
are fine: :func:`~optimizer.report.files.write_atomic` writes through them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from optimizer.errors import printable

Identity = tuple[int, int] | str


@dataclass(frozen=True)
class Output:
    """One place a command writes to."""

    option: str
    """How the user named it: ``--json``, ``-o``; or what it is: ``the solver log``."""
    path: str | Path
    folder: bool = False
    """A folder that the files ``names`` and the folders ``folders`` (and maybe other files)
    are written into."""
    names: tuple[str, ...] = ()
    folders: tuple[str, ...] = ()


def stat_or_none(path: str | Path) -> os.stat_result | None:
    """``os.stat(path)`` (symlinks followed), or None when nothing is there."""
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def writes_through(path: str | Path, st: os.stat_result | None = None) -> bool:
    """Whether :func:`~optimizer.report.files.write_atomic` writes through ``path`` (``st``
    its stat if known) rather than replacing a file there: a character device, a FIFO, or
    this process's stdout or stderr (``/dev/stdout`` when stdout is a file)."""
    if st is None:
        try:
            st = stat_or_none(path)
        except OSError:
            return False
    return st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode)
                               or std_stream(st) is not None)


def names_stdout(path: str | Path) -> bool:
    """Whether ``path`` is this process's stdout (``/dev/stdout``, ``/proc/self/fd/1``, the
    file stdout is redirected to)."""
    try:
        st = stat_or_none(path)
    except OSError:
        return False
    return st is not None and std_stream(st) == 1


def std_stream(st: os.stat_result) -> int | None:
    """1 or 2 when ``st`` is this process's stdout or stderr, else None."""
    for fd in (1, 2):
        with contextlib.suppress(OSError):
            if os.path.samestat(st, os.fstat(fd)):
                return fd
    return None


def user_log_folder() -> Path:
    """Where the solver log and ``run.json`` of a run that asks for no output file go: the
    user's cache (``$XDG_CACHE_HOME/eastwest/logs``, by default ``~/.cache/eastwest/logs``, on
    Linux; the platform's cache folder elsewhere)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("eastwest", appauthor=False)) / "logs"


def safe_name(name: str) -> str:
    """``name`` as a file name: each character not a letter, digit, ``-``, ``_`` or ``.`` as
    ``_`` (``instance`` for an empty one)."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "instance"


def shown(path: str | Path) -> str:
    """A path as a message shows it: ``''`` when empty, escaped where not printable."""
    text = str(path)
    return printable(text) if text else "''"


def output_problems(outputs: Iterable[Output],
                    inputs: Iterable[tuple[str, str | Path]] = ()) -> list[str]:
    """Every reason one of ``outputs`` cannot be written, each naming its option and path.
    ``inputs`` are the run's input files, each with what it is (``the instance file``)."""
    known = []
    for label, path in inputs:
        try:
            st = stat_or_none(path)
        except OSError:
            continue
        if st is not None:
            known.append((f"{label} ({shown(path)})", st))
    problems: list[str] = []
    seen: dict[Identity, str] = {}
    for out in outputs:
        prefix = f"{out.option} {shown(out.path)}: "
        if str(out.path) == "":
            problems.append(prefix + "the path is empty")
        elif out.folder:
            problems += [prefix + p for p in _folder_output(out, known, seen)]
        else:
            problem = _file(Path(out.path), known) or _twice(out.path, out.option, seen)
            if problem:
                problems.append(prefix + problem)
    return problems


def _folder_output(out: Output, known: Sequence[tuple[str, os.stat_result]],
                   seen: dict[Identity, str]) -> list[str]:
    folder = Path(out.path)
    try:
        st = stat_or_none(folder)
    except NotADirectoryError:
        st = None
    except OSError as exc:
        return [_unreachable(exc)]
    if st is None:
        problem = _creatable(Path(os.path.realpath(folder)))
        return [problem] if problem else []
    if (label := _input(st, known)) is not None:
        return [f"is {label}; an output never replaces an input"]
    if not stat.S_ISDIR(st.st_mode):
        return ["is not a folder"]
    if not os.access(folder, os.W_OK | os.X_OK):
        return ["is a folder that is not writable"]
    problems = []
    for name in out.names:
        problem = _file(folder / name, known) or _twice(folder / name, out.option, seen)
        if problem:
            problems.append(f"{shown(folder / name)} {problem}")
    for sub in out.folders:
        inner = _folder_output(Output(out.option, folder / sub, True), known, seen)
        problems += [f"{shown(folder / sub)} {problem}" for problem in inner]
    return problems


def _file(path: Path, known: Sequence[tuple[str, os.stat_result]]) -> str | None:
    """Why a file could not be written at ``path``, or None."""
    try:
        st = stat_or_none(path)
    except NotADirectoryError:
        st = None
    except OSError as exc:
        return _unreachable(exc)
    if st is not None:
        if (label := _input(st, known)) is not None:
            return f"is {label}; an output never replaces an input"
        if stat.S_ISDIR(st.st_mode):
            return "is a folder, not a file"
        if writes_through(path, st):
            return None
        if stat.S_ISBLK(st.st_mode):
            return "is a block device (eastwest writes files, character devices and FIFOs)"
        if not stat.S_ISREG(st.st_mode):
            return "is not a regular file, a character device or a FIFO"
        if not os.access(path, os.W_OK):
            return "is a read-only file"
    return _creatable(Path(os.path.realpath(path)).parent)


def _creatable(folder: Path) -> str | None:
    """Why files cannot be created in ``folder`` (absolute; created with its parents if
    missing), or None."""
    probe = folder
    while True:
        try:
            st = os.stat(probe)
            break
        except (FileNotFoundError, NotADirectoryError):
            if probe.parent == probe:
                return f"{shown(probe)} does not exist"
            probe = probe.parent
        except OSError as exc:
            return f"{shown(probe)} {_unreachable(exc)}"
    if not stat.S_ISDIR(st.st_mode):
        return f"{shown(probe)} is not a folder"
    if not os.access(probe, os.W_OK | os.X_OK):
        return f"the folder {shown(probe)} is not writable"
    return None


def _input(st: os.stat_result, known: Sequence[tuple[str, os.stat_result]]) -> str | None:
    return next((label for label, other in known if os.path.samestat(st, other)), None)


def _twice(path: str | Path, option: str, seen: dict[Identity, str]) -> str | None:
    """Whether another output already writes to ``path`` (streams may be shared)."""
    if writes_through(path):
        return None
    try:
        st = stat_or_none(path)
    except OSError:
        st = None
    key: Identity = (st.st_dev, st.st_ino) if st is not None else os.path.realpath(path)
    if key in seen:
        return f"is also written by {seen[key]}"
    seen[key] = option
    return None


def written_error(exc: OSError) -> str:
    """A write that failed after the checks (a disk filled, a reader gone), worded: its file
    and why, no errno number."""
    what = shown(exc.filename) if exc.filename else "an output"
    return f"cannot write {what}: {(exc.strerror or str(exc)).lower()}"


def _unreachable(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a loop of symbolic links"
    if exc.errno == errno.EACCES:
        return "cannot be reached (permission denied)"
    if exc.errno == errno.ENAMETOOLONG:
        return "is too long a name"
    return f"cannot be used ({(exc.strerror or 'unknown error').lower()})"

"""Reading YAML: the core schema only, bounded, with the line of every value.

``read_yaml`` walks the event stream of PyYAML's safe parser (libyaml's where PyYAML was built
with it) and builds plain Python objects, recording the line of every node by its path, so that
any later problem (pydantic or semantic) can be reported as ``file:line  field.path``.

What it accepts, and what it refuses with the name of the problem and its line:

- Values are read with the YAML 1.2 core schema: null (``~``, ``null``, empty), booleans
  (``true`` / ``false`` in three spellings), integers (decimal, ``0o`` octal, ``0x`` hex),
  floats (``1.5``, ``1e5``, ``.inf``, ``.nan``) and strings; nothing else (``yes``, dates,
  ``1_000`` and sexagesimal ``1:30`` are strings).
- Tags are refused, every one, explicit or not, on scalars, lists and mappings: ``!!str``,
  ``!!binary``, ``!!timestamp``, ``!!python/object``, ``!foo``, the non-specific ``!`` (quote a
  value to make it a string).
- Duplicate keys, merge keys (``<<``), keys that are not plain scalars, more than one document.
- Bounds: :data:`MAX_BYTES` of text, :data:`MAX_DEPTH` levels of nesting, and at most
  :func:`max_nodes` nodes once aliases are expanded (in proportion to the text: an alias bomb is
  refused as soon as it passes the bound, before it is expanded further); aliases to an anchor
  still open (recursive) or never defined, and anchors defined twice.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path as FsPath
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from optimizer.errors import InstanceError, Path, Problem

LineMap = dict[Path, int]

MAX_BYTES = 64 * 2**20
"""The largest input read (bytes of a file, characters of a text): 64 MiB, 200 times the
largest generated instance; a larger file is refused before it is read."""
MAX_DEPTH = 100
"""Levels of nesting (an instance needs 6)."""
NODES_BASE = 100_000
NODES_PER_CHAR = 10
"""Aliases may expand a text of n characters to ``NODES_BASE + NODES_PER_CHAR * n`` nodes."""


def max_nodes(chars: int) -> int:
    """The most nodes a text of ``chars`` characters may expand to through aliases."""
    return NODES_BASE + NODES_PER_CHAR * chars


# libyaml's parser (C) where PyYAML was built with it: the same events, 4x faster.
_Parser: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = re.compile(r"true|True|TRUE|false|False|FALSE")
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
                    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


def core_scalar(value: str, plain: bool) -> Any:
    """A scalar's value by the YAML 1.2 core schema (a quoted scalar is always a string)."""
    if not plain:
        return value
    if _NULL.fullmatch(value):
        return None
    if _BOOL.fullmatch(value):
        return value[0] in "tT"
    if _INT.fullmatch(value):
        base = {"0o": 8, "0x": 16}.get(value[:2], 10)
        return int(value[2:] if base != 10 else value, base)
    if _FLOAT.fullmatch(value):
        return float(value.replace(".inf", "inf").replace(".Inf", "inf").replace(".INF", "inf")
                     .replace(".nan", "nan").replace(".NaN", "nan").replace(".NAN", "nan"))
    return value


def _shown_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org,") \
        else tag


def _line(event: Event) -> int:
    mark = event.start_mark  # the parser marks every event
    return mark.line + 1 if mark is not None else 1


class _Stop(Exception):
    """A problem after which reading cannot go on (carried to :func:`read_yaml`)."""

    def __init__(self, problem: Problem):
        self.problem = problem


class _Builder:
    """Plain objects from the event stream, one node at a time (depth-first)."""

    def __init__(self, events: Iterator[Event], file: str, limit: int):
        self.events, self.file, self.limit = events, file, limit
        self.lines: LineMap = {}
        self.problems: list[Problem] = []
        self.nodes = 0
        self.anchors: dict[str, tuple[Any, int]] = {}  # name -> (value, nodes)
        self.open: set[str] = set()  # anchors whose node is still being read

    def problem(self, message: str, path: Path, event: Event) -> None:
        self.problems.append(Problem(message, path, self.file, _line(event)))

    def stop(self, message: str, path: Path, event: Event) -> _Stop:
        return _Stop(Problem(message, path, self.file, _line(event)))

    def build(self, event: Event, path: Path, depth: int) -> Any:
        self.lines[path] = _line(event)
        if isinstance(event, AliasEvent):
            return self._alias(event, path)
        tag = getattr(event, "tag", None)
        if tag is not None:
            self.problem(f"YAML tags are not allowed: {_shown_tag(tag)} (the core schema "
                         "only: plain values, quoted strings, lists and mappings)", path, event)
        anchor, start = getattr(event, "anchor", None), self.nodes
        if anchor is not None:
            if anchor in self.anchors or anchor in self.open:
                self.problem(f"the anchor &{anchor} is defined twice", path, event)
            self.open.add(anchor)
        self.nodes += 1
        if isinstance(event, ScalarEvent):
            value = self._scalar(event, path)
        elif depth >= MAX_DEPTH:
            raise self.stop(f"nesting deeper than {MAX_DEPTH} levels", path[:4], event)
        elif isinstance(event, SequenceStartEvent):
            value = self._sequence(path, depth)
        elif isinstance(event, MappingStartEvent):
            value = self._mapping(path, depth)
        else:
            raise self.stop(f"unexpected YAML event {type(event).__name__}", path, event)
        if anchor is not None:
            self.open.discard(anchor)
            self.anchors[anchor] = (value, self.nodes - start)
        return value

    def _scalar(self, event: ScalarEvent, path: Path) -> Any:
        try:
            return core_scalar(event.value, event.implicit[0] and event.tag is None)
        except ValueError:  # an integer of more than 4300 digits
            self.problem(f"cannot read the number {event.value[:30]}...", path, event)
            return None

    def _alias(self, event: AliasEvent, path: Path) -> Any:
        name = event.anchor
        if name in self.open:
            raise self.stop(f"recursive alias *{name} (inside the node it names)", path, event)
        if name not in self.anchors:
            self.problem(f"unknown alias *{name} (no anchor &{name} before it)", path, event)
            return None
        value, size = self.anchors[name]
        self.nodes += size
        if self.nodes > self.limit:
            raise self.stop(f"aliases expand the document beyond {self.limit:,} nodes (the "
                            "limit for a text of this length): an alias bomb?", path, event)
        return _copy(value)

    def _sequence(self, path: Path, depth: int) -> list[Any]:
        out: list[Any] = []
        while not isinstance(event := next(self.events), SequenceEndEvent):
            out.append(self.build(event, (*path, len(out)), depth + 1))
        return out

    def _mapping(self, path: Path, depth: int) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        while not isinstance(key_event := next(self.events), MappingEndEvent):
            key = self.build(key_event, (*path, "<key>"), depth + 1)
            value_event = next(self.events)
            line = _line(key_event)
            child: Path = (*path, str(key))
            refused = self._key_problem(key, out, child)
            if refused:
                self.problems.append(Problem(refused[0], refused[1], self.file, line))
                self.build(value_event, (*path, "<value>"), depth + 1)
                continue
            out[key] = self.build(value_event, child, depth + 1)
            self.lines[child] = line  # a field's line is its key's
        for part in ("<key>", "<value>"):
            self.lines.pop((*path, part), None)
        return out

    def _key_problem(self, key: Any, out: dict[Any, Any], child: Path) -> tuple[str, Path] | None:
        if not isinstance(key, str | int | float | bool):
            return "mapping keys must be plain scalars", child[:-1]
        if key == "<<":
            return "YAML merge keys (<<) are not supported", child[:-1]
        if key in out:
            return f"duplicate key {key!r} (first at line {self.lines[child]})", child
        return None


def _copy(value: Any) -> Any:
    """A copy of nested lists and dicts (scalars are immutable and shared)."""
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value


def _document(builder: _Builder, events: Iterator[Event], file: str) -> Any:
    next(events)  # StreamStart
    first = next(events)
    if isinstance(first, StreamEndEvent):
        raise InstanceError([Problem("the file is empty", (), file, 1)])
    data = builder.build(next(events), (), 0)
    next(events)  # DocumentEnd
    after = next(events)
    if isinstance(after, DocumentStartEvent):
        raise InstanceError([Problem("more than one YAML document (a second '---'): an "
                                     "instance is one document", (), file,
                                     _line(after))])
    return data


def read_yaml(text: str, file: str = "<instance>") -> tuple[Any, LineMap]:
    """Parse ``text``; return the data and the line of every path. Raises InstanceError."""
    if len(text) > MAX_BYTES:
        raise InstanceError([Problem(f"the text is longer than the limit of "
                                     f"{MAX_BYTES // 2**20} MiB", (), file)])
    events = yaml.parse(text, Loader=_Parser)
    builder = _Builder(events, file, max_nodes(len(text)))
    try:
        data = _document(builder, events, file)
    except _Stop as exc:
        raise InstanceError([*builder.problems, exc.problem]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        raise InstanceError([Problem(f"invalid YAML: {message}", (), file, line)]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a NUL, ...)
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
        raise InstanceError([Problem(f"invalid YAML: {exc.reason} (U+{char:04X})", (), file,
                                     line)]) from None
    except yaml.YAMLError as exc:
        raise InstanceError([Problem(f"invalid YAML: {exc}", (), file, None)]) from None
    if builder.problems:
        raise InstanceError(builder.problems)
    return data, builder.lines


def read_bytes(path: str | os.PathLike[str], file: str | None = None, what: str = "file") -> bytes:
    """The bytes of a file (an instance, a suite, a study, a benchmark file: ``what``), at most
    :data:`MAX_BYTES` of them: a regular file that is longer is refused unread, a device such as
    ``/dev/zero`` after reading that much. Raises InstanceError."""
    name = str(path) if file is None else file
    try:
        with FsPath(path).open("rb") as f:
            info = os.fstat(f.fileno())
            too_long = stat.S_ISREG(info.st_mode) and info.st_size > MAX_BYTES
            raw = b"" if too_long else f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InstanceError([Problem(f"cannot read the {what}: {exc.strerror or exc}", (),
                                     name)]) from None
    if too_long or len(raw) > MAX_BYTES:
        raise InstanceError([Problem(f"the {what} is larger than the limit of "
                                     f"{MAX_BYTES // 2**20} MiB", (), name)])
    return raw


def read_text(path: str | os.PathLike[str], file: str | None = None, what: str = "file") -> str:
    """The UTF-8 text of a file (:func:`read_bytes`). Raises InstanceError, naming the line of
    the first byte that is not UTF-8."""
    raw = read_bytes(path, file, what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InstanceError([Problem(f"not UTF-8 text: byte 0x{raw[exc.start]:02x} "
                                     f"({exc.reason})", (), str(path) if file is None else file,
                                     line)]) from None


def read_yaml_file(path: str | os.PathLike[str], what: str) -> tuple[Any, LineMap]:
    """:func:`read_yaml` of a file (a suite, a study: ``what``), bounded, its read errors as
    problems."""
    return read_yaml(read_text(path, what=what), str(path))


_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _CoreDumper(_Dumper):  # type: ignore[valid-type,misc]
    """PyYAML's safe dumper, quoting every string the core schema would read as something else
    (``0o17``, ``0x1F``, ``1e5``: YAML 1.1 leaves them plain)."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None if isinstance(core_scalar(value, plain=True), str) and value else "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_CoreDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """``data`` as YAML that :func:`read_yaml` reads back as ``data`` (block style for nested
    mappings, flow style for the innermost lists and mappings, 100 columns)."""
    return yaml.dump(data, Dumper=_CoreDumper, sort_keys=False, default_flow_style=None,
                     width=100, allow_unicode=True)


def line_of(lines: LineMap, path: Path) -> int | None:
    """The line of ``path``, or of its longest recorded prefix."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None

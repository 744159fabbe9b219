"""Stage 1: instance file -> validated, typed :class:`Document`.

YAML (core schema, bounded, line numbers, no duplicate keys: :mod:`optimizer.yamlio`) ->
pydantic shape and ranges -> semantic pass.
Every problem is collected and raised at once as :class:`~optimizer.errors.InstanceError`.
"""

from __future__ import annotations

import copy
import hashlib
import sys
import types
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from optimizer.errors import InstanceError, Path, Problem
from optimizer.overrides import apply_all, apply_scenarios, scenario_entries, set_by
from optimizer.schema import SCHEMA_VERSION, Instance
from optimizer.validate import count_guard, semantic_problems
from optimizer.yamlio import LineMap, line_of, read_text, read_yaml

DEFAULT_INSTANCE = "china-national.yaml"

_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "model_type": "expected a mapping of fields",
    "model_attributes_type": "expected a mapping of fields",
    "dict_type": "expected a mapping",
    "list_type": "expected a list",
    "finite_number": "expected a finite number (not .nan or .inf)",
}


@dataclass(frozen=True)
class Document:
    """A validated instance with where it came from (for error messages and ``run.json``)."""

    instance: Instance
    file: str = "<instance>"
    lines: LineMap = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()
    sha256: str = ""
    overrides: tuple[str, ...] = ()  # applied in this order (scenarios' first, then --set)

    def line(self, path: Path) -> int | None:
        return line_of(self.lines, path)


def default_instance_text() -> tuple[str, str]:
    """The national instance shipped with the package: (display name, text)."""
    ref = resources.files("optimizer.data").joinpath(DEFAULT_INSTANCE)
    return f"<package>/{DEFAULT_INSTANCE}", ref.read_text(encoding="utf-8")


def load(path: str | FsPath | None = None, overrides: Sequence[str] = (),
         scenarios: Sequence[str] = ()) -> Document:
    """Load and validate an instance file (the shipped national instance when ``path`` is None),
    after applying the named scenarios' overrides and then ``overrides`` (``PATH=VALUE``)."""
    if path is None:
        name, text = default_instance_text()
        return parse_text(text, name, overrides, scenarios)
    name = str(path)
    return parse_text(read_text(path, name), name, overrides, scenarios)


def parse_text(text: str, file: str = "<instance>", overrides: Sequence[str] = (),
               scenarios: Sequence[str] = ()) -> Document:
    data, lines = read_yaml(text, file)
    entries = scenario_entries(data, scenarios)
    applied = [*(t for t, _ in entries), *overrides]
    original = data
    data = apply_all(apply_scenarios(data, entries, file, lines), overrides)
    try:
        document = parse(data, file, lines, sha256=hashlib.sha256(text.encode()).hexdigest())
    except InstanceError as exc:
        if not applied:
            raise
        origin = {t: "--set" for t in overrides}
        origin.update({t: f"scenario {path[1]!r}" for t, path in reversed(entries)})
        raise InstanceError(_blame([*exc.problems, *exc.warnings],
                                   set_by(original, applied), origin)) from None
    return replace(document, overrides=tuple(applied))


def _blame(problems: list[Problem], setters: dict[Path, str],
           origin: dict[str, str]) -> list[Problem]:
    """Problems in a value an override set say so: the file's line shows the old value."""
    out = []
    for p in problems:
        owner = next((setters[p.path[:n]] for n in range(len(p.path), 0, -1)
                      if p.path[:n] in setters), None)
        out.append(p if owner is None else
                   replace(p, message=f"{p.message} [set by {origin[owner]} {owner}]"))
    return out


def parse(
    data: Any, file: str = "<instance>", lines: LineMap | None = None, sha256: str = ""
) -> Document:
    """Validate already-parsed data (a dict as YAML would give it)."""
    lines = lines or {}
    if not isinstance(data, dict):
        raise InstanceError([Problem("an instance must be a mapping of fields", (), file, 1)])
    try:
        instance = Instance.model_validate(data)
    except ValidationError as exc:
        shape = _pydantic_problems(exc, data, file, lines)
        raise InstanceError(shape + _semantic_despite(shape, data, file, lines)) from None
    too_big = count_guard(instance, file, lines)  # before any series is expanded
    if too_big:
        raise InstanceError(too_big)
    problems = semantic_problems(instance, file, lines)
    if any(p.severity == "error" for p in problems):
        raise InstanceError(problems)
    if not sha256:
        import json

        text = json.dumps(data, sort_keys=True, default=str)
        sha256 = hashlib.sha256(text.encode()).hexdigest()
    return Document(instance, file, lines, tuple(problems), sha256)


def _pydantic_problems(
    exc: ValidationError, data: Any, file: str, lines: LineMap
) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc, of_key = err["loc"], err["loc"][-1:] == ("[key]",)  # a mapping key's own error
        path = _data_path(loc[:-1] if of_key else loc, data)
        message = _MESSAGES.get(err["type"], err["msg"])
        message = ("the key: " if of_key else "") + message.removeprefix("Value error, ")
        kwargs: dict[str, Any] = {}
        if err["type"] not in ("missing",) and not isinstance(err.get("input"), dict):
            kwargs["value"] = err.get("input")
        problems.append(Problem(message, path, file, line_of(lines, path), **kwargs))
    return problems


# where a shape error can be set aside by leaving one item out, for the semantic pass
_ITEMS: tuple[Path, ...] = (("regions",), ("sites",), ("classes",), ("profiles",),
                            ("network", "corridors"), ("network", "latency", "pairs"),
                            ("network", "transfer", "pairs"))


def _semantic_despite(shape: list[Problem], data: dict[str, Any], file: str,
                      lines: LineMap) -> list[Problem]:
    """The semantic errors of the rest of the file, so that one run lists every problem.

    What has shape errors is set aside (:func:`_set_aside`) and the rest is validated again;
    the semantic pass then runs without the checks over the whole network, its paths and lines
    mapped back to the file, and without errors that only name a left-out item (``unknown site
    id 'x'`` when site x was left out). Where nothing can be set aside (a shape error in
    ``periods``: no series length can be checked), or the rest still fails, there is no
    semantic pass: the shape errors are all there is to report.
    """
    aside = _set_aside(shape, data)
    if aside is None:
        return []
    kept, kept_index, left_out = aside
    try:
        rest = Instance.model_validate(kept)
    except ValidationError:
        return []

    new_index = {p: {old: new for new, old in enumerate(ix)} for p, ix in kept_index.items()}

    def moved(path: Path, to_new: bool) -> Path | None:
        for prefix, index in kept_index.items():
            n = len(prefix)
            at = path[n] if len(path) > n else None
            if path[:n] == prefix and isinstance(at, int):
                if to_new:
                    new = new_index[prefix].get(at)
                    return None if new is None else (*prefix, new, *path[n + 1:])
                return (*prefix, index[at], *path[n + 1:])
        return path

    rest_lines = {new: ln for old, ln in lines.items()
                  if (new := moved(old, to_new=True)) is not None}
    too_big = count_guard(rest, file, rest_lines)
    if too_big:
        return too_big
    out = []
    for p in semantic_problems(rest, file, rest_lines, complete=False):
        if p.severity != "error" or (isinstance(p.value, str) and p.value in left_out):
            continue
        out.append(replace(p, path=moved(p.path, to_new=False) or p.path))
    return out


# a field that may be left out of the semantic pass (its default then stands in), unless it is
# one of these: what the rest cannot be checked without
_NEEDED: tuple[Path, ...] = (("periods",), ("regions",), ("sites",), ("classes",),
                             ("profiles",))


def _set_aside(shape: list[Problem], data: dict[str, Any]
               ) -> tuple[dict[str, Any], dict[Path, list[int]], set[Any]] | None:
    """A copy of ``data`` without what has shape errors: the item holding the error (a region,
    a site, a class, a profile, a corridor, a pair: ``_ITEMS``), else the field (``policy``'s
    bad ``carbon_price``, an unknown top-level key, a ``policy`` that is not a mapping; a bad
    ``version`` becomes 1). Returns (the copy, per list the file's index of each item kept, the
    ids left out), or None where a needed field (``_NEEDED``) is broken."""
    drop: dict[Path, set[str | int]] = {}
    fields: set[Path] = set()
    for problem in shape:
        prefix = next((p for p in _ITEMS if problem.path[:len(p)] == p
                       and len(problem.path) > len(p)), None)
        if prefix is not None:
            drop.setdefault(prefix, set()).add(problem.path[len(prefix)])
            continue
        field = _field_of(problem.path, data)
        if field is None or any(field[:len(n)] == n for n in _NEEDED):
            return None
        fields.add(field)
    kept: Any = copy.deepcopy(data)
    for field in fields:
        parent = kept
        for part in field[:-1]:
            parent = parent[part]
        if field == ("version",):
            parent["version"] = SCHEMA_VERSION
        else:
            parent.pop(field[-1], None)
    return _drop_items(kept, drop)


def _drop_items(kept: Any, drop: dict[Path, set[str | int]]
                ) -> tuple[dict[str, Any], dict[Path, list[int]], set[Any]] | None:
    kept_index: dict[Path, list[int]] = {}  # per list: new index -> index in the file
    left_out: set[Any] = set()
    for prefix, keys in drop.items():
        parent: Any = kept
        for part in prefix[:-1]:
            parent = parent.get(part) if isinstance(parent, dict) else None
        container = parent.get(prefix[-1]) if isinstance(parent, dict) else None
        if isinstance(container, list):
            kept_index[prefix] = [i for i in range(len(container)) if i not in keys]
            left_out |= {item.get("id") for i, item in enumerate(container)
                         if i in keys and isinstance(item, dict)}
            parent[prefix[-1]] = [container[i] for i in kept_index[prefix]]
        elif isinstance(container, dict):
            left_out |= keys
            parent[prefix[-1]] = {k: v for k, v in container.items() if k not in keys}
        else:
            return None
    return kept, kept_index, left_out


def _field_of(path: Path, data: Any) -> Path | None:
    """The longest prefix of ``path`` that is a key of a mapping in ``data`` (the field to
    leave out), or None (an error at the document, or no mapping on the way)."""
    node, end = data, 0
    for n, part in enumerate(path):
        if not isinstance(node, dict) or part not in node:
            break
        node, end = node[part], n + 1
    return path[:end] if end else (path[:1] if path and isinstance(data, dict) else None)


def _data_path(loc: tuple[Any, ...], data: Any) -> Path:
    """Map a pydantic location onto the data: drop union tags that are not keys of the data."""
    path: list[str | int] = []
    node = data
    for n, part in enumerate(loc):
        if isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            continue  # a union member's tag (schema.py names them <...>)
        last = n == len(loc) - 1
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif not last:
            continue  # a union member's tag, e.g. 'list' or 'profile'
        else:
            node = None
        path.append(part)
    return tuple(path)


class _CallableModule(types.ModuleType):
    """``optimizer.load`` is this module and, in the library, the function
    :func:`optimizer.api.load`: once this module is imported, the package's ``load`` attribute
    is the module (Python sets it), so calling the module calls the library's function."""

    def __call__(self, path: str | FsPath | None = None, set: Sequence[str] = (),  # noqa: A002
                 scenarios: Sequence[str] = ()) -> Document:
        return load(path, overrides=set, scenarios=scenarios)


sys.modules[__name__].__class__ = _CallableModule

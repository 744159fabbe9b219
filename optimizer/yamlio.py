"""YAML reading with line numbers and duplicate-key rejection (safe loader only).

``read_yaml`` composes the node tree with PyYAML's safe loader and builds plain Python objects
from it, recording the line of every node by its path, so that any later problem (pydantic or
semantic) can be reported as ``file:line  field.path``.
"""

from __future__ import annotations

import re
from os import PathLike
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from optimizer.errors import InstanceError, Path, Problem

LineMap = dict[Path, int]


# libyaml's parser (C) where PyYAML was built with it: composing the generated large instance
# (280 kB) takes 0.14 s instead of 0.58 s. Same safe resolver, same nodes and marks.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """The safe loader, also reading YAML 1.2 floats such as ``1e5`` and ``1.0e5`` as numbers
    (YAML 1.1, PyYAML's default, reads them as strings)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.lines: LineMap = {}
        self.problems: list[Problem] = []
        self._scalar = SafeConstructor()

    def build(self, node: Node, path: Path) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    self.problems.append(
                        Problem("YAML merge keys (<<) are not supported", path, self.file,
                                key_node.start_mark.line + 1)
                    )
                    continue
                key = self.build(key_node, (*path, "<key>"))
                if not isinstance(key, str | int | float | bool) or key is None:
                    self.problems.append(
                        Problem("mapping keys must be plain scalars", path, self.file,
                                key_node.start_mark.line + 1)
                    )
                    continue
                if key == "<<":
                    self.problems.append(
                        Problem("YAML merge keys (<<) are not supported", path, self.file,
                                key_node.start_mark.line + 1)
                    )
                    continue
                child: Path = (*path, str(key))
                if key in out:
                    self.problems.append(
                        Problem(f"duplicate key {key!r} (first at line {self.lines[child]})",
                                child, self.file, key_node.start_mark.line + 1)
                    )
                    continue
                out[key] = self.build(value_node, child)
                self.lines[child] = key_node.start_mark.line + 1  # a field's line is its key's
            self.lines.pop((*path, "<key>"), None)
            return out
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar.construct_object(node, deep=True)


def read_yaml(text: str, file: str = "<instance>") -> tuple[Any, LineMap]:
    """Parse ``text``; return the data and the line of every path. Raises InstanceError."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(s) for s in (exc.context, exc.problem) if s)
        raise InstanceError([Problem(f"invalid YAML: {message}", (), file, line)]) from None
    except yaml.YAMLError as exc:
        raise InstanceError([Problem(f"invalid YAML: {exc}", (), file, None)]) from None
    if node is None:
        raise InstanceError([Problem("the file is empty", (), file, 1)])
    size = _expanded_size(node, {})
    if size > MAX_NODES:
        raise InstanceError([Problem(
            f"the document expands to {size:,} nodes through YAML aliases (limit {MAX_NODES:,})",
            (), file, None)])
    builder = _Builder(file)
    data = builder.build(node, ())
    if builder.problems:
        raise InstanceError(builder.problems)
    return data, builder.lines


MAX_NODES = 20_000_000  # guards against alias bombs ("billion laughs")


def read_yaml_file(path: str | PathLike[str], what: str) -> tuple[Any, LineMap]:
    """:func:`read_yaml` of a file (a suite, a study: ``what``), its read errors as problems."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InstanceError([Problem(f"cannot read the {what}: {exc}", (), str(path))]) from None
    return read_yaml(text, str(path))


def _expanded_size(node: Node, memo: dict[int, int]) -> int:
    """Nodes in the document once aliases are expanded, computed without expanding them."""
    key = id(node)
    if key in memo:
        return memo[key]
    memo[key] = 1  # a recursive alias counts once
    if isinstance(node, MappingNode):
        size = 1 + sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, SequenceNode):
        size = 1 + sum(_expanded_size(v, memo) for v in node.value)
    else:
        size = 1
    memo[key] = size
    return size


def line_of(lines: LineMap, path: Path) -> int | None:
    """The line of ``path``, or of its longest recorded prefix."""
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None

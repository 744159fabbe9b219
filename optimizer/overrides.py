"""``--set PATH=VALUE`` and named scenarios: edits of the instance data before validation.

PATH addresses any field, with selectors for lists: an id (``sites[zhongwei].price``), an index
(``sites[0].pue``) or ``*`` for every element (``regions[*].demand.training``). ``PATH=VALUE``
sets; ``PATH*=K`` multiplies a number, every number of a list, or a profile series' ``mean`` /
``max``; an integer times a factor stays an integer where the product is whole
(``periods.count*=2``), and an integer field refuses a product that is not. VALUE is parsed as
YAML by the same reader as files (core schema, no tags), never evaluated as code. The edited data
is validated exactly like a file, so a bad override fails with its path; a bad override in a
scenario is reported at its entry in the instance file (``scenarios.NAME[i]``).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from optimizer.errors import InstanceError, Path, Problem
from optimizer.yamlio import LineMap, line_of, read_yaml

_PART = re.compile(r"([A-Za-z_][\w-]*)((?:\[[^\]]*\])*)")
_SELECTOR = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True)
class Override:
    text: str
    path: tuple[tuple[str, tuple[str, ...]], ...]  # (key, selectors) per dotted part
    op: str  # "=" or "*="
    value: Any


def _error(text: str, message: str, where: str = "--set") -> InstanceError:
    return InstanceError([Problem(message, (text.strip(),), where)])


def parse_override(text: str) -> Override:
    m = re.match(r"^(?P<path>[^=]+?)(?P<op>\*=|=)(?P<value>.*)$", text.strip())
    if not m:
        raise _error(text, "expected PATH=VALUE or PATH*=FACTOR")
    parts = []
    for chunk in m.group("path").strip().split("."):
        pm = _PART.fullmatch(chunk.strip())
        if not pm:
            raise _error(text, f"cannot read the path part {chunk!r}")
        parts.append((pm.group(1), tuple(s.strip() for s in _SELECTOR.findall(pm.group(2)))))
    raw = m.group("value").strip()
    try:
        value, _ = read_yaml(raw if raw else "null", "--set")
    except InstanceError as exc:
        why = "; ".join(p.message for p in exc.problems)
        raise _error(text, f"cannot read the value {raw!r}: {why}") from None
    if m.group("op") == "*=" and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _error(text, f"*= needs a number, not {raw!r}")
    if m.group("op") == "*=" and not math.isfinite(value):
        raise _error(text, f"*= needs a finite number, not {raw!r}")
    return Override(text.strip(), tuple(parts), m.group("op"), value)


def _select(node: Any, selector: str, shown: str, text: str) -> list[int]:
    if not isinstance(node, list):
        raise _error(text, f"{shown} is not a list: [{selector}] does not apply")
    if selector == "*":
        return list(range(len(node)))
    if re.fullmatch(r"-?\d+", selector):
        i = int(selector)
        if not -len(node) <= i < len(node):
            raise _error(text, f"{shown} has {len(node)} elements: no [{i}]")
        return [i % len(node)]
    found = [i for i, item in enumerate(node)
             if isinstance(item, dict) and item.get("id") == selector]
    if not found:
        ids = [str(item.get("id")) for item in node if isinstance(item, dict)]
        raise _error(text, f"no element with id {selector!r} in {shown} "
                           f"(ids: {', '.join(ids[:12])})")
    return found


def _product(value: int | float, factor: int | float) -> int | float:
    """``value * factor``, an integer where ``value`` is one and the product is whole."""
    out = value * factor
    if isinstance(value, int) and isinstance(out, float) and out.is_integer():
        return int(out)
    return out


def _multiply(value: Any, factor: int | float, text: str) -> Any:
    if isinstance(value, bool) or value is None:
        raise _error(text, f"cannot multiply {value!r}")
    if isinstance(value, int | float):
        return _product(value, factor)
    if isinstance(value, list) and all(isinstance(v, int | float) and not isinstance(v, bool)
                                       for v in value):
        return [_product(v, factor) for v in value]
    if isinstance(value, dict) and "profile" in value and ("mean" in value or "max" in value):
        key = "mean" if "mean" in value else "max"
        return {**value, key: _multiply(value[key], factor, text)}
    raise _error(text, f"cannot multiply {value!r}: not a number or a series")


def _targets(root: dict[str, Any], override: Override) -> list[tuple[Any, Any, Path]]:
    """The (container, key, path in the instance) pairs ``override`` edits in ``root["_"]``."""
    text = override.text
    targets: list[tuple[Any, Any, Path]] = [(root, "_", ())]
    shown = ""
    for n, (key, selectors) in enumerate(override.path):
        last_part = n == len(override.path) - 1
        parent, shown = shown, f"{shown}.{key}" if shown else key
        nxt: list[tuple[Any, Any, Path]] = []
        for container, k, path in targets:
            node = container[k]
            if not isinstance(node, dict):
                raise _error(text, f"{parent or 'the instance'} is not a mapping")
            if key not in node and not (last_part and not selectors and override.op == "="):
                raise _error(text, f"no field {shown!r} in the instance")
            nxt.append((node, key, (*path, key)))  # (setting an absent optional field is allowed)
        for selector in selectors:
            nxt = [(container[k], i, (*path, i)) for container, k, path in nxt
                   for i in _select(container[k], selector, shown, text)]
            shown += f"[{selector}]"
        targets = nxt
    return targets


def apply(data: Any, override: Override) -> Any:
    """A copy of ``data`` with ``override`` applied."""
    root = {"_": copy.deepcopy(data)}
    for container, k, _ in _targets(root, override):
        if override.op == "=":
            container[k] = copy.deepcopy(override.value)
        else:
            container[k] = _multiply(container[k], override.value, override.text)
    return root["_"]


def apply_all(data: Any, texts: Iterable[str]) -> Any:
    for text in texts:
        data = apply(data, parse_override(text))
    return data


def set_by(data: Any, texts: Iterable[str]) -> dict[Path, str]:
    """The instance paths each override sets (applied in order; the last one wins)."""
    out: dict[Path, str] = {}
    for text in texts:
        override = parse_override(text)
        out.update({path: text for _, _, path in _targets({"_": data}, override)})
        data = apply(data, override)
    return out


def scenario_entries(data: Any, names: Iterable[str]) -> list[tuple[str, Path]]:
    """The overrides of the named scenarios, in order (defined under ``scenarios``), each with
    its path in the instance (``("scenarios", name, i)``)."""
    scenarios = data.get("scenarios") if isinstance(data, dict) else None
    scenarios = scenarios if isinstance(scenarios, dict) else {}
    out: list[tuple[str, Path]] = []
    for name in names:
        if name not in scenarios:
            known = ", ".join(scenarios) or "none"
            raise _error(name, f"unknown scenario (the instance defines: {known})",
                         "--scenario")
        steps = scenarios[name]
        if not isinstance(steps, list) or not all(isinstance(s, str) for s in steps):
            raise _error(name, "a scenario is a list of PATH=VALUE strings", "--scenario")
        out += [(text, ("scenarios", name, i)) for i, text in enumerate(steps)]
    return out


def scenario_overrides(data: Any, names: Iterable[str]) -> list[str]:
    """The overrides of the named scenarios, in order."""
    return [text for text, _ in scenario_entries(data, names)]


def apply_scenarios(data: Any, entries: Iterable[tuple[str, Path]], file: str,
                    lines: LineMap) -> Any:
    """``data`` with the scenario ``entries`` applied; an entry that cannot be applied is
    reported at its place in the instance file, not as a ``--set``."""
    for text, path in entries:
        try:
            data = apply(data, parse_override(text))
        except InstanceError as exc:
            raise InstanceError([replace(p, file=file, path=path, line=line_of(lines, path),
                                         message=f"{p.message} (in scenario {path[1]!r}: "
                                                 f"{text.strip()})")
                                 for p in exc.problems]) from None
    return data

"""The YAML reader's schema and bounds (optimizer/yamlio.py): core schema only, no tags,
bounded in characters, bytes, nesting and alias expansion, every refusal with its line."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

from optimizer import yamlio
from optimizer.errors import InstanceError
from optimizer.yamlio import (
    MAX_DEPTH,
    dump_yaml,
    max_nodes,
    read_text,
    read_yaml,
    read_yaml_file,
)


def refused(text: str) -> list[str]:
    with pytest.raises(InstanceError) as info:
        read_yaml(text, "f.yaml")
    return [p.format() for p in info.value.problems]


def alias_bomb(levels: int, width: int = 9) -> str:
    """``width ** levels`` leaves from a few hundred bytes ("billion laughs")."""
    lines = ["a0: &a0 [" + ",".join(['"lol"'] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]"
              for i in range(1, levels)]
    return "\n".join(lines) + "\n"


CORE = [
    ("~", None), ("null", None), ("NULL", None), ("", None),
    ("true", True), ("False", False), ("TRUE", True),
    ("12", 12), ("-3", -3), ("+4", 4), ("0o17", 15), ("0x1F", 31), ("012", 12),
    ("1.5", 1.5), ("1e5", 1e5), ("-1.0e-3", -1e-3), (".5", 0.5), ("1.", 1.0),
    (".inf", math.inf), ("-.Inf", -math.inf),
    # YAML 1.1 forms that the core schema reads as strings
    ("yes", "yes"), ("off", "off"), ("2001-12-14", "2001-12-14"), ("1_000", "1_000"),
    ("1:30", "1:30"), ("0b11", "0b11"), ("=", "="),
]


@pytest.mark.parametrize(("written", "value"), CORE, ids=[c[0] or "empty" for c in CORE])
def test_plain_scalars_follow_the_core_schema(written: str, value: object) -> None:
    assert read_yaml(f"x: {written}\n")[0] == {"x": value}


def test_nan_and_quoted_scalars() -> None:
    data = read_yaml('a: .nan\nb: "12"\nc: \'true\'\n')[0]
    assert math.isnan(data["a"])
    assert (data["b"], data["c"]) == ("12", "true")


TAGS = [
    ("scalar-python", "a: !!python/object/apply:os.system [echo hi]\n", "!!python/object/apply"),
    ("mapping-python", "a: !!python/object:collections.OrderedDict {b: 1}\n",
     "!!python/object:collections.OrderedDict"),
    ("sequence-python", "a: !!python/tuple [1, 2]\n", "!!python/tuple"),
    ("local", "a: !foo 1\n", "!foo"),
    ("local-mapping", "a: !foo {b: 1}\n", "!foo"),
    ("binary", "a: !!binary aGk=\n", "!!binary"),
    ("timestamp", "a: !!timestamp 2001-12-14\n", "!!timestamp"),
    ("str", "a: !!str 1\n", "!!str"),
    ("non-specific", "a: ! 1\n", "tags are not allowed: !"),
    ("set", "a: !!set {b}\n", "!!set"),
    ("on-a-key", "!!str a: 1\n", "!!str"),
]


@pytest.mark.parametrize(("text", "tag"), [t[1:] for t in TAGS], ids=[t[0] for t in TAGS])
def test_every_tag_is_refused_with_its_name_and_line(text: str, tag: str) -> None:
    (message,) = refused("ok: 1\n" + text)
    assert message.startswith("f.yaml:2  ")
    assert "YAML tags are not allowed" in message
    assert tag in message


def test_every_tag_is_listed_at_once() -> None:
    messages = refused("a: !x 1\nb: [!y 2]\nc: !z {d: 3}\n")
    assert [m.split("  ")[:2] for m in messages] == [["f.yaml:1", "a"], ["f.yaml:2", "b[0]"],
                                                      ["f.yaml:3", "c"]]


def test_nesting_is_bounded() -> None:
    assert read_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH)[0] is not None
    (message,) = refused("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert "nesting deeper than 100 levels" in message
    (message,) = refused("a:\n" + "".join("  " * i + "- \n" for i in range(1, 600)))
    assert "nesting deeper" in message


def test_aliases_expand_within_the_bound() -> None:
    data, lines = read_yaml("p: &p [1, 2]\nq: *p\nr: {s: *p}\n")
    assert data == {"p": [1, 2], "q": [1, 2], "r": {"s": [1, 2]}}
    data["q"][0] = 9  # an alias is a copy: editing one place leaves the others
    assert data["p"] == [1, 2]
    assert lines[("r", "s")] == 3  # the alias's own line


def test_a_small_alias_bomb_is_refused_quickly() -> None:
    text = alias_bomb(9)  # 9**9 = 387 M leaves from 432 bytes
    started = time.perf_counter()
    (message,) = refused(text)
    assert time.perf_counter() - started < 5  # generous: it takes about 20 ms
    assert "beyond" in message
    assert "alias bomb" in message
    assert f"{max_nodes(len(text)):,} nodes" in message


def test_the_alias_bound_grows_with_the_text() -> None:
    """11 levels of 3: a10 has 4 * 3**10 = 236,196 nodes, the document about 354,000, beyond the
    bound of a 300-byte text; 30,000 characters of comment raise the bound to 400,000."""
    assert read_yaml(alias_bomb(9, 3))[0]["a8"]
    assert refused(alias_bomb(11, 3))
    padding = "#" * 30_000 + "\n"
    assert len(read_yaml(padding + alias_bomb(11, 3))[0]["a10"]) == 3


@pytest.mark.parametrize(("text", "message"), [
    ("a: &a [*a]\n", "recursive alias *a"),
    ("a: &a {b: *a}\n", "recursive alias *a"),
    ("a: *nowhere\n", "unknown alias *nowhere"),
    ("a: &x 1\nb: &x 2\n", "the anchor &x is defined twice"),
    ("a: 1\n---\nb: 2\n", "more than one YAML document"),
    ("a: 1\na: 2\n", "duplicate key 'a' (first at line 1)"),
    ("a: {<<: {b: 1}}\n", "merge keys"),
    ("? [a]\n: 1\n", "mapping keys must be plain scalars"),
    ("x: \x00\n", "control characters are not allowed (U+0000)"),
    ("x: 1" + "0" * 5000 + "\n", "cannot read the number"),
], ids=["recursive-list", "recursive-mapping", "unknown-alias", "anchor-twice",
        "two-documents", "duplicate-key", "merge-key", "complex-key", "nul", "huge-int"])
def test_refusals_name_the_problem(text: str, message: str) -> None:
    messages = refused(text)
    assert any(message in m for m in messages), messages
    assert all(m.startswith("f.yaml:") for m in messages), messages


def test_the_text_length_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "MAX_BYTES", 10)
    (message,) = refused("a: 12345678\n")
    assert "longer than the limit" in message


def test_read_text_is_bounded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    file = tmp_path / "x.yaml"
    file.write_text("a: 12345678\n")
    assert read_text(file) == "a: 12345678\n"
    monkeypatch.setattr(yamlio, "MAX_BYTES", 10)
    with pytest.raises(InstanceError, match="larger than the limit"):
        read_text(file)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_read_text_stops_reading_a_device() -> None:
    started = time.perf_counter()
    with pytest.raises(InstanceError, match="larger than the limit of 64 MiB"):
        read_text("/dev/zero")
    assert time.perf_counter() - started < 10  # generous: it reads 64 MiB, about 50 ms


def test_read_text_names_the_line_of_a_bad_byte(tmp_path: Path) -> None:
    file = tmp_path / "x.yaml"
    file.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(InstanceError) as info:
        read_text(file)
    (problem,) = info.value.problems
    assert (problem.line, problem.file) == (2, str(file))
    assert "not UTF-8 text: byte 0xe9" in problem.message


def test_read_text_of_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="cannot read the file"):
        read_text(tmp_path)


def test_read_yaml_file_names_what_it_reads(tmp_path: Path) -> None:
    file = tmp_path / "s.yaml"
    file.write_text("a: [1, 2]\n")
    assert read_yaml_file(file, "study") == ({"a": [1, 2]}, {(): 1, ("a",): 1, ("a", 0): 1,
                                                             ("a", 1): 1})
    with pytest.raises(InstanceError, match="cannot read the study"):
        read_yaml_file(tmp_path / "none.yaml", "study")


def test_dump_yaml_reads_back_the_same() -> None:
    """Strings that YAML 1.1 leaves plain but the core schema reads as numbers are quoted."""
    tricky = ["0o17", "0x1F", "1e5", "012", "yes", "null", "", "~", "true", "2001-12-14",
              "1_000", ".inf", "c1", "plain text"]
    data = {"name": "0o17", "values": tricky, "nested": {"k": [1, 2.5, None, True]}}
    assert read_yaml(dump_yaml(data))[0] == data

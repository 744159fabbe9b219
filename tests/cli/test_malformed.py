"""Malformed instances through the command line (DESIGN.md §3 "Bad input", §4 exit codes).

Every case starts from ``BASE`` (a small valid instance, checked below to validate with no
problem and no warning) and changes one thing. ``eastwest validate`` must then exit 2 without a
traceback and name the file, the line and the field path of the problem, in the format of
``Problem.format``: ``FILE:LINE  FIELD.PATH  MESSAGE  (VALUE)``. The expected line is never a
literal: it is the line of the edited text that matches the case's ``line_at`` pattern.

Most cases run in-process (``typer.testing.CliRunner``) for speed; a sample of them, the
document-level cases and every ``solve``-time refusal also run the real console script in a
subprocess.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

BASE = """\
# a small valid instance: every malformed case below is one edit of it
version: 1
name: base
periods: {count: 2, hours: 1, weight: 1}
profiles:
  office: [1.0, 3.0]
regions:
  - id: east
    location: [31.0, 121.0]
    demand:
      web: [10, 20]
      batch: 30
  - id: north
    location: [39.9, 116.4]
    demand:
      batch:
        profile: office
        mean: 5
sites:
  - id: near
    location: [31.0, 121.0]
    capacity_mw: 15
    pue: 1.5
    price: [100, 200]
  - id: far
    location: [38.0, 105.0]
    capacity_mw: 100
    pue: [1.1, 1.2]
    price: 50
    renewable_mw: {profile: office, max: 10}
classes:
  - id: web
    max_latency_ms: 10
    unmet_penalty: 1000
    allowed_sites: [near, far]
  - id: batch
network:
  latency:
    pairs:
      - {region: east, site: far, ms: 30}
  transfer:
    per_gb: 0.01
    pairs:
      - {region: north, site: near, per_gb: 0.02}
policy: {carbon_price: 10}
"""

Edit = tuple[str, str]


def edited(text: str, edits: tuple[Edit, ...]) -> str:
    """Apply each (old, new) replacement; ``old`` must occur exactly once."""
    for old, new in edits:
        assert text.count(old) == 1, f"edit target not unique in the text: {old!r}"
        text = text.replace(old, new)
    return text


def line_of(text: str, pattern: str, nth: int = 1) -> int:
    """1-based number of the ``nth`` line of ``text`` matching the regex ``pattern``."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if re.search(pattern, line)]
    assert len(hits) >= nth, f"{pattern!r} matches {len(hits)} lines, wanted #{nth}"
    return hits[nth - 1]


def _one_line(text: str) -> str:
    """``text`` with every run of white space made one space (undoes console line wrapping)."""
    return " ".join(text.split())


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error  ")]


def assert_refused(ran, file: Path | str, line: int | None, path: str, message: str) -> None:
    """Exit 2, no traceback, nothing on stdout, and an error line ``file:line  path  message``."""
    assert ran.code == 2, ran.both
    assert "Traceback" not in ran.both
    assert ran.stdout == ""
    where = f"{file}:{line}" if line is not None else f"{file}"
    prefix = f"error  {where}  {path}  "
    hits = [e for e in error_lines(ran.stderr) if e.startswith(prefix)]
    assert hits, f"no error line starting {prefix!r} in stderr:\n{ran.stderr}"
    assert any(message in e for e in hits), f"{message!r} not in {hits}"


@dataclass(frozen=True)
class Case:
    id: str
    edits: tuple[Edit, ...]
    path: str  # the field path the error must name
    line_at: str  # regex: the error's line is the (nth) line of the edited text matching it
    message: str  # a fragment of the expected message
    nth: int = 1


CASES = [
    # -- unknown and missing fields, versions
    Case("unknown-key-top-level", (("name: base\n", "name: base\ncolour: blue\n"),),
         "colour", r"^colour:", "unknown field"),
    Case("unknown-key-in-site", (("    price: 50\n", "    price: 50\n    colour: red\n"),),
         "sites[1].colour", r"colour: red", "unknown field"),
    Case("unknown-key-deep", (("    per_gb: 0.01\n", "    per_gb: 0.01\n    per_tb: 9\n"),),
         "network.transfer.per_tb", r"per_tb:", "unknown field"),
    Case("missing-site-capacity", (("    capacity_mw: 15\n", ""),),
         "sites[0].capacity_mw", r"- id: near$", "required field is missing"),
    Case("missing-region-location", (("    location: [39.9, 116.4]\n", ""),),
         "regions[1].location", r"- id: north$", "required field is missing"),
    # the root mapping starts at its first key (the comment line above it is not part of it)
    Case("missing-version", (("version: 1\n", ""),),
         "version", r"^name: base", "required field is missing"),
    Case("wrong-version", (("version: 1", "version: 3"),),
         "version", r"^version: 3", "Input should be 1 or 2"),
    # -- wrong types
    Case("string-for-number", (("capacity_mw: 15", "capacity_mw: fifteen"),),
         "sites[0].capacity_mw", r"capacity_mw: fifteen", "valid number"),
    Case("quoted-number", (("capacity_mw: 100", 'capacity_mw: "100"'),),
         "sites[1].capacity_mw", r'capacity_mw: "100"', "valid number"),
    Case("bool-for-number", (("capacity_mw: 100", "capacity_mw: true"),),
         "sites[1].capacity_mw", r"capacity_mw: true", "valid number"),
    Case("bool-for-series", (("pue: 1.5", "pue: yes"),),
         "sites[0].pue", r"pue: yes", "expected a series"),
    Case("string-in-list-series", (("price: [100, 200]", "price: [100, cheap]"),),
         "sites[0].price[1]", r"price: \[100, cheap\]", "valid number"),
    Case("nan-for-series-number", (("price: 50", "price: .nan"),),
         "sites[1].price", r"price: \.nan", "finite number"),
    Case("scalar-for-periods", (("periods: {count: 2, hours: 1, weight: 1}", "periods: 2"),),
         "periods", r"^periods: 2", "periods"),
    # -- ranges
    Case("negative-capacity", (("capacity_mw: 100", "capacity_mw: -5"),),
         "sites[1].capacity_mw", r"capacity_mw: -5", "greater than or equal to 0"),
    Case("negative-price-in-list", (("price: [100, 200]", "price: [100, -200]"),),
         "sites[0].price", r"price: \[100, -200\]", "price must be >= 0"),
    Case("pue-below-1", (("pue: 1.5", "pue: 0.9"),),
         "sites[0].pue", r"pue: 0\.9", "PUE must be >= 1"),
    Case("pue-below-1-in-list", (("pue: [1.1, 1.2]", "pue: [1.1, 0.95]"),),
         "sites[1].pue", r"pue: \[1\.1, 0\.95\]", "PUE must be >= 1"),
    Case("latitude-out-of-range", (("location: [38.0, 105.0]", "location: [98.0, 105.0]"),),
         "sites[1].location[0]", r"location: \[98\.0", "less than or equal to 90"),
    Case("longitude-out-of-range", (("location: [39.9, 116.4]", "location: [39.9, 196.4]"),),
         "regions[1].location[1]", r"location: \[39\.9, 196\.4\]", "less than or equal to 180"),
    Case("negative-mean-in-profile-ref", (("        mean: 5", "        mean: -5"),),
         "regions[1].demand.batch.mean", r"mean: -5", "greater than or equal to 0"),
    # -- series and profiles
    Case("series-wrong-length", (("web: [10, 20]", "web: [10, 20, 30]"),),
         "regions[0].demand.web", r"web: \[10, 20, 30\]",
         "series has 3 values, expected one per period (2)"),
    Case("profile-wrong-length", (("office: [1.0, 3.0]", "office: [1.0, 3.0, 2.0]"),),
         "profiles.office", r"office: \[", "profile has 3 values"),
    Case("profile-mean-0", (("office: [1.0, 3.0]", "office: [0, 0]"),),
         "profiles.office", r"office: \[0, 0\]", "mean 0"),
    Case("profile-negative", (("office: [1.0, 3.0]", "office: [1.0, -3.0]"),),
         "profiles.office", r"office: \[", "profile values must be >= 0"),
    Case("unknown-profile", (("profile: office\n", "profile: offices\n"),),
         "regions[1].demand.batch.profile", r"profile: offices", "unknown profile"),
    Case("profile-ref-without-scale",
         (("{profile: office, max: 10}", "{profile: office}"),),
         "sites[1].renewable_mw", r"renewable_mw:", "exactly one of 'mean' and 'max'"),
    Case("profile-ref-with-mean-and-max",
         (("        mean: 5\n", "        mean: 5\n        max: 6\n"),),
         "regions[1].demand.batch", r"^\s+batch:$", "exactly one of 'mean' and 'max'"),
    # -- ids
    Case("duplicate-region-id", (("  - id: north", "  - id: east"),),
         "regions[1].id", r"- id: east$", "duplicate region id", nth=2),
    Case("duplicate-site-id", (("  - id: far", "  - id: near"),),
         "sites[1].id", r"- id: near$", "duplicate site id", nth=2),
    Case("duplicate-class-id", (("  - id: batch", "  - id: web"),),
         "classes[1].id", r"- id: web$", "duplicate class id", nth=2),
    Case("duplicate-period-id",
         (("periods: {count: 2, hours: 1, weight: 1}", "periods: [{id: h0}, {id: h0}]"),),
         "periods[1].id", r"^periods:", "duplicate period id"),
    Case("unknown-class-in-demand", (("      batch: 30", "      bulk: 30"),),
         "regions[0].demand.bulk", r"bulk: 30", "unknown class id"),
    Case("unknown-site-in-allowed-sites", (("[near, far]", "[nearby, far]"),),
         "classes[0].allowed_sites[0]", r"allowed_sites:", "unknown site id"),
    Case("unknown-region-in-latency-pair",
         (("{region: east, site: far, ms: 30}", "{region: west, site: far, ms: 30}"),),
         "network.latency.pairs[0].region", r"region: west", "unknown region id"),
    Case("unknown-site-in-latency-pair",
         (("{region: east, site: far, ms: 30}", "{region: east, site: faraway, ms: 30}"),),
         "network.latency.pairs[0].site", r"site: faraway", "unknown site id"),
    Case("unknown-region-in-transfer-pair",
         (("{region: north, site: near, per_gb", "{region: south, site: near, per_gb"),),
         "network.transfer.pairs[0].region", r"region: south", "unknown region id"),
    Case("unknown-site-in-transfer-pair",
         (("{region: north, site: near, per_gb", "{region: north, site: nearby, per_gb"),),
         "network.transfer.pairs[0].site", r"site: nearby", "unknown site id"),
    Case("duplicate-latency-pair",
         (("      - {region: east, site: far, ms: 30}\n",
           "      - {region: east, site: far, ms: 30}\n"
           "      - {region: east, site: far, ms: 31}\n"),),
         "network.latency.pairs[1]", r"ms: 31", "duplicate latency pair"),
    # -- reachability: an error only where the demand is hard
    Case("hard-demand-beyond-latency-limit",
         (("max_latency_ms: 10", "max_latency_ms: 1"),
          ("unmet_penalty: 1000", "unmet_penalty: null")),
         "regions[0].demand.web", r"web: \[10, 20\]",
         "hard demand of class 'web' can reach no site"),
    Case("hard-demand-no-allowed-site-in-reach",
         (("[near, far]", "[far]"), ("unmet_penalty: 1000", "unmet_penalty: null")),
         "regions[0].demand.web", r"web: \[10, 20\]", "can reach no site"),
    # -- YAML level
    Case("invalid-yaml-syntax", (("    pue: 1.5\n", "    pue: 1.5: 2\n"),),
         "(document)", r"pue: 1\.5: 2", "invalid YAML"),
    Case("yaml-merge-key", (("    price: 50\n", "    price: 50\n    <<: {zone: west}\n"),),
         "sites[1]", r"<<:", "merge keys"),
    Case("non-scalar-yaml-key", (("    price: 50\n", "    price: 50\n    [a, b]: 1\n"),),
         "sites[1]", r"\[a, b\]: 1", "mapping keys must be plain scalars"),
    # a class id that looks like console markup must be shown as it is
    Case("unknown-class-with-brackets", (("      batch: 30", '      "[x]": 30'),),
         "regions[0].demand.[x]", r'"\[x\]": 30', "unknown class id"),
]


def test_cases_are_distinct_and_many() -> None:
    assert len({c.id for c in CASES}) == len(CASES)
    assert len({edited(BASE, c.edits) for c in CASES}) == len(CASES)
    assert len(CASES) >= 25


def test_base_instance_is_valid_without_warnings(tmp_path: Path, run_inprocess) -> None:
    file = tmp_path / "base.yaml"
    file.write_text(BASE, encoding="utf-8")
    ran = run_inprocess(["validate", file])
    assert ran.code == 0, ran.both
    assert ran.stderr == ""
    assert f"{file}: valid (2 regions, 2 sites, 2 classes)" in _one_line(ran.stdout)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_malformed_instance_is_refused(case: Case, tmp_path: Path, run_inprocess) -> None:
    text = edited(BASE, case.edits)
    file = tmp_path / "instance.yaml"
    file.write_text(text, encoding="utf-8")
    ran = run_inprocess(["validate", file])
    assert_refused(ran, file, line_of(text, case.line_at, case.nth), case.path, case.message)


SUBPROCESS_SAMPLE = ["unknown-key-in-site", "hard-demand-beyond-latency-limit",
                     "invalid-yaml-syntax"]


@pytest.mark.parametrize("case", [c for c in CASES if c.id in SUBPROCESS_SAMPLE],
                         ids=lambda c: c.id)
def test_malformed_instance_is_refused_by_the_console_script(
    case: Case, tmp_path: Path, run_subprocess
) -> None:
    text = edited(BASE, case.edits)
    file = tmp_path / "instance.yaml"
    file.write_text(text, encoding="utf-8")
    ran = run_subprocess(["validate", file])
    assert_refused(ran, file, line_of(text, case.line_at, case.nth), case.path, case.message)


def test_duplicate_yaml_key_names_both_lines(tmp_path: Path, run_inprocess) -> None:
    text = edited(BASE, (("    pue: 1.5\n", "    pue: 1.5\n    pue: 1.6\n"),))
    file = tmp_path / "instance.yaml"
    file.write_text(text, encoding="utf-8")
    first = line_of(text, r"pue: 1\.5$")
    ran = run_inprocess(["validate", file])
    assert_refused(ran, file, line_of(text, r"pue: 1\.6$"), "sites[0].pue",
                   f"duplicate key 'pue' (first at line {first})")


# -- document-level problems: (id, file content or None for no file, line, message)
DOCUMENT_CASES = [
    ("empty-file", b"", 1, "the file is empty"),
    ("comments-only", b"# nothing here\n", 1, "the file is empty"),
    ("top-level-list", b"- version: 1\n- name: x\n", 1, "an instance must be a mapping"),
    ("top-level-scalar", b"version 1\n", 1, "an instance must be a mapping"),
    ("not-utf8", BASE.replace("name: base", "name: caf\u00e9").encode("latin-1"),
     line_of(BASE, r"^name: base"), "not UTF-8 text: byte 0xe9"),
    ("missing-file", None, None, "cannot read the file"),
]


@pytest.mark.parametrize(("content", "line", "message"),
                         [c[1:] for c in DOCUMENT_CASES], ids=[c[0] for c in DOCUMENT_CASES])
def test_unreadable_document_is_refused(
    content: bytes | None, line: int | None, message: str, tmp_path: Path, run_inprocess
) -> None:
    file = tmp_path / "instance.yaml"
    if content is not None:
        file.write_bytes(content)
    ran = run_inprocess(["validate", file])
    assert_refused(ran, file, line, "(document)", message)


@pytest.mark.parametrize("case", ["empty-file", "not-utf8", "missing-file"])
def test_unreadable_document_is_refused_by_the_console_script(
    case: str, tmp_path: Path, run_subprocess
) -> None:
    _, content, line, message = next(c for c in DOCUMENT_CASES if c[0] == case)
    file = tmp_path / "instance.yaml"
    if content is not None:
        file.write_bytes(content)
    ran = run_subprocess(["validate", file])
    assert_refused(ran, file, line, "(document)", message)


def test_missing_file_says_so_for_solve_too(tmp_path: Path, run_inprocess) -> None:
    file = tmp_path / "nowhere.yaml"
    ran = run_inprocess(["solve", file, "-q"])
    assert_refused(ran, file, None, "(document)", "cannot read the file")


def test_file_name_with_brackets_is_shown_verbatim(tmp_path: Path, run_inprocess) -> None:
    """File names are data, not console markup: ``run[red]/x.yaml`` must be named as is."""
    folder = tmp_path / "run[red]"
    folder.mkdir()
    text = edited(BASE, (("pue: 1.5", "pue: 0.9"),))
    file = folder / "instance.yaml"
    file.write_text(text, encoding="utf-8")
    ran = run_inprocess(["validate", file])
    assert_refused(ran, file, line_of(text, r"pue: 0\.9"), "sites[0].pue", "PUE must be >= 1")


def test_missing_file_with_markup_like_name_is_not_an_internal_error(
    tmp_path: Path, run_subprocess
) -> None:
    file = tmp_path / "draft[/b].yaml"
    ran = run_subprocess(["validate", file])
    assert_refused(ran, file, None, "(document)", "cannot read the file")


def test_soft_unreachable_demand_is_only_a_warning(tmp_path: Path, run_inprocess) -> None:
    """web's limit of 1 ms is below the 2 ms base latency: no site is in reach, but web has an
    unmet penalty, so its demand is merely unmet (a warning, exit 0)."""
    text = edited(BASE, (("max_latency_ms: 10", "max_latency_ms: 1"),))
    file = tmp_path / "instance.yaml"
    file.write_text(text, encoding="utf-8")
    ran = run_inprocess(["validate", file])
    assert ran.code == 0, ran.both
    assert "Traceback" not in ran.both
    assert error_lines(ran.stderr) == []
    line = line_of(text, r"web: \[10, 20\]")
    warnings = [w for w in ran.stderr.splitlines() if w.startswith("warning  ")]
    assert len(warnings) == 1, ran.stderr
    assert warnings[0].startswith(f"warning  {file}:{line}  regions[0].demand.web  ")
    assert "can reach no site" in warnings[0]
    assert f"{file}: valid (2 regions, 2 sites, 2 classes, 1 warnings)" in _one_line(ran.stdout)


def test_soft_unreachable_demand_is_solved_and_reported(tmp_path: Path, run_subprocess) -> None:
    text = edited(BASE, (("max_latency_ms: 10", "max_latency_ms: 1"),))
    file = tmp_path / "instance.yaml"
    file.write_text(text, encoding="utf-8")
    ran = run_subprocess(["solve", file, "--json", tmp_path / "out" / "solution.json"])
    assert ran.code == 0, ran.both
    assert "Traceback" not in ran.both
    assert "regions[0].demand.web" in ran.both
    assert "can reach no site" in ran.both


def test_every_semantic_problem_is_listed_at_once(tmp_path: Path, run_subprocess) -> None:
    """Six independent semantic problems (none causes another): all six are reported."""
    edits = (
        ("pue: 1.5", "pue: 0.9"),
        ("      batch: 30", "      bulk: 30"),
        ("[near, far]", "[nearby, far]"),
        ("{region: east, site: far, ms: 30}", "{region: west, site: far, ms: 30}"),
        ("office: [1.0, 3.0]", "office: [1.0, 3.0, 2.0]"),
        ("web: [10, 20]", "web: [10, 20, 30]"),
    )
    expected = [
        ("sites[0].pue", r"pue: 0\.9"),
        ("regions[0].demand.bulk", r"bulk: 30"),
        ("classes[0].allowed_sites[0]", r"allowed_sites:"),
        ("network.latency.pairs[0].region", r"region: west"),
        ("profiles.office", r"office: \["),
        ("regions[0].demand.web", r"web: \[10"),
    ]
    text = edited(BASE, edits)
    file = tmp_path / "several.yaml"
    file.write_text(text, encoding="utf-8")
    ran = run_subprocess(["validate", file])
    assert ran.code == 2, ran.both
    assert "Traceback" not in ran.both
    errors = error_lines(ran.stderr)
    assert len(errors) == len(expected), ran.stderr
    for path, pattern in expected:
        prefix = f"error  {file}:{line_of(text, pattern)}  {path}  "
        assert any(e.startswith(prefix) for e in errors), f"{prefix!r} missing:\n{ran.stderr}"
    assert f"{len(expected)} problems; nothing was solved" in _one_line(ran.stderr)


def test_every_shape_problem_is_listed_at_once(tmp_path: Path, run_inprocess) -> None:
    """Four independent shape problems (caught before the semantic pass): all four reported."""
    edits = (
        ("version: 1", "version: 3"),
        ("    price: 50\n", "    price: 50\n    colour: red\n"),
        ("capacity_mw: 15", "capacity_mw: -15"),
        ("    location: [39.9, 116.4]\n", ""),
    )
    text = edited(BASE, edits)
    expected = [
        ("version", line_of(text, r"^version: 3")),
        ("sites[1].colour", line_of(text, r"colour: red")),
        ("sites[0].capacity_mw", line_of(text, r"capacity_mw: -15")),
        ("regions[1].location", line_of(text, r"- id: north$")),
    ]
    file = tmp_path / "several.yaml"
    file.write_text(text, encoding="utf-8")
    ran = run_inprocess(["validate", file])
    assert ran.code == 2, ran.both
    errors = error_lines(ran.stderr)
    assert len(errors) == len(expected), ran.stderr
    for path, line in expected:
        prefix = f"error  {file}:{line}  {path}  "
        assert any(e.startswith(prefix) for e in errors), f"{prefix!r} missing:\n{ran.stderr}"
    assert f"{len(expected)} problems; nothing was solved" in _one_line(ran.stderr)


# -- the fields that earlier versions refused with `not supported yet: <field path>` (exit 2).
# The README's contract: a field is either formulated or refused, never silently ignored. Every
# one is formulated now, so each edit must solve (exit 0) to its own optimum, derived by hand
# below, which differs from BASE's: an edit the model ignored would keep BASE's optimum.
#
# BASE by hand (a[t] = 1, carbon intensity 0 everywhere, no class carries data, so no carbon
# or transfer cost): web (east, [10, 20], 1000) reaches only near (far is 30 ms), at 1.5 * [100,
# 200] = 150, 300 per MW; batch (east 30, north office*5 = [2.5, 7.5], 1e5) goes to far, whose
# renewable power (office, max 10: [10/3, 10] MW) is free and whose grid power costs 50 * PUE
# [1.1, 1.2] = 55, 60 per IT MW. t0: web 10 at near (1500); batch 32.5 at far (50 * (35.75 -
# 10/3)). t1: web 15 at near (4500), 5 unmet (5000); batch 37.5 at far (50 * (45 - 10)).
FAR_T0, FAR_T1 = 50 * (1.1 * 32.5 - 10 / 3), 50 * (1.2 * 37.5 - 10)
BASE_OPTIMUM = 1500 + 4500 + 5000 + FAR_T0 + FAR_T1  # 14370.83
FORMERLY_UNSUPPORTED = [
    # D = 2 (the whole cycle): batch moves to t0 (55 < 60 per MW) but for what t1's renewable
    # power carries free (10/1.2 MW): 70 MWh - 25/3 in t0, 50 * (1.1 * (70 - 25/3) - 10/3)
    ("classes[1].max_delay_periods",
     (("  - id: batch\n", "  - id: batch\n    max_delay_periods: 2\n"),),
     1500 + 4500 + 5000 + 50 * (1.1 * (70 - 25 / 3) - 10 / 3)),
    # web needs 20 MW in t1 at its one site (15 MW): none of it is served, 30 MWh unmet
    ("classes[0].assignment",
     (("    unmet_penalty: 1000\n", "    unmet_penalty: 1000\n    assignment: single\n"),),
     30 * 1000 + FAR_T0 + FAR_T1),
    # far costs more to open than anything it saves: near's 15 MW go to batch (1e5 > 1000),
    # all of web and the rest of batch unmet
    ("sites[1].open_cost",
     (("    price: 50\n", "    price: 50\n    open_cost: 5.0e7\n"),),
     15 * 150 + 15 * 300 + 30 * 1000 + (32.5 - 15 + 37.5 - 15) * 1e5),
    # 5 MW at near for 1000 a year: web's 5 unmet MW in t1 served at 300 each
    ("sites[0].expansions",
     (("    price: [100, 200]\n",
       "    price: [100, 200]\n    expansions: [{id: hall, size_mw: 5, annual_cost: 1000}]\n"),),
     BASE_OPTIMUM - 5 * 1000 + 5 * 300 + 1000),
    # batch at 450 GB/MWh (1 Gbps per MW; transfer 0.01 per GB: 4.5 per MWh, 70 MWh), and a
    # 25 Gbps corridor from east to far: 5 MW of east's batch to near in each period, where it
    # takes the place of web (t0: its spare 5 MW; t1: 5 more MW of web unmet)
    ("network.corridors",
     (("network:\n",
       "network:\n  corridors: [{id: n, capacity_gbps: 25, regions: [east], sites: [far]}]\n"),
      ("  - id: batch\n", "  - id: batch\n    data_gb_per_mwh: 450\n")),
     1500 + 750 + 4500 + 10 * 1000 + 50 * (1.1 * 27.5 - 10 / 3) + 50 * (1.2 * 32.5 - 10)
     + 70 * 4.5),
    # near at 1 t/MWh (carbon 10 a tonne: 165, 315 per MW) emits 1.5 t per MW of web; a cap
    # of 30 t cuts 5 MW of web in t1, where that costs least per tonne ((1000 - 315) / 1.5)
    ("policy.carbon_cap_t",
     (("    price: [100, 200]\n", "    price: [100, 200]\n    carbon_intensity: 1.0\n"),
      ("policy: {carbon_price: 10}", "policy: {carbon_price: 10, carbon_cap_t: 30}")),
     10 * 165 + 10 * 315 + 10 * 1000 + FAR_T0 + FAR_T1),
    # half of facility energy renewable, and only 40/3 MWh of it (at far): facility energy at
    # most 80/3 MWh, grid 40/3 of it, spent on batch at far in t0 (the least facility power per
    # MW): there 10/3 + 40/3 MW, batch (50/3)/1.1; in t1 10/1.2; the rest and all of web unmet
    ("policy.min_renewable_share",
     (("policy: {carbon_price: 10}", "policy: {carbon_price: 10, min_renewable_share: 0.5}"),),
     50 * 40 / 3 + (70 - 50 / 3 / 1.1 - 10 / 1.2) * 1e5 + 30 * 1000),
]


def test_base_solves_to_its_hand_derived_optimum(tmp_path: Path, run_inprocess) -> None:
    file = tmp_path / "base.yaml"
    file.write_text(BASE, encoding="utf-8")
    ran = run_inprocess(["solve", file, "--json", tmp_path / "solution.json"])
    assert ran.code == 0, ran.both
    sol = json.loads((tmp_path / "solution.json").read_text(encoding="utf-8"))
    assert sol["objective"] == pytest.approx(BASE_OPTIMUM, rel=1e-9)


@pytest.mark.parametrize(("path", "edits", "optimum"), FORMERLY_UNSUPPORTED,
                         ids=[u[0] for u in FORMERLY_UNSUPPORTED])
def test_formerly_unsupported_field_is_solved_to_its_optimum(
    path: str, edits: tuple[Edit, ...], optimum: float, tmp_path: Path, run_inprocess
) -> None:
    text = edited(BASE, edits)
    file = tmp_path / "instance.yaml"
    file.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    ran = run_inprocess(["solve", file, "--json", out / "solution.json", "--csv", out / "csv"])
    assert ran.code == 0, ran.both
    assert "Traceback" not in ran.both
    assert "not supported" not in ran.both
    sol = json.loads((out / "solution.json").read_text(encoding="utf-8"))
    assert sol["status"] == "optimal"
    assert not math.isclose(optimum, BASE_OPTIMUM, rel_tol=1e-6), f"{path} leaves the optimum"
    assert sol["objective"] == pytest.approx(optimum, rel=1e-9), path

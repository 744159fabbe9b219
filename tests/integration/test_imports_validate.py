"""Every benchmark file under benchmarks/data imports to an instance that validates, and the
instance `eastwest import` writes (YAML) reads back as the same data under the core schema."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from optimizer.importers import import_file
from optimizer.load import parse
from optimizer.yamlio import dump_yaml, read_yaml

DATA = Path(__file__).parents[2] / "benchmarks" / "data"


def _capacities() -> dict[str, float]:
    """One published capacity for each file that has the placeholder (capa, capb, capc)."""
    text = (DATA / "orlib-cap" / "optima.tsv").read_text().splitlines()
    rows = csv.DictReader((line for line in text if not line.startswith("#")), delimiter="\t")
    return {r["file"]: float(r["capacity"]) for r in rows if r["capacity"] not in ("", "-")}


CAPACITY = _capacities()
FILES = ([("orlib-cap", p) for p in sorted((DATA / "orlib-cap").glob("cap*.txt"))]
         + [("holmberg", p) for p in sorted((DATA / "holmberg-sscflp").glob("p[0-9]*"),
                                            key=lambda p: int(p.name[1:]))])


def test_every_file_is_listed() -> None:
    assert len([f for f in FILES if f[0] == "orlib-cap"]) == 40
    assert len([f for f in FILES if f[0] == "holmberg"]) == 71
    assert set(CAPACITY) == {"capa.txt", "capb.txt", "capc.txt"}


@pytest.mark.parametrize(("fmt", "path"), FILES, ids=[p.name for _, p in FILES])
def test_an_imported_file_validates(fmt: str, path: Path) -> None:
    data = import_file(fmt, path, CAPACITY.get(path.name))
    document = parse(data, str(path))
    assert not [w for w in document.warnings if w.severity == "error"]
    assert len(document.instance.sites) == len(data["sites"])


@pytest.mark.parametrize("name", ["cap41.txt", "cap134.txt"])
def test_the_written_yaml_reads_back_the_same(name: str) -> None:
    data = import_file("orlib-cap", DATA / "orlib-cap" / name, CAPACITY.get(name))
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    text = yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=None, width=100)
    assert read_yaml(text)[0] == data  # what `eastwest import` writes today
    assert read_yaml(dump_yaml(data))[0] == data


def test_a_name_the_core_schema_reads_as_a_number_survives_the_round_trip() -> None:
    data = import_file("orlib-cap", DATA / "orlib-cap" / "cap41.txt", name="0x10")
    assert parse(read_yaml(dump_yaml(data))[0]).instance.name == "0x10"

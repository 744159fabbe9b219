"""A sweep over a version-2 field: the certificate price (DESIGN.md §8).

The instance (tests/unit/test_policy_families.py): one site, 10 MWh of load, 2 MW of free
renewable power, the rest from the grid at 50 (400 a year), a 50% green-share floor. 3
certificates meet it at any price below 1,900 (the cost of serving less: 950 saved per MWh
dropped, which lowers the shortfall by 0.5): the objective is 400 + 3 p. The table has the ten
cost categories of a version-2 solution, a version-1 sweep the eight.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = [30.0, 120.0]
INSTANCE: dict[str, Any] = {
    "version": 2, "name": "green",
    "periods": {"count": 1},
    "regions": [{"id": "r", "location": HERE, "demand": {"k": 10}}],
    "sites": [{"id": "s", "location": HERE, "capacity_mw": 100, "pue": 1.0, "price": 50,
               "renewable_mw": 2, "min_green_share": 0.5}],
    "classes": [{"id": "k", "unmet_penalty": 1000}],
    "policy": {"certificate_price": 30},
}


def test_a_sweep_over_the_certificate_price(
        tmp_path: Path, write_study: Callable[..., Path], cli: Callable[..., Any]) -> None:
    instance = tmp_path / "green.yaml"
    instance.write_text(yaml.safe_dump(INSTANCE, sort_keys=False))
    study = write_study({"name": "certificates", "instance": str(instance),
                         "parameters": [{"path": "policy.certificate_price",
                                         "values": [10, 60, 200]}]})
    out = tmp_path / "out"
    ran = cli(["sweep", study, "--out", out, "--no-plots"])
    assert ran.code == 0, ran.stderr
    with (out / "results.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    costs = [c for c in rows[0] if c.startswith("cost_")]
    assert costs == ["cost_energy", "cost_renewable", "cost_carbon", "cost_transfer",
                     "cost_latency", "cost_unmet", "cost_expansion", "cost_opening",
                     "cost_certificates", "cost_water"]
    for row, price in zip(rows, (10, 60, 200), strict=True):
        assert float(row["objective"]) == pytest.approx(400 + 3 * price, rel=1e-7)
        assert float(row["cost_certificates"]) == pytest.approx(3 * price, rel=1e-7)
        assert float(row["cost_water"]) == 0.0


def test_a_version_1_sweep_keeps_its_eight_cost_columns(
        tmp_path: Path, write_study: Callable[..., Path], cli: Callable[..., Any]) -> None:
    """The same instance as version 1 (no §8 field): 10 MWh at 50 plus carbon at 0.5 t a MWh
    of grid energy (8 MWh): 400 + 4 c."""
    data = {**INSTANCE, "version": 1, "policy": {},
            "sites": [{k: v for k, v in INSTANCE["sites"][0].items() if k != "min_green_share"}
                      | {"carbon_intensity": 0.5}]}
    instance = tmp_path / "plain.yaml"
    instance.write_text(yaml.safe_dump(data, sort_keys=False))
    study = write_study({"name": "carbon", "instance": str(instance),
                         "parameters": [{"path": "policy.carbon_price", "values": [0, 10]}]})
    out = tmp_path / "out"
    ran = cli(["sweep", study, "--out", out, "--no-plots"])
    assert ran.code == 0, ran.stderr
    with (out / "results.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [c for c in rows[0] if c.startswith("cost_")] == [
        "cost_energy", "cost_renewable", "cost_carbon", "cost_transfer", "cost_latency",
        "cost_unmet", "cost_expansion", "cost_opening"]
    assert [float(r["objective"]) for r in rows] == pytest.approx([400.0, 440.0], rel=1e-7)

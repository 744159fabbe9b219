"""The family registry: a family is a complete record, and everything reads it.

The worked example of docs/adding-a-family.md (a per-site cap on mean IT load) is executed from
the document itself and registered in a fixture; with no other edit it is solved, priced in the
solution and by ``solve --sensitivity``, counted by the size guard and kept exact by presolve.

The instance (hand-derived): one region, one class (unmet 1000 CNY/MWh), two periods of 1 h with
weight 1 (``sum a = 2``), 10 MW of demand in each. Site ``cheap`` (100 CNY/MWh, 100 MW) takes
everything without the cap: 2 x 10 x 100 = 2,000. Site ``dear`` (300 CNY/MWh, 5 MW) cannot hold
the demand alone, so it is not a hub, and its arc is dominated by the arc to ``cheap``, a hub.
With ``cheap``'s mean load capped at 5 MW (10 MWh over the two periods), ``cheap`` serves 10 MWh
and ``dear`` the other 10 at full capacity: 10 x 100 + 10 x 300 = 4,000. One more MWh allowed at
``cheap`` moves one from ``dear``: the row's dual is 200 per MWh, 400 per MW of mean load.
Presolve must keep the dominated arc: without it 10 MWh go unmet, 10 x 100 + 10 x 1000 = 11,000.
"""

from __future__ import annotations

import copy
import importlib.util
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from optimizer.backends.base import SolveOptions, Status
from optimizer.compile import compile_instance
from optimizer.load import parse
from optimizer.model import FAMILIES, formulate
from optimizer.model.family import EXACT, RULES, Family, Stance, check_registry, no_size
from optimizer.model.size import estimate
from optimizer.pipeline import Run, solve_document
from optimizer.presolve import DOMINATED
from optimizer.sensitivity import sensitivity, table

DOC = Path(__file__).parents[2] / "docs" / "adding-a-family.md"
REL = 1e-7


def doc_example() -> Callable[[dict[str, float]], Family]:
    """``mean_load_cap`` as written in docs/adding-a-family.md (its one python block)."""
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1, "the document should hold exactly one python block"
    namespace: dict[str, Any] = {}
    exec(compile(blocks[0], str(DOC), "exec"), namespace)  # the doc's code, run as written
    factory: Callable[[dict[str, float]], Family] = namespace["mean_load_cap"]
    return factory


@pytest.fixture
def register() -> Iterator[Callable[[Family], None]]:
    """Register families for one test (appended to FAMILIES, removed afterwards)."""
    added: list[Family] = []

    def add(family: Family) -> None:
        FAMILIES.append(family)
        added.append(family)

    yield add
    for family in added:
        FAMILIES.remove(family)


def instance() -> dict[str, Any]:
    def site(name: str, capacity: float, price: float) -> dict[str, Any]:
        return {"id": name, "location": [30.0, 120.0], "capacity_mw": capacity, "pue": 1.0,
                "price": price}

    return {
        "version": 1, "name": "capped",
        "periods": {"count": 2, "hours": 1, "weight": 1},
        "regions": [{"id": "r", "location": [30.0, 120.0], "demand": {"k": 10}}],
        "sites": [site("cheap", 100, 100), site("dear", 5, 300)],
        "classes": [{"id": "k", "unmet_penalty": 1000}],
    }


def solve(prune: bool = True) -> Run:
    run = solve_document(parse(copy.deepcopy(instance())),
                         SolveOptions(solver="clp", prune=prune))
    assert run.solution.status is Status.OPTIMAL
    return run


def test_without_the_family_everything_goes_to_the_hub() -> None:
    run = solve()
    assert run.solution.objective == pytest.approx(2000.0, rel=REL)
    assert run.arrays.arcs_removed[DOMINATED] == 1  # the arc to dear: presolve fires here


def test_a_registered_family_is_solved_priced_and_sized(
        register: Callable[[Family], None]) -> None:
    plain = estimate(compile_instance(parse(instance()).instance))
    register(doc_example()({"cheap": 5.0}))
    run = solve()
    sol = run.solution
    assert sol.objective == pytest.approx(4000.0, rel=REL)
    assert sol.costs["energy"] == pytest.approx(4000.0, rel=REL)
    assert run.arrays.arcs_removed[DOMINATED] == 0  # its stance switched dominance off
    # priced in the solution JSON ...
    prices = {(p["constraint"], p["subject"]): p["value"] for p in sol.to_dict()["shadow_prices"]}
    assert prices[("mean_load_cap", "cheap")] == pytest.approx(400.0, rel=REL)
    # ... and in solve --sensitivity, in plain words, ranked with the rest
    findings = [f for f in sensitivity(run, relax_latency=False) if f.kind == "mean_load_cap"]
    assert [f.subject for f in findings] == ["cheap"]
    assert findings[0].sentence == ("one more MW of mean IT load allowed at cheap would save "
                                    "400 CNY a year")
    assert any(row[1] == "mean-load cap" for row in table(findings).rows)
    # ... and counted by the size guard: two flow entries (one arc x two periods)
    sized = estimate(compile_instance(parse(instance()).instance))
    assert sized.nonzeros == plain.nonzeros + 2
    lp = formulate(run.arrays)
    assert lp.rows["mean_load_cap"].size == 1


def test_the_stance_is_what_keeps_presolve_exact(register: Callable[[Family], None]) -> None:
    """The trap the stance closes: the same family claiming both rules stay exact lets presolve
    drop the arc to dear, and the optimum is wrong (11,000 instead of 4,000)."""
    family = doc_example()({"cheap": 5.0})
    register(Family(family.name, family.define, presolve=EXACT, size=family.size,
                    prices=family.prices))
    wrong = solve()
    assert wrong.arrays.arcs_removed[DOMINATED] == 1
    assert wrong.solution.objective == pytest.approx(11000.0, rel=REL)
    assert solve(prune=False).solution.objective == pytest.approx(4000.0, rel=REL)


def test_a_family_without_a_presolve_stance_fails_at_import(tmp_path: Path) -> None:
    module = tmp_path / "stanceless_family.py"
    module.write_text(
        "from optimizer.model.family import Family, no_size\n"
        "FAMILY = Family('stanceless', lambda arrays, builder: None, size=no_size)\n")
    spec = importlib.util.spec_from_file_location("stanceless_family", module)
    assert spec is not None
    assert spec.loader is not None
    with pytest.raises(TypeError, match="presolve"):
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    assert "stanceless_family" not in sys.modules
    with pytest.raises(TypeError, match="presolve must be a Stance"):
        Family("bad", lambda arrays, builder: None, presolve=None, size=no_size)  # type: ignore[arg-type]


def test_stances_name_known_rules_and_say_why() -> None:
    with pytest.raises(ValueError, match="unknown presolve rules"):
        Stance(frozenset({"dominated"}), "a typo")
    for family in FAMILIES:
        assert family.presolve.keeps <= set(RULES)
        assert family.presolve.why


def test_names_and_price_kinds_are_unique() -> None:
    check_registry(FAMILIES)
    with pytest.raises(ValueError, match="repeated family names"):
        check_registry([*FAMILIES, FAMILIES[0]])

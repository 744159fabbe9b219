"""The pipeline is one-directional: a stage imports only from the stages before it."""

from __future__ import annotations

import ast
from pathlib import Path

import optimizer

PACKAGE = Path(optimizer.__file__).parent

# each module's stage; a module may import from its own stage or earlier ones
STAGES = {
    "errors": 0, "yamlio": 0, "schema": 0, "series": 1, "geo": 1, "validate": 1, "load": 1,
    "importers": 1, "bench": 6, "overrides": 0, "generate": 0, "sensitivity": 8, "warm": 4,
    "compile": 2, "presolve": 2, "model": 3, "backends": 4, "check": 4, "interpret": 5,
    "pipeline": 6, "report": 7, "cli": 8, "study": 8,
    "records": 5, "studies": 8,
}


def stage_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "optimizer" or len(parts) < 2:
        return None
    return STAGES.get(parts[1])


def test_imports_point_backwards_only() -> None:
    bad = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.parts[0] in ("__init__", "__main__", "data"):
            continue
        own = STAGES[rel.parts[0]]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                stage = stage_of(name)
                if stage is not None and stage > own:
                    bad.append(f"{rel}: imports {name}")
    assert not bad, bad


def test_every_module_has_a_stage() -> None:
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py")
            for p in PACKAGE.rglob("*.py")}
    assert tops - {"__init__", "data"} <= set(STAGES)

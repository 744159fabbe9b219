"""The package's shape: one direction, no cycles, small modules and functions.

- The pipeline is one-directional: a module imports only from its own stage or earlier ones.
- No import cycle among ``optimizer`` modules (lazy imports inside functions count too).
- No module over ``MAX_MODULE_LINES`` lines, no function over ``MAX_FUNCTION_LINES`` (from its
  ``def`` to its last line, nested functions included in their parent).

Each test lists every offender, not just the first.
"""

from __future__ import annotations

import ast
from pathlib import Path

import optimizer

PACKAGE = Path(optimizer.__file__).parent
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 80

# each module's stage; a module may import from its own stage or earlier ones
STAGES = {
    "errors": 0, "yamlio": 0, "schema": 0, "overrides": 0, "generate": 0,
    "series": 1, "geo": 1, "validate": 1, "plan_check": 1, "load": 1, "importers": 1,
    "compile": 2, "cases": 2,
    "presolve": 3, "model": 3,
    "backends": 4, "check": 4, "warm": 4, "engine": 4,
    "interpret": 5, "solution": 5, "records": 5,
    "pipeline": 6, "bench": 6, "planning": 6,
    "report": 7,
    "cli": 8, "api": 8, "study": 8, "studies": 8, "sensitivity": 8,
}


def modules() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("optimizer", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def imported(tree: ast.AST, known: dict[str, Path]) -> set[str]:
    """The package's modules a module imports (``from a import b`` counts as ``a.b`` where that
    is a module)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                names.add(sub if sub in known else node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n in known}


def stage_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "optimizer" or len(parts) < 2:
        return None
    return STAGES.get(parts[1])


def test_imports_point_backwards_only() -> None:
    known = modules()
    bad = []
    for name, path in known.items():
        own = stage_of(name)
        if own is None:
            continue
        for target in sorted(imported(ast.parse(path.read_text()), known)):
            stage = stage_of(target)
            if stage is not None and stage > own:
                bad.append(f"{name} (stage {own}) imports {target} (stage {stage})")
    assert not bad, "\n".join(bad)


def test_every_module_has_a_stage() -> None:
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py")
            for p in PACKAGE.rglob("*.py")}
    assert tops - {"__init__", "__main__", "data"} <= set(STAGES)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), and self-loops."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle() -> None:
    known = modules()
    graph = {name: imported(ast.parse(path.read_text()), known) - {name}
             for name, path in known.items()}
    # the package itself re-exports the library lazily (PEP 562 ``__getattr__``, typing-only
    # imports): a facade for users, not a dependency of the modules that read __version__
    assert graph["optimizer"] <= {"optimizer.api"}
    graph["optimizer"] = set()
    assert not cycles(graph), cycles(graph)


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_modules_and_functions_are_small() -> None:
    too_long = []
    for name, path in modules().items():
        text = path.read_text()
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"module {name}: {lines} lines")
        tree = ast.parse(text)
        # top-level functions and methods; nested functions count in their parent
        outer = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for cls in (n for n in tree.body if isinstance(n, ast.ClassDef)):
            outer += [n for n in cls.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for fn in outer:
            span = (fn.end_lineno or fn.lineno) - fn.lineno + 1
            if span > MAX_FUNCTION_LINES:
                too_long.append(f"function {name}.{fn.name} (line {fn.lineno}): {span} lines")
    assert not too_long, "\n".join(too_long)


# The CLI is a thin layer over the library (optimizer.api): it parses options, calls the API,
# prints and writes what it returns. It reaches the pipeline, the runs of sweeps, Pareto fronts
# and benchmark suites, and a plan's measures only through the API.
RUN_MODULES = ("optimizer.pipeline", "optimizer.study")  # optimizer.study re-exports the runs
RUN_NAMES = frozenset({"solve_document", "solve_plan", "solve_measures", "run_sweep",
                       "run_pareto", "run_suite"})
RUNNING_COMMANDS = ("optimizer.cli.solve", "optimizer.cli.studies", "optimizer.cli.bench")


def _absolute(node: ast.ImportFrom, module: str, package: bool) -> str:
    """The module a ``from ... import`` names, relative imports resolved against ``module``."""
    if node.level == 0:
        return node.module or ""
    parts = module.split(".")
    base = parts[:len(parts) - node.level + (1 if package else 0)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _is_run_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in RUN_MODULES)


def bypasses(tree: ast.AST, module: str = "optimizer.cli.x", package: bool = False) -> list[str]:
    """Each place ``tree`` reaches a run without the API: an import of a run module (or from
    one), an import of a run function from anywhere, or an attribute of that name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node, module, package)
            for alias in node.names:
                if (_is_run_module(source) or _is_run_module(f"{source}.{alias.name}")
                        or alias.name in RUN_NAMES):
                    found.append(f"line {node.lineno}: from {source} import {alias.name}")
        elif isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names
                      if _is_run_module(a.name)]
        elif isinstance(node, ast.Attribute) and node.attr in RUN_NAMES:
            found.append(f"line {node.lineno}: .{node.attr}")
    return found


def test_the_cli_runs_through_the_api_only() -> None:
    known = modules()
    cli = {name: path for name, path in known.items()
           if name == "optimizer.cli" or name.startswith("optimizer.cli.")}
    assert set(RUNNING_COMMANDS) <= set(cli)
    bad = [f"{name} {where}" for name, path in cli.items()
           for where in bypasses(ast.parse(path.read_text()), name,
                                 path.name == "__init__.py")]
    assert not bad, "the CLI bypasses optimizer.api:\n" + "\n".join(bad)
    for name in RUNNING_COMMANDS:  # and the commands that run something do call it
        assert "optimizer.api" in imported(ast.parse(cli[name].read_text()), known), name


def test_the_bypass_finder_finds_bypasses() -> None:
    source = """
from optimizer.pipeline import Run
import optimizer.pipeline
from optimizer import pipeline, study
from ..pipeline import run
from optimizer.studies.sweep import run_sweep
from optimizer.studies.pareto import SECOND_OBJECTIVES, run_pareto
from optimizer.bench import load_suite, run_suite
from optimizer.planning import solve_measures
rows = bench_module.run_suite(suite)
"""
    found = bypasses(ast.parse(source), "optimizer.cli.solve")
    assert [f.split(":")[0] for f in found] == [
        "line 2", "line 3", "line 4", "line 4", "line 5", "line 6", "line 7", "line 8",
        "line 9", "line 10"], found
    assert bypasses(ast.parse("from optimizer import api\nfrom optimizer.studies.pareto "
                              "import SECOND_OBJECTIVES\nresult = api.solve(None)\n")) == []

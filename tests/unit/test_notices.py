"""Backend notices are data; the CLI words them with its flags, the library with option names."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
import typer.main
from rich.console import Console

from optimizer.backends.base import Notice, NoticeKind, SolveOptions, option_words, ref
from optimizer.cli.common import CLI_FLAGS, flag_words
from optimizer.errors import UsageError
from optimizer.load import load
from optimizer.pipeline import solve_document
from optimizer.report import console, files, markdown
from optimizer.report.notices import word_error, word_notices

TINY = Path(__file__).parents[2] / "instances" / "tiny.yaml"

GAP = Notice("gap", None, f"is ignored by cbc through OR-Tools (use {ref('backend', 'pulp')})")
JOBS = Notice("workers", 2, f"has no effect: this LP is solved as one ({ref('decompose', False)})",
              NoticeKind.NO_EFFECT)
AUTO = Notice("solver", "auto", f"SCIP (CBC through OR-Tools ignores {ref('gap')})",
              NoticeKind.CHOSEN)
SPLIT = Notice("decompose", True, f"solved as 2 independent period LPs (exact; "
                                  f"{ref('decompose', False)} for one LP)", NoticeKind.INFO)


@pytest.mark.parametrize(("notice", "cli", "library"), [
    (GAP, "--gap is ignored by cbc through OR-Tools (use --backend pulp)",
     "gap is ignored by cbc through OR-Tools (use backend='pulp')"),
    (JOBS, "--jobs 2 has no effect: this LP is solved as one (--no-decompose)",
     "workers=2 has no effect: this LP is solved as one (decompose=False)"),
    (AUTO, "solver chosen automatically: SCIP (CBC through OR-Tools ignores --gap)",
     "solver chosen automatically: SCIP (CBC through OR-Tools ignores gap)"),
    (SPLIT, "solved as 2 independent period LPs (exact; --no-decompose for one LP)",
     "solved as 2 independent period LPs (exact; decompose=False for one LP)"),
])
def test_worded_for_the_cli_and_for_the_library(notice: Notice, cli: str, library: str) -> None:
    assert word_notices([notice], flag_words) == [cli]
    assert word_notices([notice], option_words) == [library]
    assert notice.words() == library  # the library's wording is the default


def test_flags_name_true_false_and_values_as_the_cli_takes_them() -> None:
    assert flag_words("decompose", True) == "--decompose"
    assert flag_words("prune", False) == "--no-prune"
    assert flag_words("time_limit", 2.5) == "--time-limit 2.5"
    assert flag_words("solver", "glop") == "--solver glop"
    assert flag_words("not_an_option", 3) == "not_an_option=3"  # no flag: the library's name


def test_every_solve_option_has_its_flag_on_the_solve_command() -> None:
    from optimizer.cli import app

    command = typer.main.get_command(app).commands["solve"]  # type: ignore[attr-defined]
    given = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    assert set(CLI_FLAGS) == {f.name for f in dataclasses.fields(SolveOptions)}
    for option, flag in CLI_FLAGS.items():
        assert flag in given, (option, flag)
        if option in ("decompose", "prune"):
            assert flag_words(option, False) in given


def test_a_usage_error_with_a_notice_is_worded_like_the_notices() -> None:
    notice = Notice("solver", "glop", "cannot solve a MIP", NoticeKind.REFUSED)
    exc = UsageError(notice.words(), notice)
    assert str(exc) == "solver='glop' cannot solve a MIP"
    assert word_error(exc, flag_words) == "--solver glop cannot solve a MIP"
    assert word_error(UsageError("plain"), flag_words) == "plain"


def test_the_renderers_put_the_worded_notices_before_the_notes() -> None:
    sol = solve_document(load(TINY), SolveOptions(solver="clp")).solution
    sol.notices = [GAP, JOBS]
    first, second = word_notices(sol.notices, flag_words)
    out = io.StringIO()
    console.render(sol, Console(file=out, width=300), name=flag_words)
    text = out.getvalue()
    assert text.index(first) < text.index(second) < text.index(sol.notes[0])
    report = markdown.render(sol, name=flag_words)
    assert f"- {first}\n- {second}\n- {sol.notes[0]}" in report
    notes = json.loads(files.solution_json(sol, name=flag_words))["notes"]
    assert notes == [first, second, *sol.notes]
    library = json.loads(files.solution_json(sol))["notes"]  # the library's names by default
    assert library[:2] == word_notices(sol.notices, option_words)


def test_no_cli_wording_below_the_cli() -> None:
    """The solve path (backends, model, presolve, interpret, pipeline, sensitivity, the notice
    wording of the report) names options only through notices: no ``--flag`` in its strings
    (docstrings aside: they may say which flag a field comes from)."""
    import ast
    import re

    import optimizer

    package = Path(optimizer.__file__).parent
    flag = re.compile(r"(?<![\w-])--[a-z]")
    found = []
    paths = [*sorted((package / "backends").glob("*.py")), *sorted((package / "model").glob(
        "*.py")), *(package / f"{m}.py" for m in ("warm", "presolve", "interpret", "solution",
                                                   "pipeline", "sensitivity", "check")),
             package / "report" / "notices.py"]
    for path in paths:
        tree = ast.parse(path.read_text())
        docs = {id(n.body[0].value) for n in ast.walk(tree)
                if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef)
                and ast.get_docstring(n, clean=False) is not None}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and flag.search(node.value) and id(node) not in docs):
                found.append(f"{path.name}:{node.lineno}: {node.value[:60]!r}")
    assert not found, found

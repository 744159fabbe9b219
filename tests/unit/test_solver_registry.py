"""The solver registry's flags drive the choices, the problem classes, the thread pools and the
notices about options a solver ignores."""

from __future__ import annotations

import dataclasses

import pytest

from optimizer import backends
from optimizer.backends import base, registry
from optimizer.backends.base import Notice, NoticeKind, SolveOptions, option_words
from optimizer.backends.ortools_backend import PARAMETERS
from optimizer.backends.registry import SOLVERS, ignored_options, lookup
from optimizer.cli.common import flag_words
from optimizer.errors import UsageError
from optimizer.load import load
from optimizer.model import LinearProgram
from optimizer.report.notices import word_notices


def _with(monkeypatch: pytest.MonkeyPatch, backend: str, name: str, **flags: object) -> None:
    """The registry with one record's flags changed."""
    changed = tuple(dataclasses.replace(s, **flags) if (s.backend, s.name) == (backend, name)
                    else s for s in SOLVERS)
    monkeypatch.setattr(registry, "SOLVERS", changed)


def test_choices_are_the_registry_s_solvers_chosen_per_solve(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert backends.SOLVER_CHOICES == registry.choices() == {
        "ortools": ("auto", "clp", "glop", "pdlp", "highs", "scip", "cbc"),
        "pulp": ("auto", "cbc", "highs")}
    assert set(backends.BACKENDS) == set(registry.choices())
    _with(monkeypatch, "ortools", "pdlp", warm_start=True)  # a kept solver is not a choice
    assert "pdlp" not in registry.choices()["ortools"]


def test_the_lp_and_mip_flags_decide_what_a_solver_may_solve(
        monkeypatch: pytest.MonkeyPatch, lp: LinearProgram, mip: LinearProgram) -> None:
    assert registry.names("ortools", lp) == ("clp", "glop", "pdlp", "highs", "scip")
    assert registry.names("ortools", mip) == ("highs", "scip", "cbc")
    with pytest.raises(UsageError) as caught:
        registry.suitable("ortools", "glop", mip)
    notice = caught.value.notice
    assert notice == Notice("solver", "glop", "cannot solve a MIP (it has integer decisions) "
                            "with the ortools backend; choose one of highs, scip, cbc",
                            NoticeKind.REFUSED)
    assert str(caught.value).startswith("solver='glop' cannot solve a MIP")
    _with(monkeypatch, "ortools", "glop", mip=True)
    assert registry.suitable("ortools", "glop", mip).name == "glop"


@pytest.mark.parametrize("solver", ["clp", "glop", "scip", "cbc"])
def test_threads_are_reported_ignored_where_the_flag_says_so(
        monkeypatch: pytest.MonkeyPatch, mip: LinearProgram, solver: str) -> None:
    info = lookup("ortools", solver)
    assert info is not None
    assert not info.threads
    notices = ignored_options(info, mip, SolveOptions(threads=2))
    assert [n.option for n in notices] == ["threads"]
    assert notices[0].reason.startswith(f"is ignored by {info.label}")
    assert not ignored_options(info, mip, SolveOptions(threads=1))  # one thread: what it does
    assert not ignored_options(dataclasses.replace(info, threads=True), mip,
                               SolveOptions(threads=2))


def test_the_gap_on_a_mip_and_the_backend_that_honours_it(
        monkeypatch: pytest.MonkeyPatch, lp: LinearProgram, mip: LinearProgram) -> None:
    cbc = lookup("ortools", "cbc")
    assert cbc is not None
    notices = ignored_options(cbc, mip, SolveOptions(gap=0.01))
    assert word_notices(notices, flag_words) == [
        "--gap is ignored by cbc through OR-Tools (use --backend pulp)"]
    assert word_notices(notices, option_words) == [
        "gap is ignored by cbc through OR-Tools (use backend='pulp')"]
    glop = lookup("ortools", "glop")
    assert glop is not None
    assert not ignored_options(glop, lp, SolveOptions(gap=0.01))  # an LP has no gap
    scip = lookup("ortools", "scip")
    assert scip is not None
    assert not ignored_options(scip, mip, SolveOptions(gap=0.01))
    _with(monkeypatch, "pulp", "cbc", gap=False)  # no backend honours it: no advice
    assert word_notices(ignored_options(cbc, mip, SolveOptions(gap=0.01)), flag_words) == [
        "--gap is ignored by cbc through OR-Tools"]


def test_a_time_limit_the_solver_does_not_take_is_reported(lp: LinearProgram) -> None:
    clp = lookup("ortools", "clp")
    assert clp is not None
    assert not ignored_options(clp, lp, SolveOptions(time_limit=5))
    notices = ignored_options(dataclasses.replace(clp, time_limit=False), lp,
                              SolveOptions(time_limit=5))
    assert word_notices(notices, flag_words) == ["--time-limit is ignored by clp through OR-Tools"]


def test_highs_keeps_the_thread_count_of_its_first_solve(
        monkeypatch: pytest.MonkeyPatch, lp: LinearProgram) -> None:
    highs = lookup("ortools", "highs")
    assert highs is not None
    monkeypatch.setattr(base, "_threads_started", set())
    assert not ignored_options(highs, lp, SolveOptions(threads=1))
    monkeypatch.setattr(base, "_threads_started", {"highs"})
    assert word_notices(ignored_options(highs, lp, SolveOptions(threads=1)), flag_words) == [
        "--threads is ignored: HiGHS set up its threads at an earlier solve in this process"]
    assert not ignored_options(highs, lp, SolveOptions())
    pulp_highs = lookup("pulp", "highs")  # highspy's pool: its thread count is not fixed
    assert pulp_highs is not None
    monkeypatch.setattr(base, "_threads_started", {"highs", "highspy"})
    assert not ignored_options(pulp_highs, lp, SolveOptions(threads=1))


def test_model_builder_parameters_follow_the_flags() -> None:
    for info in SOLVERS:
        if info.interface == "model_builder":
            forms = PARAMETERS.get(info.name, ([], {}, ""))[1]
            assert set(forms) == {o for o in ("threads", "gap") if getattr(info, o)}, info.name


def test_thread_pools_come_from_the_registry() -> None:
    assert registry.thread_pool("ortools", "highs") == "highs"
    assert registry.thread_pool("pulp", "highs") == "highspy"
    assert registry.thread_pool("ortools", "pdlp") == "pdlp"
    assert registry.thread_pool("ortools", "clp") is None
    assert registry.thread_pool("ortools", "auto") is None


def test_a_solve_reports_what_it_ignored() -> None:
    from optimizer.pipeline import solve_document

    sol = solve_document(load("instances/tiny.yaml"),
                         SolveOptions(solver="scip", threads=2)).solution
    ignored, split = sol.notices  # tiny splits into two period LPs
    assert ignored == Notice("threads", None, "is ignored by scip")
    assert (split.option, split.kind) == ("decompose", NoticeKind.INFO)
    assert not any("ignored" in n for n in sol.notes)

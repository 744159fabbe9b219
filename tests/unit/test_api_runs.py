"""What the CLI asks of the library (optimizer.api) beyond test_api.py: the options it passes
(jobs, decompose, prune, log, progress, runners, listeners, the cache), studies and suites
read and checked before anything is solved (``prepare_*``), and errors that say every problem
and which input it is in. No pandas needed; typed (mypy checks this file in .ci/run).

Optima: tiny's 14,085 CNY is derived by hand in test_tiny.py; at ``policy.carbon_price=10``
tiny is itself (its own carbon price is 10)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

import optimizer as ew
from optimizer.backends.base import Status
from optimizer.records.results import ParetoResult, PointResult, SweepResult
from optimizer.studies.runners import Listener, Runner

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "instances" / "tiny.yaml"
TINY_OPTIMUM = 14085.0


def _recording(steps: list[str]) -> Callable[[str], AbstractContextManager[None]]:
    """A ``progress`` for :func:`optimizer.api.solve` that records each step's name."""

    @contextlib.contextmanager
    def progress(step: str) -> Iterator[None]:
        steps.append(step)
        yield

    return progress


def test_the_clis_solve_options_reach_the_solve() -> None:
    steps: list[str] = []
    progress = _recording(steps)
    default = ew.solve(TINY)
    result = ew.solve(TINY, jobs=1, decompose=False, prune=False, log=True, progress=progress)
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(TINY_OPTIMUM, rel=1e-9)
    options = result.options
    assert (options.workers, options.decompose, options.prune, options.log) == (1, False,
                                                                                False, True)
    assert steps == ["solving tiny"]
    # presolve removes an arc of tiny's (one a period) unless prune=False
    assert result.solution.solver["variables"] == default.solution.solver["variables"] + 2
    # by default tiny's two periods are solved apart, and a notice says so
    assert [n.option for n in default.solution.notices].count("decompose") == 1
    assert "decompose" not in [n.option for n in result.solution.notices]


def test_every_refused_option_at_once_in_the_librarys_names() -> None:
    with pytest.raises(ew.UsageError) as caught:
        ew.solve(TINY, gap=2.0, time_limit=-1.0, jobs=0)
    message = str(caught.value)
    assert [n.option for n in caught.value.notices] == ["time_limit", "gap", "workers"]
    assert "time_limit=-1.0" in message
    assert "gap=2.0" in message
    assert "jobs=0" in message  # the argument's name, not SolveOptions' ``workers``


def test_a_plans_measures_are_a_step_of_their_own() -> None:
    steps: list[str] = []
    progress = _recording(steps)
    text = TINY.read_text(encoding="utf-8").replace("version: 1", "version: 2") + """
planning:
  years:
    - {id: y1, year: 2025}
  scenarios:
    - {id: low, probability: 0.5}
    - {id: high, probability: 0.5, set: ["regions[*].demand.batch*=1.5"]}
"""
    from optimizer.load import parse_text

    result = ew.solve(parse_text(text, "plan.yaml"), progress=progress)
    assert steps == ["solving tiny",
                     "solving the plans it is compared with (resilience, EVPI, VSS)"]
    assert "measures" in result.run.timings
    assert result.solution.measures is not None
    assert ew.solve(parse_text(text, "plan.yaml"), measures=False).solution.measures is None


class Counting(Listener):
    def __init__(self) -> None:
        self.total: int | None = None
        self.solved: list[PointResult] = []
        self.from_cache: list[PointResult] = []

    def begin(self, total: int) -> None:
        self.total = total

    def finished(self, result: PointResult) -> None:
        self.solved.append(result)

    def cached(self, result: PointResult) -> None:
        self.from_cache.append(result)


def test_a_prepared_sweep_then_its_run_with_a_listener_and_the_cache(tmp_path: Path) -> None:
    prepared = ew.prepare_sweep(vary=["policy.carbon_price=0:20:3"], instance=TINY)
    assert prepared.name == "tiny-policy.carbon_price"
    assert prepared.points == 3
    assert prepared.inputs == (("the instance file", str(TINY)),)
    first = Counting()
    study = ew.sweep(prepared, out=tmp_path, listener=first)
    assert study.runner == "serial"
    assert (first.total, len(first.solved), len(first.from_cache)) == (3, 3, 0)
    assert isinstance(study.records, SweepResult)
    assert sorted(r.index for r in first.solved) == [r.index for r in study.records.results]
    at10 = next(r for r in study.records.results
                if list(r.overrides) == ["policy.carbon_price=10"])
    assert at10.kpis is not None
    assert at10.kpis.objective == pytest.approx(TINY_OPTIMUM, rel=1e-9)
    again = Counting()
    ew.sweep(prepared, out=tmp_path, listener=again)
    assert (len(again.solved), len(again.from_cache)) == (0, 3)
    fresh = Counting()
    ew.sweep(prepared, out=tmp_path, listener=fresh, use_cache=False)
    assert (len(fresh.solved), len(fresh.from_cache)) == (3, 0)


def test_a_study_file_gives_its_options_unless_others_are_given(tmp_path: Path) -> None:
    study = tmp_path / "s.yaml"
    study.write_text(f"name: s\ninstance: {TINY}\nsolver: glop\ntime_limit: 30\n"
                     "parameters: [{path: policy.carbon_price, values: [10]}]\n",
                     encoding="utf-8")
    prepared = ew.prepare_sweep(study)
    assert (prepared.options.solver, prepared.options.time_limit) == ("glop", 30)
    assert prepared.inputs == (("the instance file", str(TINY)), ("the study file", study))
    given = ew.prepare_sweep(study, solver="clp", time_limit=5)
    assert (given.options.solver, given.options.time_limit) == ("clp", 5)


def test_a_prepared_study_refuses_what_preparing_it_decided() -> None:
    prepared = ew.prepare_sweep(vary=["policy.carbon_price=0:20:3"], instance=TINY)
    with pytest.raises(ew.UsageError, match="solver, gap: a prepared sweep has its own"):
        ew.sweep(prepared, solver="clp", gap=0.0)
    with pytest.raises(ew.UsageError, match="exclude each other"):
        ew.sweep(prepared, jobs=2, dask="local")
    with pytest.raises(ew.UsageError, match="not both"):
        ew.sweep(prepared, jobs=2, runner=Runner())
    with pytest.raises(ew.UsageError, match="jobs=0"):
        ew.sweep(prepared, jobs=0)


def test_a_bad_sweep_names_its_input_and_every_problem(tmp_path: Path) -> None:
    with pytest.raises(ew.InstanceError) as caught:
        ew.prepare_sweep(vary=["nonsense", "policy.carbon_price=a:b:3"], instance=TINY)
    assert caught.value.source == "--vary"
    assert [p.path for p in caught.value.problems] == [("nonsense",),
                                                       ("policy.carbon_price=a:b:3",)]
    study = tmp_path / "s.yaml"
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text(encoding="utf-8").replace("pue: 1.5", "pue: 0.5"),
                   encoding="utf-8")
    # (the study's instance, its parameter) -> the input named, the first problem's field
    for instance, path, source, field in [(TINY, "'sites[nowhere].price'", study,
                                           "parameters[0].path"),
                                          (bad, "policy.carbon_price", bad, "sites[0].pue")]:
        study.write_text(f"name: s\ninstance: {instance}\n"
                         f"parameters: [{{path: {path}, values: [1]}}]\n", encoding="utf-8")
        with pytest.raises(ew.InstanceError) as caught:
            ew.prepare_sweep(study)
        assert caught.value.source == str(source)
        assert caught.value.problems[0].field == field


def test_a_prepared_pareto_front(tmp_path: Path) -> None:
    with pytest.raises(ew.InstanceError) as caught:
        ew.prepare_pareto(TINY, "water")  # water needs version 2
    assert caught.value.source == str(TINY)
    assert caught.value.problems[0].path == ("version",)
    prepared = ew.prepare_pareto(TINY, "carbon", name="front")
    assert (prepared.name, prepared.second) == ("front", "carbon")
    heard = Counting()
    front = ew.pareto(prepared, points=2, out=tmp_path, listener=heard)
    assert heard.total == 4  # two extremes and two caps
    assert len(heard.solved) == 4
    assert isinstance(front.records, ParetoResult)
    least = min(p.result.kpis.objective for p in front.records.results
                if p.result.kpis is not None and p.result.kpis.objective is not None)
    assert least == pytest.approx(TINY_OPTIMUM, rel=1e-6)
    with pytest.raises(ew.UsageError, match="prepared front's is carbon"):
        ew.pareto(prepared, "latency")
    with pytest.raises(ew.UsageError, match="held or free"):
        ew.pareto(prepared, service="none")  # type: ignore[arg-type]


def test_a_prepared_suite_and_its_rows(tmp_path: Path) -> None:
    suite = tmp_path / "suite.yaml"
    suite.write_text(f"name: mini\ncases:\n  - {{name: tiny, instance: {TINY}, optimum: "
                     f"{TINY_OPTIMUM}}}\n  - {{name: tiny-wrong, instance: {TINY}, optimum: 1}}\n",
                     encoding="utf-8")
    prepared = ew.prepare_bench(suite)
    assert prepared.inputs == (("the suite file", suite), ("a file of case tiny", TINY),
                               ("a file of case tiny-wrong", TINY))
    assert (prepared.count(), prepared.count("wrong")) == (2, 1)
    seen: list[str] = []
    import optimizer.bench  # noqa: F401  (now the package's ``bench`` is this module: callable)

    rows = ew.bench(prepared, on_row=lambda row: seen.append(row["case"]))
    assert [r["case"] for r in rows] == ["tiny", "tiny-wrong"]
    assert [r["match"] for r in rows] == [True, False]
    assert sorted(seen) == ["tiny", "tiny-wrong"]
    with pytest.raises(ew.UsageError, match="no case of mini matches 'nothing'"):
        ew.bench(prepared, "nothing")
    suite.write_text("name: mini\ncases: [{name: x, instance: nowhere.yaml}]\n",
                     encoding="utf-8")
    with pytest.raises(ew.InstanceError) as caught:
        ew.prepare_bench(suite)
    assert caught.value.source == str(suite)

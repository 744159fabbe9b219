"""The phases of the model-build benchmark (benchmarks/build.py), each run in its own process.

A phase builds its inputs on demand (:class:`Context`, outside the measured region), then
measures its runs with the harness (:mod:`harness`: clock, peak memory, repeats with the slow
rule). :func:`worker` is what each fresh spawned process runs; :func:`profile_worker` is the
cProfile of compile + formulate made when the build is over the target ratio.
"""

from __future__ import annotations

import gc
import resource
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import sizes
from harness import Clock, PeakMeter, Runs, attempts, malloc_trim, measured, median, repeat
from references import pulp_build, raw_csr, same_lp

BUILD_SIZES = ("small", "medium", "large")
LP_SOLVERS = ("clp", "glop", "pdlp", "highs")
LARGE_DEFAULT_SOLVERS = ("clp",)  # glop/highs/pdlp take minutes on large: --all-solvers
PULP_CBC_SIZES = ("small", "medium")


class Context:
    """The inputs of a phase, built on demand (outside the measured region)."""

    def __init__(self, size: str, seed: int) -> None:
        self.size, self.seed = size, seed
        self._data: dict[str, Any] | None = None
        self._doc: Any = None
        self._arrays: Any = None
        self._lp: Any = None

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            self._data = sizes.generate(sizes.NAMED[self.size], self.seed,
                                        name=f"bench-{self.size}")
        return self._data

    @property
    def doc(self) -> Any:
        if self._doc is None:
            from optimizer.load import parse

            self._doc = parse(self.data)
        return self._doc

    @property
    def arrays(self) -> Any:
        if self._arrays is None:
            from optimizer.compile import compile_instance

            self._arrays = compile_instance(self.doc.instance)
        return self._arrays

    @property
    def lp(self) -> Any:
        if self._lp is None:
            from optimizer.model import formulate

            self._lp = formulate(self.arrays)
        return self._lp


def _phase_load(ctx: Context, meter: PeakMeter, repeats: int, slow_s: float) -> dict[str, Any]:
    import yaml

    from optimizer.load import parse, parse_text

    text = yaml.safe_dump(ctx.data, sort_keys=False)
    load_runs, doc = repeat(lambda: parse_text(text, "bench.yaml"), repeats, slow_s, meter)
    parse_runs, _ = repeat(lambda: parse(ctx.data), repeats, slow_s, meter)
    return {"load": load_runs.record(), "parse": parse_runs.record(),
            "info": {"yaml_mb": len(text) / 1e6, "warnings": len(doc.warnings)}}


def _build_info(arrays: Any, lp: Any) -> dict[str, Any]:
    R, S, K, T = (len(arrays.regions), len(arrays.sites), len(arrays.classes),
                  len(arrays.periods))
    per_class = np.bincount(arrays.arc_class, minlength=K) / (R * S)
    return {
        "R": R, "S": S, "T": T, "K": K, "arcs": len(arrays.arc_region),
        "arcs_possible": R * S * K,
        "arc_share_per_class": dict(zip(arrays.classes, per_class.round(3).tolist(),
                                        strict=True)),
        "variables": lp.n_vars, "constraints": lp.n_rows, "nonzeros": lp.nnz,
        "blocks": {name: b.size for name, b in {**lp.variables, **lp.rows}.items()},
    }


def _phase_build(ctx: Context, meter: PeakMeter, repeats: int, slow_s: float) -> dict[str, Any]:
    from optimizer.compile import compile_instance
    from optimizer.model import formulate

    instance = ctx.doc.instance
    comp, form, build = Runs(), Runs(), Runs()
    arrays = lp = None
    for _ in attempts(repeats, slow_s, build):
        arrays = lp = None
        meter.start()
        base = meter.rss_mb()
        with Clock() as c1:
            arrays = compile_instance(instance)
        peak_c = meter.stop()
        meter.start()
        kept = meter.rss_mb() - base  # what compile's result holds
        with Clock() as c2:
            lp = formulate(arrays)
        peak_f = meter.stop()
        comp.add_clock(c1, peak_c)
        form.add_clock(c2, peak_f)
        build.add(c1.wall + c2.wall, c1.user + c2.user, c1.sys + c2.sys,
                  c1.minflt + c2.minflt, max(peak_c, kept + peak_f))
    assert arrays is not None
    assert lp is not None
    return {"compile": comp.record(), "formulate": form.record(),
            "eastwest_build": build.record(), "info": _build_info(arrays, lp)}


def _phase_raw(ctx: Context, meter: PeakMeter, repeats: int, slow_s: float) -> dict[str, Any]:
    arrays = ctx.arrays
    runs, raw = repeat(lambda: raw_csr(arrays), repeats, slow_s, meter)
    diffs = same_lp(raw, ctx.lp)  # after the timing: lp is not part of the measured memory
    return {"raw_csr": runs.record(same_lp_as_eastwest=not diffs, differences=diffs)}


def _phase_ortools_load(ctx: Context, meter: PeakMeter, repeats: int,
                        slow_s: float) -> dict[str, Any]:
    from optimizer.backends.ortools_backend import to_model

    lp = ctx.lp
    runs, model = repeat(lambda: to_model(lp), repeats, slow_s, meter)
    # ModelBuilderHelper's counts are methods (a bound method does not pickle back)
    return {"ortools_load": runs.record(model_vars=model.num_variables(),
                                        model_rows=model.num_constraints())}


def _phase_pulp(ctx: Context, meter: PeakMeter, repeats: int, slow_s: float) -> dict[str, Any]:
    arrays, lp = ctx.arrays, ctx.lp
    runs, (_prob, counts) = repeat(lambda: pulp_build(arrays), repeats, slow_s, meter)
    same = counts == {"variables": lp.n_vars, "constraints": lp.n_rows}
    return {"pulp_build": runs.record(**counts, same_size_as_lp=same)}


def _solver_phase(solver: str) -> Callable[..., dict[str, Any]]:
    def run(ctx: Context, meter: PeakMeter, repeats: int, slow_s: float) -> dict[str, Any]:
        from optimizer.backends import solve
        from optimizer.backends.base import SolveOptions

        lp = ctx.lp
        options = SolveOptions(backend="ortools", solver=solver)
        runs, solver_times = Runs(), []
        raw = None
        for _ in attempts(repeats, slow_s, runs):
            raw = None
            with measured(runs, meter):
                raw = solve(lp, options)
            solver_times.append(raw.solve_s)
        assert raw is not None
        # the table shows the solver's own time (RawResult.solve_s); the wall time of
        # backends.solve (model load, proto export, dual re-solve) is kept as wall_times
        record = runs.record(status=str(raw.status), objective=raw.objective,
                             message=raw.message)
        record["wall_times"], record["times"] = record["times"], solver_times
        return {f"solve_{solver}": record}

    return run


def _phase_pdlp_default(ctx: Context, meter: PeakMeter, repeats: int,
                        slow_s: float) -> dict[str, Any]:
    """PDLP through model_builder with OR-Tools' default tolerances (the backend tightens them)."""
    from ortools.linear_solver.python import model_builder_helper as mbh

    from optimizer.backends.base import capture_fd_output
    from optimizer.backends.ortools_backend import to_model

    lp = ctx.lp
    runs = Runs()
    status, objective = "", None
    for _ in attempts(repeats, slow_s, runs):
        model = to_model(lp)
        solver = mbh.ModelSolverHelper("pdlp")
        with measured(runs, meter), capture_fd_output():
            solver.solve(model)
        name = solver.status().name
        status = "optimal" if name == "OPTIMAL" else name.lower()
        objective = float(solver.objective_value()) if status == "optimal" else None
        del model, solver
    return {"solve_pdlp_default": runs.record(status=status, objective=objective)}


def _phase_pulp_cbc(ctx: Context, meter: PeakMeter, repeats: int,
                    slow_s: float) -> dict[str, Any]:
    import pulp

    arrays = ctx.arrays
    runs, builds, solves = Runs(), [], []
    status, objective = "", None
    for _ in attempts(repeats, slow_s, runs):
        with measured(runs, meter):
            with Clock() as building:
                prob, _counts = pulp_build(arrays)
            with Clock() as solving:
                prob.solve(pulp.PULP_CBC_CMD(msg=False))
        builds.append(building.wall)
        solves.append(solving.wall)
        status = pulp.LpStatus[prob.status]
        objective = pulp.value(prob.objective)
        del prob
    cbc_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    return {"pulp_cbc": runs.record(
        build_times=builds, solve_times=solves, cbc_process_peak_mb=cbc_peak,
        status="optimal" if status == "Optimal" else status,
        objective=None if objective is None else float(objective))}


PHASES: dict[str, Callable[..., dict[str, Any]]] = {
    "load": _phase_load,
    "build": _phase_build,
    "raw": _phase_raw,
    "ortools_load": _phase_ortools_load,
    "pulp_build": _phase_pulp,
    **{f"solve_{s}": _solver_phase(s) for s in LP_SOLVERS},
    "solve_pdlp_default": _phase_pdlp_default,
    "pulp_cbc": _phase_pulp_cbc,
}


def plan(size: str, all_solvers: bool) -> list[str]:
    """The phases measured at ``size``, in order."""
    phases = ["build", "load", "raw", "ortools_load", "pulp_build"]
    solvers = LP_SOLVERS if (size != "large" or all_solvers) else LARGE_DEFAULT_SOLVERS
    phases += [f"solve_{s}" for s in solvers]
    if "pdlp" in solvers:
        phases.append("solve_pdlp_default")
    if size in PULP_CBC_SIZES:
        phases.append("pulp_cbc")
    return phases


def worker(size: str, phase: str, seed: int, repeats: int, slow_s: float) -> dict[str, Any]:
    """Runs in a fresh spawned process (``harness.run_isolated``): one phase of one size."""
    meter = PeakMeter()
    result = PHASES[phase](Context(size, seed), meter, repeats, slow_s)
    result["_meta"] = {"memory_method": meter.method}
    return result


def profile_worker(size: str, seed: int, top: int) -> dict[str, Any]:
    """cProfile of compile + formulate: the first call in a fresh process, then a second one."""
    import cProfile
    import io
    import pstats

    from optimizer.compile import compile_instance
    from optimizer.model import formulate

    instance = Context(size, seed).doc.instance
    out: dict[str, Any] = {}
    for run in ("first", "second"):
        gc.collect()
        malloc_trim()
        profiler = cProfile.Profile()
        with Clock() as clock:
            profiler.enable()
            lp = formulate(compile_instance(instance))
            profiler.disable()
        del lp
        listing = {}
        for key in ("tottime", "cumulative"):
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(key).print_stats(top)
            listing[key] = buf.getvalue()
        out[run] = {"wall_s": clock.wall, "user_s": clock.user, "sys_s": clock.sys,
                    "minflt": clock.minflt, **listing}
    out["stages"] = _stage_breakdown(instance, repeats=3)
    return out


def _stage_breakdown(instance: Any, repeats: int) -> dict[str, Any]:
    """Median wall seconds of each family's ``define`` and of ``Builder.build`` (formulate's
    own steps, replayed), and what the builder collected."""
    from optimizer.compile import compile_instance
    from optimizer.model import FAMILIES
    from optimizer.model.lp import Builder

    arrays = compile_instance(instance)
    samples: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, int] = {}
    for _ in range(repeats):
        gc.collect()
        builder = Builder()
        for family in FAMILIES:
            with Clock() as clock:
                family.define(arrays, builder)
            samples[f"define: {family.name}"].append(clock.wall)
        counts = {"A triplets": sum(len(t[0]) for t in getattr(builder, "_terms", [])),
                  "cost triplets": sum(len(t[1]) for t in getattr(builder, "_costs", []))}
        with Clock() as clock:
            lp = builder.build()
        samples["Builder.build (COO -> CSR of A and of the cost matrix)"].append(clock.wall)
        counts |= {"A nnz": lp.nnz, "cost_matrix nnz": int(lp.cost_matrix.nnz)}
        del lp, builder
    return {"median_s": {k: median(v) for k, v in samples.items()}, "counts": counts}

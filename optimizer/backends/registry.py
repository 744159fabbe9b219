"""What each solver can do, one record per solver and backend (linopy's solver capabilities).

Every list of solvers elsewhere is read from :data:`SOLVERS`: the solver choices, which
solvers take LPs or MIPs, whose duals are trusted, which are reached through the exported proto,
which start a native thread pool (fork safety, :func:`~optimizer.backends.base.fork_is_safe`),
and the notices about options a solver does not honour (:func:`ignored_options`).
"""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.backends.base import (
    Notice,
    NoticeKind,
    SolveOptions,
    ref,
    threaded_solver_ran,
)
from optimizer.errors import UsageError
from optimizer.model.lp import LinearProgram


@dataclass(frozen=True)
class SolverInfo:
    """One solver as one backend reaches it."""

    name: str  # SolveOptions.solver
    backend: str  # SolveOptions.backend
    native: str  # its name where it runs: model_builder solver, MPModelRequest type, PuLP class
    interface: str  # how it is reached: model_builder, proto (pywraplp), pulp, highspy
    title: str  # its name in a sentence
    lp: bool  # solves LPs
    mip: bool  # solves MIPs
    trusted_duals: bool  # its LP duals are correct (SOLVERS.md: not model_builder's HiGHS, SCIP)
    time_limit: bool  # honours SolveOptions.time_limit
    gap: bool  # honours SolveOptions.gap
    threads: bool  # honours SolveOptions.threads
    threads_once: bool = False  # its thread count is fixed at its first solve in a process
    thread_pool: str | None = None  # the native thread pool it starts in the process, if any
    warm_start: bool = False  # keeps its model between solves (WarmSolver): not chosen per solve
    duals_from: str = ""  # its name in RawResult.duals_from (default: ``name``)

    @property
    def label(self) -> str:
        """Its name where a notice names it: CLP and CBC are reached through OR-Tools' proto."""
        return f"{self.name} through OR-Tools" if self.interface == "proto" else self.name


_MB, _PROTO = "model_builder", "proto"
SOLVERS: tuple[SolverInfo, ...] = (
    SolverInfo("clp", "ortools", "CLP_LINEAR_PROGRAMMING", _PROTO, "CLP", lp=True, mip=False,
               trusted_duals=True, time_limit=True, gap=False, threads=False),
    SolverInfo("glop", "ortools", "glop", _MB, "GLOP", lp=True, mip=False, trusted_duals=True,
               time_limit=True, gap=False, threads=False),
    SolverInfo("pdlp", "ortools", "pdlp", _MB, "PDLP", lp=True, mip=False, trusted_duals=True,
               time_limit=True, gap=False, threads=True, thread_pool="pdlp"),
    SolverInfo("highs", "ortools", "highs", _MB, "HiGHS", lp=True, mip=True,
               trusted_duals=False, time_limit=True, gap=True, threads=True, threads_once=True,
               thread_pool="highs"),
    SolverInfo("scip", "ortools", "scip", _MB, "SCIP", lp=True, mip=True, trusted_duals=False,
               time_limit=True, gap=True, threads=False),
    SolverInfo("cbc", "ortools", "CBC_MIXED_INTEGER_PROGRAMMING", _PROTO, "CBC", lp=False,
               mip=True, trusted_duals=False, time_limit=True, gap=False, threads=False),
    SolverInfo("cbc", "pulp", "PULP_CBC_CMD", "pulp", "CBC", lp=True, mip=True,
               trusted_duals=True, time_limit=True, gap=True, threads=True),
    SolverInfo("highs", "pulp", "HiGHS", "pulp", "HiGHS", lp=True, mip=True, trusted_duals=True,
               time_limit=True, gap=True, threads=True, thread_pool="highspy"),
    SolverInfo("highs-warm", "highspy", "Highs", "highspy", "HiGHS", lp=True, mip=False,
               trusted_duals=True, time_limit=True, gap=False, threads=True,
               thread_pool="highspy", warm_start=True, duals_from="highspy"),
)


def lookup(backend: str, solver: str) -> SolverInfo | None:
    """The record of ``solver`` through ``backend``; None if there is none (``auto`` too)."""
    return next((s for s in SOLVERS if (s.backend, s.name) == (backend, solver)), None)


def get(backend: str, solver: str) -> SolverInfo:
    """The record of ``solver`` through ``backend``, which must exist."""
    info = lookup(backend, solver)
    if info is None:
        raise KeyError(f"no solver {solver!r} in the {backend} backend")
    return info


def names(backend: str, lp: LinearProgram | None = None) -> tuple[str, ...]:
    """The solvers of ``backend`` (that can solve ``lp``, an LP or a MIP, if given)."""
    return tuple(s.name for s in SOLVERS
                 if s.backend == backend and (lp is None or (s.mip if lp.is_mip else s.lp)))


def choices() -> dict[str, tuple[str, ...]]:
    """The solver choices by backend: ``auto`` and every solver chosen per solve."""
    chosen = [s for s in SOLVERS if not s.warm_start]
    return {b: ("auto", *(s.name for s in chosen if s.backend == b))
            for b in dict.fromkeys(s.backend for s in chosen)}


def thread_pool(backend: str, solver: str) -> str | None:
    """The native thread pool ``solver`` through ``backend`` starts (None: none, or ``auto``)."""
    info = lookup(backend, solver)
    return None if info is None else info.thread_pool


def suitable(backend: str, solver: str, lp: LinearProgram) -> SolverInfo:
    """The record of a solver that can solve ``lp``; a UsageError (with its notice) if none."""
    info = lookup(backend, solver)
    if info is not None and (info.mip if lp.is_mip else info.lp):
        return info
    kind = "a MIP (it has integer decisions)" if lp.is_mip else "an LP"
    notice = Notice("solver", solver, f"cannot solve {kind} with the {backend} backend; choose "
                                      f"one of {', '.join(names(backend, lp))}",
                    NoticeKind.REFUSED)
    raise UsageError(notice.words(), notice)


def _requested(option: str, lp: LinearProgram, opts: SolveOptions) -> bool:
    """``option`` was given with a value that would change the solve of ``lp``: more than one
    thread, a gap for a MIP, any time limit."""
    if option == "threads":
        return (opts.threads or 0) > 1
    if option == "gap":
        return opts.gap is not None and lp.is_mip
    return getattr(opts, option) is not None


def ignored_options(info: SolverInfo, lp: LinearProgram, opts: SolveOptions) -> list[Notice]:
    """Notices for the options ``info``'s solver will not honour in this solve, read from its
    flags; where the same solver through another backend honours one, the notice says so."""
    out = []
    if (opts.threads and info.threads_once and info.thread_pool is not None
            and threaded_solver_ran(info.thread_pool)):
        # HiGHS fixes its global thread pool at its first solve in a process and then refuses
        # another thread count (measured: "global scheduler has already been initialized")
        out.append(Notice("threads", None, f"is ignored: {info.title} set up its threads at an "
                                           "earlier solve in this process"))
    for option in ("threads", "gap", "time_limit"):
        if _requested(option, lp, opts) and not getattr(info, option):
            other = next((s.backend for s in SOLVERS if s.name == info.name
                          and s.backend != info.backend and getattr(s, option)), None)
            hint = f" (use {ref('backend', other)})" if other else ""
            out.append(Notice(option, None, f"is ignored by {info.label}{hint}"))
    return out

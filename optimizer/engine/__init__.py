"""Stage 4 (above the backends): the solve strategy, chosen per LP and reported like the solver.

- ``monolithic``: the backend's solve (:func:`optimizer.backends.solve`, which already splits an
  LP whose periods are independent into one LP per period);
- ``colgen``: column generation over the flow columns (:mod:`optimizer.engine.colgen`), for LPs
  whose periods are coupled (deferrable work, a carbon cap, a renewable floor) and whose flow
  columns dwarf their rows; exact: the full LP's optimum and duals;
- ``lagrange``: a price on the one row over all periods (a carbon cap or a renewable floor) of
  an LP that splits into periods without it (:mod:`optimizer.engine.lagrange`), found by
  Kelley's cutting plane in one dimension over period LPs solved by column generation; exact:
  the full LP's optimum and duals;
- ``benders``: Benders decomposition (:mod:`optimizer.engine.benders`) for MIPs whose integer
  decisions are builds (sites opened, expansion units, a plan's yearly builds): a master over the
  builds, the operating LP as subproblem, to a proven gap.

``auto`` picks ``lagrange`` for an LP of at least :data:`COLGEN_MIN_VARS` variables whose
periods only that one row couples (highspy installed), ``colgen`` where it applies and pays
(an LP coupled in time by columns such as the backlog of deferrable work, not by a row over all
periods, at least :data:`COLGEN_MIN_VARS` variables, flow columns at least 4 per row, highspy
installed), else ``monolithic``; for a MIP it picks ``benders`` where every integer decision
is a build and the MIP has at least :data:`BENDERS_MIN_VARS` variables and more than
``FEW_INTEGERS`` (50) integer decisions or at least :data:`BENDERS_LARGE` variables (fewer
builds in a smaller MIP go to CBC's branch and bound, which ran faster there). The result's notes
say which ran and why.
"""

from __future__ import annotations

from collections.abc import Callable

from optimizer import backends
from optimizer.backends.base import Notice, NoticeKind, RawResult, SolveOptions
from optimizer.backends.decompose import period_partition
from optimizer.backends.highs_warm import available as highspy_available
from optimizer.backends.ortools_backend import FEW_INTEGERS
from optimizer.engine import benders, colgen, lagrange
from optimizer.errors import UsageError
from optimizer.model.lp import LinearProgram

STRATEGIES = ("auto", "monolithic", "colgen", "lagrange", "benders")
COLGEN_MIN_VARS = 50_000
"""Below this, the monolithic solve takes well under a second: nothing to gain."""
BENDERS_LARGE = 150_000
"""From this size Benders even for few builds: the generated medium planning MIP (40 builds,
219 k variables) took Benders 153 s, where CBC and SCIP had not closed the gap in 900 s."""
BENDERS_MIN_VARS = 20_000
"""Below this, a build MIP is small enough for a branch-and-bound solver at once (OR-Library's
50 x 50 problems: 2,500 flows, a second with CBC)."""

__all__ = ["STRATEGIES", "choose", "solve"]

NEEDS: dict[str, tuple[Callable[[LinearProgram], bool], str, str]] = {
    "colgen": (colgen.applies, "an LP (no integer decisions) with flow columns at lower bound 0",
               "an LP (no integer decisions)"),
    "lagrange": (lambda lp: colgen.applies(lp) and lagrange.coupling_row(lp) is not None,
                 "an LP whose periods one row alone couples (a carbon cap or a renewable floor, "
                 "no deferrable work), with flow columns at lower bound 0",
                 "an LP whose periods one row couples"),
    "benders": (benders.applies, "a MIP whose integer decisions are all builds (open, build) "
                "with finite bounds", "a MIP whose integer decisions are builds"),
}
"""What each strategy asked for by name needs: (the test, the error's words, the notice's)."""


def choose(lp: LinearProgram, options: SolveOptions) -> tuple[str, str]:
    """(strategy, why) for ``lp`` under ``options.strategy``."""
    asked = options.strategy
    if asked == "monolithic":
        return asked, "asked for"
    if asked in NEEDS:
        fits, needs, short = NEEDS[asked]
        if not fits(lp):
            raise UsageError(f"the {asked} strategy needs {needs}",
                             Notice("strategy", asked, f"needs {short}", NoticeKind.REFUSED))
        if not highspy_available():
            raise UsageError(f"the {asked} strategy needs highspy (pip install highspy)")
        return asked, "asked for"
    if options.backend != "ortools" or options.solver not in ("auto", "clp"):
        return "monolithic", f"the solver was chosen ({options.backend}/{options.solver})"
    if lp.is_mip:
        return _choose_mip(lp)
    if lp.n_vars < COLGEN_MIN_VARS:
        return "monolithic", f"small ({lp.n_vars:,} variables)"
    if options.decompose and period_partition(lp) is not None:
        return "monolithic", "its periods are independent: solved by period"
    if (options.decompose and colgen.applies(lp) and highspy_available()
            and lagrange.coupling_row(lp) is not None):
        return "lagrange", ("one row over all periods (a carbon cap or renewable floor) "
                            "alone couples its periods")
    if not (colgen.applies(lp) and colgen.worth_it(lp) and highspy_available()):
        return "monolithic", "its flow columns do not dwarf its rows"
    if any("period" not in b.index for b in lp.rows.values() if b.size):
        # with deferral too (lagrange needs the rest to split into periods): the decoupled seed
        # drops such a row and starts far from its optimum: with a binding carbon cap alone,
        # colgen measured 4.35 s against CLP's 3.91 s (medium), 86.8 s against 60.8 s (large)
        return "monolithic", ("a row over all periods (a carbon cap or renewable floor) and "
                              "columns joining periods couple it")
    return "colgen", (f"its periods are coupled and its {lp.variables['flow'].size:,} flow "
                      f"columns dwarf its {lp.n_rows:,} rows")


def _choose_mip(lp: LinearProgram) -> tuple[str, str]:
    if not benders.applies(lp):
        return "monolithic", "a MIP with integer decisions other than builds"
    builds = int(lp.integer.sum())
    if lp.n_vars < BENDERS_MIN_VARS:
        return "monolithic", f"a small MIP ({lp.n_vars:,} variables)"
    if builds <= FEW_INTEGERS and lp.n_vars < BENDERS_LARGE:
        # CBC's branch and bound: the national plan's 36 over 95 k variables in 19 s
        return "monolithic", f"few integer decisions ({builds})"
    if not highspy_available():
        return "monolithic", "highspy is not installed"
    return "benders", (f"its {builds:,} integer decisions are builds over an operating LP of "
                       f"{lp.n_vars - builds:,} columns")


def solve(lp: LinearProgram, options: SolveOptions) -> RawResult:
    """``lp`` solved by the strategy :func:`choose` picks."""
    strategy, why = choose(lp, options)
    if strategy == "colgen":
        result = colgen.solve_colgen(lp, options, backends.solve)
    elif strategy == "lagrange":
        result = lagrange.solve_lagrange(lp, options, backends.solve)
    elif strategy == "benders":
        result = benders.solve_benders(lp, options)
    else:
        result = backends.solve(lp, options)
    if options.strategy == "auto" and strategy != "monolithic":
        result.notices.append(Notice("strategy", options.strategy,
                                     f"{strategy}, because {why}", NoticeKind.CHOSEN))
    if options.dask is not None and strategy != "benders":
        result.notices.append(Notice("dask", options.dask, f"has no effect: it sends the "
                                     f"Benders strategy's subproblems, and {strategy} ran",
                                     NoticeKind.NO_EFFECT))
    return result

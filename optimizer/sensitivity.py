"""Stage 8: which constraints bind, and what relaxing each would save (``solve --sensitivity``).

Two sources:

- **Shadow prices** from the LP duals of the solved run (``run.raw.duals``, d objective / d row
  bound), for every price the families of the registry offer (:mod:`optimizer.model.prices`):
  a site's IT capacity and facility power cap (summed over the periods: per MW-year), a
  corridor (per Gbps-year), the carbon cap (per tonne), the renewable floor (per percentage
  point of the share), and whatever a new family declares. For a MIP the duals come from the
  LP with the integer decisions fixed, so they price a marginal change with the build plan
  held as it is.
- **Latency limits**: for each class with a finite ``max_latency_ms``, the instance is
  re-validated with that limit relaxed by one step and solved again with the same options; the
  saving is the difference in objective (a discrete change, not a derivative).

Every finding's ``value`` is the annual saving from relaxing the constraint by one unit (positive
when binding); findings are ranked by ``|value|``. Constraints that do not bind are left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.backends.base import SolveOptions
from optimizer.load import parse
from optimizer.model import FAMILIES
from optimizer.model.prices import shadow_prices
from optimizer.pipeline import Run, solve_document
from optimizer.report.tables import Table

REL_TOL = 1e-9  # a dual (or saving) below this, relative to the objective, does not bind

LATENCY_LIMIT = "latency_limit"
NOTE = "note"  # a finding that is not ranked: an explanation (duals unavailable, MIP, ...)



def kinds() -> tuple[str, ...]:
    """Every kind of finding, in the order ties are ranked: the prices of the registry's
    families (read when called, so a family registered later is ranked too), then latency."""
    return (*(p.kind for f in FAMILIES for p in f.prices), LATENCY_LIMIT)


def labels() -> dict[str, str]:
    """Short labels of the kinds of finding."""
    return {**{p.kind: p.label for f in FAMILIES for p in f.prices},
            LATENCY_LIMIT: "latency limit", NOTE: "note"}


@dataclass(frozen=True)
class Finding:
    kind: str  # one of kinds(), or NOTE
    subject: str  # site id, corridor id, class id, "policy"
    value: float  # currency a year per unit of relaxation (a saving; 0 for notes)
    unit: str  # e.g. "CNY per MW-year"
    sentence: str  # plain words

    @property
    def ranked(self) -> bool:
        return self.kind != NOTE


def _num(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _ms(value: float) -> str:
    return f"{value:g}"


def dual_findings(run: Run, tol: float) -> list[Finding]:
    """Binding constraints priced by the LP duals, for every price the registry's families
    offer (empty when there are no duals)."""
    prices = shadow_prices(run.arrays, run.lp, run.raw.duals, run.raw.x)
    return [Finding(p.kind, p.subject, p.value, p.unit, p.sentence)
            for p in prices if abs(p.value) > tol]


def latency_findings(
    run: Run, step_ms: float, options: SolveOptions, tol: float
) -> tuple[list[Finding], list[Finding]]:
    """(findings, notes): re-solve once per class with a finite latency limit, relaxed by
    ``step_ms``; serial."""
    base = run.solution.objective
    if base is None or step_ms <= 0:
        return [], []
    cur = run.arrays.currency
    data = run.document.instance.model_dump(mode="python", exclude_none=False)
    out: list[Finding] = []
    notes: list[Finding] = []
    for n, klass in enumerate(data["classes"]):
        limit = klass.get("max_latency_ms")
        if limit is None or not math.isfinite(limit):
            continue
        cid = str(klass["id"])
        relaxed_data = {**data, "classes": [dict(k) for k in data["classes"]]}
        relaxed_data["classes"][n]["max_latency_ms"] = limit + step_ms
        document = parse(relaxed_data, run.document.file)
        relaxed = solve_document(document, options).solution.objective
        if relaxed is None:
            notes.append(Finding(
                NOTE, cid, 0.0, "",
                f"the re-solve with {cid}'s latency limit at {_ms(limit + step_ms)} ms found "
                "no solution; its latency budget is not priced"))
            continue
        saving = base - relaxed
        if abs(saving) > tol:
            out.append(Finding(
                LATENCY_LIMIT, cid, float(saving), f"{cur} a year per +{_ms(step_ms)} ms",
                f"relaxing {cid}'s latency limit from {_ms(limit)} to {_ms(limit + step_ms)} ms "
                f"would save {_num(saving)} {cur} a year"))
    if run.lp.is_mip and out:
        notes.append(Finding(
            NOTE, "latency", 0.0, "",
            "latency savings compare two MIP solutions: each is only as exact as its "
            "optimality gap"))
    return out, notes


def sensitivity(
    run: Run,
    latency_step_ms: float = 5.0,
    top: int = 15,
    relax_latency: bool = True,
    *,
    options: SolveOptions | None = None,
) -> list[Finding]:
    """The binding constraints ranked by the annual saving from relaxing each by one unit
    (at most ``top`` of them), followed by notes (kind ``"note"``, value 0, not ranked).

    ``options`` are used for the latency re-solves; by default the run's backend and solver.
    """
    objective = run.solution.objective
    if objective is None or run.raw.x is None:
        return [Finding(NOTE, "solution", 0.0, "",
                        "no solution: there is nothing to price")]
    tol = REL_TOL * max(1.0, abs(objective))
    notes: list[Finding] = []
    if run.raw.duals is None:
        notes.append(Finding(NOTE, "duals", 0.0, "",
                             "shadow prices are unavailable (the solver gave no reliable duals); "
                             "only the latency limits are priced, by re-solving"))
    elif run.lp.is_mip:
        notes.append(Finding(NOTE, "duals", 0.0, "",
                             "this is a MIP: its shadow prices come from the LP with the integer "
                             "(build and open) decisions fixed at their optimal values"
                             + (f" (duals from {run.raw.duals_from})"
                                if run.raw.duals_from else "")))
    findings = dual_findings(run, tol)
    if relax_latency:
        opts = options or SolveOptions(backend=run.raw.backend, solver=run.raw.solver)
        lat, lat_notes = latency_findings(run, latency_step_ms, opts, tol)
        findings += lat
        notes += lat_notes
    order = kinds()
    findings.sort(key=lambda f: (-abs(f.value), order.index(f.kind), f.subject))
    return findings[:max(top, 0)] + notes


def table(findings: list[Finding], currency: str = "CNY") -> Table:
    """The findings for the console and Markdown renderers."""
    rows: list[list[str]] = []
    names = labels()
    rank = 0
    for f in findings:
        if f.ranked:
            rank += 1
            rows.append([str(rank), names.get(f.kind, f.kind), f.subject,
                         _num(f.value, 1 if abs(f.value) < 100 else 0), f.unit, f.sentence])
        else:
            rows.append(["-", names[NOTE], f.subject, "", "", f.sentence])
    return Table(
        "Binding constraints, by shadow price",
        ["rank", "constraint", "subject", "shadow price/value", "unit", "in plain words"],
        rows, numeric={0, 3},
        caption=f"value: the annual saving in {currency} from relaxing the constraint by one "
                "unit (LP duals; latency limits by re-solving with the limit relaxed)",
    )

"""What a constraint family is: a complete record, read by everything that needs its facts.

A :class:`Family` says, besides ``define`` (its rows, columns, costs and named expressions):

- ``presolve``: a :class:`Stance`, which presolve rules (:mod:`optimizer.presolve`) stay exact
  with the family's rows in the model, and where the family constrains (the whole model, or an
  arc mask). Required: a family without one cannot be constructed, so a family that presolve
  does not know about cannot make the exchange arguments silently wrong.
- ``prices``: the shadow prices it offers (:class:`Price`: row block, grouping dimension, sign,
  unit, plain words), summed from the LP duals by :mod:`optimizer.model.prices` for the solution
  JSON, the report tables and ``solve --sensitivity``.
- ``size``: its share of the size guard's estimate (:mod:`optimizer.model.size`), variables and
  matrix entries, computed from the compiled arrays before anything is built.

Code elsewhere never lists families by name: it iterates :data:`optimizer.model.FAMILIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from optimizer.compile import Arrays
from optimizer.model.lp import Builder, LinearProgram

DEARER_THAN_UNMET = "dearer_than_unmet"
DOMINANCE = "dominance"
RULES = (DEARER_THAN_UNMET, DOMINANCE)
"""The presolve rules of :mod:`optimizer.presolve`, by name."""

Where = Callable[[Arrays], "bool | np.ndarray"]


def everywhere(arrays: Arrays) -> bool:
    """The family's rows may touch every arc."""
    del arrays
    return True


@dataclass(frozen=True)
class Stance:
    """Which presolve rules stay exact with a family's rows in the model.

    ``keeps`` names the rules (of :data:`RULES`) whose exchange argument still holds; every other
    rule is switched off ``where`` the family constrains: a bool for the whole model (``False``:
    the family adds nothing to this instance) or an ``(A,)`` mask of the arcs it constrains.
    ``why`` is the argument in plain words (docs/adding-a-family.md lists them).
    """

    keeps: frozenset[str]
    why: str
    where: Where = everywhere

    def __post_init__(self) -> None:
        unknown = set(self.keeps) - set(RULES)
        if unknown:
            raise ValueError(f"unknown presolve rules {sorted(unknown)}: the rules are {RULES}")


EXACT = Stance(frozenset(RULES), "the rules' exchange arguments are written for these rows")


@dataclass(frozen=True)
class Price:
    """A shadow price a family offers: ``sign`` x minus the duals of row block ``block``, summed
    per value of its index dimension ``by`` (None: the whole block is one price).

    The value is the annual saving from relaxing the constraint by one unit of its right-hand
    side (d objective / d bound, negated), in ``unit``; ``per`` (optional) converts it to a unit
    a planner reads (e.g. per percentage point of a share) from the solved LP: one factor, or
    one per group. ``words`` is a format template for one sentence, with the fields
    ``subject``, ``value``, ``per_row`` (the value before ``per``), ``cur`` and ``suffix`` (said
    of MIPs), plus those of ``fields``. ``each`` (optional) gives, per group, the extra fields of
    its sentence, or None to leave the group out (a site without the family's rows).
    """

    kind: str  # a stable name: "capacity", "corridor", "carbon_cap", ...
    block: str
    by: str | None
    label: str  # short: "IT capacity"
    unit: str  # with {cur}: "{cur} per MW-year"
    words: str
    sign: float = 1.0
    subject: str = "policy"  # the subject when ``by`` is None
    per: Callable[[Arrays, LinearProgram, np.ndarray], float | np.ndarray] | None = None
    fields: Callable[[Arrays], dict[str, str]] | None = None
    each: Callable[[Arrays], list[dict[str, str] | None]] | None = None


SizeTerms = Callable[[Arrays], "tuple[int, int]"]


def no_size(arrays: Arrays) -> tuple[int, int]:
    """A family that adds (next to) nothing to the model's size."""
    del arrays
    return 0, 0


@dataclass(frozen=True)
class Family:
    """A constraint family: everything the rest of the package needs to know about it."""

    name: str
    define: Callable[[Arrays, Builder], None]
    presolve: Stance
    size: SizeTerms
    prices: tuple[Price, ...] = field(default=())
    doc: str = ""  # one line: what the family formulates

    def __post_init__(self) -> None:
        if not isinstance(self.presolve, Stance):
            raise TypeError(f"family {self.name!r}: presolve must be a Stance, not "
                            f"{type(self.presolve).__name__}")


def check_registry(families: list[Family]) -> None:
    """Names and price kinds unique across the registry (raises ValueError)."""
    names = [f.name for f in families]
    kinds = [p.kind for f in families for p in f.prices]
    for what, values in (("family names", names), ("price kinds", kinds)):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise ValueError(f"repeated {what} in the registry: {repeated}")

"""Public benchmark files -> v1 instances (plain dicts, validated by :func:`optimizer.load.parse`).

Capacitated facility location maps onto eastwest as: customers are regions with one class of
hard demand (``unmet_penalty: null``) in one period of one hour; facilities are candidate sites
(``open_cost`` = fixed cost, ``capacity_mw`` = capacity, PUE 1, price 0); the cost ``c_ij`` of
serving customer j's WHOLE demand from facility i becomes an explicit transfer cost of
``c_ij / d_j`` per GB with ``data_gb_per_mwh: 1``, so serving a fraction f costs ``c_ij * f``.

- ``orlib-cap``: Beasley's OR-Library capacitated warehouse location (cap41..cap134, capa/b/c).
  Customer-major cost block; the published optima are for the multi-source (splittable)
  problem, so the class is ``assignment: split``. capa/capb/capc carry the word ``capacity``
  in place of the capacity: pass it with ``capacity``.
- ``holmberg``: Holmberg, Ronnqvist & Yuan (1999), p1..p71. Facility-major cost block; the
  published optima are for the single-source problem: ``assignment: single``. Some files have
  CRLF line ends, trailing NUL bytes and extra tokens after the data, all ignored.

A malformed header, a file that ends early, a token that is not a number, and a number that is
negative, not finite or beyond 1e15 (a customer with NaN or negative demand, ...) are refused with
the file, the line and a path such as ``customers[3].demand``; so are a file without demand and
one whose capacities cannot hold its demand. Customers with zero demand change nothing and are
left out. Every file under ``benchmarks/data`` imports to an instance that validates (tested).

See benchmarks/data/*/FORMAT.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.errors import InstanceError, Problem
from optimizer.errors import Path as FieldPath
from optimizer.schema import MAX_VALUE
from optimizer.yamlio import read_bytes

FORMATS = ("orlib-cap", "holmberg")
MAX_COUNT = 10_000_000  # facilities or customers in a header


class _Tokens:
    """A benchmark file's whitespace-separated tokens, each with its line (for the errors)."""

    def __init__(self, path: Path):
        self.file = str(path)
        text = read_bytes(path, what="benchmark file").replace(b"\0", b" ").decode(
            "ascii", errors="replace")
        words = [line.split() for line in text.split("\n")]
        self.tokens = [w for line in words for w in line]
        self.lines = np.repeat(np.arange(1, len(words) + 1), [len(line) for line in words])

    def error(self, message: str, where: FieldPath = (), at: int | None = None,
              **value: Any) -> InstanceError:
        line = int(self.lines[at]) if at is not None and at < len(self.lines) else None
        return InstanceError([Problem(message, where, self.file, line, **value)])

    def need(self, count: int, what: str) -> None:
        if len(self.tokens) < count:
            raise self.error(f"the file ends early: {len(self.tokens)} numbers, expected "
                             f"{count} ({what})", at=len(self.tokens) - 1)

    def header(self) -> tuple[int, int]:
        """``m n``: two whole numbers >= 1 (facilities, customers)."""
        self.need(2, "a header 'm n': facilities, customers")
        out = []
        for i, what in enumerate(("facilities", "customers")):
            try:
                value = float(self.tokens[i])
            except ValueError:
                value = float("nan")
            if not (value.is_integer() and 1 <= value <= MAX_COUNT):
                raise self.error(f"the header's number of {what} must be a whole number from 1 "
                                 f"to {MAX_COUNT:,}", ("header", what), i,
                                 value=self.tokens[i])
            out.append(int(value))
        return out[0], out[1]

    def numbers(self, start: int, stop: int, where: Callable[[int], tuple[FieldPath, str]],
                replace: dict[int, str] | None = None) -> np.ndarray:
        """Tokens ``start:stop`` as finite numbers from 0 to 1e15; ``where(i)`` names the i-th
        (its path and words) in an error."""
        chunk = self.tokens[start:stop]
        for i, token in (replace or {}).items():
            chunk[i] = token
        try:
            values = np.array(chunk, dtype=float)
        except ValueError:
            i = next(i for i, t in enumerate(chunk) if not _is_number(t))
            raise self.error(f"{where(i)[1]} is not a number", where(i)[0], start + i,
                             value=chunk[i]) from None
        bad = ~(np.isfinite(values) & (values >= 0) & (values <= MAX_VALUE))
        if bad.any():
            i = int(np.argmax(bad))
            raise self.error(f"{where(i)[1]} must be a finite number from 0 to {MAX_VALUE:g}",
                             where(i)[0], start + i, value=chunk[i])
        return values


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _facility(i: int) -> tuple[FieldPath, str]:
    what = "capacity" if i % 2 == 0 else "fixed_cost"
    return ("facilities", i // 2, what), f"facility {i // 2 + 1}'s {what.replace('_', ' ')}"


def read_orlib_cap(path: str | Path, capacity: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(capacities (m,), fixed costs (m,), demands (n,), costs (m, n) for whole demands)."""
    tok = _Tokens(Path(path))
    m, n = tok.header()
    tok.need(2 + 2 * m + n * (1 + m), f"{m} facilities and {n} customers")
    placeholders = [i for i in range(0, 2 * m, 2) if tok.tokens[2 + i] == "capacity"]
    if placeholders and capacity is None:
        raise tok.error("this file has the placeholder 'capacity' instead of capacities: give "
                        "one with --capacity (Beasley 1988: capa 8000-14000, capb 5000-8000, "
                        "capc 5000-7250)", ("facilities", 0, "capacity"), 2 + placeholders[0])
    given = {} if capacity is None else {i: repr(float(capacity)) for i in range(0, 2 * m, 2)}
    fac = tok.numbers(2, 2 + 2 * m, _facility, given)

    def customer(i: int) -> tuple[FieldPath, str]:
        j, k = divmod(i, 1 + m)
        if k == 0:
            return ("customers", j, "demand"), f"customer {j + 1}'s demand"
        return ("customers", j, "costs", k - 1), f"customer {j + 1}'s cost at facility {k}"

    body = tok.numbers(2 + 2 * m, 2 + 2 * m + n * (1 + m), customer).reshape(n, 1 + m)
    return fac[0::2], fac[1::2], body[:, 0], body[:, 1:].T


def read_holmberg(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tok = _Tokens(Path(path))
    m, n = tok.header()
    tok.need(2 + 2 * m + n + m * n, f"{m} facilities and {n} customers")
    fac = tok.numbers(2, 2 + 2 * m, _facility)
    demand = tok.numbers(2 + 2 * m, 2 + 2 * m + n, lambda j: (
        ("customers", j, "demand"), f"customer {j + 1}'s demand"))
    costs = tok.numbers(2 + 2 * m + n, 2 + 2 * m + n + m * n, lambda i: (
        ("costs", i // n, i % n), f"the cost of customer {i % n + 1} at facility {i // n + 1}"))
    return fac[0::2], fac[1::2], demand, costs.reshape(m, n)


def _check_feasible(file: str, caps: np.ndarray, demand: np.ndarray,
                    costs: np.ndarray) -> None:
    """What would make the instance invalid: no demand, too little capacity for it, or a cost
    per unit of demand beyond the 1e15 bound."""
    total, room = float(demand.sum()), float(caps.sum())
    if total <= 0:
        raise InstanceError([Problem("no customer has any demand", ("customers",), file)])
    if room < total:
        raise InstanceError([Problem(
            f"the facilities' capacities add up to {room:,.6g}, less than the customers' demand "
            f"of {total:,.6g}: no assignment is feasible", ("facilities",), file)])
    served = demand > 0
    with np.errstate(over="ignore"):
        per_unit = costs[:, served] / demand[served]
    if (per_unit > MAX_VALUE).any():
        i, j = np.argwhere(per_unit > MAX_VALUE)[0]
        raise InstanceError([Problem(
            f"the cost per unit of demand of customer {np.flatnonzero(served)[j] + 1} at "
            f"facility {i + 1} exceeds {MAX_VALUE:g}", ("customers",), file)])


def facility_location_instance(name: str, caps: np.ndarray, fixed: np.ndarray,
                               demand: np.ndarray, costs: np.ndarray,
                               single: bool) -> dict[str, Any]:
    """A v1 instance dict for a capacitated facility location problem (see module doc)."""
    m, n = costs.shape
    served = np.flatnonzero(demand > 0)  # a customer without demand changes nothing
    per_unit = costs[:, served] / demand[served]
    cust = [f"c{j + 1}" for j in served]
    fac = [f"f{i + 1}" for i in range(m)]
    return {
        "version": 1,
        "name": name,
        "currency": "cost",
        "periods": {"count": 1, "hours": 1, "weight": 1},
        "regions": [{"id": c, "location": [0.0, 0.0], "demand": {"demand": float(d)}}
                    for c, d in zip(cust, demand[served].tolist(), strict=True)],
        "sites": [{"id": f, "location": [0.0, 0.0], "capacity_mw": float(s), "pue": 1.0,
                   "price": 0.0, "open_cost": float(c)}
                  for f, s, c in zip(fac, caps.tolist(), fixed.tolist(), strict=True)],
        "classes": [{"id": "demand", "unmet_penalty": None, "data_gb_per_mwh": 1.0,
                     "assignment": "single" if single else "split"}],
        "network": {"transfer": {"pairs": [
            {"region": cust[j], "site": fac[i], "per_gb": float(per_unit[i, j])}
            for i in range(m) for j in range(len(cust))
        ]}},
    }


def import_file(fmt: str, path: str | Path, capacity: float | None = None,
                name: str | None = None) -> dict[str, Any]:
    """A v1 instance from a benchmark file; every problem of the file (a bad header, a file
    that ends early, a number that is not one, negative or not finite) names its line, and what
    the instance could not hold (no demand, too little capacity) is refused here."""
    path = Path(path)
    if capacity is not None and not (np.isfinite(capacity) and 0 < capacity <= MAX_VALUE):
        raise InstanceError([Problem(f"--capacity must be a number above 0 and at most "
                                     f"{MAX_VALUE:g}", ("capacity",), str(path),
                                     value=capacity)])
    name = name or path.stem + (f"-{capacity:g}" if capacity is not None else "")
    if fmt == "orlib-cap":
        data = read_orlib_cap(path, capacity)
    elif fmt == "holmberg":
        if capacity is not None:
            raise InstanceError([Problem("holmberg files carry their capacities; "
                                         "--capacity does not apply", (), str(path))])
        data = read_holmberg(path)
    else:
        raise InstanceError([Problem(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}", (),
                                     str(path))])
    caps, _, demand, costs = data
    _check_feasible(str(path), caps, demand, costs)
    return facility_location_instance(name, *data, single=fmt == "holmberg")

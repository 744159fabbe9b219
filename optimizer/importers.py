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

See benchmarks/data/*/FORMAT.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from optimizer.errors import InstanceError, Problem

FORMATS = ("orlib-cap", "holmberg")


def _tokens(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InstanceError([Problem(f"cannot read the file: {exc.strerror}", (), str(path))]) \
            from None
    return raw.replace(b"\0", b" ").decode("ascii", errors="replace").split()


def _numbers(tokens: list[str], path: Path, what: str) -> np.ndarray:
    try:
        return np.array([float(t) for t in tokens], dtype=float)
    except ValueError as exc:
        raise InstanceError([Problem(f"{what}: {exc}", (), str(path))]) from None


def _need(tokens: list[str], count: int, path: Path) -> None:
    if len(tokens) < count:
        raise InstanceError([Problem(
            f"the file ends early: {len(tokens)} numbers, expected {count}", (), str(path))])


def read_orlib_cap(path: str | Path, capacity: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(capacities (m,), fixed costs (m,), demands (n,), costs (m, n) for whole demands)."""
    path = Path(path)
    tok = _tokens(path)
    _need(tok, 2, path)
    m, n = int(float(tok[0])), int(float(tok[1]))
    _need(tok, 2 + 2 * m + n * (1 + m), path)
    fac = tok[2:2 + 2 * m]
    cap_tokens = fac[0::2]
    if any(t == "capacity" for t in cap_tokens):
        if capacity is None:
            raise InstanceError([Problem(
                "this file has the placeholder 'capacity' instead of capacities: give one "
                "with --capacity (Beasley 1988: capa 8000-14000, capb 5000-8000, "
                "capc 5000-7250)", (), str(path))])
        cap_tokens = [str(capacity) if t == "capacity" else t for t in cap_tokens]
    elif capacity is not None:
        cap_tokens = [str(capacity)] * m
    caps = _numbers(cap_tokens, path, "capacities")
    fixed = _numbers(fac[1::2], path, "fixed costs")
    body = _numbers(tok[2 + 2 * m:2 + 2 * m + n * (1 + m)], path, "customers").reshape(n, 1 + m)
    return caps, fixed, body[:, 0], body[:, 1:].T


def read_holmberg(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    path = Path(path)
    tok = _tokens(path)
    _need(tok, 2, path)
    m, n = int(float(tok[0])), int(float(tok[1]))
    _need(tok, 2 + 2 * m + n + m * n, path)
    fac = _numbers(tok[2:2 + 2 * m], path, "facilities")
    demand = _numbers(tok[2 + 2 * m:2 + 2 * m + n], path, "demands")
    costs = _numbers(tok[2 + 2 * m + n:2 + 2 * m + n + m * n], path, "costs").reshape(m, n)
    return fac[0::2], fac[1::2], demand, costs


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
    path = Path(path)
    name = name or path.stem + (f"-{capacity:g}" if capacity is not None else "")
    if fmt == "orlib-cap":
        return facility_location_instance(name, *read_orlib_cap(path, capacity), single=False)
    if fmt == "holmberg":
        if capacity is not None:
            raise InstanceError([Problem("holmberg files carry their capacities; "
                                         "--capacity does not apply", (), str(path))])
        return facility_location_instance(name, *read_holmberg(path), single=True)
    raise InstanceError([Problem(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}", (),
                                 str(path))])

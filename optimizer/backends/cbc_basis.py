"""An optimal basis for a highspy model's LP from CLP, run in PuLP's CBC binary.

HiGHS has no simplex as fast as CLP's dual on the big LPs that column generation starts from,
and no CLP binding here keeps its speed: on the large deferral LP's first master (100 k columns,
33 k rows) PuLP's CBC binary (``cbc FILE -dualSimplex``) took 5.7 s, HiGHS's interior point and
crossover 9.0 s, its dual simplex 15 s, CLP through OR-Tools or cylp 10 s. So the model is
written as MPS (0.2 s), solved by that binary in a child process with the basis written out
(``-basisO``, the MPS basis format), and the basis is set back into the model (0.03 s): HiGHS
then finds it optimal in 0 iterations, and the model keeps it for the warm re-solves after. HiGHS
checks the basis itself, so what CBC says is not taken on trust: a basis that is not optimal
only costs HiGHS more iterations.

Where the binary is missing, fails, runs out of time or says anything but optimal,
:func:`optimal_basis` says why and leaves the model as it was. Ctrl-C reaches the child too (the
terminal signals the process group); the child is also killed, and KeyboardInterrupt raised.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.backends.base import capture_fd_output
from optimizer.backends.interrupts import interruptible

_LINE = re.compile(r"^ (XL|XU|UL|LL) c(\d+)(?: +r(\d+))?", re.MULTILINE)


def cbc_path() -> str | None:
    """PuLP's CBC binary, where PuLP has one for this machine."""
    try:
        import pulp
    except ImportError:  # pragma: no cover - pulp is a dependency
        return None
    solver: Any = pulp.PULP_CBC_CMD(msg=False)
    return str(solver.path) if solver.available() else None


def read_basis(text: str, n_cols: int, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(column, row) statuses, 0 at lower bound, 1 basic, 2 at upper bound, from an MPS basis
    file of a model whose columns are named ``c0``... and rows ``r0``... (HiGHS's names for
    unnamed ones). Unlisted: columns at their lower bound, rows basic. ``XU c r``: c basic,
    r at its upper bound; ``XL``: r at its lower; ``UL c``: c at its upper; ``LL c``: c at its
    lower."""
    cols = np.zeros(n_cols, dtype=np.int8)
    rows = np.ones(n_rows, dtype=np.int8)
    found = _LINE.findall(text)
    if not found:
        return cols, rows
    fields = np.array(found)  # kind, column, row ("" for UL and LL)
    kind, col = fields[:, 0], fields[:, 1].astype(np.int64)
    pair = np.isin(kind, ("XL", "XU"))
    cols[col[pair]] = 1
    rows[fields[pair, 2].astype(np.int64)] = np.where(kind[pair] == "XU", 2, 0)
    cols[col[kind == "UL"]] = 2
    cols[col[kind == "LL"]] = 0
    return cols, rows


def optimal_basis(h: Any, time_limit: float | None = None) -> str | None:
    """Set an optimal basis of highspy model ``h``'s LP, found by CLP in PuLP's CBC binary; None
    when it is set, else why not (the model untouched)."""
    import highspy

    path = cbc_path()
    if path is None:
        return "PuLP's CBC binary is not available"
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="eastwest-cbc-") as tmp:
        model, basis = Path(tmp) / "master.mps", Path(tmp) / "master.bas"
        with capture_fd_output():
            h.writeModel(str(model))
        child: list[subprocess.Popen[str]] = []

        def stop() -> None:
            if child:
                child[0].kill()

        with interruptible(stop=stop):
            child.append(subprocess.Popen(
                [path, str(model), "-dualSimplex", "-basisO", str(basis)], cwd=tmp,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
            left = None if time_limit is None else max(0.0, time_limit - (
                time.perf_counter() - start))
            try:
                out, _ = child[0].communicate(timeout=left)
            except subprocess.TimeoutExpired:
                child[0].kill()
                child[0].communicate()
                return "CBC ran out of time"
        if child[0].returncode != 0 or "Optimal objective" not in out or not basis.exists():
            return f"CBC did not find it optimal (exit {child[0].returncode})"
        text = basis.read_text()
    lp = h.getLp()
    cols, rows = read_basis(text, lp.num_col_, lp.num_row_)
    if int((cols == 1).sum() + (rows == 1).sum()) != lp.num_row_:
        return "CBC's basis has the wrong number of basic variables"
    status = np.array([highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic,
                       highspy.HighsBasisStatus.kUpper], dtype=object)
    b = highspy.HighsBasis()
    b.col_status = status[cols].tolist()
    b.row_status = status[rows].tolist()
    b.valid, b.alien = True, False
    if h.setBasis(b) != highspy.HighsStatus.kOk:
        return "HiGHS refused CBC's basis"
    return None

"""eastwest: place compute in a national computing network.

The pipeline (DESIGN.md §1), one direction, each stage a pure function::

    load -> Instance -> compile -> Arrays -> formulate -> LinearProgram -> solve -> RawResult
         -> interpret -> Solution -> render

The stages live in :mod:`optimizer.load`, :mod:`optimizer.compile`, :mod:`optimizer.model`,
:mod:`optimizer.backends`, :mod:`optimizer.interpret` and :mod:`optimizer.report`;
:mod:`optimizer.pipeline` strings them together.

The library (:mod:`optimizer.api`, imported on first use so that the CLI starts fast)::

    import optimizer as ew
    result = ew.solve(None)            # the national instance
    result.to_frames()["costs"]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["InstanceError", "PreparedBench", "PreparedPareto", "PreparedSweep", "Result", "Study",
           "UsageError", "__version__", "bench", "load", "pareto", "prepare_bench",
           "prepare_pareto", "prepare_sweep", "solve", "sweep"]
API = frozenset(__all__) - {"__version__"}

if TYPE_CHECKING:
    from optimizer.api import (
        InstanceError,
        PreparedBench,
        PreparedPareto,
        PreparedSweep,
        Result,
        Study,
        UsageError,
        bench,
        load,
        pareto,
        prepare_bench,
        prepare_pareto,
        prepare_sweep,
        solve,
        sweep,
    )


def __getattr__(name: str) -> Any:
    """The library's names, from :mod:`optimizer.api` on first use (PEP 562)."""
    if name in API:
        from optimizer import api

        return getattr(api, name)
    raise AttributeError(f"module 'optimizer' has no attribute {name!r}")

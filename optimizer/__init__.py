"""eastwest: place compute in a national computing network.

The pipeline (DESIGN.md §1), one direction, each stage a pure function::

    load -> Instance -> compile -> Arrays -> formulate -> LinearProgram -> solve -> RawResult
         -> interpret -> Solution -> render

The stages live in :mod:`optimizer.load`, :mod:`optimizer.compile`, :mod:`optimizer.model`,
:mod:`optimizer.backends`, :mod:`optimizer.interpret` and :mod:`optimizer.report`;
:mod:`optimizer.pipeline` strings them together.
"""

__version__ = "0.1.0"

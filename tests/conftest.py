"""Imported by pytest before any test module.

OR-Tools first: once highspy (which ``import pulp`` loads) is in the process before OR-Tools,
OR-Tools' own HiGHS crashes the process (see ``ortools_backend.HIGHS_SHADOWED``). Test modules
import pulp at the top; without this, running one of them alone would crash HiGHS tests.
"""

import optimizer.backends  # noqa: F401

"""Fixtures for the backend unit tests: the tiny instance's LP, and a MIP made of it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from optimizer.compile import compile_instance
from optimizer.load import load
from optimizer.model import LinearProgram, formulate

TINY = Path(__file__).parents[2] / "instances" / "tiny.yaml"


@pytest.fixture(scope="session")
def lp() -> LinearProgram:
    """The LP of instances/tiny.yaml (two periods, no integer decisions)."""
    return formulate(compile_instance(load(TINY).instance))


@pytest.fixture(scope="session")
def mip(lp: LinearProgram) -> LinearProgram:
    """``lp`` with its first flow variable integer."""
    integer = np.zeros(lp.n_vars, dtype=bool)
    integer[lp.variables["flow"].slice.start] = True
    return dataclasses.replace(lp, integer=integer)

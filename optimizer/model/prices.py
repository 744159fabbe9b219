"""Shadow prices from the LP duals, for every price the registry's families offer.

One generic reader (PyPSA's ``assign_duals`` in spirit): for each :class:`~optimizer.model.family.
Price` of each family in :data:`~optimizer.model.FAMILIES`, minus the duals of its row block summed
per value of its grouping dimension, times its sign (and ``per``), worded with its template.
Interpret (the solution's tables and ``shadow_prices``) and ``solve --sensitivity`` read these;
neither lists families by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.compile import Arrays
from optimizer.model import FAMILIES
from optimizer.model.family import Family, Price
from optimizer.model.lp import LinearProgram

MIP_SUFFIX = " (with the build decisions held fixed)"

SUBJECTS = {"site": "sites", "region": "regions", "class": "classes", "period": "periods",
            "corridor": "corridor_ids"}
"""Grouping dimension of a row block -> the Arrays field naming its members."""


@dataclass(frozen=True)
class ShadowPrice:
    """One priced group of one family's rows."""

    kind: str
    label: str
    subject: str
    group: int  # position of the subject along the grouping dimension (0 for policy rows)
    value: float  # annual saving from relaxing by one unit, in ``unit``
    per_row: float  # the same per unit of the rows' right-hand side (before ``Price.per``)
    unit: str
    sentence: str

    def to_dict(self) -> dict[str, object]:
        return {"constraint": self.kind, "subject": self.subject, "value": self.value,
                "unit": self.unit}


def subjects(arrays: Arrays, price: Price) -> list[str]:
    if price.by is None:
        return [price.subject]
    return list(getattr(arrays, SUBJECTS[price.by]))


def group_saving(lp: LinearProgram, duals: np.ndarray, price: Price, groups: int) -> np.ndarray:
    """Minus the duals of ``price.block`` summed per group: the saving per unit of bound."""
    rows = lp.rows[price.block]
    values = duals[rows.slice]
    if price.by is None:
        return np.array([-values.sum() + 0.0])
    where = rows.index[price.by]
    per = rows.size // groups if groups else 0
    if per and per * groups == rows.size and np.array_equal(
            where, np.repeat(np.arange(groups), per)):
        # group-major rows of equal count (a site's periods, ...): numpy's pairwise sum
        return -values.reshape(groups, per).sum(axis=1) + 0.0
    return -np.bincount(where, values, minlength=groups) + 0.0


def shadow_prices(arrays: Arrays, lp: LinearProgram, duals: np.ndarray | None,
                  x: np.ndarray | None, families: list[Family] | None = None) -> list[ShadowPrice]:
    """Every group of every offered price, in registry order; empty without reliable duals."""
    if duals is None:
        return []
    suffix = MIP_SUFFIX if lp.is_mip else ""
    out: list[ShadowPrice] = []
    for family in FAMILIES if families is None else families:
        for price in family.prices:
            if price.block not in lp.rows or (price.by is None and not lp.rows[price.block].size):
                continue
            out += _groups(arrays, lp, duals, x, price, suffix)
    return out


def _groups(arrays: Arrays, lp: LinearProgram, duals: np.ndarray, x: np.ndarray | None,
            price: Price, suffix: str) -> list[ShadowPrice]:
    """The groups of one price (those ``price.each`` keeps), worded."""
    cur = arrays.currency
    names = subjects(arrays, price)
    per_row = price.sign * group_saving(lp, duals, price, len(names))
    factor = 1.0 if price.per is None or x is None else price.per(arrays, lp, x)
    factors = np.broadcast_to(np.asarray(factor, dtype=float), per_row.shape).tolist()
    fields = price.fields(arrays) if price.fields is not None else {}
    each = price.each(arrays) if price.each is not None else [{}] * len(names)
    out = []
    for g, (name, row_value) in enumerate(zip(names, per_row.tolist(), strict=True)):
        extra = each[g]
        if extra is None:
            continue
        value = row_value * factors[g]
        out.append(ShadowPrice(
            price.kind, price.label, name, g, value, row_value, price.unit.format(cur=cur),
            price.words.format(subject=name, value=value, per_row=row_value, cur=cur,
                               suffix=suffix, **fields, **extra)))
    return out


def by_kind(prices: list[ShadowPrice], kind: str) -> list[ShadowPrice] | None:
    """The groups of one kind of price, or None when it was not priced."""
    found = [p for p in prices if p.kind == kind]
    return found or None

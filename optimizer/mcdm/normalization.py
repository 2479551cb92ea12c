"""Normalization strategies for a decision matrix (units x criteria), with cost handling.

Every strategy maps a raw column ``x`` (one criterion over the ``n`` units) to a
*benefit-oriented* column ``r`` (larger is better), so the methods never special-case
cost criteria after normalization. The strategies are injected into the methods by name
(``normalization="vector"``) or as a :class:`Normalization` object.

==========  ==============================  ====================================  ================
name        benefit criterion               cost criterion                        domain
==========  ==============================  ====================================  ================
vector      r = x / sqrt(sum x^2)           r = 1 - x / sqrt(sum x^2)             any, norm > 0
minmax      r = (x - min) / (max - min)     r = (max - x) / (max - min)           any, max > min
max         r = x / max                     r = min / x                           x > 0
sum         r = x / sum x                   r = (1/x) / sum(1/x)                  x > 0
==========  ==============================  ====================================  ================

``linear`` is an alias of ``max`` (the "linear" normalization of WASPAS, Zavadskas et al.
2012). The cost form of ``vector`` is the reflection ``1 - x/||x||``: TOPSIS distances are
unchanged by it (a per-column reflection moves the ideal and the anti-ideal with the
values), so TOPSIS with it equals the textbook TOPSIS that takes the column minimum as the
ideal of a cost criterion.

The kernels here do no checking; :func:`domain_problem` says, for one column, why a strategy
cannot be applied (the validating entry point turns that into an ``InputError``).

>>> import numpy as np
>>> x = np.array([[1.0, 4.0], [3.0, 2.0]])
>>> NORMALIZATIONS["max"](x, np.array([False, True])).round(3).tolist()
[[0.333, 0.5], [1.0, 1.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Kernel = Callable[[np.ndarray, np.ndarray], np.ndarray]


def vector(x: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Vector (Euclidean) normalization: ``x / ||x||``; cost: ``1 - x / ||x||``."""
    r = x / np.sqrt(np.sum(x * x, axis=0))
    return np.where(cost, 1.0 - r, r)


def minmax(x: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Min-max normalization: ``(x - min)/(max - min)``; cost: ``(max - x)/(max - min)``."""
    lo = x.min(axis=0)
    hi = x.max(axis=0)
    span = hi - lo
    return np.where(cost, (hi - x) / span, (x - lo) / span)


def max_ratio(x: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Linear (max) normalization: ``x / max``; cost: ``min / x``."""
    return np.where(cost, x.min(axis=0) / x, x / x.max(axis=0))


def sum_ratio(x: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Sum normalization: ``x / sum(x)``; cost: ``(1/x) / sum(1/x)``."""
    inv = 1.0 / x
    return np.where(cost, inv / inv.sum(axis=0), x / x.sum(axis=0))


@dataclass(frozen=True)
class Normalization:
    """A named normalization strategy and the domain it needs.

    ``positive``: every value must be > 0; ``needs_spread``: the column must not be
    constant (the formula divides by max - min); ``needs_norm``: the column must not be all
    zero (the formula divides by its norm).
    """

    name: str
    kernel: Kernel
    positive: bool = False
    needs_spread: bool = False
    needs_norm: bool = False

    def __call__(self, x: np.ndarray, cost: np.ndarray) -> np.ndarray:
        return self.kernel(np.asarray(x, dtype=float), np.asarray(cost, dtype=bool))


NORMALIZATIONS: dict[str, Normalization] = {
    "vector": Normalization("vector", vector, needs_norm=True),
    "minmax": Normalization("minmax", minmax, needs_spread=True),
    "max": Normalization("max", max_ratio, positive=True),
    "sum": Normalization("sum", sum_ratio, positive=True),
}
ALIASES = {"linear": "max", "min-max": "minmax", "euclidean": "vector"}


def get_normalization(name: str | Normalization) -> Normalization:
    """Look a strategy up by name (or pass a :class:`Normalization` through); KeyError if unknown."""
    if isinstance(name, Normalization):
        return name
    key = ALIASES.get(name.strip().lower(), name.strip().lower())
    return NORMALIZATIONS[key]


def domain_problem(norm: Normalization, column: np.ndarray) -> tuple[str, int | None] | None:
    """Why ``norm`` cannot normalize ``column``: ``(expected ..., row position or None)``, or None."""
    if norm.positive:
        bad = np.flatnonzero(column <= 0)
        if bad.size:
            return (f"expected values > 0 ({norm.name} normalization divides by them)", int(bad[0]))
    if norm.needs_spread and column.max() == column.min():
        return (f"expected values that differ between units ({norm.name} normalization divides by max - min)", None)
    if norm.needs_norm and not np.any(column):
        return (f"expected a column that is not all zero ({norm.name} normalization divides by its norm)", None)
    return None

"""The coverage relation: which candidate units reach which demand points.

This is the contract between geography and selection. It is always sparse: a CSR
matrix with one row per demand point and one column per unit, holding ``True`` where the
unit is within reach of the point. It is never a dense demand x unit matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass(frozen=True)
class Coverage:
    """Sparse coverage relation.

    Attributes
    ----------
    demand_ids : pd.Index
        Row labels (length n), as strings.
    unit_ids : pd.Index
        Column labels (length m), as strings.
    matrix : scipy.sparse.csr_array, shape (n, m), dtype bool
        ``matrix[i, j]`` is True iff unit j reaches demand point i. Indices sorted per row.
    distance : np.ndarray or None
        Distance (km, or the unit of the user's travel table) of each stored pair,
        aligned with ``matrix.indices`` / ``matrix.data``; None when not kept.
    """

    demand_ids: pd.Index
    unit_ids: pd.Index
    matrix: sp.csr_array
    distance: np.ndarray | None = None

    @property
    def n_demand(self) -> int:
        return self.matrix.shape[0]

    @property
    def n_units(self) -> int:
        return self.matrix.shape[1]

    @property
    def n_pairs(self) -> int:
        return int(self.matrix.nnz)

    def units_reaching(self, demand_position: int) -> np.ndarray:
        """Column positions of the units that reach one demand point."""
        m = self.matrix
        return m.indices[m.indptr[demand_position] : m.indptr[demand_position + 1]]

    def covered(self, selected: np.ndarray) -> np.ndarray:
        """Boolean per demand point: reached by at least one selected unit.

        ``selected`` is a boolean mask over units (length m).
        """
        x = np.asarray(selected, dtype=np.int64)
        return (self.matrix.astype(np.int64) @ x) > 0


@dataclass(frozen=True)
class MergedCoverage:
    """Demand rows with identical reaching sets (within the same key) merged into one.

    Exact for every model whose demand rows enter only through their reaching set and
    additive weights (coverage, floors per key, need weights).

    Attributes
    ----------
    matrix : csr_array (g, m) bool
        Reaching set of each group.
    weights : np.ndarray (g, k)
        Column sums of the merged rows' weights.
    group : np.ndarray (n,) int
        Group of each original demand row.
    key : np.ndarray (g,) int
        The ``by`` code of each group (all zeros when no key was given).
    """

    matrix: sp.csr_array
    weights: np.ndarray
    group: np.ndarray
    key: np.ndarray

    @property
    def n_groups(self) -> int:
        return self.matrix.shape[0]


def merge_identical_rows(
    matrix: sp.csr_array | sp.csr_matrix,
    weights: np.ndarray,
    by: np.ndarray | None = None,
) -> MergedCoverage:
    """Merge rows of ``matrix`` with the same set of columns and the same ``by`` code.

    Parameters
    ----------
    matrix : CSR (n, m)
        Coverage rows.
    weights : array (n,) or (n, k)
        Additive weights of each row (population, need-weighted population, ...).
    by : int array (n,), optional
        Rows merge only within the same code (e.g. region, service).

    >>> import scipy.sparse as sp, numpy as np
    >>> m = sp.csr_array(np.array([[1, 0, 1], [1, 0, 1], [0, 1, 0], [0, 0, 0]], dtype=bool))
    >>> merged = merge_identical_rows(m, np.array([10.0, 5.0, 1.0, 2.0]))
    >>> merged.n_groups, merged.weights[:, 0].tolist(), merged.group.tolist()
    (3, [15.0, 1.0, 2.0], [0, 0, 1, 2])
    """
    csr = sp.csr_array(matrix)
    csr.sort_indices()
    n = csr.shape[0]
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = w[:, None]
    codes = np.zeros(n, dtype=np.int64) if by is None else np.asarray(by, dtype=np.int64)
    indptr, indices = csr.indptr, csr.indices.astype(np.int64)
    lookup: dict[bytes, int] = {}
    group = np.empty(n, dtype=np.int64)
    firsts: list[int] = []
    for i in range(n):
        k = codes[i].tobytes() + indices[indptr[i] : indptr[i + 1]].tobytes()
        g = lookup.get(k)
        if g is None:
            g = len(firsts)
            lookup[k] = g
            firsts.append(i)
        group[i] = g
    first = np.asarray(firsts, dtype=np.int64)
    merged_w = np.zeros((len(first), w.shape[1]))
    np.add.at(merged_w, group, w)
    return MergedCoverage(
        matrix=sp.csr_array(csr[first]),
        weights=merged_w,
        group=group,
        key=codes[first],
    )

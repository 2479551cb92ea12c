"""The coverage relation: which candidate units reach which demand points.

This is the contract between geography and selection. It is always sparse: a CSR
matrix with one row per demand point and one column per unit, holding ``True`` where the
unit is within reach of the point. It is never a dense demand x unit matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

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


def bool_csr(indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> sp.csr_array:
    """Boolean CSR from sorted per-row ``indices`` and ``indptr`` without copying them.

    Both get the same index dtype (int32 whenever it fits), which scipy otherwise enforces
    by copying (doubling the memory of a large relation).
    """
    big = max(int(indptr[-1]) if len(indptr) else 0, *shape) >= np.iinfo(np.int32).max
    dtype = np.int64 if big else np.int32
    matrix = sp.csr_array(
        (np.ones(len(indices), dtype=bool), indices.astype(dtype, copy=False), indptr.astype(dtype, copy=False)),
        shape=shape,
        copy=False,
    )
    matrix.has_sorted_indices = True
    return matrix


HASH_CHUNK = 1 << 20  # nonzeros per slice in :func:`row_hashes` (8 MB of codes, reused)


@lru_cache(maxsize=8)
def _column_hashes(m: int) -> np.ndarray:
    """Fixed pseudo-random 64-bit code of each column (seeded: results are reproducible)."""
    rng = np.random.default_rng(0x5EED_C0DE)
    codes = rng.integers(0, np.iinfo(np.uint64).max, size=m, dtype=np.uint64, endpoint=True)
    codes.setflags(write=False)
    return codes


def row_hashes(indices: np.ndarray, indptr: np.ndarray, m: int) -> np.ndarray:
    """64-bit hash of each CSR row's column set: the wrapping sum of fixed column codes.

    Equal sets give equal hashes; different sets collide with probability about 2^-64
    (collisions are detected afterwards, see :func:`merge_row_segments`).
    """
    codes = _column_hashes(m)
    out = np.zeros(len(indptr) - 1, dtype=np.uint64)
    bounds = np.asarray(indptr, dtype=np.int64)
    # segment sums by reduceat over row slices: a cumulative sum over all nonzeros was
    # 30x slower, and one gather of every code allocated 576 MB at XL (72 million
    # nonzeros: 1.5 s, mostly fresh pages; now 0.3 s); empty rows hash to 0
    for start, stop, lo, hi in row_slices(bounds, HASH_CHUNK):
        starts = bounds[start:stop]
        filled = bounds[start + 1 : stop + 1] > starts
        out[start:stop][filled] = np.add.reduceat(codes[indices[lo:hi]], starts[filled] - lo)
    return out


def row_slices(indptr: np.ndarray, chunk: int):
    """``(first row, end row, first nonzero, end nonzero)`` of consecutive row slices of
    a CSR layout, about ``chunk`` nonzeros each (at least one row; slices without
    nonzeros are skipped): big relations read a slice at a time, with scratch memory
    that is reused instead of fresh.

    >>> list(row_slices(np.array([0, 2, 2, 5, 6]), 3))
    [(0, 2, 0, 2), (2, 3, 2, 5), (3, 4, 5, 6)]
    """
    n = len(indptr) - 1
    start = 0
    while start < n:
        stop = int(np.searchsorted(indptr, indptr[start] + chunk, side="right")) - 1
        stop = min(max(stop, start + 1), n)
        lo, hi = int(indptr[start]), int(indptr[stop])
        if hi > lo:
            yield start, stop, lo, hi
        start = stop


def _merge_rows_exact(indices: np.ndarray, indptr: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Group label of each row by comparing byte strings (slow, exact; the collision path)."""
    lookup: dict[bytes, int] = {}
    n = len(indptr) - 1
    group = np.empty(n, dtype=np.int64)
    idx = indices.astype(np.int64)
    for i in range(n):
        k = codes[i].tobytes() + idx[indptr[i] : indptr[i + 1]].tobytes()
        group[i] = lookup.setdefault(k, len(lookup))
    return group


def group_by_hash(codes: np.ndarray, lengths: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group rows with equal (code, length, set hash); groups numbered by their first row.

    Returns ``(group, first)``: the group of every row and the first row of every group.
    Equal keys only *suggest* equal sets; callers confirm with :func:`same_segments`.
    """
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    order = np.lexsort((hashes, lengths, codes))
    hs, ls, cs = hashes[order], lengths[order], codes[order]
    new = np.r_[True, (hs[1:] != hs[:-1]) | (ls[1:] != ls[:-1]) | (cs[1:] != cs[:-1])]
    label = np.empty(n, dtype=np.int64)
    label[order] = np.cumsum(new) - 1
    first = order[new]
    rank = np.argsort(first, kind="stable")
    remap = np.empty_like(rank)
    remap[rank] = np.arange(len(rank))
    return remap[label], first[rank]


def same_segments(indices: np.ndarray, indptr: np.ndarray, rows: np.ndarray, others: np.ndarray) -> bool:
    """True when each row in ``rows`` has exactly the columns of its row in ``others``
    (rows of equal length, as :func:`group_by_hash` guarantees)."""
    count = np.diff(indptr)[rows].astype(np.int64)
    offs = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    return bool(
        np.array_equal(indices[np.repeat(indptr[rows], count) + offs], indices[np.repeat(indptr[others], count) + offs])
    )


def first_rows(group: np.ndarray) -> np.ndarray:
    """First row of each group (groups numbered 0..g-1)."""
    n_groups = int(group.max()) + 1 if len(group) else 0
    first = np.full(n_groups, len(group), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(group)))
    return first


def merged_from_groups(
    kept_indices: np.ndarray,
    kept_lengths: np.ndarray,
    m: int,
    group: np.ndarray,
    weights: np.ndarray,
    key: np.ndarray,
) -> MergedCoverage:
    """Assemble a :class:`MergedCoverage` from the groups' column lists (in group order)."""
    n_groups = len(kept_lengths)
    w = np.asarray(weights, dtype=float)
    if w.ndim == 1:
        w = w[:, None]
    indptr = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(kept_lengths, out=indptr[1:])
    merged_w = np.column_stack([np.bincount(group, weights=w[:, k], minlength=n_groups) for k in range(w.shape[1])])
    return MergedCoverage(
        matrix=bool_csr(kept_indices, indptr, (n_groups, m)),
        weights=merged_w.reshape(n_groups, w.shape[1]),
        group=group,
        key=np.asarray(key, dtype=np.int64),
    )


def merge_row_segments(
    indices: np.ndarray,
    indptr: np.ndarray,
    m: int,
    weights: np.ndarray,
    codes: np.ndarray,
    hashes: np.ndarray | None = None,
) -> MergedCoverage:
    """Merge rows given as CSR segments (column indices sorted within each row).

    Rows are grouped by (code, length, 64-bit set hash) with one sort (``hashes`` are the
    rows' :func:`row_hashes` when the caller already has them), then every merged row is
    compared element by element with its group's first row; only if a hash collision is
    found does the exact byte-string grouping run instead. Groups are numbered in order
    of their first row.
    """
    n = len(indptr) - 1
    codes = np.asarray(codes, dtype=np.int64)
    lengths = np.diff(indptr).astype(np.int64)
    h = row_hashes(indices, indptr, m) if hashes is None else np.asarray(hashes, dtype=np.uint64)
    group, first = group_by_hash(codes, lengths, h)
    dup = np.flatnonzero(first[group] != np.arange(n))
    if dup.size and not same_segments(indices, indptr, dup, first[group[dup]]):
        group = _merge_rows_exact(indices, indptr, codes)
        first = first_rows(group)
    if len(first) == n:
        kept = indices
    else:
        keep = np.zeros(n, dtype=bool)
        keep[first] = True
        kept = indices[np.repeat(keep, lengths)]
    return merged_from_groups(kept, lengths[first], m, group, weights, codes[first])


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
    codes = np.zeros(n, dtype=np.int64) if by is None else np.asarray(by, dtype=np.int64)
    return merge_row_segments(csr.indices, csr.indptr, csr.shape[1], weights, codes)

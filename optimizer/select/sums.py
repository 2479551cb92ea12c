"""Sums over a sparse 0/1 relation without converting it to numbers.

A sparse product with a boolean matrix converts its whole data array to floats first:
at national scale (72 to 92 million nonzeros) that is 0.6-0.7 GB of fresh memory, and
fresh pages cost about 2 s per GB on the benchmark machine. These sums read the index
arrays in slices of :data:`CHUNK_NONZEROS` instead (8 MB of scratch, reused).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from optimizer.geo.relation import row_slices as slices_of

CHUNK_NONZEROS = 1 << 20
"""Nonzeros per slice."""


def row_sums(reach: sp.csr_array | sp.csc_array, values: np.ndarray) -> np.ndarray:
    """``sum_{j in N(r)} values_j`` for every row, added in ascending unit order, so two
    rows with the same set of units get bit-identical sums (signatures rely on it).

    From a CSC array only the columns with a nonzero value are read (a selection or an
    LP solution has a few percent of the units); from a CSR array every row is read, in
    slices of :data:`CHUNK_NONZEROS` to bound the scratch memory.

    >>> r = sp.csr_array(np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1]], dtype=bool))
    >>> row_sums(r, np.array([1.0, 2.0, 4.0])).tolist(), row_sums(sp.csc_array(r), np.array([1.0, 0.0, 4.0])).tolist()
    ([5.0, 0.0, 7.0], [5.0, 0.0, 5.0])
    """
    values = np.asarray(values, dtype=float)
    if isinstance(reach, sp.csc_array):
        # a column is never split between two batches, and the batches' columns come in
        # ascending order: rows with the same units still get bit-identical sums
        return _line_sums(reach, values, reach.shape[0])
    indptr, indices = reach.indptr, reach.indices
    out = np.zeros(reach.shape[0])
    scratch = np.empty(min(int(reach.nnz), 2 * CHUNK_NONZEROS) + 1)  # reused by every slice
    for start, stop, lo, hi in row_slices(indptr):
        vals = scratch[: hi - lo + 1] if hi - lo < len(scratch) else np.empty(hi - lo + 1)
        np.take(values, indices[lo:hi], out=vals[:-1])
        vals[-1] = 0.0
        starts = indptr[start:stop] - lo
        sums = np.add.reduceat(vals, np.minimum(starts, hi - lo))
        sums[indptr[start + 1 : stop + 1] == indptr[start:stop]] = 0.0
        out[start:stop] = sums
    return out


def row_slices(indptr: np.ndarray):
    """:func:`~optimizer.geo.relation.row_slices` of :data:`CHUNK_NONZEROS` nonzeros."""
    return slices_of(indptr, CHUNK_NONZEROS)


def column_sums(relation: sp.csr_array, values: np.ndarray) -> np.ndarray:
    """``sum_{r: j in N(r)} values_r`` for every column ``j`` of a CSR relation (the
    product ``relation.T @ values``). Only the rows with a nonzero value are read, a
    batch of about :data:`CHUNK_NONZEROS` nonzeros at a time: the result's marginal
    coverage weighs the rows that one selected unit reaches, or none, and those are
    the sparse ones (1.3 % of the nonzeros at XL; 0.4 s -> 0.02 s for the two sums).

    >>> r = sp.csr_array(np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1]], dtype=bool))
    >>> column_sums(r, np.array([1.0, 2.0, 4.0])).tolist(), column_sums(r, np.array([0.0, 2.0, 4.0])).tolist()
    ([5.0, 4.0, 5.0], [4.0, 4.0, 4.0])
    """
    return _line_sums(relation, np.asarray(values, dtype=float), relation.shape[1])


def _line_sums(array: sp.csr_array | sp.csc_array, values: np.ndarray, n_out: int) -> np.ndarray:
    """``sum`` over the major lines (rows of a CSR array, columns of a CSC one) with a
    nonzero value of that value at each of their minor indices: only those lines are
    read, a batch of whole lines of about :data:`CHUNK_NONZEROS` nonzeros at a time
    (scipy's gather; no index array as long as all of them: 30 million at XL took 2.3 s
    that way, mostly fresh memory pages)."""
    out = np.zeros(n_out)
    lines = np.flatnonzero(values)
    if not len(lines):
        return out
    indptr = array.indptr
    ends = np.cumsum(indptr[lines + 1] - indptr[lines])
    start = 0
    while start < len(lines):
        stop = max(int(np.searchsorted(ends, (ends[start - 1] if start else 0) + CHUNK_NONZEROS, side="right")), start + 1)
        batch = lines[start:stop]
        part = array[:, batch] if isinstance(array, sp.csc_array) else array[batch]
        out += np.bincount(part.indices, weights=np.repeat(values[batch], np.diff(part.indptr)), minlength=n_out)
        start = stop
    return out

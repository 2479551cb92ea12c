r"""Row aggregation: a small relaxation of budgeted coverage, refined until it is exact.

At national scale the cover rows are too many and too dense for the LP (the benchmark's
XL instance: 186,000 merged rows, 72 million nonzeros, one connected city region whose
rows reach 760 units each). Neighbouring rows reach nearly the same units, so they are
put in groups, and a group ``G`` becomes one row that reaches the union ``U_G`` of its
members' units, with their summed weight ``W_G``::

    max  w_x.x + sum_G W_G y_G   s.t.  y_G <= sum_{j in U_G} x_j,  0 <= y_G <= 1,  c.x <= B

**A relaxation.** For any ``x``, ``min(1, sum_{U_G} x) >= min(1, sum_{N(r)} x)`` for every
member ``r`` of ``G`` (``N(r)`` is a subset of ``U_G``), so the aggregated value of ``x``
is at least its true value: the aggregated model's LP and MIP optima, and every bound or
reduced-cost fixing derived from them, are valid for the original model. Its columns and
budget row are the original ones, so any ``x`` it returns is feasible for the original,
and its true value is a lower bound. (On aggregation error in covering models: Current &
Schilling 1990, "Analysis of errors due to demand data aggregation in the set covering and
maximal covering location problems", Geographical Analysis 22:116-126; Francis, Lowe,
Rayco & Tamir 2009, "Aggregation error for location models: survey and analysis", Annals
of Operations Research 167:171-208.)

**Refinement.** For a solution ``x``, group ``G`` overstates it by ``loss_G = W_G min(1,
U_G x) - sum_{r in G} w_r min(1, N(r) x) >= 0``. A group that loses is split by the
signature ``N(r) & supp(x)``: inside each part the members reach the same chosen units,
so ``x`` is then valued exactly, and the next relaxation cuts it off (its bound drops
to ``x``'s true value or below). Splitting by rows (each member its own group) does the
same for every future solution. Repeating until no group loses ends with an aggregated
optimum whose true value equals its aggregated value: a proof of optimality (finite: the
partition only gets finer, and the finest one is the original model).

The first partition groups rows by ``k`` min-hashes of their reaching sets (rows with the
same smallest unit under ``k`` random orders; Broder 1997, "On the resemblance and
containment of documents"). Nothing here depends on the hash for correctness: any
partition gives a valid relaxation, the hash only makes the first one good.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from optimizer.select.model import LinearModel, plain_coverage_model
from optimizer.select.sums import row_slices, row_sums


@dataclass(frozen=True)
class Aggregation:
    """A partition of the rows of ``reach`` into groups, with each group's row."""

    groups: np.ndarray  # group of each original row, 0 .. n_groups - 1
    reach: sp.csr_array  # (n_groups, n_units) bool: the union of the members' reaching sets
    weight: np.ndarray  # (n_groups,) summed weight of the members
    parent: np.ndarray | None = None  # after :func:`refine`: the group each group was split from

    @property
    def n_groups(self) -> int:
        return int(self.reach.shape[0])


def hash_groups(reach: sp.csr_array, n_hashes: int = 2, seed: int = 0) -> np.ndarray:
    """Group label of each row: rows with the same ``n_hashes`` min-hashes (smallest
    unit of the reaching set under random orders) share a group; rows reaching no unit
    form one group.

    >>> r = sp.csr_array(np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]], dtype=bool))
    >>> g = hash_groups(r)
    >>> bool(g[0] == g[1]), bool(g[0] != g[2])
    (True, True)
    """
    n_rows, n_units = reach.shape
    rng = np.random.default_rng(seed)
    empty = np.diff(reach.indptr) == 0
    keys = []
    for _ in range(n_hashes):
        order = rng.permutation(n_units).astype(np.int64)
        key = np.full(n_rows, -1, dtype=np.int64)
        # by row slices (one gather of every nonzero's rank was 576 MB of fresh memory
        # at XL: 1.9 s for two hashes)
        for start, stop, lo, hi in row_slices(reach.indptr):
            filled = ~empty[start:stop]
            key[start:stop][filled] = np.minimum.reduceat(order[reach.indices[lo:hi]], reach.indptr[start:stop][filled] - lo)
        keys.append(key)
    return _labels(np.stack(keys, axis=1))


def _labels(keys: np.ndarray) -> np.ndarray:
    """Consecutive labels 0..k-1 for the distinct rows of ``keys`` (in sorted key order)."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    # column by column (1-D sorts; ``np.unique(axis=0)`` sorts the rows as byte strings,
    # several times slower): the ranks combined in mixed radix keep the sorted order
    labels = np.zeros(len(keys), dtype=np.int64)
    for column in np.asarray(keys).T:
        values, rank = np.unique(column, return_inverse=True)
        labels = np.unique(labels * len(values) + rank.ravel(), return_inverse=True)[1].ravel()
    return labels.astype(np.int64)


def _unions(reach: sp.csr_array, groups: np.ndarray, n_groups: int, rows: np.ndarray | None = None) -> sp.csr_array:
    """(n_groups, n_units) bool: the union of the reaching sets of each group's rows
    (``groups[i]`` is the group of row ``rows[i]``, of row ``i`` without ``rows``)."""
    # a boolean product (sums are "or"): no numeric copy of the relation (XL's first
    # partition 4.5 s with float32 counts, mostly converting 72 million entries)
    columns = np.arange(len(groups)) if rows is None else rows
    member = sp.csr_array((np.ones(len(groups), dtype=bool), (groups, columns)), shape=(n_groups, reach.shape[0]))
    union = sp.csr_array(member @ sp.csr_array(reach, dtype=bool))
    union.sum_duplicates()
    return sp.csr_array((np.ones(union.nnz, dtype=bool), union.indices, union.indptr), shape=union.shape)


def combine_groups(*labelings: np.ndarray) -> np.ndarray:
    """The common refinement of several partitions of the rows (one label array each):
    two rows share a group when they share one in every partition.

    >>> combine_groups(np.array([0, 0, 1, 1]), np.array([5, 6, 6, 6])).tolist()
    [0, 1, 2, 2]
    """
    return _labels(np.stack([np.asarray(g) for g in labelings], axis=1))


def aggregate(reach: sp.csr_array, weight: np.ndarray, groups: np.ndarray) -> Aggregation:
    """The aggregated rows of a partition (``groups``: any labels, one per row).

    >>> r = sp.csr_array(np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool))
    >>> a = aggregate(r, np.array([2.0, 3.0, 5.0]), np.array([7, 7, 1]))
    >>> a.reach.toarray().astype(int).tolist(), a.weight.tolist(), a.groups.tolist()
    ([[0, 0, 1], [1, 1, 0]], [5.0, 5.0], [1, 1, 0])
    """
    groups = _labels(np.asarray(groups)[:, None])
    n = int(groups.max()) + 1 if len(groups) else 0
    return Aggregation(groups, _unions(reach, groups, n), np.bincount(groups, weights=weight, minlength=n))


def group_loss(agg: Aggregation, reach: sp.csr_array | sp.csc_array, weight: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``loss_G`` of the module docstring: how much each group overstates ``x``
    (``reach`` in either format; CSC is faster for a sparse ``x``, see :func:`row_sums`).

    >>> r = sp.csr_array(np.array([[1, 0], [0, 1]], dtype=bool))
    >>> a = aggregate(r, np.array([2.0, 3.0]), np.array([0, 0]))
    >>> group_loss(a, r, np.array([2.0, 3.0]), np.array([1.0, 0.0])).tolist()
    [3.0]
    """
    x = np.asarray(x, dtype=float)
    own = np.minimum(1.0, row_sums(reach, x))
    union = np.minimum(1.0, row_sums(agg.reach, x))
    loss = np.bincount(agg.groups, weights=weight * (union[agg.groups] - own), minlength=agg.n_groups)
    return np.maximum(loss, 0.0)


def refine(
    agg: Aggregation, reach: sp.csr_array, weight: np.ndarray, split: np.ndarray, x: np.ndarray | None = None, seed: int = 0, reach_csc: sp.csc_array | None = None
) -> Aggregation:
    """Split the groups where ``split`` is True: by the signature ``N(r) & supp(x)``
    when ``x`` is given, else into single rows. Groups not split keep their rows.
    ``reach_csc`` (the same relation as a CSC array, optional) makes the signatures
    faster.

    >>> r = sp.csr_array(np.array([[1, 0, 1], [0, 1, 1], [1, 0, 0]], dtype=bool))
    >>> a = aggregate(r, np.ones(3), np.zeros(3, dtype=int))
    >>> b = refine(a, r, np.ones(3), np.array([True]), x=np.array([1.0, 0.0, 0.0]))
    >>> b.n_groups, bool(b.groups[0] == b.groups[2]), bool(b.groups[0] != b.groups[1])
    (2, True, True)
    >>> refine(a, r, np.ones(3), np.array([True])).n_groups
    3
    """
    rows = np.asarray(split, dtype=bool)[agg.groups]
    if not rows.any():
        return agg
    if x is None:
        signature = np.arange(len(rows), dtype=float)
    else:
        support = np.asarray(x, dtype=float) > 1e-9
        code = np.random.default_rng(seed).random(reach.shape[1]) * support
        signature = row_sums(reach if reach_csc is None else reach_csc, code)
    # labels of (group, signature) pairs in sorted order; the groups are labels already
    values, rank = np.unique(np.where(rows, signature, -1.0), return_inverse=True)
    _, first, groups = np.unique(agg.groups.astype(np.int64) * len(values) + rank.ravel(), return_index=True, return_inverse=True)
    groups = groups.ravel().astype(np.int64)
    n = len(first)  # first: one member of each new group
    # groups not split keep their union row; only the new parts are recomputed
    fresh = rows[first]
    old_rows = agg.reach[agg.groups[first[~fresh]]]
    fresh_labels = np.flatnonzero(fresh)
    local = np.full(n, -1, dtype=np.int64)
    local[fresh_labels] = np.arange(len(fresh_labels))
    members = np.flatnonzero(rows)
    new_rows = _unions(reach, local[groups[members]], len(fresh_labels), members)
    order = np.concatenate([np.flatnonzero(~fresh), fresh_labels])
    stacked = sp.csr_array(sp.vstack([old_rows, new_rows], format="csr"), dtype=bool)
    union = stacked[np.argsort(order, kind="stable")]
    return Aggregation(groups, sp.csr_array(union), np.bincount(groups, weights=weight, minlength=n), agg.groups[first])


BASIC, AT_UPPER = 1, 2  # HiGHS basis status codes (kBasic, kUpper)


def inherit_basis(agg: Aggregation, n_x: int, col_status: np.ndarray, row_status: np.ndarray, budget_row: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A starting simplex basis for the aggregated model of ``agg`` from the optimal
    basis of the model it was refined from (column order ``x, y``; row order: one cover
    row per group, then the budget if ``budget_row``). Units keep their status; the first part of each
    group takes the group's statuses; every further part adds one basic variable (its
    ``y`` if the group's ``y`` was basic, with its cover row tight; else its cover row),
    so the basis keeps one basic variable per row.

    >>> r = sp.csr_array(np.array([[1, 0], [0, 1]], dtype=bool))
    >>> a = refine(aggregate(r, np.ones(2), np.zeros(2, dtype=int)), r, np.ones(2), np.array([True]))
    >>> cols, rows = inherit_basis(a, 2, np.array([0, 2, 1]), np.array([2, 1]))
    >>> cols.tolist(), rows.tolist()
    ([0, 2, 1, 1], [2, 2, 1])
    """
    parent = agg.parent
    first = np.ones(len(parent), dtype=bool)
    order = np.argsort(parent, kind="stable")
    first[order[1:]] = parent[order[1:]] != parent[order[:-1]]
    y_parent = col_status[n_x + parent]
    row_parent = row_status[parent]
    rows = np.where(first, row_parent, np.where(y_parent == BASIC, AT_UPPER, BASIC))
    return np.concatenate([col_status[:n_x], y_parent]), (np.append(rows, row_status[-1]) if budget_row else rows)


def aggregated_model(model: LinearModel, agg: Aggregation, parts: tuple) -> LinearModel:
    """The aggregated model of ``model`` (plain budgeted coverage, ``parts`` its
    :func:`~optimizer.select.bounds.coverage_structure`; without a budget when the cost
    in ``parts`` is None): the same unit columns, bounds, budget and offset; one cover
    row per group."""
    _, _, w_x, cost, budget = parts
    n = model.n_x
    out = plain_coverage_model(agg.reach, w_x, agg.weight, model.col_lower[:n], model.col_upper[:n], cost=cost, budget=budget, offset=model.offset)
    return replace(out, units=model.units)


def disaggregate_duals(
    agg: Aggregation, reach: sp.csr_array, weight: np.ndarray, w_x: np.ndarray, cost: np.ndarray | None, group_duals: np.ndarray, lam: float, reach_t: sp.csr_array | None = None
) -> tuple[np.ndarray, np.ndarray]:
    r"""Duals of the original LP from an optimal dual of the aggregated LP: each member
    ``r`` of group ``G`` gets the share ``u_r = pi_G w_r / W_G`` of its group's dual
    ``pi_G`` (clipped to ``[0, W_G]``); the budget keeps ``lam``. Returns ``(u, a)``, the
    cover-row duals and the units' reduced costs ``a_j = w_x_j - lam c_j + sum_{r: j in
    N(r)} u_r`` (``reach_t``: ``reach`` transposed as floats, if the caller has it).

    Why they are optimal: the Lagrangian dual value ``lam B + sum_r max(0, w_r - u_r) +
    sum_j max_{x_j} a_j x_j`` is an upper bound of the original LP for every ``u >= 0``
    (weak duality). The first sum equals the aggregated one (``sum_{r in G} (w_r - u_r)
    = W_G - pi_G``), and ``a_j`` is at most the aggregated reduced cost (a unit reaches
    every member of a group it is counted in at most, often fewer), so the value is at
    most the aggregated dual value. When the aggregated LP values its solution exactly,
    that is the original LP's optimum: ``u`` is an optimal dual of the original LP.

    >>> r = sp.csr_array(np.array([[1, 0], [0, 1]], dtype=bool))
    >>> a = aggregate(r, np.array([1.0, 3.0]), np.zeros(2, dtype=int))
    >>> u, red = disaggregate_duals(a, r, np.array([1.0, 3.0]), np.zeros(2), np.ones(2), np.array([2.0]), 2.0)
    >>> u.tolist(), red.tolist()
    ([0.5, 1.5], [-1.5, -0.5])
    """
    pi = np.clip(np.abs(np.asarray(group_duals, dtype=float)), 0.0, agg.weight)
    share = np.divide(weight, agg.weight[agg.groups], out=np.zeros(len(weight)), where=agg.weight[agg.groups] > 0)
    u = pi[agg.groups] * share
    a = np.asarray(w_x, dtype=float) + (sp.csr_array(reach.T, dtype=float) if reach_t is None else reach_t) @ u
    if cost is not None:
        a = a - abs(float(lam)) * np.asarray(cost, dtype=float)
    return u, a

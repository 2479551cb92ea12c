"""Exact reductions applied before the model is built.

Each reduction keeps at least one optimal solution of every stage it is used for:

* **Ineligible units** (excluded, below the minimum score) are fixed to 0 and removed.
* **Rows covered by must-keep units** are covered whatever else is chosen: they are
  removed and their weights become constants (coverage and min-cost objectives only; in
  the quality objective a better unit could still raise their score, and with capacities
  the must-keep unit may be full).
* **Empty rows** (no eligible unit in reach, or zero weight) cannot change anything.
* **Units that reach nothing** (no active row) are dropped unless *protected*.
* **Dominated units.** Unit ``j`` is dominated by ``k`` when ``k`` reaches every row
  ``j`` reaches, costs no more, and (when scores matter) scores no lower. Replacing ``j``
  by ``k`` (or dropping ``j`` if ``k`` is already chosen) never lowers coverage or
  quality and never raises cost, so an optimum without ``j`` exists -- *provided no
  other constraint counts or values ``j`` itself*. Ties (same reach, cost and score)
  keep the first unit.

  **Protected units** are the ones some constraint or stage counts or values on their
  own, so neither of the two arguments above holds for them; they are never dropped:

  - units of a region with a ratio standard (``ratio[g]`` counts units: when ``k`` is
    already chosen, dropping ``j`` loses one unit of the count);
  - every unit when a "maximise total score" stage follows (two units score more than
    one, and a unit reaching nobody new can still raise the total score).

  Not used with capacities (two units serve more than one). Must-keep units are never
  dropped; a unit dominated by a must-keep unit is.
* **Merging again.** After units are removed, rows whose reaching sets became equal are
  merged (within region and service).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from optimizer.geo.relation import merge_identical_rows
from optimizer.select.problem import ModelRows, SelectionProblem

DOMINANCE_WORK_LIMIT = 400_000_000
"""Skip the dominance test when ``sum_rows degree^2`` (the cost of ``M^T M``) exceeds this."""
DOMINANCE_BLOCK_ENTRIES = 10_000_000
"""``M^T M`` is formed a block of units at a time, at most this many (unit, unit) pairs
per block, so its memory stays bounded (the full product can hold 10^8 pairs at XL)."""


@dataclass(frozen=True)
class Reduction:
    """The reduced problem the model is built on.

    Attributes
    ----------
    units : np.ndarray (u,)
        Problem positions of the units kept as model columns (sorted).
    must_keep : np.ndarray (u,) bool
        Which of them must be selected.
    rows : ModelRows
        Active rows; ``rows.matrix`` has ``u`` columns (local unit positions).
    base_population, base_need : float
        Weights of the rows removed because a must-keep unit covers them.
    base_by_region : np.ndarray (R,)
        Their population per region.
    dominated_by : dict[int, int]
        Problem position of each dominated unit -> a unit dominating it.
    reaches_nothing : np.ndarray
        Problem positions of eligible units dropped because they reach no active row.
    """

    units: np.ndarray
    must_keep: np.ndarray
    rows: ModelRows
    base_population: float
    base_need: float
    base_by_region: np.ndarray
    dominated_by: dict
    reaches_nothing: np.ndarray

    @property
    def n_units(self) -> int:
        return len(self.units)


def reduce_problem(
    problem: SelectionProblem,
    rows: ModelRows,
    eligible: np.ndarray,
    must_keep: np.ndarray,
    *,
    drop_kept_rows: bool,
    dominate: bool,
    score_matters: bool,
    protected: np.ndarray | None = None,
    ratios_matter: bool = False,
) -> Reduction:
    """Apply the reductions listed in the module docstring.

    ``protected`` (bool over all problem units, optional) marks the units that must stay
    model columns whatever they reach (see "Protected units"). ``ratios_matter`` (the
    capacity model): rows merged again only when their need and volume per person agree.
    """
    cols = np.flatnonzero(eligible)
    sub = sp.csr_array(rows.matrix[:, cols]) if len(cols) < rows.matrix.shape[1] else rows.matrix
    keep_local = must_keep[cols]
    stay = keep_local if protected is None else keep_local | protected[cols]
    n_regions = len(problem.regions)
    base_by_region = np.zeros(n_regions)
    base_pop = base_need = 0.0
    active = (np.diff(sub.indptr) > 0) & ((rows.population > 0) | (rows.need > 0))
    if drop_kept_rows and keep_local.any():
        kept_cover = (sub @ keep_local.astype(np.int32)) > 0
        gone = active & kept_cover
        base_pop = float(rows.population[gone].sum())
        base_need = float(rows.need[gone].sum())
        known = gone & (rows.region >= 0)
        base_by_region = np.bincount(rows.region[known], weights=rows.population[known], minlength=n_regions)
        active &= ~kept_cover
    idx = np.flatnonzero(active)
    sub = sp.csr_array(sub[idx])
    deg_units = np.bincount(sub.indices, minlength=len(cols))
    dropped = np.zeros(len(cols), dtype=bool)
    dominated_by: dict[int, int] = {}
    dropped |= (deg_units == 0) & ~stay
    if dominate and not stay.all() and sub.nnz and int((np.diff(sub.indptr).astype(np.int64) ** 2).sum()) <= DOMINANCE_WORK_LIMIT:
        score = problem.score[cols] if (score_matters and problem.score is not None) else None
        dom = _dominated(sub, problem.cost[cols], score, stay)
        for j, k in dom.items():
            if not dropped[j]:
                dropped[j] = True
                dominated_by[int(cols[j])] = int(cols[k])
    reaches_nothing = cols[(deg_units == 0) & dropped]
    kept = ~dropped
    units = cols[kept]
    matrix = sub
    if dropped.any():
        matrix = sp.csr_array(sub[:, np.flatnonzero(kept)])
    pop, need, volume, region, service = rows.population[idx], rows.need[idx], rows.volume[idx], rows.region[idx], rows.service[idx]
    nonempty = np.diff(matrix.indptr) > 0
    if not nonempty.all():
        sel = np.flatnonzero(nonempty)
        matrix, pop, need, volume, region, service = sp.csr_array(matrix[sel]), pop[sel], need[sel], volume[sel], region[sel], service[sel]
    if dropped.any() and matrix.shape[0]:
        key = (region + 1) + (int(region.max()) + 2) * service
        if ratios_matter:
            ratios = np.column_stack([np.divide(need, pop, out=np.zeros_like(need), where=pop > 0), np.divide(volume, pop, out=np.zeros_like(volume), where=pop > 0)])
            key = np.unique(np.column_stack([key, ratios]), axis=0, return_inverse=True)[1].ravel()
        merged = merge_identical_rows(matrix, np.column_stack((pop, need, volume)), by=key)
        if merged.n_groups < matrix.shape[0]:
            first = np.zeros(merged.n_groups, dtype=np.int64)
            first[merged.group[::-1]] = np.arange(len(merged.group))[::-1]
            matrix = sp.csr_array(merged.matrix, dtype=bool)
            pop, need, volume = merged.weights[:, 0], merged.weights[:, 1], merged.weights[:, 2]
            region, service = region[first], service[first]
    matrix = sp.csr_array(matrix, dtype=bool)
    matrix.sort_indices()
    return Reduction(
        units=units,
        must_keep=must_keep[units],
        # (the reduced rows' mapping to the original ones is not kept: results are
        # recomputed on the problem's own rows)
        rows=ModelRows(matrix=matrix, population=pop, need=need, region=region, service=service, n_original=rows.n_original, volume=volume, group=np.zeros(0, dtype=np.int64)),
        base_population=base_pop,
        base_need=base_need,
        base_by_region=base_by_region,
        dominated_by=dominated_by,
        reaches_nothing=reaches_nothing,
    )


def _dominated(
    matrix: sp.csr_array,
    cost: np.ndarray,
    score: np.ndarray | None,
    fixed: np.ndarray,
) -> dict[int, int]:
    """Map each dominated column j to one column k that dominates it.

    ``k`` dominates ``j`` when rows(j) is a subset of rows(k) (``(M^T M)[j, k] == deg(j)``),
    ``cost[k] <= cost[j]``, ``score[k] >= score[j]``, ``j`` not fixed (must-keep or
    protected), and ``k`` is strictly better somewhere or has the lower position (ties
    keep the first).

    >>> m = sp.csr_array(np.array([[1, 1, 0], [0, 1, 1], [0, 1, 0]], dtype=bool))
    >>> _dominated(m, np.array([2.0, 1.0, 1.0]), None, np.zeros(3, bool))
    {0: 1, 2: 1}
    >>> _dominated(m, np.array([2.0, 1.0, 1.0]), None, np.array([True, False, False]))
    {2: 1}
    """
    a = sp.csc_array(matrix, dtype=np.int32)
    at = sp.csr_array(a.T)
    deg = np.diff(a.indptr)
    m = a.shape[1]
    candidates = np.flatnonzero(~fixed & (deg > 0))
    block = max(1, DOMINANCE_BLOCK_ENTRIES // max(m, 1))
    out: dict[int, int] = {}
    for first in range(0, len(candidates), block):
        js = candidates[first : first + block]
        shared = sp.coo_array(at[js] @ a)  # (len(js), m): rows shared by j and k
        j, k, cnt = js[shared.row], shared.col, shared.data
        ok = (j != k) & (cnt == deg[j]) & (cost[k] <= cost[j])
        strict = (deg[k] > deg[j]) | (cost[k] < cost[j]) | (k < j)
        if score is not None:
            ok &= score[k] >= score[j]
            strict |= score[k] > score[j]
        ok &= strict
        j, k = j[ok], k[ok]
        order = np.lexsort((k, j))  # the lowest-position dominator of each j
        j, k = j[order], k[order]
        head = np.ones(len(j), dtype=bool)
        head[1:] = j[1:] != j[:-1]
        out.update(zip(j[head].tolist(), k[head].tolist(), strict=True))
    return dict(sorted(out.items()))


def closest_reduction(problem: SelectionProblem, eligible: np.ndarray, must_keep: np.ndarray) -> Reduction:
    """The closest-first model's rows: every (demand point, service) row with people,
    restricted to the eligible units, unmerged and unreduced (a unit that reaches
    nobody nearer than another still changes where people go, so no unit is dropped
    but those reaching no row)."""
    rows = problem.closest_rows()
    cols = np.flatnonzero(eligible)
    m = rows.matrix
    dist = sp.csr_array((rows.distance + 1.0, m.indices, m.indptr), shape=m.shape)
    sub = sp.csr_array(dist[:, cols])
    sub.sort_indices()
    reach = np.bincount(sub.indices, minlength=len(cols)) > 0
    keep = reach | must_keep[cols]
    if not keep.all():
        sub = sp.csr_array(sub[:, np.flatnonzero(keep)])
        sub.sort_indices()
    units = cols[keep]
    matrix = sp.csr_array((np.ones(sub.nnz, dtype=bool), sub.indices, sub.indptr), shape=sub.shape)
    reduced = replace(rows, matrix=matrix, distance=sub.data - 1.0)
    return Reduction(
        units=units,
        must_keep=must_keep[units],
        rows=reduced,
        base_population=0.0,
        base_need=0.0,
        base_by_region=np.zeros(len(problem.regions)),
        dominated_by={},
        reaches_nothing=cols[~keep],
    )

"""A fast feasible start for the capacity model: a lazy cost-effectiveness greedy.

The capacitated model's own search finds good selections slowly (its LP buys capacity by
fractions of a unit), so it starts from this one: units are taken in the order of the
need they would serve per unit of cost, each serving the people still unserved in its
reach up to its capacity (rows with more need per unit of volume first), within the
budget; must-keep units serve first. What a unit would serve only falls as others are
taken, so its last computed value is an upper bound: a unit is re-valued only when it
comes to the top (lazy greedy, Minoux 1978). The assignment the greedy builds is kept,
so the start is a complete, feasible solution of the model (``x``, and ``z`` within every
demand, capacity and link row) that the solver can use as its incumbent. A heuristic:
the solver proves or improves it; it is never reported as optimal by itself.
"""

from __future__ import annotations

import heapq
import time

import numpy as np
import scipy.sparse as sp

from optimizer.select.model import LinearModel
from optimizer.select.reduce import Reduction


def capacity_start(model: LinearModel, red: Reduction, cost: np.ndarray, capacity: np.ndarray, budget: float | None, *, deadline: float | None = None) -> np.ndarray:
    """A full feasible column vector of the capacity ``model`` built on ``red`` (unit
    costs and capacities in ``red.units`` order); see the module docstring."""
    rows = red.rows
    n_units = red.n_units
    m = rows.matrix
    nnz = m.nnz
    # column copy whose values are the pair (z column) positions of the CSR rows
    by_unit = sp.csc_array(sp.csr_array((np.arange(nnz, dtype=np.int64) + 1, m.indices, m.indptr), shape=m.shape))
    pop = rows.population
    per_person = rows.volume_per_person
    ratio = np.divide(rows.need, pop, out=np.zeros_like(pop), where=pop > 0)
    # rows first by need per unit of volume (free rows, with no volume, first of all)
    priority = np.divide(ratio, per_person, out=np.full_like(ratio, np.inf), where=per_person > 0)
    left = pop.copy()
    z = np.zeros(nnz)
    cap = np.asarray(capacity, dtype=float)
    spent = 0.0
    chosen = np.zeros(n_units, dtype=bool)

    def serve(j: int, commit: bool) -> float:
        lo, hi = by_unit.indptr[j], by_unit.indptr[j + 1]
        r = by_unit.indices[lo:hi]
        pairs = by_unit.data[lo:hi] - 1
        avail = left[r]
        keep = avail > 0
        r, pairs, avail = r[keep], pairs[keep], avail[keep]
        if not len(r):
            return 0.0
        order = np.argsort(-priority[r], kind="stable")
        r, pairs, avail = r[order], pairs[order], avail[order]
        vol = avail * per_person[r]
        before = np.concatenate([[0.0], np.cumsum(vol)[:-1]])
        room = np.clip(cap[j] - before, 0.0, None)
        take = np.where(vol > 0, np.minimum(avail, np.divide(room, per_person[r], out=np.zeros_like(room), where=per_person[r] > 0)), avail)
        if commit:
            z[pairs] += take
            left[r] -= take
        return float((take * ratio[r]).sum())

    for j in np.flatnonzero(red.must_keep):
        serve(int(j), True)
        chosen[j] = True
        spent += float(cost[j])
    limit = np.inf if budget is None else float(budget)
    heap = []
    for j in np.flatnonzero(~chosen):
        if cost[j] <= limit - spent + 1e-9:
            value = serve(int(j), False)
            if value > 0:
                heap.append((-value / max(float(cost[j]), 1e-12), int(j)))
    heapq.heapify(heap)
    while heap and (deadline is None or time.perf_counter() < deadline):
        _, j = heapq.heappop(heap)
        if cost[j] > limit - spent + 1e-9:
            continue
        value = serve(j, False)
        if value <= 0:
            continue
        key = -value / max(float(cost[j]), 1e-12)
        if heap and key > heap[0][0]:  # no longer the best: back with its new value
            heapq.heappush(heap, (key, j))
            continue
        serve(j, True)
        chosen[j] = True
        spent += float(cost[j])
    v = np.zeros(model.matrix.shape[1])
    v[:n_units] = chosen
    v[n_units : n_units + nnz] = z
    return v

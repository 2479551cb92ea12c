r"""A bound that exploits the structure of budgeted coverage, for when not even an LP of
the aggregated relaxation (:mod:`.aggregate`) finishes in time.

Lagrangian relaxation of the cover rows (Fisher 1981, "The Lagrangian relaxation method
for solving integer programming problems", Management Science 27:1-18). With
multipliers ``0 <= u_r <= n_r`` on ``y_r <= sum_{j in N(r)} x_j``::

    L(u) = offset + sum_r (n_r - u_r) + max { sum_j a_j(u) x_j : c.x <= B, l <= x <= 1 }
    a_j(u) = w_j + sum_{r : j in N(r)} u_r

(``w_j`` the weight of the rows reached by ``j`` alone, already on ``x_j``). The inner
maximum is a fractional knapsack (must-keep units first, then by ``a_j / c_j``), so
every ``u`` gives a valid upper bound in one sparse product; ``min_u L(u)`` equals the
LP bound. The start ``u_r = n_r`` for rows the incumbent covers at most once and
``u_r = 0`` for rows it covers twice or more is already a good bound (the incumbent's
doubly covered weight plus the best fractional knapsack of marginal gains), then
projected subgradient steps with Polyak step sizes improve it until the deadline.
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from optimizer.select.model import LinearModel


def fractional_knapsack(value: np.ndarray, cost: np.ndarray, budget: float, lower: np.ndarray, upper: np.ndarray) -> tuple[float, np.ndarray]:
    """``max value.x`` s.t. ``cost.x <= budget``, ``lower <= x <= upper`` (0/1 bounds).

    >>> fractional_knapsack(np.array([6.0, 10.0, 12.0]), np.array([1.0, 2.0, 3.0]), 5.0, np.zeros(3), np.ones(3))[0]
    24.0
    """
    x = lower.astype(float).copy()
    left = budget - float(cost @ x)
    total = float(value @ x)
    free = np.flatnonzero((upper > lower) & (value > 0))
    zero = free[cost[free] <= 0]
    x[zero] = 1.0
    total += float(value[zero].sum())
    paid = free[cost[free] > 0]
    order = paid[np.argsort(-value[paid] / cost[paid], kind="stable")]
    cum = np.cumsum(cost[order])
    full = int(np.searchsorted(cum, left, side="right"))
    x[order[:full]] = 1.0
    total += float(value[order[:full]].sum())
    if full < len(order) and left > 0:
        spent = cum[full - 1] if full else 0.0
        frac = (left - spent) / cost[order[full]]
        x[order[full]] = frac
        total += frac * float(value[order[full]])
    return float(total), x


def coverage_structure(model: LinearModel):
    """``(reach, w_rows, w_x, cost, budget)`` when the model is the plain budgeted coverage
    model (cover rows and one budget row only), else None."""
    if model.completion is None or model.completion[0] != "coverage" or not model.maximize:
        return None
    names = model.row_names
    if not all(n.startswith("cover[") or n == "budget" for n in names) or "budget" not in names:
        return None
    reach = model.completion[1]
    ny = reach.shape[0]
    if model.matrix.shape[1] != model.n_x + ny:
        return None
    budget_row = names.index("budget")
    row = model.matrix[[budget_row]]
    cost = np.zeros(model.n_x)
    cols = row.indices
    cost[cols] = row.data
    return reach, model.objective[model.n_x :], model.objective[: model.n_x], cost, float(model.row_upper[budget_row])


def lagrangian_bound(model: LinearModel, incumbent_x: np.ndarray | None, *, deadline: float | None, max_iter: int = 2000) -> float | None:
    """Best Lagrangian bound found before ``deadline`` (None if the model is not the plain
    budgeted coverage model)."""
    parts = coverage_structure(model)
    if parts is None:
        return None
    reach, w, w_x, cost, budget = parts
    lower, upper = model.col_lower[: model.n_x], model.col_upper[: model.n_x]
    # transposed once with float data: a bool matrix times a float vector makes scipy
    # convert the whole matrix on every product (tens of millions of entries at XL)
    reach_t = sp.csr_array(reach.T, dtype=float)
    ny = reach.shape[0]
    u = w / np.maximum(np.diff(reach.indptr), 1)
    target = None if incumbent_x is None else float(model.objective[: model.n_x] @ incumbent_x + w @ np.minimum(1.0, reach @ incumbent_x) + model.offset)
    best = math.inf
    theta = 1.0
    stall = 0
    for _ in range(max_iter):
        a = w_x + reach_t @ u
        inner, x = fractional_knapsack(a, cost, budget, lower, upper)
        value = model.offset + float((w - u).sum()) + inner
        if value < best - 1e-9 * abs(best if math.isfinite(best) else value):
            best = value
            stall = 0
        else:
            stall += 1
            if stall >= 20:
                theta /= 2
                stall = 0
        if deadline is not None and time.perf_counter() > deadline:
            break
        g = _times_sparse(reach_t, x, ny) - 1.0
        g[(u <= 0) & (g > 0)] = 0.0
        g[(u >= w) & (g < 0)] = 0.0
        norm = float(g @ g)
        if norm <= 1e-12 or theta < 1e-4:
            break
        gap = value - (target if target is not None else 0.99 * value)
        u = np.clip(u - theta * max(gap, 1e-9) / norm * g, 0.0, w)
    return best


def _times_sparse(reach_t: sp.csr_array, x: np.ndarray, n_rows: int) -> np.ndarray:
    """``reach @ x`` from the transpose's rows, touching only the columns with ``x > 0``
    (the knapsack solution selects a small share of the units).

    >>> r = sp.csr_array(np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]))
    >>> _times_sparse(sp.csr_array(r.T), np.array([0.5, 0.0, 1.0]), 2).tolist()
    [1.5, 1.0]
    """
    cols = np.flatnonzero(x > 0)
    if not len(cols):
        return np.zeros(n_rows)
    starts, ends = reach_t.indptr[cols], reach_t.indptr[cols + 1]
    lengths = ends - starts
    take = np.repeat(ends - np.cumsum(lengths), lengths) + np.arange(int(lengths.sum()))
    weights = np.repeat(x[cols], lengths) * reach_t.data[take]
    return np.bincount(reach_t.indices[take], weights=weights, minlength=n_rows)

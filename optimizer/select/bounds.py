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

import functools
import math
import time
import weakref

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


@functools.lru_cache(maxsize=32)
def _plain_rows(names: tuple[str, ...]) -> bool:
    """Cover rows and one budget row only (cached: the same model is checked several
    times per solve, 1.5 ms each at M)."""
    return "budget" in names and all(n.startswith("cover[") or n == "budget" for n in names)


_COLUMNS: dict[int, tuple[weakref.ref, sp.csc_array]] = {}


def cover_columns(reach: sp.csr_array) -> sp.csc_array:
    """``reach`` (cover rows x units) as a CSC array, kept while ``reach`` lives: a
    budget sweep reuses the model, and so its copy by columns (0.7 s at XL).

    >>> r = sp.csr_array(np.array([[1, 0], [1, 1]], dtype=bool))
    >>> cover_columns(r) is cover_columns(r), cover_columns(r).indices.tolist()
    (True, [0, 1, 1])
    """
    key = id(reach)
    hit = _COLUMNS.get(key)
    if hit is not None and hit[0]() is reach:
        return hit[1]
    columns = sp.csc_array(reach)
    _COLUMNS[key] = (weakref.ref(reach, lambda _, k=key: _COLUMNS.pop(k, None)), columns)
    return columns


def coverage_structure(model: LinearModel):
    """``(reach, w_rows, w_x, cost, budget)`` when the model is the plain budgeted coverage
    model (cover rows and one budget row only), else None."""
    if model.completion is None or model.completion[0] != "coverage" or not model.maximize:
        return None
    names = model.row_names
    if not _plain_rows(tuple(names)):
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


def lift_cover_duals(reach: sp.csr_array, w: np.ndarray, x: np.ndarray, a: np.ndarray, u: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    r"""Another optimal dual of the LP of budgeted coverage, better for fixing selected
    units: ``u`` raised on the rows a selected unit covers alone.

    ``x`` is an optimal LP solution, ``(u, lam)`` an optimal dual with reduced costs
    ``a_j = w_j - lam c_j + sum_{r: j in N(r)} u_r`` (the cover-row multipliers of the
    module docstring; ``lam`` the budget's). A row ``r`` that exactly one unit ``j`` with
    ``x_j`` at its upper bound 1 reaches, and no other unit of the solution, is covered
    exactly once, so any ``u_r`` in ``[0, w_r]`` keeps complementary slackness with ``x``
    -- as long as no unit at its lower bound ``0`` gets a positive reduced cost. Each
    such row is raised by ``theta (w_r - u_r)``, where ``theta`` is the smallest, over
    the units at 0 that reach it, of ``min(1, -a_k / load_k)`` (``load_k``: what all
    those rows would add to ``a_k``), so no ``a_k`` turns positive. The result is
    still an optimal dual (same value), with larger ``a_j`` for the selected units:
    a unit whose ``a_j`` exceeds the gap to the incumbent cannot be dropped.

    Simplex vertices leave this freedom to chance: on the benchmark's M instance at a
    5 % budget the primal simplex's dual proves 9 of the 69 selected units, the
    aggregated LP's dual spread over its groups none, and lifted 17.

    >>> r = sp.csr_array(np.array([[1, 1], [1, 0]], dtype=bool))
    >>> lift_cover_duals(r, np.array([4.0, 2.0]), np.array([1.0, 0.0]), np.array([1.0, -3.0]), np.zeros(2), np.zeros(2), np.ones(2)).tolist()
    [3.0, 2.0]
    """
    x = np.asarray(x, dtype=float)
    support = x > 1e-9
    at_upper = support & (x >= upper - 1e-9) & (np.abs(x - 1.0) <= 1e-9)
    fixed = upper <= lower
    at_lower = ~support & ~fixed
    csr = sp.csr_array(reach, dtype=float)
    alone = (csr @ support.astype(float) == 1.0) & (csr @ at_upper.astype(float) == 1.0)
    delta = np.where(alone, np.maximum(w - u, 0.0), 0.0)
    load = csr.T @ delta
    slack = np.maximum(-np.asarray(a, dtype=float), 0.0)
    theta = np.ones(len(x))
    limited = at_lower & (load > 0)
    theta[limited] = np.minimum(1.0, slack[limited] / load[limited])
    row_theta = np.ones(csr.shape[0])
    nonempty = np.diff(csr.indptr) > 0
    if csr.nnz:
        row_theta[nonempty] = np.minimum.reduceat(theta[csr.indices], csr.indptr[:-1][nonempty])
    return u + delta * row_theta


def cover_dual_value(reach_t: sp.csr_array, w: np.ndarray, w_x: np.ndarray, cost: np.ndarray, budget: float, lam: float, u: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[float, np.ndarray]:
    """``(L, a)``: the Lagrangian dual value of the module docstring at the budget
    multiplier ``lam`` and cover multipliers ``u`` (with the budget relaxed too:
    ``lam B + sum_r max(0, n_r - u_r) + sum_j max(a_j l_j, a_j u_j)``, an upper bound of the
    LP for any ``lam, u >= 0``), and the reduced costs ``a`` (``reach_t``: the cover rows
    transposed, float).

    >>> rt = sp.csr_array(np.array([[1.0, 1.0], [0.0, 1.0]]))
    >>> cover_dual_value(rt, np.array([3.0, 2.0]), np.zeros(2), np.ones(2), 1.0, 1.0, np.array([3.0, 0.0]), np.zeros(2), np.ones(2))[0]
    5.0
    """
    a = w_x - lam * cost + reach_t @ u
    value = lam * budget + float(np.maximum(w - u, 0.0).sum()) + float(np.maximum(a * lower, a * upper).sum())
    return value, a

r"""The selection MILP, built from the sparse rows as one matrix, solver-neutral.

Budgeted maximal coverage with quality (Church & ReVelle 1974, with a budget in place of
the facility count; the quality and capacity variants below). The model is assembled as
arrays (no Python loop over pairs) into a :class:`LinearModel`; :mod:`.solvers` hands
those arrays to HiGHS directly or turns them into a named pulp problem.

Formulation (``coverage`` objective)::

    max   sum_r  n_r y_r                                      (stage "coverage")
    s.t.  cover[r]:    y_r - sum_{j in N(r)} x_j <= 0         every row r
          budget:      sum_j c_j x_j <= B
          floor[g]:    sum_{r in g} p_r y_r >= alpha_g P_g    every region g with a floor
          ratio[g]:    sum_{j in g} x_j >= ceil(rho_g P_g / 100000)
          target:      sum_r p_r y_r >= tau P                 (min-cost objective)
          x_j = 1 (must keep),  x_j = 0 (excluded, score below the minimum)
          x_j in {0, 1},  0 <= y_r <= 1

then, lexicographically, ``max sum_j s_j x_j`` (stage "score", when units have scores)
and ``min sum_j c_j x_j`` (stage "cost"), each with the earlier optima fixed.

Where

==============  ==============================================================
``x_j``         1 if unit j is contracted
``y_r``         1 if row r is covered (at least one chosen unit in reach)
``r``           a merged row: demand points of one region and service with the
                same set of reaching units
``N(r)``        the eligible units of the row's service that reach it
``n_r, p_r``    need-weighted and plain population of the row (times the service
                weight; the service weights sum to 1)
``c_j, s_j``    cost and score of unit j
``B``           budget
``alpha_g``     coverage floor of region g (a share of its population P_g)
``rho_g``       ratio standard of region g, units per 100,000 people
``tau``         target coverage share (min-cost objective), P total population
==============  ==============================================================

Rows reached by a single unit ``j`` are not given a ``y``: their weight goes straight
onto ``x_j`` (``y_r = x_j`` at an optimum). Rows covered by a must-keep unit are
constants (see :mod:`.reduce`).

``quality-coverage`` (sorted-threshold formulation). For row r let ``L_1 > ... > L_T``
be the distinct scores of its reaching units and ``u_{r,t}`` "a unit with score >= L_t
is chosen"::

    max   sum_r n_r sum_t (L_t - L_{t+1}) u_{r,t}             (L_{T+1} = 0)
    s.t.  qual[r,t]:  u_{r,t} - u_{r,t-1} - sum_{j in N(r), s_j = L_t} x_j <= 0
          0 <= u_{r,t} <= 1,  u_{r,0} = 0

At an optimum ``u_{r,t} = min(1, #chosen units with score >= L_t)``, so the row counts
``n_r * max_{chosen j in N(r)} s_j`` (telescoping sum); ``u_{r,T}`` is its coverage
indicator for floors and targets. Size: one variable and ``2 + (#units at level t)``
nonzeros per level, linear in the pairs.

``capacity`` (assignment "any unit in reach" on the sparse pairs): ``z_{r,j} >= 0``
people of row r served by unit j::

    max   sum_r (n_r / p_r) sum_j z_{r,j}                     (served need)
    s.t.  demand[r]:  sum_{j in N(r)} z_{r,j} <= p_r
          cap[j]:     sum_r u_r z_{r,j} - K_j x_j <= 0        (K_j capacity, a volume)
          link[r,j]:  z_{r,j} - p_r x_j <= 0                  (tightens the LP)

where ``u_r`` is the row's volume per person (its volume ``V_r`` over ``p_r``: tests per
person of the row's service, by need group), and floors and targets count served people.
Rows are merged only when their need and volume per person are equal, so the merged
objective and capacity rows are exact. The quality of coverage (stage ``quality``, or
the ``quality-coverage`` objective) is ``sum_{r,j} (n_r / p_r) s_j z_{r,j}``: need
served, weighted by the score of the unit that serves it.

``capacity`` with the closest-first rule (people use the nearest contracted unit of the
service in reach; Gerrard & Church 1996's closest-assignment constraints), on unmerged
rows with ``a_{r,j} in [0, 1]`` the share of row r directed to unit j::

    max   sum_r (n_r / p_r) sum_j z_{r,j}
    s.t.  assign[r]:   sum_j a_{r,j} <= 1
          direct[r,j]: a_{r,j} - x_j <= 0
          closest[r,j]: sum_{k in N(r), d_{r,k} <= d_{r,j}} a_{r,k} - x_j >= 0
          serve[r,j]:  z_{r,j} - p_r a_{r,j} <= 0
          cap[j]:      sum_r u_r z_{r,j} - K_j x_j <= 0

With ``x`` binary, ``closest[r,j*]`` for the nearest selected unit ``j*`` forces the whole
row onto units at most as near as ``j*``, and ``direct`` allows only selected ones: the
row goes to its nearest selected units (split freely among equally near ones), which
serve up to their capacity. ``a`` need not be integer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from optimizer.select.problem import SelectionProblem
from optimizer.select.reduce import Reduction

INF = math.inf


@dataclass(frozen=True)
class LinearModel:
    """A mixed-integer linear program as arrays (rows ``lower <= A v <= upper``).

    The first ``n_x`` columns are the unit variables ``x`` in ``units`` order;
    ``covered`` maps each model row r to its coverage (or served share) expression, so
    ``p @ covered @ v`` is the covered population of a solution ``v``.
    """

    objective: np.ndarray
    offset: float
    maximize: bool
    matrix: sp.csr_array
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    row_names: list
    col_names: list
    n_x: int
    units: np.ndarray
    covered: sp.csr_array
    completion: tuple | None = None
    pairs: tuple | None = None
    """Capacity models: ``(row, unit)`` (local positions) of each assignment column
    ``z``, which follow the ``n_x`` unit columns in that order."""

    def start_vector(self, x: np.ndarray) -> np.ndarray:
        """A full feasible-if-``x``-is column vector for a unit selection ``x`` (0/1 over
        the first ``n_x`` columns): coverage and quality variables at their best value,
        assignment variables at 0. Used as the solver's warm start."""
        v = np.zeros(self.matrix.shape[1])
        v[: self.n_x] = x
        if self.completion is None:
            return v
        kind, reach, first_of_row = self.completion
        counts = reach @ np.asarray(x, dtype=float)
        if kind == "quality":
            counts = np.cumsum(counts)
            counts -= np.repeat(np.concatenate([[0.0], counts])[first_of_row], np.diff(np.append(first_of_row, len(counts))))
        v[self.n_x : self.n_x + len(counts)] = np.minimum(1.0, counts)
        return v

    @property
    def size(self) -> dict:
        return {"rows": int(self.matrix.shape[0]), "columns": int(self.matrix.shape[1]), "nonzeros": int(self.matrix.nnz)}

    def with_row(self, name: str, coefficients: np.ndarray, lower: float, upper: float) -> LinearModel:
        """A copy with one more row ``lower <= coefficients . v <= upper``."""
        coef = np.asarray(coefficients, dtype=float)
        nz = np.flatnonzero(coef)
        row = sp.csr_array((coef[nz], (np.zeros(len(nz), dtype=np.int64), nz)), shape=(1, self.matrix.shape[1]))
        return replace(
            self,
            matrix=stack_rows([self.matrix, row], self.matrix.shape[1]),
            row_lower=np.append(self.row_lower, lower),
            row_upper=np.append(self.row_upper, upper),
            row_names=[*self.row_names, name],
        )

    def with_objective(self, objective: np.ndarray, *, maximize: bool, offset: float = 0.0) -> LinearModel:
        return replace(self, objective=np.asarray(objective, dtype=float), maximize=maximize, offset=offset)

    def relaxed(self) -> LinearModel:
        """The LP relaxation (no integrality)."""
        return replace(self, integer=np.zeros_like(self.integer))

    def value(self, v: np.ndarray) -> float:
        return float(self.objective @ v + self.offset)


def plain_coverage_model(
    reach: sp.csr_array,
    w_x: np.ndarray,
    w_y: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    *,
    cost: np.ndarray | None = None,
    budget: float | None = None,
    offset: float = 0.0,
) -> LinearModel:
    """``max offset + w_x.x + w_y.y`` s.t. ``cover[r]: y_r - sum_{j in N(r)} x_j <= 0``,
    ``0 <= y <= 1``, ``lower <= x <= upper`` integer, and with ``cost``, ``budget:
    cost.x <= budget`` (the plain budgeted coverage model, built from its parts; used for
    the subproblems of :mod:`.decompose` and the aggregated models of :mod:`.aggregate`).

    >>> m = plain_coverage_model(sp.csr_array(np.array([[1, 1], [0, 1]], dtype=bool)), np.zeros(2), np.array([3.0, 4.0]),
    ...                          np.zeros(2), np.ones(2), cost=np.array([1.0, 2.0]), budget=2.0)
    >>> m.row_names, m.size["nonzeros"], m.value(m.start_vector(np.array([0.0, 1.0])))
    (['cover[0]', 'cover[1]', 'budget'], 7, 7.0)
    """
    ny, nx = reach.shape
    reach = sp.csr_array(reach, dtype=bool)
    if reach.nnz and not reach.data.all():  # explicit False entries reach nothing
        reach = reach.copy()
        reach.eliminate_zeros()
    # (built for every LP round and subproblem: the rows written once, the names cached;
    # sp.bmat and formatted names took 2 ms of every M-size LP round)
    blocks = _Blocks([], [], [], [])
    blocks.add_cover(reach, nx, np.full(ny, -INF), np.zeros(ny), _numbered("cover", ny))
    if cost is not None:
        cost = np.asarray(cost, dtype=float)
        nz = np.flatnonzero(cost)
        blocks.add(np.zeros(len(nz)), nz, cost[nz], [-INF], [INF if budget is None else float(budget)], ["budget"])
    return LinearModel(
        objective=np.concatenate([w_x, w_y]).astype(float),
        offset=float(offset),
        maximize=True,
        matrix=blocks.matrix(nx + ny),
        row_lower=np.concatenate(blocks.lower),
        row_upper=np.concatenate(blocks.upper),
        col_lower=np.concatenate([lower, np.zeros(ny)]).astype(float),
        col_upper=np.concatenate([upper, np.ones(ny)]).astype(float),
        integer=np.concatenate([np.ones(nx, dtype=bool), np.zeros(ny, dtype=bool)]),
        row_names=blocks.names,
        col_names=[*_numbered("x", nx), *_numbered("y", ny)],
        n_x=nx,
        units=np.arange(nx),
        covered=sp.csr_array((0, nx + ny)),
        completion=("coverage", reach, None),
    )


@lru_cache(maxsize=64)
def _numbered(prefix: str, n: int) -> tuple[str, ...]:
    """``prefix[0] .. prefix[n-1]`` (cached: the same sizes recur round after round)."""
    return tuple(f"{prefix}[{i}]" for i in range(n))


@dataclass(frozen=True)
class ModelSpec:
    """The options the model depends on (already validated)."""

    objective: str
    budget: float | None
    target: float | None
    floors: np.ndarray | None
    ratio_units: np.ndarray | None
    capacity: bool
    assignment: str = "any"


@dataclass
class _Blocks:
    """Rows of the model, block by block: (row, column, value) triplets for the small
    blocks; the cover block (tens of millions of nonzeros at national scale) is kept as
    its reach relation and written straight into the model's arrays (no int64 triplets,
    no intermediate copy: at XL the build went 3.0 -> 2.0 s, mostly fresh memory pages)."""

    parts: list
    lower: list
    upper: list
    names: list
    n_rows: int = 0

    def add(self, r, c, v, lower, upper, names) -> None:
        self.parts.append(("coo", np.asarray(v, dtype=float), np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64), len(names)))
        self._bounds(lower, upper, names)

    def add_rows(self, rows: sp.csr_array, lower, upper, names) -> None:
        """Rows given as a CSR array (copied once, into the model's arrays)."""
        self.parts.append(("csr", sp.csr_array(rows), None, None, len(names)))
        self._bounds(lower, upper, names)

    def add_cover(self, reach: sp.csr_array, n_x: int, lower, upper, names) -> None:
        """Rows ``y_r - sum_{j in N(r)} x_j`` (``y_r`` is column ``n_x + r``)."""
        self.parts.append(("cover", reach, n_x, None, len(names)))
        self._bounds(lower, upper, names)

    def _bounds(self, lower, upper, names) -> None:
        self.lower.append(np.asarray(lower, dtype=float))
        self.upper.append(np.asarray(upper, dtype=float))
        self.names.extend(names)
        self.n_rows += len(names)

    def matrix(self, n_cols: int) -> sp.csr_array:
        """The rows of every block, in order, as one CSR array (32-bit indices unless
        they need 64)."""
        blocks = []
        for kind, a, b, c, n in self.parts:
            if kind == "coo":
                blocks.append(sp.csr_array((a, (b, c)), shape=(n, n_cols)))
            elif kind == "csr":
                blocks.append(a)
            else:
                blocks.append((a, b))
        nnz = sum(int(m[0].nnz) + m[0].shape[0] if isinstance(m, tuple) else int(m.nnz) for m in blocks)
        idx_type = np.int32 if max(nnz, n_cols, self.n_rows) < np.iinfo(np.int32).max else np.int64
        data = np.empty(nnz)
        indices = np.empty(nnz, dtype=idx_type)
        indptr = np.zeros(self.n_rows + 1, dtype=idx_type)
        pos = row = 0
        for m in blocks:
            if isinstance(m, tuple):
                reach, n_x = m
                rows = reach.shape[0]
                local = reach.indptr.astype(np.int64) + np.arange(rows + 1)  # one y per row
                length = int(local[-1])
                y_pos = local[1:] - 1
                d, ind = data[pos : pos + length], indices[pos : pos + length]
                d.fill(-1.0)
                d[y_pos] = 1.0
                is_x = np.ones(length, dtype=bool)
                is_x[y_pos] = False
                ind[is_x] = reach.indices
                ind[y_pos] = n_x + np.arange(rows)
            else:
                rows, length, local = m.shape[0], int(m.nnz), m.indptr
                data[pos : pos + length] = m.data
                indices[pos : pos + length] = m.indices
            indptr[row + 1 : row + rows + 1] = pos + np.asarray(local[1:], dtype=np.int64)
            pos += length
            row += rows
        return sp.csr_array((data, indices, indptr), shape=(self.n_rows, n_cols), copy=False)


def stack_rows(mats: list, n_cols: int) -> sp.csr_array:
    """CSR arrays stacked vertically by concatenating their arrays (``sp.vstack`` took
    1.5 s for a national model of 72 million nonzeros plus one row, this 0.25 s plus
    the fresh pages); 32-bit indices unless the result needs 64.

    >>> a = sp.csr_array(np.array([[1.0, 0.0], [0.0, 2.0]]))
    >>> stack_rows([a, sp.csr_array(np.array([[0.0, 3.0]]))], 2).toarray().tolist()
    [[1.0, 0.0], [0.0, 2.0], [0.0, 3.0]]
    """
    blocks = _Blocks([], [], [], [])
    for m in mats:
        blocks.add_rows(m, np.zeros(m.shape[0]), np.zeros(m.shape[0]), [""] * m.shape[0])
    return blocks.matrix(n_cols)


def stage_expressions(problem: SelectionProblem, model: LinearModel, need_objective: np.ndarray) -> dict:
    """Objective vectors of the stages: coverage/quality (given), score and cost; for a
    capacity model also ``quality``: ``sum_{r,j} (n_r / p_r) s_j z_rj``, the need served
    weighted by the score of the unit that serves it."""
    n = model.matrix.shape[1]
    out = {"need": need_objective}
    if model.pairs is not None and problem.score is not None:
        quality = np.zeros(n)
        unit_of_pair = model.pairs[1]
        z = slice(model.n_x, model.n_x + len(unit_of_pair))  # the z columns follow the units
        quality[z] = need_objective[z] * problem.score[model.units][unit_of_pair]
        out["quality"] = quality
    cost = np.zeros(n)
    cost[: model.n_x] = problem.cost[model.units]
    out["cost"] = cost
    if problem.score is not None:
        score = np.zeros(n)
        score[: model.n_x] = problem.score[model.units]
        out["score"] = score
    return out


def build_model(problem: SelectionProblem, red: Reduction, spec: ModelSpec) -> tuple[LinearModel, np.ndarray]:
    """Build the stage-1 model; return it and the need-weighted coverage objective vector.

    The returned model's objective is the mode's first stage (coverage, quality or cost).
    """
    rows = red.rows
    nu = red.n_units
    blocks = _Blocks([], [], [], [])
    pairs = None
    if spec.capacity and spec.assignment == "closest":
        n_extra, extra_names, covered, need_obj_extra, extra_int, pairs = _closest_block(problem, red, blocks)
        x_need = np.zeros(nu)
        completion = None
    elif spec.capacity:
        n_extra, extra_names, covered, need_obj_extra, extra_int, pairs = _capacity_block(problem, red, blocks)
        x_need = np.zeros(nu)
        completion = None
    elif spec.objective == "quality-coverage":
        n_extra, extra_names, covered, need_obj_extra, extra_int, completion = _quality_block(problem, red, blocks)
        x_need = np.zeros(nu)
    else:
        n_extra, extra_names, covered, need_obj_extra, x_need, extra_int, completion = _coverage_block(red, blocks)
    n_cols = nu + n_extra
    pop_expr = covered.T @ rows.population if covered.shape[0] else np.zeros(n_cols)

    if spec.budget is not None:
        blocks.add(np.zeros(nu), np.arange(nu), problem.cost[red.units], [-INF], [spec.budget], ["budget"])
    if spec.floors is not None and problem.has_regions:
        region_pop = problem.population_by_region.to_numpy()
        for g in np.flatnonzero(~np.isnan(spec.floors)):
            sel = rows.region == g
            coef = covered[np.flatnonzero(sel)].T @ rows.population[sel] if sel.any() else np.zeros(n_cols)
            nz = np.flatnonzero(coef)
            rhs = spec.floors[g] * region_pop[g] - red.base_by_region[g]
            blocks.add(np.zeros(len(nz)), nz, coef[nz], [rhs], [INF], [f"floor[{problem.regions[g]}]"])
    if spec.ratio_units is not None:
        unit_region = problem.unit_region[red.units]
        for g in np.flatnonzero(spec.ratio_units > 0):
            js = np.flatnonzero(unit_region == g)
            blocks.add(np.zeros(len(js)), js, np.ones(len(js)), [float(spec.ratio_units[g])], [INF], [f"ratio[{problem.regions[g]}]"])
    if spec.target is not None:
        nz = np.flatnonzero(pop_expr)
        rhs = spec.target * float(problem.population.sum()) - red.base_population
        blocks.add(np.zeros(len(nz)), nz, pop_expr[nz], [rhs], [INF], ["target"])

    matrix = blocks.matrix(n_cols)
    col_lower = np.zeros(n_cols)
    col_lower[:nu] = red.must_keep.astype(float)
    col_upper = np.ones(n_cols)
    if spec.capacity:
        col_upper[nu:] = INF
    integer = np.zeros(n_cols, dtype=bool)
    integer[:nu] = True
    integer[nu:] = extra_int
    need_obj = np.zeros(n_cols)
    need_obj[:nu] = x_need
    need_obj[nu:] = need_obj_extra
    if spec.objective == "min-cost":
        objective, maximize, offset = np.concatenate([problem.cost[red.units], np.zeros(n_extra)]), False, 0.0
    else:
        objective, maximize, offset = need_obj, True, red.base_need
    model = LinearModel(
        objective=objective,
        offset=offset,
        maximize=maximize,
        matrix=matrix,
        row_lower=np.concatenate(blocks.lower) if blocks.lower else np.zeros(0),
        row_upper=np.concatenate(blocks.upper) if blocks.upper else np.zeros(0),
        col_lower=col_lower,
        col_upper=col_upper,
        integer=integer,
        row_names=blocks.names,
        col_names=[f"x[{u}]" for u in problem.unit_ids[red.units]] + extra_names,
        n_x=nu,
        units=red.units,
        covered=covered,
        completion=completion,
        pairs=pairs,
    )
    if spec.capacity and spec.objective == "quality-coverage":
        model = model.with_objective(stage_expressions(problem, model, need_obj)["quality"], maximize=True)
    return model, need_obj


def _coverage_block(red: Reduction, blocks: _Blocks):
    m = red.rows.matrix
    nu = red.n_units
    deg = np.diff(m.indptr)
    multi = np.flatnonzero(deg >= 2)
    single = np.flatnonzero(deg == 1)
    ny = len(multi)
    sub = m if len(multi) == m.shape[0] else sp.csr_array(m[multi])
    # cover[r]: y_r - sum_{j in N(r)} x_j <= 0 (the row's units, then y_r)
    blocks.add_cover(sub, nu, np.full(ny, -INF), np.zeros(ny), [f"cover[{i}]" for i in multi])
    single_unit = m.indices[m.indptr[single]]
    x_need = np.bincount(single_unit, weights=red.rows.need[single], minlength=nu)
    n_rows = m.shape[0]
    cov_rows = np.concatenate([multi, single])
    cov_cols = np.concatenate([nu + np.arange(ny), single_unit])
    covered = sp.csr_array((np.ones(len(cov_rows)), (cov_rows, cov_cols)), shape=(n_rows, nu + ny))
    completion = ("coverage", sub, None)  # bool reach matrix of the y rows
    return ny, [f"y[{i}]" for i in multi], covered, red.rows.need[multi], x_need, np.zeros(ny, dtype=bool), completion


def _quality_block(problem: SelectionProblem, red: Reduction, blocks: _Blocks):
    m = red.rows.matrix
    nu = red.n_units
    n_rows = m.shape[0]
    deg = np.diff(m.indptr)
    r_of_pair = np.repeat(np.arange(n_rows), deg)
    s = problem.score[red.units][m.indices]
    order = np.lexsort((-s, r_of_pair))
    r_sorted, s_sorted, j_sorted = r_of_pair[order], s[order], m.indices[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (r_sorted[1:] != r_sorted[:-1]) | (s_sorted[1:] != s_sorted[:-1])
    level_of_pair = np.cumsum(new) - 1
    n_levels = int(new.sum())
    level_row = r_sorted[new]
    level_val = s_sorted[new]
    same_next = np.zeros(n_levels, dtype=bool)
    same_next[:-1] = level_row[1:] == level_row[:-1]
    next_val = np.where(same_next, np.append(level_val[1:], 0.0), 0.0)
    has_prev = np.zeros(n_levels, dtype=bool)
    has_prev[1:] = same_next[:-1]
    lv = np.arange(n_levels)
    prev = np.flatnonzero(has_prev)
    rr = np.concatenate([lv, prev, level_of_pair])
    cc = np.concatenate([nu + lv, nu + prev - 1, j_sorted])
    vv = np.concatenate([np.ones(n_levels), -np.ones(len(prev)), -np.ones(len(level_of_pair))])
    names = [f"qual[{r},{t}]" for r, t in zip(level_row.tolist(), (lv - np.maximum.accumulate(np.where(~has_prev, lv, 0))).tolist(), strict=True)]
    blocks.add(rr, cc, vv, np.full(n_levels, -INF), np.zeros(n_levels), names)
    need_obj = red.rows.need[level_row] * (level_val - next_val)
    last = np.flatnonzero(~same_next)
    covered = sp.csr_array((np.ones(len(last)), (level_row[last], nu + last)), shape=(n_rows, nu + n_levels))
    col_names = [f"u[{n}]" for n in names]
    reach = sp.csr_array((np.ones(len(level_of_pair)), (level_of_pair, j_sorted)), shape=(n_levels, nu))
    completion = ("quality", reach, np.flatnonzero(~has_prev))
    return n_levels, col_names, covered, need_obj, np.zeros(n_levels, dtype=bool), completion


def _capacity_block(problem: SelectionProblem, red: Reduction, blocks: _Blocks):
    m = red.rows.matrix
    nu = red.n_units
    n_rows = m.shape[0]
    pop = red.rows.population
    deg = np.diff(m.indptr)
    r_of_pair = np.repeat(np.arange(n_rows), deg)
    npairs = m.nnz
    zcols = nu + np.arange(npairs)
    # demand[r]: sum_j z_rj <= p_r
    blocks.add(r_of_pair, zcols, np.ones(npairs), np.full(n_rows, -INF), pop, _numbered("demand", n_rows))
    # cap[j]: sum_r u_r z_rj - K_j x_j <= 0 (u_r: volume per person of the row)
    cap = problem.capacity[red.units]
    rr = np.concatenate([m.indices, np.arange(nu)])
    cc = np.concatenate([zcols, np.arange(nu)])
    vv = np.concatenate([red.rows.volume_per_person[r_of_pair], -cap])
    blocks.add(rr, cc, vv, np.full(nu, -INF), np.zeros(nu), [f"cap[{u}]" for u in problem.unit_ids[red.units]])
    # link[r,j]: z_rj - p_r x_j <= 0 (implied by the rows above for integral x; it
    # tightens the LP relaxation: a unit bought at a fraction serves no more of a row
    # than that fraction of its people)
    pr = np.arange(npairs)
    blocks.add(np.concatenate([pr, pr]), np.concatenate([zcols, m.indices]), np.concatenate([np.ones(npairs), -pop[r_of_pair]]), np.full(npairs, -INF), np.zeros(npairs), _numbered("link", npairs))
    inv = np.divide(1.0, pop, out=np.zeros_like(pop), where=pop > 0)
    covered = sp.csr_array((inv[r_of_pair], (r_of_pair, zcols)), shape=(n_rows, nu + npairs))
    ratio = red.rows.need * inv
    names = list(_numbered("z", npairs))
    return npairs, names, covered, ratio[r_of_pair], np.zeros(npairs, dtype=bool), (r_of_pair, m.indices.copy())


def _closest_block(problem: SelectionProblem, red: Reduction, blocks: _Blocks):
    """Closest-first assignment: columns ``z`` (people served, one per pair) then ``a``
    (share of the row directed to the unit, one per pair); see the module docstring."""
    m = red.rows.matrix
    nu = red.n_units
    n_rows = m.shape[0]
    pop = red.rows.population
    dist = red.rows.distance
    deg = np.diff(m.indptr)
    r_of_pair = np.repeat(np.arange(n_rows), deg)
    npairs = m.nnz
    zcols = nu + np.arange(npairs)
    acols = nu + npairs + np.arange(npairs)
    pr = np.arange(npairs)
    # assign[r]: sum_j a_rj <= 1
    blocks.add(r_of_pair, acols, np.ones(npairs), np.full(n_rows, -INF), np.ones(n_rows), _numbered("assign", n_rows))
    # direct[r,j]: a_rj - x_j <= 0
    blocks.add(np.concatenate([pr, pr]), np.concatenate([acols, m.indices]), np.concatenate([np.ones(npairs), -np.ones(npairs)]), np.full(npairs, -INF), np.zeros(npairs), _numbered("direct", npairs))
    # closest[r,j]: sum_{k in N(r), d_rk <= d_rj} a_rk - x_j >= 0
    rr, cc = [], []
    for r in np.flatnonzero(deg):
        lo, hi = m.indptr[r], m.indptr[r + 1]
        d = dist[lo:hi]
        order = np.argsort(d, kind="stable")
        upto = np.searchsorted(d[order], d, side="right")  # pairs of r at most as far as each
        for t in range(hi - lo):
            rr.append(np.full(upto[t], lo + t))
            cc.append(acols[lo + order[: upto[t]]])
    rr = np.concatenate(rr) if rr else np.zeros(0, dtype=np.int64)
    cc = np.concatenate(cc) if cc else np.zeros(0, dtype=np.int64)
    blocks.add(np.concatenate([rr, pr]), np.concatenate([cc, m.indices]), np.concatenate([np.ones(len(rr)), -np.ones(npairs)]), np.zeros(npairs), np.full(npairs, INF), _numbered("closest", npairs))
    # serve[r,j]: z_rj - p_r a_rj <= 0
    blocks.add(np.concatenate([pr, pr]), np.concatenate([zcols, acols]), np.concatenate([np.ones(npairs), -pop[r_of_pair]]), np.full(npairs, -INF), np.zeros(npairs), _numbered("serve", npairs))
    # cap[j]: sum_r u_r z_rj - K_j x_j <= 0
    cap = problem.capacity[red.units]
    blocks.add(np.concatenate([m.indices, np.arange(nu)]), np.concatenate([zcols, np.arange(nu)]), np.concatenate([red.rows.volume_per_person[r_of_pair], -cap]), np.full(nu, -INF), np.zeros(nu), [f"cap[{u}]" for u in problem.unit_ids[red.units]])
    inv = np.divide(1.0, pop, out=np.zeros_like(pop), where=pop > 0)
    covered = sp.csr_array((inv[r_of_pair], (r_of_pair, zcols)), shape=(n_rows, nu + 2 * npairs))
    need_obj = np.concatenate([(red.rows.need * inv)[r_of_pair], np.zeros(npairs)])
    names = [*_numbered("z", npairs), *_numbered("a", npairs)]
    return 2 * npairs, names, covered, need_obj, np.zeros(2 * npairs, dtype=bool), (r_of_pair, m.indices.copy())

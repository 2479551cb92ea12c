"""Solve a :class:`~optimizer.select.model.LinearModel`: HiGHS, CBC or any pulp solver.

* ``"highs"`` (default): the model arrays go straight to HiGHS through highspy
  (``Highs.passModel``; no per-row Python objects), with the greedy solution as a
  start (``Highs.setSolution``).
* ``"cbc"``: pulp's bundled CBC (``PULP_CBC_CMD``) on a pulp problem whose constraints
  carry the model's names (``budget``, ``cover[r]``, ``floor[g]``...).
* any other name pulp knows (``pulp.listSolvers()``, e.g. ``"HiGHS"``, ``"GLPK_CMD"``).

Status policy (every solver status maps to one of four outcomes):

==================  =========================================================
``optimal``         proven optimal (within ``gap_rel``, 0 by default)
``time_limit``      a limit (time, iterations, nodes, interrupt, memory) stopped
                    the search with a feasible incumbent: it is returned with
                    its proven gap ``|bound - objective| / |objective|``
``no_solution``     a limit stopped the search before any feasible solution
``infeasible``      the solver proved there is no feasible solution
==================  =========================================================

Anything else (a load or solve error, "unbounded", which these bounded models cannot
be) raises :class:`SolverError`. Solvers that do not report a dual bound (CBC through
pulp) get the LP-relaxation bound computed by HiGHS, which is valid but may be weaker.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import highspy
import numpy as np
import pulp
import scipy.sparse as sp

from optimizer.errors import InputError, SolverError
from optimizer.select.aggregate import (
    Aggregation,
    aggregate,
    aggregated_model,
    combine_groups,
    disaggregate_duals,
    group_loss,
    hash_groups,
    inherit_basis,
    refine,
)
from optimizer.select.bounds import (
    cover_columns,
    cover_dual_value,
    coverage_structure,
    lagrangian_bound,
    lift_cover_duals,
)
from optimizer.select.branch import BranchOutcome, Relaxation, branch_and_bound
from optimizer.select.decompose import component_bound
from optimizer.select.greedy import polish, repair, round_lp
from optimizer.select.model import LinearModel
from optimizer.select.sums import row_sums

HMS = highspy.HighsModelStatus
HIGHS_STATUS = {
    HMS.kOptimal: "optimal",
    HMS.kModelEmpty: "optimal",
    HMS.kInfeasible: "infeasible",
    HMS.kUnboundedOrInfeasible: "infeasible",
    HMS.kTimeLimit: "limit",
    HMS.kIterationLimit: "limit",
    HMS.kSolutionLimit: "limit",
    HMS.kInterrupt: "limit",
    HMS.kHighsInterrupt: "limit",
    HMS.kMemoryLimit: "limit",
    HMS.kObjectiveBound: "limit",
    HMS.kObjectiveTarget: "limit",
    HMS.kUnknown: "limit",
    HMS.kUnbounded: "error",
    HMS.kNotset: "error",
    HMS.kLoadError: "error",
    HMS.kModelError: "error",
    HMS.kPresolveError: "error",
    HMS.kSolveError: "error",
    HMS.kPostsolveError: "error",
}
"""HiGHS model status -> outcome ("limit" becomes time_limit or no_solution)."""

BASIC_CODE = 1
"""HiGHS's status code of a basic variable (``kBasic``)."""

BASIS_STATUS = np.array(list(highspy.HighsBasisStatus.__members__.values()), dtype=object)
"""HiGHS basis status by code (kLower 0, kBasic 1, kUpper 2, kZero 3, kNonbasic 4); an
object array, so a code array converts with one ``take`` (``BASIS_STATUS[codes]``)."""

PULP_STATUS = {
    # (pulp status, pulp solution status) -> outcome
    (pulp.LpStatusOptimal, pulp.LpSolutionOptimal): "optimal",
    (pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible): "limit",
    (pulp.LpStatusNotSolved, pulp.LpSolutionIntegerFeasible): "limit",
    (pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound): "limit",
    (pulp.LpStatusUndefined, pulp.LpSolutionNoSolutionFound): "limit",
    (pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible): "infeasible",
    (pulp.LpStatusInfeasible, pulp.LpSolutionNoSolutionFound): "infeasible",
    (pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded): "error",
}
"""pulp (status, sol_status) -> outcome; unlisted pairs are errors."""

SOLVER_ALIASES = {"highs": "highs", "cbc": "PULP_CBC_CMD"}

LP_SHARE = 0.6
"""Share of the remaining time limit the LP relaxation may use."""

LP_REFERENCE = (883_476, 4.2)
"""(nonzeros, seconds) of the LP relaxation of the benchmark's L instance (HiGHS primal
simplex, one core); from M (164,380 nonzeros, 0.21 s) to L (4.2 s) the time grew as
the nonzeros to the power 1.8."""

COMPONENT_SHARE = 0.3
"""Share of the remaining time limit the component MIPs of the component bound may use."""

COMPONENT_AGGREGATE_MIN_ROWS = 500
"""Components with at least this many rows are solved on their aggregated relaxation."""

COMPONENT_MIP_ROUNDS = 3
"""MIP rounds on a component's aggregated relaxation (the groups that overstate the
last optimum split into rows each time) before the component's own MIP. Benchmark L:
a 3,680-row component in 2 rounds (0.7 s) instead of one round and its own MIP (2.4 s,
or its time limit); L 24 / 12 s -> 11 / 7 s at 10 / 20 %. Six rounds: a 2,207-row
component took 5 (3.8 s against 3.3 s with 3 and its own MIP)."""

COMPONENT_MIN_SECONDS = 5.0
"""Without a time limit, the component MIPs may use this long, or 3x the time spent so
far if that is more (the hardest component of the benchmark's M instance with unit
costs took 2.4 s)."""

AGGREGATE_MIN_NONZEROS = 5_000_000
"""Plain budgeted coverage models with at least this many nonzeros (or whose LP is out of
reach of the time limit) are solved through the aggregated relaxation of
:mod:`.aggregate` (the benchmark's L instance has 0.9 million, XL 72 million)."""

AGGREGATE_LP_MIN_NONZEROS = 100_000
"""From this many nonzeros, the LP relaxation of plain budgeted coverage on the direct
path is solved through the aggregated relaxation's LP rounds (:func:`_lp_by_aggregation`)
instead of the primal simplex on the model. Benchmark L (883,476 nonzeros): the LP in
0.6-0.8 s instead of 3.5-4.8 s (5 / 10 / 20 %), solves 5.5 / 39 / 19 s -> 2.4 / 24 / 12 s
with nothing else changed; M (164,380): the LP in 0.11-0.31 s instead of 0.20-0.36 s,
solves 0.70 / 0.76 / 0.48 s -> 0.67 / 0.61 / 0.32 s."""

AGGREGATION_SECONDS_PER_NONZERO = 4.5e-8
"""Time of the first aggregation (min-hashes and unions) per cover-row nonzero, measured
at the benchmark's XL size (3.1 s for 72 million); steers the time limit only."""

LAGRANGIAN_SECONDS_PER_NONZERO = 3.5e-8
"""Setup time of :func:`~optimizer.select.bounds.lagrangian_bound` per nonzero (it
transposes the cover rows: about 2.5 s at XL); steers the time limit only."""

AGGREGATE_HASHES = 2
"""Min-hashes per row in the first partition of the aggregated relaxation."""

AGGREGATE_LP_SHARE = 0.8
"""Share of the remaining time limit the LP rounds of the aggregated relaxation may use."""

AGGREGATE_LP_TOLERANCE = 1e-7
"""The LP rounds stop when the groups overstate the LP solution by at most this share of
its value (the aggregated LP bound is then the LP bound to this precision)."""

AGGREGATE_MAX_FREE = 2000
"""With a time limit, the MIP rounds of the aggregated relaxation skip the final MIP when
more units than this are left free after fixing: on the benchmark's XL instance (8,500
free units on a 2-million-nonzero model) it never improved the answer in the time left,
and HiGHS overran its time limit by 6 s."""

FINAL_AGGREGATE = True
"""Solve the final MIP's compacted model through the aggregated relaxation (its MIP
rounds, exact) when it has at least :data:`FINAL_AGGREGATE_MIN_NONZEROS` nonzeros.
Measured on the benchmark's L instance: 40.4 / 38.8 / 21.3 s -> 5.3 / 46-49 / 21-22 s
at 5 / 10 / 20 % (at 10 % three MIP rounds of 8-12 s each were needed); M unchanged."""

FINAL_AGGREGATE_MIN_NONZEROS = 50_000

AGGREGATE_MARGIN_SHARE = 0.03
"""Share of the time limit kept free after the MIP rounds of the aggregated relaxation
(HiGHS overran a 12 s limit by up to 1 s on the 3-million-nonzero aggregated model)."""

MIN_MIP_SECONDS = 0.5
"""Below this much time left, the final MIP is skipped (incumbent + LP bound returned);
on the direct path a smaller model needs less (:data:`MIN_MIP_SECONDS_PER_NONZERO`)."""

MIN_MIP_SECONDS_PER_NONZERO = 5e-7
"""The least time left for a final MIP on the direct path, per model nonzero, up to
:data:`MIN_MIP_SECONDS` (S 4 ms, M 0.08 s, L 0.45 s): with 0.5 s for every size, S
answered a 0.3 s limit with a 0.6 % gap in 16 ms though its whole solve takes 70 ms."""

# HiGHS options per kind of MIP, measured (the same models and starts, 2 cores) on the
# slowest MIPs of the benchmark's M (random and unit costs) and L instances at 5 / 10 /
# 20 %: 13 component MIPs and 6 final MIPs of plain budgeted coverage, all started from
# a good incumbent, so HiGHS's primal heuristics mostly cost time. The root reduced-cost
# heuristic off alone: M final MIPs 0.29 -> 0.17 s, L 10 % 5.5 -> 4.1 s, the slowest
# component of M with unit costs 0.85 -> 0.45 s. Not used by the national route's MIP
# rounds, which stop at the time limit and need HiGHS's heuristics for their incumbent
# (XL at 10 %: gap 0.045 % with these options, 0.016 % without).
NO_ROOT_REDUCED_COST = {"mip_heuristic_run_root_reduced_cost": False}

COMPONENT_MIP_OPTIONS = {**NO_ROOT_REDUCED_COST, "mip_heuristic_run_rens": False, "mip_heuristic_run_rins": False, "mip_heuristic_run_feasibility_jump": False}
"""Component MIPs the branch and bound leaves unfinished (no budget, Lagrangian weights):
RENS, RINS and feasibility jump off too: 3.9 -> 2.5 s over the 13 (the slowest 0.93 ->
0.54 s; M with unit costs at 10 %, 0.39 -> 0.21 s); never slower."""

COMPONENT_ABS_GAP = 1e-6
"""Absolute gap at which a component's subproblem counts as solved."""

COMPONENT_MAX_NODES = 300
"""Nodes of a component's branch and bound (:mod:`.branch`) before HiGHS's MIP takes over
from its incumbent; the benchmark's 109 component MIPs (M and L) needed at most 91."""

FINAL_MIP_OPTIONS = {**NO_ROOT_REDUCED_COST, "mip_heuristic_run_rins": False, "mip_heuristic_run_feasibility_jump": False}
"""A final MIP of plain coverage with fewer than :data:`LARGE_MIP_MIN_FREE` free units (M,
L at 5 %): RINS and feasibility jump off too: 0.71 -> 0.59 s over the four."""

LARGE_MIP_MIN_FREE = 500
LARGE_MIP_OPTIONS = {**NO_ROOT_REDUCED_COST, "mip_allow_restart": False, "mip_heuristic_run_rens": False}
"""A final MIP of plain coverage with at least :data:`LARGE_MIP_MIN_FREE` free units: no
restarts, RENS off too. L at 10 / 20 % (612 / 979 free units): 4.3 / 3.4 s -> 1.2 / 1.3 s;
the smaller final MIPs (160-280 free units at M, 244 at L 5 %) were twice slower without
restarts."""

PRESOLVE_MAX_FREE = 2000
"""The final MIP uses HiGHS presolve when at most this many units are left free."""

NEIGHBOURHOOD = 60
"""Units freed, besides the LP's fractional ones, in the second incumbent search (those
with the smallest reduced costs: the likeliest to change)."""


POLISH_SHARE = 0.1
"""Share of the remaining time limit each local search after a rounding may use (from an
LP cut short by a limit the rounding is poor, and the search over L's 3,000 units ran
2.6 s past a 0.1 s limit)."""

POLISH_ALL_MAX_UNITS = 5000
"""Up to this many units, the local search after the LP rounding may move any unit
(benchmark M at 20 %: it then ends at the optimum, 0.70 -> 0.51 s; L unchanged); above,
only the units near the LP solution (:func:`_near_lp`)."""

SUB_MIPS = (NEIGHBOURHOOD,)
"""Incumbent searches: units freed besides the LP's fractional ones, one sub-MIP per
entry (measured on the benchmark's M instance: one search with the neighbourhood beat
a fractional-only search followed by the neighbourhood, and a third, wider one)."""


@dataclass(frozen=True)
class LpDuals:
    """Duals of an LP solution: reduced costs of the columns, duals of the rows."""

    columns: np.ndarray
    rows: np.ndarray
    basis: tuple[np.ndarray, np.ndarray] | None = None  # HiGHS status codes of the columns and rows
    groups: np.ndarray | None = None  # the group of each cover row, when solved through the aggregation


@dataclass(frozen=True)
class SolveOutcome:
    """What one solve returned."""

    status: str
    values: np.ndarray | None
    objective: float | None
    bound: float | None
    gap: float | None
    solver: str
    raw_status: str
    seconds: float


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """``|bound - objective| / max(|objective|, 1e-9)`` (HiGHS' convention), 0 if equal.

    >>> relative_gap(95.0, 100.0)
    0.05263157894736842
    >>> relative_gap(0.0, 0.0)
    0.0
    """
    if objective is None or bound is None or not math.isfinite(bound) or not math.isfinite(objective):
        return None
    diff = abs(bound - objective)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    return diff / max(abs(objective), 1e-9)


def check_solver(name: str) -> str:
    """Canonical solver name, or InputError naming the available ones."""
    key = SOLVER_ALIASES.get(name.lower(), name)
    if key == "highs":
        return key
    available = pulp.listSolvers(onlyAvailable=True)
    if key not in available:
        raise InputError(
            f"expected a solver among 'highs', 'cbc', 'greedy' or the available pulp solvers {available}", found=name
        )
    return key


def solve_model(
    model: LinearModel,
    *,
    solver: str = "highs",
    time_limit: float | None = None,
    gap_rel: float = 0.0,
    start: np.ndarray | None = None,
    presolve: bool = False,
    compact: Callable[[np.ndarray, np.ndarray], LinearModel] | None = None,
) -> SolveOutcome:
    """Solve ``model`` and map the solver status through the policy above.

    ``start`` is a value for the first ``model.n_x`` columns (the units), or a full column
    vector, used as a warm start when the solver accepts one. ``compact(lower_x, upper_x)`` (HiGHS only,
    optional) rebuilds the model with the units fixed by those bounds taken out (fixed
    at 1: must-keep, their rows constants; at 0: removed) and the reductions applied
    again; it must be exact for the fixed problem (see :func:`_solve_highs`).
    """
    key = check_solver(solver)
    t0 = time.perf_counter()
    if model.matrix.shape[1] == 0:
        # nothing to decide (no eligible unit reaches anyone): the constants are the answer,
        # infeasible if a row's constant bounds exclude zero
        ok = bool(np.all(model.row_lower <= 1e-9) and np.all(model.row_upper >= -1e-9))
        if not ok:
            return SolveOutcome("infeasible", None, None, None, None, key.lower() if key == "highs" else key, "Empty model, infeasible", time.perf_counter() - t0)
        return SolveOutcome("optimal", np.zeros(0), model.offset, model.offset, 0.0, "highs" if key == "highs" else key, "Empty model", time.perf_counter() - t0)
    if key == "highs":
        out = _solve_highs(model, time_limit, gap_rel, start, presolve, compact)
    else:
        out = _solve_pulp(model, key, time_limit, gap_rel, start)
    return SolveOutcome(**{**out.__dict__, "seconds": time.perf_counter() - t0})


def find_feasible(model: LinearModel, time_limit: float | None = None) -> SolveOutcome:
    """A feasible point of ``model``, by HiGHS's MIP with presolve, stopped at the first
    one found (its objective only guides the search: measured on the capacitated demo,
    a zero objective did not prove infeasibility in 55 s, the coverage objective in 14 s):
    status ``infeasible`` proves that none exists; any other status with values returns
    one; ``time_limit`` / ``no_solution`` without values, that the limit came first."""
    t0 = time.perf_counter()
    out = _run_highs(model, time_limit, 0.0, None, True, mip_options={"mip_max_improving_sols": 1})[0]
    return replace(out, seconds=time.perf_counter() - t0)


def lp_bound(model: LinearModel, time_limit: float | None = None, incumbent_x: np.ndarray | None = None) -> float | None:
    """Objective of the LP relaxation (a valid bound). For plain budgeted coverage from
    :data:`AGGREGATE_LP_MIN_NONZEROS` (see :func:`_solve_highs`), the LP rounds of the aggregated
    relaxation (:mod:`.aggregate`: the LP bound, or a valid bound above it when the
    time runs out first). When no LP finishes in time, the Lagrangian bound of
    :mod:`.bounds` (plain budgeted coverage only), else None."""
    t0 = time.perf_counter()
    lp_limit = None if time_limit is None else LP_SHARE * time_limit
    parts = coverage_structure(model)
    if parts is not None and (lp_by_aggregation(model) or lp_out_of_reach(model, lp_limit)):
        agg = aggregate(parts[0], parts[1], hash_groups(parts[0], AGGREGATE_HASHES))
        stage = _aggregated_lp(model, parts, agg, None if lp_limit is None else t0 + lp_limit)
        if stage is not None:
            return min(stage[2].objective, trivial_bound(model))
    else:
        out = _run_highs(model.relaxed(), lp_limit, 0.0, None, False, primal=True)[0]
        if out.status == "optimal":
            return out.objective
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.0)
    return lagrangian_bound(model, incumbent_x, deadline=_share_of(left, 0.9))


def lp_out_of_reach(model: LinearModel, seconds: float | None) -> bool:
    """Will the LP relaxation predictably not finish within ``seconds``? Then it is not
    started (building and passing the model alone took 15 s at the benchmark's XL size)
    and the model goes through the aggregated relaxation of :mod:`.aggregate` instead
    (plain budgeted coverage; other models still try their LP). The prediction scales the
    measured L instance quadratically in the nonzeros (:data:`LP_REFERENCE`); it only
    steers the time, never a result.

    >>> from optimizer.select.model import LinearModel
    >>> import scipy.sparse as sp
    >>> m = LinearModel(np.zeros(2), 0.0, True, sp.csr_array(np.ones((1, 2))), np.zeros(1), np.ones(1),
    ...                 np.zeros(2), np.ones(2), np.ones(2, bool), ["budget"], ["x", "y"], 2, np.arange(2), sp.csr_array((1, 2)))
    >>> lp_out_of_reach(m, 1e-12), lp_out_of_reach(m, 0.001), lp_out_of_reach(m, None)
    (True, False, False)
    """
    if seconds is None:
        return False
    nnz, ref_seconds = LP_REFERENCE
    return ref_seconds * (model.matrix.nnz / nnz) ** 2 > seconds


def _pass_model(h: highspy.Highs, model: LinearModel) -> None:
    """Pass ``model`` to ``h`` as arrays (the array overload of ``passModel`` reads the
    numpy buffers; filling a ``HighsLp`` attribute by attribute converted element by
    element: 12 ms instead of 2 ms for the benchmark's M model, once per LP round)."""
    inf = highspy.kHighsInf
    a = model.matrix
    status = h.passModel(
        int(a.shape[1]),
        int(a.shape[0]),
        int(a.nnz),
        int(highspy.MatrixFormat.kRowwise.value),
        int((highspy.ObjSense.kMaximize if model.maximize else highspy.ObjSense.kMinimize).value),
        float(model.offset),
        np.ascontiguousarray(model.objective, dtype=np.float64),
        np.where(np.isinf(model.col_lower), -inf, model.col_lower).astype(np.float64),
        np.where(np.isinf(model.col_upper), inf, model.col_upper).astype(np.float64),
        np.where(np.isinf(model.row_lower), -inf, model.row_lower).astype(np.float64),
        np.where(np.isinf(model.row_upper), inf, model.row_upper).astype(np.float64),
        np.ascontiguousarray(a.indptr, dtype=np.int32),
        np.ascontiguousarray(a.indices, dtype=np.int32),
        np.ascontiguousarray(a.data, dtype=np.float64),
        model.integer.astype(np.int32),  # 0 continuous, 1 integer (all 0: an LP)
    )
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model (passModel returned an error)")


def _quiet_highs():
    """A HiGHS instance that prints nothing. ``highspy.Highs()`` (1.16) enables its
    callbacks in the constructor, and that first call prints the licence banner to the
    process's standard output before any option can be set, which corrupted ``--json``
    output; the core class underneath has the same methods we use, without callbacks."""
    core = getattr(getattr(highspy, "_core", None), "_Highs", None)
    h = core() if core is not None else highspy.Highs()
    h.setOptionValue("output_flag", False)
    return h


def _set_basis(h, basis: tuple[np.ndarray, np.ndarray]) -> None:
    """Start ``h``'s simplex from ``basis`` (status codes of the columns and rows)."""
    start_basis = highspy.HighsBasis()
    start_basis.col_status = BASIS_STATUS[np.asarray(basis[0], dtype=np.int64)].tolist()
    start_basis.row_status = BASIS_STATUS[np.asarray(basis[1], dtype=np.int64)].tolist()
    start_basis.valid = True
    start_basis.alien = True
    h.setBasis(start_basis)


def _basis_codes(h, model: LinearModel, col_value: np.ndarray, row_value: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The final simplex basis of ``h`` as status codes of the columns and rows (None if
    there is none): the basic variables from ``getBasicVariables`` (a numpy array), the
    nonbasic ones at the bound their value sits at. ``getBasis`` returns Python lists of
    enums whose conversion cost 2 ms per LP round on the benchmark's M instance."""
    status, basic = h.getBasicVariables()
    if status == highspy.HighsStatus.kError or len(basic) != model.matrix.shape[0]:
        return None
    basic = np.asarray(basic, dtype=np.int64)
    cols = _nonbasic_codes(col_value, model.col_lower, model.col_upper)
    rows = _nonbasic_codes(row_value, model.row_lower, model.row_upper)
    cols[basic[basic >= 0]] = BASIC_CODE
    rows[-1 - basic[basic < 0]] = BASIC_CODE
    return cols, rows


def _nonbasic_codes(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """HiGHS's status codes of nonbasic variables: at the upper bound when the value is
    nearer to it (or there is no lower bound), at the lower bound otherwise, zero (free)
    without bounds.

    >>> _nonbasic_codes(np.array([0.0, 1.0, 0.0, 2.0]), np.array([0.0, 0.0, -np.inf, -np.inf]), np.array([1.0, 1.0, np.inf, 2.0])).tolist()
    [0, 2, 3, 2]
    """
    value = np.asarray(value, dtype=float)
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    at_upper = np.isfinite(upper) & (~np.isfinite(lower) | (np.abs(upper - value) < np.abs(value - lower)))
    codes = np.where(at_upper, 2, 0)
    codes[~np.isfinite(lower) & ~np.isfinite(upper)] = 3
    return codes.astype(np.int64)


def _run_highs(model: LinearModel, time_limit, gap_rel, start_full, presolve, *, abs_gap=1e-9, primal=False, basis=None, mip_options=None):
    """One HiGHS run; returns the outcome and, for an LP, its duals and basis. ``basis``
    (status codes of the columns and rows) warm-starts an LP's simplex; ``mip_options``
    (HiGHS option names and values) tune a MIP."""
    h = _quiet_highs()
    h.setOptionValue("mip_rel_gap", float(gap_rel))
    h.setOptionValue("mip_abs_gap", float(abs_gap))
    h.setOptionValue("presolve", "on" if presolve else "off")
    if primal:
        h.setOptionValue("simplex_strategy", 4)
    if model.integer.any():
        for name, value in (mip_options or {}).items():
            h.setOptionValue(name, value)
    if time_limit is not None:
        h.setOptionValue("time_limit", max(float(time_limit), 0.01))
    _pass_model(h, model)
    if basis is not None:
        _set_basis(h, basis)
    if start_full is not None and model.integer.any():
        sol = highspy.HighsSolution()
        sol.col_value = start_full
        h.setSolution(sol)
    h.run()
    raw = h.getModelStatus()
    outcome = HIGHS_STATUS.get(raw, "error")
    info = h.getInfo()
    if outcome == "error":
        raise SolverError(f"HiGHS failed: {h.modelStatusToString(raw)}")
    has_solution = info.primal_solution_status == 2
    solution = h.getSolution()
    values = np.asarray(solution.col_value) if has_solution else None
    duals = None
    if has_solution and not model.integer.any():
        statuses = _basis_codes(h, model, values, np.asarray(solution.row_value))
        duals = LpDuals(np.asarray(solution.col_dual), np.asarray(solution.row_dual), statuses)
    objective = float(info.objective_function_value) if has_solution else None
    is_mip = bool(model.integer.any())
    bound = float(info.mip_dual_bound) if is_mip else objective
    if outcome == "limit":
        outcome = "time_limit" if has_solution else "no_solution"
    if outcome == "infeasible":
        values = objective = bound = None
    gap = 0.0 if (outcome == "optimal" and gap_rel == 0) else relative_gap(objective, bound)
    if outcome == "optimal" and gap is None:
        gap = 0.0
    return SolveOutcome(outcome, values, objective, bound, gap, "highs", h.modelStatusToString(raw), 0.0), duals


def _feasible(model: LinearModel, v: np.ndarray, tol: float = 1e-6) -> bool:
    if np.any(v < model.col_lower - tol) or np.any(v > model.col_upper + tol):
        return False
    act = model.matrix @ v
    scale = tol * np.maximum(1.0, np.abs(act))
    return bool(np.all(act >= model.row_lower - scale) and np.all(act <= model.row_upper + scale))


def integral_objective(model: LinearModel) -> bool:
    """True when every optimal value is an integer: integer coefficients, and the only
    continuous columns with a coefficient are coverage indicators (0/1 at an optimum)."""
    nz = np.flatnonzero(model.objective)
    coef = model.objective[nz]
    if not np.all(np.abs(coef - np.round(coef)) < 1e-9) or abs(model.offset - round(model.offset)) > 1e-9:
        return False
    continuous = nz[~model.integer[nz]]
    if not len(continuous):
        return True
    if model.completion is None:
        return False
    n_ind = model.completion[1].shape[0]
    return bool(np.all((continuous >= model.n_x) & (continuous < model.n_x + n_ind)))


def _run_fixed(model, lower, upper, compact, time_limit, gap_rel, incumbent, presolve, abs_gap, aggregated=False, mip_options=None) -> SolveOutcome:
    """Solve ``model`` with its unit columns restricted to ``[lower, upper]``.

    With ``compact``, the restricted problem is rebuilt small (fixed units out, rows they
    cover made constants, rows merged again, dominance on what is left) and solved
    instead; its solution is mapped back to ``model``'s columns (coverage variables at
    their best value) and checked against the full model. A solution that does not
    check out (never seen; it would be a bug in a reduction) is not returned and its
    bound not trusted (``no_solution``), so the caller keeps its incumbent and bound.
    The compact model's bound is valid for the restricted problem because the compact
    model is an exact reformulation of it. With ``aggregated`` (the final MIP), a compact
    model of plain budgeted coverage with :data:`FINAL_AGGREGATE_MIN_NONZEROS` or more is
    solved by :func:`_solve_aggregated` (exact as well).
    """
    n = model.n_x
    if compact is not None:
        started = time.perf_counter()
        sub = compact(lower[:n], upper[:n])
        if time_limit is not None:  # the limit covers the compaction too
            time_limit = max(time_limit - (time.perf_counter() - started), 0.01)
        start = None
        if incumbent is not None:
            start = sub.start_vector(np.isin(sub.units, model.units[incumbent[:n] > 0.5]).astype(float))
        sub_parts = coverage_structure(sub) if (aggregated and start is not None) else None
        if sub_parts is not None and sub.matrix.nnz >= FINAL_AGGREGATE_MIN_NONZEROS:
            out = _solve_aggregated(sub, sub_parts, start, time_limit, gap_rel, presolve, time.perf_counter(), max_free=None, tuned=True)
        else:
            out, _ = _run_highs(sub, time_limit, gap_rel, start, presolve, abs_gap=abs_gap, mip_options=mip_options)
        if out.values is None:
            return out
        full = model.start_vector(np.isin(model.units, sub.units[out.values[: sub.n_x] > 0.5]).astype(float))
        value = model.value(full)
        sign = 1.0 if model.maximize else -1.0
        if _feasible(model, full) and sign * (value - out.objective) >= -1e-6 * max(1.0, abs(value)):
            return replace(out, values=full, objective=value)
        return replace(out, status="no_solution", values=None, objective=None, bound=None, gap=None)
    restricted = replace(model, col_lower=lower, col_upper=upper)
    return _run_highs(restricted, time_limit, gap_rel, incumbent, presolve, abs_gap=abs_gap, mip_options=mip_options)[0]


def _solve_highs(model, time_limit, gap_rel, start, presolve, compact=None) -> SolveOutcome:
    """LP first, then a MIP on what the LP leaves open (exact).

    1. Solve the LP relaxation (primal simplex): its value is a valid bound. (The dual
       simplex solves the LP 1.3-1.4x faster on the benchmark's M and L instances, but
       its optimal vertex led to slower incumbent searches and final MIPs at M: 10.3 s
       against 5.4 s over the three budgets; at L it was faster, 78 s against 102 s.
       Kept primal.)
    2. Plain budgeted coverage: the component bound of :mod:`.decompose` (the budget
       relaxed at its LP dual, the connected components whose LP part is fractional
       solved as small MIPs). It is never above the LP bound, and on p-unit (unit-cost)
       instances it usually equals the optimum: measured on the benchmark's M instance
       with unit costs, 2.2 / 18.1 / 4.0 s -> 0.9 / 3.1 / 3.2 s at 5 / 10 / 20 %. Its
       Lagrangian solution is one more incumbent candidate (when it fits the budget).
    3. Incumbent: the best of the warm start and, for plain budgeted coverage, the LP
       solution rounded (:func:`~optimizer.select.greedy.round_lp`) and improved by a
       local search (:func:`~optimizer.select.greedy.polish`), and the component
       bound's Lagrangian solution repaired to the budget, filled and polished
       (:func:`~optimizer.select.greedy.repair`); for other models (floors, quality,
       services...), a small MIP over the LP's fractional units (the other units fixed
       at their integral LP values; RINS-style). Measured on the benchmark's M instance:
       1.56 / 1.26 / 1.45 s with the MIP alone, 0.70 / 0.75 / 0.53 s now.
    4. If the incumbent meets the best bound (for integral objectives: the bound rounded
       down), it is proven optimal: done.
    5. Otherwise, reduced-cost fixing: a unit at a bound in the LP whose reduced cost
       exceeds the gap ``LP bound - incumbent``, or whose component reduced cost exceeds
       the gap ``component bound - incumbent``, cannot move in any better solution; it
       is fixed, and HiGHS solves the remaining MIP from the incumbent (a compacted
       model of 50,000+ nonzeros through the MIP rounds of the aggregated relaxation,
       see :data:`FINAL_AGGREGATE`). Every bound holds for the original model, so the
       reported gap is a proven one.

    With ``compact``, the sub-MIPs of step 3 and the MIP of step 5 are solved on the
    compacted restricted model (:func:`_run_fixed`): the fixed units leave the model,
    the rows they cover become constants and the rows are merged again, so the MIP that
    HiGHS branches on is several times smaller (measured 6x fewer rows, 10x fewer
    nonzeros on the benchmark's M instance).
    """
    if not model.integer.any():
        return _run_highs(model, time_limit, gap_rel, None, presolve)[0]
    t0 = time.perf_counter()

    def left():
        return None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.0)

    integral = integral_objective(model)
    abs_gap = 1.0 - 1e-6 if integral else 1e-9
    incumbent = None
    if start is not None:
        start = np.asarray(start, dtype=float)
        # a full column vector (a later stage starting from the earlier stage's solution
        # on the same model), or the units' values completed by the model
        v = start if len(start) == model.matrix.shape[1] > model.n_x else model.start_vector(start[: model.n_x])
        if _feasible(model, v):
            incumbent = v
    limit = left()
    lp_limit = None if limit is None else LP_SHARE * limit
    parts = coverage_structure(model)
    if parts is not None and (aggregated_route(model) or (incumbent is not None and lp_out_of_reach(model, lp_limit))):
        return _solve_aggregated(model, parts, incumbent, time_limit, gap_rel, presolve, t0)
    if lp_by_aggregation(model):
        reach_csc = cover_columns(parts[0])
        lp, lp_duals = _lp_by_aggregation(model, parts, None if lp_limit is None else t0 + lp_limit, reach_csc)
        if lp is None:
            lp = SolveOutcome("time_limit", None, None, None, None, "highs", "Time limit reached (aggregated LP)", 0.0)
            # no greedy start at this size (see solve.py): the cost-effectiveness greedy now
            if incumbent is None:
                incumbent = _greedy_incumbent(model, parts, reach_csc, None, left())
    else:
        lp, lp_duals = _run_highs(model.relaxed(), lp_limit, 0.0, None, False, primal=True)
    if lp.status == "infeasible":
        return lp
    if lp.status != "optimal" and incumbent is not None and parts is not None:
        return _fallback(model, incumbent, left(), "LP unfinished")
    if lp.status != "optimal" or lp_duals is None:
        out = _run_highs(model, left(), gap_rel, incumbent, presolve, abs_gap=abs_gap)[0]
        if out.values is not None and out.status != "optimal" and (out.bound is None or not math.isfinite(out.bound)):
            bound = trivial_bound(model)
            return replace(out, bound=bound, gap=relative_gap(out.objective, bound))
        return out
    return _from_lp(model, lp, lp_duals, incumbent, time_limit, gap_rel, presolve, compact, t0)


def _lagrangian_outcome(model: LinearModel, incumbent: np.ndarray, lagrange: float, why: str) -> SolveOutcome:
    bound = min(lagrange, trivial_bound(model)) if model.maximize else lagrange
    obj = model.value(incumbent)
    return SolveOutcome("time_limit", incumbent, obj, bound, relative_gap(obj, bound), "highs", f"Time limit reached ({why}; Lagrangian bound)", 0.0)


def lp_by_aggregation(model: LinearModel) -> bool:
    """Is ``model`` plain budgeted coverage of at least :data:`AGGREGATE_LP_MIN_NONZEROS`,
    whose LP relaxation goes through the aggregated LP rounds (:func:`_lp_by_aggregation`)?
    Then no greedy warm start is needed: the LP rounding is the better start."""
    return model.matrix.nnz >= AGGREGATE_LP_MIN_NONZEROS and coverage_structure(model) is not None


def _greedy_incumbent(model: LinearModel, parts: tuple, reach_csc: sp.csc_array, x_lp: np.ndarray | None, seconds: float | None) -> np.ndarray | None:
    """The LP solution ``x_lp`` rounded (:func:`~optimizer.select.greedy.round_lp`); without
    one, the cost-effectiveness greedy (the rounding of an all-fractional solution),
    stopped after half of ``seconds``; as a full solution vector (None if infeasible)."""
    n = model.n_x
    guess = np.full(n, 0.5) if x_lp is None else x_lp[:n]
    deadline = _share_of(seconds, 0.5)
    chosen = round_lp(reach_csc, parts[1], parts[2], parts[3], parts[4], guess, model.col_lower[:n], model.col_upper[:n], deadline=deadline)
    return _better_selection(model, reach_csc, None, chosen)


def _fallback(model: LinearModel, incumbent: np.ndarray, left: float | None, why: str) -> SolveOutcome:
    """The incumbent with the Lagrangian bound of :mod:`.bounds` when there is time for it
    (its setup transposes the cover rows: :data:`LAGRANGIAN_SECONDS_PER_NONZERO`), else
    with the trivial bound (every row covered); status ``time_limit``."""
    if left is None or left > 2.0 * LAGRANGIAN_SECONDS_PER_NONZERO * model.matrix.nnz:
        lagrange = lagrangian_bound(model, incumbent[: model.n_x], deadline=_share_of(left, 0.8))
        if lagrange is not None:
            return _lagrangian_outcome(model, incumbent, lagrange, why)
    obj = model.value(incumbent)
    bound = trivial_bound(model)
    return SolveOutcome("time_limit", incumbent, obj, bound, relative_gap(obj, bound), "highs", f"Time limit reached ({why}; trivial bound)", 0.0)


def aggregated_route(model: LinearModel) -> bool:
    """Is ``model`` plain budgeted coverage at national scale (at least
    :data:`AGGREGATE_MIN_NONZEROS`), solved through the aggregated relaxation?"""
    return model.matrix.nnz >= AGGREGATE_MIN_NONZEROS and coverage_structure(model) is not None


def _aggregated_lp(model: LinearModel, parts: tuple, agg: Aggregation, deadline: float | None, basis=None, reach_csc=None):
    """Refine ``agg`` by the LP solutions of its aggregated model until it values them
    exactly (then the aggregated LP bound is the LP bound) or the ``deadline`` passes.
    Returns ``(agg, aggregated model, LP outcome, duals, rounds)`` for the last LP
    solved, or None if none finished. ``basis`` warm-starts the first LP; ``reach_csc``
    (the cover rows as a CSC array) speeds up the valuations."""
    reach, w = parts[0], parts[1]
    if reach_csc is None:
        reach_csc = cover_columns(reach)
    last = None
    rounds = 0
    round_seconds = 0.0  # the last refinement and LP round (at XL the refinement is most of it)
    while True:
        started = time.perf_counter()
        a_model = aggregated_model(model, agg, parts)
        seconds = None if deadline is None else deadline - time.perf_counter()
        if last is not None and seconds is not None and seconds <= 0:
            return last
        lp, duals = _run_highs(a_model.relaxed(), None if seconds is None else max(seconds, 0.01), 0.0, None, False, basis=basis)
        if lp.status != "optimal" or duals is None:
            return last
        rounds += 1
        last = (agg, a_model, lp, duals, rounds)
        x = lp.values[: model.n_x]
        loss = group_loss(agg, reach_csc, w, x)
        exact = loss.sum() <= AGGREGATE_LP_TOLERANCE * max(1.0, abs(lp.objective))
        if exact or (deadline is not None and time.perf_counter() + round_seconds >= deadline):
            # (no time for another round like the last: no refinement no LP would use)
            return last
        agg = refine(agg, reach, w, loss > AGGREGATE_LP_TOLERANCE * max(1.0, abs(lp.objective)) / max(1, agg.n_groups), x, reach_csc=reach_csc)
        basis = None if (duals.basis is None or agg.parent is None) else inherit_basis(agg, model.n_x, *duals.basis, budget_row=parts[3] is not None)
        round_seconds = time.perf_counter() - started


def _lp_by_aggregation(model: LinearModel, parts: tuple, deadline: float | None, reach_csc: sp.csc_array):
    """The LP relaxation of plain budgeted coverage solved through the LP rounds of the
    aggregated relaxation (:func:`_aggregated_lp`), returned as ``(outcome, duals)`` of
    ``model`` itself, or ``(None, None)`` if no round finished before ``deadline``.

    The solution's units are the aggregated LP's, its ``y`` their true coverage; the
    objective is the aggregated LP bound (the LP bound once the rounds converged, a valid
    bound above it otherwise). The duals: the aggregated ones spread over the groups'
    members (:func:`~optimizer.select.aggregate.disaggregate_duals`), then lifted on the
    rows a selected unit covers alone (:func:`~optimizer.select.bounds.lift_cover_duals`).
    Both are optimal duals of ``model``'s LP once the rounds converged (and valid duals
    in any case), so each unit gets the larger reduced cost of the two (the spread one
    for units at 0, the lifted or the aggregated one for units at 1): reduced-cost
    fixing and the component bound stay rigorous.

    Measured on the benchmark's L instance (883,476 nonzeros): 0.6-0.8 s against 3.5-4.8 s
    for the primal simplex on the model (5 / 10 / 20 % budgets)."""
    reach, w, w_x, cost, budget = parts
    n = model.n_x
    agg = aggregate(reach, w, hash_groups(reach, AGGREGATE_HASHES))
    stage = _aggregated_lp(model, parts, agg, deadline, None, reach_csc)
    if stage is None:
        return None, None
    agg, _, lp, duals, _ = stage
    x = lp.values[:n]
    lower, upper = model.col_lower[:n], model.col_upper[:n]
    lam = abs(float(duals.rows[-1]))
    reach_t = sp.csr_array(reach.T, dtype=float)  # once, for both reduced-cost products
    u, a = disaggregate_duals(agg, reach, w, w_x, cost, duals.rows[: agg.n_groups], lam, reach_t)
    lifted = lift_cover_duals(reach, w, x, a, u, lower, upper)
    value, a_lifted = cover_dual_value(reach_t, w, w_x, cost, budget, lam, lifted, lower, upper)
    if value + model.offset > lp.objective + 1e-9 * max(1.0, abs(lp.objective)):
        lifted, a_lifted = u, a  # not optimal (the rounds stopped early): keep the spread dual
    at_lower = x <= lower + 1e-9
    reduced = np.where(at_lower, a, np.maximum(a_lifted, np.abs(duals.columns[:n])))
    values = np.concatenate([x, np.minimum(1.0, row_sums(reach_csc, x))])
    outcome = replace(lp, values=values, raw_status=f"{lp.raw_status} (aggregated LP, {agg.n_groups} groups)")
    return outcome, LpDuals(np.concatenate([reduced, w - lifted]), np.insert(lifted, model.row_names.index("budget"), lam), groups=agg.groups)


def _solve_aggregated(model: LinearModel, parts: tuple, incumbent: np.ndarray, time_limit, gap_rel, presolve, t0, max_free=AGGREGATE_MAX_FREE, tuned=False) -> SolveOutcome:
    """Plain budgeted coverage through the aggregated relaxation of :mod:`.aggregate`,
    refined until its optimum is valued exactly: for models too large for their LP, and
    for the final MIP's compacted model (:func:`_run_fixed`, ``max_free=None``: the
    final MIP always runs there).

    1. LP rounds: the aggregated LP (dual simplex, warm-started from the previous
       round's basis), then the groups that overstate its solution are split by the
       solution's support, until no group does (the aggregated LP bound then equals the
       LP bound), within :data:`AGGREGATE_LP_SHARE` of the time.
    2. The LP solution rounded (:func:`~optimizer.select.greedy.round_lp`) and improved
       by a local search over the units in its support
       (:func:`~optimizer.select.greedy.polish`) is an incumbent candidate.
    3. MIP rounds: steps 2-5 of :func:`_solve_highs` on the aggregated model (its bounds
       and fixings are valid for ``model``), from the incumbent; the solution is valued
       on ``model``. If the aggregated optimum overstates it, the groups that lose are
       split into single rows and the round repeats; when it does not, the solution is
       optimal for ``model``.

    ``tuned`` (the final MIP's compacted model): the MIP rounds use the tuned HiGHS
    options of the direct path (:data:`FINAL_MIP_OPTIONS`, :data:`LARGE_MIP_OPTIONS`);
    the national route keeps HiGHS's defaults, whose heuristics its time-limited rounds
    need.

    Valuing a solution on ``model`` costs time at national scale (one pass over every
    cover row); that time, measured on the first candidate, is kept in reserve so the
    time limit holds.
    """

    def left():
        return None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.0)

    reach, w, w_x, cost, budget = parts
    n = model.n_x
    closes = _closer(model, gap_rel)
    reach_csc = cover_columns(reach)
    limit = left()
    stage = None
    # the first partition (min-hashes, unions) cannot be interrupted: it starts only if it
    # and a first LP round predictably fit in the time left
    if limit is None or limit > 2.0 * AGGREGATION_SECONDS_PER_NONZERO * reach.nnz:
        agg = aggregate(reach, w, hash_groups(reach, AGGREGATE_HASHES))
        limit = left()
        deadline = _share_of(limit, AGGREGATE_LP_SHARE)
        stage = _aggregated_lp(model, parts, agg, deadline, None, reach_csc)
    if incumbent is None:
        incumbent = _greedy_incumbent(model, parts, reach_csc, None if stage is None else stage[2].values, left())
        if incumbent is None:
            return SolveOutcome("no_solution", None, None, None, None, "highs", "No solution (aggregated route)", 0.0)
    if stage is None:
        return _fallback(model, incumbent, left(), "aggregated LP unfinished")
    agg, a_model, lp, duals, rounds = stage
    bound = lp.objective
    tick = time.perf_counter()
    x_lp = lp.values[:n]
    rounded = round_lp(reach_csc, w, w_x, cost, budget, x_lp, model.col_lower[:n], model.col_upper[:n])
    limit = left()
    polish_deadline = _share_of(limit, POLISH_SHARE)
    rounded = polish(reach_csc, w, w_x, cost, budget, rounded, _near_lp(x_lp, duals.columns[:n]), model.col_lower[:n] > 0.5, deadline=polish_deadline)
    incumbent = _better_selection(model, reach_csc, incumbent, rounded)
    reserve = 2.0 * (time.perf_counter() - tick)
    mip_rounds = 0

    def outcome(status, why):
        return _finish(model, incumbent, status, bound, f"{why} ({agg.n_groups} groups, {rounds} LP rounds, {mip_rounds} MIP rounds)")

    while True:
        if closes(model.value(incumbent), bound):
            return outcome("optimal", "Optimal: aggregated bound reached")
        limit = left()
        if limit is not None and limit < reserve + MIN_MIP_SECONDS:
            return outcome("time_limit", "Time limit reached: aggregated model")
        inner_limit = None if time_limit is None else time_limit * (1 - AGGREGATE_MARGIN_SHARE) - reserve
        # the component bound once: later rounds refine few groups, it would not change much
        out = _from_lp(a_model, lp, duals, a_model.start_vector(incumbent[:n]), inner_limit, gap_rel, presolve, None, t0, max_free, components=mip_rounds == 0, tuned=tuned)
        mip_rounds += 1
        if out.bound is not None and math.isfinite(out.bound):
            bound = min(bound, out.bound)
        if out.values is None:
            return outcome("time_limit", "Time limit reached: aggregated model")
        chosen = out.values[:n] > 0.5
        incumbent = _better_selection(model, reach_csc, incumbent, chosen)
        if closes(model.value(incumbent), bound):
            continue
        limit = left()
        if out.status != "optimal" or (limit is not None and limit < reserve + MIN_MIP_SECONDS):
            # the aggregated model's best, improved on the model itself before stopping:
            # the aggregation may overstate it (XL at 10 %: 342,601,728 aggregated, below
            # the incumbent's 342,450,242 once valued; searched, 342,576,121 in 0.3 s)
            near = _near_lp(x_lp, duals.columns[:n]) | chosen
            polished = polish(reach_csc, w, w_x, cost, budget, chosen, near, model.col_lower[:n] > 0.5, deadline=_share_of(None if limit is None else limit - reserve, POLISH_SHARE))
            incumbent = _better_selection(model, reach_csc, incumbent, polished)
            return outcome("time_limit", "Time limit reached: aggregated model")
        loss = group_loss(agg, reach_csc, w, chosen.astype(float))
        if not (loss > 0).any():
            # the aggregated optimum values its solution exactly: it is optimal (the bound
            # and the value agree up to rounding)
            return outcome("optimal", "Optimal: aggregated optimum valued exactly")
        agg = refine(agg, reach, w, loss > 0)
        basis = None if duals.basis is None else inherit_basis(agg, n, *duals.basis)
        stage = _aggregated_lp(model, parts, agg, None if limit is None else time.perf_counter() + limit - reserve, basis, reach_csc)
        if stage is None:
            return outcome("time_limit", "Time limit reached: aggregated LP unfinished")
        agg, a_model, lp, duals, more = stage
        rounds += more
        bound = min(bound, lp.objective)


def _share_of(seconds: float | None, share: float) -> float | None:
    """The deadline (``time.perf_counter()`` value) ``share`` of ``seconds`` from now;
    None without a limit."""
    return None if seconds is None else time.perf_counter() + share * seconds


def _near_lp(x_lp: np.ndarray, reduced_costs: np.ndarray) -> np.ndarray:
    """Units the local search may move in: the LP's support and the
    :data:`NEIGHBOURHOOD` units outside it with the smallest reduced costs."""
    near = x_lp > 1e-6
    outside = np.flatnonzero(~near)
    near[outside[np.argsort(np.abs(reduced_costs[outside]), kind="stable")[:NEIGHBOURHOOD]]] = True
    return near


def _better_selection(model: LinearModel, reach_csc: sp.csc_array, incumbent: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """The incumbent, or the unit selection ``chosen`` if it fits the budget and is
    better (``model`` plain budgeted coverage, ``reach_csc`` its cover rows)."""
    candidate = np.zeros(model.matrix.shape[1])
    candidate[: model.n_x] = chosen
    candidate[model.n_x :] = np.minimum(1.0, row_sums(reach_csc, np.asarray(chosen, dtype=float)))
    if _feasible(model, candidate, tol=1e-9):
        return _better(model, incumbent, candidate, 1.0 if model.maximize else -1.0)
    return incumbent


def _finish(model: LinearModel, values: np.ndarray, status: str, bound: float | None, raw: str) -> SolveOutcome:
    """The outcome for the selection ``values`` with the best proven ``bound`` (the
    trivial bound if there is none); for integer-valued objectives a gap below one
    person is proven optimality."""
    obj = model.value(values)
    if bound is None or not math.isfinite(bound):
        bound = trivial_bound(model)
    sign = 1.0 if model.maximize else -1.0
    if status == "time_limit" and integral_objective(model) and sign * (bound - obj) < 1.0 - 1e-6:
        status = "optimal"  # integer-valued objective: no better integer value remains
    gap = 0.0 if status == "optimal" else relative_gap(obj, bound)
    return SolveOutcome(status, values, obj, bound if status != "optimal" else obj, gap, "highs", raw, 0.0)


def _closer(model: LinearModel, gap_rel: float):
    """``closes(value, bound)``: does ``value`` meet ``bound`` (rounded down for integral
    objectives, within ``gap_rel``)?"""
    sign = 1.0 if model.maximize else -1.0
    integral = integral_objective(model)

    def closes(value, bound):
        closed_bound = math.floor(sign * bound + 1e-6) if integral else sign * bound
        return sign * value >= closed_bound - 1e-9 * max(1.0, abs(bound)) - (gap_rel * abs(value))

    return closes


def _from_lp(model, lp, lp_duals, incumbent, time_limit, gap_rel, presolve, compact, t0, max_free=None, components=True, tuned=True) -> SolveOutcome:
    """Steps 2-5 of :func:`_solve_highs` from the solved LP relaxation. With a time limit
    and ``max_free``, the final MIP is skipped when more units than that are left free
    (the incumbent is returned with the best bound). ``tuned``: the final MIP of plain
    coverage gets :data:`FINAL_MIP_OPTIONS` or :data:`LARGE_MIP_OPTIONS`."""

    def left():
        return None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 0.0)

    sign = 1.0 if model.maximize else -1.0
    integral = integral_objective(model)
    abs_gap = 1.0 - 1e-6 if integral else 1e-9
    duals = lp_duals.columns
    closes = _closer(model, gap_rel)

    def done(values, status, best_bound, raw):
        return _finish(model, values, status, best_bound, raw)

    bound = lp.objective
    x_lp = lp.values
    is_int = model.integer
    frac = is_int & (np.abs(x_lp - np.round(x_lp)) > 1e-6)
    if not frac.any():
        candidate = x_lp.copy()
        candidate[is_int] = np.round(candidate[is_int])
        if _feasible(model, candidate):
            incumbent = _better(model, incumbent, candidate, sign)
    parts = coverage_structure(model) if frac.any() else None
    if parts is not None:
        n = model.n_x
        reach_csc = cover_columns(parts[0])
        chosen = round_lp(reach_csc, parts[1], parts[2], parts[3], parts[4], x_lp[:n], model.col_lower[:n], model.col_upper[:n])
        incumbent = _better_selection(model, reach_csc, incumbent, chosen)
        near = np.ones(n, dtype=bool) if n <= POLISH_ALL_MAX_UNITS else _near_lp(x_lp[:n], duals[:n])
        polished = polish(reach_csc, parts[1], parts[2], parts[3], parts[4], chosen, near, model.col_lower[:n] > 0.5, deadline=_share_of(left(), POLISH_SHARE))
        incumbent = _better_selection(model, reach_csc, incumbent, polished)
    split = None
    if frac.any() and components and (time_limit is None or left() > 0):
        split = _split(model, x_lp, lp_duals, incumbent, t0, left())
    if split is not None:
        candidate = model.start_vector(split.candidate.astype(float))
        # strict: the Lagrangian solution ignores the budget, and may exceed it by a hair
        if _feasible(model, candidate, tol=1e-9):
            incumbent = _better(model, incumbent, candidate, sign)
        if parts is not None:
            # made feasible, filled to the budget and polished (a Lagrangian heuristic)
            lo, up = model.col_lower[:n], model.col_upper[:n]
            repaired = repair(reach_csc, parts[1], parts[2], parts[3], parts[4], split.candidate & (up > 0.5), lo > 0.5, up > 0.5)
            repaired = polish(reach_csc, parts[1], parts[2], parts[3], parts[4], repaired, _near_lp(x_lp[:n], duals[:n]) | split.candidate, lo > 0.5, deadline=_share_of(left(), POLISH_SHARE))
            incumbent = _better_selection(model, reach_csc, incumbent, repaired)
        bound = min(bound, split.bound)
        if closes(model.value(incumbent), bound):
            return done(incumbent, "optimal", bound, "Optimal (component Lagrangian bound reached)")
    if frac.any() and parts is None:
        # plain budgeted coverage has the rounding, the local search and the Lagrangian
        # heuristic instead: with them the sub-MIP no longer paid (benchmark M: 1.37 / 0.78
        # / 0.51 s with it, 0.70 / 0.75 / 0.53 s without; L 5.4 / 42 / 21 s -> 5.7 / 40 / 19 s)
        order = np.argsort(np.abs(duals) + np.where(is_int, 0.0, np.inf), kind="stable")
        for extra in SUB_MIPS:
            free = frac.copy()
            free[order[: int(frac.sum()) + extra]] = True
            free &= is_int
            limit = left()
            cap = max(2.0, 5.0 * (time.perf_counter() - t0))
            sub_out = _run_fixed(
                model,
                np.where(is_int & ~free, np.round(x_lp), model.col_lower),
                np.where(is_int & ~free, np.round(x_lp), model.col_upper),
                compact,
                cap if limit is None else min(cap, 0.25 * limit),
                gap_rel,
                None,
                True,
                abs_gap,
            )
            if sub_out.values is not None and _feasible(model, sub_out.values):
                incumbent = _better(model, incumbent, sub_out.values, sign)

    if incumbent is not None and closes(model.value(incumbent), bound):
        which = "LP" if bound == lp.objective else "component Lagrangian"
        return done(incumbent, "optimal", bound, f"Optimal ({which} bound reached)")
    if incumbent is not None:
        inc_value = model.value(incumbent)
        lp_slack = sign * (lp.objective - inc_value) * (1 + 1e-7) + 1e-6
        at_lo = is_int & (x_lp <= model.col_lower + 1e-9) & (np.abs(duals) > lp_slack)
        at_up = is_int & (x_lp >= model.col_upper - 1e-9) & (np.abs(duals) > lp_slack)
        if split is not None:
            n = model.n_x
            fix = np.zeros(len(at_lo), dtype=bool)
            fix[:n] = split.slack > (split.bound - inc_value) * (1 + 1e-7) + 1e-6
            at_lo |= fix & is_int & np.append(split.best <= model.col_lower[:n], np.zeros(len(fix) - n, bool))
            at_up |= fix & is_int & np.append(split.best >= model.col_upper[:n], np.zeros(len(fix) - n, bool))
        lower = np.where(at_up, model.col_upper, model.col_lower)
        upper = np.where(at_lo, model.col_lower, model.col_upper)
        consistent = np.all(incumbent >= lower - 1e-9) and np.all(incumbent <= upper + 1e-9)
        if not consistent:
            lower, upper = model.col_lower, model.col_upper
    else:
        lower, upper = model.col_lower, model.col_upper
    limit = left()
    if incumbent is not None and limit is not None and limit < min(MIN_MIP_SECONDS, MIN_MIP_SECONDS_PER_NONZERO * model.matrix.nnz):
        return done(incumbent, "time_limit", bound, "Time limit reached (before the final MIP)")
    n_free = int((model.integer & (lower < upper)).sum())
    if incumbent is not None and limit is not None and max_free is not None and n_free > max_free:
        return done(incumbent, "time_limit", bound, f"Time limit reached (final MIP skipped: {n_free} units free)")
    # HiGHS presolve does not always honour the time limit on large models: use it only
    # when reduced-cost fixing left a small MIP
    use_presolve = presolve or n_free <= PRESOLVE_MAX_FREE
    fixed_any = bool(np.any((lower > model.col_lower) | (upper < model.col_upper)))
    tuning = None
    if tuned and parts is not None and incumbent is not None:
        tuning = LARGE_MIP_OPTIONS if n_free >= LARGE_MIP_MIN_FREE else FINAL_MIP_OPTIONS
    out = _run_fixed(model, lower, upper, compact if fixed_any else None, None if limit is None else 0.95 * limit, gap_rel, incumbent, use_presolve, abs_gap, aggregated=FINAL_AGGREGATE, mip_options=tuning)
    if out.values is None:
        if incumbent is not None:
            return done(incumbent, "time_limit", bound, out.raw_status)
        return replace(out, bound=bound)
    best_bound = bound if out.bound is None else (min(bound, out.bound) if model.maximize else max(bound, out.bound))
    values = out.values
    if incumbent is not None and sign * model.value(incumbent) > sign * model.value(values) + 1e-9:
        values = incumbent
    if out.status == "optimal":
        return done(values, "optimal", best_bound, out.raw_status)
    return done(values, "time_limit", best_bound, out.raw_status)


def _split(model: LinearModel, x_lp: np.ndarray, duals: LpDuals, incumbent: np.ndarray | None, t0: float, limit: float | None):
    """The component bound (:mod:`.decompose`) for plain budgeted coverage with an
    incumbent, its component MIPs given a share of the time left; else None."""
    if incumbent is None or coverage_structure(model) is None:
        return None
    cap = max(COMPONENT_MIN_SECONDS, 3.0 * (time.perf_counter() - t0))
    deadline = time.perf_counter() + (cap if limit is None else min(cap, COMPONENT_SHARE * limit))
    return component_bound(model, x_lp, duals.rows, _solve_component, incumbent_x=incumbent[: model.n_x], deadline=deadline, row_groups=duals.groups)


def _solve_component(sub: LinearModel, start: np.ndarray | None, seconds: float | None, groups: np.ndarray | None = None) -> tuple[float | None, np.ndarray | None]:
    """One component's Lagrangian subproblem (:mod:`.decompose`): its proven dual bound
    (valid also when the time limit stopped it) and its best solution.

    A component with at least :data:`COMPONENT_AGGREGATE_MIN_ROWS` rows is first solved
    on its aggregated relaxation (:mod:`.aggregate`): LP rounds, then up to
    :data:`COMPONENT_MIP_ROUNDS` searches (:func:`_component_mip`) whose points are
    valued on the component's own rows; a search whose bound stays above its best value
    returns the points the aggregation overstated, their losing groups are split into
    rows, and the next search starts from the best point. When the searches do not close
    the gap, the component's own model follows. ``groups`` (the LP's aggregation, when the
    LP went through it) starts the partition: intersected with the hash groups it is
    exact for the LP solution at once (no LP rounds; M with unit costs at 5 %: 15 LP
    rounds saved, 0.42 -> 0.36 s; L at 10 % 3.9 -> 3.2 s), and the search starts from
    that LP's basis. Splitting the groups further by the LP solution's support first (as
    the LP rounds would) made the searches' models 48 % larger at M for nothing (unit
    costs at 10 %: 0.37 -> 0.35 s without it) and saved them a few nodes at L (2.43 ->
    2.59 s at 10 %); M's 200x target decided."""
    deadline = None if seconds is None else time.perf_counter() + seconds
    reach = sub.completion[1]
    bound = None
    if reach.shape[0] >= COMPONENT_AGGREGATE_MIN_ROWS:
        n = sub.n_x
        w_y = sub.objective[n:]
        hashed = hash_groups(reach, AGGREGATE_HASHES)
        # within the LP's groups (exact for the LP solution, so the LP rounds end at once)
        agg = aggregate(reach, w_y, hashed if groups is None else combine_groups(groups, hashed))
        parts = (reach, w_y, sub.objective[:n], None, None)
        stage = _aggregated_lp(sub, parts, agg, deadline)
        basis = None if stage is None else stage[3].basis  # starts the first search's root LP

        def true_value(x: np.ndarray) -> float:
            return sub.value(sub.start_vector(x))  # budget-free: every selection is feasible

        for _ in range(COMPONENT_MIP_ROUNDS if stage is not None else 0):
            agg, a_model = stage[0], stage[1]
            left = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
            out, overstated = _component_mip(a_model, None if start is None else start[:n], left, basis, true_value)
            basis = None
            found = _finite(out.bound)
            bound = found if bound is None else (bound if found is None else min(bound, found))
            if out.values is None:
                break
            x = np.round(out.values[:n])
            if out.status == "optimal" or not overstated:
                return bound, sub.start_vector(x)  # proven, or stopped by the time limit
            start = sub.start_vector(x)
            # the groups that overstate those points split into rows, and the search again
            loss = sum(group_loss(agg, reach, w_y, point) for point in overstated)
            agg = refine(agg, reach, w_y, loss > 0)
            stage = (agg, aggregated_model(sub, agg, parts))
        seconds = None if deadline is None else max(deadline - time.perf_counter(), 0.01)
    out, _ = _component_mip(sub, None if start is None else start[: sub.n_x], seconds)
    found = _finite(out.bound)
    if bound is not None and found is not None:
        found = min(bound, found)
    return found if found is not None else bound, out.values


def _highs_relaxation(model: LinearModel, basis: tuple[np.ndarray, np.ndarray] | None = None) -> Relaxation:
    """The LP relaxation of ``model`` in one HiGHS instance, solved again (dual simplex
    from the last basis) under new bounds of the unit columns: the relaxation of
    :func:`~optimizer.select.branch.branch_and_bound`. ``basis`` starts the first solve."""
    h = _quiet_highs()
    h.setOptionValue("presolve", "off")
    _pass_model(h, model.relaxed())
    if basis is not None:
        _set_basis(h, basis)
    n = model.n_x
    columns = np.arange(n, dtype=np.int32)

    def relax(lower: np.ndarray, upper: np.ndarray, seconds: float | None):
        h.changeColsBounds(n, columns, np.asarray(lower, dtype=np.float64), np.asarray(upper, dtype=np.float64))
        h.setOptionValue("time_limit", math.inf if seconds is None else max(float(seconds), 0.01))
        h.run()
        status = HIGHS_STATUS.get(h.getModelStatus(), "error")
        if status != "optimal" or h.getInfo().primal_solution_status != 2:
            return status, None, None
        return status, float(h.getInfo().objective_function_value), np.asarray(h.getSolution().col_value)[:n]

    return relax


def _component_mip(
    model: LinearModel,
    start: np.ndarray | None,
    seconds: float | None,
    basis: tuple[np.ndarray, np.ndarray] | None = None,
    valuation: Callable[[np.ndarray], float | None] | None = None,
) -> tuple[SolveOutcome, tuple[np.ndarray, ...]]:
    """A component's Lagrangian subproblem (no budget row) by the branch and bound of
    :mod:`.branch` on ``model``'s LP relaxation, for up to :data:`COMPONENT_MAX_NODES`
    nodes; if that does not finish, HiGHS's MIP from its incumbent for the time left
    (the better of the two bounds). ``start``: a unit selection; ``basis``: a simplex
    basis for the root LP; ``valuation``: the value of a unit selection, by default
    ``model``'s own. When ``model`` is an aggregated relaxation and ``valuation`` the
    true one, the outcome is the best true value with a bound valid for both, status
    ``optimal`` only if they meet; the points where the relaxation overstated an integral
    LP optimum come second (refining the groups they lose in closes the gap). The
    outcome's values are full column vectors of ``model``."""
    deadline = None if seconds is None else time.perf_counter() + seconds
    n = model.n_x

    def own(x: np.ndarray) -> float | None:
        v = model.start_vector(x)
        return model.value(v) if _feasible(model, v) else None

    # the best point by ``model``'s own value too: HiGHS, if it takes over, optimises that
    own_best: list = [None, -math.inf]

    def value_of(x: np.ndarray) -> float | None:
        mine = own(x)
        if mine is not None and mine > own_best[1]:
            own_best[:] = [x.copy(), mine]
        return mine if valuation is None else valuation(x)

    tree: BranchOutcome = branch_and_bound(
        _highs_relaxation(model, basis), value_of, model.col_lower[:n], model.col_upper[:n], start=start, abs_gap=COMPONENT_ABS_GAP, deadline=deadline, max_nodes=COMPONENT_MAX_NODES
    )
    best_x, best, bound, overstated = tree.x, tree.value, tree.bound, tree.overstated
    raw = f"branch and bound, {tree.nodes} nodes"
    left = None if deadline is None else deadline - time.perf_counter()
    if not tree.complete and (left is None or left > 0.01):
        highs_start = own_best[0] if own_best[0] is not None else best_x
        out, _ = _run_highs(model, left, 0.0, None if highs_start is None else model.start_vector(highs_start), False, abs_gap=COMPONENT_ABS_GAP, mip_options=COMPONENT_MIP_OPTIONS)
        if out.bound is not None and math.isfinite(out.bound):
            bound = min(bound, out.bound)
        if out.values is not None:
            x = np.round(out.values[:n])
            found = value_of(x)
            if found is not None and (best is None or found > best):
                best_x, best = x, found
            if out.status == "optimal" and (found is None or out.objective > found + COMPONENT_ABS_GAP):
                overstated = (*overstated, x)
        raw = f"{raw}, then HiGHS: {out.raw_status}"
    if best_x is None:
        status = "infeasible" if tree.complete and bound == -math.inf else "no_solution"
        return SolveOutcome(status, None, None, None if status == "infeasible" else bound, None, "highs", raw, 0.0), overstated
    values = model.start_vector(best_x)
    if bound <= best + COMPONENT_ABS_GAP:
        return SolveOutcome("optimal", values, best, bound, 0.0, "highs", f"Optimal ({raw})", 0.0), ()
    return SolveOutcome("time_limit", values, best, bound, relative_gap(best, bound), "highs", f"Not proven ({raw})", 0.0), overstated


def _finite(value: float | None) -> float | None:
    return value if (value is not None and math.isfinite(value)) else None


def trivial_bound(model: LinearModel) -> float:
    """Objective with every column at its most favourable bound, ignoring the rows: a
    valid (weak) bound when the solver stopped before reporting one."""
    c = model.objective if model.maximize else -model.objective
    best = np.where(c > 0, model.col_upper, model.col_lower)
    value = float(np.sum(np.where(c != 0, c * best, 0.0)))
    return model.offset + (value if model.maximize else -value)


def _better(model, a, b, sign):
    if a is None:
        return b
    return b if sign * model.value(b) > sign * model.value(a) else a


def _pulp_names(names: list[str], prefix: str) -> list[str]:
    """pulp replaces ``-+[] ->/`` by ``_``; fall back to positional names on a clash."""
    table = str.maketrans({c: "_" for c in "-+[] ->/"})
    cleaned = [n.translate(table) for n in names]
    if len(set(cleaned)) == len(cleaned):
        return list(names)
    return [f"{prefix}{i}" for i in range(len(names))]


def to_pulp(model: LinearModel, name: str = "selection") -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """The model as a pulp problem with named constraints (``budget``, ``cover[r]``...)."""
    prob = pulp.LpProblem(name, pulp.LpMaximize if model.maximize else pulp.LpMinimize)
    col_names = _pulp_names(model.col_names, "v")
    xs = [
        pulp.LpVariable(
            n,
            lowBound=None if math.isinf(lo) else float(lo),
            upBound=None if math.isinf(up) else float(up),
            cat=pulp.LpBinary if (integer and lo >= 0 and up <= 1) else (pulp.LpInteger if integer else pulp.LpContinuous),
        )
        for n, lo, up, integer in zip(col_names, model.col_lower, model.col_upper, model.integer, strict=True)
    ]
    nz = np.flatnonzero(model.objective)
    prob += pulp.LpAffineExpression([(xs[j], float(model.objective[j])) for j in nz], constant=float(model.offset))
    a = model.matrix
    row_names = _pulp_names(model.row_names, "c")
    for i, rname in enumerate(row_names):
        lo, up = float(model.row_lower[i]), float(model.row_upper[i])
        sl = slice(a.indptr[i], a.indptr[i + 1])
        expr = pulp.LpAffineExpression([(xs[j], float(v)) for j, v in zip(a.indices[sl], a.data[sl], strict=True)])
        if lo == up:
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintEQ, name=rname, rhs=lo))
            continue
        if not math.isinf(up):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, name=rname if math.isinf(lo) else f"{rname}_hi", rhs=up))
        if not math.isinf(lo):
            prob.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintGE, name=rname if math.isinf(up) else f"{rname}_lo", rhs=lo))
    return prob, xs


def _solve_pulp(model, key, time_limit, gap_rel, start) -> SolveOutcome:
    prob, xs = to_pulp(model)
    warm = start is not None and key == "PULP_CBC_CMD"
    if warm:
        full = model.start_vector(np.asarray(start, dtype=float)[: model.n_x])
        for v, val in zip(xs, full, strict=True):
            v.setInitialValue(float(val))
    kwargs = {"msg": False, "timeLimit": time_limit}
    if key == "PULP_CBC_CMD":
        kwargs.update(gapRel=gap_rel, warmStart=warm)
    engine = pulp.getSolver(key, **kwargs)
    t0 = time.perf_counter()
    prob.solve(engine)
    pair = (prob.status, prob.sol_status)
    outcome = PULP_STATUS.get(pair, "error")
    if outcome == "infeasible" and time_limit is not None and time.perf_counter() - t0 >= 0.9 * time_limit:
        # CBC stopped by its time limit before it found a solution reports "Infeasible"
        # through pulp (seen with a 1 s limit on a loaded machine): that proves nothing
        outcome = "limit"
    if outcome == "error":
        raise SolverError(f"{key} failed: status {pulp.LpStatus.get(prob.status)}, solution status {prob.sol_status}")
    values = np.array([v.varValue if v.varValue is not None else np.nan for v in xs])
    has_solution = not np.isnan(values[: model.n_x]).any() and pair[1] in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
    if outcome == "limit":
        outcome = "time_limit" if has_solution else "no_solution"
    if not has_solution or outcome == "infeasible":
        values = None
    objective = model.value(np.nan_to_num(values)) if values is not None else None
    if outcome == "optimal":
        bound, gap = objective, 0.0
    else:
        bound = lp_bound(model, time_limit)
        gap = relative_gap(objective, bound)
    return SolveOutcome(outcome, values, objective, bound, gap, key, pulp.LpStatus.get(prob.status, "?"), 0.0)

"""``solve``: options -> reductions -> model -> lexicographic stages -> audited result.

Objective modes and their stages (each solved exactly; a stage's optimum is fixed as a
constraint of the next one):

* ``coverage``: max need-weighted covered (with capacities: served) population; then,
  when units have scores, the quality of coverage (need covered times the score of the
  best selected unit in reach; with capacities, of the unit serving it); then min cost.
  So budget that buys neither coverage nor quality is left unspent. With
  ``spend="all"`` the second stage is instead the max total score of the selected units
  (the behaviour before the redesign: leftover budget buys units that may add nobody);
* ``quality-coverage``: max sum of need x best selected score in reach; then min cost;
* ``min-cost``: min cost subject to the target share and/or floors; then max coverage.

Fixing a stage value ``z*`` (:func:`_fix`): when the stage's coefficients lie on a
lattice of step ``g`` (whole numbers: ``g = 1``; need weights of 1.5: ``g = 1/2``;
:func:`granularity`) and only integer columns or 0/1 coverage indicators carry them,
the next stages get ``f(v) >= z* - g/2`` (``<= z* + g/2`` for a minimum), which admits
exactly the solutions of value ``z*``; otherwise (the capacity model's continuous
assignment) a relative tolerance of :data:`CONTINUOUS_STAGE_TOLERANCE`.

A time limit covers the whole call (reductions, model build, every stage); each later
stage gets what the earlier ones left. When it stops stage 1 the best solution found is
returned with status ``time_limit`` and its proven gap; when it stops a later stage, the
earlier stages' optima hold (the later stage starts from the earlier solution and every
solution it can return keeps their fixed values), the status is ``time_limit``, and the
top-level ``gap`` and ``bound`` stay the first stage's: each stage's own status, value,
bound and gap are in ``stages``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from optimizer.errors import InputError
from optimizer.select.assignment import RULES
from optimizer.select.capacity_start import capacity_start
from optimizer.select.greedy import greedy_select, ratio_fill, round_lp
from optimizer.select.infeasibility import cheap_proofs, explain
from optimizer.select.model import LinearModel, ModelSpec, build_model, stage_expressions
from optimizer.select.problem import SelectionProblem
from optimizer.select.reduce import (
    DOMINANCE_WORK_LIMIT,
    Reduction,
    closest_reduction,
    reduce_problem,
)
from optimizer.select.result import (
    SelectionResult,
    assemble,
    best_scores,
    quality_of_coverage,
    service_hits,
)
from optimizer.select.solvers import (
    AGGREGATE_MIN_NONZEROS,
    AGGREGATION_SECONDS_PER_NONZERO,
    aggregated_route,
    check_solver,
    find_feasible,
    lp_bound,
    lp_by_aggregation,
    relative_gap,
    solve_model,
)
from optimizer.select.sums import column_sums, row_sums

OBJECTIVES = ("coverage", "quality-coverage", "min-cost")
SPEND = ("needed", "all")
ASSIGNMENT_RULES = RULES
CONTINUOUS_STAGE_TOLERANCE = 1e-7
"""Relative slack of a fixed stage value whose model has continuous parts that enter the
value (the capacity model's assignment): such optima lie on no lattice. HiGHS's
feasibility tolerance is 1e-7 absolute per row."""
GRANULARITY_DENOMINATORS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 25, 30, 32, 40, 48, 50, 60, 64, 80, 100, 120, 125, 200, 250, 400, 500, 1000, 10_000, 100_000, 1_000_000)
"""Candidate denominators ``D`` of the stage coefficients' granularity ``1 / D`` (see
:func:`granularity`)."""
GREEDY_SHARE = 0.2
"""Share of the remaining time limit the greedy's local search may use."""
GREEDY_MAX_SECONDS = 30.0
"""Cap of the greedy's local search without a time limit."""

PREPARE_SECONDS_PER_NONZERO = 5e-8
"""Reductions and model build per nonzero of the merged rows (3.6-4.7 s measured for the 72 million of
the benchmark's XL instance), plus the dominance test (:data:`DOMINANCE_SECONDS_PER_PAIR`);
a first solve whose time limit leaves too little after them answers with the quick
greedy instead (:func:`_quick_answer`); steers the limit only."""

DOMINANCE_SECONDS_PER_PAIR = 2e-9
"""The dominance test of the reductions per pair of units sharing a row (the sum of
squared row degrees; 0.12 s for L's 65 million, 0.013 s for M's 7.9 million; skipped
above :data:`~optimizer.select.reduce.DOMINANCE_WORK_LIMIT`, as at XL)."""

COLUMNS_SECONDS_PER_NONZERO = 1.5e-8
"""Copying the merged rows by columns, per nonzero (0.85 s at XL, mostly fresh memory);
without time for it the quick answer takes units by their coverage alone per cost."""

ASSEMBLY_SECONDS_PER_UNIT = 1e-5
ASSEMBLY_SECONDS_PER_PAIR = 3.5e-9
"""Time kept from the limit to assemble the result: per unit (its row of the units
table and its reason) and per (demand point, unit) pair (coverage counts). Measured:
S 2 ms, M 11 ms, L 25-32 ms, XL 0.36 s (0.9 s before the column sums read only the rows
they weigh); steers the time limit only."""


@dataclass(frozen=True)
class SelectionOptions:
    """Every option of :func:`solve` (see there)."""

    budget: float | None = None
    objective: str = "coverage"
    target: float | None = None
    must_keep: tuple = ()
    exclude: tuple = ()
    min_score: float | None = None
    floors: float | Mapping | None = None
    ratio_standards: float | Mapping | None = None
    capacity: bool | None = None
    assignment: str = "any"
    spend: str = "needed"
    solver: str = "highs"
    time_limit: float | None = None
    warm_start: bool = True
    gap_rel: float = 0.0
    presolve: bool = False
    lexicographic: bool = True


def solve(
    problem: SelectionProblem,
    *,
    budget: float | None = None,
    objective: str = "coverage",
    target: float | None = None,
    must_keep: Iterable[str] = (),
    exclude: Iterable[str] = (),
    min_score: float | None = None,
    floors: float | Mapping[str, float] | None = None,
    ratio_standards: float | Mapping[str, float] | None = None,
    capacity: bool | None = None,
    assignment: str = "any",
    spend: str = "needed",
    solver: str = "highs",
    time_limit: float | None = None,
    warm_start: bool = True,
    gap_rel: float = 0.0,
    presolve: bool = False,
    lexicographic: bool = True,
) -> SelectionResult:
    """Choose the units to contract.

    Parameters
    ----------
    budget : total cost allowed (required except for ``min-cost``).
    objective : ``"coverage"`` (default), ``"quality-coverage"`` or ``"min-cost"``.
    target : min-cost: covered share of the whole population to reach (0-1).
    must_keep, exclude : unit ids forced in / out.
    min_score : units scoring below it are not eligible.
    floors : minimum covered share per region (one number for every region, or a
        mapping region -> share). With ``min-cost`` these are per-region targets.
    ratio_standards : minimum selected units per 100,000 people, per region.
    capacity : model unit capacities (a volume per period, in the unit of the problem's
        use rates), with assignment variables; None (default): whenever the units carry
        a capacity.
    assignment : with capacities, who may use which contracted unit: ``"any"`` unit of
        the service in reach (default), or ``"closest"``: people use the nearest
        contracted unit, which serves up to its capacity (needs the pairs' distances).
    spend : ``"needed"`` (default): after coverage, the quality of coverage, then the
        least cost, so budget that buys nothing is left unspent; ``"all"``: after
        coverage, the largest total score of the selected units (spends the budget on
        units that may add nobody), then the least cost.
    solver : ``"highs"`` (default), ``"cbc"``, ``"greedy"`` or any pulp solver name.
    time_limit : seconds for the whole call (None: no limit).
    warm_start : start the exact solver from the greedy solution (default True).
    gap_rel : relative optimality gap accepted (default 0: proven optimal).
    presolve : HiGHS presolve (default off: faster on these models, measured).
    lexicographic : run the tie-break stages (default True).
    """
    opts = SelectionOptions(
        budget=budget,
        objective=objective,
        target=target,
        must_keep=tuple(must_keep),
        exclude=tuple(exclude),
        min_score=min_score,
        floors=floors,
        ratio_standards=ratio_standards,
        capacity=capacity,
        assignment=assignment,
        spend=spend,
        solver=solver,
        time_limit=time_limit,
        warm_start=warm_start,
        gap_rel=gap_rel,
        presolve=presolve,
        lexicographic=lexicographic,
    )
    return solve_options(problem, opts)


def _ids_mask(problem: SelectionProblem, ids: tuple, what: str) -> np.ndarray:
    mask = np.zeros(problem.n_units, dtype=bool)
    if not ids:
        return mask
    pos = problem.unit_ids.get_indexer(pd.Index([str(i) for i in ids]))
    if (pos < 0).any():
        missing = [i for i, p in zip(ids, pos, strict=True) if p < 0]
        raise InputError(f"expected {what} ids among the unit ids", found=missing[:5])
    mask[pos] = True
    return mask


def _per_region(problem: SelectionProblem, value, what: str, lo: float, hi: float) -> np.ndarray | None:
    if value is None:
        return None
    if not problem.has_regions:
        raise InputError(f"expected a region column on the demand (or units) table to use {what}")
    out = np.full(len(problem.regions), np.nan)
    items = value.items() if isinstance(value, Mapping) else ((r, value) for r in problem.regions)
    for region, v in items:
        if str(region) not in problem.regions:
            raise InputError(f"expected {what} for regions among {list(problem.regions)[:10]}", found=region)
        v = float(v)
        if not (lo <= v <= hi):
            raise InputError(f"expected {what} between {lo:g} and {hi:g}", column=str(region), found=v)
        out[problem.regions.get_loc(str(region))] = v
    return out


def validate_options(problem: SelectionProblem, o: SelectionOptions) -> tuple[ModelSpec, np.ndarray, np.ndarray, np.ndarray]:
    """Check the options; return the model spec and the eligible, must-keep, excluded masks."""
    if o.objective not in OBJECTIVES:
        raise InputError(f"expected an objective among {OBJECTIVES}", found=o.objective)
    if o.budget is not None and (not math.isfinite(o.budget) or o.budget < 0):
        raise InputError("expected a finite budget >= 0", found=o.budget)
    if o.budget is None and o.objective != "min-cost":
        raise InputError(f"expected a budget for the {o.objective!r} objective")
    if o.target is not None and not (0.0 <= o.target <= 1.0):
        raise InputError("expected a target share between 0 and 1", found=o.target)
    if o.objective == "min-cost" and o.target is None and o.floors is None:
        raise InputError("expected a target share or floors for the 'min-cost' objective")
    if o.objective == "quality-coverage" and problem.score is None:
        raise InputError("expected a score column on the units for the 'quality-coverage' objective")
    if o.min_score is not None:
        if problem.score is None:
            raise InputError("expected a score column on the units to apply a minimum score")
        if not (0.0 <= o.min_score <= 1.0):
            raise InputError("expected a minimum score between 0 and 1", found=o.min_score)
    if o.spend not in SPEND:
        raise InputError(f"expected spend among {SPEND}", column="spend", found=o.spend)
    capacity = problem.capacity is not None if o.capacity is None else bool(o.capacity)
    if o.assignment not in ASSIGNMENT_RULES:
        raise InputError(f"expected an assignment rule among {ASSIGNMENT_RULES}", column="assignment", found=o.assignment)
    if o.assignment == "closest" and not capacity:
        raise InputError("expected unit capacities with the 'closest' assignment (without capacities everyone in reach is covered either way)", column="assignment")
    if o.assignment == "closest" and problem.coverage.distance is None:
        raise InputError("expected the distances of the coverage pairs for the 'closest' assignment (build the coverage with keep_distance=True, or give a travel table)", column="assignment")
    if capacity:
        if problem.capacity is None:
            raise InputError("expected a capacity column on the units to model capacities")
        if o.solver == "greedy":
            raise InputError("expected an exact solver (highs, cbc) with capacities: the greedy ignores them")
    if o.time_limit is not None and (not math.isfinite(o.time_limit) or o.time_limit <= 0):
        raise InputError("expected a positive time limit in seconds", found=o.time_limit)
    if not (0.0 <= o.gap_rel < 1.0):
        raise InputError("expected a relative gap in [0, 1)", found=o.gap_rel)
    if o.solver != "greedy":
        check_solver(o.solver)
    must_keep = _ids_mask(problem, o.must_keep, "must-keep")
    excluded = _ids_mask(problem, o.exclude, "excluded")
    eligible = ~excluded
    if o.min_score is not None:
        eligible &= problem.score >= o.min_score - 1e-12
    floors = _per_region(problem, o.floors, "floors", 0.0, 1.0)
    ratio = _per_region(problem, o.ratio_standards, "ratio standards", 0.0, 1e5)
    ratio_units = None
    if ratio is not None:
        pop = problem.population_by_region.to_numpy()
        ratio_units = np.where(np.isnan(ratio), 0, np.ceil(np.nan_to_num(ratio) * pop / 1e5 - 1e-9)).astype(np.int64)
    spec = ModelSpec(
        objective=o.objective,
        budget=None if o.budget is None else float(o.budget),
        target=o.target,
        floors=floors,
        ratio_units=ratio_units,
        capacity=capacity,
        assignment=o.assignment if capacity else "any",
    )
    return spec, eligible, must_keep, excluded


def _reduction(
    problem, spec, eligible, must_keep, *, dominate: bool, keep_rows: bool = False, score_stage: bool = False, cache: bool = True
) -> Reduction:
    """The (cached) reduction for these options; ``score_stage``: a "maximise total
    score" stage will run on it, so every unit is protected (see :mod:`.reduce`)."""
    if spec.assignment == "closest":
        key = ("closest", eligible.tobytes(), must_keep.tobytes())
        if key not in problem._cache:
            problem._cache[key] = closest_reduction(problem, eligible, must_keep)
        return problem._cache[key]
    key, protected, flags = _reduction_key(problem, spec, eligible, must_keep, dominate=dominate, keep_rows=keep_rows, score_stage=score_stage)
    if not cache:
        return reduce_problem(problem, problem.rows_for(capacity=spec.capacity), eligible, must_keep, protected=protected, **flags)
    store = problem._cache
    if key not in store:
        store[key] = reduce_problem(problem, problem.rows_for(capacity=spec.capacity), eligible, must_keep, protected=protected, **flags)
    return store[key]


def _reduction_key(problem, spec, eligible, must_keep, *, dominate: bool, keep_rows: bool, score_stage: bool) -> tuple:
    """``(cache key, protected units, flags of reduce_problem)`` of a reduction."""
    protected = np.zeros(problem.n_units, dtype=bool)
    if score_stage:
        protected[:] = True
    elif spec.ratio_units is not None:
        counted = np.append(spec.ratio_units > 0, False)  # region -1 (none) is never counted
        protected = counted[problem.unit_region]
    flags = dict(
        drop_kept_rows=not (keep_rows or spec.capacity or spec.objective == "quality-coverage"),
        dominate=dominate and not spec.capacity,
        score_matters=spec.objective == "quality-coverage",
        ratios_matter=spec.capacity,
    )
    key = ("reduction", spec.capacity, eligible.tobytes(), must_keep.tobytes(), protected.tobytes(), tuple(sorted(flags.items())))
    return key, protected, flags


def _quick_needed(problem: SelectionProblem, spec: ModelSpec, eligible, must_keep, left: float | None) -> bool:
    """True when the reductions and the model of these options are not built yet and
    would not fit in the ``left`` seconds (:data:`PREPARE_SECONDS_PER_NONZERO`) with time
    for what comes next: as much again, or at national scale (a model for the
    aggregated route) the first aggregation with its margin, which the route would
    otherwise skip for a greedy cut short by the time already spent (XL with 8 s: 250
    million covered against 340 million by the quick answer with 4 s); and the options
    are plain budgeted coverage (what :func:`_quick_answer` answers)."""
    if left is None or spec.budget is None or spec.objective != "coverage" or spec.capacity:
        return False
    if spec.target is not None or spec.floors is not None or spec.ratio_units is not None:
        return False
    key = _reduction_key(problem, spec, eligible, must_keep, dominate=True, keep_rows=False, score_stage=False)[0]
    if key in problem._cache:
        return False
    nnz = problem.rows.matrix.nnz
    prepare = _prepare_seconds(problem)
    after = 2.0 * AGGREGATION_SECONDS_PER_NONZERO * nnz if nnz >= AGGREGATE_MIN_NONZEROS else prepare
    return left < prepare + after


def _prepare_seconds(problem: SelectionProblem) -> float:
    """Predicted time of the reductions and the model build (see
    :data:`PREPARE_SECONDS_PER_NONZERO`)."""
    degree = np.diff(problem.rows.matrix.indptr).astype(np.int64)
    pairs = int((degree * degree).sum())
    return PREPARE_SECONDS_PER_NONZERO * problem.rows.matrix.nnz + (DOMINANCE_SECONDS_PER_PAIR * pairs if pairs <= DOMINANCE_WORK_LIMIT else 0.0)


def _assembly_seconds(problem: SelectionProblem) -> float:
    """Predicted time of assembling the result (see :data:`ASSEMBLY_SECONDS_PER_PAIR`)."""
    return ASSEMBLY_SECONDS_PER_UNIT * problem.n_units + ASSEMBLY_SECONDS_PER_PAIR * problem.coverage.matrix.nnz


def _quick_answer(problem: SelectionProblem, spec: ModelSpec, eligible, must_keep, deadline: float) -> tuple[np.ndarray, float, float]:
    """Plain budgeted coverage answered without reductions or model, when the time
    limit leaves no room for them: the cost-effectiveness greedy on the merged rows
    (must-keep units first; :func:`~optimizer.select.greedy.round_lp` of an
    all-fractional solution, stopped at ``deadline``, then the budget filled in the
    order it knows). Without time even to copy the rows by columns (and no copy made
    before: ``rows.csc`` is cached), the units are taken by their coverage alone per
    cost (:func:`~optimizer.select.greedy.ratio_fill`). Returns ``(selection over all
    units, its need-weighted coverage, the trivial bound: every row some eligible unit
    reaches is covered)``."""
    rows = problem.rows
    n = problem.n_units
    lower = must_keep.astype(float)
    upper = eligible.astype(float)
    if "csc" in rows.__dict__ or deadline - time.perf_counter() > COLUMNS_SECONDS_PER_NONZERO * rows.matrix.nnz:
        chosen = round_lp(rows.csc, rows.need, np.zeros(n), problem.cost, float(spec.budget), np.full(n, 0.5), lower, upper, deadline=deadline)
    else:
        # no time to copy the rows by columns: each unit's coverage alone, by ratio
        chosen = ratio_fill(column_sums(rows.matrix, rows.need), problem.cost, float(spec.budget), must_keep, eligible)
    reached = rows.degree > 0 if eligible.all() else row_sums(rows.matrix, upper) > 0
    covered = row_sums(rows.matrix, chosen.astype(float)) > 0
    return chosen, float(rows.need[covered].sum()), float(rows.need[reached].sum())


def _compactor(problem, spec, must_keep, model: LinearModel):
    """``compact(lower_x, upper_x)`` for :func:`~optimizer.select.solvers.solve_model`:
    the stage-1 model of the same options with the units fixed at 0 made ineligible and
    those fixed at 1 made must-keep, reduced again (rows they cover become constants,
    rows merged, dominance among the units left). Exact for the fixed problem: the
    reductions are, and the fixings are the solver's own."""

    def compact(lower_x: np.ndarray, upper_x: np.ndarray) -> LinearModel:
        eligible = np.zeros(problem.n_units, dtype=bool)
        eligible[model.units[upper_x > 0.5]] = True
        keep = must_keep.copy()
        keep[model.units[lower_x > 0.5]] = True
        return build_model(problem, _reduction(problem, spec, eligible, keep, dominate=True, cache=False), spec)[0]

    return compact


def _model(problem, red: Reduction, spec: ModelSpec) -> tuple[LinearModel, np.ndarray]:
    """Build (or reuse) the model; only the budget's right-hand side depends on the budget."""
    shape_key = replace(spec, budget=None if spec.budget is None else 0.0)
    key = ("model", id(red), _spec_key(shape_key))
    cache = problem._cache
    if key not in cache:
        cache[key] = (build_model(problem, red, spec), red)
    (model, need_obj), _ = cache[key]
    if spec.budget is not None:
        upper = model.row_upper.copy()
        upper[model.row_names.index("budget")] = spec.budget
        model = replace(model, row_upper=upper)
    return model, need_obj


def _spec_key(spec: ModelSpec) -> tuple:
    def arr(a):
        return None if a is None else a.tobytes()

    return (spec.objective, spec.budget, spec.target, arr(spec.floors), arr(spec.ratio_units), spec.capacity, spec.assignment)


def granularity(coef: np.ndarray) -> float | None:
    """The data's granularity ``1 / D``: the smallest ``D`` of
    :data:`GRANULARITY_DENOMINATORS` such that every coefficient is a whole multiple of
    ``1 / D`` (need weights of 1.5 give 1/2; two services at weight 1/2 each, 1/4); None
    when there is none. Every value of a 0/1 selection is then a multiple of it too.

    >>> granularity(np.array([3.0, 1.5, 0.0])), granularity(np.array([1.0, 1 / 3])), granularity(np.array([np.pi]))
    (0.5, 0.3333333333333333, None)
    """
    used = np.unique(np.abs(coef[np.flatnonzero(coef)]))
    if not len(used):
        return 1.0
    for d in GRANULARITY_DENOMINATORS:
        scaled = used * d
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-9 * np.maximum(1.0, scaled)):
            return 1.0 / d
    return None


def _fix(model: LinearModel, name: str, coef: np.ndarray, value: float, maximize: bool) -> LinearModel:
    """Add ``coef . v >= value - tol`` (or ``<= value + tol``): exact at the data's
    granularity ``g`` (:func:`granularity`: ``tol = g / 2``, which admits exactly the
    solutions of value ``value``, the next lattice point being ``g`` away) when only
    integer columns and 0/1 coverage indicators carry the coefficients; else (the
    capacity model's assignment, or coefficients on no lattice) a relative
    :data:`CONTINUOUS_STAGE_TOLERANCE`."""
    g = None if model.pairs is not None else granularity(coef)
    if g is not None:
        value, tol = round(value / g) * g, 0.5 * g
    else:
        tol = CONTINUOUS_STAGE_TOLERANCE * max(1.0, abs(value))
    if maximize:
        return model.with_row(name, coef, value - tol, math.inf)
    return model.with_row(name, coef, -math.inf, value + tol)


def _stage_plan(problem: SelectionProblem, spec: ModelSpec, lexicographic: bool, spend: str = "needed") -> list[tuple[str, bool]]:
    """The lexicographic stages, ``(name, maximise)`` in order (see the module docstring)."""
    first = {"coverage": ("coverage", True), "quality-coverage": ("quality", True), "min-cost": ("cost", False)}[spec.objective]
    plan = [first]
    if lexicographic:
        if spec.objective == "coverage":
            if problem.score is not None:
                plan.append(("score", True) if spend == "all" else ("quality", True))
            plan.append(("cost", False))
        elif spec.objective == "quality-coverage":
            plan.append(("cost", False))
        else:
            plan.append(("coverage", True))
    return plan


def solve_options(problem: SelectionProblem, o: SelectionOptions) -> SelectionResult:
    """:func:`solve` with the options in one object."""
    t0 = time.perf_counter()
    deadline = None if o.time_limit is None else t0 + o.time_limit

    def remaining() -> float | None:
        return None if deadline is None else max(deadline - time.perf_counter(), 0.0)

    spec, eligible, must_keep, excluded = validate_options(problem, o)
    common = dict(
        objective_mode=o.objective,
        budget=spec.budget,
        eligible=eligible,
        must_keep=must_keep,
        excluded=excluded,
        floors=spec.floors,
        ratio_units=spec.ratio_units,
        capacity=spec.capacity,
        assignment_rule=spec.assignment,
    )
    proof = cheap_proofs(problem, spec, eligible, must_keep)
    if proof is not None:
        return assemble(
            problem,
            selected=np.zeros(problem.n_units, dtype=bool),
            status="infeasible",
            objective={},
            gap=None,
            bound=None,
            dominated_by={},
            solve_time=time.perf_counter() - t0,
            model_size=_size_before(problem, spec),
            solver=o.solver,
            explanation=proof,
            **common,
        )

    left = remaining()
    reserve = _assembly_seconds(problem)  # time kept for assembling the result
    if _quick_needed(problem, spec, eligible, must_keep, None if left is None else left - reserve):
        # time kept for valuing the selection and for assembling the result
        chosen, value, bound = _quick_answer(problem, spec, eligible, must_keep, deadline - 2.0 * reserve)
        why = "time limit too short for the reductions and the model: the greedy's selection, with the trivial bound"
        info = {"status": "time_limit", "value": value, "bound": bound, "gap": relative_gap(value, bound), "seconds": time.perf_counter() - t0, "solver_status": why}
        return assemble(
            problem,
            selected=chosen,
            status="time_limit",
            objective={"coverage": value},
            gap=info["gap"],
            bound=bound,
            dominated_by={},
            solve_time=time.perf_counter() - t0,
            model_size=_size_before(problem, spec),
            solver="greedy",
            explanation={"note": why},
            stages={"coverage": info},
            **common,
        )
    red = _reduction(problem, spec, eligible, must_keep, dominate=True)
    model, need_obj = _model(problem, red, spec)
    size = {**_size_before(problem, spec), **{f"{k}_after": v for k, v in model.size.items()}, "merged_rows": problem.rows_for(capacity=spec.capacity).n_rows, "model_units": red.n_units}
    plan = _stage_plan(problem, spec, o.lexicographic, o.spend)

    def finish(selected, status, objective, gap, bound, solver, explanation, stages, cheapest=None) -> SelectionResult:
        """The result of this solve: everything but the outcome is shared by every exit."""
        return assemble(
            problem,
            cheapest_cost=cheapest,
            selected=selected,
            status=status,
            objective=objective,
            gap=gap,
            bound=bound,
            dominated_by=red.dominated_by,
            solve_time=time.perf_counter() - t0,
            model_size=size,
            solver=solver,
            explanation=explanation,
            stages=stages,
            **common,
        )

    left = remaining()
    greedy_deadline = time.perf_counter() + (GREEDY_SHARE * left if left is not None else GREEDY_MAX_SECONDS)
    # where HiGHS solves the LP through the aggregated relaxation (national scale, and
    # plain coverage from 100,000 nonzeros), the LP rounding is the better start
    # (benchmark XL, 10 %: 0.07 % below the LP bound in 0.35 s; the greedy with 8 s of
    # local search, 0.64 % below; at M the greedy cost 0.04 s of 0.6): no greedy there
    national = o.solver != "greedy" and check_solver(o.solver) == "highs" and (aggregated_route(model) or lp_by_aggregation(model))
    use_greedy = (o.warm_start or o.solver == "greedy") and not spec.capacity and not national
    greedy_local = greedy_select(problem, red, spec, deadline=greedy_deadline) if use_greedy else None

    if o.solver == "greedy":
        selected = np.zeros(problem.n_units, dtype=bool)
        selected[red.units[greedy_local]] = True
        bound = lp_bound(model, remaining(), greedy_local.astype(float))
        value = _stage_value(problem, plan[0][0], selected, spec)
        feasible = _feasible(problem, spec, selected)
        gap = relative_gap(value, bound) if feasible else None
        explanation = {} if feasible else {
            "note": "the greedy heuristic did not meet every constraint (floors, standards, target or budget); use an exact solver"
        }
        return finish(
            selected=selected,
            status="heuristic",
            objective={plan[0][0]: value},
            gap=gap,
            bound=bound,
            solver="greedy",
            explanation=explanation,
            stages={plan[0][0]: {"status": "heuristic", "value": value, "bound": bound, "gap": gap}},
        )

    start = greedy_local.astype(float) if greedy_local is not None else None
    if spec.capacity and spec.assignment == "any" and o.warm_start:
        # a complete feasible solution (units and assignment) from the capacity greedy
        start = capacity_start(model, red, problem.cost[red.units], problem.capacity[red.units], spec.budget, deadline=greedy_deadline)
    compact = None if spec.capacity else _compactor(problem, spec, must_keep, model)
    limit = remaining()
    # the result (coverage per region, marginal contributions) is assembled after the solve
    out = solve_model(model, solver=o.solver, time_limit=None if limit is None else max(limit - reserve, 0.0), gap_rel=o.gap_rel, start=start, presolve=o.presolve, compact=compact)
    stages = {plan[0][0]: _stage_info(out)}
    if out.status == "infeasible":
        def build(relax_must_keep: bool) -> LinearModel:
            r = _reduction(problem, spec, eligible, must_keep, dominate=True, keep_rows=relax_must_keep)
            return build_model(problem, r, spec)[0]

        limit = remaining()
        explanation = explain(problem, spec, build, time_limit=30.0 if limit is None else limit)
        return finish(
            selected=np.zeros(problem.n_units, dtype=bool),
            status="infeasible",
            objective={},
            gap=None,
            bound=None,
            solver=out.solver,
            explanation=explanation,
            stages=stages,
        )
    explanation = {}
    if out.status == "no_solution":
        status, gap, bound = "time_limit", None, out.bound
        selected = np.zeros(problem.n_units, dtype=bool)
        if greedy_local is not None:
            selected[red.units[greedy_local]] = True
        explanation = {"note": "the time limit stopped the solver before it found a solution meeting every constraint; the selection shown is the greedy heuristic's and may violate some"}
        if greedy_local is not None and _feasible(problem, spec, selected):
            value = _stage_value(problem, plan[0][0], selected, spec)
            gap = relative_gap(value, bound)
            explanation = {"note": "the time limit stopped the solver before it improved on the greedy start"}
        return finish(
            selected=selected,
            status=status,
            objective={},
            gap=gap,
            bound=bound,
            solver=out.solver,
            explanation=explanation,
            stages=stages,
        )
    status, gap, bound = out.status, out.gap, out.bound
    selected = np.zeros(problem.n_units, dtype=bool)
    selected[red.units[out.values[: model.n_x] > 0.5]] = True
    if model.n_x == 0 and red.base_need == 0:
        explanation = {"note": NOTHING_IN_REACH}
    objective = {plan[0][0]: out.objective}
    if out.status == "optimal" and len(plan) > 1:
        status = _later_stages(problem, spec, o, eligible, must_keep, plan, red, model, need_obj, out, selected, objective, stages, remaining)
    cheapest = None
    if status == "optimal" and spec.objective == "coverage" and spec.budget is not None and not spec.capacity and any(n == "quality" for n, _ in plan):
        cheapest = _cheapest_for_coverage(problem, model, need_obj, out, o, remaining)
    # the top-level gap and bound are the first stage's (what the README defines); a later
    # stage cut short by the time limit makes the status time_limit, and its own status,
    # value, bound and gap are in ``stages``
    return finish(
        selected=selected,
        status=status,
        objective=objective,
        gap=gap,
        bound=bound,
        solver=out.solver,
        explanation=explanation,
        stages=stages,
        cheapest=cheapest,
    )


def _cheapest_for_coverage(problem, model: LinearModel, need_obj: np.ndarray, first, o, remaining) -> float | None:
    """The least cost of any selection with the stage-1 coverage (the stage-1 model with
    its value fixed, minimising cost: exact, the reductions keep it), for the spending
    report: with the quality stage before the cost stage, the selection may cost more
    than this, the difference buying quality. None when the time is out or the solve
    is not proven."""
    left = remaining()
    if left is not None and left <= 0:
        return None
    fixed = _fix(model, "stage[coverage]", need_obj, first.objective - model.offset, True)
    cost = stage_expressions(problem, model, need_obj)["cost"]
    out = solve_model(fixed.with_objective(cost, maximize=False), solver=o.solver, time_limit=left, start=first.values[: model.n_x], presolve=o.presolve)
    return float(out.objective) if out.status == "optimal" else None


def _later_stages(problem, spec, o, eligible, must_keep, plan, red, model, need_obj, first, selected, objective, stages, remaining) -> str:
    """Run stages 2.. in place (``selected``, ``objective`` and ``stages`` are updated).

    The later stages run on the model that can express them: the stage-1 model itself
    (capacity: its assignment carries the quality too), the model with every unit kept
    for a "max total score" stage, or the sorted-threshold quality model of the same
    options for a quality-of-coverage stage. Each stage's optimum is fixed (:func:`_fix`)
    before the next; an earlier stage's value is never given up."""
    later = [name for name, _ in plan[1:]]
    # (stage 1 must be the served need itself: the test fixes its value on need_obj)
    unique, seconds = _only_selection(model, need_obj, first, remaining) if spec.capacity and spec.objective == "coverage" else (False, 0.0)
    if unique:
        for name, _ in plan[1:]:
            value = _stage_value(problem, name, selected, spec) if name != "quality" else quality_of_coverage(problem, selected, capacity=True, rule=spec.assignment)
            objective[name] = value
            stages[name] = {"status": "optimal", "value": value, "bound": value, "gap": 0.0, "seconds": seconds, "note": UNIQUE_NOTE}
        return "optimal"
    same_model = True
    if "score" in later:
        red = _reduction(problem, spec, eligible, must_keep, dominate=False, score_stage=True)
        model, need_obj = _model(problem, red, spec)
        same_model = False
    elif "quality" in later and not spec.capacity:
        spec_q = replace(spec, objective="quality-coverage")
        red = _reduction(problem, spec_q, eligible, must_keep, dominate=True)
        model, need_obj = _model(problem, red, spec_q)
        same_model = False
    n = model.matrix.shape[1]
    exprs = stage_expressions(problem, model, need_obj)
    coverage = np.zeros(n)
    coverage[: model.covered.shape[1]] = model.covered.T @ red.rows.need if model.covered.shape[0] else 0.0
    if model.completion is not None and model.completion[0] == "coverage":
        coverage = need_obj  # single-unit rows sit on the unit columns
    exprs["coverage"] = coverage
    if "quality" not in exprs:
        exprs["quality"] = need_obj
    offsets = {"coverage": red.base_need, "quality": red.base_need}
    prev_name, prev_max = plan[0]
    prev_value = first.objective
    prev_values = first.values if same_model else None
    status = "optimal"
    for name, maximize in plan[1:]:
        model = _fix(model, f"stage[{prev_name}]", exprs[prev_name], prev_value - offsets.get(prev_name, 0.0), prev_max)
        left = remaining()
        if left is not None and left <= 0:
            stages[name] = {"status": "time_limit", "value": None, "bound": None, "gap": None, "note": "not run: time limit reached"}
            return "time_limit"
        if prev_values is not None:
            start = prev_values
        else:
            start = np.isin(model.units, np.flatnonzero(selected)).astype(float)
        stage_model = model.with_objective(exprs[name], maximize=maximize, offset=offsets.get(name, 0.0))
        out = solve_model(stage_model, solver=o.solver, time_limit=left, gap_rel=o.gap_rel, start=start, presolve=o.presolve)
        stages[name] = _stage_info(out)
        if out.values is None:
            return "time_limit"
        selected[:] = False
        selected[model.units[out.values[: model.n_x] > 0.5]] = True
        objective[name] = out.objective
        if out.status != "optimal":
            return "time_limit"
        prev_name, prev_max, prev_value, prev_values = name, maximize, out.objective, out.values
    return status


NOTHING_IN_REACH = (
    "no demand point with people is in reach of an eligible unit: check the reach (radius or travel table), "
    "the order of the coordinates (lon, lat), the populations and the eligibility rules (minimum score, exclusions)"
)
UNIQUE_NOTE = "determined by stage 1: no other selection reaches the stage-1 value (a no-good MILP proved it)"


def _only_selection(model: LinearModel, need_obj: np.ndarray, first, remaining) -> bool:
    """Is the stage-1 selection of a capacity model the only one of its value? Then every
    later stage is decided by it (quality: the assignment that maximises it for that
    selection, :mod:`.assignment`; score and cost: the selection's own), exactly, and
    HiGHS need not branch on them: proving it is one feasibility MILP, the stage-1 model
    with its value fixed (:func:`_fix`) and the no-good row ``sum_{j in S} (1 - x_j) +
    sum_{j not in S} x_j >= 1``. Measured on the capacitated demo: 14 s against 55 s for
    the quality and cost stages, which then ran out of the time limit. False when another
    selection exists, or the time ran out (the stages then run as usual); with the
    seconds the test took."""
    left = remaining()
    if first.values is None or (left is not None and left <= 0):
        return False, 0.0
    x = first.values[: model.n_x] > 0.5
    coef = np.zeros(model.matrix.shape[1])
    coef[: model.n_x] = np.where(x, -1.0, 1.0)
    fixed = _fix(model, "stage[coverage]", need_obj, first.objective - model.offset, True)
    out = find_feasible(fixed.with_row("nogood", coef, 1.0 - float(x.sum()), math.inf), left)
    return out.status == "infeasible", out.seconds


def _stage_info(out) -> dict:
    return {"status": out.status, "value": out.objective, "bound": out.bound, "gap": out.gap, "seconds": out.seconds, "solver_status": out.raw_status}


def _stage_value(problem: SelectionProblem, stage: str, selected: np.ndarray, spec: ModelSpec) -> float:
    w = problem.service_weights
    if stage == "cost":
        return float(problem.cost[selected].sum())
    if stage == "quality":
        return float(((best_scores(problem, selected) * w[None, :]).sum(axis=1) * problem.need).sum())
    covered = service_hits(problem, selected) > 0
    return float(((covered * w[None, :]).sum(axis=1) * problem.need).sum())


def _feasible(problem: SelectionProblem, spec: ModelSpec, selected: np.ndarray) -> bool:
    """Does a selection meet the budget, floors, ratio standards and target?"""
    if spec.budget is not None and problem.cost[selected].sum() > spec.budget + 1e-6:
        return False
    covered = service_hits(problem, selected) > 0
    per_point = (covered * problem.service_weights[None, :]).sum(axis=1) * problem.population
    if spec.target is not None and per_point.sum() < spec.target * problem.population.sum() - 1e-6:
        return False
    if spec.floors is not None:
        known = problem.demand_region >= 0
        cov = np.bincount(problem.demand_region[known], weights=per_point[known], minlength=len(problem.regions))
        need = np.nan_to_num(spec.floors, nan=0.0) * problem.population_by_region.to_numpy()
        if (cov < need - 1e-6).any():
            return False
    if spec.ratio_units is not None:
        sel = selected & (problem.unit_region >= 0)
        counts = np.bincount(problem.unit_region[sel], minlength=len(problem.regions))
        if (counts < spec.ratio_units).any():
            return False
    return True


def _size_before(problem: SelectionProblem, spec: ModelSpec) -> dict:
    """Size of the textbook model before merging: one cover row and one y per
    (demand point, service), plus the side constraints."""
    n_rows = problem.rows.n_original
    nnz = problem.coverage.n_pairs + n_rows
    side = int(spec.budget is not None) + int(spec.target is not None)
    side += 0 if spec.floors is None else int((~np.isnan(spec.floors)).sum())
    side += 0 if spec.ratio_units is None else int((spec.ratio_units > 0).sum())
    return {"rows_before": n_rows + side, "columns_before": problem.n_units + n_rows, "nonzeros_before": nnz}

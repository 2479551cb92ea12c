"""The selection result and its audit: coverage recomputed, marginal contributions, reasons.

Every number here is recomputed from the selected units on the original, unmerged
coverage relation (never read off the solver's relaxation):

* ``covered_population``: people with at least one selected unit of the service in reach,
  ``sum_k v_k sum_i p_i [i covered for service k]`` (service weights ``v`` sum to 1,
  so with one service this is simply the covered population);
* ``marginal_coverage`` of a selected unit: people who lose coverage if it alone is
  dropped (it is the only selected unit of its service in their reach);
* ``would_add`` of an unselected eligible unit: people it would newly cover;
* ``cost_per_new_person``: cost divided by that marginal (or would-add) population.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.select.problem import SelectionProblem
from optimizer.select.sums import column_sums, row_sums

STATUSES = ("optimal", "time_limit", "infeasible", "heuristic")

UNIT_COLUMNS = [
    "service",
    "region",
    "cost",
    "score",
    "eligible",
    "must_keep",
    "selected",
    "marginal_coverage",
    "would_add",
    "cost_per_new_person",
    "reason",
]
REGION_COLUMNS = ["population", "covered", "share", "floor", "floor_met", "units", "units_required", "ratio_met"]


@dataclass(frozen=True)
class SelectionResult:
    """A selection and everything needed to audit it (see the module docstring).

    ``status`` is one of ``optimal``, ``time_limit`` (best solution found, with its
    proven ``gap``), ``infeasible`` (with ``explanation``) and ``heuristic`` (greedy,
    with its gap to the LP bound). ``objective`` holds each lexicographic stage's value.
    """

    status: str
    objective_mode: str
    objective: dict
    gap: float | None
    bound: float | None
    selected: pd.Index
    total_cost: float
    covered_population: float
    covered_need: float
    coverage_share: float
    total_population: float
    budget: float | None
    by_region: pd.DataFrame
    by_service: pd.DataFrame
    units: pd.DataFrame
    solve_time: float
    model_size: dict
    solver: str
    explanation: dict = field(default_factory=dict)
    stages: dict = field(default_factory=dict)

    def to_dict(self, *, units: bool = False) -> dict:
        """Plain JSON-ready dict (``units=True`` adds the per-unit table)."""
        out = {
            "status": self.status,
            "objective_mode": self.objective_mode,
            "selected": list(self.selected),
            "n_selected": len(self.selected),
            "total_cost": self.total_cost,
            "budget": self.budget,
            "covered_population": self.covered_population,
            "covered_need": self.covered_need,
            "total_population": self.total_population,
            "coverage_share": self.coverage_share,
            "gap": self.gap,
            "bound": self.bound,
            "objective": self.objective,
            "stages": self.stages,
            "by_region": {str(k): v for k, v in self.by_region.to_dict(orient="index").items()},
            "by_service": {str(k): v for k, v in self.by_service.to_dict(orient="index").items()},
            "model_size": self.model_size,
            "solve_time": self.solve_time,
            "solver": self.solver,
        }
        if self.explanation:
            out["explanation"] = self.explanation
        if units:
            out["units"] = self.units.reset_index().to_dict(orient="records")
        return out


def service_hits(problem: SelectionProblem, selected: np.ndarray) -> np.ndarray:
    """Count of selected units of each service in reach of each demand point, (n, K)."""
    c = problem.coverage.matrix
    selected = np.asarray(selected, dtype=bool)
    hits = np.zeros((c.shape[0], problem.n_services), dtype=np.int64)
    for k in range(problem.n_services):
        # counts summed in slices (a sparse product would first turn the relation's
        # 92 million entries at XL into numbers: 0.4-0.7 GB of fresh memory)
        hits[:, k] = np.rint(row_sums(c, (selected & (problem.unit_service == k)).astype(float))).astype(np.int64)
    return hits


def best_scores(problem: SelectionProblem, selected: np.ndarray) -> np.ndarray:
    """Best score of a selected unit of each service in reach, (n, K) (0 if none)."""
    out = np.zeros((len(problem.demand_ids), problem.n_services))
    if problem.score is None:
        return out
    csr = sp.csr_array(problem.coverage.matrix, dtype=float)
    for k in range(problem.n_services):
        weights = np.where(selected & (problem.unit_service == k), problem.score, 0.0)
        scaled = csr @ sp.diags_array(weights)
        out[:, k] = np.asarray(sp.csr_array(scaled).max(axis=1).toarray()).ravel()
    return out


def assemble(
    problem: SelectionProblem,
    *,
    selected: np.ndarray,
    status: str,
    objective_mode: str,
    objective: dict,
    gap: float | None,
    bound: float | None,
    budget: float | None,
    eligible: np.ndarray,
    must_keep: np.ndarray,
    excluded: np.ndarray,
    floors: np.ndarray | None,
    ratio_units: np.ndarray | None,
    dominated_by: dict,
    solve_time: float,
    model_size: dict,
    solver: str,
    explanation: dict | None = None,
    stages: dict | None = None,
) -> SelectionResult:
    """Recompute every reported number from the selection mask (over all units)."""
    selected = np.asarray(selected, dtype=bool)
    hits = service_hits(problem, selected)
    covered = hits > 0
    w = problem.service_weights
    pop = problem.population
    covered_pop_point = (covered * w[None, :]).sum(axis=1) * pop
    covered_need = float(((covered * w[None, :]).sum(axis=1) * problem.need).sum())
    total_pop = float(pop.sum())
    covered_population = float(covered_pop_point.sum())
    total_cost = float(problem.cost[selected].sum())
    objective = dict(objective)
    if status != "infeasible":
        objective["coverage"] = covered_need
        objective["cost"] = total_cost
        if problem.score is not None:
            objective["score"] = float(problem.score[selected].sum())
    if objective_mode == "quality-coverage" and status != "infeasible":
        objective["quality"] = float(((best_scores(problem, selected) * w[None, :]).sum(axis=1) * problem.need).sum())

    by_region = _by_region(problem, selected, covered_pop_point, floors, ratio_units)
    by_service = _by_service(problem, selected, covered)
    units = _units(problem, selected, hits, eligible, must_keep, excluded, dominated_by, budget, total_cost, proven=status == "optimal")
    return SelectionResult(
        status=status,
        objective_mode=objective_mode,
        objective=objective,
        gap=gap,
        bound=bound,
        selected=pd.Index(problem.unit_ids[selected], name="unit_id"),
        total_cost=total_cost,
        covered_population=covered_population,
        covered_need=covered_need,
        coverage_share=covered_population / total_pop if total_pop > 0 else 1.0,
        total_population=total_pop,
        budget=budget,
        by_region=by_region,
        by_service=by_service,
        units=units,
        solve_time=solve_time,
        model_size=model_size,
        solver=solver,
        explanation=explanation or {},
        stages=stages or {},
    )


def _by_region(problem, selected, covered_pop_point, floors, ratio_units) -> pd.DataFrame:
    if not problem.has_regions:
        return pd.DataFrame(columns=REGION_COLUMNS, index=pd.Index([], name="region"))
    n_r = len(problem.regions)
    known = problem.demand_region >= 0
    covered = np.bincount(problem.demand_region[known], weights=covered_pop_point[known], minlength=n_r)
    population = problem.population_by_region.to_numpy()
    share = np.divide(covered, population, out=np.ones(n_r), where=population > 0)
    floor = np.full(n_r, np.nan) if floors is None else floors
    sel_units = selected & (problem.unit_region >= 0)
    units = np.bincount(problem.unit_region[sel_units], minlength=n_r)
    required = np.zeros(n_r, dtype=np.int64) if ratio_units is None else ratio_units.astype(np.int64)
    return pd.DataFrame(
        {
            "population": population,
            "covered": covered,
            "share": share,
            "floor": floor,
            "floor_met": np.isnan(floor) | (share >= floor - 1e-9),
            "units": units,
            "units_required": required,
            "ratio_met": units >= required,
        },
        index=pd.Index(problem.regions, name="region"),
    )


def _by_service(problem, selected, covered) -> pd.DataFrame:
    pop = problem.population
    total = float(pop.sum())
    cov = covered.T.astype(float) @ pop
    units = np.bincount(problem.unit_service[selected], minlength=problem.n_services)
    cost = np.bincount(problem.unit_service[selected], weights=problem.cost[selected], minlength=problem.n_services)
    return pd.DataFrame(
        {
            "weight": problem.service_weights,
            "population": np.full(problem.n_services, total),
            "covered": cov,
            "share": cov / total if total > 0 else np.ones(problem.n_services),
            "units": units,
            "cost": cost,
        },
        index=pd.Index(problem.services, name="service"),
    )


def _units(problem, selected, hits, eligible, must_keep, excluded, dominated_by, budget, total_cost, *, proven: bool) -> pd.DataFrame:
    m = problem.coverage.matrix
    marginal = np.zeros(problem.n_units)
    would_add = np.zeros(problem.n_units)
    for k in range(problem.n_services):
        mine = problem.unit_service == k
        alone = column_sums(m, problem.population * (hits[:, k] == 1))
        new = column_sums(m, problem.population * (hits[:, k] == 0))
        marginal[mine & selected] = alone[mine & selected]
        would_add[mine & ~selected] = new[mine & ~selected]
    contribution = np.where(selected, marginal, would_add)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_person = np.where(contribution > 0, problem.cost / contribution, np.nan)
    left = None if budget is None else budget - total_cost
    free_budget = None if budget is None else budget - float(problem.cost[must_keep].sum())
    ids = problem.unit_ids
    reasons = []
    for j in range(problem.n_units):
        reasons.append(
            _reason(
                j,
                selected[j],
                eligible[j],
                must_keep[j],
                excluded[j],
                marginal[j],
                would_add[j],
                problem.cost[j],
                left,
                free_budget,
                None if j not in dominated_by else ids[dominated_by[j]],
                proven,
            )
        )
    frame = pd.DataFrame(
        {
            "service": problem.services[problem.unit_service],
            "region": [problem.regions[g] if g >= 0 else None for g in problem.unit_region],
            "cost": problem.cost,
            "score": problem.score if problem.score is not None else np.full(problem.n_units, np.nan),
            "eligible": eligible,
            "must_keep": must_keep,
            "selected": selected,
            "marginal_coverage": np.where(selected, marginal, np.nan),
            "would_add": np.where(~selected & eligible, would_add, np.nan),
            "cost_per_new_person": np.where(selected | eligible, per_person, np.nan),
            "reason": reasons,
        },
        index=pd.Index(ids, name="unit_id"),
    )
    return frame[UNIT_COLUMNS]


def _reason(j, selected, eligible, must_keep, excluded, marginal, would_add, cost, left, free_budget, dominator, proven) -> str:
    """Why unit ``j`` is selected or not, in plain words.

    "not affordable" only when the unit costs more than the whole budget minus the
    must-keep units (``free_budget``): no swap could bring it in. A unit that fits the
    budget but not the money left over could enter only in place of chosen units; when
    the selection is ``proven`` optimal, no such swap covers more.
    """
    if selected:
        if must_keep:
            return "selected: must keep"
        if marginal > 0:
            return f"selected: only chosen unit in reach of {marginal:,.0f} people"
        return "selected: everyone it reaches is also reached by another chosen unit (chosen for quality, a standard or a tie)"
    if excluded:
        return "not selected: excluded"
    if not eligible:
        return "not selected: score below the minimum"
    if would_add <= 0:
        return "not selected: adds nothing new (everyone it reaches is already covered)"
    per_person = f"would add {would_add:,.0f} people at {cost / would_add:,.2f} per person"
    if free_budget is not None and cost > free_budget + 1e-9:
        return f"not selected: not affordable (costs {cost:,.2f}, more than the {max(free_budget, 0.0):,.2f} of the budget not taken by must-keep units); {per_person}"
    if dominator is not None:
        return f"not selected: dominated by unit {dominator} (reaches everyone it reaches, costs no more)"
    if left is not None and cost > left + 1e-9:
        return (
            f"not selected: the budget is spent on the chosen units ({max(left, 0.0):,.2f} left); "
            f"it fits only in place of some of them{', and no such swap covers more' if proven else ''}; {per_person}"
        )
    return f"not selected: less cost-effective than the chosen set; {per_person}"

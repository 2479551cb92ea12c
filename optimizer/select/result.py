"""The selection result and its audit: coverage recomputed, marginal contributions, reasons.

Every number here is recomputed from the selected units on the original, unmerged
coverage relation and the assignment of :mod:`.assignment` (never read off the
solver's relaxation):

* ``covered_population``: people served, ``sum_k v_k sum_i p_i s_{i,k}`` with ``s`` the
  served share of point i for service k (service weights ``v`` sum to 1, so with one
  service this is simply the people served). Without capacities ``s_{i,k}`` is 1 when a
  selected unit of the service is in reach (served = reached); with capacities it comes
  from the assignment, and ``reached_population`` (the same sum over reach alone) minus
  it is the capacity shortfall;
* ``load`` of a unit: the volume assigned to it; ``utilisation`` its load over its
  capacity;
* ``marginal_coverage`` of a selected unit: without capacities, people who lose
  coverage if it alone is dropped (it is the only selected unit of its service in
  their reach); with capacities, the people it serves in the assignment;
* ``would_add`` of an unselected eligible unit: people it would newly cover; with
  capacities, the people in its reach not served, up to what its capacity can serve;
* ``cost_per_new_person``: cost divided by that marginal (or would-add) population.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from optimizer.select.assignment import Assignment, assign, served_shares
from optimizer.select.problem import SelectionProblem
from optimizer.select.sums import column_sums, row_sums

SATURATION_MAX_PAIRS = 100_000
"""Largest coverage relation whose coverage with every eligible unit (the saturation
test of ``spending``) is computed with capacities (one more assignment LP)."""

STATUSES = ("optimal", "time_limit", "infeasible", "heuristic")

UNIT_COLUMNS = [
    "service",
    "region",
    "cost",
    "score",
    "eligible",
    "must_keep",
    "selected",
    "capacity",
    "load",
    "utilisation",
    "served",
    "marginal_coverage",
    "would_add",
    "cost_per_new_person",
    "reason",
]
REGION_COLUMNS = [
    "population",
    "reached",
    "covered",
    "share",
    "served_share",
    "volume_needed",
    "capacity_in_reach",
    "floor",
    "floor_met",
    "units",
    "units_required",
    "ratio_met",
]


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
    capacity: bool = False
    assignment_rule: str = "any"
    reached_population: float = math.nan
    spending: dict = field(default_factory=dict)
    assignment: Assignment | None = field(default=None, repr=False, compare=False)

    @property
    def capacity_shortfall(self) -> float:
        """People with a selected unit in reach whom no capacity serves."""
        return max(self.reached_population - self.covered_population, 0.0) if self.capacity else 0.0

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
            "capacity": self.capacity,
            "assignment": self.assignment_rule,
            "reached_population": self.reached_population,
            "capacity_shortfall": self.capacity_shortfall,
            "spending": self.spending,
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
    capacity: bool = False,
    assignment_rule: str = "any",
    cheapest_cost: float | None = None,
) -> SelectionResult:
    """Recompute every reported number from the selection mask (over all units)."""
    selected = np.asarray(selected, dtype=bool)
    a = assign(problem, selected, capacity=capacity, rule=assignment_rule)
    hits = service_hits(problem, selected)
    w = problem.service_weights
    pop = problem.population
    share = served_shares(problem, a)
    covered_pop_point = (share * w[None, :]).sum(axis=1) * pop
    covered_need = float(((share * w[None, :]).sum(axis=1) * problem.need).sum())
    reached_pop_point = ((hits > 0) * w[None, :]).sum(axis=1) * pop
    total_pop = float(pop.sum())
    covered_population = float(covered_pop_point.sum())
    total_cost = float(problem.cost[selected].sum())
    objective = dict(objective)
    if status != "infeasible":
        objective["coverage"] = covered_need
        objective["cost"] = total_cost
        if problem.score is not None:
            objective["score"] = float(problem.score[selected].sum())
            objective["quality"] = _quality(problem, a, selected)

    by_region = _by_region(problem, selected, covered_pop_point, reached_pop_point, floors, ratio_units, capacity)
    by_service = _by_service(problem, selected, share, hits > 0, a)
    units = _units(problem, selected, hits, a, eligible, must_keep, excluded, dominated_by, budget, total_cost, proven=status == "optimal")
    spending = {} if status == "infeasible" else _spending(problem, budget, total_cost, covered_need, eligible, capacity, assignment_rule, cheapest_cost)
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
        capacity=capacity,
        assignment_rule=assignment_rule,
        reached_population=float(reached_pop_point.sum()),
        spending=spending,
        assignment=a,
    )


def quality_of_coverage(problem: SelectionProblem, selected: np.ndarray, *, capacity: bool, rule: str = "any") -> float:
    """The quality of coverage of a selection mask (see :func:`_quality`)."""
    selected = np.asarray(selected, dtype=bool)
    return _quality(problem, assign(problem, selected, capacity=capacity, rule=rule), selected)


def _quality(problem: SelectionProblem, a: Assignment, selected: np.ndarray) -> float:
    """Quality of coverage: need served, weighted by the score of the unit serving it
    (without capacities the best selected unit in reach, with them the assigned one)."""
    if not a.capacity:
        return float(((best_scores(problem, selected) * problem.service_weights[None, :]).sum(axis=1) * problem.need).sum())
    if not len(a.pairs):
        return 0.0
    d = problem.demand_ids.get_indexer(a.pairs["demand_id"].astype(str))
    u = problem.unit_ids.get_indexer(a.pairs["unit_id"].astype(str))
    k = problem.services.get_indexer(a.pairs["service"].astype(str))
    ratio = np.divide(problem.need[d], problem.population[d], out=np.zeros(len(d)), where=problem.population[d] > 0)
    return float((a.pairs["people"].to_numpy() * problem.service_weights[k] * ratio * problem.score[u]).sum())


def _spending(problem: SelectionProblem, budget, total_cost: float, covered_need: float, eligible: np.ndarray, capacity: bool, rule: str = "any", cheapest: float | None = None) -> dict:
    """What the budget bought: spent, unspent, whether coverage saturates (every eligible
    unit together would not cover more need) and, when known, the least cost of any
    selection with this coverage (``cheapest``: the rest of the spending buys quality)."""
    if budget is None:
        return {"budget": None, "spent": total_cost, "unspent": None, "saturated": None, "max_coverage": None, "cheapest_for_coverage": cheapest, "note": ""}
    if capacity and problem.coverage.n_pairs > SATURATION_MAX_PAIRS:
        most = None
    elif capacity:
        # (closest first, more units can serve less: people move to a nearer, fuller one;
        # "saturated" then compares with every eligible unit contracted)
        a = assign(problem, eligible, capacity=True, rule=rule)
        most = float(((a.served_people * problem.service_weights[None, :]).sum(axis=1) * np.divide(problem.need, problem.population, out=np.zeros_like(problem.need), where=problem.population > 0)).sum())
    else:
        hits = service_hits(problem, eligible) > 0
        most = float(((hits * problem.service_weights[None, :]).sum(axis=1) * problem.need).sum())
    saturated = None if most is None else bool(covered_need >= most - 1e-6 * max(1.0, most))
    unspent = max(float(budget) - total_cost, 0.0)
    total_need = float(problem.need.sum())
    share = covered_need / total_need if total_need > 0 else 1.0
    cheap = ""
    if cheapest is not None:
        extra = total_cost - cheapest
        cheap = f"; the cheapest selection with this coverage costs {cheapest:,.2f}" + (f", and {extra:,.2f} more buys a better quality of coverage" if extra > 1e-6 else "")
    if saturated:
        note = (
            f"coverage saturates at {share:.2%} of the need (every eligible unit together would not cover more){cheap}; "
            f"the selection costs {total_cost:,.2f} and {unspent:,.2f} of the budget is left unspent"
        )
    else:
        note = (f"{unspent:,.2f} of the budget is left unspent (no further unit fits, or none adds coverage or quality)" if unspent > 0 else "the whole budget is spent") + cheap
    return {"budget": float(budget), "spent": total_cost, "unspent": unspent, "saturated": saturated, "max_coverage": most, "cheapest_for_coverage": cheapest, "note": note}


def _by_region(problem, selected, covered_pop_point, reached_pop_point, floors, ratio_units, capacity) -> pd.DataFrame:
    if not problem.has_regions:
        return pd.DataFrame(columns=REGION_COLUMNS, index=pd.Index([], name="region"))
    n_r = len(problem.regions)
    known = problem.demand_region >= 0
    covered = np.bincount(problem.demand_region[known], weights=covered_pop_point[known], minlength=n_r)
    reached = np.bincount(problem.demand_region[known], weights=reached_pop_point[known], minlength=n_r)
    population = problem.population_by_region.to_numpy()
    share = np.divide(covered, population, out=np.ones(n_r), where=population > 0)
    floor = np.full(n_r, np.nan) if floors is None else floors
    sel_units = selected & (problem.unit_region >= 0)
    units = np.bincount(problem.unit_region[sel_units], minlength=n_r)
    required = np.zeros(n_r, dtype=np.int64) if ratio_units is None else ratio_units.astype(np.int64)
    volume = np.bincount(problem.demand_region[known], weights=problem.volume.sum(axis=1)[known], minlength=n_r)
    in_reach = np.full(n_r, np.nan)
    if problem.capacity is not None:
        # capacity of the selected units that reach at least one point of the region
        onehot = sp.csr_array((np.ones(int(known.sum())), (np.flatnonzero(known), problem.demand_region[known])), shape=(len(problem.demand_ids), n_r))
        touches = sp.csr_array(sp.csr_array(problem.coverage.matrix, dtype=float).T @ onehot)
        in_reach = np.asarray(sp.csr_array(touches > 0, dtype=float).T @ np.where(selected, problem.capacity, 0.0)).ravel()
    return pd.DataFrame(
        {
            "population": population,
            "reached": reached,
            "covered": covered,
            "share": share,
            "served_share": share,
            "volume_needed": volume,
            "capacity_in_reach": in_reach,
            "floor": floor,
            "floor_met": np.isnan(floor) | (share >= floor - 1e-9),
            "units": units,
            "units_required": required,
            "ratio_met": units >= required,
        },
        index=pd.Index(problem.regions, name="region"),
    )


def _by_service(problem, selected, share, reached, a: Assignment) -> pd.DataFrame:
    pop = problem.population
    total = float(pop.sum())
    cov = share.T @ pop
    units = np.bincount(problem.unit_service[selected], minlength=problem.n_services)
    cost = np.bincount(problem.unit_service[selected], weights=problem.cost[selected], minlength=problem.n_services)
    cap = np.full(problem.n_services, np.nan)
    if problem.capacity is not None:
        cap = np.bincount(problem.unit_service[selected], weights=problem.capacity[selected], minlength=problem.n_services)
    load = np.bincount(problem.unit_service, weights=a.load, minlength=problem.n_services)
    return pd.DataFrame(
        {
            "weight": problem.service_weights,
            "population": np.full(problem.n_services, total),
            "reached": reached.T.astype(float) @ pop,
            "covered": cov,
            "share": cov / total if total > 0 else np.ones(problem.n_services),
            "volume_needed": problem.volume.sum(axis=0),
            "volume_served": a.served_volume.sum(axis=0),
            "capacity": cap,
            "utilisation": np.divide(load, cap, out=np.full(problem.n_services, np.nan), where=cap > 0),
            "units": units,
            "cost": cost,
        },
        index=pd.Index(problem.services, name="service"),
    )


def _units(problem, selected, hits, a: Assignment, eligible, must_keep, excluded, dominated_by, budget, total_cost, *, proven: bool) -> pd.DataFrame:
    m = problem.coverage.matrix
    marginal = np.zeros(problem.n_units)
    would_add = np.zeros(problem.n_units)
    served = np.zeros(problem.n_units)
    if len(a.pairs):
        u = problem.unit_ids.get_indexer(a.pairs["unit_id"].astype(str))
        served = np.bincount(u, weights=a.pairs["people"].to_numpy(), minlength=problem.n_units)
    capacity = problem.capacity
    for k in range(problem.n_services):
        mine = problem.unit_service == k
        if a.capacity:
            # people in reach not served, up to what the unit's capacity serves of them
            left_people = problem.population - a.served_people[:, k]
            left_volume = problem.volume[:, k] - a.served_volume[:, k]
            people = column_sums(m, np.maximum(left_people, 0.0))
            volume = column_sums(m, np.maximum(left_volume, 0.0))
            fits = np.divide(capacity, volume, out=np.ones(problem.n_units), where=volume > 0)
            marginal[mine & selected] = served[mine & selected]
            would_add[mine & ~selected] = (people * np.minimum(fits, 1.0))[mine & ~selected]
        else:
            alone = column_sums(m, problem.population * (hits[:, k] == 1))
            new = column_sums(m, problem.population * (hits[:, k] == 0))
            marginal[mine & selected] = alone[mine & selected]
            would_add[mine & ~selected] = new[mine & ~selected]
    contribution = np.where(selected, marginal, would_add)
    with np.errstate(divide="ignore", invalid="ignore"):
        per_person = np.where(contribution > 0, problem.cost / contribution, np.nan)
    cap = capacity if capacity is not None else np.full(problem.n_units, np.nan)
    utilisation = np.divide(a.load, cap, out=np.full(problem.n_units, np.nan), where=np.isfinite(cap) & (cap > 0))
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
                None if not a.capacity else (a.load[j], cap[j]),
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
            "capacity": cap,
            "load": a.load,
            "utilisation": utilisation,
            "served": served,
            "marginal_coverage": np.where(selected, marginal, np.nan),
            "would_add": np.where(~selected & eligible, would_add, np.nan),
            "cost_per_new_person": np.where(selected | eligible, per_person, np.nan),
            "reason": reasons,
        },
        index=pd.Index(ids, name="unit_id"),
    )
    return frame[UNIT_COLUMNS]


FULL_UTILISATION = 0.999
"""Utilisation from which a unit counts as full in its reason."""


def _reason(j, selected, eligible, must_keep, excluded, marginal, would_add, cost, left, free_budget, dominator, proven, load_cap=None) -> str:
    """Why unit ``j`` is selected or not, in plain words.

    "not affordable" only when the unit costs more than the whole budget minus the
    must-keep units (``free_budget``): no swap could bring it in. A unit that fits the
    budget but not the money left over could enter only in place of chosen units; when
    the selection is ``proven`` optimal, no such swap covers more. With capacities
    (``load_cap``: the unit's load and capacity) a selected unit's reason states what it
    serves and whether it is full, an unselected one's what its capacity could serve.
    """
    if selected:
        if load_cap is not None:
            load, cap = load_cap
            use = load / cap if cap > 0 else 0.0
            full = " (full: its capacity decided how many it serves)" if use >= FULL_UTILISATION else ""
            what = f"serves {marginal:,.0f} people, load {load:,.0f} of capacity {cap:,.0f} ({use:.0%}){full}"
            return f"selected: must keep; {what}" if must_keep else f"selected: {what}"
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
        if load_cap is not None:
            return "not selected: adds nothing new (everyone it reaches is already served by the chosen units' capacity)"
        return "not selected: adds nothing new (everyone it reaches is already covered)"
    verb = "serve up to" if load_cap is not None else "add"
    per_person = f"would {verb} {would_add:,.0f} people at {cost / would_add:,.2f} per person"
    if load_cap is not None:
        per_person += f" (capacity {load_cap[1]:,.0f})"
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

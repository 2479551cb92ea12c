"""Why a selection is infeasible, and the smallest relaxation that fixes it.

Two steps, both reported as an ``explanation`` dict in plain words:

1. **Cheap proofs before solving** (:func:`cheap_proofs`), each a one-line argument:

   * a unit is both must-keep and excluded (or below the minimum score);
   * the must-keep units alone cost more than the budget;
   * the ratio standards need more units in a region than it has eligible, or their
     cheapest possible units plus the must-keep units cost more than the budget;
   * a region's floor (or the overall target) exceeds the share of its population that
     *all* eligible units together reach.

2. **Elastic models after an infeasible solve** (:func:`explain`). The model is solved
   again three times, each time with one family of constraints made elastic (a
   non-negative slack with a cost) and everything else kept:

   * ``budget``: minimise the extra budget ``e`` in ``sum c_j x_j <= B + e``;
   * floors, ratio standards and the target: minimise the total shortfall, in share
     points for floors and the target (``sum_g d_g / P_g``) and in units for ratios;
   * must-keep units: minimise the number of must-keep units dropped.

   Each feasible option is an alternative (any one of them is enough): ``options`` lists
   them all, smallest relative change first (extra budget / budget, shortfall in share
   points, dropped / must-keep units), ``relax`` says them all in one sentence ("A; or
   B; or C") and ``constraint`` names the first. Cheap proofs list their alternatives
   the same way when there are several (must-keep units over the budget: add budget or
   drop must-keep units).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from optimizer.select.model import LinearModel, ModelSpec
from optimizer.select.problem import SelectionProblem
from optimizer.select.solvers import solve_model


def cheap_proofs(problem: SelectionProblem, spec: ModelSpec, eligible: np.ndarray, must_keep: np.ndarray) -> dict | None:
    """Return an explanation if a one-line argument proves infeasibility, else None."""
    ids = problem.unit_ids
    bad = must_keep & ~eligible
    if bad.any():
        names = list(ids[bad])
        return {
            "constraint": "must_keep",
            "proof": "a must-keep unit is not eligible",
            "relax": f"units {names} are must-keep but excluded or below the minimum score: remove them from one of the lists",
            "units": names,
        }
    keep_cost = float(problem.cost[must_keep].sum())
    if spec.budget is not None and keep_cost > spec.budget + 1e-9:
        add = {
            "constraint": "budget",
            "relax": f"add at least {keep_cost - spec.budget:,.2f} to the budget (must-keep units cost {keep_cost:,.2f}, budget {spec.budget:,.2f})",
            "extra_budget": keep_cost - spec.budget,
        }
        # fewest must-keep units to drop: the most expensive first (exact for the count)
        keep_pos = np.flatnonzero(must_keep)
        order = keep_pos[np.argsort(-problem.cost[keep_pos], kind="stable")]
        n_drop = int(np.searchsorted(np.cumsum(problem.cost[order]), keep_cost - spec.budget - 1e-9, side="left")) + 1
        names = list(ids[order[:n_drop]])
        drop = {
            "constraint": "must_keep",
            "relax": f"drop {n_drop} must-keep unit{'s' if n_drop > 1 else ''} (at least; e.g. the most expensive: {', '.join(names)})",
            "units": names,
        }
        return _with_options(
            {
                "constraint": "budget",
                "proof": "the must-keep units alone cost more than the budget",
                "budget_needed": keep_cost,
                "must_keep_cost": keep_cost,
            },
            [add, drop],
        )
    if spec.ratio_units is not None:
        extra_cost = 0.0
        for g in np.flatnonzero(spec.ratio_units > 0):
            in_region = problem.unit_region == g
            need = int(spec.ratio_units[g])
            have = int((in_region & eligible).sum())
            name = problem.regions[g]
            if have < need:
                return {
                    "constraint": f"ratio[{name}]",
                    "proof": "the ratio standard needs more units than the region has eligible",
                    "relax": f"region {name!r} needs {need} units for its ratio standard but has only {have} eligible: lower its standard to at most {have / max(problem.population_by_region.iloc[g], 1e-9) * 1e5:.3g} per 100,000",
                    "required_units": need,
                    "eligible_units": have,
                }
            kept = int((in_region & must_keep).sum())
            free = np.sort(problem.cost[in_region & eligible & ~must_keep])
            extra_cost += float(free[: max(0, need - kept)].sum())
        if spec.budget is not None and keep_cost + extra_cost > spec.budget + 1e-9:
            total = keep_cost + extra_cost
            return _with_options(
                {
                    "constraint": "budget",
                    "proof": "the cheapest units meeting the ratio standards plus the must-keep units cost more than the budget",
                    "budget_needed": total,
                },
                [
                    {"constraint": "budget", "relax": f"add at least {total - spec.budget:,.2f} to the budget (ratio standards need at least {total:,.2f})", "extra_budget": total - spec.budget},
                    {"constraint": "ratio", "relax": "lower the ratio standards"},
                    *([{"constraint": "must_keep", "relax": "drop must-keep units"}] if must_keep.any() else []),
                ],
            )
    floors = spec.floors if spec.floors is not None else np.full(len(problem.regions), np.nan)
    if spec.target is not None or not np.isnan(floors).all():
        reach = reachable_by_region(problem, eligible)
        region_pop = problem.population_by_region.to_numpy()
        for g in np.flatnonzero(~np.isnan(floors)):
            share = reach[g] / region_pop[g] if region_pop[g] > 0 else 1.0
            if share < floors[g] - 1e-12:
                name = problem.regions[g]
                return {
                    "constraint": f"floor[{name}]",
                    "proof": "no eligible units reach enough of the region's population",
                    "relax": f"lower the floor of region {name!r} from {floors[g]:.1%} to at most {share:.1%}: all eligible units together reach only that share",
                    "floor": float(floors[g]),
                    "max_share": float(share),
                }
        if spec.target is not None:
            total = float(problem.population.sum())
            share = _reachable_total(problem, eligible) / total if total > 0 else 1.0
            if share < spec.target - 1e-12:
                return {
                    "constraint": "target",
                    "proof": "all eligible units together do not reach the target share",
                    "relax": f"lower the target from {spec.target:.1%} to at most {share:.1%}",
                    "target": float(spec.target),
                    "max_share": float(share),
                }
    return None


def _with_options(head: dict, options: list[dict]) -> dict:
    """``head`` plus every alternative relaxation: ``options`` (smallest first) and a
    ``relax`` sentence listing them all ("A; or B; or C")."""
    out = dict(head)
    out.setdefault("constraint", options[0]["constraint"])
    out["relax"] = "; or ".join(o["relax"] for o in options)
    out["options"] = options
    return out


def _covered_weighted(problem: SelectionProblem, selected: np.ndarray) -> np.ndarray:
    """Service-weighted covered population of each demand point for a unit mask."""
    m = problem.coverage.matrix.astype(np.int32)
    out = np.zeros(len(problem.demand_ids))
    for k, w in enumerate(problem.service_weights):
        hit = (m @ (selected & (problem.unit_service == k)).astype(np.int32)) > 0
        out += w * problem.population * hit
    return out


def reachable_by_region(problem: SelectionProblem, eligible: np.ndarray) -> np.ndarray:
    """Population per region reached by at least one eligible unit (service-weighted)."""
    cov = _covered_weighted(problem, eligible)
    known = problem.demand_region >= 0
    return np.bincount(problem.demand_region[known], weights=cov[known], minlength=len(problem.regions))


def _reachable_total(problem: SelectionProblem, eligible: np.ndarray) -> float:
    return float(_covered_weighted(problem, eligible).sum())


def _elastic(model: LinearModel, rows: np.ndarray, signs: np.ndarray, weights: np.ndarray) -> LinearModel:
    """Add one slack column per listed row (``sign`` +1 for >= rows, -1 for <= rows) and
    minimise ``sum weights * slack``."""
    n_rows, n_cols = model.matrix.shape
    k = len(rows)
    extra = sp.csr_array((signs.astype(float), (rows, np.arange(k))), shape=(n_rows, k))
    matrix = sp.csr_array(sp.hstack([model.matrix, extra], format="csr"))
    objective = np.concatenate([np.zeros(n_cols), weights])
    return replace(
        model,
        matrix=matrix,
        objective=objective,
        offset=0.0,
        maximize=False,
        col_lower=np.concatenate([model.col_lower, np.zeros(k)]),
        col_upper=np.concatenate([model.col_upper, np.full(k, math.inf)]),
        integer=np.concatenate([model.integer, np.zeros(k, dtype=bool)]),
        col_names=[*model.col_names, *(f"slack[{model.row_names[r]}]" for r in rows)],
        covered=sp.csr_array((model.covered.shape[0], n_cols + k)),
    )


def explain(
    problem: SelectionProblem,
    spec: ModelSpec,
    build: Callable[[bool], LinearModel],
    *,
    time_limit: float | None = None,
) -> dict:
    """Explain an infeasible model by its smallest relaxation (see the module docstring).

    ``build(relax_must_keep)`` returns the stage-1 model; with ``True`` the rows covered
    by must-keep units are kept in the model so must-keep units can be dropped.
    """
    model = build(False)
    names = model.row_names
    options: list[dict] = []
    per_call = None if time_limit is None else time_limit / 3.0

    if "budget" in names:
        r = names.index("budget")
        out = solve_model(_elastic(model, np.array([r]), np.array([-1]), np.array([1.0])), time_limit=per_call)
        if out.values is not None:
            extra = float(out.values[-1])
            options.append(
                {
                    "constraint": "budget",
                    "relax": f"add {extra:,.2f} to the budget (from {spec.budget:,.2f} to {spec.budget + extra:,.2f})",
                    "extra_budget": extra,
                    "size": extra / max(spec.budget, 1e-9),
                }
            )
    soft = [i for i, n in enumerate(names) if n.startswith(("floor[", "ratio[")) or n == "target"]
    if soft:
        region_pop = problem.population_by_region
        total = float(problem.population.sum())
        weights = []
        for i in soft:
            n = names[i]
            if n.startswith("floor["):
                weights.append(1.0 / max(float(region_pop[n[6:-1]]), 1e-9))
            elif n == "target":
                weights.append(1.0 / max(total, 1e-9))
            else:
                weights.append(1.0)
        w = np.array(weights)
        out = solve_model(_elastic(model, np.array(soft), np.ones(len(soft)), w), time_limit=per_call)
        if out.values is not None:
            slack = out.values[model.matrix.shape[1] :]
            changes = []
            for i, s, wi in zip(soft, slack, w, strict=True):
                if s <= 1e-7:
                    continue
                n = names[i]
                if n.startswith("floor["):
                    g = problem.regions.get_loc(n[6:-1])
                    new = spec.floors[g] - s * wi
                    changes.append({"constraint": n, "relax": f"lower the floor of region {n[6:-1]!r} from {spec.floors[g]:.1%} to {new:.1%}", "to": float(new)})
                elif n == "target":
                    changes.append({"constraint": n, "relax": f"lower the target from {spec.target:.1%} to {spec.target - s * wi:.1%}", "to": float(spec.target - s * wi)})
                else:
                    changes.append({"constraint": n, "relax": f"require {math.ceil(s - 1e-7)} fewer units for {n}", "fewer_units": math.ceil(s - 1e-7)})
            if changes:
                options.append(
                    {
                        "constraint": ", ".join(c["constraint"] for c in changes),
                        "relax": "; ".join(c["relax"] for c in changes),
                        "changes": changes,
                        "size": float(np.sum(slack * w)),
                    }
                )
    full = build(True)
    keep_cols = np.flatnonzero(full.col_lower[: full.n_x] > 0.5)
    if len(keep_cols):
        relaxed = replace(full, col_lower=np.where(np.arange(len(full.col_lower)) < full.n_x, 0.0, full.col_lower))
        obj = np.zeros(full.matrix.shape[1])
        obj[keep_cols] = 1.0
        out = solve_model(relaxed.with_objective(obj, maximize=True), time_limit=per_call)
        if out.values is not None:
            dropped = keep_cols[out.values[keep_cols] < 0.5]
            ids = list(problem.unit_ids[full.units[dropped]])
            if ids:
                options.append(
                    {
                        "constraint": "must_keep",
                        "relax": f"drop {len(ids)} must-keep unit{'s' if len(ids) > 1 else ''}: {', '.join(ids)}",
                        "units": ids,
                        "size": len(ids) / len(keep_cols),
                    }
                )
    if not options:
        return {
            "constraint": "unknown",
            "relax": "no single family of constraints (budget, floors and standards, must-keep units) explains it; relax several",
            "proof": "elastic models",
        }
    options.sort(key=lambda o: o["size"])
    listed = [{k: v for k, v in o.items() if k != "size"} for o in options]
    primary = {k: v for k, v in options[0].items() if k != "size"}
    primary["proof"] = "elastic models (smallest relaxation of each family of constraints; any one of them is enough)"
    return _with_options(primary, listed)

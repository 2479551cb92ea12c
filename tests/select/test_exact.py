"""The MILP optimum equals an independent brute force over every subset of units.

Oracle: enumerate all ``2^m`` subsets (m <= 14) and evaluate each directly from the dense
relation (``conftest.brute_force``), then apply the stages lexicographically. This is the
oracle recommended by the project style guide (point 10) for budgeted maximal coverage
(Church & ReVelle 1974) and its variants.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.select import build_problem, solve

SEEDS = list(range(24))


def _setup(seed, factory, **kw):
    rng = np.random.default_rng(1000 + seed)
    m = int(rng.integers(6, 15))
    inst = factory(seed, m=m, n=int(rng.integers(15, 45)), density=float(rng.uniform(0.1, 0.35)), **kw)
    return rng, inst


@pytest.mark.parametrize("spend", ["needed", "all"])
@pytest.mark.parametrize("seed", SEEDS)
def test_coverage_lexicographic_equals_brute_force(seed, spend, instance_factory, brute, lexi):
    """Stages: max need coverage, then the quality of coverage (the best selected score
    in reach of each person, need-weighted; ``spend="all"``: the total score of the
    selected units, the behaviour before the stage redesign), then min cost; with
    floors, must-keeps, a ratio standard, need weights and (for some seeds) two
    services."""
    rng, inst = _setup(seed, instance_factory, services=2 if seed % 4 == 3 else 1, need=seed % 3 == 0)
    b = brute(inst)
    budget = float(rng.uniform(0.2, 0.6) * inst.units["cost"].sum())
    keep = [inst.units.index[int(rng.integers(len(inst.units)))]] if seed % 2 else []
    keep_mask = inst.units.index.isin(keep)
    floors = None
    feasible = (b.cost <= budget + 1e-9) & b.subsets[:, keep_mask].all(axis=1)
    if seed % 3 == 1:
        floors = float(np.round(0.5 * b.region_share[feasible].min(axis=1).max(), 3))
        feasible &= (b.region_share >= floors - 1e-12).all(axis=1)
    ratio = None
    if seed % 5 == 2:
        ratio = float(1e5 / inst.demand["population"].sum())  # >= 1 unit in the region ...
        pop_by_region = inst.demand.groupby("region")["population"].sum()
        need_units = np.ceil(ratio * pop_by_region / 1e5 - 1e-9).reindex(b.regions).fillna(0).to_numpy()
        feasible &= (b.region_units >= need_units[None, :]).all(axis=1)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, budget=budget, must_keep=keep, floors=floors, ratio_standards=ratio, spend=spend)
    second = b.quality if spend == "needed" else b.score
    best = lexi([(b.need_covered, True), (second, True), (b.cost, False)], feasible)
    if not len(best):
        assert res.status == "infeasible"
        return
    assert res.status == "optimal"
    assert res.gap == 0.0
    k = best[0]
    np.testing.assert_allclose(res.covered_need, b.need_covered[k], rtol=1e-9)
    np.testing.assert_allclose(res.objective["quality" if spend == "needed" else "score"], second[k], rtol=1e-9)
    np.testing.assert_allclose(res.total_cost, b.cost[k], rtol=1e-9)
    chosen = inst.units.index.isin(res.selected)
    assert any((b.subsets[i] == chosen).all() for i in best)
    if spend == "needed":
        # the spending report's least cost of any selection with the optimal coverage
        top = feasible & (np.abs(b.need_covered - b.need_covered[k]) <= 1e-9 * max(1.0, b.need_covered[k]))
        np.testing.assert_allclose(res.spending["cheapest_for_coverage"], b.cost[top].min(), rtol=1e-9)
        assert res.spending["cheapest_for_coverage"] <= res.total_cost + 1e-9


@pytest.mark.parametrize("seed", SEEDS[:20])
def test_quality_coverage_equals_brute_force(seed, instance_factory, brute, lexi):
    """Each person counts with the best selected score in reach; then min cost."""
    rng, inst = _setup(seed, instance_factory)
    b = brute(inst)
    budget = float(rng.uniform(0.2, 0.6) * inst.units["cost"].sum())
    keep = [inst.units.index[0]] if seed % 3 == 0 else []
    feasible = (b.cost <= budget + 1e-9) & (b.subsets[:, 0] if keep else True)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, budget=budget, objective="quality-coverage", must_keep=keep)
    best = lexi([(b.quality, True), (b.cost, False)], feasible)
    assert res.status == "optimal"
    k = best[0]
    np.testing.assert_allclose(res.objective["quality"], b.quality[k], rtol=1e-9)
    np.testing.assert_allclose(res.total_cost, b.cost[k], rtol=1e-9)


@pytest.mark.parametrize("seed", SEEDS[:20])
def test_min_cost_equals_brute_force(seed, instance_factory, brute, lexi):
    """Cheapest set reaching a target share (and per-region floors); then max coverage."""
    rng, inst = _setup(seed, instance_factory, need=seed % 2 == 0)
    b = brute(inst)
    total = inst.demand["population"].sum()
    max_share = b.pop_covered.max() / total
    target = float(np.round(rng.uniform(0.3, 0.95) * max_share, 3))
    floors = 0.3 if seed % 4 == 0 else None
    feasible = b.pop_covered >= target * total - 1e-9
    if floors is not None:
        feasible &= (b.region_share >= floors - 1e-12).all(axis=1)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, objective="min-cost", target=target, floors=floors)
    best = lexi([(b.cost, False), (b.need_covered, True)], feasible)
    if not len(best):
        assert res.status == "infeasible"
        return
    assert res.status == "optimal"
    np.testing.assert_allclose(res.total_cost, b.cost[best[0]], rtol=1e-9)
    np.testing.assert_allclose(res.covered_need, b.need_covered[best[0]], rtol=1e-9)
    assert res.coverage_share >= target - 1e-9


def test_two_services_with_weights_equal_brute_force(instance_factory, brute, lexi):
    """Lab and imaging share one budget; imaging counts three times as much."""
    inst = instance_factory(77, m=12, n=30, services=2)
    weights = {"s0": 1.0, "s1": 3.0}
    b = brute(inst, weights)
    budget = 0.4 * inst.units["cost"].sum()
    problem = build_problem(inst.units, inst.demand, inst.coverage, service_weights=weights)
    res = solve(problem, budget=budget)
    best = lexi([(b.need_covered, True), (b.quality, True), (b.cost, False)], b.cost <= budget + 1e-9)
    np.testing.assert_allclose(res.covered_need, b.need_covered[best[0]], rtol=1e-9)
    assert set(res.by_service.index) == {"s0", "s1"}
    np.testing.assert_allclose(res.by_service["weight"].to_numpy(), [0.25, 0.75])


def test_capacity_equals_brute_force_with_assignment_lp(instance_factory):
    """With capacities, each subset's best service is a transportation LP (scipy linprog),
    solved independently for every subset."""
    from scipy.optimize import linprog

    inst = instance_factory(5, m=7, n=12, density=0.4, capacity=True, need=True)
    a = inst.dense
    pop = inst.demand["population"].to_numpy()
    ratio = inst.demand["need"].to_numpy() / pop
    cap = inst.units["capacity"].to_numpy()
    cost = inst.units["cost"].to_numpy()
    budget = 0.5 * cost.sum()
    pairs = np.argwhere(a)
    best = 0.0
    for mask in range(2**7):
        sel = ((mask >> np.arange(7)) & 1).astype(bool)
        if cost[sel].sum() > budget:
            continue
        use = pairs[sel[pairs[:, 1]]]
        if not len(use):
            continue
        c = -ratio[use[:, 0]]
        a_ub = np.zeros((len(pop) + 7, len(use)))
        a_ub[use[:, 0], np.arange(len(use))] = 1
        a_ub[len(pop) + use[:, 1], np.arange(len(use))] = 1
        b_ub = np.concatenate([pop, cap])
        lp = linprog(c, A_ub=a_ub, b_ub=b_ub, bounds=(0, None), method="highs")
        best = max(best, -lp.fun)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, budget=budget, capacity=True)
    assert res.status == "optimal"
    np.testing.assert_allclose(res.stages["coverage"]["value"], best, rtol=1e-7)

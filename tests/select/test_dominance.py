"""Dominance reductions never cut off an optimum, whatever counts units.

A unit dominated by another (it reaches a subset of the other's people and costs no
less) may still be needed when a constraint counts units (ratio standards: minimum
units per 100,000 people in a region) or when a later lexicographic stage maximises the
total score of the selected units. Oracle: brute force over every subset of units
(``conftest.brute_force``), evaluated directly on the dense relation; the instances are
built so that most units are dominated (copies and subsets of a few "strong" units,
costing at least as much), which is exactly the case the reduction must handle.
Regression for the demo scenario with ``ratio_standards = { urban = 1.0, default = 0.5 }``,
which was wrongly reported infeasible ("require 1 fewer units for ratio[C042]").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from optimizer.geo.relation import Coverage
from optimizer.select import build_problem, solve
from optimizer.select.problem import SelectionProblem
from optimizer.select.solve import SelectionOptions, _reduction, validate_options

from .conftest import Instance


def dominated_instance(seed: int, m: int = 11, n: int = 30) -> Instance:
    """A few strong units; every other unit reaches a subset of one strong unit's demand
    points and costs at least as much (integer data, two regions)."""
    rng = np.random.default_rng(seed)
    strong = 3
    dense = np.zeros((n, m), dtype=bool)
    dense[:, :strong] = rng.random((n, strong)) < 0.35
    cost = np.zeros(m)
    cost[:strong] = rng.integers(2, 6, strong)
    region = np.array([f"r{rng.integers(2)}" for _ in range(m)], dtype=object)
    for j in range(strong, m):
        k = int(rng.integers(strong))
        dense[:, j] = dense[:, k] & (rng.random(n) < 0.7)
        cost[j] = cost[k] + int(rng.integers(0, 3))
        if rng.random() < 0.6:
            region[j] = region[k]
    unit_ids = [f"u{j}" for j in range(m)]
    demand_ids = [f"d{i}" for i in range(n)]
    units = pd.DataFrame({"cost": cost, "score": rng.integers(1, 10, m) / 10.0, "region": region}, index=unit_ids)
    population = rng.integers(1, 100, n).astype(float)
    demand = pd.DataFrame({"population": population, "region": [f"r{i % 2}" for i in range(n)]}, index=demand_ids)
    return Instance(units, demand, Coverage(pd.Index(demand_ids), pd.Index(unit_ids), sp.csr_array(dense)), dense)


def test_instances_really_have_dominated_units():
    """Guard: the reduction would drop units here if it ignored the ratio standards."""
    inst = dominated_instance(0)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    spec, eligible, keep, _ = validate_options(problem, SelectionOptions(budget=20.0))
    assert len(_reduction(problem, spec, eligible, keep, dominate=True).dominated_by) >= 3


@pytest.mark.parametrize("seed", range(16))
def test_ratio_standards_with_dominated_units_equal_brute_force(seed, brute, lexi):
    """Ratio standards need 2-4 units per region; dominated units fill them."""
    inst = dominated_instance(seed)
    b = brute(inst)
    rng = np.random.default_rng(500 + seed)
    pop_by_region = inst.demand.groupby("region")["population"].sum()
    want = {r: int(rng.integers(2, 5)) for r in pop_by_region.index}
    # per-100k standard that needs exactly want[r] units: ceil(rho * P / 1e5) = want
    ratio = {r: (want[r] - 0.5) * 1e5 / pop_by_region[r] for r in pop_by_region.index}
    need_units = np.array([want.get(r, 0) for r in b.regions])
    budget = float(rng.uniform(0.35, 0.7) * inst.units["cost"].sum())
    keep = [inst.units.index[int(rng.integers(len(inst.units)))]] if seed % 3 == 1 else []
    feasible = (b.cost <= budget + 1e-9) & (b.region_units >= need_units[None, :]).all(axis=1)
    feasible &= b.subsets[:, inst.units.index.isin(keep)].all(axis=1)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, budget=budget, ratio_standards=ratio, must_keep=keep)
    best = lexi([(b.need_covered, True), (b.quality, True), (b.cost, False)], feasible)
    if not len(best):
        assert res.status == "infeasible"
        return
    assert res.status == "optimal", res.explanation
    k = best[0]
    np.testing.assert_allclose(res.covered_need, b.need_covered[k], rtol=1e-9)
    np.testing.assert_allclose(res.objective["quality"], b.quality[k], rtol=1e-9)
    np.testing.assert_allclose(res.total_cost, b.cost[k], rtol=1e-9)
    assert bool(res.by_region["ratio_met"].all())


@pytest.mark.parametrize("seed", range(8))
def test_score_stage_keeps_units_that_reach_only_covered_people(seed, brute, lexi):
    """A must-keep unit covers everything some units reach; those units add no coverage
    but can still raise the total score with leftover budget (stage 2 with
    ``spend="all"``)."""
    inst = dominated_instance(100 + seed)
    b = brute(inst)
    keep = ["u0", "u1", "u2"]
    budget = float(inst.units["cost"].iloc[:3].sum() + 4 + seed)
    feasible = (b.cost <= budget + 1e-9) & b.subsets[:, :3].all(axis=1)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, budget=budget, must_keep=keep, spend="all")
    best = lexi([(b.need_covered, True), (b.score, True), (b.cost, False)], feasible)
    assert res.status == "optimal"
    np.testing.assert_allclose(res.objective["score"], b.score[best[0]], rtol=1e-9)
    np.testing.assert_allclose(res.total_cost, b.cost[best[0]], rtol=1e-9)


@pytest.mark.parametrize("seed", range(8))
def test_quality_and_min_cost_with_ratio_and_dominated_units(seed, brute, lexi):
    """The same instances in the quality-coverage and min-cost modes."""
    inst = dominated_instance(200 + seed)
    b = brute(inst)
    pop_by_region = inst.demand.groupby("region")["population"].sum()
    ratio = {r: 2.5 * 1e5 / pop_by_region[r] for r in pop_by_region.index}  # 3 units each
    need_units = np.array([3 if r in ratio else 0 for r in b.regions])
    ok_units = (b.region_units >= need_units[None, :]).all(axis=1)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    budget = float(0.6 * inst.units["cost"].sum())
    res = solve(problem, budget=budget, objective="quality-coverage", ratio_standards=ratio)
    best = lexi([(b.quality, True), (b.cost, False)], ok_units & (b.cost <= budget + 1e-9))
    if len(best):
        assert res.status == "optimal"
        np.testing.assert_allclose(res.objective["quality"], b.quality[best[0]], rtol=1e-9)
        np.testing.assert_allclose(res.total_cost, b.cost[best[0]], rtol=1e-9)
    total = inst.demand["population"].sum()
    target = float(np.round(0.5 * b.pop_covered.max() / total, 3))
    res = solve(problem, objective="min-cost", target=target, ratio_standards=ratio)
    best = lexi([(b.cost, False), (b.need_covered, True)], ok_units & (b.pop_covered >= target * total - 1e-9))
    if not len(best):
        assert res.status == "infeasible"
        return
    assert res.status == "optimal"
    np.testing.assert_allclose(res.total_cost, b.cost[best[0]], rtol=1e-9)
    np.testing.assert_allclose(res.covered_need, b.need_covered[best[0]], rtol=1e-9)


def test_dominance_skips_units_counted_by_a_ratio_standard():
    """Unit-level check: with a standard in region r0 only (2 units), units of r0 are
    never dropped as dominated (b is dominated by a, but both are needed); dominated
    units of r1 still are (c is a's twin, d costs more than a and reaches less)."""
    dense = np.array([[1, 1, 1, 1], [1, 0, 1, 0], [1, 1, 1, 1]], dtype=bool)
    units = pd.DataFrame({"cost": [1.0, 2.0, 1.0, 2.0], "region": ["r0", "r0", "r1", "r1"]}, index=["a", "b", "c", "d"])
    demand = pd.DataFrame({"population": [10.0, 20.0, 30.0], "region": ["r0", "r0", "r1"]}, index=["x", "y", "z"])
    problem: SelectionProblem = build_problem(units, demand, Coverage(demand.index, units.index, sp.csr_array(dense)))
    spec, eligible, keep, _ = validate_options(problem, SelectionOptions(budget=3.0, ratio_standards={"r0": 1.5 * 1e5 / 30}))
    red = _reduction(problem, spec, eligible, keep, dominate=True)
    dropped = {problem.unit_ids[j] for j in red.dominated_by}
    assert dropped == {"c", "d"}
    res = solve(problem, budget=3.0, ratio_standards={"r0": 1.5 * 1e5 / 30})
    assert res.status == "optimal"
    assert sorted(res.selected) == ["a", "b"]


@pytest.mark.parametrize("seed", range(6))
def test_compacted_sub_mips_equal_brute_force(seed, instance_factory, brute, lexi, monkeypatch):
    """The sub-MIPs and the final MIP run on a compacted model (fixed units out, rows
    merged again, dominance re-applied); the optimum still equals the brute force, and
    the compacted path is really taken (spied)."""
    import optimizer.select.solvers as solvers

    calls = []
    real = solvers._run_fixed

    def spy(model, lower, upper, compact, *args, **kwargs):
        calls.append(compact is not None)
        return real(model, lower, upper, compact, *args, **kwargs)

    monkeypatch.setattr(solvers, "_run_fixed", spy)
    inst = instance_factory(300 + seed, m=14, n=120, density=0.12, score=False)
    b = brute(inst)
    budget = float(np.round(0.3 * inst.units["cost"].sum()) + 0.5)
    res = solve(build_problem(inst.units, inst.demand, inst.coverage), budget=budget, lexicographic=False)
    best = lexi([(b.need_covered, True)], b.cost <= budget + 1e-9)
    assert res.status == "optimal"
    np.testing.assert_allclose(res.covered_need, b.need_covered[best[0]], rtol=1e-12)
    assert all(calls)

"""Time limits too short for the reductions and the model: the quick greedy answer.

The rates that steer the limit are forced huge here, so small instances behave as a
national one under a limit of a few seconds would; no timing is asserted.
"""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.select import build_problem, solve
from optimizer.select.solve import solve_options


def _force_quick(monkeypatch):
    monkeypatch.setitem(solve_options.__globals__, "PREPARE_SECONDS_PER_NONZERO", 1e6)


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_quick_answer_is_feasible_with_a_valid_bound(seed, instance_factory, brute, monkeypatch):
    """Without time for the reductions and the model, the answer is the greedy's
    selection: within the budget, with the must-keep unit and without the excluded one,
    worth at most the brute-force optimum under those constraints, and reported with the
    trivial bound (at least that optimum) and the gap between the two."""
    inst = instance_factory(seed, m=12, n=60, density=0.15, score=False, need=True)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    _force_quick(monkeypatch)
    budget = 0.3 * inst.units["cost"].sum()
    res = solve(problem, budget=budget, must_keep=["u1"], exclude=["u2"], time_limit=30.0)
    allowed = (b.cost <= budget + 1e-9) & b.subsets[:, 1] & ~b.subsets[:, 2]
    opt = b.need_covered[allowed].max()
    assert res.status == "time_limit" and res.solver == "greedy"
    assert "too short for the reductions" in res.stages["coverage"]["solver_status"]
    assert res.total_cost <= budget + 1e-9
    assert "u1" in res.selected and "u2" not in res.selected
    assert 0 < res.covered_need <= opt + 1e-6
    assert res.objective["coverage"] == pytest.approx(res.covered_need)
    assert res.bound >= opt - 1e-6
    assert res.gap == pytest.approx((res.bound - res.covered_need) / res.covered_need)


def test_quick_answer_fills_the_budget(instance_factory, monkeypatch):
    """The greedy's selection leaves no affordable unit out that would add coverage."""
    inst = instance_factory(11, m=12, n=60, density=0.15, score=False)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    _force_quick(monkeypatch)
    budget = 0.3 * inst.units["cost"].sum()
    res = solve(problem, budget=budget, time_limit=30.0)
    chosen = inst.units.index.isin(res.selected)
    covered = (inst.dense[:, chosen]).any(axis=1)
    left = budget - res.total_cost
    adds = (inst.dense[~covered][:, ~chosen]).any(axis=0)
    assert not (adds & (inst.units["cost"].to_numpy()[~chosen] <= left + 1e-9)).any()


def test_quick_answer_only_without_the_model_and_with_a_limit(instance_factory, brute, monkeypatch):
    """No limit, options other than plain budgeted coverage, or a model already built
    (a budget sweep): the usual path, proven optimal at the brute-force optimum."""
    inst = instance_factory(21, m=12, n=60, density=0.15, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    _force_quick(monkeypatch)
    budget = 0.3 * inst.units["cost"].sum()
    opt = b.need_covered[b.cost <= budget + 1e-9].max()
    floors = solve(problem, budget=budget, floors=0.0, time_limit=30.0, lexicographic=False)
    assert floors.status == "optimal"
    unlimited = solve(problem, budget=budget, lexicographic=False)
    assert unlimited.status == "optimal" and unlimited.covered_need == pytest.approx(opt)
    # the model of these options is built now: a limited solve uses it
    again = solve(problem, budget=budget, time_limit=30.0, lexicographic=False)
    assert again.status == "optimal" and again.covered_need == pytest.approx(opt)
    fresh = build_problem(inst.units, inst.demand, inst.coverage)
    assert solve(fresh, budget=budget, time_limit=30.0, lexicographic=False).status == "time_limit"


def test_quick_answer_counts_only_rows_eligible_units_reach_in_the_bound(instance_factory, monkeypatch):
    """Rows that only an excluded unit reaches cannot be covered: the trivial bound
    leaves them out (and stays at least the best selection)."""
    inst = instance_factory(31, m=10, n=50, density=0.15, score=False)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    _force_quick(monkeypatch)
    res = solve(problem, budget=float(inst.units["cost"].sum()), exclude=["u0", "u3"], time_limit=30.0)
    eligible = ~inst.units.index.isin(["u0", "u3"])
    reachable = inst.dense[:, eligible].any(axis=1)
    assert res.bound == pytest.approx(float(inst.demand["population"].to_numpy()[reachable].sum()))
    # the whole budget: every eligible unit is taken, so the bound is reached
    assert res.covered_need == pytest.approx(res.bound)
    assert np.isclose(res.gap, 0.0)


def test_without_time_to_copy_the_rows_units_are_taken_by_their_coverage_alone(instance_factory, brute, monkeypatch):
    """With no time even for the column copy the greedy needs, the quick answer takes
    the units by coverage alone per cost (must-keep first, excluded never), within the
    budget, with the same valid bound."""
    inst = instance_factory(41, m=12, n=60, density=0.15, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    _force_quick(monkeypatch)
    monkeypatch.setitem(solve_options.__globals__, "COLUMNS_SECONDS_PER_NONZERO", 1e6)
    budget = 0.3 * inst.units["cost"].sum()
    res = solve(problem, budget=budget, must_keep=["u4"], exclude=["u7"], time_limit=30.0)
    cost = inst.units["cost"].to_numpy()
    alone = inst.dense.T.astype(float) @ inst.demand["population"].to_numpy()
    chosen = inst.units.index == "u4"
    left = budget - cost[chosen].sum()
    for j in sorted((j for j in range(12) if j not in (4, 7) and alone[j] > 0), key=lambda j: (-alone[j] / cost[j], j)):
        if cost[j] <= left + 1e-9:
            chosen[j] = True
            left -= cost[j]
    assert sorted(res.selected) == sorted(inst.units.index[chosen])
    allowed = (b.cost <= budget + 1e-9) & b.subsets[:, 4] & ~b.subsets[:, 7]
    assert res.status == "time_limit" and res.total_cost <= budget + 1e-9
    assert res.bound >= b.need_covered[allowed].max() - 1e-6


@pytest.mark.parametrize("seed", [0, 3])
def test_quick_answer_with_several_services_is_valued_as_the_model_values_it(seed, instance_factory, monkeypatch):
    """Two services with need weights: the quick answer's objective is the selection's
    need-weighted coverage as the result recomputes it, at most the proven optimum of
    the same problem, and its bound at least that optimum."""
    inst = instance_factory(seed, m=12, n=60, density=0.2, services=2, need=True, score=False)
    budget = 0.3 * inst.units["cost"].sum()
    exact = solve(build_problem(inst.units, inst.demand, inst.coverage), budget=budget, lexicographic=False)
    assert exact.status == "optimal"
    _force_quick(monkeypatch)
    quick = solve(build_problem(inst.units, inst.demand, inst.coverage), budget=budget, time_limit=30.0)
    assert quick.status == "time_limit"
    assert quick.objective["coverage"] == pytest.approx(quick.covered_need)
    assert quick.covered_need <= exact.covered_need + 1e-6
    assert quick.bound >= exact.covered_need - 1e-6


def test_national_scale_needs_time_for_the_first_aggregation_too(instance_factory, monkeypatch):
    """At national scale (forced: every model takes the aggregated route) the quick
    answer is taken when the reductions and the model fit the limit but the first
    aggregation would not fit after them (the route would skip it for a greedy cut
    short); below that scale the same limit leaves room for the usual path."""
    from optimizer.select.solve import SelectionOptions, _quick_needed, validate_options

    inst = instance_factory(31, m=12, n=60, density=0.15, score=False)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    nnz = problem.rows.matrix.nnz
    spec, eligible, must_keep, _ = validate_options(problem, SelectionOptions(budget=0.3 * inst.units["cost"].sum()))
    g = solve_options.__globals__
    monkeypatch.setitem(g, "PREPARE_SECONDS_PER_NONZERO", 1.0)
    monkeypatch.setitem(g, "DOMINANCE_SECONDS_PER_PAIR", 0.0)
    monkeypatch.setitem(g, "AGGREGATION_SECONDS_PER_NONZERO", 2.0)
    left = 3.0 * nnz  # prepare (nnz s) and as much again fit; prepare and 2 x 2 nnz s do not
    monkeypatch.setitem(g, "AGGREGATE_MIN_NONZEROS", 10**12)
    assert not _quick_needed(problem, spec, eligible, must_keep, left)
    monkeypatch.setitem(g, "AGGREGATE_MIN_NONZEROS", 0)
    assert _quick_needed(problem, spec, eligible, must_keep, left)
    assert not _quick_needed(problem, spec, eligible, must_keep, 5.5 * nnz)


@pytest.mark.parametrize("seed", range(6))
def test_final_mip_needs_less_time_on_a_small_model(seed, instance_factory, brute, monkeypatch):
    """The least time left for the final MIP scales with the model (the direct path): a
    minimum forced far above any limit still lets a small model's MIP run (proven at
    the brute-force optimum); forcing the per-nonzero rate up instead skips it, and the
    answer is then the incumbent with a valid bound."""
    import optimizer.select.solvers as solvers

    inst = instance_factory(60 + seed, m=12, n=60, density=0.15, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    budget = 0.35 * inst.units["cost"].sum()
    opt = b.need_covered[b.cost <= budget + 1e-9].max()
    monkeypatch.setattr(solvers, "MIN_MIP_SECONDS", 1e6)
    res = solve(problem, budget=budget, time_limit=30.0, lexicographic=False)
    assert res.status == "optimal" and res.covered_need == pytest.approx(opt)
    monkeypatch.setattr(solvers, "MIN_MIP_SECONDS_PER_NONZERO", 1e6)
    skipped = solve(build_problem(inst.units, inst.demand, inst.coverage), budget=budget, time_limit=30.0, lexicographic=False)
    assert skipped.covered_need <= opt + 1e-6 and skipped.bound >= opt - 1e-6
    assert skipped.status == "time_limit" and "before the final MIP" in skipped.stages["coverage"]["solver_status"]

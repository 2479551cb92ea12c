"""Infeasible selections are proved cheaply when possible, else explained by the smallest
relaxation found with an elastic model, checked against a brute force over all subsets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from optimizer.geo.relation import Coverage
from optimizer.select import build_problem, solve


def test_must_keep_costs_more_than_budget(instance_factory):
    inst = instance_factory(1, m=8, n=20)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    keep = list(inst.units.index[:3])
    cost = inst.units.loc[keep, "cost"].sum()
    res = solve(problem, budget=cost - 0.5, must_keep=keep)
    assert res.status == "infeasible"
    assert res.explanation["constraint"] == "budget"
    assert res.explanation["budget_needed"] == pytest.approx(cost)
    assert len(res.selected) == 0
    assert res.to_dict()["explanation"]["relax"].startswith("add at least 0.50")
    # the alternative: dropping the most expensive must-keep unit is enough (0.5 over)
    options = {o["constraint"]: o for o in res.explanation["options"]}
    assert options["budget"]["extra_budget"] == pytest.approx(0.5)
    priciest = inst.units.loc[keep, "cost"].idxmax()
    assert options["must_keep"]["units"] == [priciest]
    assert "; or drop 1 must-keep unit" in res.explanation["relax"]


def test_floor_beyond_reach_of_all_eligible_units(instance_factory):
    inst = instance_factory(2, m=8, n=30, density=0.1)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    pop = inst.demand["population"].to_numpy()
    rows = inst.demand["region"].to_numpy() == "r0"
    reach = pop[rows & inst.dense.any(axis=1)].sum() / pop[rows].sum()
    res = solve(problem, budget=1e9, floors={"r0": min(1.0, reach + 0.01)})
    assert res.status == "infeasible"
    assert res.explanation["constraint"] == "floor[r0]"
    assert res.explanation["max_share"] == pytest.approx(reach)


def test_ratio_needs_more_units_than_eligible(instance_factory):
    inst = instance_factory(3, m=8, n=30)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, budget=1e9, ratio_standards=1e5)  # one unit per person
    assert res.status == "infeasible"
    assert res.explanation["constraint"].startswith("ratio[")


def test_target_beyond_reach(instance_factory):
    inst = instance_factory(4, m=8, n=30, density=0.1)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, objective="min-cost", target=1.0)
    assert res.status == "infeasible"
    assert res.explanation["constraint"] == "target"


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_elastic_budget_equals_brute_force_extra_cost(seed, instance_factory, brute):
    """Floors reachable with every unit but not within the budget: the extra budget is the
    cheapest subset meeting the floors minus the budget."""
    inst = instance_factory(seed, m=10, n=40, density=0.2)
    b = brute(inst)
    floor = float(np.round(b.region_share.min(axis=1).max() * 0.9, 3))
    meets = (b.region_share >= floor - 1e-12).all(axis=1)
    cheapest = b.cost[meets].min()
    budget = cheapest - 2.0
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, budget=budget, floors=floor)
    assert res.status == "infeasible"
    options = {o["constraint"]: o for o in res.explanation["options"]}
    assert options["budget"]["extra_budget"] == pytest.approx(2.0, abs=1e-6)
    assert any(k.startswith("floor[") for k in options)
    again = solve(problem, budget=budget + options["budget"]["extra_budget"] + 1e-6, floors=floor)
    assert again.status == "optimal"


def test_elastic_options_budget_floor_and_must_keep():
    """Hand-made case: u0, u1 (must keep) reach only region A; only u2 or u3 reach region B,
    whose floor is 50 %. Budget 20 = the two must-keep units. Relaxations: +10 budget,
    lower B's floor to 0 %, or drop one must-keep unit."""
    units = pd.DataFrame({"cost": [10.0, 10.0, 10.0, 12.0], "region": ["A", "A", "B", "B"]}, index=["u0", "u1", "u2", "u3"])
    demand = pd.DataFrame({"population": [100.0, 50.0, 80.0, 20.0], "region": ["A", "A", "B", "B"]}, index=["a1", "a2", "b1", "b2"])
    dense = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 0]], dtype=bool)
    cov = Coverage(demand.index, units.index, sp.csr_array(dense))
    problem = build_problem(units, demand, cov)
    res = solve(problem, budget=20.0, must_keep=["u0", "u1"], floors={"B": 0.5})
    assert res.status == "infeasible"
    options = {o["constraint"]: o for o in res.explanation["options"]}
    assert options["budget"]["extra_budget"] == pytest.approx(10.0)
    assert options["floor[B]"]["changes"][0]["to"] == pytest.approx(0.0, abs=1e-9)
    assert options["must_keep"]["units"] in (["u0"], ["u1"])
    # every alternative is said in the one sentence, smallest change first
    relax = res.explanation["relax"]
    assert relax.count("; or ") == 2
    assert "lower the floor of region 'B' from 50.0% to 0.0%" in relax
    assert "add 10.00 to the budget" in relax
    assert "drop 1 must-keep unit" in relax
    assert relax.startswith(res.explanation["options"][0]["relax"])

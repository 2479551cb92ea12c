"""The component Lagrangian bound (:mod:`optimizer.select.decompose`), checked against
brute force over every subset of units (independent of the model and of HiGHS)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.select import build_problem, solve
from optimizer.select.decompose import component_bound
from optimizer.select.solve import SelectionOptions, _model, _reduction, validate_options
from optimizer.select.solvers import _run_highs, _solve_component


def _setup(inst, budget):
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    spec, eligible, must_keep, _ = validate_options(problem, SelectionOptions(budget=budget))
    model, _ = _model(problem, _reduction(problem, spec, eligible, must_keep, dominate=True), spec)
    lp, duals = _run_highs(model.relaxed(), None, 0.0, None, False)
    return problem, model, lp, duals


def _model_space(brute, model, m):
    """Subsets that use only the model's units (the reductions removed the others)."""
    outside = np.setdiff1d(np.arange(m), model.units)
    return ~brute.subsets[:, outside].any(axis=1)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("unit_costs", [False, True])
def test_bound_and_fixings_are_valid(seed, unit_costs, instance_factory, brute):
    """For every budget: LP bound >= component bound >= optimum, and moving any unit off
    its best value caps the value at ``bound - slack`` (brute force over all subsets)."""
    inst = instance_factory(seed, m=12, n=60, density=0.08, score=False)
    if unit_costs:
        inst.units["cost"] = 1.0
    b = brute(inst)
    for share in (0.2, 0.35, 0.5):
        budget = share * inst.units["cost"].sum()
        _, model, lp, duals = _setup(inst, budget)
        split = component_bound(model, lp.values, duals.rows, _solve_component)
        ok = (b.cost <= budget + 1e-9) & _model_space(b, model, len(inst.units))
        opt = b.need_covered[ok].max()
        assert split.bound <= lp.objective + 1e-6 * max(1.0, lp.objective)
        assert split.bound >= opt - 1e-6
        for j, unit in enumerate(model.units):
            off = ok & (b.subsets[:, unit] != bool(split.best[j]))
            if off.any():
                assert b.need_covered[off].max() <= split.bound - split.slack[j] + 1e-6


def test_closes_an_lp_gap_the_lp_leaves_open(instance_factory, brute):
    """A p-unit instance (unit costs, p = 4 of 14) where the LP bound (1179.5) is above the
    optimum (1175, brute force) and the component bound meets it: the solve is proven
    optimal by the component bound, with the brute-force optimum."""
    inst = instance_factory(44, m=14, n=60, density=0.07, score=False)
    inst.units["cost"] = 1.0
    b = brute(inst)
    opt = b.need_covered[b.cost <= 4].max()
    assert opt == 1175.0
    _, model, lp, duals = _setup(inst, 4.0)
    assert lp.objective == pytest.approx(1179.5)
    split = component_bound(model, lp.values, duals.rows, _solve_component)
    assert split.fractional >= 1 and split.solved >= 1
    assert split.bound == pytest.approx(opt)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    res = solve(problem, budget=4.0, lexicographic=False)
    assert res.status == "optimal" and res.covered_need == opt
    assert "component Lagrangian bound" in res.stages["coverage"]["solver_status"]


def test_components_split_the_unit_row_graph():
    """Two blocks of units sharing rows, and a unit that shares none."""
    import scipy.sparse as sp

    from optimizer.select.decompose import components

    reach = sp.csr_array(np.array([[1, 1, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 1, 0]], dtype=bool))
    n, units, rows = components(reach, 5)
    assert n == 3
    assert units[0] == units[1] == rows[0] == rows[1]
    assert units[2] == units[3] == rows[2]
    assert len({units[0], units[2], units[4]}) == 3


@pytest.mark.parametrize("seed", range(6))
def test_bound_stays_valid_when_components_are_solved_aggregated(seed, instance_factory, brute, monkeypatch):
    """Every component solved on its aggregated relaxation first (forced here; at scale
    only components of 500+ rows are): LP bound >= component bound >= brute-force
    optimum, and the solve still proves the brute-force optimum."""
    from optimizer.select.solve import solve_model

    monkeypatch.setitem(solve_model.__globals__, "COMPONENT_AGGREGATE_MIN_ROWS", 0)
    solver = solve_model.__globals__["_solve_component"]
    inst = instance_factory(seed, m=12, n=90, density=0.12, score=False)
    inst.units["cost"] = 1.0
    b = brute(inst)
    for budget in (3.0, 5.0):
        problem, model, lp, duals = _setup(inst, budget)
        split = component_bound(model, lp.values, duals.rows, solver)
        ok = (b.cost <= budget + 1e-9) & _model_space(b, model, len(inst.units))
        opt = b.need_covered[ok].max()
        assert opt - 1e-6 <= split.bound <= lp.objective + 1e-6 * max(1.0, lp.objective)
        res = solve(problem, budget=budget, lexicographic=False)
        assert res.status == "optimal" and res.covered_need == pytest.approx(b.need_covered[b.cost <= budget + 1e-9].max())


def test_component_subproblem_through_aggregated_mip_rounds_is_exact(monkeypatch):
    """A component's Lagrangian subproblem (no budget, unit weights ``w - lam c`` that can
    be negative) solved on its aggregated relaxation's MIP rounds (forced for every
    size), on 12 seeded instances: the returned bound is at least the brute-force
    optimum over every subset, and without a time limit the returned solution reaches
    it. Some aggregated optimum overstates its solution, so the rounds do refine."""
    import scipy.sparse as sp

    import optimizer.select.solvers as solvers
    from optimizer.select.model import plain_coverage_model

    refined = []
    real_refine = solvers.refine
    monkeypatch.setattr(solvers, "COMPONENT_AGGREGATE_MIN_ROWS", 0)
    # the MIP rounds split into rows (no solution passed); the LP rounds pass one
    monkeypatch.setattr(solvers, "refine", lambda *a, **k: (len(a) == 4 and "x" not in k and refined.append(1)) or real_refine(*a, **k))
    n, rows = 11, 70
    subsets = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(float)
    for seed in range(12):
        rng = np.random.default_rng(1000 + seed)
        dense = rng.random((rows, n)) < 0.25
        dense[~dense.any(axis=1), 0] = True
        w_y = rng.integers(1, 60, rows).astype(float)
        w_x = -rng.uniform(20, 120, n)
        sub = plain_coverage_model(sp.csr_array(dense), w_x, w_y, np.zeros(n), np.ones(n))
        values = subsets @ w_x + (np.minimum(1.0, subsets @ dense.T) @ w_y)
        bound, x = _solve_component(sub, None, None)
        assert bound >= values.max() - 1e-6
        assert sub.value(sub.start_vector(np.round(x[:n]))) == pytest.approx(values.max())
    assert refined, "no aggregated optimum overstated its solution: the rounds were not exercised"

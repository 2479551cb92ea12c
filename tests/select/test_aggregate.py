"""The aggregated relaxation (:mod:`optimizer.select.aggregate`) and the solve route that
uses it at national scale, checked against brute force over every subset of units
(independent of the model and of HiGHS)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer.select import build_problem, solve
from optimizer.select.aggregate import (
    aggregate,
    aggregated_model,
    group_loss,
    hash_groups,
    inherit_basis,
    refine,
    row_sums,
)
from optimizer.select.bounds import coverage_structure
from optimizer.select.greedy import round_lp
from optimizer.select.solve import (
    SelectionOptions,
    _model,
    _reduction,
    solve_model,
    validate_options,
)
from optimizer.select.solvers import _run_highs


def _relation(seed, rows=60, units=10, density=0.25):
    rng = np.random.default_rng(seed)
    dense = rng.random((rows, units)) < density
    dense[~dense.any(axis=1), 0] = True  # every row reaches a unit, as in a model
    return dense, sp.csr_array(dense), rng.integers(1, 50, rows).astype(float)


def _all_subsets(units):
    return ((np.arange(2**units)[:, None] >> np.arange(units)) & 1).astype(float)


@pytest.mark.parametrize("seed", range(6))
def test_every_partition_overstates_every_selection(seed):
    """For any partition (here: random labels) and every one of the 2^10 selections, the
    aggregated value (union rows) is at least the true value, and ``group_loss`` is
    exactly the difference."""
    dense, reach, w = _relation(seed)
    rng = np.random.default_rng(100 + seed)
    agg = aggregate(reach, w, rng.integers(0, 12, reach.shape[0]))
    union = agg.reach.toarray()
    for x in _all_subsets(10):
        true = w @ np.minimum(1.0, dense @ x)
        aggregated = agg.weight @ np.minimum(1.0, union @ x)
        assert aggregated >= true - 1e-9
        assert group_loss(agg, reach, w, x).sum() == pytest.approx(aggregated - true, abs=1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_refining_by_support_values_that_selection_exactly_and_only_splits(seed):
    """After a split by the signature of ``x``'s support, ``x`` loses nothing, and every
    new group lies inside one old group (the partition only gets finer)."""
    dense, reach, w = _relation(seed)
    agg = aggregate(reach, w, hash_groups(reach, 1, seed=seed))
    x = (np.random.default_rng(seed).random(10) < 0.3).astype(float)
    assert group_loss(agg, reach, w, x).sum() > 0  # the coarse partition overstates x
    finer = refine(agg, reach, w, group_loss(agg, reach, w, x) > 0, x)
    assert group_loss(finer, reach, w, x).sum() == pytest.approx(0.0, abs=1e-9)
    assert finer.n_groups > agg.n_groups
    for g in range(finer.n_groups):
        members = finer.groups == g
        assert len(np.unique(agg.groups[members])) == 1
        assert finer.parent[g] == agg.groups[members][0]
        np.testing.assert_array_equal(finer.reach.toarray()[g], dense[members].any(axis=0))
    assert finer.weight.sum() == pytest.approx(w.sum())
    rows = refine(agg, reach, w, np.ones(agg.n_groups, dtype=bool))
    assert rows.n_groups == reach.shape[0]


def test_hash_groups_put_identical_rows_together():
    dense, reach, _ = _relation(3)
    twice = sp.csr_array(np.vstack([dense, dense]))
    g = hash_groups(twice, 3)
    np.testing.assert_array_equal(g[:60], g[60:])


@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_min_hashes_read_every_unit_of_every_row(chunk, monkeypatch):
    """Each row's key is the smallest rank among all its units, also for the last row
    before trailing empty rows (a whole-array reduction once dropped that row's last
    unit) and whatever the slicing: identical rows share a group, and rows whose
    smallest-rank units differ do not."""
    import optimizer.select.sums as sums_module

    monkeypatch.setattr(sums_module, "CHUNK_NONZEROS", chunk)
    for seed in range(8):
        dense = np.zeros((6, 6), dtype=bool)
        dense[0, [0, 5]] = True
        dense[1, [2, 3]] = True
        dense[2, [0, 5]] = True  # the last row with units, then empty rows
        reach = sp.csr_array(dense)
        g = hash_groups(reach, 1, seed=seed)
        rank = np.random.default_rng(seed).permutation(6)
        assert g[0] == g[2] and g[3] == g[4] == g[5]
        assert (g[1] == g[0]) == (rank[[2, 3]].min() == rank[[0, 5]].min())


def test_row_sums_are_exact_in_slices(monkeypatch):
    """Slicing (here: 7 nonzeros per slice) changes nothing, including empty rows."""
    import optimizer.select.sums as sums_module

    dense, reach, _ = _relation(5)
    dense[[3, 17, 59]] = False
    reach = sp.csr_array(dense)
    values = np.random.default_rng(0).random(10)
    monkeypatch.setattr(sums_module, "CHUNK_NONZEROS", 7)
    np.testing.assert_allclose(row_sums(reach, values), dense @ values)


@pytest.mark.parametrize("chunk", [1, 7, 30, 1 << 20])
def test_row_sums_by_columns_in_batches_are_exact_and_equal_for_equal_rows(chunk, monkeypatch):
    """From a CSC array the selected columns are summed in batches of about ``chunk``
    nonzeros (a column never split): the dense product, and rows with the same units
    get bit-identical sums (the signatures rely on it), for small and large selections."""
    import optimizer.select.sums as sums_module

    monkeypatch.setattr(sums_module, "CHUNK_NONZEROS", chunk)
    dense, _, _ = _relation(chunk % 97, rows=80, units=12, density=0.3)
    dense[40:] = dense[:40]  # every row has a twin
    reach_csc = sp.csc_array(dense)
    rng = np.random.default_rng(chunk)
    for share in (0.1, 0.95):
        values = rng.random(12) * (rng.random(12) < share)
        values[int(rng.integers(12))] = 0.3  # never empty
        sums = row_sums(reach_csc, values)
        np.testing.assert_allclose(sums, dense @ values, rtol=1e-12)
        np.testing.assert_array_equal(sums[:40], sums[40:])


def test_open_gains_equal_the_unit_by_unit_gains(instance_factory):
    """The greedy's first pass in one sparse product (all units, or a subset by column
    slices) gives each unit's gain on the rows not yet covered, as the unit-by-unit
    evaluation does."""
    from optimizer.select.greedy import _coverage_gain, _open_gains, _State, _take

    inst = instance_factory(91, m=12, n=80, density=0.2, score=False)
    _, model = _model_of(inst, 0.3 * inst.units["cost"].sum())
    reach, w, _, cost, bud = coverage_structure(model)
    csc = sp.csc_array(reach)
    n = model.n_x
    ones = np.ones(n)
    st = _State(chosen=np.zeros(n, dtype=bool), covered=np.zeros(reach.shape[0], dtype=bool), best=np.zeros(reach.shape[0]), budget_left=bud)
    for j in (0, 5):
        _take(csc, ones, st, j, cost)
    for cols in (np.arange(n), np.array([1, 2, 7])):
        expected = [_coverage_gain(csc, w, ones, st, j) for j in cols]
        np.testing.assert_allclose(_open_gains(csc, w, st, cols), expected, rtol=1e-12)
    assert _open_gains(csc, w, st, np.array([0]))[0] == 0.0  # everything it reaches is covered


def test_cover_columns_are_kept_while_the_rows_live():
    """The CSC copy of a relation is made once per relation object (a budget sweep
    reuses it), equals the relation, and is released with it."""
    import gc

    from optimizer.select import bounds

    dense, reach, _ = _relation(3)
    first = bounds.cover_columns(reach)
    assert bounds.cover_columns(reach) is first
    np.testing.assert_array_equal(first.toarray(), dense)
    other = sp.csr_array(dense)
    assert bounds.cover_columns(other) is not first
    key = id(reach)
    del reach, first
    gc.collect()
    assert key not in bounds._COLUMNS


def _model_of(inst, budget):
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    spec, eligible, must_keep, _ = validate_options(problem, SelectionOptions(budget=budget))
    model, _ = _model(problem, _reduction(problem, spec, eligible, must_keep, dominate=True), spec)
    return problem, model


@pytest.mark.parametrize("seed", [101, 102])
def test_model_matrix_is_the_cover_rows_then_the_budget(seed, instance_factory):
    """The model's arrays, written in place block by block, are the matrix of the
    formulation built independently: ``y_r - sum_{N(r)} x_j`` per cover row (units,
    then that row's ``y``), then the budget row of the units' costs."""
    inst = instance_factory(seed, m=12, n=80, density=0.2, score=False)
    problem, model = _model_of(inst, 0.3 * inst.units["cost"].sum())
    reach = model.completion[1]
    ny, n = reach.shape
    cost = problem.cost[model.units]
    expected = sp.bmat([[-sp.csr_array(reach, dtype=float), sp.identity(ny)], [sp.csr_array(cost[None, :]), None]], format="csr")
    assert model.row_names[-1] == "budget" and model.matrix.shape == expected.shape
    np.testing.assert_array_equal(model.matrix.toarray(), expected.toarray())
    assert model.matrix.indices.dtype == np.int32 and model.matrix.has_sorted_indices


@pytest.mark.parametrize("seed", range(5))
def test_stacked_rows_are_the_blocks_one_under_the_other(seed):
    """Rows stacked by copying the blocks' arrays once (what a lexicographic stage's
    extra row uses) equal the dense blocks stacked, empty blocks and rows included."""
    from optimizer.select.model import stack_rows

    rng = np.random.default_rng(seed)
    blocks = [sp.csr_array(rng.random((int(rng.integers(0, 6)), 7)) * (rng.random((1, 7)) < 0.5)) for _ in range(3)]
    stacked = stack_rows(blocks, 7)
    np.testing.assert_array_equal(stacked.toarray(), np.vstack([b.toarray() for b in blocks]))
    assert stacked.indices.dtype == np.int32


def _proves_brute_optimum(problem, b, budgets, solver_says=None):
    """Each budget's solve is proven optimal, at the brute-force optimum, within budget."""
    for budget in budgets:
        res = solve(problem, budget=budget, lexicographic=False)
        assert res.status == "optimal"
        if solver_says is not None:
            assert solver_says in res.stages["coverage"]["solver_status"]
        assert res.covered_need == pytest.approx(b.need_covered[b.cost <= budget + 1e-9].max())
        assert res.total_cost <= budget + 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_aggregated_lp_and_mip_bound_the_true_optimum(seed, instance_factory, brute):
    """The aggregated model's LP and MIP optima are valid bounds (>= the brute-force
    optimum) for a coarse partition, and the warm-started LP of a refined partition
    (basis inherited) has the same optimum as a cold start."""
    inst = instance_factory(seed, m=12, n=80, density=0.15, score=False)
    budget = 0.3 * inst.units["cost"].sum()
    b = brute(inst)
    opt = b.need_covered[b.cost <= budget + 1e-9].max()
    _, model = _model_of(inst, budget)
    parts = coverage_structure(model)
    reach, w = parts[0], parts[1]
    agg = aggregate(reach, w, hash_groups(reach, 1))
    a_model = aggregated_model(model, agg, parts)
    lp, duals = _run_highs(a_model.relaxed(), None, 0.0, None, False)
    mip, _ = _run_highs(a_model, None, 0.0, None, False)
    assert lp.objective >= mip.bound - 1e-6 >= opt - 1e-6
    x = lp.values[: model.n_x]
    finer = refine(agg, reach, w, group_loss(agg, reach, w, x) > 0, x)
    f_model = aggregated_model(model, finer, parts)
    cold, _ = _run_highs(f_model.relaxed(), None, 0.0, None, False)
    cols, rows = inherit_basis(finer, model.n_x, *duals.basis)
    assert (cols == 1).sum() + (rows == 1).sum() == f_model.matrix.shape[0]
    warm, _ = _run_highs(f_model.relaxed(), None, 0.0, None, False, basis=(cols, rows))
    assert warm.objective == pytest.approx(cold.objective, rel=1e-9)
    assert opt - 1e-6 <= warm.objective <= lp.objective + 1e-6


@pytest.mark.parametrize("seed", range(20))
def test_aggregated_route_finds_the_brute_force_optimum(seed, instance_factory, brute, monkeypatch):
    """Forced through the aggregated relaxation (as at national scale), the solve proves
    the brute-force optimum on 20 seeded instances of 12 units at two budgets."""
    inst = instance_factory(seed, m=12, n=90, density=0.12, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    monkeypatch.setitem(solve_model.__globals__, "AGGREGATE_MIN_NONZEROS", 0)
    _proves_brute_optimum(problem, b, [share * inst.units["cost"].sum() for share in (0.2, 0.4)], solver_says="aggregated")


@pytest.mark.parametrize("seed", [61, 62])
def test_aggregated_route_under_a_time_limit_reports_a_valid_gap(seed, instance_factory, brute, monkeypatch):
    """With a time limit too short to finish, the answer is feasible, its bound is at
    least the optimum, and its gap is computed from that bound."""
    inst = instance_factory(seed, m=12, n=90, density=0.12, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    monkeypatch.setitem(solve_model.__globals__, "AGGREGATE_MIN_NONZEROS", 0)
    monkeypatch.setitem(solve_model.__globals__, "AGGREGATE_LP_SHARE", 1e-9)  # one LP round
    budget = 0.3 * inst.units["cost"].sum()
    opt = b.need_covered[b.cost <= budget + 1e-9].max()
    res = solve(problem, budget=budget, time_limit=0.5, lexicographic=False)
    assert res.total_cost <= budget + 1e-9
    assert res.covered_need <= opt + 1e-6
    if res.status == "time_limit":
        assert res.bound >= opt - 1e-6
        assert res.gap == pytest.approx((res.bound - res.covered_need) / res.covered_need)
    else:
        assert res.covered_need == pytest.approx(opt)


@pytest.mark.parametrize("seed", range(5))
def test_lp_rounding_keeps_the_lp_integral_part_and_the_budget(seed, instance_factory, brute):
    inst = instance_factory(seed, m=12, n=80, density=0.15, score=False)
    budget = 0.3 * inst.units["cost"].sum()
    _, model = _model_of(inst, budget)
    reach, w, w_x, cost, bud = coverage_structure(model)
    lp, _ = _run_highs(model.relaxed(), None, 0.0, None, False)
    n = model.n_x
    x = lp.values[:n]
    chosen = round_lp(reach, w, w_x, cost, bud, x, model.col_lower[:n], model.col_upper[:n])
    assert cost[chosen].sum() <= bud + 1e-9
    assert chosen[x >= 1 - 1e-6].all() and not chosen[x <= 1e-6].any()
    assert model.value(model.start_vector(chosen.astype(float))) <= lp.objective + 1e-6


@pytest.mark.parametrize("seed", range(10))
def test_final_mip_through_the_aggregated_relaxation_is_exact(seed, instance_factory, brute, monkeypatch):
    """The final MIP's compacted model solved through the aggregated relaxation's MIP
    rounds (forced for every size here; at scale from 50,000 nonzeros): the brute-force
    optimum, proven, at three budgets."""
    import optimizer.select.aggregate as aggregate_module

    seen = []
    real = aggregate_module.hash_groups
    monkeypatch.setitem(solve_model.__globals__, "FINAL_AGGREGATE_MIN_NONZEROS", 0)
    monkeypatch.setitem(solve_model.__globals__, "hash_groups", lambda *a, **k: seen.append(1) or real(*a, **k))
    inst = instance_factory(400 + seed, m=13, n=110, density=0.14, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    for share in (0.15, 0.3, 0.45):
        budget = share * inst.units["cost"].sum()
        res = solve(problem, budget=budget, lexicographic=False)
        assert res.status == "optimal"
        assert res.covered_need == pytest.approx(b.need_covered[b.cost <= budget + 1e-9].max())
    assert seen, "no final MIP went through the aggregated relaxation"


def _case(inst, brute):
    """The model at 30 % of the total cost and its brute-force optimum."""
    budget = 0.3 * inst.units["cost"].sum()
    b = brute(inst)
    return _model_of(inst, budget)[1], b.need_covered[b.cost <= budget + 1e-9].max()


@pytest.mark.parametrize("seed", range(8))
def test_polish_never_worsens_and_keeps_the_budget(seed, instance_factory, brute):
    """The local search over the units near the LP solution: its selection costs at most
    the budget, covers at least what it started from, and never more than the brute-force
    optimum."""
    from optimizer.select.greedy import polish

    model, opt = _case(instance_factory(500 + seed, m=12, n=80, density=0.15, score=False), brute)
    reach, w, w_x, cost, bud = coverage_structure(model)
    n = model.n_x
    lp, _ = _run_highs(model.relaxed(), None, 0.0, None, False)
    start = round_lp(reach, w, w_x, cost, bud, lp.values[:n], model.col_lower[:n], model.col_upper[:n])
    out = polish(sp.csc_array(reach), w, w_x, cost, bud, start, np.ones(n, dtype=bool), model.col_lower[:n] > 0.5)
    value = model.value
    assert cost[out].sum() <= bud + 1e-9
    assert value(model.start_vector(out.astype(float))) >= value(model.start_vector(start.astype(float))) - 1e-9
    assert value(model.start_vector(out.astype(float))) <= opt + 1e-6


@pytest.mark.parametrize("seed", range(8))
def test_repair_makes_any_selection_feasible_and_full(seed, instance_factory, brute):
    """The Lagrangian heuristic's repair: from every unit chosen (far over the budget) or
    from none, the result fits the budget, no affordable unit with a positive gain is left
    out, and it never beats the brute-force optimum."""
    from optimizer.select.greedy import repair

    model, opt = _case(instance_factory(600 + seed, m=12, n=80, density=0.15, score=False), brute)
    reach, w, w_x, cost, bud = coverage_structure(model)
    n = model.n_x
    csc = sp.csc_array(reach)
    fixed = model.col_lower[:n] > 0.5
    for start in (np.ones(n, dtype=bool), fixed.copy()):
        out = repair(csc, w, w_x, cost, bud, start, fixed, model.col_upper[:n] > 0.5)
        assert cost[out].sum() <= bud + 1e-9
        assert out[fixed].all()
        covered = (reach @ out.astype(float)) > 0
        gain = w_x + reach.T @ (w * ~covered)
        left = bud - cost[out].sum()
        assert not (~out & (cost <= left + 1e-9) & (gain > 1e-9)).any()
        assert model.value(model.start_vector(out.astype(float))) <= opt + 1e-6


def _model_optima(model):
    """Brute force over the model's own columns: ``(selections, values, feasible)``
    (independent of HiGHS; the model has at most ~13 unit columns here)."""
    n = model.n_x
    subsets = _all_subsets(n)
    _, _, _, cost, bud = coverage_structure(model)
    lo, up = model.col_lower[:n], model.col_upper[:n]
    values = np.array([model.value(model.start_vector(x)) for x in subsets])
    feasible = (
        (subsets @ cost <= bud + 1e-9)
        & np.all(subsets >= lo - 1e-9, axis=1)
        & np.all(subsets <= up + 1e-9, axis=1)
    )
    return subsets, values, feasible


@pytest.mark.parametrize("seed", range(8))
def test_spread_and_lifted_duals_are_optimal_duals_of_the_original_lp(seed, instance_factory):
    """The aggregated LP's dual spread over the groups' members (``disaggregate_duals``)
    and then lifted (``lift_cover_duals``) are optimal duals of the original LP: their
    Lagrangian dual value equals the LP optimum HiGHS finds on the original model; the
    lift only raises reduced costs and leaves no unit at 0 with a positive one."""
    from optimizer.select.aggregate import disaggregate_duals
    from optimizer.select.bounds import cover_dual_value, lift_cover_duals
    from optimizer.select.solvers import _aggregated_lp

    inst = instance_factory(700 + seed, m=13, n=120, density=0.14, score=False)
    _, model = _model_of(inst, 0.25 * inst.units["cost"].sum())
    parts = coverage_structure(model)
    reach, w, w_x, cost, bud = parts
    n = model.n_x
    lo, up = model.col_lower[:n], model.col_upper[:n]
    direct, _ = _run_highs(model.relaxed(), None, 0.0, None, False)
    agg, _, lp, duals, _ = _aggregated_lp(
        model, parts, aggregate(reach, w, hash_groups(reach, 1)), None
    )
    assert lp.objective == pytest.approx(direct.objective, rel=1e-7)
    lam = abs(duals.rows[-1])
    u, a = disaggregate_duals(agg, reach, w, w_x, cost, duals.rows[: agg.n_groups], lam)
    reach_t = sp.csr_array(reach.T, dtype=float)
    value, a_check = cover_dual_value(reach_t, w, w_x, cost, bud, lam, u, lo, up)
    np.testing.assert_allclose(a_check, a, atol=1e-9)
    assert value + model.offset == pytest.approx(direct.objective, rel=1e-7)
    x = lp.values[:n]
    lifted = lift_cover_duals(reach, w, x, a, u, lo, up)
    value_l, a_l = cover_dual_value(reach_t, w, w_x, cost, bud, lam, lifted, lo, up)
    assert value_l + model.offset == pytest.approx(direct.objective, rel=1e-7)
    assert np.all(lifted >= u - 1e-12) and np.all(lifted <= np.maximum(w, u) + 1e-9)
    assert np.all(a_l >= a - 1e-9)
    assert np.all(a_l[x <= 1e-9] <= 1e-7)


@pytest.mark.parametrize("converged", [True, False])
@pytest.mark.parametrize("seed", range(12))
def test_reduced_costs_from_the_aggregated_lp_only_fix_what_brute_force_allows(seed, converged, instance_factory):
    """Rigour of the fixing the duals of ``_lp_by_aggregation`` allow: for every unit at a
    bound of the LP solution, every feasible selection with that unit moved to its other
    bound is worth at most ``LP bound - |reduced cost|`` (brute force over every
    selection), so fixing it when that is below an incumbent loses no better solution.
    Also when the LP rounds stop after the first one (a deadline already past): the LP
    solution is then not the real LP's, the bound is the aggregated one."""
    import time

    from optimizer.select.solvers import _lp_by_aggregation

    inst = instance_factory(800 + seed, m=13, n=120, density=0.14, score=False)
    _, model = _model_of(inst, (0.15 + 0.05 * (seed % 4)) * inst.units["cost"].sum())
    parts = coverage_structure(model)
    lp, duals = _lp_by_aggregation(model, parts, None if converged else time.perf_counter() - 1.0, sp.csc_array(parts[0]))
    n = model.n_x
    x = lp.values[:n]
    subsets, values, feasible = _model_optima(model)
    assert lp.objective >= values[feasible].max() - 1e-6
    checked = 0
    for j in range(n):
        if x[j] <= 1e-9 or x[j] >= 1 - 1e-9:
            flipped = feasible & (subsets[:, j] != round(x[j]))
            if flipped.any():
                assert values[flipped].max() <= lp.objective - abs(duals.columns[j]) + 1e-6
                checked += abs(duals.columns[j]) > 1e-6
    assert checked > 0


@pytest.mark.parametrize("seed", range(20))
def test_lp_through_aggregation_then_direct_path_finds_the_brute_force_optimum(
    seed, instance_factory, brute, monkeypatch
):
    """With the LP solved through the aggregated relaxation (as from
    ``AGGREGATE_LP_MIN_NONZEROS``; forced here), the rest of the direct path (rounding,
    component bound, fixing, final MIP) proves the brute-force optimum at two budgets."""
    inst = instance_factory(900 + seed, m=12, n=90, density=0.12, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    monkeypatch.setitem(solve_model.__globals__, "AGGREGATE_LP_MIN_NONZEROS", 0)
    _proves_brute_optimum(problem, b, [share * inst.units["cost"].sum() for share in (0.2, 0.4)])


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_unfinished_aggregated_lp_falls_back_to_the_greedy_and_a_lagrangian_bound(seed, instance_factory, brute, monkeypatch):
    """No greedy warm start where the LP goes through the aggregation; if not even its
    first round finishes in time, the answer is the cost-effectiveness greedy (feasible)
    with a Lagrangian bound at least the optimum, labelled as a time limit."""
    inst = instance_factory(seed, m=12, n=90, density=0.12, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    monkeypatch.setitem(solve_model.__globals__, "AGGREGATE_LP_MIN_NONZEROS", 0)
    monkeypatch.setitem(solve_model.__globals__, "_lp_by_aggregation", lambda *a, **k: (None, None))
    budget = 0.3 * inst.units["cost"].sum()
    opt = b.need_covered[b.cost <= budget + 1e-9].max()
    res = solve(problem, budget=budget, time_limit=5.0, lexicographic=False)
    assert res.total_cost <= budget + 1e-9
    assert 0 < res.covered_need <= opt + 1e-6
    assert res.bound >= opt - 1e-6
    assert res.status == "time_limit" and "Lagrangian" in res.stages["coverage"]["solver_status"]
    assert res.gap == pytest.approx((res.bound - res.covered_need) / res.covered_need)


@pytest.mark.parametrize("large", [False, True])
def test_tuned_final_mips_still_find_the_brute_force_optimum(large, instance_factory, brute, monkeypatch):
    """The final MIP's HiGHS options (small: no RINS, no feasibility jump; large, forced
    here for every size: no restarts, no RENS) only change the time: 10 seeded instances
    at two budgets reach the brute-force optimum, proven, and the options were passed."""
    import optimizer.select.solvers as solvers

    seen = []
    real = solvers._run_highs
    monkeypatch.setattr(solvers, "_run_highs", lambda *a, **k: seen.append(k.get("mip_options")) or real(*a, **k))
    if large:
        monkeypatch.setattr(solvers, "LARGE_MIP_MIN_FREE", 0)
    expected = solvers.LARGE_MIP_OPTIONS if large else solvers.FINAL_MIP_OPTIONS
    for seed in range(10):
        inst = instance_factory(1100 + seed, m=12, n=90, density=0.12, score=False)
        b = brute(inst)
        problem = build_problem(inst.units, inst.demand, inst.coverage)
        _proves_brute_optimum(problem, b, [share * inst.units["cost"].sum() for share in (0.2, 0.35)])
    assert expected in seen, "no final MIP ran with the tuned options"


def test_components_start_from_the_lp_aggregation_and_stay_exact(instance_factory, brute, monkeypatch):
    """With the LP through the aggregation and every component solved aggregated (both
    forced), a component's first partition is the LP's groups (refined by the hash and
    the LP solution's support): unit-cost instances whose component bound is needed reach
    the brute-force optimum, and the components did receive the LP's groups."""
    import optimizer.select.solvers as solvers

    calls = []
    real = solvers._solve_component
    monkeypatch.setitem(solve_model.__globals__, "AGGREGATE_LP_MIN_NONZEROS", 0)
    monkeypatch.setattr(solvers, "COMPONENT_AGGREGATE_MIN_ROWS", 0)
    monkeypatch.setattr(solvers, "_solve_component", lambda sub, start, seconds, groups=None: calls.append(groups is not None) or real(sub, start, seconds, groups))
    for seed in range(12):
        inst = instance_factory(1200 + seed, m=12, n=90, density=0.12, score=False)
        inst.units["cost"] = 1.0
        b = brute(inst)
        problem = build_problem(inst.units, inst.demand, inst.coverage)
        _proves_brute_optimum(problem, b, (3.0, 5.0))
    assert calls and all(calls)


def test_round_lp_past_its_deadline_still_fills_the_budget(instance_factory):
    """Out of time before its first choice, the greedy fills the budget in the order of
    the ratios it computed (no re-evaluation): within the budget, and nothing affordable
    is left out."""
    inst = instance_factory(71, m=12, n=80, density=0.15, score=False)
    _, model = _model_of(inst, 0.3 * inst.units["cost"].sum())
    reach, w, w_x, cost, bud = coverage_structure(model)
    n = model.n_x
    lo, up = model.col_lower[:n], model.col_upper[:n]
    late = round_lp(sp.csc_array(reach), w, w_x, cost, bud, np.full(n, 0.5), lo, up, deadline=0.0)
    assert cost[late].sum() <= bud + 1e-9
    gain = w_x + reach.T @ w
    left = bud - cost[late].sum()
    assert late.any()
    assert not (~late & (up > 0.5) & (cost <= left + 1e-9) & (gain > 1e-12)).any()


@pytest.mark.parametrize("seed", [81, 82])
def test_no_time_for_the_aggregation_gives_the_greedy_with_a_valid_bound(seed, instance_factory, brute, monkeypatch):
    """When the first aggregation (and then the Lagrangian bound's setup) predictably do
    not fit in the time left (rates forced huge here), the national route answers at once
    with the greedy's selection and the trivial bound: feasible, bound at least the
    brute-force optimum, status time_limit."""
    inst = instance_factory(seed, m=12, n=90, density=0.12, score=False)
    b = brute(inst)
    problem = build_problem(inst.units, inst.demand, inst.coverage)
    monkeypatch.setitem(solve_model.__globals__, "AGGREGATE_MIN_NONZEROS", 0)
    monkeypatch.setitem(solve_model.__globals__, "AGGREGATION_SECONDS_PER_NONZERO", 1e6)
    monkeypatch.setitem(solve_model.__globals__, "LAGRANGIAN_SECONDS_PER_NONZERO", 1e6)
    budget = 0.3 * inst.units["cost"].sum()
    opt = b.need_covered[b.cost <= budget + 1e-9].max()
    res = solve(problem, budget=budget, time_limit=30.0, lexicographic=False)
    assert res.status == "time_limit" and "trivial bound" in res.stages["coverage"]["solver_status"]
    assert res.total_cost <= budget + 1e-9
    assert 0 < res.covered_need <= opt + 1e-6
    assert res.bound >= opt - 1e-6
    assert res.gap == pytest.approx((res.bound - res.covered_need) / res.covered_need)

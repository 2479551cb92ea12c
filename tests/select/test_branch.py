"""The branch and bound of :mod:`optimizer.select.branch`, checked against brute force over
every 0/1 point: as a pure kernel on 0/1 knapsacks (their LP relaxation is Dantzig's
fractional knapsack, computed here by hand: no LP solver involved), and on the
Lagrangian component subproblems it solves in the product (HiGHS's LP relaxation of the
coverage model; brute force over every unit subset)."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import scipy.sparse as sp

import optimizer.select.solvers as solvers
from optimizer.select.branch import branch_and_bound
from optimizer.select.model import plain_coverage_model


def _knapsack(seed: int, n: int):
    rng = np.random.default_rng(seed)
    value = rng.integers(5, 60, n).astype(float)
    weight = rng.integers(3, 40, n).astype(float)
    capacity = 0.4 * weight.sum()

    def relax(lo, up, seconds):
        """Dantzig's bound: the fixed items, then the free ones by value per weight."""
        x = lo.astype(float).copy()
        room = capacity - weight @ lo
        if room < -1e-9:
            return "infeasible", None, None
        for j in np.argsort(-value / weight, kind="stable"):
            if up[j] > lo[j] and room > 0:
                take = min(1.0, room / weight[j])
                x[j] += take
                room -= take * weight[j]
        return "optimal", float(value @ x), x

    def valuation(x):
        return float(value @ x) if weight @ x <= capacity + 1e-9 else None

    points = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    feasible = points @ weight <= capacity + 1e-9
    best = float((points @ value)[feasible].max())
    return relax, valuation, best, value, weight, capacity


@pytest.mark.parametrize("seed", range(20))
def test_knapsack_optimum_equals_brute_force(seed):
    n = 6 + seed % 7
    relax, valuation, best, value, weight, capacity = _knapsack(seed, n)
    out = branch_and_bound(relax, valuation, np.zeros(n), np.ones(n))
    assert out.complete
    assert out.value == best
    assert out.bound == pytest.approx(best, abs=1e-6)
    assert weight @ out.x <= capacity + 1e-9
    assert value @ out.x == best


@pytest.mark.parametrize("seed", range(6))
def test_stopped_search_keeps_a_valid_bound(seed):
    """After one node or with the deadline passed: not complete, the bound is at least
    the optimum, the point (if any) is feasible and no better than the optimum; a start
    is kept when nothing else was searched."""
    n = 10
    relax, valuation, best, value, weight, capacity = _knapsack(100 + seed, n)
    one = branch_and_bound(relax, valuation, np.zeros(n), np.ones(n), max_nodes=1)
    assert one.nodes == 1 and not one.complete
    assert one.bound >= best - 1e-9
    assert one.x is None or (weight @ one.x <= capacity + 1e-9 and one.value <= best)
    start = np.zeros(n)
    start[np.argmin(weight)] = 1.0
    late = branch_and_bound(relax, valuation, np.zeros(n), np.ones(n), start=start, deadline=time.perf_counter() - 1.0)
    assert late.nodes == 0 and not late.complete
    assert late.bound == math.inf
    assert late.value == value[np.argmin(weight)]


def test_relaxation_failure_stops_with_the_parents_bound():
    """A relaxation that fails on its third call (a time limit inside the LP): the search
    stops, incomplete, and its bound is still at least the optimum."""
    n = 9
    relax, valuation, best, *_ = _knapsack(7, n)
    calls = []

    def failing(lo, up, seconds):
        calls.append(1)
        return ("limit", None, None) if len(calls) == 3 else relax(lo, up, seconds)

    out = branch_and_bound(failing, valuation, np.zeros(n), np.ones(n))
    assert not out.complete and out.nodes == 3
    assert out.bound >= best - 1e-9


@pytest.mark.parametrize("seed", range(8))
def test_overstating_relaxation_returns_its_points(seed):
    """The relaxation of a coarser model (the knapsack's LP) against a valuation that
    takes a penalty off some points (as an aggregated relaxation overstates the true
    coverage of some selections): the bound stays at least the true optimum (brute
    force), the point returned is the true optimum or the bound says how far it may be,
    and when the bound is above the best value, the integral LP optima that hold it up
    are returned, each overstated by its valuation."""
    n = 9
    relax, _, _, value, weight, capacity = _knapsack(300 + seed, n)
    rng = np.random.default_rng(seed)
    penalised = {tuple(p) for p in itertools.product([0.0, 1.0], repeat=n) if rng.random() < 0.5}

    def true_value(x):
        if weight @ x > capacity + 1e-9:
            return None
        return float(value @ x) - (7.0 if tuple(x) in penalised else 0.0)

    points = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    best = max(v for v in (true_value(p) for p in points) if v is not None)
    out = branch_and_bound(relax, true_value, np.zeros(n), np.ones(n))
    assert out.complete
    assert out.bound >= best - 1e-9
    assert out.value <= best + 1e-9
    if out.bound > out.value + 1e-6:
        assert out.overstated
        for point in out.overstated:
            assert tuple(point) in penalised
    else:
        assert out.value == pytest.approx(best)


def test_infeasible_root_has_no_point():
    out = branch_and_bound(lambda lo, up, s: ("infeasible", None, None), lambda x: 0.0, np.zeros(3), np.ones(3))
    assert out.complete and out.x is None and out.value is None and out.bound == -math.inf


def _component(seed: int, n: int = 11, rows: int = 40):
    """A budget-free Lagrangian subproblem: rows worth their population, each unit
    penalised by a multiplier (as :mod:`optimizer.select.decompose` builds them)."""
    rng = np.random.default_rng(seed)
    reach = (rng.random((rows, n)) < 0.3).astype(bool)
    reach[np.arange(rows), rng.integers(0, n, rows)] = True
    w_y = rng.integers(10, 200, rows).astype(float)
    lag = -rng.uniform(0.5, 1.5, n) * w_y.sum() / n
    model = plain_coverage_model(sp.csr_array(reach), lag, w_y, np.zeros(n), np.ones(n))
    points = np.array(list(itertools.product([0.0, 1.0], repeat=n)))
    values = points @ lag + (np.minimum(1.0, points @ reach.T.astype(float)) @ w_y)
    return model, float(values.max())


def test_component_instances_need_branching():
    """Most of the instances below are not settled by their LP relaxation alone."""
    nodes = [int(solvers._component_mip(_component(seed)[0], None, None)[0].raw_status.split(", ")[1].split()[0]) for seed in range(20)]
    assert sum(k > 1 for k in nodes) >= 12 and max(nodes) >= 7


@pytest.mark.parametrize("seed", range(20))
def test_component_subproblem_equals_brute_force(seed):
    """``_component_mip`` (the branch and bound on HiGHS's LP relaxation) reaches the
    brute-force optimum of the Lagrangian subproblem and proves it."""
    model, best = _component(seed)
    out, overstated = solvers._component_mip(model, None, None)
    assert out.status == "optimal" and "HiGHS" not in out.raw_status and overstated == ()
    assert out.objective == pytest.approx(best, abs=1e-6)
    assert model.value(out.values) == pytest.approx(best, abs=1e-6)
    assert out.bound == pytest.approx(best, abs=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_component_subproblem_falls_back_to_highs(seed, monkeypatch):
    """With a one-node cap the branch and bound stops and HiGHS's MIP finishes from its
    incumbent: still the brute-force optimum, proven."""
    monkeypatch.setattr(solvers, "COMPONENT_MAX_NODES", 1)
    model, best = _component(50 + seed, n=12, rows=60)
    out, _ = solvers._component_mip(model, None, None)
    assert out.status == "optimal" and "then HiGHS" in out.raw_status  # HiGHS finished it
    assert out.objective == pytest.approx(best, abs=1e-6)
    assert out.bound == pytest.approx(best, abs=1e-5)

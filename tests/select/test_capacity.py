"""Capacities: the selection's optimum equals a brute force over every subset of units
whose served people come from an independent max-flow per subset.

Oracle (independent of the model and of :mod:`optimizer.select.assignment`): for a
fixed subset of units, the people served when every person may use any selected unit in
reach is a maximum flow source -> demand point (its volume) -> unit in reach (unbounded)
-> sink (the unit's capacity), computed with :func:`scipy.sparse.csgraph.maximum_flow`
on integer volumes. A region floor is feasible for the subset iff the flow through
region nodes capped at their floor volumes saturates them, and then some maximum flow
meets the floors too (an s-t augmenting path never lowers the flow on a source arc), so
the lexicographic optimum is "largest max-flow among the subsets meeting floors and
budget". The quality of coverage of a subset (people served weighted by the score of the
unit serving them, at the maximum flow) is a small LP per subset (scipy ``linprog``
on the dense pairs).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.sparse.csgraph import maximum_flow

from optimizer.errors import InputError
from optimizer.geo.relation import Coverage
from optimizer.select import build_problem, solve

SEEDS = list(range(24))


def _instance(seed: int, *, m: int, n: int, rate: int):
    rng = np.random.default_rng(4000 + seed)
    dense = rng.random((n, m)) < rng.uniform(0.2, 0.45)
    units = pd.DataFrame(
        {
            "cost": rng.integers(1, 10, m).astype(float),
            "score": rng.integers(1, 10, m) / 10.0,
            "region": [f"r{rng.integers(2)}" for _ in range(m)],
        },
        index=[f"u{j}" for j in range(m)],
    )
    pop = rng.integers(5, 60, n).astype(float)
    demand = pd.DataFrame({"population": pop, "region": [f"r{i % 2}" for i in range(n)]}, index=[f"d{i}" for i in range(n)])
    # capacities that bind: 40-110 % of the volume each unit reaches
    reach_volume = dense.T.astype(float) @ (pop * rate)
    units["capacity"] = np.maximum(1.0, np.round(reach_volume * rng.uniform(0.15, 0.5, m)))
    coverage = Coverage(pd.Index(demand.index), pd.Index(units.index), sp.csr_array(dense))
    return units, demand, coverage, dense


def _max_flow(dense, volume, cap, subset, region=None, floor_volume=None) -> int:
    """Max flow source -> [region ->] point -> selected unit -> sink (integers)."""
    n, m = dense.shape
    cols = np.flatnonzero(subset)
    if not len(cols):
        return 0
    n_reg = 0 if region is None else int(region.max()) + 1
    s, t = 0, 1 + n_reg + n + len(cols)
    size = t + 1
    rows, heads, caps = [], [], []
    big = int(volume.sum()) + 1
    for i in range(n):
        node = 1 + n_reg + i
        if region is None:
            rows.append(s), heads.append(node), caps.append(int(volume[i]))
        else:
            rows.append(1 + region[i]), heads.append(node), caps.append(int(volume[i]))
        for c, j in enumerate(cols):
            if dense[i, j]:
                rows.append(node), heads.append(1 + n_reg + n + c), caps.append(big)
    for g in range(n_reg):
        rows.append(s), heads.append(1 + g), caps.append(int(floor_volume[g]))
    for c, j in enumerate(cols):
        rows.append(1 + n_reg + n + c), heads.append(t), caps.append(int(cap[j]))
    graph = sp.csr_array((np.array(caps, dtype=np.int32), (np.array(rows), np.array(heads))), shape=(size, size))
    return int(maximum_flow(graph, s, t).flow_value)


def _quality(dense, pop, rate, cap, score, subset, served) -> float:
    """max sum score_j z_ij s.t. z serves ``served`` people within reach and capacity."""
    pairs = [(i, j) for i, j in np.argwhere(dense) if subset[j]]
    if not pairs:
        return 0.0
    n, m = dense.shape
    k = len(pairs)
    a_row = np.zeros((n, k))
    a_cap = np.zeros((m, k))
    for p, (i, j) in enumerate(pairs):
        a_row[i, p] = 1.0
        a_cap[j, p] = rate
    a = np.vstack([a_row, a_cap, -np.ones((1, k))])
    b = np.concatenate([pop, cap, [-(served - 1e-7)]])
    res = linprog(-np.array([score[j] for _, j in pairs]), A_ub=a, b_ub=b, bounds=(0, None), method="highs")
    assert res.status == 0
    return float(-res.fun)


@pytest.mark.parametrize("seed", SEEDS)
def test_capacity_any_unit_in_reach_equals_max_flow_brute_force(seed):
    """Served people, then the quality of coverage, then cost, with must-keeps and floors
    on some seeds, equal the brute force; loads never exceed capacities."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(6, 11))
    rate = int(rng.integers(1, 4))
    units, demand, coverage, dense = _instance(seed, m=m, n=int(rng.integers(12, 30)), rate=rate)
    pop = demand["population"].to_numpy()
    cap = units["capacity"].to_numpy()
    cost = units["cost"].to_numpy()
    score = units["score"].to_numpy()
    volume = pop * rate
    region = np.array([int(r[1]) for r in demand["region"]])
    budget = float(rng.uniform(0.25, 0.6) * cost.sum())
    keep = [units.index[int(rng.integers(m))]] if seed % 3 == 1 else []
    subsets = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(bool)
    feasible = subsets.astype(float) @ cost <= budget + 1e-9
    feasible &= subsets[:, units.index.isin(keep)].all(axis=1)
    served = np.array([_max_flow(dense, volume, cap, s) / rate for s in subsets])
    floors = None
    if seed % 4 == 2:
        reg_pop = np.bincount(region, weights=pop)
        share = float(np.floor(0.5 * served[feasible].max() / pop.sum() * 100) / 100)
        floors = share
        floor_volume = np.ceil(share * reg_pop - 1e-9) * rate
        ok = np.array([_max_flow(dense, volume, cap, s, region, floor_volume) == int(floor_volume.sum()) for s in subsets])
        feasible &= ok
    best_served = served[feasible].max()
    cand = np.flatnonzero(feasible & (served >= best_served - 1e-9))
    quality = np.array([_quality(dense, pop, rate, cap, score, subsets[c], served[c]) for c in cand])
    cand = cand[quality >= quality.max() - 1e-7 * max(1.0, quality.max())]
    best_cost = (subsets[cand].astype(float) @ cost).min()

    use_rates = {"all": float(rate)}
    problem = build_problem(units, demand, coverage, use_rates=use_rates)
    res = solve(problem, budget=budget, must_keep=keep, floors=floors)
    assert res.capacity is True  # on by default: the units carry a capacity
    assert res.status == "optimal"
    np.testing.assert_allclose(res.covered_population, best_served, rtol=1e-7)
    np.testing.assert_allclose(res.objective["quality"], quality.max(), rtol=1e-6)
    np.testing.assert_allclose(res.total_cost, best_cost, rtol=1e-9)
    # a selection never serves more than its capacity
    load = res.units["load"].to_numpy()
    assert np.all(load <= cap + 1e-6)
    assert res.covered_population <= res.units.loc[res.units.selected, "capacity"].sum() / rate + 1e-6
    assert res.covered_population <= res.reached_population + 1e-6
    # unspent budget reported exactly
    assert res.spending["unspent"] == pytest.approx(budget - res.total_cost, abs=1e-9)


def _recompute(res, problem):
    """Every served figure from the assignment's pairs alone."""
    pairs = res.assignment.pairs
    served_by_point = pairs.groupby("demand_id")["people"].sum()
    by_unit = pairs.groupby("unit_id")["volume"].sum()
    return served_by_point, by_unit


@pytest.mark.parametrize("seed", range(6))
def test_reported_figures_agree_with_the_assignment(seed):
    """covered_population, per-region served people, loads and utilisation all follow
    from the assignment's pairs (demand_id, unit_id, people, volume)."""
    units, demand, coverage, dense = _instance(100 + seed, m=9, n=25, rate=2)
    problem = build_problem(units, demand, coverage, use_rates={"all": 2.0})
    res = solve(problem, budget=0.4 * units["cost"].sum())
    served_by_point, load = _recompute(res, problem)
    np.testing.assert_allclose(served_by_point.sum(), res.covered_population, rtol=1e-9)
    per_region = served_by_point.groupby(demand.loc[served_by_point.index, "region"]).sum()
    np.testing.assert_allclose(res.by_region["covered"].reindex(per_region.index), per_region, rtol=1e-9)
    got = res.units["load"]
    np.testing.assert_allclose(got.reindex(load.index), load, rtol=1e-9)
    np.testing.assert_allclose(res.units["utilisation"], res.units["load"] / units["capacity"], rtol=1e-12)
    np.testing.assert_allclose(load / 2.0, res.assignment.pairs.groupby("unit_id")["people"].sum(), rtol=1e-9)
    # every pair is in reach
    for d, u in zip(res.assignment.pairs["demand_id"], res.assignment.pairs["unit_id"], strict=True):
        assert dense[demand.index.get_loc(d), units.index.get_loc(u)]
    # capacity shortfall = reached but not served
    assert res.capacity_shortfall == pytest.approx(res.reached_population - res.covered_population)
    np.testing.assert_allclose(res.by_region["volume_needed"].sum(), 2.0 * demand["population"].sum())


def test_group_use_rates_change_volume_and_what_a_unit_serves():
    """The elderly use 5 tests a year, others 1: one unit of capacity 100 in reach of 10
    elderly and 50 others serves the elderly first only if that serves more need; with
    need = population it serves as many people as fit (100 tests: the 50 others and 10
    elderly need 50 + 50)."""
    units = pd.DataFrame({"cost": [1.0], "capacity": [100.0]}, index=["u"])
    demand = pd.DataFrame({"population": [60.0], "pop_over_60": [10.0]}, index=["d"])
    coverage = Coverage(pd.Index(["d"]), pd.Index(["u"]), sp.csr_array(np.ones((1, 1), dtype=bool)))
    problem = build_problem(units, demand, coverage, use_rates={"all": 1.0}, group_use_rates={"pop_over_60": {"all": 5.0}})
    np.testing.assert_allclose(problem.volume.ravel(), [100.0])
    res = solve(problem, budget=1.0)
    np.testing.assert_allclose(res.covered_population, 60.0)
    np.testing.assert_allclose(res.units.loc["u", "utilisation"], 1.0)
    tight = build_problem(units.assign(capacity=[50.0]), demand, coverage, use_rates={"all": 1.0}, group_use_rates={"pop_over_60": {"all": 5.0}})
    # 100 tests needed by 60 people: 50 tests serve 30 people (the point's mix of ages)
    np.testing.assert_allclose(solve(tight, budget=1.0).covered_population, 30.0)


def test_capacity_off_reports_reach_and_spend_all_spends():
    """capacity=False gives reach-based coverage (as before); spend='all' spends budget
    on units that add nobody, the default leaves it unspent and says coverage saturates."""
    units = pd.DataFrame({"cost": [1.0, 1.0, 1.0], "score": [0.5, 0.4, 0.9], "capacity": [1e9, 1e9, 1e9]}, index=["a", "b", "c"])
    demand = pd.DataFrame({"population": [10.0, 20.0]}, index=["x", "y"])
    dense = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)  # a reaches both; b, c reach less
    dense[0, 2] = True
    coverage = Coverage(pd.Index(demand.index), pd.Index(units.index), sp.csr_array(dense))
    problem = build_problem(units, demand, coverage)
    needed = solve(problem, budget=3.0, capacity=False)
    assert needed.capacity is False
    # a covers everyone; c raises the quality of x (0.9 > 0.5); b adds nothing
    assert list(needed.selected) == ["a", "c"]
    assert needed.spending["unspent"] == pytest.approx(1.0)
    assert needed.spending["saturated"] is True
    assert "saturates" in needed.spending["note"]
    spent = solve(problem, budget=3.0, capacity=False, spend="all")
    assert list(spent.selected) == ["a", "b", "c"]
    assert spent.spending["unspent"] == pytest.approx(0.0)


def test_stage_values_kept_at_half_weight_granularity():
    """Need weights in halves: a half person of need is never traded for a higher score
    (a relative 1e-6 tolerance on 2 million would give up one person)."""
    units = pd.DataFrame({"cost": [1.0, 1.0], "score": [0.1, 1.0]}, index=["a", "b"])
    demand = pd.DataFrame({"population": [2_000_000.0, 1.0], "need": [2_000_000.0, 0.5]}, index=["x", "y"])
    dense = np.array([[1, 1], [1, 0]], dtype=bool)
    coverage = Coverage(pd.Index(demand.index), pd.Index(units.index), sp.csr_array(dense))
    res = solve(build_problem(units, demand, coverage), budget=1.0)
    assert list(res.selected) == ["a"]
    assert res.covered_need == 2_000_000.5


def test_bad_volume_and_capacity_input_names_the_row():
    units = pd.DataFrame({"cost": [1.0, 2.0], "capacity": [10.0, -1.0]}, index=["a", "b"])
    demand = pd.DataFrame({"population": [5.0]}, index=["x"])
    coverage = Coverage(pd.Index(["x"]), pd.Index(["a", "b"]), sp.csr_array(np.ones((1, 2), dtype=bool)))
    with pytest.raises(InputError, match=r"row 2.*capacity.*>= 0"):
        build_problem(units, demand, coverage, units_file="u.csv")
    with pytest.raises(InputError, match=r"capacity.*empty"):
        build_problem(units.assign(capacity=[10.0, np.nan]), demand, coverage, units_file="u.csv")
    with pytest.raises(InputError, match="use rate"):
        build_problem(units.assign(capacity=[1.0, 1.0]), demand, coverage, use_rates={"all": -2.0})
    with pytest.raises(InputError, match="use rates for services"):
        build_problem(units.assign(capacity=[1.0, 1.0]), demand, coverage, use_rates={"imaging": 2.0})
    with pytest.raises(InputError, match="pop_over_60"):
        build_problem(units.assign(capacity=[1.0, 1.0]), demand, coverage, group_use_rates={"pop_over_60": {"all": 3.0}})


def test_cli_capacity_options_and_assignment_file(tmp_path):
    """``optimizer select`` models the units' capacity column by default (volumes from
    --use-rate), writes assignment.csv, and --no-capacity gives reach-based coverage."""
    from pathlib import Path

    from optimizer.cli import main

    ex = Path(__file__).resolve().parents[2] / "examples" / "select"
    base = ["select", "--units", str(ex / "units_capacity.csv"), "--demand", str(ex / "demand.csv"), "--radius-km", "15", "--budget", "400000", "--must-keep", "contracted", "--exclude", "blacklisted"]

    def run(*extra):
        try:
            main([*base, *extra])
        except SystemExit as exc:
            return exc.code or 0
        return 0

    out = tmp_path / "cap"
    assert run("--use-rate", "all=2", "--out", str(out)) == 0
    summary = json.loads((out / "result.json").read_text())
    pairs = pd.read_csv(out / "assignment.csv")
    sel = pd.read_csv(out / "selection.csv").set_index("unit_id")
    assert summary["capacity"] is True
    # every figure follows from the assignment; 2 tests per person
    np.testing.assert_allclose(pairs["people"].sum(), summary["covered_population"], rtol=1e-9)
    np.testing.assert_allclose(pairs["volume"], 2.0 * pairs["people"], rtol=1e-9)
    load = pairs.groupby("unit_id")["volume"].sum()
    np.testing.assert_allclose(sel.loc[load.index, "load"], load, rtol=1e-9)
    assert (sel["load"] <= sel["capacity"] + 1e-6).all()
    assert summary["covered_population"] < summary["reached_population"]
    plain = tmp_path / "plain"
    assert run("--no-capacity", "--out", str(plain)) == 0
    assert json.loads((plain / "result.json").read_text())["capacity"] is False
    assert json.loads((plain / "result.json").read_text())["covered_population"] == pytest.approx(623_349)
    assert run("--no-capacity", "--use-rate", "all=2") == 2
    assert run("--group-use-rate", "pop_over_60:all=5") == 2  # no such column in the demand
    assert run("--use-rate", "all=-1") == 2


@pytest.mark.parametrize("seed", range(10))
def test_capacity_start_is_a_feasible_solution_of_the_model(seed):
    """The greedy start (units and assignment) meets every row of the capacity model and
    is never valued above the optimum."""
    import importlib

    from optimizer.select.capacity_start import capacity_start
    from optimizer.select.solvers import _feasible

    solve_mod = importlib.import_module("optimizer.select.solve")
    units, demand, coverage, _ = _instance(300 + seed, m=12, n=40, rate=2)
    problem = build_problem(units, demand, coverage, use_rates={"all": 2.0})
    budget = 0.4 * units["cost"].sum()
    keep = ("u0",) if seed % 2 else ()
    spec, eligible, must_keep, _ = solve_mod.validate_options(problem, solve_mod.SelectionOptions(budget=budget, must_keep=keep))
    red = solve_mod._reduction(problem, spec, eligible, must_keep, dominate=True)
    model, need = solve_mod._model(problem, red, spec)
    v = capacity_start(model, red, problem.cost[red.units], problem.capacity[red.units], budget)
    assert _feasible(model, v, tol=1e-9)
    assert problem.cost[red.units] @ v[: model.n_x] <= budget + 1e-9
    assert v[: model.n_x][red.must_keep].all()
    best = solve(problem, budget=budget, must_keep=keep, lexicographic=False)
    assert model.value(v) <= best.covered_need + 1e-6
    assert model.value(v) >= 0.5 * best.covered_need  # a useful start, not an empty one


@pytest.mark.parametrize("capacity", [False, True])
def test_nothing_in_reach_is_explained_not_a_traceback(capacity):
    """Radius 0, coordinates swapped, or populations all zero: no unit reaches anyone."""
    units = pd.DataFrame({"cost": [1.0, 2.0], "capacity": [5.0, 5.0]}, index=["a", "b"])
    demand = pd.DataFrame({"population": [5.0, 3.0]}, index=["x", "y"])
    coverage = Coverage(pd.Index(["x", "y"]), pd.Index(["a", "b"]), sp.csr_array((2, 2), dtype=bool))
    res = solve(build_problem(units, demand, coverage), budget=3.0, capacity=capacity)
    assert res.status == "optimal" and len(res.selected) == 0 and res.covered_population == 0.0
    assert "no demand point" in res.explanation["note"]


def _closest_instance(seed: int, m: int, n: int):
    """Units and points on a plane of kilometres (distinct distances, so every point has
    one nearest unit), reach 40 km; the travel table carries the distances."""
    rng = np.random.default_rng(7000 + seed)
    up, dp = rng.uniform(0, 100, (m, 2)), rng.uniform(0, 100, (n, 2))
    dist = np.sqrt(((dp[:, None, :] - up[None, :, :]) ** 2).sum(axis=2))
    dense = dist <= 40.0
    units = pd.DataFrame({"cost": rng.integers(1, 10, m).astype(float), "score": rng.integers(1, 10, m) / 10.0}, index=[f"u{j}" for j in range(m)])
    pop = rng.integers(5, 60, n).astype(float)
    demand = pd.DataFrame({"population": pop, "region": [f"r{i % 2}" for i in range(n)]}, index=[f"d{i}" for i in range(n)])
    units["capacity"] = np.maximum(1.0, np.round(dense.T.astype(float) @ pop * rng.uniform(0.1, 0.4, m)))
    m_csr = sp.csr_array(dense)
    rows, cols = m_csr.nonzero()
    order = np.lexsort((cols, rows))
    coverage = Coverage(pd.Index(demand.index), pd.Index(units.index), m_csr, distance=dist[rows[order], cols[order]])
    return units, demand, coverage, dense, dist


def _closest_served(dense, dist, pop, cap, subset) -> float:
    """Everyone goes to the nearest selected unit in reach; a unit serves up to its
    capacity (need = population, one test per person: the people it can take)."""
    if not subset.any():
        return 0.0
    d = np.where(dense & subset[None, :], dist, np.inf)
    nearest = d.argmin(axis=1)
    reached = np.isfinite(d.min(axis=1))
    load = np.bincount(nearest[reached], weights=pop[reached], minlength=len(cap))
    return float(np.minimum(load, cap)[subset].sum())


@pytest.mark.parametrize("seed", range(20))
def test_closest_first_equals_brute_force(seed):
    """Closest-first assignment: the optimum equals the brute force over every subset, and
    the reported assignment sends each point only to its nearest contracted unit."""
    rng = np.random.default_rng(seed)
    m = int(rng.integers(6, 10))
    units, demand, coverage, dense, dist = _closest_instance(seed, m, int(rng.integers(10, 25)))
    pop, cap, cost = demand["population"].to_numpy(), units["capacity"].to_numpy(), units["cost"].to_numpy()
    budget = float(rng.uniform(0.3, 0.6) * cost.sum())
    keep = [units.index[int(rng.integers(m))]] if seed % 3 == 0 else []
    subsets = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(bool)
    feasible = (subsets.astype(float) @ cost <= budget + 1e-9) & subsets[:, units.index.isin(keep)].all(axis=1)
    served = np.array([_closest_served(dense, dist, pop, cap, s) for s in subsets])
    best = served[feasible].max()
    problem = build_problem(units, demand, coverage)
    res = solve(problem, budget=budget, must_keep=keep, assignment="closest")
    assert res.status == "optimal" and res.assignment_rule == "closest"
    np.testing.assert_allclose(res.covered_population, best, rtol=1e-7, atol=1e-6)
    chosen = units.index.isin(res.selected)
    np.testing.assert_allclose(_closest_served(dense, dist, pop, cap, chosen), res.covered_population, rtol=1e-7, atol=1e-6)
    for d_id, u_id in zip(res.assignment.pairs["demand_id"], res.assignment.pairs["unit_id"], strict=True):
        i, j = demand.index.get_loc(d_id), units.index.get_loc(u_id)
        assert dist[i, j] == np.where(dense[i] & chosen, dist[i], np.inf).min()
    # closest first can never serve more than "any unit in reach" with the same budget
    assert res.covered_population <= solve(problem, budget=budget, must_keep=keep).covered_population + 1e-6


def test_closest_first_needs_capacities_and_distances():
    units, demand, coverage, _, _ = _closest_instance(0, 5, 10)
    problem = build_problem(units, demand, coverage)
    with pytest.raises(InputError, match="closest"):
        solve(problem, budget=5.0, assignment="closest", capacity=False)
    bare = build_problem(units, demand, Coverage(coverage.demand_ids, coverage.unit_ids, coverage.matrix))
    with pytest.raises(InputError, match="distances"):
        solve(bare, budget=5.0, assignment="closest")


def test_cli_closest_assignment_sends_everyone_to_the_nearest_lab(tmp_path):
    """``--assignment closest``: each settlement's people appear only at its nearest
    contracted lab in assignment.csv, and no more are served than with any lab in reach."""
    from pathlib import Path

    from optimizer.cli import main
    from optimizer.geo.distance import haversine_km

    ex = Path(__file__).resolve().parents[2] / "examples" / "select"
    outs = {}
    for rule in ("any", "closest"):
        out = tmp_path / rule
        try:
            main(["select", "--units", str(ex / "units_capacity.csv"), "--demand", str(ex / "demand.csv"), "--radius-km", "15", "--budget", "400000", "--use-rate", "all=2", "--assignment", rule, "--out", str(out)])
        except SystemExit as exc:
            assert not exc.code
        outs[rule] = out
    closest = json.loads((outs["closest"] / "result.json").read_text())
    anyway = json.loads((outs["any"] / "result.json").read_text())
    assert closest["assignment"] == "closest"
    assert closest["covered_population"] <= anyway["covered_population"] + 1e-6
    units = pd.read_csv(ex / "units_capacity.csv").set_index("unit_id")
    demand = pd.read_csv(ex / "demand.csv").set_index("demand_id")
    chosen = units.loc[closest["selected"]]
    pairs = pd.read_csv(outs["closest"] / "assignment.csv")
    for d_id, u_id in zip(pairs["demand_id"], pairs["unit_id"], strict=True):
        km = haversine_km(demand.at[d_id, "lon"], demand.at[d_id, "lat"], chosen["lon"].to_numpy(), chosen["lat"].to_numpy())
        assert haversine_km(demand.at[d_id, "lon"], demand.at[d_id, "lat"], units.at[u_id, "lon"], units.at[u_id, "lat"]) <= km.min() + 1e-9


@pytest.mark.parametrize("seed", range(6))
def test_capacity_min_cost_and_quality_objectives_equal_brute_force(seed):
    """With capacities, min-cost (cheapest set serving a target share, then most served)
    and quality-coverage (most need served weighted by the serving unit's score) equal the
    brute force (max-flow served people; quality by an LP per subset)."""
    rng = np.random.default_rng(50 + seed)
    m = int(rng.integers(6, 9))
    units, demand, coverage, dense = _instance(600 + seed, m=m, n=int(rng.integers(12, 25)), rate=1)
    pop, cap, cost, score = demand["population"].to_numpy(), units["capacity"].to_numpy(), units["cost"].to_numpy(), units["score"].to_numpy()
    subsets = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(bool)
    served = np.array([_max_flow(dense, pop, cap, s) for s in subsets], dtype=float)
    costs = subsets.astype(float) @ cost
    problem = build_problem(units, demand, coverage)
    target = float(np.round(0.6 * served.max() / pop.sum(), 3))
    ok = served >= target * pop.sum() - 1e-9
    res = solve(problem, objective="min-cost", target=target)
    assert res.status == "optimal"
    np.testing.assert_allclose(res.total_cost, costs[ok].min(), rtol=1e-9)
    np.testing.assert_allclose(res.covered_population, served[ok & (costs <= costs[ok].min() + 1e-9)].max(), rtol=1e-7)
    budget = float(0.4 * cost.sum())
    within = costs <= budget + 1e-9
    quality = np.array([_quality(dense, pop, 1, cap, score, s, 0.0) if w else -1.0 for s, w in zip(subsets, within, strict=True)])
    res_q = solve(problem, objective="quality-coverage", budget=budget)
    assert res_q.status == "optimal"
    np.testing.assert_allclose(res_q.objective["quality"], quality.max(), rtol=1e-6)
